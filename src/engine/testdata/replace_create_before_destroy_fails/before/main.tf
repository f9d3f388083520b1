resource "fake_resource" "db" {
  name       = "db"
  replace_on = "v1"
  lifecycle {
    create_before_destroy = true
  }
}
