//! Variable values from `terraform.tfvars`, `*.auto.tfvars`, `-var-file`, `-var` and the
//! environment, with Terraform's precedence. (To be written: see issue 3.)
