resource "fake_resource" "db" {
  count = 2
  name  = "db-${count.index}"
  lifecycle {
    prevent_destroy = true
  }
}
