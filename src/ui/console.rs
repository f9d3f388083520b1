//! How `console` prints a value, as Terraform's console does (`repl.FormatValue`): the type
//! conversion functions say what a collection or a null is (`tolist([...])`, `tomap({...})`,
//! `tostring(null)`, `tomap(null) /* of string */`), object and map keys are quoted, a string
//! of several lines is a heredoc.
//!
//! Strata's nulls carry no type, so the type of a null comes from [`static_type`]: what the
//! expression's form tells (a variable's declared type, a resource's schema, a local value's or
//! a module output's own expression, and the attributes, keys and elements taken from them, the
//! conversion functions and the functions that pass a value through (`try`, `lookup`,
//! `element`, `one`, `merge`), conditionals, object and tuple constructors); anything else is
//! `dynamic`, printed `null`.

use crate::value::{ObjectType, Type, Value};
use hcl_edit::expr::{Expression, ObjectKey, TraversalOperator};
use std::collections::BTreeMap;

/// What the root module declares that gives an expression its type.
#[derive(Clone, Debug, Default)]
pub struct Declared {
    /// Each variable's declared type (`None`: no type constraint).
    pub variables: BTreeMap<String, Option<Type>>,
    /// Each resource's object type from its schema (`aws_vpc.main`, `data.aws_ami.x`), and
    /// whether it has `count` or `for_each` (so a reference picks an instance first).
    pub resources: BTreeMap<String, (Type, bool)>,
    /// Each local value's type (the static type of its expression).
    pub locals: BTreeMap<String, Type>,
    /// Each module call's object of output types, and whether it has `count` or `for_each`.
    pub modules: BTreeMap<String, (Type, bool)>,
}

/// The static type of `expr` in the root module; [`Type::Any`] where the form does not tell.
pub fn static_type(expr: &Expression, declared: &Declared) -> Type {
    let of = |e: &Expression| static_type(e, declared);
    match expr {
        Expression::Parenthesis(inner) => of(inner.inner()),
        Expression::Conditional(conditional) => {
            match (of(&conditional.true_expr), of(&conditional.false_expr)) {
                (Type::Any, other) | (other, Type::Any) => other,
                (a, b) if a == b => a,
                _ => Type::Any,
            }
        }
        Expression::String(_) | Expression::StringTemplate(_) | Expression::HeredocTemplate(_) => {
            Type::String
        }
        Expression::Number(_) => Type::Number,
        Expression::Bool(_) => Type::Bool,
        Expression::Array(items) => Type::Tuple(items.iter().map(of).collect()),
        Expression::Object(object) => {
            let mut attributes = BTreeMap::new();
            for (key, value) in object.iter() {
                let name = match key {
                    ObjectKey::Ident(ident) => ident.as_str().to_string(),
                    ObjectKey::Expression(Expression::String(text)) => text.value().to_string(),
                    ObjectKey::Expression(Expression::Variable(ident)) => {
                        ident.as_str().to_string()
                    }
                    ObjectKey::Expression(_) => return Type::Any,
                };
                attributes.insert(name, of(value.expr()));
            }
            Type::Object(ObjectType::new(attributes))
        }
        Expression::FuncCall(call) if call.name.namespace.is_empty() => {
            let args: Vec<&Expression> = call.args.iter().collect();
            function_type(call.name.name.as_str(), &args, declared)
        }
        Expression::Traversal(traversal) => {
            let Expression::Variable(root) = &traversal.expr else {
                return Type::Any;
            };
            let mut operators = traversal.operators.iter().map(|o| o.value()).peekable();
            let found = match (root.as_str(), operators.next()) {
                ("var", Some(TraversalOperator::GetAttr(name))) => {
                    declared.variables.get(name.as_str()).cloned().flatten()
                }
                ("data", Some(TraversalOperator::GetAttr(type_name))) => match operators.next() {
                    Some(TraversalOperator::GetAttr(name)) => {
                        let key = format!("data.{}.{}", type_name.as_str(), name.as_str());
                        repeated_type(declared.resources.get(&key), &mut operators)
                    }
                    _ => None,
                },
                ("local", Some(TraversalOperator::GetAttr(name))) => {
                    declared.locals.get(name.as_str()).cloned()
                }
                ("module", Some(TraversalOperator::GetAttr(name))) => {
                    repeated_type(declared.modules.get(name.as_str()), &mut operators)
                }
                ("local" | "module" | "path" | "terraform" | "count" | "each" | "self", _) => None,
                (type_name, Some(TraversalOperator::GetAttr(name))) => {
                    let key = format!("{type_name}.{}", name.as_str());
                    repeated_type(declared.resources.get(&key), &mut operators)
                }
                _ => None,
            };
            operators.fold(found.unwrap_or(Type::Any), |ty, operator| {
                step(&ty, operator)
            })
        }
        _ => Type::Any,
    }
}

