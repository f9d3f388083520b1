# A PostgreSQL instance in private subnets, reachable on its port only from the sources given.

locals {
  port = 5432

  final_snapshot_identifier = var.skip_final_snapshot ? null : "${var.identifier}-final"
}

resource "aws_db_subnet_group" "this" {
  name        = var.identifier
  description = "Subnets of the ${var.identifier} database"
  subnet_ids  = var.subnet_ids

  tags = merge(var.tags, { Name = var.identifier })
}

resource "aws_security_group" "this" {
  name        = "${var.identifier}-db"
  description = "PostgreSQL ${var.identifier}: access from the application"
  vpc_id      = var.vpc_id

  ingress {
    description     = "PostgreSQL from the application"
    from_port       = local.port
    to_port         = local.port
    protocol        = "tcp"
    security_groups = var.allowed_security_group_ids
    cidr_blocks     = var.allowed_cidr_blocks
  }

  tags = merge(var.tags, { Name = "${var.identifier}-db" })

  lifecycle {
    precondition {
      condition     = length(var.allowed_security_group_ids) + length(var.allowed_cidr_blocks) > 0
      error_message = "Nothing could reach the database: give allowed_security_group_ids or allowed_cidr_blocks."
    }
  }
}

# Lifecycle settings must be literal in Terraform, so the instance is written twice, once
# protected against destroy: `prevent_destroy` picks which of the two exists.
resource "aws_db_instance" "this" {
  count = var.prevent_destroy ? 0 : 1

  identifier                = var.identifier
  engine                    = "postgres"
  engine_version            = var.engine_version
  instance_class            = var.instance_class
  allocated_storage         = var.allocated_storage
  storage_type              = "gp3"
  storage_encrypted         = var.storage_encrypted
  db_name                   = var.db_name
  username                  = var.username
  password                  = var.password
  db_subnet_group_name      = aws_db_subnet_group.this.name
  vpc_security_group_ids    = [aws_security_group.this.id]
  multi_az                  = var.multi_az
  backup_retention_period   = var.backup_retention_period
  deletion_protection       = var.deletion_protection
  skip_final_snapshot       = var.skip_final_snapshot
  final_snapshot_identifier = local.final_snapshot_identifier
  apply_immediately         = var.apply_immediately

  tags = merge(var.tags, { Name = var.identifier })
}

resource "aws_db_instance" "protected" {
  count = var.prevent_destroy ? 1 : 0

  identifier                = var.identifier
  engine                    = "postgres"
  engine_version            = var.engine_version
  instance_class            = var.instance_class
  allocated_storage         = var.allocated_storage
  storage_type              = "gp3"
  storage_encrypted         = var.storage_encrypted
  db_name                   = var.db_name
  username                  = var.username
  password                  = var.password
  db_subnet_group_name      = aws_db_subnet_group.this.name
  vpc_security_group_ids    = [aws_security_group.this.id]
  multi_az                  = var.multi_az
  backup_retention_period   = var.backup_retention_period
  deletion_protection       = var.deletion_protection
  skip_final_snapshot       = var.skip_final_snapshot
  final_snapshot_identifier = local.final_snapshot_identifier
  apply_immediately         = var.apply_immediately

  tags = merge(var.tags, { Name = var.identifier })

  lifecycle {
    prevent_destroy = true
  }
}

locals {
  # The attributes of whichever of the two instances exists. Taken one by one: a function over
  # the whole instance would mark all of it sensitive, for the password in it.
  address    = one(concat(aws_db_instance.this[*].address, aws_db_instance.protected[*].address))
  endpoint   = one(concat(aws_db_instance.this[*].endpoint, aws_db_instance.protected[*].endpoint))
  identifier = one(concat(aws_db_instance.this[*].identifier, aws_db_instance.protected[*].identifier))
}
