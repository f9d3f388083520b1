//! Variable values of the root module, from `terraform.tfvars`, `*.auto.tfvars`, `-var-file`,
//! `-var` and the environment, with Terraform's precedence; converted to each variable's type,
//! defaulted, marked sensitive and checked by its validation rules.
//!
//! Precedence, lowest first (a later source overrides an earlier one):
//! 1. `TF_VAR_<name>`, then `STRATA_VAR_<name>` environment variables;
//! 2. `terraform.tfvars`, then `terraform.tfvars.json`;
//! 3. `*.auto.tfvars` and `*.auto.tfvars.json`, in lexical order of their names;
//! 4. `-var-file=…` and `-var 'name=value'`, in command-line order.
//!
//! As in Terraform, a value given as text (environment, `-var`) is taken as a string when the
//! variable's type is primitive or not given, and parsed as an HCL expression otherwise.

use super::literal::literal_value;
use super::load::{display_path, parse_file};
use super::{Module, Variable};
use crate::diagnostics::{did_you_mean, Diagnostic, Diagnostics, SourceFile, SourceMap, Span};
use crate::lang::{EvalContext, Referenceable, Scope};
use crate::value::{convert, value_from_json, Type, Value};
use hcl_edit::structure::Structure;
use hcl_edit::Span as _;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// A variable source given on the command line, in the order given.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum VarSource {
    /// `-var-file=PATH`
    File(PathBuf),
    /// `-var 'NAME=VALUE'` (the text after `-var`)
    Flag(String),
}

/// Where a value was given, for error messages.
#[derive(Clone, Debug)]
enum Origin {
    Environment(String),
    File(Option<Span>),
    Flag,
}

impl Origin {
    fn span(&self) -> Option<Span> {
        match self {
            Origin::File(span) => span.clone(),
            _ => None,
        }
    }

    fn describe(&self, name: &str) -> String {
        match self {
            Origin::Environment(variable) => format!("the environment variable {variable}"),
            Origin::File(Some(span)) => format!("{}:{}", span.file, span.start.line),
            Origin::File(None) => "a variables file".to_string(),
            Origin::Flag => format!("the command-line option -var \"{name}=...\""),
        }
    }
}

#[derive(Clone, Debug)]
enum RawKind {
    /// Text from the environment or `-var`, to be read according to the variable's type.
    Text(String),
    /// A value from a variables file.
    Parsed(Value),
}

#[derive(Clone, Debug)]
struct RawValue {
    kind: RawKind,
    origin: Origin,
}

/// Every raw value given for the root module's variables, the last given winning.
struct Gathered {
    values: BTreeMap<String, RawValue>,
    diagnostics: Diagnostics,
}

/// The root module's variable values: every declared variable, converted to its type, with
/// defaults applied and sensitive ones marked. Warnings are dropped; use
/// [`resolve_root_variables_with_warnings`] to get them.
pub fn resolve_root_variables(
    module: &Module,
    dir: &Path,
    cli: &[VarSource],
    env: &[(String, String)],
    sources: &mut SourceMap,
) -> Result<BTreeMap<String, Value>, Diagnostics> {
    resolve_root_variables_with_warnings(module, dir, cli, env, sources).map(|(values, _)| values)
}

/// [`resolve_root_variables`], also returning the warnings (values for undeclared variables in
/// files).
pub fn resolve_root_variables_with_warnings(
    module: &Module,
    dir: &Path,
    cli: &[VarSource],
    env: &[(String, String)],
    sources: &mut SourceMap,
) -> Result<(BTreeMap<String, Value>, Diagnostics), Diagnostics> {
    let Gathered {
        values: raw_values,
        mut diagnostics,
    } = gather(module, dir, cli, env, sources);
    let mut values = BTreeMap::new();
    for (name, variable) in &module.variables {
        let value = match raw_values.get(name) {
            Some(raw) => match finish_value(variable, raw, sources, &mut diagnostics) {
                Some(value) => value,
                None => continue,
            },
            None => match &variable.default {
                Some(default) => default.clone(),
                None => {
                    diagnostics.push(missing_variable_error(variable));
                    continue;
                }
            },
        };
        let value = value.mark_if(variable.sensitive);
        if check_validations(
            variable,
            &value,
            raw_values.get(name),
            dir,
            &mut diagnostics,
        ) {
            values.insert(name.clone(), value);
        }
    }
    if diagnostics.has_errors() {
        return Err(diagnostics);
    }
    Ok((values, diagnostics))
}

