resource "fake_resource" "db" {
  name       = "db"
  replace_on = "v2"
  fail       = "create"
  lifecycle {
    create_before_destroy = true
  }
}
