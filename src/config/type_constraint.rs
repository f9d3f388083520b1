//! Type constraints as written in a `variable` block's `type` argument:
//! `string`, `list(object({ name = string, port = optional(number, 80) }))`, ….

use super::literal::literal_value;
use super::Expr;
use crate::diagnostics::{did_you_mean, Diagnostic, SourceFile};
use crate::value::{convert, ObjectType, Type, Value};
use hcl_edit::expr::{Expression, ObjectKey};
use hcl_edit::Span as _;
use std::collections::BTreeMap;
use std::sync::Arc;

const KEYWORDS: &[&str] = &[
    "string", "number", "bool", "any", "list", "set", "map", "tuple", "object",
];

/// Parses a type constraint expression. The legacy quoted forms `"string"`, `"list"` and
/// `"map"` of Terraform 0.11 are accepted too (as `string`, `list(any)`, `map(any)`).
pub fn parse_type_constraint(expr: &Expr) -> Result<Type, Diagnostic> {
    TypeParser { file: &expr.file }.parse(&expr.expr, false)
}

/// Whether `expr` is one of the legacy quoted forms (which deserve a deprecation warning).
pub fn is_legacy_quoted(expr: &Expr) -> bool {
    matches!(&expr.expr, Expression::String(_))
}

struct TypeParser<'a> {
    file: &'a Arc<SourceFile>,
}

