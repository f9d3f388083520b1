resource "fake_resource" "app" {
  count = 2
  name  = "app-${count.index}"
}
