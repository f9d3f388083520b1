//! The expression evaluator: HCL syntax (from `hcl-edit`) to [`Value`]s, with Terraform's
//! semantics, unknown and sensitive marks carried through every step.
//!
//! An [`Evaluator`] walks one expression tree. It owns the stack of names bound by `for`
//! expressions, template `for` directives and `dynamic` block iterators; everything else a
//! reference names comes from the [`Scope`](super::Scope). Errors are [`Diagnostics`] located
//! in the evaluated file; independent sub-expressions (tuple elements, object attributes,
//! function arguments, operands) each report theirs, so one evaluation reports them all.

use super::operators;
use super::refs::root_reference;
use super::EvalContext;
use crate::diagnostics::{did_you_mean, Diagnostic, Diagnostics, SourceFile, Span};
use crate::value::{convert, Number, Type, Value};
use hcl_edit::expr::{Expression, ForExpr, Object, ObjectKey, Traversal, TraversalOperator};
use hcl_edit::template::{Directive, Element, Strip, Template};
use hcl_edit::{Decorated, Span as _};
use std::borrow::Cow;
use std::collections::BTreeMap;
use std::ops::Range;
use std::sync::Arc;

pub(crate) type EvalResult<T = Value> = Result<T, Diagnostics>;

/// What the evaluated expression may refer to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Mode {
    /// The [`Scope`](super::Scope) of the context, and bound names.
    Normal,
    /// Nothing: literal values only (variable defaults, backend settings).
    Literal,
    /// Only bound names: a `templatefile` template, whose variables are all bound.
    TemplateOnly,
}

pub(crate) struct Evaluator<'a> {
    pub ctx: Option<&'a EvalContext<'a>>,
    pub file: Arc<SourceFile>,
    pub mode: Mode,
    /// Names bound by `for`, directives and iterators, innermost last.
    pub bindings: Vec<(String, Value)>,
    /// How many times the scope refused a reference. `try` and `can` do not hide those errors,
    /// as Terraform validates references before it evaluates.
    pub reference_errors: usize,
}

