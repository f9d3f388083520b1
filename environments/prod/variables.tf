variable "environment" {
  description = "Name of the environment: tags every resource and names the cluster and database."
  type        = string

  validation {
    condition     = contains(["dev", "stage", "prod"], var.environment)
    error_message = "The environment must be \"dev\", \"stage\" or \"prod\"."
  }
}

variable "project" {
  description = "Project name, the prefix of resource names."
  type        = string
  default     = "strata"
}

variable "region" {
  description = "AWS region to deploy to."
  type        = string

  validation {
    condition     = can(regex("^[a-z]{2}(-[a-z]+)+-[0-9]$", var.region))
    error_message = "The region must be an AWS region name such as \"us-east-1\"."
  }
}

variable "availability_zone_count" {
  description = "How many of the region's availability zones to use."
  type        = number
  default     = 2

  validation {
    condition     = var.availability_zone_count >= 2 && var.availability_zone_count <= 3
    error_message = "Use 2 or 3 availability zones (EKS and RDS need two)."
  }
}

variable "vpc_cidr_block" {
  description = "CIDR block of the environment's VPC."
  type        = string
}

variable "nat_gateway_per_az" {
  description = "One NAT gateway per availability zone (true) or a single one (false)."
  type        = bool
}

variable "kubernetes_version" {
  description = "Kubernetes minor version of the cluster."
  type        = string
}

variable "node_groups" {
  description = "Managed node groups of the cluster (see modules/eks)."
  type = map(object({
    instance_types = list(string)
    capacity_type  = optional(string, "ON_DEMAND")
    disk_size      = optional(number, 20)
    min_size       = number
    max_size       = number
    desired_size   = number
    labels         = optional(map(string), {})
  }))
}

variable "active_pool" {
  description = "The node pool that serves, \"blue\" or \"green\" (see modules/eks): flip it to roll the node groups."
  type        = string
  default     = "blue"
}

variable "db_instance_class" {
  description = "Instance class of the database."
  type        = string
}

variable "db_allocated_storage" {
  description = "Database storage in GiB."
  type        = number
}

variable "db_multi_az" {
  description = "Whether the database has a standby in a second availability zone."
  type        = bool
}

variable "db_storage_encrypted" {
  description = "Whether the database storage is encrypted at rest."
  type        = bool
}

variable "db_backup_retention_period" {
  description = "Days database backups are kept."
  type        = number
}

variable "db_deletion_protection" {
  description = "Whether AWS refuses to delete the database; without it, deleting skips the final snapshot."
  type        = bool
}

variable "db_prevent_destroy" {
  description = "Whether any plan that would destroy the database is refused."
  type        = bool
}
