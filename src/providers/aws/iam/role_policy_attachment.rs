//! `aws_iam_role_policy_attachment`, as `internal/service/iam/role_policy_attachment.go` of the
//! Terraform AWS provider: a managed policy attached to a role. It has nothing to change:
//! `role` and `policy_arn` replace.

use super::role::LABEL;
use crate::providers::aws::support::{
    attrs, done, get_str, unique_name, Attrs, FailureExt, NotFoundExt, SdkResultExt,
};
use crate::providers::aws::{AwsContext, Operation, ResourceType};
use crate::providers::schema::{Attribute, Block};
use crate::providers::ProviderError;
use crate::value::{AttrPath, Type, Value};
use async_trait::async_trait;
use std::collections::{BTreeMap, BTreeSet};

/// `aws_iam_role_policy_attachment`: a managed policy attached to a role.
pub struct RolePolicyAttachment;

const ATTACHMENT_LABEL: &str = "IAM Role Policy Attachment";

#[async_trait]
impl ResourceType for RolePolicyAttachment {
    fn label(&self) -> &'static str {
        ATTACHMENT_LABEL
    }

    fn taggable(&self) -> bool {
        false
    }

    fn schema(&self) -> Block {
        Block::new()
            .attr("id", Attribute::computed(Type::String))
            .attr("role", Attribute::required(Type::String).force_new())
            .attr("policy_arn", Attribute::required(Type::String).force_new())
    }

    async fn create(
        &self,
        aws: &AwsContext,
        operation: &Operation<'_>,
    ) -> Result<Attrs, ProviderError> {
        let role = get_str(operation.planned, "role").unwrap_or_default();
        let policy = get_str(operation.planned, "policy_arn").unwrap_or_default();
        aws.iam
            .attach_role_policy()
            .role_name(&role)
            .policy_arn(&policy)
            .send()
            .await
            .api()
            .map_err(|failure| {
                let attribute =
                    if failure.message.contains(&policy) || failure.code() == "InvalidInput" {
                        "policy_arn"
                    } else {
                        "role"
                    };
                failure
                    .into_error(format!(
                        "attaching IAM Policy ({policy}) to {LABEL} ({role})"
                    ))
                    .on_attribute(AttrPath::attr(attribute))
            })?;
        Ok(attrs([(
            "id",
            Value::String(unique_name(&format!("{role}-"))),
        )]))
    }

    async fn read(
        &self,
        aws: &AwsContext,
        current: &Value,
    ) -> Result<Option<Attrs>, ProviderError> {
        self.read_one_of_many(aws, current).await
    }

    /// One ListAttachedRolePolicies per role, however many attachments it has; the roles'
    /// lists are asked for at once.
    async fn read_many(
        &self,
        aws: &AwsContext,
        current: &[Value],
    ) -> Vec<Result<Option<Attrs>, ProviderError>> {
        let roles: BTreeSet<String> = current.iter().filter_map(|c| get_str(c, "role")).collect();
        let lists =
            futures_util::future::join_all(roles.iter().map(|role| attached_policies(aws, role)))
                .await;
        let attached: BTreeMap<String, Result<BTreeSet<String>, ProviderError>> =
            roles.into_iter().zip(lists).collect();
        current
            .iter()
            .map(|value| {
                let role = get_str(value, "role").unwrap_or_default();
                let policy = get_str(value, "policy_arn").unwrap_or_default();
                match attached.get(&role) {
                    Some(Ok(policies)) if policies.contains(&policy) => {
                        let id = get_str(value, "id")
                            .unwrap_or_else(|| unique_name(&format!("{role}-")));
                        Ok(Some(attrs([
                            ("id", Value::String(id)),
                            ("role", Value::String(role)),
                            ("policy_arn", Value::String(policy)),
                        ])))
                    }
                    Some(Err(error)) => Err(error.clone()),
                    _ => Ok(None),
                }
            })
            .collect()
    }

    async fn update(
        &self,
        _aws: &AwsContext,
        _operation: &Operation<'_>,
    ) -> Result<Attrs, ProviderError> {
        Ok(Attrs::new())
    }

    async fn delete(
        &self,
        aws: &AwsContext,
        operation: &Operation<'_>,
    ) -> Result<(), ProviderError> {
        let role = get_str(operation.planned, "role").unwrap_or_default();
        let policy = get_str(operation.planned, "policy_arn").unwrap_or_default();
        let call = aws.iam.detach_role_policy().role_name(&role);
        let summary = format!("detaching IAM Policy ({policy}) from {LABEL} ({role})");
        let result = done(call.policy_arn(&policy).send()).await;
        result.gone_ok().or_fail(&summary)
    }

    /// Import ids are `role-name/policy-arn`.
    fn import_attrs(&self, id: &str) -> Result<Attrs, ProviderError> {
        match id.split_once('/') {
            Some((role, policy)) if !role.is_empty() && policy.starts_with("arn:") => Ok(attrs([
                ("id", Value::Null),
                ("role", Value::from(role)),
                ("policy_arn", Value::from(policy)),
            ])),
            _ => Err(ProviderError::new(
                "invalid import id for aws_iam_role_policy_attachment",
                format!("`{id}`: expected ROLE_NAME/POLICY_ARN"),
            )),
        }
    }
}

/// The ARNs of the managed policies attached to `role` (none for a role that is gone), every
/// page of ListAttachedRolePolicies.
async fn attached_policies(
    aws: &AwsContext,
    role: &str,
) -> Result<BTreeSet<String>, ProviderError> {
    let mut policies = BTreeSet::new();
    let mut marker: Option<String> = None;
    loop {
        let out = aws
            .iam
            .list_attached_role_policies()
            .role_name(role)
            .set_marker(marker.clone())
            .send()
            .await
            .api();
        match out {
            Ok(out) => {
                policies.extend(
                    out.attached_policies()
                        .iter()
                        .filter_map(|p| p.policy_arn().map(str::to_string)),
                );
                if out.is_truncated() {
                    marker = out.marker().map(str::to_string);
                    if marker.is_some() {
                        continue;
                    }
                }
                return Ok(policies);
            }
            Err(failure) if failure.is_not_found() => return Ok(BTreeSet::new()),
            Err(failure) => {
                return Err(failure.into_error(format!("reading {ATTACHMENT_LABEL}s of {role}")))
            }
        }
    }
}
