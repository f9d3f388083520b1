//! Numeric functions: abs, ceil, floor, log, max, min, parseint, pow, signum.
//!
//! Numbers stay arbitrary precision except in `log` and `pow`, which Terraform computes with
//! 64-bit floats too.

use super::{
    arg_error, failed, number_from_f64, returns, whole_number, FunctionContext, FunctionError,
    FunctionSpec, Param,
};
use crate::value::{Number, Type, Value};
use bigdecimal::{BigDecimal, RoundingMode, Zero};
use num_bigint::BigInt;

pub(super) fn functions() -> Vec<FunctionSpec> {
    let num = || Param::new("num", Type::Number);
    vec![
        FunctionSpec::new("abs", vec![num()], returns::number, abs),
        FunctionSpec::new("ceil", vec![num()], returns::number, ceil),
        FunctionSpec::new("floor", vec![num()], returns::number, floor),
        FunctionSpec::new(
            "log",
            vec![num(), Param::new("base", Type::Number)],
            returns::number,
            log,
        ),
        FunctionSpec::new("max", vec![], returns::number, max)
            .variadic(Param::new("numbers", Type::Number)),
        FunctionSpec::new("min", vec![], returns::number, min)
            .variadic(Param::new("numbers", Type::Number)),
        FunctionSpec::new(
            "parseint",
            vec![Param::any("number"), Param::new("base", Type::Number)],
            returns::number,
            parseint,
        ),
        FunctionSpec::new(
            "pow",
            vec![num(), Param::new("power", Type::Number)],
            returns::number,
            pow,
        ),
        FunctionSpec::new("signum", vec![num()], returns::number, signum),
    ]
}

fn number(value: &Value) -> &BigDecimal {
    static ZERO: std::sync::LazyLock<BigDecimal> = std::sync::LazyLock::new(BigDecimal::zero);
    value.as_number().map(Number::big).unwrap_or(&ZERO)
}

fn abs(args: Vec<Value>, _: &FunctionContext) -> Result<Value, FunctionError> {
    Ok(Value::Number(Number::from_big(number(&args[0]).abs())))
}

fn ceil(args: Vec<Value>, _: &FunctionContext) -> Result<Value, FunctionError> {
    Ok(Value::Number(Number::from_big(
        number(&args[0]).with_scale_round(0, RoundingMode::Ceiling),
    )))
}

fn floor(args: Vec<Value>, _: &FunctionContext) -> Result<Value, FunctionError> {
    Ok(Value::Number(Number::from_big(
        number(&args[0]).with_scale_round(0, RoundingMode::Floor),
    )))
}

fn float_result(value: f64) -> Result<Value, FunctionError> {
    number_from_f64(value)
        .map(Value::Number)
        .ok_or_else(|| failed("the result is not a finite number"))
}

fn log(args: Vec<Value>, _: &FunctionContext) -> Result<Value, FunctionError> {
    let (num, base) = (args[0].as_number(), args[1].as_number());
    let num = num.map(Number::to_f64).unwrap_or(f64::NAN);
    let base = base.map(Number::to_f64).unwrap_or(f64::NAN);
    float_result(num.ln() / base.ln())
}

fn pow(args: Vec<Value>, _: &FunctionContext) -> Result<Value, FunctionError> {
    let num = args[0].as_number().map(Number::to_f64).unwrap_or(f64::NAN);
    let power = args[1].as_number().map(Number::to_f64).unwrap_or(f64::NAN);
    float_result(num.powf(power))
}

fn extreme(args: Vec<Value>, want_max: bool) -> Result<Value, FunctionError> {
    let mut best: Option<&BigDecimal> = None;
    for arg in &args {
        let candidate = number(arg);
        best = match best {
            Some(current)
                if (want_max && current >= candidate) || (!want_max && current <= candidate) =>
            {
                Some(current)
            }
            _ => Some(candidate),
        };
    }
    best.map(|n| Value::Number(Number::from_big(n.clone())))
        .ok_or_else(|| failed("must pass at least one number"))
}

fn max(args: Vec<Value>, _: &FunctionContext) -> Result<Value, FunctionError> {
    extreme(args, true)
}

fn min(args: Vec<Value>, _: &FunctionContext) -> Result<Value, FunctionError> {
    extreme(args, false)
}

fn signum(args: Vec<Value>, _: &FunctionContext) -> Result<Value, FunctionError> {
    // Terraform reads the number as a whole int first, so fractions are an error.
    let num = whole_number(&args[0]).map_err(failed)?;
    Ok(Value::from(num.signum()))
}

fn parseint(args: Vec<Value>, _: &FunctionContext) -> Result<Value, FunctionError> {
    let text = match &args[0] {
        Value::String(text) => text,
        other => {
            return Err(arg_error(
                0,
                format!(
                    "first argument must be a string, not {}",
                    other.friendly_type_name()
                ),
            ))
        }
    };
    let base = whole_number(&args[1]).map_err(|message| arg_error(1, message))?;
    if !(2..=62).contains(&base) {
        return Err(arg_error(
            1,
            "base must be a whole number between 2 and 62 inclusive",
        ));
    }
    let parsed = parse_integer(text, base as u32)
        .ok_or_else(|| arg_error(0, format!("cannot parse {text:?} as a base {base} integer")))?;
    Ok(Value::Number(Number::from_big(BigDecimal::from(parsed))))
}

/// Parses like Go's `big.Int.SetString` with an explicit base: an optional sign, then digits
/// `0-9a-zA-Z` (case-insensitive up to base 36; above it, lowercase are 10–35 and uppercase
/// 36–61).
fn parse_integer(text: &str, base: u32) -> Option<BigInt> {
    let (negative, digits) = match text.as_bytes().first() {
        Some(b'-') => (true, &text[1..]),
        Some(b'+') => (false, &text[1..]),
        _ => (false, text),
    };
    if digits.is_empty() {
        return None;
    }
    let mut result = BigInt::zero();
    for byte in digits.bytes() {
        let digit = match byte {
            b'0'..=b'9' => u32::from(byte - b'0'),
            b'a'..=b'z' => u32::from(byte - b'a') + 10,
            b'A'..=b'Z' if base <= 36 => u32::from(byte - b'A') + 10,
            b'A'..=b'Z' => u32::from(byte - b'A') + 36,
            _ => return None,
        };
        if digit >= base {
            return None;
        }
        result = result * base + digit;
    }
    Some(if negative { -result } else { result })
}

#[cfg(test)]
mod tests {
    use super::*;
    use bigdecimal::Signed;

    #[test]
    fn parses_bases() {
        assert_eq!(parse_integer("ff", 16), Some(BigInt::from(255)));
        assert_eq!(parse_integer("-11", 2), Some(BigInt::from(-3)));
        assert_eq!(parse_integer("Z", 62), Some(BigInt::from(61)));
        assert_eq!(parse_integer("", 10), None);
        assert_eq!(parse_integer("12", 2), None);
        assert!(parse_integer("ffffffffffffffffffff", 16)
            .unwrap()
            .is_positive());
    }
}
