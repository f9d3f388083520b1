//! SSM Parameter Store: the `aws_ssm_parameter` resource ([`parameter`]) and the
//! `aws_ssm_parameter` and `aws_ssm_parameters_by_path` data sources ([`data`]), as the
//! Terraform AWS provider 3.39 has them (`aws/resource_aws_ssm_parameter.go`,
//! `aws/data_source_aws_ssm_parameter.go`; `aws_ssm_parameters_by_path` is newer than 3.39 and
//! follows the current provider's `internal/service/ssm/parameters_by_path_data_source.go`).
//!
//! Parameter values are secrets as often as not: every `value` is a sensitive attribute, marked
//! on every value these types return, so the engine shows `(sensitive value)` and the provider's
//! error scrubbing removes them from messages.

mod data;
mod parameter;

pub(crate) use data::{ParameterData, ParametersByPath};
pub(crate) use parameter::Parameter;

/// The label of a parameter in messages.
const LABEL: &str = "SSM Parameter";
