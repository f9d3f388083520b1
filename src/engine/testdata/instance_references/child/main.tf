variable "name" {
  type = string
}

resource "fake_resource" "this" {
  name = var.name
}

output "name" {
  value = fake_resource.this.name
}
