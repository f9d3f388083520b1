//! The data sources `aws_ssm_parameter` (one parameter by name, decrypted unless
//! `with_decryption = false`) and `aws_ssm_parameters_by_path` (every parameter under a path,
//! optionally recursive). The values are marked sensitive as they are read.

use super::LABEL;
use crate::providers::aws::support::{
    ask, attrs, computed_strings, get_bool, get_str, opt_str, str_list, Attrs, SdkResultExt,
};
use crate::providers::aws::{AwsContext, DataSourceType};
use crate::providers::schema::{Attribute, Block};
use crate::providers::ProviderError;
use crate::value::{AttrPath, Type, Value};
use async_trait::async_trait;

/// `aws_ssm_parameter` (data source).
pub struct ParameterData;

#[async_trait]
impl DataSourceType for ParameterData {
    fn schema(&self) -> Block {
        computed_strings(&["id", "arn", "type"])
            .attr("name", Attribute::required(Type::String))
            .attr(
                "with_decryption",
                Attribute::optional(Type::Bool).with_default(true),
            )
            .attr("value", Attribute::computed(Type::String).sensitive())
            .attr("version", Attribute::computed(Type::Number))
    }

    async fn read(&self, aws: &AwsContext, config: &Value) -> Result<Attrs, ProviderError> {
        let name = get_str(config, "name").unwrap_or_default();
        let decrypt = get_bool(config, "with_decryption").unwrap_or(true);
        let out = aws
            .ssm
            .get_parameter()
            .name(&name)
            .with_decryption(decrypt)
            .send()
            .await
            .api()
            .map_err(|failure| {
                let not_found = failure.is_not_found();
                let error = failure.into_error(format!("reading {LABEL} ({name})"));
                if not_found {
                    ProviderError::new(
                        error.summary,
                        format!("{}; check the name and the provider's region", error.detail),
                    )
                    .on_attribute(AttrPath::attr("name"))
                } else {
                    error
                }
            })?;
        let Some(parameter) = out.parameter() else {
            return Err(ProviderError::new(
                format!("reading {LABEL} ({name})"),
                "AWS answered without the parameter",
            ));
        };
        Ok(attrs([
            ("id", opt_str(parameter.name())),
            ("name", opt_str(parameter.name())),
            ("arn", opt_str(parameter.arn())),
            ("type", opt_str(parameter.r#type().map(|t| t.as_str()))),
            ("value", opt_str(parameter.value()).mark_sensitive()),
            ("version", Value::from(parameter.version())),
        ]))
    }
}

/// `aws_ssm_parameters_by_path`: the parameters under `path`, in the order AWS lists them.
pub struct ParametersByPath;

#[async_trait]
impl DataSourceType for ParametersByPath {
    fn schema(&self) -> Block {
        let strings = || Type::list(Type::String);
        Block::new()
            .attr("id", Attribute::computed(Type::String))
            .attr("path", Attribute::required(Type::String))
            .attr(
                "recursive",
                Attribute::optional(Type::Bool).with_default(false),
            )
            .attr(
                "with_decryption",
                Attribute::optional(Type::Bool).with_default(true),
            )
            .attr("arns", Attribute::computed(strings()))
            .attr("names", Attribute::computed(strings()))
            .attr("types", Attribute::computed(strings()))
            .attr("values", Attribute::computed(strings()).sensitive())
    }

    async fn read(&self, aws: &AwsContext, config: &Value) -> Result<Attrs, ProviderError> {
        let path = get_str(config, "path").unwrap_or_default();
        let summary = format!("reading {LABEL}s under {path}");
        let mut parameters = Vec::new();
        let mut next_token = None;
        loop {
            let out = ask(
                aws.ssm
                    .get_parameters_by_path()
                    .path(&path)
                    .recursive(get_bool(config, "recursive").unwrap_or(false))
                    .with_decryption(get_bool(config, "with_decryption").unwrap_or(true))
                    .set_next_token(next_token.take())
                    .send(),
                &summary,
            )
            .await?;
            parameters.extend(out.parameters().iter().cloned());
            match out.next_token() {
                Some(token) if !token.is_empty() => next_token = Some(token.to_string()),
                _ => break,
            }
        }
        let column = |f: fn(&aws_sdk_ssm::types::Parameter) -> Option<&str>| {
            str_list(parameters.iter().map(|p| f(p).unwrap_or_default()))
        };
        Ok(attrs([
            ("id", Value::from(path.as_str())),
            ("arns", column(|p| p.arn())),
            ("names", column(|p| p.name())),
            ("types", column(|p| p.r#type().map(|t| t.as_str()))),
            ("values", column(|p| p.value()).mark_sensitive()),
        ]))
    }
}
