//! Terraform's built-in functions, with Terraform's behaviour and error wording.
//!
//! [`call`] takes already-evaluated arguments. Arguments may be unknown (the result is then
//! unknown, of the right type) or sensitive (the result is then sensitive). `try`, `can` and
//! `templatefile` need the evaluator and live there ([`crate::lang`]).
//!
//! Every function is described by a `FunctionSpec` in one table: its parameters (name, type
//! the argument is converted to, and whether it accepts null, unknown or sensitive values), an
//! optional variadic parameter, the type of its result when it can only say "unknown", and the
//! implementation. [`call`] does what Terraform's function machinery (cty's `function.Call`)
//! does around every implementation, so the implementations only see arguments they accept:
//!
//! 1. arity is checked;
//! 2. sensitive marks are removed (deeply, unless the parameter handles them) and remembered;
//! 3. nulls are rejected where the parameter does not accept them;
//! 4. each argument is converted to its parameter's type;
//! 5. an unknown argument where the parameter does not accept one makes the result unknown;
//! 6. the result is marked sensitive if any argument was.
//!
//! Step 5 looks only at the argument itself, as cty does: a list whose *elements* are unknown
//! reaches the implementation, which decides (`length` counts it, `jsonencode` gives up).
//! Parameters that accept marks see the elements' own marks and pass them through (`concat`
//! of `[sensitive("a")]` keeps just that element sensitive).
//!
//! Errors never show a sensitive value: any text of one is replaced by `(sensitive value)`.
//!
//! The families live in submodules, each with a `functions()` list that feeds the table:
//! `numeric`, `string` and `format`, `collection`, `encoding`, `filesystem`,
//! `hash`, `network`, `types` (conversions, `type`, sensitivity) and `time`. Besides
//! the functions issue 3 lists, the table has some that configurations commonly use:
//! `strcontains`, `sha512`, `base64sha256`, `base64sha512`, `filebase64`, `filemd5`,
//! `filesha1`, `filesha256`, `filesha512`, `filebase64sha256`, `filebase64sha512`, `timeadd`,
//! `timecmp`, `issensitive`, `csvdecode`, and `list`/`map` (which fail with Terraform's
//! "deprecated in v0.12" message).

mod collection;
mod encoding;
pub(crate) mod filesystem;
mod format;
mod hash;
mod network;
mod numeric;
mod string;
mod text;
mod time;
mod types;
mod yaml;

use crate::diagnostics::did_you_mean;
use crate::value::{convert, Number, Type, Value};
use bigdecimal::{BigDecimal, ToPrimitive};
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::LazyLock;

/// What a function call may need besides its arguments.
#[derive(Clone, Debug)]
pub struct FunctionContext {
    /// The calling module's directory (`path.module`), against which file functions resolve
    /// relative paths.
    pub module_dir: PathBuf,
    /// During plan, `uuid()` and `timestamp()` return unknown values.
    pub plan_mode: bool,
}

/// Why a call failed.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum FunctionError {
    /// No function of that name; `suggestion` is the closest name, if any is close.
    #[error("There is no function named \"{name}\".{}", suggestion.as_ref().map(|s| format!(" Did you mean \"{s}\"?")).unwrap_or_default())]
    UnknownFunction {
        name: String,
        suggestion: Option<String>,
    },
    /// Wrong number of arguments.
    #[error("Function \"{name}\" expects {expected} argument(s), but {given} were given.")]
    Arity {
        name: String,
        expected: String,
        given: usize,
    },
    /// An argument is not acceptable; `index` is 0-based. The message ends without a period;
    /// the display adds one, as Terraform's diagnostics do.
    #[error("Invalid value for \"{param}\" parameter: {message}.")]
    Argument {
        index: usize,
        param: String,
        message: String,
    },
    /// The call failed for another reason. The message has no trailing period; a diagnostic
    /// says `Call to function "cidrsubnet" failed: {message}.`, as Terraform does.
    #[error("{0}")]
    Failed(String),
}

/// Names the evaluator implements itself; listed here only so that a misspelling of one gets
/// a suggestion.
const EVALUATOR_FUNCTIONS: &[&str] = &["can", "templatefile", "try"];

