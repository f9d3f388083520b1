resource "fake_resource" "db" {
  count = 1
  name  = "db-${count.index}"
  lifecycle {
    prevent_destroy = true
  }
}
