variable "size" {
  default = 3
}

resource "fake_resource" "app" {
  name = "app"
  lifecycle {
    precondition {
      condition     = var.size > 5
      error_message = "The size must be more than 5."
    }
  }
}
