# `gone` is no longer configured, and `user` (which used it) no longer refers to it: `user` is
# updated before `gone` is deleted (an orphan node after its configured dependents).
resource "fake_resource" "user" {
  name  = "user"
  value = "fixed"
}
