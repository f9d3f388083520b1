resource "fake_resource" "new_name" {
  name = "app"
}

moved {
  from = fake_resource.old_name
  to   = fake_resource.new_name
}
