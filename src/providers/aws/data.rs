//! Data sources without a resource family: `aws_availability_zones` (as
//! `internal/service/ec2/availability_zones_data_source.go` of the Terraform AWS provider) and
//! `aws_caller_identity` (as `internal/service/sts/caller_identity_data_source.go`).

use super::ec2::filter;
use super::support::{
    attrs, get_blocks, get_bool, get_str, get_strings, str_list, str_set, timeouts_block, Attrs,
    FailureExt, SdkResultExt,
};
use super::{AwsContext, DataSourceType};
use crate::providers::schema::{Attribute, Block, Nesting};
use crate::providers::ProviderError;
use crate::value::{Type, Value};
use async_trait::async_trait;

/// `aws_availability_zones`: the region's zones, by state and filters.
pub struct AvailabilityZones;

#[async_trait]
impl DataSourceType for AvailabilityZones {
    fn schema(&self) -> Block {
        let block = Block::new()
            .attr("id", Attribute::computed(Type::String))
            .attr("all_availability_zones", Attribute::optional(Type::Bool))
            .attr("state", Attribute::optional(Type::String))
            .attr(
                "exclude_names",
                Attribute::optional(Type::set(Type::String)),
            )
            .attr(
                "exclude_zone_ids",
                Attribute::optional(Type::set(Type::String)),
            )
            .attr("names", Attribute::computed(Type::list(Type::String)))
            .attr("zone_ids", Attribute::computed(Type::list(Type::String)))
            .attr("group_names", Attribute::computed(Type::set(Type::String)))
            .block(
                "filter",
                Nesting::Set,
                Block::new()
                    .attr("name", Attribute::required(Type::String))
                    .attr("values", Attribute::required(Type::set(Type::String))),
            );
        timeouts_block(block, &["read"])
    }

    async fn read(&self, aws: &AwsContext, config: &Value) -> Result<Attrs, ProviderError> {
        let mut request = aws.ec2.describe_availability_zones();
        // As the provider: only `true` is sent (false and unset are alike).
        if get_bool(config, "all_availability_zones") == Some(true) {
            request = request.all_availability_zones(true);
        }
        if let Some(state) = get_str(config, "state") {
            request = request.filters(filter("state", [state]));
        }
        for block in get_blocks(config, "filter") {
            if let Some(name) = get_str(block, "name") {
                request = request.filters(filter(&name, get_strings(block, "values")));
            }
        }
        let out = request
            .send()
            .await
            .api()
            .or_fail("reading EC2 Availability Zones")?;
        let exclude_names = get_strings(config, "exclude_names");
        let exclude_ids = get_strings(config, "exclude_zone_ids");
        let mut zones: Vec<_> = out
            .availability_zones()
            .iter()
            .filter(|z| {
                !z.zone_name()
                    .is_some_and(|n| exclude_names.iter().any(|e| e == n))
            })
            .filter(|z| {
                !z.zone_id()
                    .is_some_and(|i| exclude_ids.iter().any(|e| e == i))
            })
            .collect();
        zones.sort_by_key(|z| z.zone_name().unwrap_or_default().to_string());
        Ok(attrs([
            ("id", Value::String(aws.region.clone())),
            (
                "names",
                str_list(zones.iter().filter_map(|z| z.zone_name())),
            ),
            (
                "zone_ids",
                str_list(zones.iter().filter_map(|z| z.zone_id())),
            ),
            (
                "group_names",
                str_set(zones.iter().filter_map(|z| z.group_name())),
            ),
        ]))
    }
}

/// `aws_caller_identity`: who the provider's credentials are.
pub struct CallerIdentity;

#[async_trait]
impl DataSourceType for CallerIdentity {
    fn schema(&self) -> Block {
        Block::new()
            .attr("id", Attribute::computed(Type::String))
            .attr("account_id", Attribute::computed(Type::String))
            .attr("arn", Attribute::computed(Type::String))
            .attr("user_id", Attribute::computed(Type::String))
    }

    async fn read(&self, aws: &AwsContext, _config: &Value) -> Result<Attrs, ProviderError> {
        let out = aws
            .sts
            .get_caller_identity()
            .send()
            .await
            .api()
            .or_fail("reading STS Caller Identity")?;
        let account = out.account().unwrap_or_default();
        Ok(attrs([
            ("id", Value::from(account)),
            ("account_id", Value::from(account)),
            ("arn", Value::from(out.arn().unwrap_or_default())),
            ("user_id", Value::from(out.user_id().unwrap_or_default())),
        ]))
    }
}

