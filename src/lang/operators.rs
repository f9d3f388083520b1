//! Operators and conditionals, with Terraform's automatic conversions: arithmetic and
//! comparison convert their operands to numbers (`"1" + 2` is 3), logical operators to bools,
//! `==` compares without conversion, and a conditional's two results are unified to one type.
//! Unknown operands give unknown results of the operator's type; sensitive operands make the
//! result sensitive.

use super::eval::{EvalResult, Evaluator};
use crate::diagnostics::Diagnostics;
use crate::value::{convert, Number, ObjectType, Type, Value};
use hcl_edit::expr::{BinaryOperator, UnaryOperator};
use std::ops::Range;

/// An operand after conversion.
enum Operand {
    Known(Value),
    Unknown,
}

fn operand(
    evaluator: &Evaluator<'_>,
    value: Value,
    ty: &Type,
    side: &str,
    span: &Option<Range<usize>>,
) -> EvalResult<(Operand, bool)> {
    let (value, sensitive) = value.unmark();
    let required = match ty {
        Type::Bool => "a bool is required",
        _ => "a number is required",
    };
    match value {
        Value::Unknown(_) => Ok((Operand::Unknown, sensitive)),
        Value::Null => Err(evaluator.error(
            "Operation failed",
            format!("Error during operation: {side} operand must not be null."),
            evaluator.at(span.clone()),
        )),
        other => match convert(other, ty) {
            Ok(converted) => Ok((Operand::Known(converted), sensitive)),
            Err(_) => Err(evaluator.error(
                "Invalid operand",
                format!("Unsuitable value for {side} operand: {required}."),
                evaluator.at(span.clone()),
            )),
        },
    }
}

fn number_of(value: &Value) -> Number {
    value
        .as_number()
        .cloned()
        .unwrap_or_else(|| Number::from(0))
}

pub(crate) fn unary(
    evaluator: &Evaluator<'_>,
    operator: UnaryOperator,
    value: Value,
    span: Option<Range<usize>>,
) -> EvalResult {
    let ty = match operator {
        UnaryOperator::Neg => Type::Number,
        UnaryOperator::Not => Type::Bool,
    };
    let (value, sensitive) = operand(evaluator, value, &ty, "the", &span)?;
    let result = match (operator, value) {
        (_, Operand::Unknown) => Value::Unknown(ty),
        (UnaryOperator::Neg, Operand::Known(v)) => {
            Value::Number(Number::from_big(-number_of(&v).big().clone()))
        }
        (UnaryOperator::Not, Operand::Known(v)) => Value::Bool(!v.as_bool().unwrap_or(false)),
    };
    Ok(result.mark_if(sensitive))
}