/// The result type of built-in function `name` called with `args`: the conversion functions,
/// and those that pass (part of) an argument through as Terraform types them.
fn function_type(name: &str, args: &[&Expression], declared: &Declared) -> Type {
    let of = |index: usize| {
        args.get(index)
            .map(|e| static_type(e, declared))
            .unwrap_or(Type::Any)
    };
    match name {
        "tostring" => Type::String,
        "tonumber" => Type::Number,
        "tobool" | "can" => Type::Bool,
        "tolist" => Type::List(Box::new(element_type(&of(0)))),
        "toset" => Type::Set(Box::new(element_type(&of(0)))),
        "tomap" => Type::Map(Box::new(element_type(&of(0)))),
        "try" => (0..args.len())
            .map(of)
            .find(|t| *t != Type::Any)
            .unwrap_or(Type::Any),
        "one" | "element" => element_type(&of(0)),
        "lookup" => match (of(0), args.get(1)) {
            (Type::Map(element), _) => *element,
            (Type::Object(object), Some(Expression::String(key))) => (object.attributes)
                .get(key.value().as_str())
                .cloned()
                .unwrap_or(Type::Any),
            _ => Type::Any,
        },
        "merge" => {
            let mut attributes = BTreeMap::new();
            for index in 0..args.len() {
                match of(index) {
                    Type::Object(object) => attributes.extend(object.attributes),
                    _ => return Type::Any,
                }
            }
            Type::Object(ObjectType::new(attributes))
        }
        _ => Type::Any,
    }
}

/// A resource's or module call's object type; the instance key of a repeated one is taken from
/// `operators` (without it, the expression is the whole collection of instances: `dynamic`
/// here).
fn repeated_type<'a>(
    found: Option<&(Type, bool)>,
    operators: &mut std::iter::Peekable<impl Iterator<Item = &'a TraversalOperator>>,
) -> Option<Type> {
    let (ty, repeated) = found?;
    if *repeated {
        match operators.next() {
            Some(TraversalOperator::Index(_) | TraversalOperator::LegacyIndex(_)) => {}
            _ => return None,
        }
    }
    Some(ty.clone())
}

/// The type of what `operator` takes from a value of type `ty`.
fn step(ty: &Type, operator: &TraversalOperator) -> Type {
    match (ty, operator) {
        (Type::Object(object), TraversalOperator::GetAttr(name)) => object
            .attributes
            .get(name.as_str())
            .cloned()
            .unwrap_or(Type::Any),
        (Type::Object(object), TraversalOperator::Index(Expression::String(key))) => object
            .attributes
            .get(key.value().as_str())
            .cloned()
            .unwrap_or(Type::Any),
        (Type::Map(element), TraversalOperator::GetAttr(_) | TraversalOperator::Index(_)) => {
            (**element).clone()
        }
        (Type::List(element), TraversalOperator::Index(_) | TraversalOperator::LegacyIndex(_)) => {
            (**element).clone()
        }
        _ => Type::Any,
    }
}

/// The element type a conversion to a collection gives a value of type `ty`.
fn element_type(ty: &Type) -> Type {
    match ty {
        Type::List(element) | Type::Set(element) | Type::Map(element) => (**element).clone(),
        Type::Tuple(items) => common(items.iter()),
        Type::Object(object) => common(object.attributes.values()),
        _ => Type::Any,
    }
}

