//! String functions: chomp, endswith, strcontains, indent, join, lower, regex, regexall, replace, split,
//! startswith, strrev, substr, title, trim, trimprefix, trimsuffix, trimspace, upper.
//! (`format` and `formatlist` are in [`super::format`].)
//!
//! Regular expressions use the `regex` crate, whose syntax is RE2's, as Terraform's Go
//! `regexp` is.

use super::text::{grapheme_count, graphemes};
use super::{
    arg_error, failed, returns, string_value, whole_number, FunctionContext, FunctionError,
    FunctionSpec, Param,
};
use crate::value::{ObjectType, Type, Value};
use regex::Regex;
use std::collections::BTreeMap;

pub(super) fn functions() -> Vec<FunctionSpec> {
    let string = |name| Param::new(name, Type::String);
    let unary = |name, implementation| {
        FunctionSpec::new(name, vec![string("str")], returns::string, implementation)
    };
    vec![
        unary("chomp", chomp),
        FunctionSpec::new(
            "endswith",
            vec![string("str"), string("suffix")],
            returns::bool,
            endswith,
        ),
        FunctionSpec::new(
            "strcontains",
            vec![string("str"), string("substr")],
            returns::bool,
            strcontains,
        ),
        FunctionSpec::new(
            "startswith",
            vec![string("str"), string("prefix")],
            returns::bool,
            startswith,
        ),
        FunctionSpec::new(
            "indent",
            vec![Param::new("spaces", Type::Number), string("str")],
            returns::string,
            indent,
        ),
        FunctionSpec::new("join", vec![string("separator")], returns::string, join)
            .variadic(Param::new("lists", Type::list(Type::String))),
        unary("lower", lower),
        unary("upper", upper),
        unary("strrev", strrev),
        unary("title", title),
        unary("trimspace", trimspace),
        FunctionSpec::new(
            "regex",
            vec![string("pattern"), string("string").allow_unknown()],
            regex_result_type,
            regex_function,
        ),
        FunctionSpec::new(
            "regexall",
            vec![string("pattern"), string("string").allow_unknown()],
            regexall_result_type,
            regexall,
        ),
        FunctionSpec::new(
            "replace",
            vec![string("str"), string("substr"), string("replace")],
            returns::string,
            replace,
        ),
        FunctionSpec::new(
            "split",
            vec![string("separator"), string("str")],
            returns::list_of_string,
            split,
        ),
        FunctionSpec::new(
            "substr",
            vec![
                string("str"),
                Param::new("offset", Type::Number),
                Param::new("length", Type::Number),
            ],
            returns::string,
            substr,
        ),
        FunctionSpec::new(
            "trim",
            vec![string("str"), string("cutset")],
            returns::string,
            trim,
        ),
        FunctionSpec::new(
            "trimprefix",
            vec![string("str"), string("prefix")],
            returns::string,
            trimprefix,
        ),
        FunctionSpec::new(
            "trimsuffix",
            vec![string("str"), string("suffix")],
            returns::string,
            trimsuffix,
        ),
    ]
}

fn chomp(args: Vec<Value>, _: &FunctionContext) -> Result<Value, FunctionError> {
    Ok(Value::from(
        string_value(&args[0]).trim_end_matches(['\r', '\n']),
    ))
}

fn endswith(args: Vec<Value>, _: &FunctionContext) -> Result<Value, FunctionError> {
    Ok(Value::Bool(
        string_value(&args[0]).ends_with(string_value(&args[1])),
    ))
}

fn strcontains(args: Vec<Value>, _: &FunctionContext) -> Result<Value, FunctionError> {
    Ok(Value::Bool(
        string_value(&args[0]).contains(string_value(&args[1])),
    ))
}

fn startswith(args: Vec<Value>, _: &FunctionContext) -> Result<Value, FunctionError> {
    Ok(Value::Bool(
        string_value(&args[0]).starts_with(string_value(&args[1])),
    ))
}

fn indent(args: Vec<Value>, _: &FunctionContext) -> Result<Value, FunctionError> {
    let spaces = whole_number(&args[0]).map_err(failed)?;
    // A negative count pads nothing, as Go's strings.Repeat would refuse.
    let pad = " ".repeat(usize::try_from(spaces).unwrap_or(0).min(1 << 16));
    Ok(Value::from(
        string_value(&args[1]).replace('\n', &format!("\n{pad}")),
    ))
}

