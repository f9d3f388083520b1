//! `aws_ssm_parameter`: one parameter of SSM Parameter Store, `id` = its name.
//!
//! As the Terraform AWS provider 3.39: `name` forces a new parameter; every other argument
//! changes in place through PutParameter with `Overwrite` (the type too: the provider, 3.39 and
//! current alike, does not replace on a `type` change, and neither does Strata), except a `tier`
//! downgrade from `Advanced`, which AWS refuses and which therefore replaces. `tier =
//! "Intelligent-Tiering"` lets AWS pick the tier, so it never shows as a difference. The tags go
//! with the PutParameter that creates the parameter unless `overwrite` is set (AWS refuses tags
//! with `Overwrite`), then through AddTagsToResource. Where this differs from 3.39, on purpose: an
//! update always overwrites (3.39 sends the configured `overwrite`, so `overwrite = false` made
//! every update fail), and `version` is known after apply whenever the parameter is written.
//!
//! `value` is sensitive: it is sent only in PutParameter, read back decrypted (as the provider
//! does, so drift in the value is seen), marked sensitive in every state, and never formatted
//! into a message or a log line here.

use super::LABEL;
use crate::providers::aws::support::{
    ask, attrs, done, get_str, get_string_map, name_of, named_ids, non_empty, opt_str, scrub_error,
    str_map, Attrs, FailureExt, NotFoundExt, SdkResultExt,
};
use crate::providers::aws::tags::{ssm_tags, update_tags, Tagged};
use crate::providers::aws::{AwsContext, Operation, ResourceType, REMOTE_TAGS};
use crate::providers::schema::{Attribute, Block};
use crate::providers::ProviderError;
use crate::value::{AttrPath, Type, Value};
use async_trait::async_trait;
use aws_sdk_ssm::operation::put_parameter::builders::PutParameterFluentBuilder;
use aws_sdk_ssm::types::{
    ParameterStringFilter, ParameterTier, ParameterType, ResourceTypeForTagging,
};
use std::collections::BTreeMap;

const TYPES: &[&str] = &["String", "StringList", "SecureString"];
const TIERS: &[&str] = &["Standard", "Advanced", "Intelligent-Tiering"];
const DATA_TYPES: &[&str] = &["text", "aws:ec2:image"];
const INTELLIGENT_TIERING: &str = "Intelligent-Tiering";
/// What a PutParameter changes; a change to anything else (tags, `overwrite`) writes no new version.
const WRITTEN: &[&str] = &[
    "type",
    "value",
    "description",
    "tier",
    "key_id",
    "data_type",
    "allowed_pattern",
];

/// `aws_ssm_parameter`.
pub struct Parameter;

/// Whether `name` differs between the prior and the planned state.
fn changed(prior: &Value, planned: &Value, name: &str) -> bool {
    let before = prior.get_attr(name).unwrap_or(&Value::Null);
    let after = planned.get_attr(name).unwrap_or(&Value::Null);
    before.equals(after) != Some(true)
}

/// The PutParameter every write sends: name, type, value, tier and pattern; the rest is added
/// by the caller where it applies.
fn put_request(aws: &AwsContext, planned: &Value, overwrite: bool) -> PutParameterFluentBuilder {
    let kind = get_str(planned, "type").unwrap_or_default();
    aws.ssm
        .put_parameter()
        .set_name(get_str(planned, "name"))
        .r#type(ParameterType::from(kind.as_str()))
        .set_value(get_str(planned, "value"))
        .overwrite(overwrite)
        .set_tier(get_str(planned, "tier").map(|t| ParameterTier::from(t.as_str())))
        .set_allowed_pattern(get_str(planned, "allowed_pattern"))
}

/// Sends a PutParameter; an account or region without parameter tiers is asked again without
/// the tier, as the provider does. AWS may quote the value in its message (a pattern
/// mismatch): it is scrubbed here, whatever marks the configuration carried.
async fn put(request: PutParameterFluentBuilder, summary: &str) -> Result<(), ProviderError> {
    let secret: Vec<String> = request.get_value().iter().cloned().collect();
    put_unscrubbed(request, summary)
        .await
        .map_err(|error| scrub_error(error, &secret))
}

