resource "fake_resource" "db" {
  name       = "db"
  replace_on = "v2"
  lifecycle {
    create_before_destroy = true
  }
}