/// Calls function `name` with `args`.
pub fn call(name: &str, args: Vec<Value>, ctx: &FunctionContext) -> Result<Value, FunctionError> {
    let spec = TABLE.get(name).ok_or_else(|| unknown_function(name))?;
    spec.check_arity(args.len())?;

    if spec.handles_marks {
        return (spec.implementation)(args, ctx).map_err(|error| spec.finish_error(error, &[]));
    }

    let mut secrets = Vec::new();
    for arg in &args {
        collect_secrets(arg, false, &mut secrets);
    }
    // Longest first, so a secret that contains another is replaced whole.
    secrets.sort_by_key(|secret: &String| std::cmp::Reverse(secret.len()));

    let mut sensitive = false;
    let mut unknown = false;
    let mut prepared = Vec::with_capacity(args.len());
    for (index, arg) in args.into_iter().enumerate() {
        let param = spec.param(index);
        let arg = if param.allow_marked {
            let (inner, was_sensitive) = arg.unmark();
            sensitive |= was_sensitive;
            inner
        } else if arg.contains_sensitive() {
            sensitive = true;
            arg.deep_unmark().0
        } else {
            arg
        };
        if arg.is_null() {
            if !param.allow_null {
                let error = arg_error(index, "argument must not be null");
                return Err(spec.finish_error(error, &secrets));
            }
            prepared.push(arg);
            continue;
        }
        let arg = if matches!(param.ty, Type::Any) {
            arg
        } else if let Value::Unknown(known_type) = &arg {
            // Keep what is known of an unknown's type (`list(string)` stays that when the
            // parameter asks for `list(any)`).
            Value::Unknown(refine(known_type, &param.ty))
        } else {
            match convert(arg, &param.ty) {
                Ok(converted) => converted,
                Err(error) => {
                    return Err(spec.finish_error(
                        arg_error(index, conversion_message(&error.message)),
                        &secrets,
                    ));
                }
            }
        };
        if arg.is_unknown() && !param.allow_unknown {
            unknown = true;
        }
        prepared.push(arg);
    }
    if unknown {
        return Ok(Value::Unknown((spec.result)(&prepared)).mark_if(sensitive));
    }
    match (spec.implementation)(prepared, ctx) {
        Ok(value) => Ok(value.mark_if(sensitive)),
        Err(error) => Err(spec.finish_error(error, &secrets)),
    }
}

/// Whether a function of that name exists (among those [`call`] implements).
pub fn exists(name: &str) -> bool {
    TABLE.contains_key(name)
}

/// The names of every function [`call`] implements, sorted.
pub fn names() -> Vec<&'static str> {
    TABLE.keys().copied().collect()
}

/// A conversion failure as Terraform words it for a function argument: the requirement only
/// (`a number is required`, `list of string required`), without the value or what it was.
fn conversion_message(message: &str) -> String {
    let short = message.split(';').next().unwrap_or(message);
    short.split(", but got").next().unwrap_or(short).to_string()
}

fn unknown_function(name: &str) -> FunctionError {
    let mut names: Vec<&str> = TABLE
        .keys()
        .copied()
        .chain(EVALUATOR_FUNCTIONS.iter().copied())
        .collect();
    names.sort_unstable();
    let suggestion = did_you_mean(name, names).map(str::to_string);
    FunctionError::UnknownFunction {
        name: name.to_string(),
        suggestion,
    }
}

/// Collects the text of every sensitive leaf value, so error messages can be scrubbed of them.
fn collect_secrets(value: &Value, inside_sensitive: bool, secrets: &mut Vec<String>) {
    match value {
        Value::Sensitive(inner) => collect_secrets(inner, true, secrets),
        Value::List(items) | Value::Tuple(items) | Value::Set(items) => {
            for item in items {
                collect_secrets(item, inside_sensitive, secrets);
            }
        }
        Value::Map(items) | Value::Object(items) => {
            for (key, item) in items {
                if inside_sensitive && !key.is_empty() {
                    secrets.push(key.clone());
                }
                collect_secrets(item, inside_sensitive, secrets);
            }
        }
        Value::String(text) if inside_sensitive && !text.is_empty() => secrets.push(text.clone()),
        Value::Number(number) if inside_sensitive => secrets.push(number.to_string()),
        _ => {}
    }
}

