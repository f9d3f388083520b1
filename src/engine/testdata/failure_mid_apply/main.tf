resource "fake_resource" "first" {
  name = "first"
}

resource "fake_resource" "broken" {
  name  = "broken"
  value = fake_resource.first.id
  fail  = "create"
}

resource "fake_resource" "after_broken" {
  name  = "after"
  value = fake_resource.broken.id
}

resource "fake_resource" "independent" {
  name = "independent"
}
