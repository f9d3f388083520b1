# Seeds an environment's database password in SSM Parameter Store, where environments/<env>
# reads it (/strata/<env>/db/password, a SecureString under the account's default SSM key or
# `kms_key_id`). Apply it once per environment with the password in TF_VAR_password:
#
#   TF_VAR_password="$(openssl rand -base64 24 | tr -d '/+=')" strata apply -var environment=dev
#
# Rotating the password is applying it again with a new value (the database follows on the
# environment's next apply).

terraform {
  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = ">= 5.0"
    }
  }
}

variable "environment" {
  description = "The environment the password is for: dev, stage or prod."
  type        = string

  validation {
    condition     = contains(["dev", "stage", "prod"], var.environment)
    error_message = "The environment must be \"dev\", \"stage\" or \"prod\"."
  }
}

variable "password" {
  description = "The database password: from the environment (TF_VAR_password), never in a file."
  type        = string
  sensitive   = true

  validation {
    condition     = length(var.password) >= 12 && !can(regex("[/@\" ]", var.password))
    error_message = "The password must be at least 12 characters long, without /, @, \" or spaces (RDS refuses them)."
  }
}

variable "region" {
  description = "AWS region of the environment."
  type        = string
  default     = "us-east-1"
}

variable "kms_key_id" {
  description = "KMS key that encrypts the parameter; null for the account's default SSM key."
  type        = string
  default     = null
}

provider "aws" {
  region = var.region
}

resource "aws_ssm_parameter" "db_password" {
  name        = "/strata/${var.environment}/db/password"
  description = "Master password of the ${var.environment} database"
  type        = "SecureString"
  key_id      = var.kms_key_id
  value       = var.password

  tags = {
    Environment = var.environment
    ManagedBy   = "strata"
  }
}

output "parameter_name" {
  description = "Name of the parameter the environment reads."
  value       = aws_ssm_parameter.db_password.name
}
