//! Finding what an expression refers to: the traversals it makes (`aws_vpc.main.id`), each
//! mapped to its [`Referenceable`] root, without the names bound by `for` expressions, template
//! `for` directives and `dynamic` block iterators.
//!
//! The graph builder uses [`super::references`] for dependency edges; `try` and `can` use the
//! static traversals to tell whether an argument depends on unknown values.

use super::{Reference, Referenceable};
use crate::addrs::Resource;
use crate::diagnostics::did_you_mean;
use crate::value::{Number, Value};
use hcl_edit::expr::{Expression, TraversalOperator};
use hcl_edit::structure::{Body, Structure};
use hcl_edit::template::{Directive, Element, Template};
use hcl_edit::Span as _;
use std::ops::Range;

/// How a reference picks one instance of a resource by the referring instance's own
/// repetition: `aws_subnet.a[count.index]`, `aws_subnet.a[each.key]`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum InstancePick {
    CountIndex,
    EachKey,
}

/// One static step of a traversal: an attribute name or a literal index.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum StaticStep<'a> {
    Attr(&'a str),
    Index(Value),
}

/// A traversal that starts at a root name (`var`, `aws_vpc`, a `for` symbol from outside the
/// walked expression), with its leading static steps.
#[derive(Clone, Debug)]
pub(crate) struct StaticTraversal<'a> {
    pub root: &'a str,
    pub steps: Vec<StaticStep<'a>>,
    /// The index that ends the static steps, when it is `[count.index]` or `[each.key]`.
    pub pick: Option<InstancePick>,
    pub span: Option<Range<usize>>,
}

impl StaticTraversal<'_> {
    /// The names of the leading attribute steps (enough to find the root reference).
    pub fn leading_attrs(&self) -> Vec<&str> {
        self.steps
            .iter()
            .take(2)
            .map_while(|step| match step {
                StaticStep::Attr(name) => Some(*name),
                StaticStep::Index(_) => None,
            })
            .collect()
    }
}

/// Why a root name does not make a valid reference: summary and detail, as Terraform words them.
pub(crate) type InvalidReference = (String, String);

/// What a traversal starting at `root` followed by attribute names `attrs` refers to, and how
/// many of those attribute steps the reference itself uses.
pub(crate) fn root_reference(
    root: &str,
    attrs: &[&str],
) -> Result<(Referenceable, usize), InvalidReference> {
    let first = attrs.first().copied();
    let invalid = |detail: String| ("Invalid reference".to_string(), detail);
    match root {
        "var" | "local" | "module" => {
            let Some(name) = first else {
                return Err(invalid(format!(
                    "The \"{root}\" object cannot be accessed directly. Instead, access one of its attributes."
                )));
            };
            let subject = match root {
                "var" => Referenceable::Variable(name.to_string()),
                "local" => Referenceable::Local(name.to_string()),
                _ => Referenceable::ModuleCall(name.to_string()),
            };
            Ok((subject, 1))
        }
        "data" => match (first, attrs.get(1)) {
            (Some(type_name), Some(name)) => Ok((Referenceable::Resource(Resource::data(type_name, *name)), 2)),
            _ => Err(invalid(
                "The \"data\" object must be followed by two attribute names: the data source type and the resource name."
                    .to_string(),
            )),
        },
        "count" => match first {
            Some("index") => Ok((Referenceable::CountIndex, 1)),
            other => Err((
                "Invalid \"count\" attribute".to_string(),
                format!(
                    "The \"count\" object does not have an attribute named \"{}\". The only supported attribute is count.index, which is the index of each instance of a resource block that has the \"count\" argument set.",
                    other.unwrap_or_default()
                ),
            )),
        },
        "each" => match first {
            Some("key") => Ok((Referenceable::EachKey, 1)),
            Some("value") => Ok((Referenceable::EachValue, 1)),
            other => Err((
                "Invalid \"each\" attribute".to_string(),
                format!(
                    "The \"each\" object does not have an attribute named \"{}\". The supported attributes are each.key and each.value, the current key and value pair of the \"for_each\" attribute set.",
                    other.unwrap_or_default()
                ),
            )),
        },
        "path" => match first {
            Some(name @ ("module" | "root" | "cwd")) => Ok((Referenceable::Path(name.to_string()), 1)),
            other => {
                let other = other.unwrap_or_default();
                // Terraform's wording: the suggestion ends the detail.
                let suggestion = did_you_mean(other, ["cwd", "module", "root"])
                    .map(|name| format!(" Did you mean \"{name}\"?"))
                    .unwrap_or_default();
                Err((
                    "Invalid \"path\" attribute".to_string(),
                    format!(
                        "The \"path\" object does not have an attribute named \"{other}\". The supported attributes are path.module, path.root and path.cwd.{suggestion}"
                    ),
                ))
            }
        },
        "terraform" => match first {
            Some("workspace") => Ok((Referenceable::TerraformWorkspace, 1)),
            other => Err((
                "Invalid \"terraform\" attribute".to_string(),
                format!(
                    "The \"terraform\" object does not have an attribute named \"{}\". The only supported attribute is terraform.workspace, the name of the currently-selected workspace.",
                    other.unwrap_or_default()
                ),
            )),
        },
        "self" => Ok((Referenceable::SelfObject, 0)),
        type_name => match first {
            Some(name) => Ok((Referenceable::Resource(Resource::managed(type_name, name)), 1)),
            None => Err(invalid(
                "A reference to a resource type must be followed by at least one attribute access, specifying the resource name."
                    .to_string(),
            )),
        },
    }
}

