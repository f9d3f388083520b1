//! `format` and `formatlist`: printf-style formatting with Terraform's verbs.
//!
//! The verb syntax is `%[flags][[n]][width][.precision]verb` with flags `space + - 0 #`, verbs
//! `v #v t b d o x X e E f g G s q` and `%%`. Numbers are formatted from their exact decimal
//! digits the way Go's `fmt` formats a `big.Float` / `big.Int`, which is what Terraform does
//! (including its quirk that `%v` of 1000000 is `1e+06`). Widths and string precisions count
//! grapheme clusters.

use super::encoding::json_encode;
use super::text::{grapheme_count, graphemes};
use super::{
    arg_error, failed, returns, string_value, FunctionContext, FunctionError, FunctionSpec, Param,
};
use crate::value::{convert, Number, Type, Value};
use bigdecimal::Signed;

pub(super) fn functions() -> Vec<FunctionSpec> {
    vec![
        FunctionSpec::new(
            "format",
            vec![Param::new("format", Type::String)],
            returns::string,
            format,
        )
        .variadic(Param::any("args").allow_null()),
        FunctionSpec::new(
            "formatlist",
            vec![Param::new("format", Type::String)],
            returns::list_of_string,
            formatlist,
        )
        .variadic(Param::any("args").allow_null().allow_unknown()),
    ]
}

fn format(args: Vec<Value>, _: &FunctionContext) -> Result<Value, FunctionError> {
    if !args[1..].iter().all(Value::is_wholly_known) {
        // Collections print as JSON, which needs every value inside known.
        return Ok(Value::Unknown(Type::String));
    }
    format_values(string_value(&args[0]), &args[1..]).map(Value::from)
}

fn formatlist(args: Vec<Value>, _: &FunctionContext) -> Result<Value, FunctionError> {
    let format_text = string_value(&args[0]);
    let values = &args[1..];
    if values.is_empty() {
        return format_values(format_text, values).map(|text| Value::List(vec![Value::from(text)]));
    }
    let mut length: Option<(usize, usize)> = None; // (length, argument index)
    let mut any_unknown = false;
    for (index, value) in values.iter().enumerate() {
        let this_length = match value {
            Value::List(items) | Value::Tuple(items) | Value::Set(items) => items.len(),
            Value::Unknown(Type::Tuple(types)) => {
                any_unknown = true;
                types.len()
            }
            Value::Unknown(Type::List(_) | Type::Set(_)) => {
                any_unknown = true;
                continue;
            }
            _ => continue,
        };
        match length {
            None => length = Some((this_length, index)),
            Some((expected, first)) if expected != this_length => {
                return Err(arg_error(
                    index + 1,
                    format!(
                        "argument {} has length {this_length}, which is inconsistent with argument {} of length {expected}",
                        index + 1,
                        first + 1
                    ),
                ))
            }
            Some(_) => {}
        }
    }
    if any_unknown {
        return Ok(Value::Unknown(Type::list(Type::String)));
    }
    let iterations = length.map(|(n, _)| n).unwrap_or(1);
    let mut results = Vec::with_capacity(iterations);
    'results: for iteration in 0..iterations {
        let mut call_args = Vec::with_capacity(values.len());
        for value in values {
            let item = match value {
                Value::List(items) | Value::Tuple(items) | Value::Set(items) => {
                    items[iteration].clone()
                }
                other => other.clone(),
            };
            if !item.is_wholly_known() {
                results.push(Value::Unknown(Type::String));
                continue 'results;
            }
            call_args.push(item);
        }
        match format_values(format_text, &call_args) {
            Ok(text) => results.push(Value::from(text)),
            Err(FunctionError::Failed(message) | FunctionError::Argument { message, .. }) => {
                return Err(failed(format!(
                    "error on format iteration {iteration}: {message}"
                )))
            }
            Err(other) => return Err(other),
        }
    }
    Ok(Value::List(results))
}

/// One parsed `%` verb.
#[derive(Default)]
struct Verb<'a> {
    raw: &'a str,
    offset: usize,
    arg_number: usize,
    mode: char,
    zero: bool,
    sharp: bool,
    plus: bool,
    minus: bool,
    space: bool,
    width: Option<usize>,
    precision: Option<usize>,
}

