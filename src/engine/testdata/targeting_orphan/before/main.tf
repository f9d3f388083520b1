resource "fake_resource" "kept" {
  name = "kept"
}

resource "fake_resource" "gone" {
  name = "gone"
}