async fn put_unscrubbed(
    request: PutParameterFluentBuilder,
    summary: &str,
) -> Result<(), ProviderError> {
    let retry = request.clone();
    match request.send().await.api() {
        Ok(_) => Ok(()),
        Err(failure) if failure.message.contains("Tier is not supported") => retry
            .set_tier(None)
            .send()
            .await
            .api()
            .map(|_| ())
            .or_fail(summary),
        Err(failure) => Err(failure
            .clone()
            .into_error(summary)
            .on_attribute(AttrPath::attr(blamed_attribute(failure.code())))),
    }
}

/// The argument an error code is about.
fn blamed_attribute(code: &str) -> &'static str {
    match code {
        "ParameterAlreadyExists" | "ParameterLimitExceeded" | "HierarchyLevelLimitExceeded" => {
            "name"
        }
        "ParameterPatternMismatchException" | "InvalidAllowedPatternException" => "allowed_pattern",
        "InvalidKeyId" => "key_id",
        "UnsupportedParameterType" => "type",
        "HierarchyTypeMismatchException" => "type",
        "UnsupportedFeatureRequiredException" | "ParameterMaxVersionLimitExceeded" => "tier",
        _ => "value",
    }
}

/// The choice of `name` is not in `allowed`: an error pointing at it.
fn not_one_of(config: &Value, name: &str, allowed: &[&str]) -> Option<ProviderError> {
    let value = get_str(config, name)?;
    (!allowed.contains(&value.as_str())).then(|| {
        ProviderError::new(
            format!("expected {name} to be one of {allowed:?}, got {value}"),
            format!("set {name} to one of {}", allowed.join(", ")),
        )
        .on_attribute(AttrPath::attr(name))
    })
}

