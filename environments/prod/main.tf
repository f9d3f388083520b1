# The platform of one environment: network, Kubernetes cluster and PostgreSQL database.
# dev, stage and prod share this file; they differ only in terraform.tfvars and their state.

data "aws_availability_zones" "available" {
  state = "available"
}

# The database password lives in SSM Parameter Store as a SecureString, never in a file or a
# variable: the value is sensitive from the read through the plan to the state.
data "aws_ssm_parameter" "db_password" {
  name            = "/${var.project}/${var.environment}/db/password"
  with_decryption = true
}

locals {
  name               = "${var.project}-${var.environment}"
  availability_zones = slice(data.aws_availability_zones.available.names, 0, var.availability_zone_count)
}

module "vpc" {
  source = "../../modules/vpc"

  name               = local.name
  cidr_block         = var.vpc_cidr_block
  availability_zones = local.availability_zones
  nat_gateway_per_az = var.nat_gateway_per_az
}

module "eks" {
  source = "../../modules/eks"

  cluster_name       = local.name
  kubernetes_version = var.kubernetes_version
  vpc_id             = module.vpc.vpc_id
  vpc_cidr_block     = module.vpc.vpc_cidr_block
  subnet_ids         = module.vpc.private_subnet_ids
  node_groups        = var.node_groups
  active_pool        = var.active_pool
}

module "rds" {
  source = "../../modules/rds"

  identifier                 = local.name
  vpc_id                     = module.vpc.vpc_id
  subnet_ids                 = module.vpc.private_subnet_ids
  allowed_security_group_ids = [module.eks.cluster_security_group_id]
  allowed_cidr_blocks        = module.vpc.private_subnet_cidr_blocks

  instance_class          = var.db_instance_class
  allocated_storage       = var.db_allocated_storage
  multi_az                = var.db_multi_az
  storage_encrypted       = var.db_storage_encrypted
  backup_retention_period = var.db_backup_retention_period
  deletion_protection     = var.db_deletion_protection
  prevent_destroy         = var.db_prevent_destroy
  skip_final_snapshot     = !var.db_deletion_protection
  apply_immediately       = var.environment != "prod"
  password                = data.aws_ssm_parameter.db_password.value
}
