variable "identifier" {
  description = "Identifier of the database instance; also names its subnet group and security group."
  type        = string

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{0,58}[a-z0-9]$", var.identifier))
    error_message = "The identifier must start with a letter, end with a letter or digit, and hold 2 to 60 lower case letters, digits and dashes."
  }
}

variable "vpc_id" {
  description = "ID of the VPC the database runs in."
  type        = string

  validation {
    condition     = startswith(var.vpc_id, "vpc-")
    error_message = "The vpc_id must be a VPC ID (vpc-...)."
  }
}

variable "subnet_ids" {
  description = "Subnets of the database subnet group, in at least two availability zones (usually the private ones)."
  type        = list(string)

  validation {
    condition     = length(var.subnet_ids) >= 2 && alltrue([for id in var.subnet_ids : startswith(id, "subnet-")])
    error_message = "Give at least two subnet IDs (subnet-...): a DB subnet group spans two availability zones."
  }
}

variable "allowed_security_group_ids" {
  description = "Security groups whose members may connect to PostgreSQL (e.g. the EKS cluster's)."
  type        = list(string)
  default     = []
}

variable "allowed_cidr_blocks" {
  description = "Address ranges that may connect to PostgreSQL (e.g. the private subnets the nodes run in)."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for cidr in var.allowed_cidr_blocks : can(cidrhost(cidr, 0))])
    error_message = "Each of allowed_cidr_blocks must be a CIDR block such as \"10.0.0.0/20\"."
  }
}

variable "engine_version" {
  description = "PostgreSQL version, major or major.minor (e.g. \"16\" or \"16.4\")."
  type        = string
  default     = "16"

  validation {
    condition     = can(regex("^1[3-7](\\.[0-9]+)?$", var.engine_version))
    error_message = "The engine_version must be a supported PostgreSQL version, 13 to 17, such as \"16\" or \"16.4\"."
  }
}

variable "instance_class" {
  description = "Instance class of the database."
  type        = string
  default     = "db.t3.micro"

  validation {
    condition = contains([
      "db.t3.micro", "db.t3.small", "db.t3.medium", "db.t3.large",
      "db.t4g.micro", "db.t4g.small", "db.t4g.medium", "db.t4g.large",
      "db.m6g.large", "db.m6g.xlarge", "db.m6g.2xlarge",
      "db.m7g.large", "db.m7g.xlarge", "db.m7g.2xlarge",
      "db.r6g.large", "db.r6g.xlarge", "db.r6g.2xlarge",
    ], var.instance_class)
    error_message = "The instance_class must be one of the burstable (db.t3, db.t4g), general purpose (db.m6g, db.m7g) or memory optimized (db.r6g) classes this module allows, up to 2xlarge."
  }
}

variable "allocated_storage" {
  description = "Storage in GiB (gp3)."
  type        = number
  default     = 20

  validation {
    condition     = var.allocated_storage >= 20 && var.allocated_storage <= 65536 && floor(var.allocated_storage) == var.allocated_storage
    error_message = "The allocated_storage must be a whole number of GiB from 20 to 65536."
  }
}

variable "storage_encrypted" {
  description = "Whether the storage is encrypted at rest (with the account's default RDS key)."
  type        = bool
  default     = true
}

variable "multi_az" {
  description = "Whether a standby replica runs in a second availability zone."
  type        = bool
  default     = false
}

variable "backup_retention_period" {
  description = "Days automated backups are kept (0 turns them off)."
  type        = number
  default     = 7

  validation {
    condition     = var.backup_retention_period >= 0 && var.backup_retention_period <= 35
    error_message = "The backup_retention_period must be from 0 to 35 days."
  }
}

variable "deletion_protection" {
  description = "Whether AWS refuses to delete the instance until this is turned off."
  type        = bool
  default     = true
}

variable "prevent_destroy" {
  description = "Whether Terraform itself refuses any plan that would destroy the instance (lifecycle prevent_destroy)."
  type        = bool
  default     = false
}

variable "skip_final_snapshot" {
  description = "Whether deleting the instance skips the final snapshot (otherwise named <identifier>-final)."
  type        = bool
  default     = false
}

variable "apply_immediately" {
  description = "Whether changes are applied at once instead of in the next maintenance window."
  type        = bool
  default     = false
}

variable "db_name" {
  description = "Name of the database created in the instance."
  type        = string
  default     = "app"

  validation {
    condition     = can(regex("^[a-zA-Z][a-zA-Z0-9_]{0,62}$", var.db_name))
    error_message = "The db_name must start with a letter and hold at most 63 letters, digits and underscores."
  }
}

variable "username" {
  description = "Name of the master user."
  type        = string
  default     = "app_admin"

  validation {
    condition     = can(regex("^[a-zA-Z][a-zA-Z0-9_]{0,62}$", var.username)) && !contains(["postgres", "admin", "rdsadmin"], lower(var.username))
    error_message = "The username must start with a letter, hold at most 63 letters, digits and underscores, and not be a reserved name (postgres, admin, rdsadmin)."
  }
}

variable "password" {
  description = "Password of the master user: from a secret store (the environments read it from SSM), never in a file."
  type        = string
  sensitive   = true

  validation {
    condition     = length(var.password) >= 12 && length(var.password) <= 128 && !can(regex("[/@\" ]", var.password))
    error_message = "The password must be 12 to 128 characters long, without /, @, \" or spaces."
  }
}

variable "tags" {
  description = "Tags added to every resource."
  type        = map(string)
  default     = {}
}