impl<'a> Evaluator<'a> {
    pub fn new(
        ctx: Option<&'a EvalContext<'a>>,
        file: Arc<SourceFile>,
        mode: Mode,
    ) -> Evaluator<'a> {
        Evaluator {
            ctx,
            file,
            mode,
            bindings: Vec::new(),
            reference_errors: 0,
        }
    }

    pub fn span(&self, node: &impl hcl_edit::Span) -> Option<Span> {
        self.at(node.span())
    }

    /// The location of a byte range of the evaluated file. Computed only when a diagnostic
    /// needs it: finding line and column costs more than the evaluation step itself.
    pub fn at(&self, range: Option<Range<usize>>) -> Option<Span> {
        range.map(|range| self.file.span(range))
    }

    pub fn error(
        &self,
        summary: &str,
        detail: impl Into<String>,
        span: Option<Span>,
    ) -> Diagnostics {
        Diagnostic::error(summary)
            .with_detail(detail)
            .with_span_opt(span)
            .into()
    }

    pub fn bind(&mut self, name: &str, value: Value) {
        self.bindings.push((name.to_string(), value));
    }

    pub fn unbind(&mut self, count: usize) {
        let keep = self.bindings.len().saturating_sub(count);
        self.bindings.truncate(keep);
    }

    fn binding(&self, name: &str) -> Option<&Value> {
        self.bindings
            .iter()
            .rev()
            .find(|(bound, _)| bound == name)
            .map(|(_, value)| value)
    }

    pub fn eval(&mut self, expr: &Expression) -> EvalResult {
        match expr {
            Expression::Null(_) => Ok(Value::Null),
            Expression::Bool(b) => Ok(Value::Bool(*b.value())),
            Expression::Number(number) => self.number_literal(number),
            Expression::String(text) => Ok(Value::String(nfc(text.value()).into_owned())),
            Expression::Array(array) => {
                let mut items = Vec::with_capacity(array.len());
                let mut errors = Diagnostics::new();
                for item in array.iter() {
                    match self.eval(item) {
                        Ok(value) => items.push(value),
                        Err(diags) => errors.extend(diags),
                    }
                }
                errors.into_result(Value::Tuple(items))
            }
            Expression::Object(object) => self.object(object),
            Expression::StringTemplate(template) => self.template_value(template, true),
            Expression::HeredocTemplate(heredoc) => self.template_value_dedented(
                &heredoc.template,
                false,
                heredoc.indent().unwrap_or(0),
            ),
            Expression::Parenthesis(inner) => self.eval(inner.inner()),
            Expression::Variable(name) => self.traversal(name, &[], expr.span()),
            Expression::Traversal(traversal) => self.traversal_expr(traversal),
            Expression::Conditional(conditional) => {
                let condition = self.eval(&conditional.cond_expr);
                // Terraform checks references before evaluating: an undeclared one is an error
                // even in the result that is not chosen.
                let before = self.reference_errors;
                let true_result = self.eval(&conditional.true_expr);
                if self.reference_errors > before && true_result.is_err() {
                    return true_result;
                }
                let before = self.reference_errors;
                let false_result = self.eval(&conditional.false_expr);
                if self.reference_errors > before && false_result.is_err() {
                    return false_result;
                }
                operators::conditional(
                    self,
                    condition?,
                    true_result,
                    false_result,
                    [
                        conditional.cond_expr.span(),
                        conditional.true_expr.span(),
                        conditional.false_expr.span(),
                    ],
                )
            }
            Expression::FuncCall(call) => self.call(call),
            Expression::UnaryOp(op) => {
                let operand = self.eval(&op.expr)?;
                operators::unary(self, *op.operator.value(), operand, op.span())
            }
            Expression::BinaryOp(op) => {
                let lhs = self.eval(&op.lhs_expr);
                let rhs = self.eval(&op.rhs_expr);
                let (lhs, rhs) = match (lhs, rhs) {
                    (Ok(lhs), Ok(rhs)) => (lhs, rhs),
                    (lhs, rhs) => {
                        let mut errors = Diagnostics::new();
                        errors.extend(lhs.err().unwrap_or_default());
                        errors.extend(rhs.err().unwrap_or_default());
                        return Err(errors);
                    }
                };
                operators::binary(self, *op.operator.value(), lhs, rhs, op.span())
            }
            Expression::ForExpr(for_expr) => self.for_expr(for_expr),
        }
    }

    fn number_literal(&self, number: &hcl_edit::Formatted<hcl_edit::Number>) -> EvalResult {
        // hcl-edit may hold a number as f64; the source text keeps every digit.
        let source = number
            .span()
            .and_then(|range| self.file.text.get(range))
            .map(str::to_string)
            .unwrap_or_else(|| number.value().to_string());
        let invalid = || {
            self.error(
                "Invalid number literal",
                format!("\"{source}\" is not a number this tool can represent."),
                self.span(number),
            )
        };
        if let Some(exponent) = source.find(['e', 'E']).and_then(|at| source.get(at + 1..)) {
            // An absurd exponent would make printing the number allocate without bound.
            match exponent.trim_start_matches(['+', '-']).parse::<u32>() {
                Ok(magnitude) if magnitude <= 4096 => {}
                _ => return Err(invalid()),
            }
        }
        Number::parse(&source)
            .or_else(|| Number::parse(&number.value().to_string()))
            .map(Value::Number)
            .ok_or_else(invalid)
    }

    fn object(&mut self, object: &Object) -> EvalResult {
        let mut entries = BTreeMap::new();
        let mut errors = Diagnostics::new();
        let mut unknown = false;
        let mut sensitive = false;
        for (key, value) in object.iter() {
            let key_name = match key {
                ObjectKey::Ident(ident) => Some(ident.as_str().to_string()),
                // `{ name = 1 }` may come through as a variable expression: it is a name here.
                ObjectKey::Expression(Expression::Variable(ident)) => {
                    Some(ident.as_str().to_string())
                }
                // So are the keywords, as HCL's ExprAsKeyword has them: `{ null = 1 }` has the
                // key "null" (only `(null)` is the null value).
                ObjectKey::Expression(Expression::Null(_)) => Some("null".to_string()),
                ObjectKey::Expression(Expression::Bool(b)) => Some(b.value().to_string()),
                ObjectKey::Expression(key_expr) => match self.eval(key_expr) {
                    Err(diags) => {
                        errors.extend(diags);
                        None
                    }
                    Ok(key_value) => {
                        let (key_value, key_sensitive) = key_value.unmark();
                        sensitive |= key_sensitive;
                        match key_value {
                            Value::Null => {
                                errors.extend(self.error(
                                    "Null value as key",
                                    "Can't use a null value as a key.",
                                    self.span(key_expr),
                                ));
                                None
                            }
                            Value::Unknown(_) => {
                                unknown = true;
                                None
                            }
                            other => match convert(other, &Type::String) {
                                Ok(Value::String(name)) => Some(name),
                                _ => {
                                    errors.extend(self.error(
                                        "Incorrect key type",
                                        "Can't use this value as a key: string required.",
                                        self.span(key_expr),
                                    ));
                                    None
                                }
                            },
                        }
                    }
                },
            };
            match self.eval(value.expr()) {
                Ok(item) => {
                    if let Some(name) = key_name {
                        entries.insert(name, item);
                    }
                }
                Err(diags) => errors.extend(diags),
            }
        }
        if unknown {
            return errors.into_result(Value::unknown().mark_if(sensitive));
        }
        errors.into_result(Value::Object(entries).mark_if(sensitive))
    }

    // ----- references and traversals -----

    fn traversal_expr(&mut self, traversal: &Traversal) -> EvalResult {
        match &traversal.expr {
            Expression::Variable(name) => {
                self.traversal(name, &traversal.operators, traversal.span())
            }
            other => {
                let keys = self.index_keys(&traversal.operators)?;
                let value = self.eval(other)?;
                self.apply(Cow::Owned(value), &traversal.operators, &keys)
                    .map(Cow::into_owned)
            }
        }
    }

    /// Evaluates the keys of the index steps first: they do not depend on the traversed value
    /// (a splat binds nothing), and having them lets the traversal borrow bound values.
    fn index_keys(
        &mut self,
        operators: &[Decorated<TraversalOperator>],
    ) -> EvalResult<Vec<Option<Value>>> {
        let mut keys = Vec::with_capacity(operators.len());
        let mut errors = Diagnostics::new();
        for operator in operators {
            keys.push(match operator.value() {
                TraversalOperator::Index(index) => match self.eval(index) {
                    Ok(key) => Some(key),
                    Err(diags) => {
                        errors.extend(diags);
                        None
                    }
                },
                _ => None,
            });
        }
        errors.into_result(keys)
    }

    fn traversal(
        &mut self,
        root: &Decorated<hcl_edit::Ident>,
        operators: &[Decorated<TraversalOperator>],
        whole: Option<Range<usize>>,
    ) -> EvalResult {
        let keys = self.index_keys(operators)?;
        let whole_span = whole.map(|range| self.file.span(range));
        let name = root.as_str();
        if self.mode == Mode::Literal {
            return Err(self.error(
                "Variables not allowed",
                "Variables may not be used here.",
                whole_span,
            ));
        }
        if let Some(bound) = self.binding(name) {
            // Borrowed: only the part the traversal reaches is copied.
            return self
                .apply(Cow::Borrowed(bound), operators, &keys)
                .map(Cow::into_owned);
        }
        if self.mode == Mode::TemplateOnly {
            return Err(self.error(
                "Invalid function argument",
                format!("Invalid value for \"vars\" parameter: vars map does not contain key \"{name}\", referenced at {}.", whole_span.as_ref().map(ToString::to_string).unwrap_or_default()),
                whole_span,
            ));
        }
        let attrs: Vec<&str> = operators
            .iter()
            .take(2)
            .map_while(|operator| match operator.value() {
                TraversalOperator::GetAttr(attr) => Some(attr.as_str()),
                _ => None,
            })
            .collect();
        let (subject, used) = match root_reference(name, &attrs) {
            Ok(found) => found,
            Err((summary, detail)) => {
                self.reference_errors += 1;
                return Err(self.error(&summary, detail, whole_span));
            }
        };
        let Some(ctx) = self.ctx else {
            return Err(self.error(
                "Variables not allowed",
                "Variables may not be used here.",
                whole_span,
            ));
        };
        // One instance of a counted or `for_each` resource: only that instance's value is
        // copied, not every instance's (a reference per instance was quadratic in the count).
        if let Some(element) = Self::element_key(operators.get(used), keys.get(used))
            .and_then(|key| ctx.scope.resolve_element(&subject, &key))
        {
            return self
                .apply(
                    Cow::Owned(element),
                    &operators[used + 1..],
                    &keys[used + 1..],
                )
                .map(Cow::into_owned);
        }
        let value = match ctx.scope.resolve(&subject, whole_span.as_ref()) {
            Ok(value) => value,
            Err(diagnostic) => {
                self.reference_errors += 1;
                return Err(diagnostic.with_span_opt(whole_span).into());
            }
        };
        self.apply(Cow::Owned(value), &operators[used..], &keys[used..])
            .map(Cow::into_owned)
    }

    /// The key of a traversal step that indexes (`[expr]`, `.0`), once evaluated.
    fn element_key(
        operator: Option<&Decorated<TraversalOperator>>,
        key: Option<&Option<Value>>,
    ) -> Option<Value> {
        match operator?.value() {
            TraversalOperator::Index(_) => key?.clone(),
            TraversalOperator::LegacyIndex(position) => {
                Some(Value::Number(Number::from(**position)))
            }
            _ => None,
        }
    }

    /// Applies traversal steps to a value.
    pub fn apply<'v>(
        &self,
        value: Cow<'v, Value>,
        operators: &[Decorated<TraversalOperator>],
        keys: &[Option<Value>],
    ) -> EvalResult<Cow<'v, Value>> {
        let mut current = value;
        let mut sensitive = false;
        let mut index = 0;
        while index < operators.len() {
            let operator = &operators[index];
            let span = operator.span();
            match operator.value() {
                TraversalOperator::GetAttr(name) => {
                    let (next, marked) = self.get_attr(current, name.as_str(), span)?;
                    current = next;
                    sensitive |= marked;
                }
                TraversalOperator::Index(_) => {
                    let key = keys
                        .get(index)
                        .and_then(Option::as_ref)
                        .cloned()
                        .unwrap_or(Value::Null);
                    let (next, marked) = self.index(current, &key, span)?;
                    current = next;
                    sensitive |= marked;
                }
                TraversalOperator::LegacyIndex(position) => {
                    let key = Value::Number(Number::from(**position));
                    let (next, marked) = self.index(current, &key, span)?;
                    current = next;
                    sensitive |= marked;
                }
                TraversalOperator::AttrSplat(_) | TraversalOperator::FullSplat(_) => {
                    let full = matches!(operator.value(), TraversalOperator::FullSplat(_));
                    // A full splat `[*]` takes every following step; an attribute splat `.*`
                    // only the attribute steps that follow it.
                    let end = if full {
                        operators.len()
                    } else {
                        operators[index + 1..]
                            .iter()
                            .position(|op| {
                                !matches!(
                                    op.value(),
                                    TraversalOperator::GetAttr(_)
                                        | TraversalOperator::LegacyIndex(_)
                                )
                            })
                            .map_or(operators.len(), |offset| index + 1 + offset)
                    };
                    let result =
                        self.splat(current, &operators[index + 1..end], &keys[index + 1..end])?;
                    current = Cow::Owned(result);
                    index = end;
                    continue;
                }
            }
            index += 1;
        }
        Ok(if sensitive {
            Cow::Owned(current.into_owned().mark_sensitive())
        } else {
            current
        })
    }

    fn splat<'v>(
        &self,
        value: Cow<'v, Value>,
        operators: &[Decorated<TraversalOperator>],
        keys: &[Option<Value>],
    ) -> EvalResult {
        let (value, sensitive) = unmark_cow(value);
        let each = |item: &Value| {
            self.apply(Cow::Borrowed(item), operators, keys)
                .map(Cow::into_owned)
        };
        let result = match value.as_ref() {
            Value::Null => Value::Tuple(Vec::new()),
            // The result is unknown too; its type follows from the element type.
            Value::Unknown(Type::List(element) | Type::Set(element)) => {
                let item = each(&Value::Unknown((**element).clone()))?;
                Value::Unknown(Type::list(item.type_of()))
            }
            Value::Unknown(_) => Value::unknown(),
            Value::List(items) | Value::Set(items) => {
                Value::List(items.iter().map(each).collect::<EvalResult<Vec<_>>>()?)
            }
            Value::Tuple(items) => {
                Value::Tuple(items.iter().map(each).collect::<EvalResult<Vec<_>>>()?)
            }
            other => Value::Tuple(vec![each(other)?]),
        };
        Ok(result.mark_if(sensitive))
    }

    fn get_attr<'v>(
        &self,
        value: Cow<'v, Value>,
        name: &str,
        range: Option<Range<usize>>,
    ) -> EvalResult<(Cow<'v, Value>, bool)> {
        let (value, sensitive) = unmark_cow(value);
        // First the errors; then the attribute, borrowed when the value is.
        match value.as_ref() {
            Value::Null => {
                return Err(self.error(
                    "Attempt to get attribute from null value",
                    "This value is null, so it does not have any attributes.",
                    self.at(range.clone()),
                ))
            }
            Value::Unknown(ty) => return Ok((Cow::Owned(Value::Unknown(attribute_type(ty, name))), sensitive)),
            Value::Object(entries) => {
                if !entries.contains_key(name) {
                    let mut diagnostic = Diagnostic::error("Unsupported attribute")
                        .with_detail(format!("This object does not have an attribute named \"{name}\"."))
                        .with_span_opt(self.at(range.clone()));
                    let close = did_you_mean(name, entries.keys().map(String::as_str));
                    // The names of a sensitive object are as secret as its values.
                    diagnostic = diagnostic.with_suggestion(close.filter(|_| !sensitive));
                    return Err(diagnostic.into());
                }
            }
            Value::Map(entries) => {
                if !entries.contains_key(name) {
                    return Err(self.error(
                        "Missing map element",
                        format!("This map does not have an element with the key \"{name}\"."),
                        self.at(range.clone()),
                    ));
                }
            }
            Value::List(_) | Value::Tuple(_) => {
                return Err(self.error(
                    "Unsupported attribute",
                    "Can't access attributes on a list of objects. Did you mean to access an attribute for a specific element of the list, or across all elements of the list?",
                    self.at(range.clone()),
                ))
            }
            Value::Set(_) => {
                return Err(self.error(
                    "Unsupported attribute",
                    "Can't access attributes on a set of objects. Did you mean to access an attribute across all elements of the set?",
                    self.at(range.clone()),
                ))
            }
            other => {
                return Err(self.error(
                    "Unsupported attribute",
                    format!("Can't access attributes on a primitive-typed value ({}).", other.friendly_type_name()),
                    self.at(range.clone()),
                ))
            }
        }
        let projected = project(value, |v| {
            v.as_entries().and_then(|entries| entries.get(name))
        });
        Ok((projected.unwrap_or(Cow::Owned(Value::Null)), sensitive))
    }

    fn index<'v>(
        &self,
        value: Cow<'v, Value>,
        key: &Value,
        range: Option<Range<usize>>,
    ) -> EvalResult<(Cow<'v, Value>, bool)> {
        let (value, sensitive) = unmark_cow(value);
        let key_sensitive = matches!(key, Value::Sensitive(_));
        let sensitive = sensitive || key_sensitive;
        let key = key.unmarked();
        let invalid = |detail: &str| self.error("Invalid index", detail, self.at(range.clone()));
        const NOT_FOUND: &str =
            "The given key does not identify an element in this collection value.";
        if key.is_null() {
            return Err(invalid("Can't use a null value as an indexing key."));
        }
        match value.as_ref() {
            Value::Null => {
                return Err(self.error(
                    "Attempt to index null value",
                    "This value is null, so it does not have any indices.",
                    self.at(range.clone()),
                ))
            }
            Value::Unknown(ty) => return Ok((Cow::Owned(Value::Unknown(element_type(ty))), sensitive)),
            Value::Set(_) => return Err(invalid("Elements of a set are identified only by their value and don't have any separate index or key to select with, so it's only possible to perform operations across all elements of the set.")),
            Value::Bool(_) | Value::Number(_) | Value::String(_) => {
                return Err(invalid("This value does not have any indices."))
            }
            _ => {}
        }
        if let Value::Unknown(_) = key {
            let ty = value.type_of();
            return Ok((Cow::Owned(Value::Unknown(element_type(&ty))), sensitive));
        }
        match value.as_ref() {
            Value::List(items) | Value::Tuple(items) => {
                let position = match convert(key.clone(), &Type::Number) {
                    Ok(Value::Number(n)) => n,
                    _ => return Err(invalid(&format!("{NOT_FOUND}: a number is required."))),
                };
                if !position.is_integer() {
                    return Err(invalid(&format!(
                        "{NOT_FOUND}: indexing a sequence requires a whole number."
                    )));
                }
                if position < Number::from(0) {
                    return Err(invalid(&format!(
                        "{NOT_FOUND}: a negative number is not a valid index for a sequence."
                    )));
                }
                let Some(at) = position
                    .to_i64()
                    .and_then(|i| usize::try_from(i).ok())
                    .filter(|i| *i < items.len())
                else {
                    return Err(invalid(NOT_FOUND));
                };
                let projected = project(value, |v| v.as_seq().and_then(|items| items.get(at)));
                Ok((projected.unwrap_or(Cow::Owned(Value::Null)), sensitive))
            }
            Value::Map(entries) | Value::Object(entries) => {
                let name = match convert(key.clone(), &Type::String) {
                    Ok(Value::String(name)) => name,
                    _ => return Err(invalid(&format!("{NOT_FOUND}: string required."))),
                };
                if !entries.contains_key(&name) {
                    let mut diagnostic = Diagnostic::error("Invalid index")
                        .with_detail(NOT_FOUND)
                        .with_span_opt(self.at(range.clone()));
                    let close = did_you_mean(&name, entries.keys().map(String::as_str));
                    diagnostic = diagnostic.with_suggestion(close.filter(|_| !sensitive));
                    return Err(diagnostic.into());
                }
                let projected = project(value, |v| {
                    v.as_entries().and_then(|entries| entries.get(&name))
                });
                Ok((projected.unwrap_or(Cow::Owned(Value::Null)), sensitive))
            }
            _ => Err(invalid("This value does not have any indices.")),
        }
    }

    // ----- templates -----

    /// A template's value. A quoted template that is one interpolation and nothing else gives
    /// that interpolation's value unchanged, as Terraform does.
    pub fn template_value(
        &mut self,
        template: &Template,
        sole_interpolation_passes: bool,
    ) -> EvalResult {
        self.template_value_dedented(template, sole_interpolation_passes, 0)
    }

    /// A template's value; `dedent` is the indent a `<<-` heredoc strips, which the parser
    /// removed from the template's own literals but not from those inside its directives.
    fn template_value_dedented(
        &mut self,
        template: &Template,
        sole_interpolation_passes: bool,
        dedent: usize,
    ) -> EvalResult {
        if sole_interpolation_passes && template.len() == 1 {
            if let Some(Element::Interpolation(interpolation)) = template.iter().next() {
                return self.eval(&interpolation.expr);
            }
        }
        let mut out = TemplateOutput::default();
        self.render(template, (false, false), (0, dedent), &mut out)?;
        let value = if out.unknown {
            Value::Unknown(Type::String)
        } else {
            Value::String(out.text)
        };
        Ok(value.mark_if(out.sensitive))
    }

    /// Renders `template` into `out`. `strip` says whether the first literal's leading and the
    /// last literal's trailing whitespace go (strip markers of the enclosing directive);
    /// `dedent` is the heredoc indent to remove from this template's literals and from those
    /// of nested directives.
    fn render(
        &mut self,
        template: &Template,
        (strip_first, strip_last): (bool, bool),
        (own_dedent, nested_dedent): (usize, usize),
        out: &mut TemplateOutput,
    ) -> EvalResult<()> {
        let elements: Vec<&Element> = template.iter().collect();
        for (position, element) in elements.iter().enumerate() {
            match element {
                Element::Literal(literal) => {
                    let strip_start = if position == 0 {
                        strip_first
                    } else {
                        element_strip(elements[position - 1]).strip_end()
                    };
                    let strip_end = match elements.get(position + 1) {
                        None => strip_last,
                        Some(next) => element_strip(next).strip_start(),
                    };
                    let normalized = nfc(literal.value());
                    let dedented = dedent_lines(&normalized, own_dedent);
                    let mut text: &str = &dedented;
                    if strip_start {
                        text = text.trim_start();
                    }
                    if strip_end {
                        text = text.trim_end();
                    }
                    out.text.push_str(text);
                }
                Element::Interpolation(interpolation) => {
                    let value = self.eval(&interpolation.expr)?;
                    self.append(value, interpolation.expr.span(), out)?;
                }
                Element::Directive(directive) => match directive.as_ref() {
                    Directive::If(if_directive) => {
                        let (condition, sensitive) = self.eval_as(
                            &if_directive.if_expr.cond_expr,
                            &Type::Bool,
                            ("Invalid template if directive", "The condition value is null. Conditions must either be true or false."),
                            ("Incorrect condition type", "The condition expression must be of type bool."),
                        )?;
                        out.sensitive |= sensitive;
                        let Some(Value::Bool(condition)) = condition else {
                            out.unknown = true;
                            continue;
                        };
                        let endif_strip = if_directive.endif_expr.strip.strip_start();
                        if condition {
                            let last = match &if_directive.else_expr {
                                Some(else_expr) => else_expr.strip.strip_start(),
                                None => endif_strip,
                            };
                            self.render(
                                &if_directive.if_expr.template,
                                (if_directive.if_expr.strip.strip_end(), last),
                                (nested_dedent, nested_dedent),
                                out,
                            )?;
                        } else if let Some(else_expr) = &if_directive.else_expr {
                            self.render(
                                &else_expr.template,
                                (else_expr.strip.strip_end(), endif_strip),
                                (nested_dedent, nested_dedent),
                                out,
                            )?;
                        }
                    }
                    Directive::For(for_directive) => {
                        let intro = &for_directive.for_expr;
                        let collection = self.eval(&intro.collection_expr)?;
                        let (collection, sensitive) = collection.unmark();
                        out.sensitive |= sensitive;
                        if collection.is_unknown() {
                            out.unknown = true;
                            continue;
                        }
                        let pairs =
                            self.iteration_pairs(collection, intro.collection_expr.span())?;
                        for (key, item) in pairs {
                            let mut bound = 1;
                            if let Some(key_var) = &intro.key_var {
                                self.bind(key_var.as_str(), key.mark_if(sensitive));
                                bound += 1;
                            }
                            self.bind(intro.value_var.as_str(), item.mark_if(sensitive));
                            let rendered = self.render(
                                &intro.template,
                                (
                                    intro.strip.strip_end(),
                                    for_directive.endfor_expr.strip.strip_start(),
                                ),
                                (nested_dedent, nested_dedent),
                                out,
                            );
                            self.unbind(bound);
                            rendered?;
                        }
                    }
                },
            }
        }
        Ok(())
    }

    fn append(
        &self,
        value: Value,
        range: Option<Range<usize>>,
        out: &mut TemplateOutput,
    ) -> EvalResult<()> {
        let (value, sensitive) = value.unmark();
        out.sensitive |= sensitive || value.contains_sensitive();
        match value {
            Value::Null => Err(self.error(
                "Invalid template interpolation value",
                "The expression result is null. Cannot include a null value in a string template.",
                self.at(range.clone()),
            )),
            Value::Unknown(_) => {
                out.unknown = true;
                Ok(())
            }
            Value::String(text) => {
                out.text.push_str(&text);
                Ok(())
            }
            Value::Number(n) => {
                out.text.push_str(&n.to_string());
                Ok(())
            }
            Value::Bool(b) => {
                out.text.push_str(if b { "true" } else { "false" });
                Ok(())
            }
            other => Err(self.error(
                "Invalid template interpolation value",
                format!(
                    "Cannot include the given value in a string template: string required, but have {}.",
                    other.friendly_type_name()
                ),
                self.at(range.clone()),
            )),
        }
    }

    // ----- for expressions -----

    /// The key/value pairs a `for` iterates over: index and element of a sequence, element
    /// and element of a set, key and element of a map or object.
    pub fn iteration_pairs(
        &self,
        collection: Value,
        range: Option<Range<usize>>,
    ) -> EvalResult<Vec<(Value, Value)>> {
        match collection {
            Value::List(items) | Value::Tuple(items) => Ok(items
                .into_iter()
                .enumerate()
                .map(|(i, item)| (Value::Number(Number::from(i)), item))
                .collect()),
            Value::Set(items) => Ok(items.into_iter().map(|item| (item.clone(), item)).collect()),
            Value::Map(entries) | Value::Object(entries) => Ok(entries
                .into_iter()
                .map(|(k, v)| (Value::String(k), v))
                .collect()),
            Value::Null => Err(self.error(
                "Iteration over null value",
                "A null value cannot be used as the collection in a 'for' expression.",
                self.at(range.clone()),
            )),
            other => Err(self.error(
                "Iteration over non-iterable value",
                format!(
                    "A value of type {} cannot be used as the collection in a 'for' expression.",
                    other.friendly_type_name()
                ),
                self.at(range.clone()),
            )),
        }
    }

    fn for_expr(&mut self, for_expr: &ForExpr) -> EvalResult {
        let intro = &for_expr.intro;
        let collection = self.eval(&intro.collection_expr)?;
        let (collection, mut sensitive) = collection.unmark();
        if collection.is_unknown() {
            return Ok(Value::unknown().mark_if(sensitive));
        }
        let pairs = self.iteration_pairs(collection, intro.collection_expr.span())?;
        let object_result = for_expr.key_expr.is_some();
        let mut tuple = Vec::new();
        let mut object: BTreeMap<String, Value> = BTreeMap::new();
        let mut groups: BTreeMap<String, Vec<Value>> = BTreeMap::new();
        let mut unknown = false;
        for (key, item) in pairs {
            let mut bound = 1;
            if let Some(key_var) = &intro.key_var {
                // Elements of a sensitive collection stay marked inside the loop, so that
                // nothing derived from them (an error message included) shows them.
                self.bind(key_var.as_str(), key.mark_if(sensitive));
                bound += 1;
            }
            self.bind(intro.value_var.as_str(), item.mark_if(sensitive));
            let step = self.for_element(for_expr);
            self.unbind(bound);
            match step? {
                ForStep::Skip => {}
                ForStep::Unknown => unknown = true,
                ForStep::Element {
                    key,
                    value,
                    sensitive: marked,
                } => {
                    sensitive |= marked;
                    match key {
                        None => tuple.push(value),
                        Some((name, key_span)) => {
                            if for_expr.grouping {
                                groups.entry(name).or_default().push(value);
                                continue;
                            }
                            match object.entry(name) {
                                std::collections::btree_map::Entry::Occupied(occupied) => {
                                    let key_text = if sensitive {
                                        "(sensitive value)".to_string()
                                    } else {
                                        format!("\"{}\"", occupied.key())
                                    };
                                    return Err(self.error(
                                        "Duplicate object key",
                                        format!("Two different items produced the key {key_text} in this 'for' expression. If duplicates are expected, use the ellipsis (...) after the value expression to enable grouping by key."),
                                        self.at(key_span),
                                    ));
                                }
                                std::collections::btree_map::Entry::Vacant(vacant) => {
                                    vacant.insert(value);
                                }
                            }
                        }
                    }
                }
            }
        }
        if unknown {
            return Ok(Value::unknown().mark_if(sensitive));
        }
        let result = if !object_result {
            Value::Tuple(tuple)
        } else if for_expr.grouping {
            Value::Object(
                groups
                    .into_iter()
                    .map(|(k, v)| (k, Value::Tuple(v)))
                    .collect(),
            )
        } else {
            Value::Object(object)
        };
        Ok(result.mark_if(sensitive))
    }

    /// The value of `expr` (a condition, a key) converted to the primitive type `ty`, and
    /// whether it was sensitive; `None` while unknown. A null is the error `null` (summary,
    /// detail), a value that does not convert the error `wrong`.
    fn eval_as(
        &mut self,
        expr: &Expression,
        ty: &Type,
        null: (&str, &str),
        wrong: (&str, &str),
    ) -> EvalResult<(Option<Value>, bool)> {
        let (value, sensitive) = self.eval(expr)?.unmark();
        let converted = match value {
            Value::Unknown(_) => None,
            Value::Null => return Err(self.error(null.0, null.1, self.span(expr))),
            other => match convert(other, ty) {
                Ok(converted) => Some(converted),
                Err(_) => return Err(self.error(wrong.0, wrong.1, self.span(expr))),
            },
        };
        Ok((converted, sensitive))
    }

    fn for_element(&mut self, for_expr: &ForExpr) -> EvalResult<ForStep> {
        let mut sensitive = false;
        if let Some(cond) = &for_expr.cond {
            let (value, marked) = self.eval_as(
                &cond.expr,
                &Type::Bool,
                (
                    "Condition is null",
                    "The value of the 'if' clause must not be null.",
                ),
                (
                    "Invalid 'for' condition",
                    "The 'if' clause value is invalid: a bool is required.",
                ),
            )?;
            sensitive |= marked;
            match value {
                None => return Ok(ForStep::Unknown),
                Some(Value::Bool(false)) => return Ok(ForStep::Skip),
                Some(_) => {}
            }
        }
        let key = match &for_expr.key_expr {
            None => None,
            Some(key_expr) => {
                let (key, marked) = self.eval_as(
                    key_expr,
                    &Type::String,
                    (
                        "Invalid object key",
                        "Key expression in 'for' expression must not produce a null value.",
                    ),
                    (
                        "Invalid object key",
                        "The key expression produced an invalid result: string required.",
                    ),
                )?;
                sensitive |= marked;
                match key {
                    Some(Value::String(name)) => Some((name, key_expr.span())),
                    _ => return Ok(ForStep::Unknown),
                }
            }
        };
        let value = self.eval(&for_expr.value_expr)?;
        Ok(ForStep::Element {
            key,
            value,
            sensitive,
        })
    }
}

