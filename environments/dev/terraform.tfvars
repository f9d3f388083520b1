# dev: smallest footprint. One NAT gateway, small nodes, a single-AZ database that can be
# deleted at any time. The database password comes from
# SSM: /strata/dev/db/password.
environment = "dev"
region      = "us-east-1"

vpc_cidr_block     = "10.10.0.0/16"
nat_gateway_per_az = false

kubernetes_version = "1.31"
active_pool        = "blue"
node_groups = {
  general = {
    instance_types = ["t3.small"]
    min_size       = 1
    max_size       = 3
    desired_size   = 2
  }
}

db_instance_class          = "db.t3.micro"
db_allocated_storage       = 20
db_multi_az                = false
db_storage_encrypted       = false
db_backup_retention_period = 1
db_deletion_protection     = false
db_prevent_destroy         = false
