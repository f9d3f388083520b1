resource "fake_resource" "gone" {
  name = "gone"
}

resource "fake_resource" "user" {
  name  = "user"
  value = fake_resource.gone.id
}