#[async_trait]
impl ResourceType for Parameter {
    fn label(&self) -> &'static str {
        LABEL
    }

    fn schema(&self) -> Block {
        crate::providers::aws::support::with_tags(
            Block::new()
                .attr("id", Attribute::computed(Type::String))
                .attr("name", Attribute::required(Type::String).force_new())
                .attr("description", Attribute::optional(Type::String))
                .attr(
                    "tier",
                    Attribute::optional(Type::String).with_default("Standard"),
                )
                .attr("type", Attribute::required(Type::String))
                .attr("value", Attribute::required(Type::String).sensitive())
                .attr("arn", Attribute::optional_computed(Type::String))
                .attr("key_id", Attribute::optional_computed(Type::String))
                .attr("data_type", Attribute::optional_computed(Type::String))
                .attr("overwrite", Attribute::optional(Type::Bool))
                .attr("allowed_pattern", Attribute::optional(Type::String))
                .attr("version", Attribute::computed(Type::Number)),
        )
    }

    fn validate_config(&self, config: &Value) -> Vec<ProviderError> {
        let mut errors: Vec<ProviderError> = [
            not_one_of(config, "type", TYPES),
            not_one_of(config, "tier", TIERS),
            not_one_of(config, "data_type", DATA_TYPES),
        ]
        .into_iter()
        .flatten()
        .collect();
        if let Some(name) = get_str(config, "name") {
            if name.is_empty() || name.len() > 2048 {
                errors.push(
                    ProviderError::new(
                        "expected length of name to be in the range (1 - 2048)",
                        "SSM parameter names are 1 to 2048 characters",
                    )
                    .on_attribute(AttrPath::attr("name")),
                );
            }
        }
        errors
    }

    fn adjust_plan(
        &self,
        prior: Option<&Value>,
        planned: &mut Value,
        requires_replace: &mut Vec<AttrPath>,
    ) {
        let unknown = |ty: Type| Value::Unknown(ty);
        let planned_tier = get_str(planned, "tier");
        let Some(prior) = prior else {
            // AWS picks the tier; a SecureString without a key uses the account's default key.
            if planned_tier.as_deref() == Some(INTELLIGENT_TIERING) {
                planned.set_at_path(&AttrPath::attr("tier").0, unknown(Type::String));
            }
            return;
        };
        let prior_tier = get_str(prior, "tier");
        if planned_tier.as_deref() == Some(INTELLIGENT_TIERING) {
            if let Some(tier) = prior.get_attr("tier") {
                planned.set_at_path(&AttrPath::attr("tier").0, tier.clone());
            }
        } else if prior_tier.as_deref() == Some("Advanced")
            && planned_tier.as_deref() == Some("Standard")
        {
            requires_replace.push(AttrPath::attr("tier"));
        }
        // A new type with the key carried over from the prior state: AWS decides the key.
        if changed(prior, planned, "type") && !changed(prior, planned, "key_id") {
            planned.set_at_path(&AttrPath::attr("key_id").0, unknown(Type::String));
        }
        if WRITTEN.iter().any(|name| changed(prior, planned, name)) {
            planned.set_at_path(&AttrPath::attr("version").0, unknown(Type::Number));
        }
    }

    async fn create(
        &self,
        aws: &AwsContext,
        operation: &Operation<'_>,
    ) -> Result<Attrs, ProviderError> {
        let planned = operation.planned;
        let name = get_str(planned, "name").unwrap_or_default();
        let summary = format!("creating {LABEL} ({name})");
        let overwrite = planned
            .get_attr("overwrite")
            .and_then(Value::as_bool)
            .unwrap_or(false);
        let secure = get_str(planned, "type").as_deref() == Some("SecureString");
        let tags = get_string_map(planned, "tags_all");
        // AWS takes tags in PutParameter only without Overwrite.
        let tags_in_put = !overwrite && !tags.is_empty();
        let request = put_request(aws, planned, overwrite)
            .set_description(get_str(planned, "description"))
            .set_data_type(get_str(planned, "data_type"))
            .set_key_id(get_str(planned, "key_id").filter(|_| secure))
            .set_tags(tags_in_put.then(|| ssm_tags(&tags)));
        put(request, &summary).await?;
        if !tags_in_put && !tags.is_empty() {
            Tagged::SsmParameter(&name)
                .tag(aws, &tags)
                .await
                .or_fail(&summary)?;
        }
        Ok(named_ids(&name))
    }

    async fn read(
        &self,
        aws: &AwsContext,
        current: &Value,
    ) -> Result<Option<Attrs>, ProviderError> {
        let name = name_of(current);
        let summary = format!("reading {LABEL} ({name})");
        let found = aws
            .ssm
            .get_parameter()
            .name(&name)
            .with_decryption(true)
            .send()
            .await
            .api();
        let parameter = match found {
            Ok(out) => match out.parameter {
                Some(parameter) => parameter,
                None => return Ok(None),
            },
            Err(failure) if failure.is_not_found() => return Ok(None),
            Err(failure) => return Err(failure.into_error(summary)),
        };
        let described = aws
            .ssm
            .describe_parameters()
            .parameter_filters(
                ParameterStringFilter::builder()
                    .key("Name")
                    .option("Equals")
                    .values(&name)
                    .build()
                    .map_err(|e| ProviderError::new(summary.clone(), e.to_string()))?,
            )
            .send()
            .await
            .api()
            .or_fail(&summary)?;
        let Some(detail) = described.parameters().first() else {
            return Ok(None);
        };
        let listed = ask(
            aws.ssm
                .list_tags_for_resource()
                .resource_type(ResourceTypeForTagging::Parameter)
                .resource_id(&name)
                .send(),
            &summary,
        )
        .await?;
        let tags: BTreeMap<String, String> = listed
            .tag_list()
            .iter()
            .map(|t| (t.key().to_string(), t.value().to_string()))
            .collect();
        let tier = detail.tier().map_or("Standard", |t| t.as_str());
        Ok(Some(attrs([
            ("id", opt_str(parameter.name())),
            ("name", opt_str(parameter.name())),
            ("arn", opt_str(parameter.arn())),
            ("type", opt_str(parameter.r#type().map(|t| t.as_str()))),
            ("value", opt_str(parameter.value()).mark_sensitive()),
            ("version", Value::from(parameter.version())),
            ("key_id", non_empty(detail.key_id())),
            ("description", non_empty(detail.description())),
            ("tier", Value::from(tier)),
            ("allowed_pattern", non_empty(detail.allowed_pattern())),
            ("data_type", non_empty(detail.data_type())),
            (REMOTE_TAGS, str_map(&tags)),
        ])))
    }

    async fn update(
        &self,
        aws: &AwsContext,
        operation: &Operation<'_>,
    ) -> Result<Attrs, ProviderError> {
        let planned = operation.planned;
        let name = operation.id();
        let summary = format!("updating {LABEL} ({name})");
        if WRITTEN.iter().any(|attribute| operation.changed(attribute)) {
            let secure = get_str(planned, "type").as_deref() == Some("SecureString");
            let mut request = put_request(aws, planned, true);
            if operation.changed("description") {
                // AWS keeps the old description when none is sent: clearing sends "".
                request = request.description(get_str(planned, "description").unwrap_or_default());
            }
            if operation.changed("data_type") {
                request = request.set_data_type(get_str(planned, "data_type"));
            }
            if operation.changed("key_id") && secure {
                request = request.set_key_id(get_str(planned, "key_id"));
            }
            put(request, &summary).await?;
        }
        update_tags(aws, Tagged::SsmParameter(&name), operation, &summary).await?;
        Ok(Attrs::new())
    }

    async fn delete(
        &self,
        aws: &AwsContext,
        operation: &Operation<'_>,
    ) -> Result<(), ProviderError> {
        let name = operation.id();
        let result = done(aws.ssm.delete_parameter().name(&name).send()).await;
        result
            .gone_ok()
            .or_fail(&format!("deleting {LABEL} ({name})"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn state(pairs: Vec<(&str, Value)>) -> Value {
        Value::object(pairs)
    }

    #[test]
    fn an_advanced_tier_downgrade_replaces_and_intelligent_tiering_is_no_change() {
        let prior = state(vec![
            ("tier", Value::from("Advanced")),
            ("version", Value::from(3)),
        ]);
        let mut planned = state(vec![
            ("tier", Value::from("Standard")),
            ("version", Value::from(3)),
        ]);
        let mut replace = Vec::new();
        Parameter.adjust_plan(Some(&prior), &mut planned, &mut replace);
        assert_eq!(replace, vec![AttrPath::attr("tier")]);
        assert!(planned.get_attr("version").is_some_and(Value::is_unknown));

        let mut planned = state(vec![
            ("tier", Value::from(INTELLIGENT_TIERING)),
            ("version", Value::from(3)),
        ]);
        let mut replace = Vec::new();
        Parameter.adjust_plan(Some(&prior), &mut planned, &mut replace);
        assert!(replace.is_empty());
        assert_eq!(planned, prior, "Intelligent-Tiering keeps what AWS chose");
    }

    #[test]
    fn a_type_change_is_in_place_with_the_key_left_to_aws() {
        let prior = state(vec![
            ("type", Value::from("String")),
            ("key_id", Value::Null),
            ("version", Value::from(1)),
        ]);
        let mut planned = state(vec![
            ("type", Value::from("SecureString")),
            ("key_id", Value::Null),
            ("version", Value::from(1)),
        ]);
        let mut replace = Vec::new();
        Parameter.adjust_plan(Some(&prior), &mut planned, &mut replace);
        assert!(replace.is_empty());
        assert!(planned.get_attr("key_id").is_some_and(Value::is_unknown));
        assert!(planned.get_attr("version").is_some_and(Value::is_unknown));
    }

    #[test]
    fn validation_names_the_attribute() {
        let config = state(vec![
            ("name", Value::from("/a")),
            ("type", Value::from("Secure")),
            ("tier", Value::from("Standard")),
        ]);
        let errors = Parameter.validate_config(&config);
        assert_eq!(errors.len(), 1);
        assert_eq!(errors[0].attribute, Some(AttrPath::attr("type")));
    }
}
