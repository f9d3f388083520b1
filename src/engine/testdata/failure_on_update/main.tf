resource "fake_resource" "app" {
  name  = "app"
  value = "two"
  fail  = "update"
}