enum ForStep {
    Skip,
    Unknown,
    Element {
        key: Option<(String, Option<Range<usize>>)>,
        value: Value,
        sensitive: bool,
    },
}

#[derive(Default)]
struct TemplateOutput {
    text: String,
    unknown: bool,
    sensitive: bool,
}

/// The strip markers an element puts on the literals before (`strip_start`) and after
/// (`strip_end`) it.
fn element_strip(element: &Element) -> Strip {
    match element {
        Element::Literal(_) => Strip::None,
        Element::Interpolation(interpolation) => interpolation.strip,
        Element::Directive(directive) => {
            let (start, end) = match directive.as_ref() {
                Directive::If(d) => (
                    d.if_expr.strip.strip_start(),
                    d.endif_expr.strip.strip_end(),
                ),
                Directive::For(d) => (
                    d.for_expr.strip.strip_start(),
                    d.endfor_expr.strip.strip_end(),
                ),
            };
            Strip::from((start, end))
        }
    }
}

/// Removes up to `indent` whitespace characters after each line break of a literal inside a
/// template directive (its first line never starts a line: a directive or interpolation is
/// before it).
fn dedent_lines(text: &str, indent: usize) -> Cow<'_, str> {
    if indent == 0 || !text.contains('\n') {
        return Cow::Borrowed(text);
    }
    let mut result = String::with_capacity(text.len());
    let mut lines = text.split('\n');
    result.push_str(lines.next().unwrap_or_default());
    for line in lines {
        result.push('\n');
        let skip: usize = line
            .chars()
            .take(indent)
            .take_while(|c| *c == ' ' || *c == '\t')
            .map(char::len_utf8)
            .sum();
        result.push_str(&line[skip..]);
    }
    Cow::Owned(result)
}