pub(crate) fn binary(
    evaluator: &Evaluator<'_>,
    operator: BinaryOperator,
    lhs: Value,
    rhs: Value,
    span: Option<Range<usize>>,
) -> EvalResult {
    use BinaryOperator::*;
    if let Eq | NotEq = operator {
        let sensitive = lhs.contains_sensitive() || rhs.contains_sensitive();
        // As in cty, values of different types are never equal: a list is not equal to a
        // tuple with the same elements (`var.list == []` is false).
        let result = match lhs.equals(&rhs) {
            Some(equal) => {
                let equal = equal && lhs.type_of() == rhs.type_of();
                Value::Bool(equal == matches!(operator, Eq))
            }
            None => Value::Unknown(Type::Bool),
        };
        return Ok(result.mark_if(sensitive));
    }
    let operand_type = match operator {
        And | Or => Type::Bool,
        _ => Type::Number,
    };
    let left = operand(evaluator, lhs, &operand_type, "left", &span);
    let right = operand(evaluator, rhs, &operand_type, "right", &span);
    let ((left, left_sensitive), (right, right_sensitive)) = match (left, right) {
        (Ok(left), Ok(right)) => (left, right),
        (left, right) => {
            let mut errors = Diagnostics::new();
            errors.extend(left.err().unwrap_or_default());
            errors.extend(right.err().unwrap_or_default());
            return Err(errors);
        }
    };
    let sensitive = left_sensitive || right_sensitive;
    if let And | Or = operator {
        let short = matches!(operator, Or);
        let known = |o: &Operand| match o {
            Operand::Known(v) => v.as_bool(),
            Operand::Unknown => None,
        };
        let (a, b) = (known(&left), known(&right));
        // `false && x` is false and `true || x` is true even when x is unknown.
        let result = if a == Some(short) || b == Some(short) {
            Value::Bool(short)
        } else if a.is_none() || b.is_none() {
            Value::Unknown(Type::Bool)
        } else {
            Value::Bool(!short)
        };
        return Ok(result.mark_if(sensitive));
    }
    let (Operand::Known(left), Operand::Known(right)) = (left, right) else {
        let ty = match operator {
            Less | LessEq | Greater | GreaterEq => Type::Bool,
            _ => Type::Number,
        };
        return Ok(Value::Unknown(ty).mark_if(sensitive));
    };
    let (a, b) = (number_of(&left), number_of(&right));
    let divide_by_zero = || {
        evaluator.error(
            "Operation failed",
            "Error during operation: can't divide by zero.",
            evaluator.at(span.clone()),
        )
    };
    let result = match operator {
        Less => Value::Bool(a < b),
        LessEq => Value::Bool(a <= b),
        Greater => Value::Bool(a > b),
        GreaterEq => Value::Bool(a >= b),
        Plus => Value::Number(Number::from_big(a.big() + b.big())),
        Minus => Value::Number(Number::from_big(a.big() - b.big())),
        Mul => Value::Number(Number::from_big(a.big() * b.big())),
        Div => {
            if b.is_zero() {
                return Err(divide_by_zero());
            }
            Value::Number(Number::from_big(a.big() / b.big()))
        }
        Mod => {
            if b.is_zero() {
                return Err(divide_by_zero());
            }
            Value::Number(Number::from_big(a.big() % b.big()))
        }
        Eq | NotEq | And | Or => Value::Null,
    };
    Ok(result.mark_if(sensitive))
}

/// `condition ? true_result : false_result`. Both results are evaluated (their types decide
/// the result's type) but only the chosen one's errors count.
pub(crate) fn conditional(
    evaluator: &Evaluator<'_>,
    condition: Value,
    true_result: EvalResult,
    false_result: EvalResult,
    spans: [Option<Range<usize>>; 3],
) -> EvalResult {
    let [condition_span, true_span, false_span] = spans;
    let (condition, sensitive) = condition.unmark();
    let type_of = |result: &EvalResult| result.as_ref().map(Value::type_of).unwrap_or(Type::Any);
    let chosen = match condition {
        Value::Null => {
            return Err(evaluator.error(
                "Null condition",
                "The condition value is null. Conditions must either be true or false.",
                evaluator.at(condition_span),
            ))
        }
        Value::Unknown(_) => {
            let (true_type, false_type) = (type_of(&true_result), type_of(&false_result));
            let Some(ty) = unify_loose(&true_type, &false_type) else {
                // Either result could be chosen later: they must fit one type already.
                return Err(evaluator.error(
                    "Inconsistent conditional result types",
                    format!(
                        "The true and false result expressions must have consistent types. The 'true' value is {}, but the 'false' value is {}.",
                        true_type.friendly_name(),
                        false_type.friendly_name()
                    ),
                    evaluator.at(condition_span),
                ));
            };
            let branch_sensitive = [&true_result, &false_result]
                .iter()
                .any(|r| r.as_ref().is_ok_and(Value::contains_sensitive));
            return Ok(Value::Unknown(ty).mark_if(sensitive || branch_sensitive));
        }
        other => match convert(other, &Type::Bool) {
            Ok(Value::Bool(chosen)) => chosen,
            _ => {
                return Err(evaluator.error(
                    "Incorrect condition type",
                    "The condition expression must be of type bool.",
                    evaluator.at(condition_span),
                ))
            }
        },
    };
    let (true_type, false_type) = (type_of(&true_result), type_of(&false_result));
    let (result, result_span) = if chosen {
        (true_result?, true_span)
    } else {
        (false_result?, false_span)
    };
    let inconsistent = || {
        evaluator.error(
            "Inconsistent conditional result types",
            format!(
                "The true and false result expressions must have consistent types. The 'true' value is {}, but the 'false' value is {}.",
                true_type.friendly_name(),
                false_type.friendly_name()
            ),
            evaluator.at(result_span.clone()),
        )
    };
    let unified = unify_loose(&true_type, &false_type).ok_or_else(inconsistent)?;
    let converted = convert(result, &unified).map_err(|_| inconsistent())?;
    Ok(converted.mark_if(sensitive))
}