fn join(args: Vec<Value>, _: &FunctionContext) -> Result<Value, FunctionError> {
    let separator = string_value(&args[0]);
    let lists = &args[1..];
    if lists.is_empty() {
        return Err(failed("at least one list is required"));
    }
    if !lists.iter().all(Value::is_wholly_known) {
        return Ok(Value::Unknown(Type::String));
    }
    let mut items = Vec::new();
    for (list_index, list) in lists.iter().enumerate() {
        for (element_index, element) in super::elements(list).iter().enumerate() {
            match element.as_str() {
                Some(text) => items.push(text),
                None if lists.len() > 1 => {
                    return Err(arg_error(
                        list_index + 1,
                        format!(
                            "element {element_index} of list {} is null; cannot concatenate null values",
                            list_index + 1
                        ),
                    ))
                }
                None => {
                    return Err(arg_error(
                        list_index + 1,
                        format!("element {element_index} is null; cannot concatenate null values"),
                    ))
                }
            }
        }
    }
    Ok(Value::from(items.join(separator)))
}

/// Go maps case one character to one character (`upper("ß")` is `ß`, not `SS`); where
/// Unicode's full mapping gives several, this keeps the single-character mapping Go uses
/// (the first of them for lower case, the character itself for upper case).
fn upper_char(ch: char) -> char {
    let mut mapped = ch.to_uppercase();
    match (mapped.next(), mapped.next()) {
        (Some(single), None) => single,
        _ => ch,
    }
}

fn lower_char(ch: char) -> char {
    ch.to_lowercase().next().unwrap_or(ch)
}

fn lower(args: Vec<Value>, _: &FunctionContext) -> Result<Value, FunctionError> {
    Ok(Value::from(
        string_value(&args[0])
            .chars()
            .map(lower_char)
            .collect::<String>(),
    ))
}

fn upper(args: Vec<Value>, _: &FunctionContext) -> Result<Value, FunctionError> {
    Ok(Value::from(
        string_value(&args[0])
            .chars()
            .map(upper_char)
            .collect::<String>(),
    ))
}

fn strrev(args: Vec<Value>, _: &FunctionContext) -> Result<Value, FunctionError> {
    Ok(Value::from(
        graphemes(string_value(&args[0]))
            .into_iter()
            .rev()
            .collect::<String>(),
    ))
}

/// Go's `strings.Title`: upper-cases each letter that follows a separator.
fn title(args: Vec<Value>, _: &FunctionContext) -> Result<Value, FunctionError> {
    fn is_separator(ch: char) -> bool {
        if ch.is_ascii() {
            return !(ch.is_ascii_alphanumeric() || ch == '_');
        }
        if ch.is_alphanumeric() {
            return false;
        }
        ch.is_whitespace()
    }
    let mut previous = ' ';
    let mut out = String::new();
    for ch in string_value(&args[0]).chars() {
        if is_separator(previous) {
            out.push(upper_char(ch));
        } else {
            out.push(ch);
        }
        previous = ch;
    }
    Ok(Value::from(out))
}

fn trimspace(args: Vec<Value>, _: &FunctionContext) -> Result<Value, FunctionError> {
    Ok(Value::from(string_value(&args[0]).trim()))
}

fn trim(args: Vec<Value>, _: &FunctionContext) -> Result<Value, FunctionError> {
    let cutset = string_value(&args[1]);
    Ok(Value::from(
        string_value(&args[0]).trim_matches(|ch| cutset.contains(ch)),
    ))
}

fn trimprefix(args: Vec<Value>, _: &FunctionContext) -> Result<Value, FunctionError> {
    let text = string_value(&args[0]);
    Ok(Value::from(
        text.strip_prefix(string_value(&args[1])).unwrap_or(text),
    ))
}

fn trimsuffix(args: Vec<Value>, _: &FunctionContext) -> Result<Value, FunctionError> {
    let text = string_value(&args[0]);
    Ok(Value::from(
        text.strip_suffix(string_value(&args[1])).unwrap_or(text),
    ))
}

fn replace(args: Vec<Value>, _: &FunctionContext) -> Result<Value, FunctionError> {
    let text = string_value(&args[0]);
    let search = string_value(&args[1]);
    let replacement = string_value(&args[2]);
    if search.len() > 1 && search.starts_with('/') && search.ends_with('/') {
        let pattern = &search[1..search.len() - 1];
        let regex =
            Regex::new(pattern).map_err(|error| failed(regex_error_text(&error, pattern)))?;
        return Ok(Value::from(
            regex.replace_all(text, replacement).into_owned(),
        ));
    }
    if search.is_empty() {
        // Go's strings.Replace with an empty search inserts at every character boundary.
        let mut out = String::from(replacement);
        for ch in text.chars() {
            out.push(ch);
            out.push_str(replacement);
        }
        return Ok(Value::from(out));
    }
    Ok(Value::from(text.replace(search, replacement)))
}

fn split(args: Vec<Value>, _: &FunctionContext) -> Result<Value, FunctionError> {
    let separator = string_value(&args[0]);
    let text = string_value(&args[1]);
    let parts: Vec<Value> = if separator.is_empty() {
        text.chars().map(|ch| Value::from(ch.to_string())).collect()
    } else {
        text.split(separator).map(Value::from).collect()
    };
    Ok(Value::List(parts))
}

