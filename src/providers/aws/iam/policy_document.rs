//! The `aws_iam_policy_document` data source, as
//! `internal/service/iam/policy_document_data_source.go` of the Terraform AWS provider: computed
//! locally, with no API call.

use crate::providers::aws::support::{
    attrs, computed_strings, get_blocks, get_str, get_strings, Attrs,
};
use crate::providers::aws::{AwsContext, DataSourceType};
use crate::providers::schema::{Attribute, Block, Nesting};
use crate::providers::ProviderError;
use crate::value::{Type, Value};
use async_trait::async_trait;

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
        computed_strings(&["id", "json", "minified_json"])
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
