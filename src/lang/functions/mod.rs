//! Terraform's built-in functions, with Terraform's behaviour and error wording.
//!
//! [`call`] takes already-evaluated arguments. Arguments may be unknown (the result is then
//! unknown, of the right type) or sensitive (the result is then sensitive). `try`, `can` and
//! `templatefile` need the evaluator and live there ([`crate::lang`]).

use crate::value::Value;
use std::path::PathBuf;

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
    /// An argument is not acceptable; `index` is 0-based.
    #[error("Invalid value for \"{param}\" parameter: {message}")]
    Argument {
        index: usize,
        param: String,
        message: String,
    },
    /// The call failed for another reason.
    #[error("{0}")]
    Failed(String),
}

/// Calls function `name` with `args`.
pub fn call(name: &str, _args: Vec<Value>, _ctx: &FunctionContext) -> Result<Value, FunctionError> {
    Err(FunctionError::UnknownFunction {
        name: name.to_string(),
        suggestion: None,
    })
}

/// Whether a function of that name exists.
pub fn exists(_name: &str) -> bool {
    false
}
