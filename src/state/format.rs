//! Terraform's state file format, version 4. (To be written: see issue 4.)