fn redact(message: String, secrets: &[String]) -> String {
    let mut message = message;
    for secret in secrets {
        if message.contains(secret.as_str()) {
            message = message.replace(secret.as_str(), "(sensitive value)");
        }
    }
    message
}

/// The implementation of one function: takes the prepared arguments.
pub(crate) type Implementation = fn(Vec<Value>, &FunctionContext) -> Result<Value, FunctionError>;

/// The type of a function's result given its (prepared) arguments, used when an unknown
/// argument makes the result unknown.
pub(crate) type ResultType = fn(&[Value]) -> Type;

/// One parameter of a function.
#[derive(Clone, Debug)]
pub(crate) struct Param {
    pub name: &'static str,
    /// The type the argument is converted to; [`Type::Any`] passes it through.
    pub ty: Type,
    pub allow_null: bool,
    pub allow_unknown: bool,
    /// Only the top-level sensitive mark is removed (and put on the result); marks inside the
    /// value reach the implementation, which passes them through.
    pub allow_marked: bool,
}

impl Param {
    pub fn new(name: &'static str, ty: Type) -> Param {
        Param {
            name,
            ty,
            allow_null: false,
            allow_unknown: false,
            allow_marked: false,
        }
    }

    pub fn any(name: &'static str) -> Param {
        Param::new(name, Type::Any)
    }

    pub fn allow_null(mut self) -> Param {
        self.allow_null = true;
        self
    }

    pub fn allow_unknown(mut self) -> Param {
        self.allow_unknown = true;
        self
    }

    pub fn allow_marked(mut self) -> Param {
        self.allow_marked = true;
        self
    }
}

/// A function: its name, parameters, result type and implementation.
pub(crate) struct FunctionSpec {
    pub name: &'static str,
    pub params: Vec<Param>,
    pub variadic: Option<Param>,
    pub result: ResultType,
    pub implementation: Implementation,
    /// The implementation sees the arguments exactly as given (no unmarking, conversion or
    /// unknown short-cut): `sensitive` and `nonsensitive`.
    pub handles_marks: bool,
}

impl FunctionSpec {
    pub fn new(
        name: &'static str,
        params: Vec<Param>,
        result: ResultType,
        implementation: Implementation,
    ) -> FunctionSpec {
        FunctionSpec {
            name,
            params,
            variadic: None,
            result,
            implementation,
            handles_marks: false,
        }
    }

    pub fn variadic(mut self, param: Param) -> FunctionSpec {
        self.variadic = Some(param);
        self
    }

    pub fn handles_marks(mut self) -> FunctionSpec {
        self.handles_marks = true;
        self
    }

    /// The parameter argument `index` binds to. check_arity guarantees there is one; the
    /// fallback only keeps this total.
    fn param(&self, index: usize) -> &Param {
        static FALLBACK: LazyLock<Param> = LazyLock::new(|| Param::any(""));
        self.params
            .get(index)
            .or(self.variadic.as_ref())
            .unwrap_or(&FALLBACK)
    }

    fn param_name(&self, index: usize) -> &'static str {
        match self.params.get(index) {
            Some(param) => param.name,
            None => self.variadic.as_ref().map(|p| p.name).unwrap_or(""),
        }
    }

    fn check_arity(&self, given: usize) -> Result<(), FunctionError> {
        let fixed = self.params.len();
        let ok = if self.variadic.is_some() {
            given >= fixed
        } else {
            given == fixed
        };
        if ok {
            return Ok(());
        }
        let expected = if self.variadic.is_some() {
            format!("at least {fixed}")
        } else {
            fixed.to_string()
        };
        Err(FunctionError::Arity {
            name: self.name.to_string(),
            expected,
            given,
        })
    }

    /// Fills in the parameter name and scrubs sensitive text.
    fn finish_error(&self, error: FunctionError, secrets: &[String]) -> FunctionError {
        match error {
            FunctionError::Argument {
                index,
                param,
                message,
            } => FunctionError::Argument {
                index,
                param: if param.is_empty() {
                    self.param_name(index).to_string()
                } else {
                    param
                },
                message: redact(message, secrets),
            },
            FunctionError::Failed(message) => {
                FunctionError::Failed(redact(message.trim_end_matches('.').to_string(), secrets))
            }
            other => other,
        }
    }
}

