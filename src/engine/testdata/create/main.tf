resource "fake_resource" "network" {
  name = "network"
  tags = { tier = "core" }
}

resource "fake_resource" "app" {
  name  = "app"
  value = fake_resource.network.id
  rule {
    port = 443
  }
}

output "app_value" {
  value = fake_resource.app.value
}