/// A string literal in Unicode normal form C, as HCL normalizes every literal (so `"años"`
/// written with a combining tilde equals the precomposed one).
fn nfc(text: &str) -> Cow<'_, str> {
    use unicode_normalization::{is_nfc_quick, IsNormalized, UnicodeNormalization};
    match is_nfc_quick(text.chars()) {
        IsNormalized::Yes => Cow::Borrowed(text),
        _ => Cow::Owned(text.nfc().collect()),
    }
}

/// Removes the top-level sensitive mark of a possibly borrowed value.
pub(crate) fn unmark_cow(value: Cow<'_, Value>) -> (Cow<'_, Value>, bool) {
    match value {
        Cow::Borrowed(Value::Sensitive(inner)) => (Cow::Borrowed(inner.as_ref()), true),
        Cow::Owned(Value::Sensitive(inner)) => (Cow::Owned(*inner), true),
        other => (other, false),
    }
}

/// A part of a possibly borrowed value: borrowed stays borrowed; owned clones only the part.
fn project<'v>(
    value: Cow<'v, Value>,
    part: impl Fn(&Value) -> Option<&Value>,
) -> Option<Cow<'v, Value>> {
    match value {
        Cow::Borrowed(borrowed) => part(borrowed).map(Cow::Borrowed),
        Cow::Owned(owned) => part(&owned).cloned().map(Cow::Owned),
    }
}

