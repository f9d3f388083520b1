//! The built-in provisioners, as Terraform has them (`internal/builtin/provisioners`):
//! `local-exec` runs a command on this machine, `file` copies files to a remote machine and
//! `remote-exec` runs commands there, both over the SSH `connection` ([`ssh`]).
//!
//! A provisioner receives its evaluated configuration (marks removed: the engine decides what
//! may be shown) and reports what it prints through an [`Output`]; it never prints itself.
//! The engine decides when provisioners run and what a failure means (`engine::provision`).

pub mod file;
pub mod local_exec;
pub mod remote_exec;
pub mod ssh;

use crate::providers::schema::{Attribute, Block};
use crate::value::{Type, Value};
use std::sync::Arc;

/// The provisioner types there are.
pub const TYPES: &[&str] = &["file", "local-exec", "remote-exec"];

/// Receives what a provisioner prints, a message at a time (a message may hold several lines).
pub type Output = Arc<dyn Fn(&str) + Send + Sync>;

/// A provisioner that did not finish its work.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{summary}: {detail}")]
pub struct ProvisionError {
    pub summary: String,
    pub detail: String,
}

impl ProvisionError {
    pub fn new(summary: impl Into<String>, detail: impl Into<String>) -> ProvisionError {
        ProvisionError {
            summary: summary.into(),
            detail: detail.into(),
        }
    }
}

/// The arguments of a provisioner type (Terraform's provisioner schemas), or `None` for a type
/// there is not.
pub fn schema(type_name: &str) -> Option<Block> {
    let string = || Attribute::optional(Type::String);
    let strings = || Attribute::optional(Type::list(Type::String));
    let block = match type_name {
        "local-exec" => Block::new()
            .attr("command", Attribute::required(Type::String))
            .attr("interpreter", strings())
            .attr("working_dir", string())
            .attr("environment", Attribute::optional(Type::map(Type::String)))
            .attr("quiet", Attribute::optional(Type::Bool)),
        "file" => Block::new()
            .attr("source", string())
            .attr("content", string())
            .attr("destination", Attribute::required(Type::String)),
        "remote-exec" => Block::new()
            .attr("inline", strings())
            .attr("script", string())
            .attr("scripts", strings()),
        _ => return None,
    };
    Some(block)
}

/// The schema of a `connection` block: every argument of SSH and WinRM connections.
pub fn connection_schema() -> Block {
    let mut block = Block::new();
    for name in crate::config::provisioner::CONNECTION_ARGUMENTS {
        let ty = match *name {
            "port" | "bastion_port" | "proxy_port" => Type::Number,
            "agent" | "https" | "insecure" | "use_ntlm" => Type::Bool,
            _ => Type::String,
        };
        block = block.attr(name, Attribute::optional(ty));
    }
    block
}

/// The checks a provisioner makes of its configuration before running (Terraform's
/// `ValidateProvisionerConfig`): `remote-exec` takes exactly one of `inline`, `script` and
/// `scripts`, `file` exactly one of `source` and `content`. Unknown values count as set.
pub fn validate(type_name: &str, config: &Value) -> Result<(), ProvisionError> {
    let set = |names: &[&str]| {
        names
            .iter()
            .filter(|name| config.get_attr(name).is_some_and(|v| !v.is_null()))
            .count()
    };
    match type_name {
        "remote-exec" if set(&["inline", "script", "scripts"]) != 1 => Err(ProvisionError::new(
            "Invalid remote-exec provisioner configuration",
            "Only one of \"inline\", \"script\", or \"scripts\" must be set.",
        )),
        "file" if set(&["source", "content"]) != 1 => Err(ProvisionError::new(
            "Invalid file provisioner configuration",
            "Exactly one of \"source\" or \"content\" must be set.",
        )),
        _ => Ok(()),
    }
}

/// Runs one provisioner with its configuration and the connection (null when the resource and
/// the provisioner have no connection block).
pub async fn provision(
    type_name: &str,
    config: &Value,
    connection: &Value,
    output: Output,
) -> Result<(), ProvisionError> {
    validate(type_name, config)?;
    match type_name {
        "local-exec" => local_exec::run(config, output).await,
        "file" => file::run(config, connection, output).await,
        "remote-exec" => remote_exec::run(config, connection, output).await,
        other => Err(ProvisionError::new(
            "Unknown provisioner type",
            format!("There is no provisioner named \"{other}\"."),
        )),
    }
}

/// A string argument, or `None` when it is null or absent.
fn string_arg<'a>(config: &'a Value, name: &str) -> Option<&'a str> {
    config.get_attr(name).and_then(Value::as_str)
}

/// A list of strings argument (null elements left out, as Terraform does).
fn strings_arg(config: &Value, name: &str) -> Vec<String> {
    config
        .get_attr(name)
        .and_then(Value::as_seq)
        .map(|items| {
            items
                .iter()
                .filter_map(|v| v.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}
