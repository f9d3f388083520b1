//! Decoding constant expressions to [`Value`]s without the evaluator: variable defaults, backend
//! settings, module `source`, `.tfvars` files and `-var` values.
//!
//! Terraform evaluates these with no variables and no functions in scope, so a reference is a
//! "Variables not allowed" error and a call a "Function calls not allowed" error, each at its
//! location. The constant forms are decoded here: null, bools, numbers (kept exact, from their
//! source text), strings and heredocs whose interpolations are themselves constant, tuples,
//! objects, parentheses and unary `-` / `!` on constants. Operators, conditionals, `for`
//! expressions and template directives over constants (`60 * 60`) are handed to the
//! evaluator's literal mode ([`crate::lang::eval_literal`]), which rejects references and
//! calls with the same errors.

use crate::diagnostics::{Diagnostic, Diagnostics, SourceFile, Span};
use crate::value::{Number, Value};
use hcl_edit::expr::{Expression, ObjectKey, UnaryOperator};
use hcl_edit::template::{Element, Template};
use hcl_edit::Span as _;
use std::collections::BTreeMap;
use std::sync::Arc;

/// Decodes a constant expression of `file` to a value; every non-constant part is an error at
/// its location (all of them are reported, not only the first).
pub fn literal_value(expr: &Expression, file: &Arc<SourceFile>) -> Result<Value, Diagnostics> {
    let mut diagnostics = Diagnostics::new();
    let value = LiteralDecoder {
        file,
        diagnostics: &mut diagnostics,
    }
    .decode(expr);
    diagnostics.into_result(value)
}

/// Decodes the constant [`super::Expr`].
pub fn literal_expr(expr: &super::Expr) -> Result<Value, Diagnostics> {
    literal_value(&expr.expr, &expr.file)
}

struct LiteralDecoder<'a> {
    file: &'a Arc<SourceFile>,
    diagnostics: &'a mut Diagnostics,
}

