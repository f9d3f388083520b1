resource "fake_resource" "bucket" {
  for_each = toset(["logs", "assets"])
  name     = each.key
}
