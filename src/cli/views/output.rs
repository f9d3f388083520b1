//! What `strata output` shows: every root output as text (sensitive ones hidden) or as
//! Terraform's JSON object, or one output as text, JSON or `-raw`.

use crate::state::OutputValue;
use crate::ui::{self, Style};
use crate::value::{value_to_json, Value};
use std::collections::BTreeMap;

/// `-json`, `-raw`, or text.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OutputFormat {
    Human,
    Json,
    Raw,
}

/// Why an output cannot be shown in the form asked for.
#[derive(Debug, thiserror::Error)]
pub enum OutputError {
    #[error("Unsupported value for raw output: the -raw option only supports strings, numbers and bools; use -json for \"{name}\".")]
    NotRaw { name: String },
    #[error(transparent)]
    Value(#[from] crate::value::JsonValueError),
    #[error(transparent)]
    Json(#[from] serde_json::Error),
}

/// One output (named on the command line, so shown even when sensitive, as Terraform does).
pub fn one(format: OutputFormat, name: &str, output: &OutputValue) -> Result<(), OutputError> {
    let plain = output.value.clone().deep_unmark().0;
    match format {
        OutputFormat::Raw => match &plain {
            Value::String(s) => print!("{s}"),
            Value::Number(_) | Value::Bool(_) => print!("{}", ui::render_plain(&plain, 0)),
            _ => {
                return Err(OutputError::NotRaw {
                    name: name.to_string(),
                })
            }
        },
        OutputFormat::Json => {
            println!("{}", serde_json::to_string_pretty(&value_to_json(&plain)?)?)
        }
        OutputFormat::Human => println!("{}", ui::render_plain(&plain, 0)),
    }
    Ok(())
}

/// Every root output.
pub fn all(
    format: OutputFormat,
    style: Style,
    outputs: &BTreeMap<String, OutputValue>,
) -> Result<(), OutputError> {
    if format == OutputFormat::Json {
        let mut map = serde_json::Map::new();
        for (name, output) in outputs {
            let plain = output.value.clone().deep_unmark().0;
            map.insert(
                name.clone(),
                serde_json::json!({
                    "sensitive": output.sensitive,
                    "type": crate::state::format::type_to_json(&plain.type_of()),
                    "value": value_to_json(&plain)?,
                }),
            );
        }
        println!(
            "{}",
            serde_json::to_string_pretty(&serde_json::Value::Object(map))?
        );
    } else if outputs.is_empty() {
        eprintln!("{}", style.yellow("Warning: No outputs found"));
    } else {
        print!("{}", ui::render_outputs(outputs));
    }
    Ok(())
}