/// `aws_iam_policy_document`: an IAM policy as JSON, from `statement` blocks. Computed
/// locally (no API call), so trust policies written this way plan like `jsonencode`.
pub struct IamPolicyDocument;

fn principal_block() -> Block {
    Block::new()
        .attr("type", Attribute::required(Type::String))
        .attr("identifiers", Attribute::required(Type::set(Type::String)))
}

/// A list of one string is written as the string, as IAM and Terraform do.
fn string_or_list(mut items: Vec<String>) -> serde_json::Value {
    items.sort();
    items.dedup();
    match items.as_slice() {
        [one] => serde_json::Value::String(one.clone()),
        _ => serde_json::Value::Array(items.into_iter().map(serde_json::Value::String).collect()),
    }
}

fn principals_json(blocks: &[&Value]) -> Option<serde_json::Value> {
    if blocks.is_empty() {
        return None;
    }
    let mut by_type: std::collections::BTreeMap<String, Vec<String>> =
        std::collections::BTreeMap::new();
    for block in blocks {
        let kind = get_str(block, "type").unwrap_or_default();
        by_type
            .entry(kind)
            .or_default()
            .extend(get_strings(block, "identifiers"));
    }
    if by_type.len() == 1
        && by_type
            .get("*")
            .is_some_and(|ids| ids == &["*".to_string()])
    {
        return Some(serde_json::Value::String("*".into()));
    }
    Some(serde_json::Value::Object(
        by_type
            .into_iter()
            .map(|(kind, ids)| (kind, string_or_list(ids)))
            .collect(),
    ))
}

fn statement_json(statement: &Value) -> serde_json::Value {
    let mut out = serde_json::Map::new();
    if let Some(sid) = get_str(statement, "sid").filter(|s| !s.is_empty()) {
        out.insert("Sid".into(), sid.into());
    }
    out.insert(
        "Effect".into(),
        get_str(statement, "effect")
            .unwrap_or_else(|| "Allow".into())
            .into(),
    );
    for (attribute, key) in [
        ("actions", "Action"),
        ("not_actions", "NotAction"),
        ("resources", "Resource"),
        ("not_resources", "NotResource"),
    ] {
        let items = get_strings(statement, attribute);
        if !items.is_empty() {
            out.insert(key.into(), string_or_list(items));
        }
    }
    if let Some(principals) = principals_json(&get_blocks(statement, "principals")) {
        out.insert("Principal".into(), principals);
    }
    if let Some(principals) = principals_json(&get_blocks(statement, "not_principals")) {
        out.insert("NotPrincipal".into(), principals);
    }
    let conditions = get_blocks(statement, "condition");
    if !conditions.is_empty() {
        let mut by_test: serde_json::Map<String, serde_json::Value> = serde_json::Map::new();
        for condition in conditions {
            let test = get_str(condition, "test").unwrap_or_default();
            let variable = get_str(condition, "variable").unwrap_or_default();
            let entry = by_test
                .entry(test)
                .or_insert_with(|| serde_json::Value::Object(serde_json::Map::new()));
            if let serde_json::Value::Object(variables) = entry {
                variables.insert(variable, string_or_list(get_strings(condition, "values")));
            }
        }
        out.insert("Condition".into(), serde_json::Value::Object(by_test));
    }
    serde_json::Value::Object(out)
}

