//! `aws_iam_role` (its attachment is [`super::role_policy_attachment`]).
//!
//! Policy documents compare as JSON, not as text: a document AWS gives back reformatted (or
//! URL-encoded) that means the same keeps the configuration's text, and a plan whose document
//! only changes its formatting changes nothing. `name` and `path` replace; the trust policy,
//! description, session duration, permissions boundary and tags change in place.
//! An attachment has nothing to change: `role` and `policy_arn` replace. Schemas follow the
//! provider's `internal/service/iam/role.go` and `role_policy_attachment.go`.
//!
//! Not supported yet on `aws_iam_role`: `inline_policy` and `managed_policy_arns` (both
//! deprecated by the provider in favour of `aws_iam_role_policy` and
//! `aws_iam_role_policy_attachment`).

use crate::providers::aws::support::{
    ask, attrs, computed_strings, done, get_bool, get_i64, get_str, name_of, name_or_unique,
    named_ids, opt_str, retry_while, rfc3339_seconds, str_map, user_tags, with_name_and_prefix,
    with_tags, ApiFailure, Attrs, FailureExt, NotFoundExt, SdkResultExt,
};
use crate::providers::aws::tags::{iam_tags, update_tags, Tagged};
use crate::providers::aws::{AwsContext, Operation, ResourceType, REMOTE_TAGS};
use crate::providers::schema::{Attribute, Block};
use crate::providers::ProviderError;
use crate::value::{AttrPath, Type, Value};
use async_trait::async_trait;
use std::time::Duration;

pub struct Role;

pub(super) const LABEL: &str = "IAM Role";

/// Decodes `%XX` escapes (IAM returns policy documents URL-encoded).
fn percent_decode(text: &str) -> String {
    fn hex(byte: u8) -> Option<u8> {
        (byte as char)
            .to_digit(16)
            .and_then(|d| u8::try_from(d).ok())
    }
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            if let (Some(high), Some(low)) = (hex(bytes[i + 1]), hex(bytes[i + 2])) {
                out.push(high * 16 + low);
                i += 3;
                continue;
            }
        }
        out.push(if bytes[i] == b'+' { b' ' } else { bytes[i] });
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// A policy document as AWS returns it, readable.
fn decode_policy(text: &str) -> String {
    if text.trim_start().starts_with('{') {
        text.to_string()
    } else {
        percent_decode(text)
    }
}

/// Whether two policy documents say the same (as JSON; a single value and a one-element list
/// are alike, as IAM treats them).
pub fn policies_equivalent(a: &str, b: &str) -> bool {
    match (
        serde_json::from_str::<serde_json::Value>(a),
        serde_json::from_str::<serde_json::Value>(b),
    ) {
        (Ok(x), Ok(y)) => normalize_policy(x) == normalize_policy(y),
        _ => a == b,
    }
}

fn normalize_policy(value: serde_json::Value) -> serde_json::Value {
    use serde_json::Value as Json;
    match value {
        Json::Array(items) if items.len() == 1 => {
            normalize_policy(items.into_iter().next().unwrap_or(Json::Null))
        }
        Json::Array(items) => Json::Array(items.into_iter().map(normalize_policy).collect()),
        Json::Object(items) => Json::Object(
            items
                .into_iter()
                .map(|(k, v)| (k, normalize_policy(v)))
                .collect(),
        ),
        Json::Number(n) => Json::String(n.to_string()),
        Json::Bool(b) => Json::String(b.to_string()),
        other => other,
    }
}

async fn get_role(
    aws: &AwsContext,
    name: &str,
) -> Result<Option<aws_sdk_iam::types::Role>, ApiFailure> {
    let out = aws.iam.get_role().role_name(name).send().await.api();
    Ok(out.found()?.and_then(|out| out.role))
}

