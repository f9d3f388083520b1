output "cluster_name" {
  description = "Name of the EKS cluster."
  value       = aws_eks_cluster.this.name
}

output "cluster_endpoint" {
  description = "URL of the cluster's Kubernetes API."
  value       = aws_eks_cluster.this.endpoint
}

output "cluster_arn" {
  description = "ARN of the EKS cluster."
  value       = aws_eks_cluster.this.arn
}

output "cluster_certificate_authority_data" {
  description = "Base64-encoded certificate of the cluster's API, for a kubeconfig."
  value       = aws_eks_cluster.this.certificate_authority[0].data
}

output "cluster_security_group_id" {
  description = "ID of the cluster's additional security group: name it as a source to let the cluster in."
  value       = aws_security_group.cluster.id
}

output "cluster_role_arn" {
  description = "ARN of the IAM role the control plane uses."
  value       = aws_iam_role.cluster.arn
}

output "node_role_arn" {
  description = "ARN of the IAM role the nodes use."
  value       = aws_iam_role.node.arn
}

output "node_group_names" {
  description = "Names of the managed node groups."
  value       = [for name, group in aws_eks_node_group.this : group.node_group_name]
}

output "active_pool" {
  description = "The node pool that serves (\"blue\" or \"green\")."
  value       = var.active_pool
}
