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
//!
//! Inside:
//! - `eval`: the evaluator over `hcl-edit` syntax: literals (numbers re-read from the source
//!   text so no digit is lost), templates and heredocs, traversals and splats, `for`
//!   expressions, and the stack of names `for` / directives / iterators bind.
//! - `operators`: arithmetic, comparison and logical operators, conditionals, and
//!   [`unify_loose`] (cty's type unification).
//! - `calls`: function calls, `...` expansion, and `try`, `can`, `templatefile`.
//! - `body`: [`eval_body`], a body against a provider schema, `dynamic` blocks included.
//! - `refs`: [`references`] and [`body_references`], and the root names every traversal
//!   starts with.
//!
//! Diagnostics use Terraform's wording. Locations are computed only for diagnostics (finding a
//! line and column costs more than most evaluation steps), and a sensitive value never appears
//! in one.

mod body;
mod calls;
mod eval;
pub mod functions;
mod operators;
mod refs;

pub use operators::unify_loose;
pub use refs::InstancePick;

use crate::addrs::Resource;
use crate::config::{Body, Expr};
use crate::diagnostics::{Diagnostic, Diagnostics, Span};
use crate::providers::schema::Block;
use crate::value::Value;
use eval::{Evaluator, Mode};
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

    /// The element `key` selects of `subject`'s value (`aws_subnet.private[count.index]`), when
    /// the scope can give it without building the whole value; `None` when it cannot (the
    /// evaluator then resolves the whole value and indexes it, which also words the errors).
    /// A scope that answers must answer exactly what indexing the whole value gives.
    fn resolve_element(&self, _subject: &Referenceable, _key: &Value) -> Option<Value> {
        None
    }
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
pub fn eval_expr(expr: &Expr, ctx: &EvalContext<'_>) -> Result<Value, Diagnostics> {
    Evaluator::new(Some(ctx), expr.file.clone(), Mode::Normal).eval(&expr.expr)
}

/// Evaluates an expression with extra root names bound, as `for` symbols are: a traversal
/// starting with one of `symbols` takes its value from there before the scope is asked.
/// (HCL's own contexts with plain variables, such as its specification suite, need this.)
pub fn eval_expr_with_symbols(
    expr: &Expr,
    ctx: &EvalContext<'_>,
    symbols: &std::collections::BTreeMap<String, Value>,
) -> Result<Value, Diagnostics> {
    let mut evaluator = Evaluator::new(Some(ctx), expr.file.clone(), Mode::Normal);
    for (name, value) in symbols {
        evaluator.bind(name, value.clone());
    }
    evaluator.eval(&expr.expr)
}

/// Evaluates an expression in which only literal values are allowed (variable defaults,
/// backend settings): any reference is an error ("Variables not allowed"), as is any
/// function call.
pub fn eval_literal(expr: &Expr) -> Result<Value, Diagnostics> {
    Evaluator::new(None, expr.file.clone(), Mode::Literal).eval(&expr.expr)
}

/// Evaluates a condition (`count`-style checks, preconditions, validation rules): the value
/// converted to bool; `None` when it is unknown. Null or non-bool values are errors.
pub fn eval_condition(expr: &Expr, ctx: &EvalContext<'_>) -> Result<Option<bool>, Diagnostics> {
    let value = eval_expr(expr, ctx)?;
    let invalid = |detail: &str| -> Diagnostics {
        Diagnostic::error("Invalid condition result")
            .with_detail(detail.to_string())
            .with_span_opt(expr.span())
            .into()
    };
    match value.unmarked() {
        Value::Unknown(_) => Ok(None),
        Value::Null => Err(invalid(
            "Condition expression must return either true or false, not null.",
        )),
        other => match crate::value::convert(other.clone(), &crate::value::Type::Bool) {
            Ok(Value::Bool(b)) => Ok(Some(b)),
            _ => Err(invalid("The condition expression must be of type bool.")),
        },
    }
}

/// Evaluates a body against a schema block: every attribute of the schema present in the
/// result (null when unset), nested blocks (including `dynamic` ones) as the schema's nesting
/// says. Arguments or blocks the schema does not have are errors at their location; required
/// arguments left unset are errors at the block.
pub fn eval_body(body: &Body, schema: &Block, ctx: &EvalContext<'_>) -> Result<Value, Diagnostics> {
    use hcl_edit::Span as _;
    let mut evaluator = Evaluator::new(Some(ctx), body.file.clone(), Mode::Normal);
    let span = body
        .body
        .span()
        .or_else(|| body.body.iter().next().and_then(|first| first.span()))
        .map(|range| body.file.span(range));
    let mut errors = Diagnostics::new();
    let value = body::body_value(&mut evaluator, &body.body, schema, span, &mut errors);
    errors.into_result(value)
}

/// Every reference an expression makes (not counting a `for` expression's own symbols).
pub fn references(expr: &Expr) -> Vec<Reference> {
    let mut collector = refs::TraversalCollector::new();
    collector.expr(&expr.expr);
    refs::to_references(&collector.traversals, &expr.file)
}

/// Every resource a body refers to (nested and `dynamic` blocks included), with the instance
/// each reference picks by the referring instance's repetition (`aws_subnet.a[count.index]`,
/// `aws_subnet.a[each.key]`); `None` for a reference that may read any instance.
pub fn resource_picks(body: &Body) -> Vec<(Resource, Option<InstancePick>)> {
    refs::resource_picks(&body.body)
}

/// Every reference a body makes, including inside nested and `dynamic` blocks (not counting
/// the iterator symbols of `dynamic` blocks).
pub fn body_references(body: &Body) -> Vec<Reference> {
    let mut collector = refs::TraversalCollector::new();
    collector.body(&body.body);
    refs::to_references(&collector.traversals, &body.file)
}