#[async_trait]
impl ResourceType for Role {
    fn label(&self) -> &'static str {
        LABEL
    }

    fn schema(&self) -> Block {
        let block = computed_strings(&["id", "arn", "unique_id", "create_date"])
            .attr(
                "path",
                Attribute::optional(Type::String)
                    .with_default("/")
                    .force_new(),
            )
            .attr("assume_role_policy", Attribute::required(Type::String))
            .attr("description", Attribute::optional(Type::String))
            .attr(
                "max_session_duration",
                Attribute::optional(Type::Number).with_default(3600),
            )
            .attr("permissions_boundary", Attribute::optional(Type::String))
            .attr(
                "force_detach_policies",
                Attribute::optional(Type::Bool).with_default(false),
            );
        with_tags(with_name_and_prefix(block, "name"))
    }

    fn adjust_plan(
        &self,
        prior: Option<&Value>,
        planned: &mut Value,
        _requires_replace: &mut Vec<AttrPath>,
    ) {
        let Some(prior_policy) = prior.and_then(|p| get_str(p, "assume_role_policy")) else {
            return;
        };
        if let Some(planned_policy) = get_str(planned, "assume_role_policy") {
            if planned_policy != prior_policy && policies_equivalent(&planned_policy, &prior_policy)
            {
                planned.set_at_path(
                    &AttrPath::attr("assume_role_policy").0,
                    Value::String(prior_policy),
                );
            }
        }
    }

    async fn create(
        &self,
        aws: &AwsContext,
        operation: &Operation<'_>,
    ) -> Result<Attrs, ProviderError> {
        let planned = operation.planned;
        let name = name_or_unique(planned, "name");
        let tags = crate::providers::aws::support::get_string_map(planned, "tags_all");
        aws.iam
            .create_role()
            .role_name(&name)
            .set_path(get_str(planned, "path"))
            .set_assume_role_policy_document(get_str(planned, "assume_role_policy"))
            .set_description(get_str(planned, "description"))
            .set_max_session_duration(
                get_i64(planned, "max_session_duration").and_then(|n| i32::try_from(n).ok()),
            )
            .set_permissions_boundary(get_str(planned, "permissions_boundary"))
            .set_tags((!tags.is_empty()).then(|| iam_tags(&tags)))
            .send()
            .await
            .api()
            .map_err(|failure| {
                let attribute = match failure.code() {
                    "MalformedPolicyDocument" => Some("assume_role_policy"),
                    "EntityAlreadyExists" => Some("name"),
                    _ => None,
                };
                let error = failure.into_error(format!("creating {LABEL} ({name})"));
                match attribute {
                    Some(attribute) => error.on_attribute(AttrPath::attr(attribute)),
                    None => error,
                }
            })?;
        Ok(named_ids(&name))
    }

    async fn read(
        &self,
        aws: &AwsContext,
        current: &Value,
    ) -> Result<Option<Attrs>, ProviderError> {
        let name = name_of(current);
        let Some(role) = get_role(aws, &name)
            .await
            .or_fail(&format!("reading {LABEL} ({name})"))?
        else {
            return Ok(None);
        };
        let remote_policy = decode_policy(role.assume_role_policy_document().unwrap_or_default());
        let policy = match get_str(current, "assume_role_policy") {
            Some(prior) if policies_equivalent(&prior, &remote_policy) => prior,
            _ => remote_policy,
        };
        let tags = user_tags(
            role.tags()
                .iter()
                .map(|t| (t.key().to_string(), t.value().to_string())),
        );
        Ok(Some(attrs([
            ("id", Value::from(role.role_name())),
            ("name", Value::from(role.role_name())),
            ("arn", Value::from(role.arn())),
            ("unique_id", Value::from(role.role_id())),
            ("create_date", rfc3339_seconds(role.create_date())),
            ("path", Value::from(role.path())),
            ("assume_role_policy", Value::String(policy)),
            (
                "description",
                opt_str(role.description().filter(|d| !d.is_empty())),
            ),
            (
                "max_session_duration",
                Value::from(i64::from(role.max_session_duration().unwrap_or(3600))),
            ),
            (
                "permissions_boundary",
                opt_str(
                    role.permissions_boundary()
                        .and_then(|b| b.permissions_boundary_arn()),
                ),
            ),
            (REMOTE_TAGS, str_map(&tags)),
        ])))
    }

    async fn update(
        &self,
        aws: &AwsContext,
        operation: &Operation<'_>,
    ) -> Result<Attrs, ProviderError> {
        let name = operation.id();
        let planned = operation.planned;
        let summary = format!("updating {LABEL} ({name})");
        if operation.changed("assume_role_policy") {
            aws.iam
                .update_assume_role_policy()
                .role_name(&name)
                .set_policy_document(get_str(planned, "assume_role_policy"))
                .send()
                .await
                .api()
                .or_fail_on(&summary, &["MalformedPolicyDocument"], "assume_role_policy")?;
        }
        if operation.changed("description") || operation.changed("max_session_duration") {
            aws.iam
                .update_role()
                .role_name(&name)
                .description(get_str(planned, "description").unwrap_or_default())
                .set_max_session_duration(
                    get_i64(planned, "max_session_duration").and_then(|n| i32::try_from(n).ok()),
                )
                .send()
                .await
                .api()
                .or_fail(&summary)?;
        }
        if operation.changed("permissions_boundary") {
            match get_str(planned, "permissions_boundary") {
                Some(boundary) => {
                    let call = aws.iam.put_role_permissions_boundary().role_name(&name);
                    done(call.permissions_boundary(boundary).send()).await
                }
                None => {
                    let call = aws.iam.delete_role_permissions_boundary().role_name(&name);
                    done(call.send()).await
                }
            }
            .or_fail_on(
                &summary,
                &["NoSuchEntity", "InvalidInput"],
                "permissions_boundary",
            )?;
        }
        update_tags(aws, Tagged::IamRole(&name), operation, &summary).await?;
        Ok(Attrs::new())
    }

    async fn delete(
        &self,
        aws: &AwsContext,
        operation: &Operation<'_>,
    ) -> Result<(), ProviderError> {
        let name = operation.id();
        let summary = format!("deleting {LABEL} ({name})");
        if get_bool(operation.planned, "force_detach_policies") == Some(true) {
            let attached = ask(
                aws.iam
                    .list_attached_role_policies()
                    .role_name(&name)
                    .send(),
                &summary,
            )
            .await?;
            for policy in attached.attached_policies() {
                if let Some(arn) = policy.policy_arn() {
                    ask(
                        aws.iam
                            .detach_role_policy()
                            .role_name(&name)
                            .policy_arn(arn)
                            .send(),
                        &summary,
                    )
                    .await?;
                }
            }
            let inline = ask(
                aws.iam.list_role_policies().role_name(&name).send(),
                &summary,
            )
            .await?;
            for policy in inline.policy_names() {
                ask(
                    aws.iam
                        .delete_role_policy()
                        .role_name(&name)
                        .policy_name(policy)
                        .send(),
                    &summary,
                )
                .await?;
            }
        }
        // IAM is eventually consistent: a detach just made may not be seen yet.
        let result = retry_while(
            &["DeleteConflict"],
            Duration::from_secs(30).min(operation.timeout),
            operation.progress,
            || done(aws.iam.delete_role().role_name(&name).send()),
        )
        .await;
        result.gone_ok().or_fail(&summary)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn policies_compare_as_json() {
        let a = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"sts:AssumeRole","Principal":{"Service":"eks.amazonaws.com"}}]}"#;
        let b = "{\n  \"Statement\": {\"Principal\": {\"Service\": [\"eks.amazonaws.com\"]}, \"Action\": \"sts:AssumeRole\", \"Effect\": \"Allow\"},\n  \"Version\": \"2012-10-17\"\n}";
        assert!(policies_equivalent(a, b));
        assert!(!policies_equivalent(a, &a.replace("eks", "ec2")));
        assert_eq!(decode_policy("%7B%22a%22%3A1%7D"), "{\"a\":1}");
    }
}