/// The one type all of `types` have (ignoring `dynamic` ones), else `dynamic`.
fn common<'a>(types: impl Iterator<Item = &'a Type>) -> Type {
    let mut found = Type::Any;
    for ty in types.filter(|t| **t != Type::Any) {
        if found == Type::Any {
            found = ty.clone();
        } else if found != *ty {
            return Type::Any;
        }
    }
    found
}

/// `value` as Terraform's console prints it; `ty` is its static type ([`static_type`]), used
/// where the value itself cannot tell (a null).
pub fn render_console(value: &Value, ty: &Type) -> String {
    format_value(value, ty, 0)
}

fn format_value(value: &Value, ty: &Type, indent: usize) -> String {
    let own_type;
    let ty = match ty {
        Type::Any => {
            own_type = value.type_of();
            &own_type
        }
        known => known,
    };
    match value {
        Value::Unknown(_) => "(known after apply)".into(),
        Value::Sensitive(_) => "(sensitive value)".into(),
        Value::Null => typed_null(ty),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => n.to_string(),
        Value::String(s) => format_string(s, indent),
        Value::Tuple(items) => {
            let types: Vec<Type> = match ty {
                Type::Tuple(types) => types.clone(),
                _ => Vec::new(),
            };
            let typed = items
                .iter()
                .enumerate()
                .map(|(i, item)| (item, types.get(i).cloned().unwrap_or(Type::Any)));
            format_sequence(typed, indent)
        }
        Value::List(items) | Value::Set(items) => {
            let element = match ty {
                Type::List(element) | Type::Set(element) => (**element).clone(),
                _ => Type::Any,
            };
            let sequence = format_sequence(items.iter().map(|i| (i, element.clone())), indent);
            let function = if matches!(value, Value::Set(_)) {
                "toset"
            } else {
                "tolist"
            };
            format!("{function}({sequence})")
        }
        Value::Map(items) => {
            let element = match ty {
                Type::Map(element) => (**element).clone(),
                _ => Type::Any,
            };
            let typed = items.iter().map(|(k, v)| (k, v, element.clone()));
            format!("tomap({})", format_mapping(typed, indent))
        }
        Value::Object(items) => {
            let typed = items.iter().map(|(k, v)| {
                let attribute = match ty {
                    Type::Object(object) => object.attributes.get(k).cloned(),
                    _ => None,
                };
                (k, v, attribute.unwrap_or(Type::Any))
            });
            format_mapping(typed, indent)
        }
    }
}

/// A null of type `ty`, as Terraform's console names it.
fn typed_null(ty: &Type) -> String {
    match ty {
        Type::Any => "null".into(),
        Type::String => "tostring(null)".into(),
        Type::Number => "tonumber(null)".into(),
        Type::Bool => "tobool(null)".into(),
        Type::List(element) => format!("tolist(null) /* of {} */", element.friendly_name()),
        Type::Set(element) => format!("toset(null) /* of {} */", element.friendly_name()),
        Type::Map(element) => format!("tomap(null) /* of {} */", element.friendly_name()),
        other => format!("null /* {} */", other.friendly_name()),
    }
}

fn format_sequence<'a>(items: impl Iterator<Item = (&'a Value, Type)>, indent: usize) -> String {
    let pad = " ".repeat(indent + 2);
    let mut out = String::from("[");
    let mut count = 0;
    for (item, ty) in items {
        count += 1;
        out.push_str(&format!("\n{pad}{},", format_value(item, &ty, indent + 2)));
    }
    if count > 0 {
        out.push('\n');
        out.push_str(&" ".repeat(indent));
    }
    out.push(']');
    out
}

fn format_mapping<'a>(
    items: impl Iterator<Item = (&'a String, &'a Value, Type)>,
    indent: usize,
) -> String {
    let pad = " ".repeat(indent + 2);
    let mut out = String::from("{");
    let mut count = 0;
    for (key, item, ty) in items {
        count += 1;
        let key = quote(key);
        let value = format_value(item, &ty, indent + 2);
        out.push_str(&format!("\n{pad}{key} = {value}"));
    }
    if count > 0 {
        out.push('\n');
        out.push_str(&" ".repeat(indent));
    }
    out.push('}');
    out
}