/// The type two values can both convert to, as cty's unification finds it: primitives meet at
/// string, tuples of different shapes at a list, objects of different shapes at a map.
pub fn unify_loose(a: &Type, b: &Type) -> Option<Type> {
    if a == b {
        return Some(a.clone());
    }
    match (a, b) {
        (Type::Any, other) | (other, Type::Any) => Some(other.clone()),
        (x, y) if x.is_primitive() && y.is_primitive() => Some(Type::String),
        (Type::List(x), Type::List(y)) => unify_loose(x, y).map(Type::list),
        (Type::Set(x), Type::Set(y)) => unify_loose(x, y).map(Type::set),
        (Type::Map(x), Type::Map(y)) => unify_loose(x, y).map(Type::map),
        (Type::Tuple(x), Type::Tuple(y)) => {
            if x.len() == y.len() {
                let elementwise: Option<Vec<Type>> =
                    x.iter().zip(y).map(|(p, q)| unify_loose(p, q)).collect();
                if let Some(types) = elementwise {
                    return Some(Type::Tuple(types));
                }
            }
            unify_all(x.iter().chain(y)).map(Type::list)
        }
        (Type::List(element), Type::Tuple(items)) | (Type::Tuple(items), Type::List(element)) => {
            unify_all(std::iter::once(element.as_ref()).chain(items)).map(Type::list)
        }
        (Type::Object(x), Type::Object(y)) => {
            if x.attributes.keys().eq(y.attributes.keys()) {
                let attributes: Option<Vec<(String, Type)>> = x
                    .attributes
                    .iter()
                    .zip(y.attributes.values())
                    .map(|((name, p), q)| unify_loose(p, q).map(|t| (name.clone(), t)))
                    .collect();
                if let Some(attributes) = attributes {
                    return Some(Type::Object(ObjectType::new(attributes)));
                }
            }
            unify_all(x.attributes.values().chain(y.attributes.values())).map(Type::map)
        }
        (Type::Map(element), Type::Object(object)) | (Type::Object(object), Type::Map(element)) => {
            unify_all(std::iter::once(element.as_ref()).chain(object.attributes.values()))
                .map(Type::map)
        }
        _ => None,
    }
}

fn unify_all<'t>(types: impl Iterator<Item = &'t Type>) -> Option<Type> {
    let mut result = Type::Any;
    for ty in types {
        result = unify_loose(&result, ty)?;
    }
    Some(result)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unifies_like_cty() {
        let tuple = |items: Vec<Type>| Type::Tuple(items);
        assert_eq!(
            unify_loose(&Type::Number, &Type::String),
            Some(Type::String)
        );
        assert_eq!(unify_loose(&Type::Any, &Type::Bool), Some(Type::Bool));
        assert_eq!(
            unify_loose(&tuple(vec![]), &tuple(vec![Type::String])),
            Some(Type::list(Type::String))
        );
        assert_eq!(
            unify_loose(&tuple(vec![Type::Number]), &tuple(vec![Type::String])),
            Some(tuple(vec![Type::String]))
        );
        let object = |name: &str, ty: Type| Type::Object(ObjectType::new([(name.to_string(), ty)]));
        assert_eq!(
            unify_loose(&object("a", Type::String), &object("b", Type::String)),
            Some(Type::map(Type::String))
        );
        assert_eq!(
            unify_loose(&object("a", Type::String), &Type::list(Type::String)),
            None
        );
    }
}
