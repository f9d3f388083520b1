# prod: resilient to the loss of a zone. A NAT gateway per zone, larger node groups (with a
# spot group for batch work), an encrypted multi-AZ database protected against deletion both by
# AWS (deletion_protection) and by the plan (prevent_destroy). The database password comes from
# SSM: /strata/prod/db/password.
environment = "prod"
region      = "us-east-1"

vpc_cidr_block     = "10.30.0.0/16"
nat_gateway_per_az = true

kubernetes_version = "1.31"
active_pool        = "blue"
node_groups = {
  general = {
    instance_types = ["m5.large"]
    min_size       = 3
    max_size       = 10
    desired_size   = 3
    disk_size      = 50
  }
  batch = {
    instance_types = ["m5.xlarge", "m5a.xlarge"]
    capacity_type  = "SPOT"
    min_size       = 1
    max_size       = 10
    desired_size   = 1
    disk_size      = 100
    labels = {
      workload = "batch"
    }
  }
}

db_instance_class          = "db.m6g.large"
db_allocated_storage       = 100
db_multi_az                = true
db_storage_encrypted       = true
db_backup_retention_period = 30
db_deletion_protection     = true
db_prevent_destroy         = true
