//! Terraform's built-in functions. (To be written: see issue 3.)
