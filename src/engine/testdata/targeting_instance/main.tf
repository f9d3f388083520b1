resource "fake_resource" "base" {
  name = "base"
}

resource "fake_resource" "web" {
  count = 2
  name  = "web-${count.index}"
  value = fake_resource.base.id
}

resource "fake_resource" "unrelated" {
  name = "unrelated"
}

output "unrelated" {
  value = fake_resource.unrelated.id
}