static TABLE: LazyLock<BTreeMap<&'static str, FunctionSpec>> = LazyLock::new(|| {
    let mut table = BTreeMap::new();
    let families = [
        numeric::functions(),
        string::functions(),
        format::functions(),
        collection::functions(),
        encoding::functions(),
        filesystem::functions(),
        hash::functions(),
        network::functions(),
        types::functions(),
        time::functions(),
    ];
    for family in families {
        for spec in family {
            table.insert(spec.name, spec);
        }
    }
    table
});

// ---------------------------------------------------------------------------------------------
// Helpers shared by the families.

/// An error about argument `index`; the parameter name is filled in by [`call`].
pub(crate) fn arg_error(index: usize, message: impl Into<String>) -> FunctionError {
    FunctionError::Argument {
        index,
        param: String::new(),
        message: message.into(),
    }
}

/// A failure not tied to one argument (shown as `Call to function "name" failed: ...`).
pub(crate) fn failed(message: impl Into<String>) -> FunctionError {
    FunctionError::Failed(message.into())
}

/// The message Terraform gives when a number must fit a whole-number parameter.
pub(crate) const WHOLE_NUMBER: &str =
    "value must be a whole number, between -9223372036854775808 and 9223372036854775807";

/// A number as a whole `i64`, or Terraform's message.
pub(crate) fn whole_number(value: &Value) -> Result<i64, String> {
    value
        .as_number()
        .and_then(Number::to_i64)
        .ok_or_else(|| WHOLE_NUMBER.to_string())
}

/// A number as a whole `i128` (for addresses and big counts).
pub(crate) fn whole_number_i128(number: &Number) -> Option<i128> {
    if number.is_integer() {
        number.big().to_i128()
    } else {
        None
    }
}

/// A number from an `f64` computed the way Terraform computes `pow` and `log`: whole results
/// are exact (Go's big.Float holds the float exactly), others print as the shortest decimal.
pub(crate) fn number_from_f64(value: f64) -> Option<Number> {
    if !value.is_finite() {
        return None;
    }
    if value.fract() == 0.0 && value.abs() < 1.0e38 {
        return Some(Number::from_big(BigDecimal::from(value as i128)));
    }
    Number::from_f64(value)
}

pub(crate) fn string_value(value: &Value) -> &str {
    value.as_str().unwrap_or_default()
}

/// The elements of a list, tuple or set (empty for anything else).
pub(crate) fn elements(value: &Value) -> &[Value] {
    value.as_seq().unwrap_or(&[])
}

/// A list whose elements are converted to the one type they unify to (as a cty list must be).
pub(crate) fn unified_list(items: Vec<Value>) -> Result<Value, String> {
    convert(Value::List(items), &Type::list(Type::Any)).map_err(|error| error.to_string())
}

/// The most specific type both `a` and `b` convert to, as Terraform unifies the element
/// types of a list (primitives unify to string).
pub(crate) fn unify(a: &Type, b: &Type) -> Option<Type> {
    if a == b {
        return Some(a.clone());
    }
    match (a, b) {
        (Type::Any, other) | (other, Type::Any) => Some(other.clone()),
        (x, y) if x.is_primitive() && y.is_primitive() => Some(Type::String),
        (Type::List(x), Type::List(y)) => unify(x, y).map(Type::list),
        (Type::Set(x), Type::Set(y)) => unify(x, y).map(Type::set),
        (Type::Map(x), Type::Map(y)) => unify(x, y).map(Type::map),
        (Type::List(x) | Type::Set(x), Type::Tuple(items))
        | (Type::Tuple(items), Type::List(x) | Type::Set(x)) => {
            let mut element = (**x).clone();
            for item in items {
                element = unify(&element, item)?;
            }
            Some(if matches!(a, Type::Set(_)) || matches!(b, Type::Set(_)) {
                Type::set(element)
            } else {
                Type::list(element)
            })
        }
        (Type::Tuple(x), Type::Tuple(y)) if x.len() == y.len() => x
            .iter()
            .zip(y)
            .map(|(p, q)| unify(p, q))
            .collect::<Option<Vec<_>>>()
            .map(Type::Tuple),
        (Type::Object(x), Type::Object(y)) if x.attributes.keys().eq(y.attributes.keys()) => {
            let attributes = x
                .attributes
                .iter()
                .zip(y.attributes.values())
                .map(|((k, p), q)| unify(p, q).map(|t| (k.clone(), t)))
                .collect::<Option<Vec<_>>>()?;
            Some(Type::Object(crate::value::ObjectType::new(attributes)))
        }
        (Type::Map(x), Type::Object(object)) | (Type::Object(object), Type::Map(x)) => {
            let mut element = (**x).clone();
            for item in object.attributes.values() {
                element = unify(&element, item)?;
            }
            Some(Type::map(element))
        }
        _ => None,
    }
}