/// The type of attribute `name` of a value of type `ty`, as far as it is known.
fn attribute_type(ty: &Type, name: &str) -> Type {
    match ty {
        Type::Object(object) => object.attributes.get(name).cloned().unwrap_or(Type::Any),
        Type::Map(element) => (**element).clone(),
        _ => Type::Any,
    }
}

/// The type of an element of a collection of type `ty`, as far as it is known.
fn element_type(ty: &Type) -> Type {
    match ty {
        Type::List(element) | Type::Set(element) | Type::Map(element) => (**element).clone(),
        _ => Type::Any,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dedents_lines_after_the_first() {
        assert_eq!(dedent_lines("x\n    a\n  b\n", 4), "x\na\nb\n");
        assert_eq!(dedent_lines("x\n\tc", 2), "x\nc");
        assert_eq!(dedent_lines("only line", 4), "only line");
    }

    #[test]
    fn normalizes_to_nfc() {
        assert_eq!(nfc("an\u{303}os"), "años");
        assert!(matches!(nfc("plain"), Cow::Borrowed(_)));
    }
}

/// Deeply nested input either fails to parse (hcl-edit limits nesting) or evaluates; it never
/// overflows the stack (which would abort, worse than a panic).
#[cfg(test)]
mod depth {
    #[test]
    fn deep_nesting_never_overflows() {
        let mut evaluated = 0;
        for depth in [50usize, 1000, 20000] {
            for text in [
                format!("{}1{}", "[".repeat(depth), "]".repeat(depth)),
                format!("1{}", " + 1".repeat(depth)),
                format!("{}true", "!".repeat(depth)),
                format!("{}1", "true ? 1 : ".repeat(depth)),
                format!("{{a=1}}{}", ".a".repeat(depth)),
                format!("{}x{}", "\"${".repeat(depth), "}\"".repeat(depth)),
            ] {
                if let Ok(expr) = hcl_edit::parser::parse_expr(&text) {
                    let file = std::sync::Arc::new(crate::diagnostics::SourceFile::new(
                        "deep.tf",
                        text.clone(),
                    ));
                    let _ = super::Evaluator::new(None, file, super::Mode::Literal).eval(&expr);
                    let mut collector = crate::lang::refs::TraversalCollector::new();
                    collector.expr(&expr);
                    evaluated += 1;
                }
            }
        }
        assert!(evaluated >= 5, "the shallow cases must parse: {evaluated}");
    }
}
