variable "name" {
  description = "Name of the network, used in every resource's Name tag (lower case letters, digits and dashes)."
  type        = string

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{0,31}$", var.name))
    error_message = "The name must start with a lower case letter and hold at most 32 lower case letters, digits and dashes."
  }
}

variable "cidr_block" {
  description = "IPv4 CIDR block of the VPC, e.g. \"10.0.0.0/16\"; every subnet is carved from it."
  type        = string

  validation {
    condition     = can(cidrhost(var.cidr_block, 0)) && can(regex("^[0-9.]+/[0-9]+$", var.cidr_block))
    error_message = "The cidr_block must be an IPv4 CIDR block such as \"10.0.0.0/16\"."
  }

  validation {
    condition     = can(regex("/(1[6-9]|2[0-4])$", var.cidr_block))
    error_message = "The VPC's prefix length must be between /16 and /24, as AWS allows for VPCs with subnets."
  }
}

variable "availability_zones" {
  description = "Availability zones to spread over: one public and one private subnet in each."
  type        = list(string)

  validation {
    condition     = length(var.availability_zones) >= 1 && length(var.availability_zones) == length(distinct(var.availability_zones))
    error_message = "Give at least one availability zone, each only once."
  }
}

variable "subnet_newbits" {
  description = "Bits added to the VPC's prefix length for each subnet (4 turns a /16 into /20 subnets)."
  type        = number
  default     = 4

  validation {
    condition     = var.subnet_newbits >= 1 && var.subnet_newbits <= 12 && floor(var.subnet_newbits) == var.subnet_newbits
    error_message = "The subnet_newbits must be a whole number from 1 to 12."
  }
}

variable "nat_gateway_per_az" {
  description = "One NAT gateway in every availability zone (true, resilient to the loss of a zone) or a single shared one (false, cheaper)."
  type        = bool
  default     = false
}

variable "tags" {
  description = "Tags added to every resource."
  type        = map(string)
  default     = {}
}