/// The conversion target `target` with its `any` parts filled in from `known`, the type an
/// unknown value already has (`list(any)` refined by `tuple([string])` is `list(string)`).
pub(crate) fn refine(known: &Type, target: &Type) -> Type {
    match (known, target) {
        (_, Type::Any) => known.clone(),
        (
            Type::List(k) | Type::Set(k) | Type::Map(k),
            Type::List(e) | Type::Set(e) | Type::Map(e),
        ) => rebuild(target, refine(k, e)),
        (Type::Tuple(items), Type::List(e) | Type::Set(e)) => refine_elements(items, target, e),
        (Type::Object(object), Type::Map(e)) => {
            refine_elements(object.attributes.values(), target, e)
        }
        _ => target.clone(),
    }
}

/// The collection `target` of element type `element`, refined by the types of a tuple's
/// elements or an object's attributes (`items`) unified.
fn refine_elements<'t>(
    items: impl IntoIterator<Item = &'t Type>,
    target: &Type,
    element: &Type,
) -> Type {
    let known = items
        .into_iter()
        .try_fold(Type::Any, |acc, item| unify(&acc, item));
    rebuild(
        target,
        known
            .map(|k| refine(&k, element))
            .unwrap_or_else(|| element.clone()),
    )
}

fn rebuild(collection: &Type, element: Type) -> Type {
    match collection {
        Type::List(_) => Type::list(element),
        Type::Set(_) => Type::set(element),
        Type::Map(_) => Type::map(element),
        other => other.clone(),
    }
}

/// Result types for the table.
pub(crate) mod returns {
    use crate::value::{Type, Value};

    pub fn string(_: &[Value]) -> Type {
        Type::String
    }
    pub fn number(_: &[Value]) -> Type {
        Type::Number
    }
    pub fn bool(_: &[Value]) -> Type {
        Type::Bool
    }
    pub fn any(_: &[Value]) -> Type {
        Type::Any
    }
    pub fn list_of_string(_: &[Value]) -> Type {
        Type::list(Type::String)
    }
    pub fn list_of_number(_: &[Value]) -> Type {
        Type::list(Type::Number)
    }
    /// The type of the first argument.
    pub fn first(args: &[Value]) -> Type {
        args.first().map(Value::type_of).unwrap_or(Type::Any)
    }
}

/// A Go duration (`30m`, `1h30m`, `900s`) as a [`std::time::Duration`]; `None` when it is not
/// one or is negative. `timeouts` blocks, `-lock-timeout` and provider settings all take Go's
/// syntax, so they share the parser `timeadd` uses.
pub fn parse_go_duration(text: &str) -> Option<std::time::Duration> {
    let nanos = time::parse_duration(text.trim()).ok()?;
    u64::try_from(nanos)
        .ok()
        .map(std::time::Duration::from_nanos)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_table_entry_is_named_by_its_key() {
        for (name, spec) in TABLE.iter() {
            assert_eq!(*name, spec.name);
        }
    }

    #[test]
    fn suggests_close_names() {
        let error = unknown_function("lenght");
        assert_eq!(
            error.to_string(),
            "There is no function named \"lenght\". Did you mean \"length\"?"
        );
        let error = unknown_function("tyr");
        assert!(error.to_string().contains("\"try\""), "{error}");
        let error = unknown_function("completely_different");
        assert_eq!(
            error.to_string(),
            "There is no function named \"completely_different\"."
        );
    }
}