/// Formats `values` by `format_text`; errors are as Terraform words them.
pub(super) fn format_values(format_text: &str, values: &[Value]) -> Result<String, FunctionError> {
    let bytes = format_text.as_bytes();
    let mut out = String::new();
    let mut next_arg = 1;
    let mut highest_arg = 0;
    let mut position = 0;
    let unrecognized = |at: usize| {
        let ch = format_text[at..].chars().next().unwrap_or('?');
        failed(format!(
            "unrecognized format character {ch:?} at offset {at}"
        ))
    };
    let unfinished = || {
        failed(format!(
            "invalid format string starting at offset {}",
            bytes.len()
        ))
    };
    while position < bytes.len() {
        if bytes[position] != b'%' {
            let end = format_text[position..]
                .find('%')
                .map(|i| position + i)
                .unwrap_or(bytes.len());
            out.push_str(&format_text[position..end]);
            position = end;
            continue;
        }
        if bytes.get(position + 1) == Some(&b'%') {
            out.push('%');
            position += 2;
            continue;
        }
        let start = position;
        position += 1;
        let mut verb = Verb {
            arg_number: next_arg,
            offset: start,
            ..Verb::default()
        };
        while let Some(&byte) = bytes.get(position) {
            match byte {
                b'0' => verb.zero = true,
                b'#' => verb.sharp = true,
                b'-' => verb.minus = true,
                b'+' => verb.plus = true,
                b' ' => verb.space = true,
                _ => break,
            }
            position += 1;
        }
        if bytes.get(position) == Some(&b'[') {
            position += 1;
            match bytes.get(position) {
                Some(b'1'..=b'9') => {}
                Some(_) => return Err(unrecognized(position)),
                None => return Err(unfinished()),
            }
            let mut number = 0usize;
            while let Some(&digit @ b'0'..=b'9') = bytes.get(position) {
                number = number
                    .saturating_mul(10)
                    .saturating_add(usize::from(digit - b'0'));
                position += 1;
            }
            match bytes.get(position) {
                Some(b']') => position += 1,
                Some(_) => return Err(unrecognized(position)),
                None => return Err(unfinished()),
            }
            verb.arg_number = number;
        }
        if let Some(b'1'..=b'9') = bytes.get(position) {
            let mut width = 0usize;
            while let Some(&digit @ b'0'..=b'9') = bytes.get(position) {
                width = width
                    .saturating_mul(10)
                    .saturating_add(usize::from(digit - b'0'));
                position += 1;
            }
            verb.width = Some(width.min(1 << 16));
        }
        if bytes.get(position) == Some(&b'.') {
            position += 1;
            let mut precision = 0usize;
            while let Some(&digit @ b'0'..=b'9') = bytes.get(position) {
                precision = precision
                    .saturating_mul(10)
                    .saturating_add(usize::from(digit - b'0'));
                position += 1;
            }
            verb.precision = Some(precision.min(1 << 16));
        }
        match bytes.get(position) {
            Some(&letter) if letter.is_ascii_alphabetic() => {
                verb.mode = char::from(letter);
                position += 1;
            }
            Some(_) => return Err(unrecognized(position)),
            None => return Err(unfinished()),
        }
        verb.raw = &format_text[start..position];
        highest_arg = highest_arg.max(verb.arg_number);
        append_verb(&verb, &mut out, values)?;
        next_arg = verb.arg_number + 1;
    }
    if highest_arg < values.len() {
        let first_unused = highest_arg + 1;
        if highest_arg == 0 {
            return Err(arg_error(
                first_unused,
                "too many arguments; no verbs in format string",
            ));
        }
        return Err(arg_error(
            first_unused,
            format!("too many arguments; only {highest_arg} used by format string"),
        ));
    }
    Ok(out)
}

fn append_verb(verb: &Verb<'_>, out: &mut String, values: &[Value]) -> Result<(), FunctionError> {
    let Some(value) = values.get(verb.arg_number.wrapping_sub(1)) else {
        return Err(failed(format!(
            "not enough arguments for {:?} at {}: need index {} but have {} total",
            verb.raw,
            verb.offset,
            verb.arg_number,
            values.len()
        )));
    };
    let unsupported = |reason: &str| {
        failed(format!(
            "unsupported value for {:?} at {}: {reason}",
            verb.raw, verb.offset
        ))
    };
    if verb.mode != 'v' && value.is_null() {
        return Err(unsupported("null value cannot be formatted"));
    }
    match verb.mode {
        'v' => {
            let text = match value {
                Value::String(text) if !verb.sharp => text.clone(),
                Value::Number(number) if !verb.sharp => format_float(number, 'g', None),
                other => json_encode(other).map_err(|reason| unsupported(&reason))?,
            };
            out.push_str(&pad_width(verb, text));
        }
        't' => {
            let converted =
                convert(value.clone(), &Type::Bool).map_err(|e| unsupported(&e.to_string()))?;
            out.push_str(if converted.as_bool() == Some(true) {
                "true"
            } else {
                "false"
            });
        }
        'b' | 'd' | 'o' | 'x' | 'X' | 'e' | 'E' | 'f' | 'g' | 'G' => {
            let converted =
                convert(value.clone(), &Type::Number).map_err(|e| unsupported(&e.to_string()))?;
            let Some(number) = converted.as_number() else {
                return Err(unsupported("a number is required"));
            };
            let text = if matches!(verb.mode, 'b' | 'd' | 'o' | 'x' | 'X') {
                if !number.is_integer() {
                    return Err(unsupported("an integer is required"));
                }
                format_integer(verb, number)
            } else {
                format_float_verb(verb, number)
            };
            out.push_str(&text);
        }
        's' | 'q' => {
            let converted =
                convert(value.clone(), &Type::String).map_err(|e| unsupported(&e.to_string()))?;
            let mut text = string_value(&converted).to_string();
            if let Some(precision) = verb.precision.filter(|p| *p > 0) {
                text = graphemes(&text).into_iter().take(precision).collect();
            }
            if verb.mode == 'q' {
                text = json_encode(&Value::from(text)).map_err(|reason| unsupported(&reason))?;
            }
            out.push_str(&pad_width(verb, text));
        }
        other => {
            return Err(failed(format!(
                "unsupported format verb {other:?} in {:?} at offset {}",
                verb.raw, verb.offset
            )))
        }
    }
    Ok(())
}

