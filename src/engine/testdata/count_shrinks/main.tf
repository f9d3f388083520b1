resource "fake_resource" "worker" {
  count = 1
  name  = "worker-${count.index}"
}
