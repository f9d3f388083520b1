output "vpc_id" {
  description = "ID of the VPC."
  value       = aws_vpc.this.id
}

output "vpc_cidr_block" {
  description = "CIDR block of the VPC."
  value       = aws_vpc.this.cidr_block
}

output "availability_zones" {
  description = "The availability zones the subnets are in, in the order given."
  value       = var.availability_zones
}

output "public_subnet_ids" {
  description = "IDs of the public subnets, one per availability zone, in the order of availability_zones."
  value       = [for zone in var.availability_zones : aws_subnet.public[zone].id]
}

output "private_subnet_ids" {
  description = "IDs of the private subnets (for nodes and databases), one per availability zone, in the order of availability_zones."
  value       = [for zone in var.availability_zones : aws_subnet.private[zone].id]
}

output "private_subnet_cidr_blocks" {
  description = "CIDR blocks of the private subnets, in the order of availability_zones."
  value       = [for zone in var.availability_zones : local.private_subnet_cidrs[zone]]
}

output "nat_gateway_ids" {
  description = "IDs of the NAT gateways, by availability zone (one entry, or one per zone)."
  value       = { for zone, gateway in aws_nat_gateway.this : zone => gateway.id }
}

output "nat_public_ips" {
  description = "Public IP addresses the private subnets' traffic leaves from, by availability zone."
  value       = { for zone, address in aws_eip.nat : zone => address.public_ip }
}