fn pad_width(verb: &Verb<'_>, text: String) -> String {
    let Some(width) = verb.width else { return text };
    let length = grapheme_count(&text);
    if length >= width {
        return text;
    }
    let pad = if verb.zero { "0" } else { " " }.repeat(width - length);
    if verb.minus {
        text + &pad
    } else {
        pad + &text
    }
}

/// Go's `big.Int` formatting with flags, width and precision.
fn format_integer(verb: &Verb<'_>, number: &Number) -> String {
    let (integer, _) = number.big().with_scale(0).into_bigint_and_exponent();
    let radix = match verb.mode {
        'b' => 2,
        'o' => 8,
        'x' | 'X' => 16,
        _ => 10,
    };
    let mut digits = integer.abs().to_str_radix(radix);
    if verb.mode == 'X' {
        digits = digits.to_uppercase();
    }
    let sign = if integer.is_negative() {
        "-"
    } else if verb.plus {
        "+"
    } else if verb.space {
        " "
    } else {
        ""
    };
    let prefix = match (verb.sharp, verb.mode) {
        (true, 'b') => "0b",
        (true, 'o') => "0",
        (true, 'x') => "0x",
        (true, 'X') => "0X",
        _ => "",
    };
    let mut zeros = 0;
    if let Some(precision) = verb.precision {
        if digits.len() < precision {
            zeros = precision - digits.len();
        } else if digits == "0" && precision == 0 {
            return String::new();
        }
    }
    let (mut left, mut right) = (0, 0);
    let length = sign.len() + prefix.len() + zeros + digits.len();
    if let Some(width) = verb.width.filter(|w| *w > length) {
        let difference = width - length;
        if verb.minus {
            right = difference;
        } else if verb.zero && verb.precision.is_none() {
            zeros = difference;
        } else {
            left = difference;
        }
    }
    format!(
        "{}{sign}{prefix}{}{digits}{}",
        " ".repeat(left),
        "0".repeat(zeros),
        " ".repeat(right)
    )
}

/// Go's `big.Float` formatting (`Float.Format`): sign and padding around [`format_float`].
fn format_float_verb(verb: &Verb<'_>, number: &Number) -> String {
    let precision = match verb.mode {
        'g' | 'G' => verb.precision,
        _ => Some(verb.precision.unwrap_or(6)),
    };
    let body = format_float(number, verb.mode, precision);
    let (sign, body) = match body.strip_prefix('-') {
        Some(rest) => ("-", rest.to_string()),
        None if verb.plus => ("+", body),
        None if verb.space => (" ", body),
        None => ("", body),
    };
    let padding = verb
        .width
        .map(|width| width.saturating_sub(sign.len() + body.len()))
        .unwrap_or(0);
    if verb.zero {
        format!("{sign}{}{body}", "0".repeat(padding))
    } else if verb.minus {
        format!("{sign}{body}{}", " ".repeat(padding))
    } else {
        format!("{}{sign}{body}", " ".repeat(padding))
    }
}

/// A decimal as Go's `strconv`/`big` code holds it: digits without trailing zeros, and the
/// position of the decimal point (`0.mant × 10^exp`).
struct Decimal {
    negative: bool,
    mant: Vec<u8>,
    exp: i64,
}

impl Decimal {
    fn of(number: &Number) -> Decimal {
        let (integer, scale) = number.big().as_bigint_and_exponent();
        let negative = integer.is_negative();
        let mut mant = integer.abs().to_string().into_bytes();
        let mut exp = mant.len() as i64 - scale;
        while mant.last() == Some(&b'0') {
            mant.pop();
        }
        if mant.is_empty() {
            exp = 0;
        }
        Decimal {
            negative,
            mant,
            exp,
        }
    }

    fn at(&self, index: i64) -> u8 {
        usize::try_from(index)
            .ok()
            .and_then(|i| self.mant.get(i).copied())
            .unwrap_or(b'0')
    }

