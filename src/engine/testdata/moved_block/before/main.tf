resource "fake_resource" "old_name" {
  name = "app"
}