fn substr(args: Vec<Value>, _: &FunctionContext) -> Result<Value, FunctionError> {
    let text = string_value(&args[0]);
    let mut offset = whole_number(&args[1]).map_err(failed)?;
    let length = whole_number(&args[2]).map_err(failed)?;
    let clusters = graphemes(text);
    if offset < 0 {
        offset += clusters.len() as i64;
    }
    let start = usize::try_from(offset.max(0)).unwrap_or(usize::MAX);
    if start >= clusters.len() {
        return Ok(Value::from(""));
    }
    let rest = &clusters[start..];
    let taken = if length < 0 {
        rest
    } else {
        &rest[..rest
            .len()
            .min(usize::try_from(length).unwrap_or(usize::MAX))]
    };
    Ok(Value::from(taken.concat()))
}

/// Go's regexp error says what is wrong and where; the regex crate's message is similar but
/// spread over several lines. This keeps its last line.
fn regex_error_text(error: &regex::Error, pattern: &str) -> String {
    let text = error.to_string();
    let reason = text
        .lines()
        .rev()
        .find(|line| !line.trim().is_empty())
        .unwrap_or("")
        .trim()
        .trim_start_matches("error: ");
    format!("invalid regexp pattern: {reason} in {pattern}")
}

/// The shape of a pattern's result: the match itself, a tuple of unnamed groups, or an
/// object of named groups.
enum Captures {
    Whole,
    Unnamed(usize),
    Named(Vec<String>),
}

fn compile(pattern: &str) -> Result<(Regex, Captures), FunctionError> {
    let regex =
        Regex::new(pattern).map_err(|error| arg_error(0, regex_error_text(&error, pattern)))?;
    let mut unnamed = 0;
    let mut names = Vec::new();
    for name in regex.capture_names().skip(1) {
        match name {
            Some(name) => names.push(name.to_string()),
            None => unnamed += 1,
        }
    }
    let captures = match (unnamed, names.is_empty()) {
        (0, true) => Captures::Whole,
        (_, false) if unnamed > 0 => {
            return Err(arg_error(
                0,
                "invalid regexp pattern: cannot mix both named and unnamed capture groups",
            ))
        }
        (0, false) => Captures::Named(names),
        (count, _) => Captures::Unnamed(count),
    };
    Ok((regex, captures))
}

fn captures_type(captures: &Captures) -> Type {
    match captures {
        Captures::Whole => Type::String,
        Captures::Unnamed(count) => Type::Tuple(vec![Type::String; *count]),
        Captures::Named(names) => Type::Object(ObjectType::new(
            names.iter().map(|n| (n.clone(), Type::String)),
        )),
    }
}

fn regex_result_type(args: &[Value]) -> Type {
    match args[0].as_str().map(compile) {
        Some(Ok((_, captures))) => captures_type(&captures),
        _ => Type::Any,
    }
}

fn regexall_result_type(args: &[Value]) -> Type {
    match args[0].as_str().map(compile) {
        Some(Ok((_, captures))) => Type::list(captures_type(&captures)),
        _ => Type::list(Type::Any),
    }
}

fn capture_value(regex: &Regex, captures: &Captures, found: &regex::Captures<'_>) -> Value {
    let text = |group: Option<regex::Match<'_>>| {
        group
            .map(|m| Value::from(m.as_str()))
            .unwrap_or(Value::Null)
    };
    match captures {
        Captures::Whole => text(found.get(0)),
        Captures::Unnamed(count) => {
            Value::Tuple((1..=*count).map(|i| text(found.get(i))).collect())
        }
        Captures::Named(names) => {
            let _ = regex;
            Value::Object(
                names
                    .iter()
                    .map(|name| (name.clone(), text(found.name(name))))
                    .collect::<BTreeMap<_, _>>(),
            )
        }
    }
}

fn regex_function(args: Vec<Value>, _: &FunctionContext) -> Result<Value, FunctionError> {
    let (regex, captures) = compile(string_value(&args[0]))?;
    if args[1].is_unknown() {
        return Ok(Value::Unknown(captures_type(&captures)));
    }
    let found = regex
        .captures(string_value(&args[1]))
        .ok_or_else(|| failed("pattern did not match any part of the given string"))?;
    Ok(capture_value(&regex, &captures, &found))
}

fn regexall(args: Vec<Value>, _: &FunctionContext) -> Result<Value, FunctionError> {
    let (regex, captures) = compile(string_value(&args[0]))?;
    if args[1].is_unknown() {
        return Ok(Value::Unknown(Type::list(captures_type(&captures))));
    }
    let results = regex
        .captures_iter(string_value(&args[1]))
        .map(|found| capture_value(&regex, &captures, &found))
        .collect();
    Ok(Value::List(results))
}

/// `length` of a string counts grapheme clusters; exported for [`super::collection`].
pub(super) fn string_length(text: &str) -> usize {
    grapheme_count(text)
}
