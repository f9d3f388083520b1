# State in S3, locked with a lock object next to it (S3 conditional writes). The bucket and
# endpoint can be overridden at init: `init -backend-config=bucket=... -backend-config=endpoint=...`.
terraform {
  backend "s3" {
    bucket       = "strata-terraform-state"
    key          = "prod/terraform.tfstate"
    region       = "us-east-1"
    use_lockfile = true
  }
}
