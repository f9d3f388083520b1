variable "buckets" {
  default = { assets = "public", backups = "private" }
}

resource "fake_resource" "bucket" {
  for_each = var.buckets
  name     = each.key
  value    = each.value
}

output "bucket_names" {
  value = [for b in fake_resource.bucket : b.name]
}
