output "address" {
  description = "Host name of the database instance."
  value       = local.address
}

output "endpoint" {
  description = "Address and port of the database instance (host:port)."
  value       = local.endpoint
}

output "port" {
  description = "Port PostgreSQL listens on."
  value       = local.port
}

output "identifier" {
  description = "Identifier of the database instance."
  value       = local.identifier
}

output "db_name" {
  description = "Name of the database created in the instance."
  value       = var.db_name
}

output "username" {
  description = "Name of the master user."
  value       = var.username
}

output "security_group_id" {
  description = "ID of the database's security group."
  value       = aws_security_group.this.id
}

output "db_subnet_group_name" {
  description = "Name of the database subnet group."
  value       = aws_db_subnet_group.this.name
}