impl TypeParser<'_> {
    fn invalid(&self, expr: &Expression, detail: impl Into<String>) -> Diagnostic {
        Diagnostic::error("Invalid type specification")
            .with_detail(detail)
            .with_span_opt(expr.span().map(|range| self.file.span(range)))
    }

    /// `in_object_attribute`: whether `optional(...)` is allowed here.
    fn parse(&self, expr: &Expression, in_object_attribute: bool) -> Result<Type, Diagnostic> {
        match expr {
            Expression::Parenthesis(inner) => self.parse(inner.inner(), in_object_attribute),
            Expression::String(s) => match s.value().as_str() {
                "string" => Ok(Type::String),
                "list" => Ok(Type::list(Type::Any)),
                "map" => Ok(Type::map(Type::Any)),
                other => Err(self.invalid(
                    expr,
                    format!("A type specification is a keyword such as `string`, not a quoted string (\"{other}\")."),
                )),
            },
            Expression::Variable(name) => match name.as_str() {
                "string" => Ok(Type::String),
                "number" => Ok(Type::Number),
                "bool" => Ok(Type::Bool),
                "any" => Ok(Type::Any),
                keyword @ ("list" | "set" | "map" | "tuple" | "object") => Err(self.invalid(
                    expr,
                    format!("The {keyword} type constructor requires one argument specifying the element type."),
                )),
                "optional" => Err(self.invalid(
                    expr,
                    "Keyword \"optional\" is valid only as a modifier for object type attributes.",
                )),
                other => {
                    let error = self.invalid(
                        expr,
                        format!("The keyword \"{other}\" is not a valid type specification."),
                    );
                    Err(error.with_suggestion(did_you_mean(other, KEYWORDS.iter().copied())))
                }
            },
            Expression::FuncCall(call) => {
                let name = call.name.name.as_str();
                let args: Vec<&Expression> = call.args.iter().collect();
                let single = |what: &str| -> Result<&Expression, Diagnostic> {
                    match args.as_slice() {
                        [arg] => Ok(*arg),
                        _ => Err(self.invalid(
                            expr,
                            format!("The {name} type constructor requires one argument specifying {what}."),
                        )),
                    }
                };
                match name {
                    "list" => Ok(Type::list(self.parse(single("the element type")?, false)?)),
                    "set" => Ok(Type::set(self.parse(single("the element type")?, false)?)),
                    "map" => Ok(Type::map(self.parse(single("the element type")?, false)?)),
                    "tuple" => match single("the element types as a list")? {
                        Expression::Array(items) => Ok(Type::Tuple(
                            items.iter().map(|item| self.parse(item, false)).collect::<Result<_, _>>()?,
                        )),
                        other => Err(self.invalid(
                            other,
                            "The tuple type constructor requires a list of element types: tuple([string, number]).",
                        )),
                    },
                    "object" => match single("the attribute types as an object")? {
                        Expression::Object(object) => {
                            let mut object_type = ObjectType::default();
                            for (key, value) in object.iter() {
                                let attribute = match key {
                                    ObjectKey::Ident(ident) => ident.as_str().to_string(),
                                    ObjectKey::Expression(Expression::String(s)) => s.value().clone(),
                                    ObjectKey::Expression(Expression::Variable(ident)) => ident.as_str().to_string(),
                                    ObjectKey::Expression(other) => {
                                        return Err(self.invalid(
                                            other,
                                            "Object constructor map keys must be attribute names.",
                                        ))
                                    }
                                };
                                match self.optional_attribute(value.expr())? {
                                    Some((attribute_type, default)) => {
                                        object_type.attributes.insert(attribute.clone(), attribute_type);
                                        object_type.optional.insert(attribute, default);
                                    }
                                    None => {
                                        let attribute_type = self.parse(value.expr(), true)?;
                                        object_type.attributes.insert(attribute, attribute_type);
                                    }
                                }
                            }
                            Ok(Type::Object(object_type))
                        }
                        other => Err(self.invalid(
                            other,
                            "The object type constructor requires an object of attribute types: object({ name = string }).",
                        )),
                    },
                    "optional" if !in_object_attribute => Err(self.invalid(
                        expr,
                        "Keyword \"optional\" is valid only as a modifier for object type attributes.",
                    )),
                    "optional" => Err(self.invalid(expr, "optional() may not be nested.")),
                    other => {
                        let error =
                            self.invalid(expr, format!("Keyword \"{other}\" is not a valid type constructor."));
                        Err(error.with_suggestion(did_you_mean(other, KEYWORDS.iter().copied())))
                    }
                }
            }
            _ => Err(self.invalid(
                expr,
                "A type specification is either a primitive type keyword (bool, number, string), the keyword any, or a complex type constructor call, like list(string).",
            )),
        }
    }

    /// `optional(T)` or `optional(T, default)`: the attribute type and its default (converted
    /// to the type). `None` when the expression is not an `optional(...)` call.
    fn optional_attribute(
        &self,
        expr: &Expression,
    ) -> Result<Option<(Type, Option<Value>)>, Diagnostic> {
        let Expression::FuncCall(call) = expr else {
            return Ok(None);
        };
        if call.name.name.as_str() != "optional" {
            return Ok(None);
        }
        let args: Vec<&Expression> = call.args.iter().collect();
        match args.as_slice() {
            [ty] => Ok(Some((self.parse(ty, false)?, None))),
            [ty, default] => {
                let attribute_type = self.parse(ty, false)?;
                let default_span = default.span().map(|range| self.file.span(range));
                let value = literal_value(default, self.file).map_err(|errors| {
                    errors
                        .into_iter()
                        .next()
                        .unwrap_or_else(|| Diagnostic::error("Invalid default value"))
                })?;
                let value = convert(value, &attribute_type).map_err(|error| {
                    Diagnostic::error("Invalid default value for optional attribute")
                        .with_detail(format!(
                            "This default value is not compatible with the attribute's type constraint ({}): {error}.",
                            attribute_type.expression()
                        ))
                        .with_span_opt(default_span.clone())
                })?;
                Ok(Some((attribute_type, Some(value))))
            }
            _ => Err(self.invalid(
                expr,
                "The optional modifier requires the attribute type and an optional default: optional(string, \"a\").",
            )),
        }
    }
}

/// A type constraint in Terraform's syntax, optional attributes and their defaults included:
/// `object({name = string, port = optional(number, 80)})`.
pub fn type_expression(ty: &Type) -> String {
    match ty {
        Type::List(e) => format!("list({})", type_expression(e)),
        Type::Set(e) => format!("set({})", type_expression(e)),
        Type::Map(e) => format!("map({})", type_expression(e)),
        Type::Tuple(items) => format!(
            "tuple([{}])",
            items
                .iter()
                .map(type_expression)
                .collect::<Vec<_>>()
                .join(", ")
        ),
        Type::Object(object) => {
            let attributes: BTreeMap<&String, String> = object
                .attributes
                .iter()
                .map(|(name, attribute_type)| {
                    let inner = type_expression(attribute_type);
                    let text = match object.optional.get(name) {
                        Some(Some(default)) => format!(
                            "optional({inner}, {})",
                            crate::value::value_to_json(default)
                                .map(|json| json.to_string())
                                .unwrap_or_else(|_| "?".into())
                        ),
                        Some(None) => format!("optional({inner})"),
                        None => inner,
                    };
                    (name, text)
                })
                .collect();
            format!(
                "object({{{}}})",
                attributes
                    .iter()
                    .map(|(name, text)| format!("{name} = {text}"))
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        }
        other => other.expression(),
    }
}