impl LiteralDecoder<'_> {
    fn span(&self, range: Option<std::ops::Range<usize>>) -> Option<Span> {
        range.map(|range| self.file.span(range))
    }

    fn error(
        &mut self,
        summary: &str,
        detail: &str,
        range: Option<std::ops::Range<usize>>,
    ) -> Value {
        let span = self.span(range);
        self.diagnostics.push(
            Diagnostic::error(summary)
                .with_detail(detail)
                .with_span_opt(span),
        );
        Value::Null
    }

    fn decode(&mut self, expr: &Expression) -> Value {
        match expr {
            Expression::Null(_) => Value::Null,
            Expression::Bool(b) => Value::Bool(*b.value()),
            Expression::Number(number) => {
                // The source text keeps every digit; hcl-edit's own number is an f64 for
                // non-integers.
                let text = number
                    .span()
                    .and_then(|range| self.file.text.get(range).map(str::to_string))
                    .unwrap_or_else(|| number.value().to_string());
                match Number::parse(&text) {
                    Some(n) => Value::Number(n),
                    None => self.error(
                        "Invalid number literal",
                        &format!("`{text}` is not a number."),
                        number.span(),
                    ),
                }
            }
            Expression::String(s) => Value::String(s.value().clone()),
            Expression::StringTemplate(template) => self.template(template, expr),
            Expression::HeredocTemplate(heredoc) => self.template(&heredoc.template, expr),
            Expression::Array(array) => {
                Value::Tuple(array.iter().map(|item| self.decode(item)).collect())
            }
            Expression::Object(object) => {
                let mut attributes = BTreeMap::new();
                for (key, value) in object.iter() {
                    let name = match key {
                        ObjectKey::Ident(ident) => Some(ident.as_str().to_string()),
                        ObjectKey::Expression(key_expr) => self.object_key(key_expr),
                    };
                    let value = self.decode(value.expr());
                    if let Some(name) = name {
                        attributes.insert(name, value);
                    }
                }
                Value::Object(attributes)
            }
            Expression::Parenthesis(inner) => self.decode(inner.inner()),
            Expression::Variable(_) | Expression::Traversal(_) => self.error(
                "Variables not allowed",
                "Variables may not be used here.",
                expr.span(),
            ),
            Expression::FuncCall(_) => self.error(
                "Function calls not allowed",
                "Functions may not be called here.",
                expr.span(),
            ),
            Expression::UnaryOp(op) => {
                let operand = self.decode(&op.expr);
                match (op.operator.value(), operand) {
                    (UnaryOperator::Neg, Value::Number(n)) => {
                        Value::Number(Number::from_big(-n.big().clone()))
                    }
                    (UnaryOperator::Not, Value::Bool(b)) => Value::Bool(!b),
                    (_, Value::Null) if self.diagnostics.has_errors() => Value::Null,
                    (UnaryOperator::Neg, _) => self.error(
                        "Invalid operand",
                        "Unsuitable value for unary operand: a number is required.",
                        expr.span(),
                    ),
                    (UnaryOperator::Not, _) => self.error(
                        "Invalid operand",
                        "Unsuitable value for unary operand: a bool is required.",
                        expr.span(),
                    ),
                }
            }
            Expression::BinaryOp(_) | Expression::Conditional(_) | Expression::ForExpr(_) => {
                self.evaluate(expr)
            }
        }
    }

    /// A constant expression beyond plain literals, computed by the evaluator's literal mode.
    fn evaluate(&mut self, expr: &Expression) -> Value {
        let whole = super::Expr {
            file: self.file.clone(),
            expr: expr.clone(),
        };
        match crate::lang::eval_literal(&whole) {
            Ok(value) => value,
            Err(errors) => {
                self.diagnostics.extend(errors);
                Value::Null
            }
        }
    }

    /// An object key written as an expression: `"a" = 1` or `(constant) = 1`.
    fn object_key(&mut self, key: &Expression) -> Option<String> {
        // A bare word in parentheses is a reference in Terraform, not a name.
        match self.decode(key) {
            Value::String(s) => Some(s),
            Value::Number(n) => Some(n.to_string()),
            Value::Bool(b) => Some(b.to_string()),
            _ if self.diagnostics.has_errors() => None,
            _ => {
                self.error(
                    "Invalid object key",
                    "An object key must be a string.",
                    key.span(),
                );
                None
            }
        }
    }

    fn template(&mut self, template: &Template, whole: &Expression) -> Value {
        let elements: Vec<&Element> = template.iter().collect();
        let mut text = String::new();
        for (index, element) in elements.iter().enumerate() {
            match element {
                Element::Literal(literal) => {
                    let mut piece: &str = literal.value();
                    // Strip markers (`~`) on the neighbouring interpolations trim this literal.
                    if index > 0 {
                        if let Some(Element::Interpolation(before)) = elements.get(index - 1) {
                            if before.strip.strip_end() {
                                piece = piece.trim_start();
                            }
                        }
                    }
                    if let Some(Element::Interpolation(after)) = elements.get(index + 1) {
                        if after.strip.strip_start() {
                            piece = piece.trim_end();
                        }
                    }
                    text.push_str(piece);
                }
                Element::Interpolation(interpolation) => match self.decode(&interpolation.expr) {
                    Value::String(s) => text.push_str(&s),
                    Value::Number(n) => text.push_str(&n.to_string()),
                    Value::Bool(b) => text.push_str(&b.to_string()),
                    _ if self.diagnostics.has_errors() => {}
                    Value::Null => {
                        self.error(
                            "Invalid template interpolation value",
                            "The expression result is null. Cannot include a null value in a string template.",
                            interpolation.expr.span(),
                        );
                    }
                    _ => {
                        self.error(
                            "Invalid template interpolation value",
                            "Cannot include a list or object in a string template.",
                            interpolation.expr.span(),
                        );
                    }
                },
                Element::Directive(_) => return self.evaluate(whole),
            }
        }
        Value::String(text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decode(text: &str) -> Result<Value, Diagnostics> {
        let file = Arc::new(SourceFile::new("test.tf", format!("x = {text}\n")));
        let body = hcl_edit::parser::parse_body(&file.text).expect("parses");
        let attribute = body.get_attribute("x").expect("has x");
        literal_value(&attribute.value, &file)
    }

    #[test]
    fn constants() {
        assert_eq!(decode("null").unwrap(), Value::Null);
        assert_eq!(decode("true").unwrap(), Value::Bool(true));
        assert_eq!(
            decode("-1.50").unwrap().as_number().unwrap().to_string(),
            "-1.5"
        );
        assert_eq!(
            decode("123456789012345678901234567890")
                .unwrap()
                .as_number()
                .unwrap()
                .to_string(),
            "123456789012345678901234567890"
        );
        assert_eq!(decode("\"a\\nb\"").unwrap(), Value::string("a\nb"));
        assert_eq!(decode("\"$${x}\"").unwrap(), Value::string("${x}"));
        assert_eq!(decode("\"a${1}b\"").unwrap(), Value::string("a1b"));
        assert_eq!(
            decode("[1, \"a\", { b = true, \"c d\" = null }]").unwrap(),
            Value::Tuple(vec![
                Value::from(1),
                Value::string("a"),
                Value::object([("b", Value::Bool(true)), ("c d", Value::Null)]),
            ])
        );
        assert_eq!(
            decode("<<-EOT\n    hello\n      world\n    EOT").unwrap(),
            Value::string("hello\n  world\n")
        );
    }

    #[test]
    fn constant_operators_go_to_the_evaluator() {
        assert_eq!(decode("60 * 60").unwrap(), Value::from(3600));
        assert_eq!(decode("true ? \"a\" : \"b\"").unwrap(), Value::string("a"));
        let errors = decode("1 + var.x").unwrap_err();
        assert_eq!(
            errors.iter().next().unwrap().summary,
            "Variables not allowed"
        );
    }

    /// Terraform accepts a `for` expression over constants as a default: its symbols are its
    /// own, not variables.
    #[test]
    #[ignore = "lang: eval_literal rejects a for expression's own symbols as variables"]
    fn constant_for_expressions() {
        assert_eq!(
            decode("[for n in [1, 2]: n * 2]").unwrap(),
            Value::Tuple(vec![Value::from(2), Value::from(4)])
        );
    }

    #[test]
    fn references_and_calls_are_errors_at_their_location() {
        let errors = decode("[var.a, upper(\"x\"), \"${local.b}\"]").unwrap_err();
        let summaries: Vec<(String, usize)> = errors
            .iter()
            .map(|d| (d.summary.clone(), d.span.as_ref().unwrap().start.column))
            .collect();
        assert_eq!(
            summaries,
            vec![
                ("Variables not allowed".to_string(), 6),
                ("Function calls not allowed".to_string(), 13),
                ("Variables not allowed".to_string(), 28),
            ]
        );
    }
}