/// Walks syntax, collecting traversals whose root is not bound inside the walked syntax.
#[derive(Default)]
pub(crate) struct TraversalCollector<'a> {
    bound: Vec<&'a str>,
    pub traversals: Vec<StaticTraversal<'a>>,
}

impl<'a> TraversalCollector<'a> {
    pub fn new() -> Self {
        TraversalCollector::default()
    }

    /// Treats `name` as bound while walking what follows (until [`Self::unbind`]).
    pub fn bind(&mut self, name: &'a str) {
        self.bound.push(name);
    }

    pub fn unbind(&mut self) {
        self.bound.pop();
    }

    fn is_bound(&self, name: &str) -> bool {
        self.bound.contains(&name)
    }

    pub fn expr(&mut self, expr: &'a Expression) {
        match expr {
            Expression::Null(_)
            | Expression::Bool(_)
            | Expression::Number(_)
            | Expression::String(_) => {}
            Expression::Array(array) => array.iter().for_each(|item| self.expr(item)),
            Expression::Object(object) => {
                for (key, value) in object.iter() {
                    if let Some(key) = key.as_expr() {
                        // A bare identifier key is a name, not a reference.
                        if !matches!(key, Expression::Variable(_)) {
                            self.expr(key);
                        }
                    }
                    self.expr(value.expr());
                }
            }
            Expression::StringTemplate(template) => self.template(template),
            Expression::HeredocTemplate(heredoc) => self.template(&heredoc.template),
            Expression::Parenthesis(inner) => self.expr(inner.inner()),
            Expression::Variable(name) => {
                if !self.is_bound(name.as_str()) {
                    self.traversals.push(StaticTraversal {
                        root: name.as_str(),
                        steps: Vec::new(),
                        pick: None,
                        span: expr.span(),
                    });
                }
            }
            Expression::Conditional(conditional) => {
                self.expr(&conditional.cond_expr);
                self.expr(&conditional.true_expr);
                self.expr(&conditional.false_expr);
            }
            Expression::FuncCall(call) => call.args.iter().for_each(|arg| self.expr(arg)),
            Expression::Traversal(traversal) => {
                match &traversal.expr {
                    Expression::Variable(name) if !self.is_bound(name.as_str()) => {
                        let mut steps = Vec::new();
                        let mut pick = None;
                        for operator in &traversal.operators {
                            match static_step(operator.value()) {
                                Some(step) => steps.push(step),
                                None => {
                                    pick = self.instance_pick(operator.value());
                                    break;
                                }
                            }
                        }
                        self.traversals.push(StaticTraversal {
                            root: name.as_str(),
                            steps,
                            pick,
                            span: expr.span(),
                        });
                    }
                    Expression::Variable(_) => {}
                    other => self.expr(other),
                }
                for operator in &traversal.operators {
                    if let TraversalOperator::Index(index) = operator.value() {
                        self.expr(index);
                    }
                }
            }
            Expression::UnaryOp(op) => self.expr(&op.expr),
            Expression::BinaryOp(op) => {
                self.expr(&op.lhs_expr);
                self.expr(&op.rhs_expr);
            }
            Expression::ForExpr(for_expr) => {
                self.expr(&for_expr.intro.collection_expr);
                let bound = usize::from(for_expr.intro.key_var.is_some()) + 1;
                if let Some(key_var) = &for_expr.intro.key_var {
                    self.bind(key_var.as_str());
                }
                self.bind(for_expr.intro.value_var.as_str());
                if let Some(key_expr) = &for_expr.key_expr {
                    self.expr(key_expr);
                }
                self.expr(&for_expr.value_expr);
                if let Some(cond) = &for_expr.cond {
                    self.expr(&cond.expr);
                }
                for _ in 0..bound {
                    self.unbind();
                }
            }
        }
    }

    pub fn template(&mut self, template: &'a Template) {
        for element in template.iter() {
            match element {
                Element::Literal(_) => {}
                Element::Interpolation(interpolation) => self.expr(&interpolation.expr),
                Element::Directive(directive) => match directive.as_ref() {
                    Directive::If(if_directive) => {
                        self.expr(&if_directive.if_expr.cond_expr);
                        self.template(&if_directive.if_expr.template);
                        if let Some(else_expr) = &if_directive.else_expr {
                            self.template(&else_expr.template);
                        }
                    }
                    Directive::For(for_directive) => {
                        let intro = &for_directive.for_expr;
                        self.expr(&intro.collection_expr);
                        let bound = usize::from(intro.key_var.is_some()) + 1;
                        if let Some(key_var) = &intro.key_var {
                            self.bind(key_var.as_str());
                        }
                        self.bind(intro.value_var.as_str());
                        self.template(&intro.template);
                        for _ in 0..bound {
                            self.unbind();
                        }
                    }
                },
            }
        }
    }

