//! Function calls: argument evaluation and `...` expansion, delegation to
//! [`functions::call`](super::functions::call), and the three functions that need the evaluator
//! itself: `try`, `can` and `templatefile`.

use super::eval::{EvalResult, Evaluator, Mode};
use super::functions::{self, FunctionContext, FunctionError};
use super::refs::{root_reference, StaticStep, TraversalCollector};
use crate::diagnostics::{Diagnostic, Diagnostics, SourceFile, Span};
use crate::value::{convert, Type, Value};
use hcl_edit::expr::{Expression, FuncCall};
use hcl_edit::template::Template;
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, LazyLock, Mutex};

impl Evaluator<'_> {
    pub(crate) fn call(&mut self, call: &FuncCall) -> EvalResult {
        let span = self.span(call);
        let mut name = String::new();
        for part in &call.name.namespace {
            name.push_str(part.as_str());
            name.push_str("::");
        }
        name.push_str(call.name.name.as_str());
        if self.mode == Mode::Literal {
            return Err(self.error(
                "Function calls not allowed",
                "Functions may not be called here.",
                span,
            ));
        }
        let args: Vec<&Expression> = call.args.iter().collect();
        match name.as_str() {
            "try" => return self.call_try(&args, span),
            "can" => return self.call_can(&args, span),
            "templatefile" => return self.call_templatefile(&args, span),
            _ => {}
        }
        let mut values = Vec::with_capacity(args.len());
        let mut errors = Diagnostics::new();
        for arg in &args {
            match self.eval(arg) {
                Ok(value) => values.push(value),
                Err(diags) => errors.extend(diags),
            }
        }
        if errors.has_errors() {
            return Err(errors);
        }
        if call.args.expand_final() {
            let last_span = args.last().and_then(|arg| self.span(*arg));
            let (last, sensitive) = values.pop().unwrap_or(Value::Null).unmark();
            match last {
                Value::Null => {
                    return Err(self.error(
                        "Invalid expanding argument value",
                        "The expanding argument (indicated by ...) must not be null.",
                        last_span,
                    ))
                }
                Value::Unknown(_) => return Ok(Value::unknown().mark_if(sensitive)),
                Value::List(items) | Value::Tuple(items) | Value::Set(items) => {
                    values.extend(items.into_iter().map(|item| item.mark_if(sensitive)));
                }
                _ => {
                    return Err(self.error(
                        "Invalid expanding argument value",
                        "The expanding argument (indicated by ...) must be of a tuple, list, or set type.",
                        last_span,
                    ))
                }
            }
        }
        let context = self.function_context();
        functions::call(&name, values, &context)
            .map_err(|error| self.function_error(&name, error, &args, span))
    }

    fn function_context(&self) -> FunctionContext {
        FunctionContext {
            module_dir: self
                .ctx
                .map(|ctx| ctx.module_dir.clone())
                .unwrap_or_else(|| PathBuf::from(".")),
            plan_mode: self.ctx.is_some_and(|ctx| ctx.plan_mode),
        }
    }

    fn function_error(
        &self,
        name: &str,
        error: FunctionError,
        args: &[&Expression],
        span: Option<Span>,
    ) -> Diagnostics {
        let detail = error.to_string();
        let diagnostic = match &error {
            // The detail already ends with Terraform's "Did you mean …?".
            FunctionError::UnknownFunction { .. } => {
                Diagnostic::error("Call to unknown function").with_detail(detail)
            }
            FunctionError::Arity {
                expected, given, ..
            } => {
                let wanted: usize = expected
                    .split(|c: char| !c.is_ascii_digit())
                    .find(|part| !part.is_empty())
                    .and_then(|digits| digits.parse().ok())
                    .unwrap_or(0);
                let summary = if *given < wanted {
                    "Not enough function arguments"
                } else {
                    "Too many function arguments"
                };
                Diagnostic::error(summary).with_detail(detail)
            }
            FunctionError::Argument { index, .. } => {
                let argument_span = args.get(*index).and_then(|arg| self.span(*arg));
                Diagnostic::error("Invalid function argument")
                    .with_detail(detail)
                    .with_span_opt(argument_span)
            }
            FunctionError::Failed(message) => Diagnostic::error("Error in function call")
                .with_detail(format!("Call to function \"{name}\" failed: {message}.")),
        };
        diagnostic.with_span_opt(span).into()
    }

    fn arity(&self, name: &str, expected: &str, given: usize, span: Option<Span>) -> Diagnostics {
        let error = FunctionError::Arity {
            name: name.to_string(),
            expected: expected.to_string(),
            given,
        };
        self.function_error(name, error, &[], span)
    }

    /// Whether evaluating `expr` could go through an unknown value: then `try` and `can`
    /// cannot decide yet whether it fails (Terraform's `dependsOnUnknowns`).
    fn depends_on_unknown(&self, expr: &Expression) -> bool {
        let mut collector = TraversalCollector::new();
        collector.expr(expr);
        collector.traversals.iter().any(|traversal| {
            if let Some(bound) = self
                .bindings
                .iter()
                .rev()
                .find(|(name, _)| name == traversal.root)
            {
                return walk_is_unknown(&bound.1, &traversal.steps);
            }
            let (Mode::Normal, Some(ctx)) = (self.mode, self.ctx) else {
                return false;
            };
            let Ok((subject, used)) = root_reference(traversal.root, &traversal.leading_attrs())
            else {
                return false;
            };
            match ctx.scope.resolve(&subject, None) {
                Ok(value) => {
                    walk_is_unknown(&value, traversal.steps.get(used..).unwrap_or_default())
                }
                Err(_) => false,
            }
        })
    }

    fn call_try(&mut self, args: &[&Expression], span: Option<Span>) -> EvalResult {
        if args.is_empty() {
            return Err(self.arity("try", "at least 1", 0, span));
        }
        let mut failures = Diagnostics::new();
        for arg in args {
            if self.depends_on_unknown(arg) {
                return Ok(Value::unknown());
            }
            let before = self.reference_errors;
            match self.eval(arg) {
                Ok(value) => return Ok(value),
                Err(diags) if self.reference_errors > before => return Err(diags),
                Err(diags) => failures.extend(diags),
            }
        }
        let mut detail =
            String::from("Call to function \"try\" failed: no expression succeeded:\n");
        for failure in failures.iter() {
            let at = failure
                .span
                .as_ref()
                .map(|s| format!(" (at {s})"))
                .unwrap_or_default();
            detail.push_str(&format!(
                "- {}{at}\n  {}\n",
                failure.summary, failure.detail
            ));
        }
        detail.push_str("\nAt least one expression must produce a successful result.");
        Err(self.error("Error in function call", detail, span))
    }

    fn call_can(&mut self, args: &[&Expression], span: Option<Span>) -> EvalResult {
        let [arg] = args else {
            return Err(self.arity("can", "1", args.len(), span));
        };
        if self.depends_on_unknown(arg) {
            return Ok(Value::Unknown(Type::Bool));
        }
        let before = self.reference_errors;
        match self.eval(arg) {
            Ok(value) if !value.is_wholly_known() => Ok(Value::Unknown(Type::Bool)),
            Ok(_) => Ok(Value::Bool(true)),
            Err(diags) if self.reference_errors > before => Err(diags),
            Err(_) => Ok(Value::Bool(false)),
        }
    }

    fn call_templatefile(&mut self, args: &[&Expression], span: Option<Span>) -> EvalResult {
        if self.mode == Mode::TemplateOnly {
            return Err(self.error(
                "Error in function call",
                "Call to function \"templatefile\" failed: cannot recursively call templatefile from inside templatefile call.",
                span,
            ));
        }
        let [path_expr, vars_expr] = args else {
            return Err(self.arity("templatefile", "2", args.len(), span));
        };
        let path = self.eval(path_expr);
        let vars = self.eval(vars_expr);
        let (path, vars) = match (path, vars) {
            (Ok(path), Ok(vars)) => (path, vars),
            (path, vars) => {
                let mut errors = Diagnostics::new();
                errors.extend(path.err().unwrap_or_default());
                errors.extend(vars.err().unwrap_or_default());
                return Err(errors);
            }
        };
        let invalid = |parameter: &str, message: String, at: &Expression| {
            Diagnostic::error("Invalid function argument")
                .with_detail(format!(
                    "Invalid value for \"{parameter}\" parameter: {message}."
                ))
                .with_span_opt(self.span(at))
                .with_span_opt(span.clone())
        };
        let (path, path_sensitive) = path.unmark();
        let (vars, vars_sensitive) = vars.unmark();
        let sensitive = path_sensitive || vars_sensitive;
        let path = match path {
            Value::Unknown(_) => return Ok(Value::unknown().mark_if(sensitive)),
            Value::Null => {
                return Err(invalid("path", "argument must not be null".into(), path_expr).into())
            }
            other => match convert(other, &Type::String) {
                Ok(Value::String(path)) => path,
                _ => return Err(invalid("path", "string required".into(), path_expr).into()),
            },
        };
        let entries = match vars {
            Value::Unknown(_) => return Ok(Value::unknown().mark_if(sensitive)),
            Value::Null => {
                return Err(invalid("vars", "argument must not be null".into(), vars_expr).into())
            }
            Value::Map(entries) | Value::Object(entries) => entries,
            _ => {
                return Err(invalid(
                    "vars",
                    "invalid vars value: must be a map".into(),
                    vars_expr,
                )
                .into())
            }
        };
        for name in entries.keys() {
            if !is_identifier(name) {
                return Err(invalid(
                    "vars",
                    format!("invalid template variable name \"{name}\": must start with a letter, followed by zero or more letters, digits, and underscores"),
                    vars_expr,
                )
                .into());
            }
        }
        let full_path = self.function_context().module_dir.join(&path);
        let text = match std::fs::read_to_string(&full_path) {
            Ok(text) => text,
            Err(_) => {
                return Err(invalid(
                    "path",
                    format!("no file exists at \"{path}\"; this function works only with files that are distributed as part of the configuration source code, so if this file will be created by a resource in this configuration you must instead obtain this result from an attribute of that resource"),
                    path_expr,
                )
                .into())
            }
        };
        let template = match parse_template_cached(&text) {
            Ok(template) => template,
            Err(error) => {
                return Err(self.error(
                    "Error in function call",
                    format!("Call to function \"templatefile\" failed: failed to parse template {path}: {error}."),
                    span,
                ))
            }
        };
        let file = Arc::new(SourceFile::new(full_path.display().to_string(), text));
        let mut inner = Evaluator::new(self.ctx, file, Mode::TemplateOnly);
        inner.bindings = entries.into_iter().collect();
        let value = inner.template_value(&template, true)?;
        Ok(value.mark_if(sensitive))
    }
}

