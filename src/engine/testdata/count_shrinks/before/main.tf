resource "fake_resource" "worker" {
  count = 3
  name  = "worker-${count.index}"
}
