resource "fake_resource" "app" {
  name  = "app"
  value = "one"
}