/// Parses a template file's text, remembering the result: a `templatefile` call in a resource
/// with `count = 1000` reads the same file a thousand times, and parsing costs more than
/// evaluating. Keyed by the text itself, so a changed file is parsed again.
fn parse_template_cached(text: &str) -> Result<Arc<Template>, hcl_edit::parser::Error> {
    static CACHE: LazyLock<Mutex<HashMap<String, Arc<Template>>>> = LazyLock::new(Mutex::default);
    if let Some(template) = CACHE.lock().ok().and_then(|cache| cache.get(text).cloned()) {
        return Ok(template);
    }
    let template = Arc::new(hcl_edit::parser::parse_template(text)?);
    if let Ok(mut cache) = CACHE.lock() {
        // Bounded: a run reads a handful of template files.
        if cache.len() >= 256 {
            cache.clear();
        }
        cache.insert(text.to_string(), template.clone());
    }
    Ok(template)
}

/// Whether the static steps from `value` reach an unknown, or a value with unknowns inside.
/// A step that fails counts as not unknown: evaluation will report it.
fn walk_is_unknown(value: &Value, steps: &[StaticStep<'_>]) -> bool {
    let mut current = value;
    for step in steps {
        current = current.unmarked();
        if current.is_unknown() {
            return true;
        }
        let next = match step {
            StaticStep::Attr(name) => current.get_attr(name),
            StaticStep::Index(key) => match current {
                Value::List(items) | Value::Tuple(items) => key
                    .as_number()
                    .and_then(|n| n.to_i64())
                    .and_then(|i| usize::try_from(i).ok())
                    .and_then(|i| items.get(i)),
                Value::Map(entries) | Value::Object(entries) => match key {
                    Value::String(name) => entries.get(name),
                    Value::Number(n) => entries.get(&n.to_string()),
                    _ => None,
                },
                _ => None,
            },
        };
        match next {
            Some(next) => current = next,
            None => return false,
        }
    }
    !current.is_wholly_known()
}

fn is_identifier(name: &str) -> bool {
    let mut chars = name.chars();
    chars.next().is_some_and(|c| c.is_alphabetic() || c == '_')
        && chars.all(|c| c.is_alphanumeric() || c == '_' || c == '-')
}
