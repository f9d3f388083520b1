//! EKS: `aws_eks_cluster` ([`cluster`]) and `aws_eks_node_group` ([`node_group`]), as the
//! Terraform AWS provider's `internal/service/eks/cluster.go` and `node_group.go` (v6). Both are
//! asynchronous (create waits for `ACTIVE`, updates for DescribeUpdate to say `Successful`,
//! delete for the object to be gone), polling with backoff within the `timeouts` limits and
//! reporting the status while waiting. Creates carry the engine's idempotency token as
//! `clientRequestToken`.
//!
//! This module has what the two share: the schema helpers and the wait for an update.

mod cluster;
mod node_group;

pub(crate) use cluster::Cluster;
pub(crate) use node_group::NodeGroup;

use crate::providers::aws::support::{list_block, Poll, SdkResultExt};
use crate::providers::aws::{AwsContext, Operation};
use crate::providers::schema::{Block, NestedBlock};
use crate::providers::ProviderError;
use crate::value::{ObjectType, Type, Value};

pub(super) fn object_type(attributes: &[(&str, Type)]) -> Type {
    Type::Object(ObjectType::new(
        attributes.iter().map(|(k, t)| (k.to_string(), t.clone())),
    ))
}

pub(super) fn computed_list_block(block: Block, max_items: usize) -> NestedBlock {
    NestedBlock {
        computed: true,
        ..list_block(block, 0, max_items)
    }
}

/// Waits for an update (`UpdateClusterConfig`, `UpdateNodegroupConfig`, ...) to finish.
pub(super) async fn wait_update(
    aws: &AwsContext,
    operation: &Operation<'_>,
    cluster: &str,
    node_group: Option<&str>,
    update_id: Option<&str>,
    what: &str,
) -> Result<(), ProviderError> {
    let Some(update_id) = update_id else {
        return Ok(());
    };
    operation
        .wait_for(what, "Successful", || async {
            let out = aws
                .eks
                .describe_update()
                .name(cluster)
                .set_nodegroup_name(node_group.map(str::to_string))
                .update_id(update_id)
                .send()
                .await
                .api();
            let update = match out {
                Ok(out) => out.update,
                // An endpoint that does not track updates (the moto emulator): the caller waits for
                // the object's status instead.
                Err(failure) if failure.is_not_found() || failure.is_unsupported() => {
                    return Ok(Poll::Done(()))
                }
                Err(failure) => return Err(failure.into_error(format!("waiting for {what}"))),
            };
            let status = update
                .as_ref()
                .and_then(|u| u.status())
                .map(|s| s.as_str().to_string())
                .unwrap_or_default();
            match status.as_str() {
                "Successful" | "" => Ok(Poll::Done(())),
                "Failed" | "Cancelled" => {
                    let errors: Vec<String> = update
                        .iter()
                        .flat_map(|u| u.errors())
                        .map(|e| {
                            format!(
                                "{}: {}",
                                e.error_code().map(|c| c.as_str()).unwrap_or_default(),
                                e.error_message().unwrap_or_default()
                            )
                        })
                        .collect();
                    Err(ProviderError::new(
                        format!("{what} {status}"),
                        errors.join("; "),
                    ))
                }
                other => Ok(Poll::Pending(other.to_string())),
            }
        })
        .await
}

pub(super) fn opt_bool(value: Option<bool>) -> Value {
    value.map(Value::Bool).unwrap_or(Value::Null)
}