/// The names of required variables (no default) that no source gives a value for, in
/// declaration order, so the CLI can prompt for them on a terminal (and pass the answers back
/// as [`VarSource::Flag`]s).
pub fn missing_required(
    module: &Module,
    dir: &Path,
    cli: &[VarSource],
    env: &[(String, String)],
    sources: &mut SourceMap,
) -> Vec<String> {
    let gathered = gather(module, dir, cli, env, sources);
    module
        .variables
        .values()
        .filter(|variable| {
            variable.default.is_none() && !gathered.values.contains_key(&variable.name)
        })
        .map(|variable| variable.name.clone())
        .collect()
}

fn missing_variable_error(variable: &Variable) -> Diagnostic {
    let name = &variable.name;
    Diagnostic::error(format!("No value for required variable \"{name}\""))
        .with_detail(format!(
            "The root module input variable \"{name}\" is not set, and has no default value."
        ))
        .with_help(format!(
            "Use a -var or -var-file command line argument, or set a TF_VAR_{name} environment variable, to provide a value for this variable."
        ))
        .with_span(variable.span.clone())
}

fn gather(
    module: &Module,
    dir: &Path,
    cli: &[VarSource],
    env: &[(String, String)],
    sources: &mut SourceMap,
) -> Gathered {
    let mut gathered = Gathered {
        values: BTreeMap::new(),
        diagnostics: Diagnostics::new(),
    };
    // The environment: undeclared names are ignored (the environment holds values for many
    // configurations), and STRATA_VAR_ is applied after TF_VAR_ so it wins.
    for prefix in ["TF_VAR_", "STRATA_VAR_"] {
        for (key, text) in env {
            if let Some(name) = key.strip_prefix(prefix) {
                if module.variables.contains_key(name) {
                    gathered.values.insert(
                        name.to_string(),
                        RawValue {
                            kind: RawKind::Text(text.clone()),
                            origin: Origin::Environment(key.clone()),
                        },
                    );
                }
            }
        }
    }
    for name in ["terraform.tfvars", "terraform.tfvars.json"] {
        let path = dir.join(name);
        if path.is_file() {
            read_var_file(module, &path, sources, &mut gathered);
        }
    }
    let mut auto_files: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .filter_map(Result::ok)
                .map(|entry| entry.path())
                .filter(|path| {
                    let name = path
                        .file_name()
                        .map(|n| n.to_string_lossy().to_string())
                        .unwrap_or_default();
                    path.is_file()
                        && (name.ends_with(".auto.tfvars") || name.ends_with(".auto.tfvars.json"))
                })
                .collect()
        })
        .unwrap_or_default();
    auto_files.sort_by_key(|path| path.file_name().map(|n| n.to_os_string()));
    for path in auto_files {
        read_var_file(module, &path, sources, &mut gathered);
    }
    for source in cli {
        match source {
            VarSource::File(path) => {
                if path.is_file() {
                    read_var_file(module, path, sources, &mut gathered);
                } else {
                    gathered.diagnostics.push(
                        Diagnostic::error("Failed to read variables file").with_detail(format!(
                            "Given variables file `{}` does not exist.",
                            display_path(path)
                        )),
                    );
                }
            }
            VarSource::Flag(text) => {
                let Some((name, value)) = text.split_once('=') else {
                    gathered.diagnostics.push(
                        Diagnostic::error("Invalid -var option")
                            .with_detail(format!(
                                "The given -var option \"{text}\" is not correctly specified. It must be a variable name and value separated by an equals sign, like -var=\"key=value\"."
                            )),
                    );
                    continue;
                };
                let name = name.trim();
                if !module.variables.contains_key(name) {
                    gathered.diagnostics.push(undeclared(
                        module,
                        name,
                        "the command line (-var)",
                        None,
                        true,
                    ));
                    continue;
                }
                gathered.values.insert(
                    name.to_string(),
                    RawValue {
                        kind: RawKind::Text(value.to_string()),
                        origin: Origin::Flag,
                    },
                );
            }
        }
    }
    gathered
}

fn undeclared(
    module: &Module,
    name: &str,
    given_in: &str,
    span: Option<Span>,
    is_error: bool,
) -> Diagnostic {
    let summary = "Value for undeclared variable";
    let detail = format!(
        "A value for a variable named \"{name}\" was given in {given_in}, but the root module does not declare a variable of that name. To use this value, add a \"variable\" block to the configuration."
    );
    if is_error {
        Diagnostic::error(summary)
    } else {
        Diagnostic::warning(summary)
    }
    .with_detail(detail)
    .with_span_opt(span)
    .with_suggestion(did_you_mean(
        name,
        module.variables.keys().map(String::as_str),
    ))
}

