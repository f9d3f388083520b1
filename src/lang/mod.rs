//! The expression language: evaluating HCL expressions and bodies to [`Value`]s with
//! Terraform's semantics, finding the references an expression makes, and the built-in
//! functions ([`functions`]).
//!
//! The evaluator asks a [`Scope`] for the value of each thing an expression refers to
//! (`var.x`, `aws_vpc.main`, `count.index`, …); the engine implements the scope from what it
//! has planned or applied so far. Values not known until apply are [`Value::Unknown`] and flow
//! through every operation.
//!
//! Architecture invariant: this module never calls a provider or reads state; all it knows of
//! the world comes through the [`Scope`].

pub mod functions;

use crate::addrs::Resource;
use crate::config::{Body, Expr};
use crate::diagnostics::{Diagnostic, Diagnostics, Span};
use crate::providers::schema::Block;
use crate::value::Value;
use std::path::PathBuf;

/// The root of a reference: what the first one or two names of a traversal denote.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Referenceable {
    /// `var.NAME`
    Variable(String),
    /// `local.NAME`
    Local(String),
    /// `TYPE.NAME` or `data.TYPE.NAME`: the whole resource (an object, or a tuple/map of
    /// objects when it has `count`/`for_each`).
    Resource(Resource),
    /// `module.NAME`: an object of the module's outputs (a tuple/map with count/for_each).
    ModuleCall(String),
    /// `count.index`
    CountIndex,
    /// `each.key`
    EachKey,
    /// `each.value`
    EachValue,
    /// `path.module`, `path.root`, `path.cwd`
    Path(String),
    /// `terraform.workspace`
    TerraformWorkspace,
    /// `self` (in provisioners and postconditions)
    SelfObject,
}

/// A reference found in an expression: its root and where it is written.
#[derive(Clone, Debug, PartialEq)]
pub struct Reference {
    pub subject: Referenceable,
    /// The whole traversal's span (`aws_vpc.main.id`).
    pub span: Option<Span>,
}

/// Where the evaluator gets the values of references.
pub trait Scope: Sync {
    /// The value of `subject`. Errors (an undeclared variable, a resource not in the
    /// configuration) are diagnostics located at `span`, with a suggestion where one is close.
    fn resolve(&self, subject: &Referenceable, span: Option<&Span>) -> Result<Value, Diagnostic>;
}

/// Everything an evaluation needs besides the expression.
pub struct EvalContext<'a> {
    pub scope: &'a dyn Scope,
    /// `path.module` of the module being evaluated, for file functions.
    pub module_dir: PathBuf,
    /// During plan, `uuid()` and `timestamp()` are unknown; during apply they are computed.
    pub plan_mode: bool,
}

/// Evaluates one expression.
pub fn eval_expr(_expr: &Expr, _ctx: &EvalContext<'_>) -> Result<Value, Diagnostics> {
    Err(Diagnostic::error("expression evaluation is not written yet").into())
}

/// Evaluates a body against a schema block: every attribute of the schema present in the
/// result (null when unset), nested blocks (including `dynamic` ones) as the schema's nesting
/// says. Arguments or blocks the schema does not have are errors at their location; required
/// arguments left unset are errors at the block.
pub fn eval_body(
    _body: &Body,
    _schema: &Block,
    _ctx: &EvalContext<'_>,
) -> Result<Value, Diagnostics> {
    Err(Diagnostic::error("body evaluation is not written yet").into())
}

/// Every reference an expression makes (not counting a `for` expression's own symbols).
pub fn references(_expr: &Expr) -> Vec<Reference> {
    Vec::new()
}

/// Every reference a body makes, including inside nested and `dynamic` blocks.
pub fn body_references(_body: &Body) -> Vec<Reference> {
    Vec::new()
}
