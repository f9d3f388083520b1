resource "fake_resource" "kept" {
  name = "kept"
}