fn read_var_file(module: &Module, path: &Path, sources: &mut SourceMap, gathered: &mut Gathered) {
    let name = display_path(path);
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(error) => {
            gathered.diagnostics.push(
                Diagnostic::error("Failed to read variables file")
                    .with_detail(format!("Cannot read `{name}`: {error}.")),
            );
            return;
        }
    };
    if name.ends_with(".json") {
        read_json_var_file(module, &name, &text, sources, gathered);
        return;
    }
    let (file, body) = match parse_file(&name, &text, sources) {
        Ok(parsed) => parsed,
        Err(error) => {
            gathered.diagnostics.push(error);
            return;
        }
    };
    for structure in body.iter() {
        match structure {
            Structure::Attribute(attribute) => {
                let variable = attribute.key.as_str();
                let key_span = attribute.key.span().map(|range| file.span(range));
                if !module.variables.contains_key(variable) {
                    gathered.diagnostics.push(undeclared(
                        module,
                        variable,
                        &format!("the file {name}"),
                        key_span,
                        false,
                    ));
                    continue;
                }
                match literal_value(&attribute.value, &file) {
                    Ok(value) => {
                        let span = attribute.value.span().map(|range| file.span(range));
                        gathered.values.insert(
                            variable.to_string(),
                            RawValue {
                                kind: RawKind::Parsed(value),
                                origin: Origin::File(span),
                            },
                        );
                    }
                    Err(errors) => gathered.diagnostics.extend(errors),
                }
            }
            Structure::Block(block) => gathered.diagnostics.push(
                Diagnostic::error("Unexpected block in variables file")
                    .with_detail(
                        "A variables file holds only assignments, like `region = \"eu-west-1\"`.",
                    )
                    .with_span_opt(block.ident.span().map(|range| file.span(range))),
            ),
        }
    }
}

fn read_json_var_file(
    module: &Module,
    name: &str,
    text: &str,
    sources: &mut SourceMap,
    gathered: &mut Gathered,
) {
    let file = Arc::new(SourceFile::new(name, text));
    sources.add(file.clone());
    // The scanner keeps where each property is (serde_json's value does not).
    let scanned = match super::json_scan::parse(text) {
        Ok(scanned) => scanned,
        Err(error) => {
            gathered.diagnostics.push(
                Diagnostic::error("Invalid JSON in variables file")
                    .with_detail(format!("{error}."))
                    .with_span(file.span(error.offset..error.offset)),
            );
            return;
        }
    };
    let json: serde_json::Value = match serde_json::from_str(text) {
        Ok(json) => json,
        Err(error) => {
            gathered.diagnostics.push(
                Diagnostic::error("Invalid JSON in variables file")
                    .with_detail(error.to_string())
                    .with_span(file.span(0..0)),
            );
            return;
        }
    };
    let serde_json::Value::Object(entries) = json else {
        gathered.diagnostics.push(
            Diagnostic::error("Invalid variables file")
                .with_detail(
                    "A JSON variables file holds one object, from variable names to values.",
                )
                .with_span(file.span(scanned.span.clone())),
        );
        return;
    };
    let key_spans: BTreeMap<&str, std::ops::Range<usize>> = match &scanned.kind {
        super::json_scan::JsonKind::Object(properties) => properties
            .iter()
            .map(|property| (property.name.as_str(), property.name_span.clone()))
            .collect(),
        _ => BTreeMap::new(),
    };
    for (variable, json_value) in &entries {
        let span = key_spans
            .get(variable.as_str())
            .map(|range| file.span(range.clone()));
        if !module.variables.contains_key(variable) {
            gathered.diagnostics.push(undeclared(
                module,
                variable,
                &format!("the file {name}"),
                span,
                false,
            ));
            continue;
        }
        match value_from_json(json_value, None) {
            Ok(value) => {
                gathered.values.insert(
                    variable.clone(),
                    RawValue {
                        kind: RawKind::Parsed(value),
                        origin: Origin::File(span),
                    },
                );
            }
            Err(error) => gathered.diagnostics.push(
                Diagnostic::error("Invalid value in variables file")
                    .with_detail(error.to_string())
                    .with_span_opt(span),
            ),
        }
    }
}

