variable "cluster_name" {
  description = "Name of the EKS cluster; also the prefix of its IAM roles and security group."
  type        = string

  validation {
    condition     = can(regex("^[a-zA-Z][a-zA-Z0-9-]{0,37}$", var.cluster_name))
    error_message = "The cluster_name must start with a letter and hold at most 38 letters, digits and dashes (IAM role names derived from it must stay within 64 characters)."
  }
}

variable "kubernetes_version" {
  description = "Kubernetes minor version of the control plane, e.g. \"1.31\"."
  type        = string
  default     = "1.31"

  validation {
    condition     = can(regex("^1\\.[0-9]{2}$", var.kubernetes_version))
    error_message = "The kubernetes_version must be a minor version such as \"1.31\"."
  }
}

variable "vpc_id" {
  description = "ID of the VPC the cluster runs in."
  type        = string

  validation {
    condition     = startswith(var.vpc_id, "vpc-")
    error_message = "The vpc_id must be a VPC ID (vpc-...)."
  }
}

variable "vpc_cidr_block" {
  description = "CIDR block of the VPC: its addresses may reach the cluster's API endpoint from inside the VPC."
  type        = string

  validation {
    condition     = can(cidrhost(var.vpc_cidr_block, 0))
    error_message = "The vpc_cidr_block must be a CIDR block such as \"10.0.0.0/16\"."
  }
}

variable "subnet_ids" {
  description = "Subnets for the control plane's network interfaces and the nodes, in at least two availability zones (usually the private ones)."
  type        = list(string)

  validation {
    condition     = length(var.subnet_ids) >= 2 && alltrue([for id in var.subnet_ids : startswith(id, "subnet-")])
    error_message = "Give at least two subnet IDs (subnet-...): EKS needs subnets in two availability zones."
  }
}

variable "endpoint_public_access" {
  description = "Whether the cluster's API endpoint is reachable from the internet."
  type        = bool
  default     = true
}

variable "endpoint_private_access" {
  description = "Whether the cluster's API endpoint is reachable from inside the VPC."
  type        = bool
  default     = true
}

variable "active_pool" {
  description = <<-EOT
    The node pool that serves: "blue" or "green". Flipping it creates every node group anew in
    the other pool, waits until the new groups are ACTIVE, then deletes the old ones; flipping
    back is the rollback.
  EOT
  type        = string
  default     = "blue"

  validation {
    condition     = contains(["blue", "green"], var.active_pool)
    error_message = "The active_pool must be \"blue\" or \"green\"."
  }
}

variable "node_groups" {
  description = <<-EOT
    Managed node groups by name. Each sets its EC2 instance types and its scaling bounds;
    desired_size is only the starting size: the cluster autoscaler changes it afterwards.
  EOT
  type = map(object({
    instance_types = list(string)
    capacity_type  = optional(string, "ON_DEMAND")
    disk_size      = optional(number, 20)
    min_size       = number
    max_size       = number
    desired_size   = number
    labels         = optional(map(string), {})
  }))

  validation {
    condition     = length(var.node_groups) >= 1
    error_message = "Give at least one node group."
  }

  validation {
    condition = alltrue([
      for name, group in var.node_groups :
      group.min_size >= 0 && group.min_size <= group.desired_size && group.desired_size <= group.max_size && group.max_size >= 1
    ])
    error_message = "Each node group needs 0 <= min_size <= desired_size <= max_size, and max_size >= 1."
  }

  validation {
    condition     = alltrue([for name, group in var.node_groups : contains(["ON_DEMAND", "SPOT"], group.capacity_type)])
    error_message = "A node group's capacity_type is \"ON_DEMAND\" or \"SPOT\"."
  }

  validation {
    condition     = alltrue([for name, group in var.node_groups : length(group.instance_types) >= 1 && group.disk_size >= 20])
    error_message = "Each node group needs at least one instance type and a disk_size of at least 20 GiB."
  }
}

variable "tags" {
  description = "Tags added to every resource."
  type        = map(string)
  default     = {}
}