    pub fn body(&mut self, body: &'a Body) {
        for structure in body.iter() {
            match structure {
                Structure::Attribute(attribute) => self.expr(&attribute.value),
                Structure::Block(block) if block.ident.as_str() == "dynamic" => {
                    let iterator = dynamic_iterator_name(block);
                    for inner in block.body.iter() {
                        match inner {
                            Structure::Attribute(attribute)
                                if attribute.key.as_str() == "for_each" =>
                            {
                                self.expr(&attribute.value)
                            }
                            Structure::Attribute(attribute)
                                if attribute.key.as_str() == "iterator" => {}
                            Structure::Attribute(attribute) => {
                                self.bind_opt(iterator);
                                self.expr(&attribute.value);
                                self.unbind_opt(iterator);
                            }
                            Structure::Block(content) => {
                                self.bind_opt(iterator);
                                self.body(&content.body);
                                self.unbind_opt(iterator);
                            }
                        }
                    }
                }
                Structure::Block(block) => self.body(&block.body),
            }
        }
    }

    /// `[count.index]` or `[each.key]` (unless a `for` expression rebinds the name).
    fn instance_pick(&self, operator: &TraversalOperator) -> Option<InstancePick> {
        let TraversalOperator::Index(Expression::Traversal(index)) = operator else {
            return None;
        };
        let Expression::Variable(root) = &index.expr else {
            return None;
        };
        let [attr] = index.operators.as_slice() else {
            return None;
        };
        let TraversalOperator::GetAttr(attr) = attr.value() else {
            return None;
        };
        if self.is_bound(root.as_str()) {
            return None;
        }
        match (root.as_str(), attr.as_str()) {
            ("count", "index") => Some(InstancePick::CountIndex),
            ("each", "key") => Some(InstancePick::EachKey),
            _ => None,
        }
    }

    fn bind_opt(&mut self, name: Option<&'a str>) {
        if let Some(name) = name {
            self.bind(name);
        }
    }

    fn unbind_opt(&mut self, name: Option<&'a str>) {
        if name.is_some() {
            self.unbind();
        }
    }
}

/// The name a `dynamic` block's iterator symbol has: its `iterator` argument (a bare name) or
/// else the block type label.
pub(crate) fn dynamic_iterator_name(block: &hcl_edit::structure::Block) -> Option<&str> {
    for structure in block.body.iter() {
        if let Structure::Attribute(attribute) = structure {
            if attribute.key.as_str() == "iterator" {
                return match &attribute.value {
                    Expression::Variable(name) => Some(name.as_str()),
                    _ => None,
                };
            }
        }
    }
    block.labels.first().map(|label| label.as_str())
}

fn static_step(operator: &TraversalOperator) -> Option<StaticStep<'_>> {
    match operator {
        TraversalOperator::GetAttr(name) => Some(StaticStep::Attr(name.as_str())),
        TraversalOperator::LegacyIndex(index) => {
            Some(StaticStep::Index(Value::Number(Number::from(**index))))
        }
        TraversalOperator::Index(Expression::Number(number)) => {
            Number::parse(&number.to_string()).map(|n| StaticStep::Index(Value::Number(n)))
        }
        TraversalOperator::Index(Expression::String(text)) => {
            Some(StaticStep::Index(Value::String(text.value().clone())))
        }
        _ => None,
    }
}

/// Maps collected traversals to references, dropping those that are not valid references
/// (the evaluator reports those).
pub(crate) fn to_references(
    traversals: &[StaticTraversal<'_>],
    file: &crate::diagnostics::SourceFile,
) -> Vec<Reference> {
    traversals
        .iter()
        .filter_map(|traversal| {
            let (subject, _) = root_reference(traversal.root, &traversal.leading_attrs()).ok()?;
            Some(Reference {
                subject,
                span: traversal.span.clone().map(|range| file.span(range)),
            })
        })
        .collect()
}

/// Every resource a body refers to, with how each reference picks its instance (`None`: it
/// may read any instance, or all of them).
pub(crate) fn resource_picks(body: &Body) -> Vec<(Resource, Option<InstancePick>)> {
    let mut collector = TraversalCollector::new();
    collector.body(body);
    collector
        .traversals
        .iter()
        .filter_map(|traversal| {
            let attrs = traversal.leading_attrs();
            let (subject, used) = root_reference(traversal.root, &attrs).ok()?;
            let Referenceable::Resource(resource) = subject else {
                return None;
            };
            // The pick must come right after the resource's name.
            let pick = traversal.pick.filter(|_| traversal.steps.len() == used);
            Some((resource, pick))
        })
        .collect()
}
