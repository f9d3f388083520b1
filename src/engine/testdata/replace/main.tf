resource "fake_resource" "db" {
  name       = "db"
  replace_on = "v2"
}

resource "fake_resource" "app" {
  name  = "app"
  value = fake_resource.db.id
}
