resource "fake_resource" "db" {
  name = "db"
}
