# An EKS control plane and its managed node groups, with the IAM roles both need.

locals {
  cluster_policies = {
    cluster                 = "arn:aws:iam::aws:policy/AmazonEKSClusterPolicy"
    vpc_resource_controller = "arn:aws:iam::aws:policy/AmazonEKSVPCResourceController"
  }
  node_policies = {
    worker            = "arn:aws:iam::aws:policy/AmazonEKSWorkerNodePolicy"
    cni               = "arn:aws:iam::aws:policy/AmazonEKS_CNI_Policy"
    registry_readonly = "arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryReadOnly"
  }
}

resource "aws_iam_role" "cluster" {
  name = "${var.cluster_name}-cluster"

  assume_role_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect    = "Allow"
      Principal = { Service = "eks.amazonaws.com" }
      Action    = "sts:AssumeRole"
    }]
  })

  tags = var.tags
}

resource "aws_iam_role_policy_attachment" "cluster" {
  for_each = local.cluster_policies

  role       = aws_iam_role.cluster.name
  policy_arn = each.value
}

resource "aws_iam_role" "node" {
  name = "${var.cluster_name}-node"

  assume_role_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect    = "Allow"
      Principal = { Service = "ec2.amazonaws.com" }
      Action    = "sts:AssumeRole"
    }]
  })

  tags = var.tags
}

resource "aws_iam_role_policy_attachment" "node" {
  for_each = local.node_policies

  role       = aws_iam_role.node.name
  policy_arn = each.value
}

# Additional security group of the control plane: the API endpoint is reachable from the VPC,
# and other services (the database) can name this group as a source.
resource "aws_security_group" "cluster" {
  name        = "${var.cluster_name}-cluster"
  description = "EKS cluster ${var.cluster_name}: API access from the VPC"
  vpc_id      = var.vpc_id

  ingress {
    description = "Kubernetes API from the VPC"
    from_port   = 443
    to_port     = 443
    protocol    = "tcp"
    cidr_blocks = [var.vpc_cidr_block]
  }

  egress {
    description = "All outbound traffic"
    from_port   = 0
    to_port     = 0
    protocol    = "-1"
    cidr_blocks = ["0.0.0.0/0"]
  }

  tags = merge(var.tags, { Name = "${var.cluster_name}-cluster" })
}

resource "aws_eks_cluster" "this" {
  name     = var.cluster_name
  role_arn = aws_iam_role.cluster.arn
  version  = var.kubernetes_version

  vpc_config {
    subnet_ids              = var.subnet_ids
    security_group_ids      = [aws_security_group.cluster.id]
    endpoint_public_access  = var.endpoint_public_access
    endpoint_private_access = var.endpoint_private_access
  }

  tags = var.tags

  # EKS checks the role's permissions when the cluster is created (and needs them to delete it).
  depends_on = [aws_iam_role_policy_attachment.cluster]
}

# Blue/green node pools: every group of var.node_groups exists once, in the pool var.active_pool
# names. Flipping active_pool changes the name prefix, which replaces the group; with
# create_before_destroy the new pool's group is created and waited for until ACTIVE before the
# old one is deleted (EKS drains its nodes on delete), so the cluster always has nodes. Rolling
# back is the same flip back. The name is the prefix plus a unique suffix, so a replacement for
# any other reason (new instance types, subnets) never collides with its predecessor either.
resource "aws_eks_node_group" "this" {
  for_each = var.node_groups

  cluster_name           = aws_eks_cluster.this.name
  node_group_name_prefix = "${each.key}-${var.active_pool}-"
  node_role_arn          = aws_iam_role.node.arn
  subnet_ids             = var.subnet_ids
  instance_types         = each.value.instance_types
  capacity_type          = each.value.capacity_type
  disk_size              = each.value.disk_size
  labels                 = merge(each.value.labels, { "node-pool" = var.active_pool })

  scaling_config {
    desired_size = each.value.desired_size
    min_size     = each.value.min_size
    max_size     = each.value.max_size
  }

  # The cluster autoscaler's auto-discovery finds the groups by these two tags.
  tags = merge(var.tags, {
    Name                                            = "${var.cluster_name}-${each.key}-${var.active_pool}"
    "k8s.io/cluster-autoscaler/enabled"             = "true"
    "k8s.io/cluster-autoscaler/${var.cluster_name}" = "owned"
  })

  lifecycle {
    # The new pool serves before the old one goes.
    create_before_destroy = true
    # The cluster autoscaler owns the group's current size once it runs.
    ignore_changes = [scaling_config[0].desired_size]
  }

  # Nodes join the cluster only with these permissions; kept until the group is gone.
  depends_on = [aws_iam_role_policy_attachment.node]
}