#[async_trait]
impl DataSourceType for IamPolicyDocument {
    fn schema(&self) -> Block {
        let condition = Block::new()
            .attr("test", Attribute::required(Type::String))
            .attr("variable", Attribute::required(Type::String))
            .attr("values", Attribute::required(Type::list(Type::String)));
        let statement = Block::new()
            .attr("sid", Attribute::optional(Type::String))
            .attr(
                "effect",
                Attribute::optional(Type::String).with_default("Allow"),
            )
            .attr("actions", Attribute::optional(Type::set(Type::String)))
            .attr("not_actions", Attribute::optional(Type::set(Type::String)))
            .attr("resources", Attribute::optional(Type::set(Type::String)))
            .attr(
                "not_resources",
                Attribute::optional(Type::set(Type::String)),
            )
            .block("principals", Nesting::Set, principal_block())
            .block("not_principals", Nesting::Set, principal_block())
            .block("condition", Nesting::Set, condition);
        Block::new()
            .attr("id", Attribute::computed(Type::String))
            .attr("json", Attribute::computed(Type::String))
            .attr("minified_json", Attribute::computed(Type::String))
            .attr("policy_id", Attribute::optional(Type::String))
            .attr("version", Attribute::optional(Type::String))
            .attr(
                "source_policy_documents",
                Attribute::optional(Type::list(Type::String)),
            )
            .attr(
                "override_policy_documents",
                Attribute::optional(Type::list(Type::String)),
            )
            .block("statement", Nesting::List, statement)
    }

    async fn read(&self, _aws: &AwsContext, config: &Value) -> Result<Attrs, ProviderError> {
        let mut statements: Vec<serde_json::Value> = Vec::new();
        let parse = |text: &str, argument: &str| -> Result<Vec<serde_json::Value>, ProviderError> {
            let document: serde_json::Value = serde_json::from_str(text).map_err(|e| {
                ProviderError::new(
                    format!("invalid policy document in `{argument}`"),
                    e.to_string(),
                )
            })?;
            Ok(match document.get("Statement") {
                Some(serde_json::Value::Array(items)) => items.clone(),
                Some(single) => vec![single.clone()],
                None => Vec::new(),
            })
        };
        for source in get_strings(config, "source_policy_documents") {
            statements.extend(parse(&source, "source_policy_documents")?);
        }
        // A statement with the Sid of an earlier one replaces it (as Terraform merges).
        let push = |statements: &mut Vec<serde_json::Value>, statement: serde_json::Value| {
            let sid = statement
                .get("Sid")
                .and_then(serde_json::Value::as_str)
                .map(str::to_string);
            match sid.and_then(|sid| {
                statements
                    .iter()
                    .position(|s| s.get("Sid").and_then(|v| v.as_str()) == Some(&sid))
            }) {
                Some(index) => statements[index] = statement,
                None => statements.push(statement),
            }
        };
        for statement in get_blocks(config, "statement") {
            push(&mut statements, statement_json(statement));
        }
        for source in get_strings(config, "override_policy_documents") {
            for statement in parse(&source, "override_policy_documents")? {
                push(&mut statements, statement);
            }
        }
        let mut document = serde_json::Map::new();
        document.insert(
            "Version".into(),
            get_str(config, "version")
                .unwrap_or_else(|| "2012-10-17".into())
                .into(),
        );
        if let Some(id) = get_str(config, "policy_id") {
            document.insert("Id".into(), id.into());
        }
        document.insert("Statement".into(), serde_json::Value::Array(statements));
        let document = serde_json::Value::Object(document);
        let pretty = serde_json::to_string_pretty(&document)
            .map_err(|e| ProviderError::new("writing the policy document", e.to_string()))?;
        let minified = document.to_string();
        let id = {
            use sha2::Digest;
            let digest = sha2::Sha256::digest(pretty.as_bytes());
            u32::from_be_bytes([digest[0], digest[1], digest[2], digest[3]]).to_string()
        };
        Ok(attrs([
            ("id", Value::String(id)),
            ("json", Value::String(pretty)),
            ("minified_json", Value::String(minified)),
        ]))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_trust_policy_document() {
        let statement = Value::object([
            ("sid", Value::Null),
            ("effect", Value::from("Allow")),
            ("actions", Value::set(vec![Value::from("sts:AssumeRole")])),
            ("not_actions", Value::Null),
            ("resources", Value::Null),
            ("not_resources", Value::Null),
            (
                "principals",
                Value::set(vec![Value::object([
                    ("type", Value::from("Service")),
                    (
                        "identifiers",
                        Value::set(vec![Value::from("eks.amazonaws.com")]),
                    ),
                ])]),
            ),
            ("not_principals", Value::Set(Vec::new())),
            ("condition", Value::Set(Vec::new())),
        ]);
        let json = statement_json(&statement);
        assert_eq!(
            json.to_string(),
            r#"{"Effect":"Allow","Action":"sts:AssumeRole","Principal":{"Service":"eks.amazonaws.com"}}"#
        );
    }
}
