//! Static evaluation of the `encryption` block: its key provider arguments may use the root
//! module's input variables (`-var`, `-var-file`, `TF_VAR_`, tfvars, defaults) and locals that
//! depend only on them, as OpenTofu allows. They are evaluated once, before any state is read,
//! into the literal settings `config::encryption::validate` and the sealers use; a reference to
//! a resource, data source, module or unknown value is an error at its location.
//!
//! Only the variables the block needs (directly or through locals) are resolved, so a `show` or
//! `state list` does not ask for the values of unrelated required variables.

use crate::config::encryption::EncryptionConfig;
use crate::config::variables::{resolve_root_variables, VarSource};
use crate::config::{Expr, Module};
use crate::diagnostics::{Diagnostic, Diagnostics, SourceMap, Span};
use crate::lang::{EvalContext, Referenceable, Scope};
use crate::value::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Mutex;

/// Where the variable values come from: the command line and the `TF_VAR_` environment.
pub struct VariableInputs<'a> {
    pub cli: &'a [VarSource],
    pub env: &'a [(String, String)],
}

/// Evaluates every key provider argument written as an expression into its setting. Errors
/// (a missing variable, a non-static reference, an unknown value) are returned located.
pub fn evaluate(
    config: &mut EncryptionConfig,
    module: &Module,
    inputs: &VariableInputs<'_>,
    sources: &mut SourceMap,
) -> Diagnostics {
    if config.key_providers.iter().all(|p| p.exprs.is_empty()) {
        return Diagnostics::new();
    }
    let needed = needed_variables(config, module);
    let variables = match resolve_needed(module, &needed, inputs, sources) {
        Ok(variables) => variables,
        Err(diagnostics) => return diagnostics,
    };
    let scope = StaticScope {
        variables: &variables,
        module,
        cache: Mutex::new(BTreeMap::new()),
        evaluating: Mutex::new(BTreeSet::new()),
    };
    let context = EvalContext {
        scope: &scope,
        module_dir: module.dir.clone(),
        plan_mode: true,
    };
    let mut diagnostics = Diagnostics::new();
    for provider in &mut config.key_providers {
        for (key, expr) in std::mem::take(&mut provider.exprs) {
            match crate::lang::eval_expr(&expr, &context) {
                Ok(value) if !value.is_wholly_known() => {
                    diagnostics.push(static_only(expr.span(), "a value known only during apply"))
                }
                Ok(value) => {
                    provider.settings.insert(key, value.deep_unmark().0);
                }
                Err(errors) => diagnostics.extend(errors),
            }
        }
    }
    diagnostics
}

/// The variables the block's expressions refer to, directly or through locals.
fn needed_variables(config: &EncryptionConfig, module: &Module) -> BTreeSet<String> {
    let mut pending: Vec<&Expr> = config
        .key_providers
        .iter()
        .flat_map(|p| p.exprs.values())
        .collect();
    let mut seen_locals = BTreeSet::new();
    let mut variables = BTreeSet::new();
    while let Some(expr) = pending.pop() {
        for reference in crate::lang::references(expr) {
            match reference.subject {
                Referenceable::Variable(name) => {
                    variables.insert(name);
                }
                Referenceable::Local(name) => {
                    if let Some(local) = module.locals.get(&name) {
                        if seen_locals.insert(name) {
                            pending.push(&local.expr);
                        }
                    }
                }
                _ => {}
            }
        }
    }
    variables
}

/// The values of the `needed` variables, gathered as for a plan; `-var` flags for other
/// variables are left for the command itself to check.
fn resolve_needed(
    module: &Module,
    needed: &BTreeSet<String>,
    inputs: &VariableInputs<'_>,
    sources: &mut SourceMap,
) -> Result<BTreeMap<String, Value>, Diagnostics> {
    let mut only_needed = Module {
        dir: module.dir.clone(),
        ..Module::default()
    };
    only_needed.variables = module
        .variables
        .iter()
        .filter(|(name, _)| needed.contains(*name))
        .map(|(name, variable)| (name.clone(), variable.clone()))
        .collect();
    let cli: Vec<VarSource> = inputs
        .cli
        .iter()
        .filter(|source| match source {
            VarSource::Flag(text) => text
                .split_once('=')
                .is_some_and(|(name, _)| needed.contains(name.trim())),
            VarSource::File(_) => true,
        })
        .cloned()
        .collect();
    resolve_root_variables(&only_needed, &module.dir, &cli, inputs.env, sources)
}

/// Variables, locals over them, and `path.*`: everything known before any resource.
struct StaticScope<'a> {
    variables: &'a BTreeMap<String, Value>,
    module: &'a Module,
    cache: Mutex<BTreeMap<String, Value>>,
    evaluating: Mutex<BTreeSet<String>>,
}

impl Scope for StaticScope<'_> {
    fn resolve(&self, subject: &Referenceable, span: Option<&Span>) -> Result<Value, Diagnostic> {
        match subject {
            Referenceable::Variable(name) => self.variables.get(name).cloned().ok_or_else(|| {
                Diagnostic::error("Reference to undeclared input variable")
                    .with_detail(format!("An input variable with the name \"{name}\" has not been declared in the root module; declare it with a `variable \"{name}\" {{}}` block."))
                    .with_span_opt(span.cloned())
            }),
            Referenceable::Local(name) => self.local(name, span),
            Referenceable::Path(which) if ["module", "root"].contains(&which.as_str()) => {
                Ok(Value::from("."))
            }
            Referenceable::Resource(_) => Err(static_only(span.cloned(), "a resource or data source")),
            Referenceable::ModuleCall(_) => Err(static_only(span.cloned(), "a module's outputs")),
            _ => Err(static_only(span.cloned(), "this reference")),
        }
    }
}

impl StaticScope<'_> {
    fn local(&self, name: &str, span: Option<&Span>) -> Result<Value, Diagnostic> {
        if let Some(value) = lock(&self.cache).get(name) {
            return Ok(value.clone());
        }
        let Some(local) = self.module.locals.get(name) else {
            return Err(Diagnostic::error("Reference to undeclared local value")
                .with_detail(format!("A local value with the name \"{name}\" has not been declared in the root module."))
                .with_span_opt(span.cloned()));
        };
        if !lock(&self.evaluating).insert(name.to_string()) {
            return Err(Diagnostic::error("Cycle in locals")
                .with_detail(format!(
                    "local.{name} refers to itself, directly or through other locals."
                ))
                .with_span_opt(span.cloned()));
        }
        let context = EvalContext {
            scope: self,
            module_dir: self.module.dir.clone(),
            plan_mode: true,
        };
        let result = crate::lang::eval_expr(&local.expr, &context);
        lock(&self.evaluating).remove(name);
        let value = result.map_err(|errors| {
            errors
                .0
                .into_iter()
                .find(Diagnostic::is_error)
                .unwrap_or_else(|| {
                    Diagnostic::error("Invalid local value").with_span(local.span.clone())
                })
        })?;
        lock(&self.cache).insert(name.to_string(), value.clone());
        Ok(value)
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// The error for a reference to something known only once resources exist.
fn static_only(span: Option<Span>, what: &str) -> Diagnostic {
    Diagnostic::error("Static value required")
        .with_detail(format!(
            "The encryption block is evaluated before any state is read, so it can use only static values: constants, input variables (-var, -var-file, TF_VAR_..., .tfvars) and locals that depend only on them, not {what}. Pass the value in an input variable instead."
        ))
        .with_span_opt(span)
}