    fn round(&mut self, n: i64) {
        let Ok(n) = usize::try_from(n) else { return };
        if n >= self.mant.len() {
            return;
        }
        let round_up = if self.mant[n] == b'5' && n + 1 == self.mant.len() {
            n > 0 && (self.mant[n - 1] - b'0') % 2 == 1
        } else {
            self.mant[n] >= b'5'
        };
        if round_up {
            let mut n = n;
            while n > 0 && self.mant[n - 1] >= b'9' {
                n -= 1;
            }
            if n == 0 {
                self.mant = vec![b'1'];
                self.exp += 1;
                return;
            }
            self.mant[n - 1] += 1;
            self.mant.truncate(n);
        } else {
            self.mant.truncate(n);
            while self.mant.last() == Some(&b'0') {
                self.mant.pop();
            }
        }
    }
}

/// `big.Float.Text(mode, precision)`; `None` precision is "shortest" (exact digits here).
fn format_float(number: &Number, mode: char, precision: Option<usize>) -> String {
    let mut decimal = Decimal::of(number);
    let shortest = precision.is_none();
    let mut precision = precision.map(|p| p as i64).unwrap_or(0);
    let lower = mode.to_ascii_lowercase();
    if shortest {
        precision = match lower {
            'e' => decimal.mant.len() as i64 - 1,
            'f' => (decimal.mant.len() as i64 - decimal.exp).max(0),
            _ => decimal.mant.len() as i64,
        };
    } else {
        match lower {
            'e' => decimal.round(1 + precision),
            'f' => decimal.round(decimal.exp + precision),
            _ => {
                if precision == 0 {
                    precision = 1;
                }
                decimal.round(precision);
            }
        }
    }
    let mut out = String::new();
    if decimal.negative {
        out.push('-');
    }
    let exponent_letter = if mode.is_ascii_uppercase() { 'E' } else { 'e' };
    match lower {
        'e' => format_e(&mut out, &decimal, precision, exponent_letter),
        'f' => format_f(&mut out, &decimal, precision),
        _ => {
            let mut eprec = precision;
            let digits = decimal.mant.len() as i64;
            if eprec > digits && digits >= decimal.exp {
                eprec = digits;
            }
            if shortest {
                eprec = 6;
            }
            let exp = decimal.exp - 1;
            if exp < -4 || exp >= eprec {
                let precision = precision.min(digits);
                format_e(&mut out, &decimal, precision - 1, exponent_letter);
            } else {
                let precision = if precision > decimal.exp {
                    digits
                } else {
                    precision
                };
                format_f(&mut out, &decimal, (precision - decimal.exp).max(0));
            }
        }
    }
    out
}

fn format_e(out: &mut String, decimal: &Decimal, precision: i64, letter: char) {
    out.push(char::from(decimal.mant.first().copied().unwrap_or(b'0')));
    if precision > 0 {
        out.push('.');
        for index in 1..=precision {
            out.push(char::from(decimal.at(index)));
        }
    }
    out.push(letter);
    let exp = if decimal.mant.is_empty() {
        0
    } else {
        decimal.exp - 1
    };
    out.push(if exp < 0 { '-' } else { '+' });
    out.push_str(&format!("{:02}", exp.abs()));
}

fn format_f(out: &mut String, decimal: &Decimal, precision: i64) {
    if decimal.exp > 0 {
        for index in 0..decimal.exp {
            out.push(char::from(decimal.at(index)));
        }
    } else {
        out.push('0');
    }
    if precision > 0 {
        out.push('.');
        for index in 0..precision {
            out.push(char::from(decimal.at(decimal.exp + index)));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn number(text: &str) -> Number {
        Number::parse(text).unwrap()
    }

    #[test]
    fn floats_format_like_go() {
        assert_eq!(format_float(&number("3.14159"), 'f', Some(2)), "3.14");
        assert_eq!(format_float(&number("1000000"), 'g', None), "1e+06");
        assert_eq!(format_float(&number("100000"), 'g', None), "100000");
        assert_eq!(format_float(&number("0.0001"), 'g', None), "0.0001");
        assert_eq!(format_float(&number("0.00001"), 'g', None), "1e-05");
        assert_eq!(
            format_float(&number("1234.5678"), 'e', Some(6)),
            "1.234568e+03"
        );
        assert_eq!(format_float(&number("0"), 'e', Some(6)), "0.000000e+00");
        assert_eq!(format_float(&number("0.5"), 'f', Some(0)), "0");
        assert_eq!(format_float(&number("1.5"), 'f', Some(0)), "2");
        assert_eq!(format_float(&number("-2.5"), 'f', Some(1)), "-2.5");
        assert_eq!(format_float(&number("123.456"), 'g', Some(4)), "123.5");
    }
}
