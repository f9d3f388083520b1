//! The `aws` provider: VPC networking, IAM, EKS and RDS through the official AWS SDK for Rust.
//! (To be written: see issue 5.)