/// A string: a heredoc when it has several lines (`<<-` when indented), else quoted.
fn format_string(text: &str, indent: usize) -> String {
    let lines: Vec<&str> = text.split('\n').collect();
    if lines.len() < 2 {
        return quote(text);
    }
    let operator = if indent > 0 { "<<-" } else { "<<" };
    let mut delimiter = String::from("EOT");
    while lines.iter().any(|line| line.trim() == delimiter) {
        delimiter.push('_');
    }
    let pad = " ".repeat(indent);
    let mut out = format!("{operator}{delimiter}");
    for line in lines {
        out.push_str(&format!("\n{pad}{line}"));
    }
    out.push_str(&format!("\n{pad}{delimiter}"));
    out
}

/// Go's `strconv.Quote`: escapes for quotes, backslashes and control characters.
fn quote(text: &str) -> String {
    let mut out = String::from("\"");
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 || c as u32 == 0x7f => {
                out.push_str(&format!("\\x{:02x}", c as u32));
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn typed(text: &str, variables: &[(&str, Type)]) -> Type {
        let declared = Declared {
            variables: variables
                .iter()
                .map(|(name, ty)| (name.to_string(), Some(ty.clone())))
                .collect(),
            resources: BTreeMap::from([(
                "x_thing.a".to_string(),
                (
                    Type::Object(ObjectType::new([(
                        "tags".to_string(),
                        Type::Map(Box::new(Type::String)),
                    )])),
                    true,
                ),
            )]),
            ..Declared::default()
        };
        static_type(&hcl_edit::parser::parse_expr(text).unwrap(), &declared)
    }

    #[test]
    fn locals_and_module_outputs_have_the_types_found_for_them() {
        let declared = Declared {
            locals: BTreeMap::from([("s".to_string(), Type::String)]),
            modules: BTreeMap::from([(
                "m".to_string(),
                (
                    Type::Object(ObjectType::new([("n".to_string(), Type::Number)])),
                    true,
                ),
            )]),
            ..Declared::default()
        };
        let typed =
            |text: &str| static_type(&hcl_edit::parser::parse_expr(text).unwrap(), &declared);
        assert_eq!(typed("local.s"), Type::String);
        assert_eq!(typed("module.m[0].n"), Type::Number);
        assert_eq!(typed("module.m.n"), Type::Any);
    }

    #[test]
    fn a_null_is_printed_with_the_type_the_expression_gives_it() {
        let map = Type::Map(Box::new(Type::String));
        let list = Type::List(Box::new(Type::Number));
        let object = Type::Object(ObjectType::new([("b".to_string(), list)]));
        assert_eq!(
            render_console(&Value::Null, &typed("var.m", &[("m", map.clone())])),
            "tomap(null) /* of string */"
        );
        assert_eq!(
            render_console(&Value::Null, &typed("true ? null : \"a\"", &[])),
            "tostring(null)"
        );
        assert_eq!(
            render_console(&Value::Null, &typed("tolist(null)", &[])),
            "tolist(null) /* of dynamic */"
        );
        assert_eq!(render_console(&Value::Null, &typed("local.x", &[])), "null");
        assert_eq!(
            render_console(
                &Value::Null,
                &typed("lookup(var.o, \"b\")", &[("o", object)])
            ),
            "tolist(null) /* of number */"
        );
        assert_eq!(
            render_console(&Value::Null, &typed("try(one([var.m]), {})", &[("m", map)])),
            "tomap(null) /* of string */"
        );
        assert_eq!(
            render_console(&Value::Null, &typed("x_thing.a[0].tags", &[])),
            "tomap(null) /* of string */"
        );
        assert_eq!(
            render_console(&Value::Null, &typed("x_thing.a.tags", &[])),
            "null"
        );
    }
}
