resource "fake_resource" "db" {
  name = "db"
}

resource "fake_resource" "app" {
  name  = "app"
  value = fake_resource.db.id
}

output "app" {
  value = fake_resource.app.name
}