/// Reads a raw value as the variable's type says, converts it and applies `nullable`.
fn finish_value(
    variable: &Variable,
    raw: &RawValue,
    sources: &mut SourceMap,
    diagnostics: &mut Diagnostics,
) -> Option<Value> {
    let ty = variable.ty.clone().unwrap_or(Type::Any);
    let value = match &raw.kind {
        RawKind::Parsed(value) => value.clone(),
        RawKind::Text(text) if variable.ty.as_ref().is_none_or(Type::is_primitive) => {
            Value::String(text.clone())
        }
        RawKind::Text(text) => {
            // Parsed as an HCL expression, in a pseudo-file named as Terraform names it.
            let name = format!("<value for var.{}>", variable.name);
            let file = Arc::new(SourceFile::new(name.as_str(), text.as_str()));
            sources.add(file.clone());
            let parsed = match hcl_edit::parser::parse_expr(text) {
                Ok(expression) => literal_value(&expression, &file),
                Err(error) => {
                    let offset = error.location().offset().min(text.len());
                    Err(Diagnostic::error("Invalid expression for variable")
                        .with_detail(format!(
                            "The value given for var.{} by {} must be an HCL expression for a {} variable: {}.",
                            variable.name,
                            raw.origin.describe(&variable.name),
                            ty.expression(),
                            error.message().trim()
                        ))
                        .with_span(file.span(offset..offset))
                        .into())
                }
            };
            match parsed {
                Ok(value) => value,
                Err(errors) => {
                    diagnostics.extend(errors);
                    return None;
                }
            }
        }
    };
    if value.is_null() {
        if variable.nullable {
            return Some(Value::Null);
        }
        // A non-nullable variable given null takes its default, as in Terraform.
        if let Some(default) = &variable.default {
            return Some(default.clone());
        }
        diagnostics.push(
            Diagnostic::error("Required variable not set")
                .with_detail(format!(
                    "The given value for var.{} (from {}) is null, but the variable is not nullable.",
                    variable.name,
                    raw.origin.describe(&variable.name)
                ))
                .with_span(raw.origin.span().unwrap_or_else(|| variable.span.clone())),
        );
        return None;
    }
    let got = value.friendly_type_name();
    match convert(value, &ty) {
        Ok(converted) => Some(converted),
        Err(error) => {
            // A conversion error may quote the value; a sensitive value is never shown.
            let reason = if variable.sensitive {
                String::new()
            } else {
                format!("{error}; ")
            };
            diagnostics.push(
                Diagnostic::error("Invalid value for input variable")
                    .with_detail(format!(
                        "The value given for var.{} by {} is not suitable for its type: {reason}expected {}, got {got}.",
                        variable.name,
                        raw.origin.describe(&variable.name),
                        ty.expression(),
                    ))
                    .with_span(raw.origin.span().unwrap_or_else(|| variable.span.clone())),
            );
            None
        }
    }
}

/// A scope in which only `var.<name>` exists: what a validation condition may refer to.
struct VariableScope<'a> {
    name: &'a str,
    value: &'a Value,
}

impl Scope for VariableScope<'_> {
    fn resolve(&self, subject: &Referenceable, span: Option<&Span>) -> Result<Value, Diagnostic> {
        match subject {
            Referenceable::Variable(name) if name == self.name => Ok(self.value.clone()),
            _ => Err(Diagnostic::error("Invalid reference in variable validation")
                .with_detail(format!(
                    "The condition for variable \"{}\" can only refer to the variable itself, using var.{}.",
                    self.name, self.name
                ))
                .with_span_opt(span.cloned())),
        }
    }
}

/// Runs the variable's validation rules; false when one failed (errors pushed).
fn check_validations(
    variable: &Variable,
    value: &Value,
    raw: Option<&RawValue>,
    dir: &Path,
    diagnostics: &mut Diagnostics,
) -> bool {
    let scope = VariableScope {
        name: &variable.name,
        value,
    };
    let context = EvalContext {
        scope: &scope,
        module_dir: dir.to_path_buf(),
        plan_mode: true,
    };
    let mut valid = true;
    for rule in &variable.validations {
        let result = match crate::lang::eval_expr(&rule.condition, &context) {
            Ok(result) => result,
            Err(errors) => {
                diagnostics.extend(errors);
                valid = false;
                continue;
            }
        };
        // An unknown result cannot be checked before apply.
        if result.is_unknown() {
            continue;
        }
        match result.unmarked() {
            Value::Bool(true) => {}
            Value::Bool(false) => {
                valid = false;
                let message = match crate::lang::eval_expr(&rule.error_message, &context) {
                    Ok(Value::String(message)) => message,
                    Ok(Value::Sensitive(_)) => {
                        "The error message included a sensitive value, so it will not be displayed."
                            .to_string()
                    }
                    Ok(_) => "(the error_message is not a string)".to_string(),
                    Err(errors) => {
                        diagnostics.extend(errors);
                        continue;
                    }
                };
                let span = raw
                    .and_then(|raw| raw.origin.span())
                    .or_else(|| rule.condition.span())
                    .unwrap_or_else(|| rule.span.clone());
                diagnostics.push(
                    Diagnostic::error("Invalid value for variable")
                        .with_detail(format!(
                            "{message}\n\nThis was checked by the validation rule at {}:{}.",
                            rule.span.file, rule.span.start.line
                        ))
                        .with_span(span),
                );
            }
            _ => {
                valid = false;
                diagnostics.push(
                    Diagnostic::error("Invalid validation result")
                        .with_detail(format!(
                            "The condition of a validation rule of var.{} must be a bool, not {}.",
                            variable.name,
                            result.friendly_type_name()
                        ))
                        .with_span_opt(rule.condition.span()),
                );
            }
        }
    }
    valid
}
