variable "region" {
  description = "AWS region to build the cluster in."
  type        = string
  default     = "us-east-1"
}

variable "name" {
  description = "Name prefix for every resource."
  type        = string
  default     = "demo"
}

variable "vpc_cidr" {
  description = "CIDR block of the VPC; subnets are carved out of it."
  type        = string
  default     = "10.0.0.0/16"
}

variable "cluster_version" {
  description = "Kubernetes version of the EKS control plane."
  type        = string
  default     = "1.29"
}

variable "node_instance_types" {
  description = "EC2 instance types of the managed node group."
  type        = list(string)
  default     = ["t3.medium"]
}

variable "node_scaling" {
  description = "Size of the managed node group."
  type = object({
    desired = number
    min     = number
    max     = number
  })
  default = {
    desired = 2
    min     = 1
    max     = 3
  }
}

variable "db_instance_class" {
  description = "RDS instance class of the PostgreSQL database."
  type        = string
  default     = "db.t3.micro"
}

variable "db_password" {
  description = "Master password of the PostgreSQL database."
  type        = string
  sensitive   = true
}

variable "tags" {
  description = "Tags added to every resource (through the provider's default_tags)."
  type        = map(string)
  default = {
    Project   = "strata-demo"
    ManagedBy = "strata"
  }
}
