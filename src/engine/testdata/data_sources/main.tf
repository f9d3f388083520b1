data "fake_data" "known" {
  name = "known"
}

resource "fake_resource" "app" {
  name  = "app"
  value = data.fake_data.known.value
}

data "fake_data" "after_apply" {
  name = fake_resource.app.id
}

output "late" {
  value = data.fake_data.after_apply.value
}
