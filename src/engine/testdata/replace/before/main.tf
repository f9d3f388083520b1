resource "fake_resource" "db" {
  name       = "db"
  replace_on = "v1"
}

resource "fake_resource" "app" {
  name  = "app"
  value = fake_resource.db.id
}
