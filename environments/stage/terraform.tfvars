# stage: production's shape at a smaller size. A NAT gateway per zone, medium nodes, an
# encrypted multi-AZ database that can still be deleted. The database password comes from
# SSM: /strata/stage/db/password.
environment = "stage"
region      = "us-east-1"

vpc_cidr_block     = "10.20.0.0/16"
nat_gateway_per_az = true

kubernetes_version = "1.31"
active_pool        = "blue"
node_groups = {
  general = {
    instance_types = ["t3.medium"]
    min_size       = 2
    max_size       = 4
    desired_size   = 2
  }
}

db_instance_class          = "db.t3.small"
db_allocated_storage       = 50
db_multi_az                = true
db_storage_encrypted       = true
db_backup_retention_period = 7
db_deletion_protection     = false
db_prevent_destroy         = false
