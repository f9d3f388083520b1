//! Encoding functions: base64decode, base64encode, csvdecode, jsondecode, jsonencode,
//! yamldecode, yamlencode, urlencode.
//!
//! `jsonencode` writes JSON as Terraform does (compact, keys sorted, `<`, `>`, `&`, U+2028 and
//! U+2029 escaped as Go's encoder escapes them). `yamlencode` writes block-style YAML the way
//! Terraform's go-cty-yaml does: every string and key double-quoted, multi-line strings as
//! literal blocks, sequences under a key not indented. `yamldecode` is in [`super::yaml`].

use super::{
    arg_error, failed, returns, string_value, FunctionContext, FunctionError, FunctionSpec, Param,
};
use crate::value::{value_from_json, Type, Value};
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use base64::Engine;
use std::collections::BTreeMap;

pub(super) fn functions() -> Vec<FunctionSpec> {
    let string = |name| Param::new(name, Type::String);
    vec![
        FunctionSpec::new(
            "base64decode",
            vec![string("str")],
            returns::string,
            base64decode,
        ),
        FunctionSpec::new(
            "base64encode",
            vec![string("str")],
            returns::string,
            base64encode,
        ),
        FunctionSpec::new("jsondecode", vec![string("str")], returns::any, jsondecode),
        FunctionSpec::new(
            "jsonencode",
            vec![Param::any("val").allow_null()],
            returns::string,
            jsonencode,
        ),
        FunctionSpec::new("yamldecode", vec![string("src")], returns::any, yamldecode),
        FunctionSpec::new(
            "yamlencode",
            vec![Param::any("value").allow_null()],
            returns::string,
            yamlencode,
        ),
        FunctionSpec::new("urlencode", vec![string("str")], returns::string, urlencode),
        FunctionSpec::new("csvdecode", vec![string("str")], returns::any, csvdecode),
    ]
}

/// Go's standard encoding: padding required, stray bits after the last symbol tolerated.
const BASE64: GeneralPurpose = GeneralPurpose::new(
    &base64::alphabet::STANDARD,
    GeneralPurposeConfig::new()
        .with_decode_allow_trailing_bits(true)
        .with_decode_padding_mode(DecodePaddingMode::RequireCanonical),
);

fn base64decode(args: Vec<Value>, _: &FunctionContext) -> Result<Value, FunctionError> {
    let text = string_value(&args[0]);
    // Go's decoder skips line breaks.
    let cleaned: String = text
        .chars()
        .filter(|ch| *ch != '\r' && *ch != '\n')
        .collect();
    let bytes = BASE64
        .decode(cleaned.as_bytes())
        .map_err(|_| failed(format!("failed to decode base64 data {text:?}")))?;
    let decoded = String::from_utf8(bytes)
        .map_err(|_| failed("the result of decoding the provided string is not valid UTF-8"))?;
    Ok(Value::from(decoded))
}

fn base64encode(args: Vec<Value>, _: &FunctionContext) -> Result<Value, FunctionError> {
    Ok(Value::from(
        BASE64.encode(string_value(&args[0]).as_bytes()),
    ))
}

fn urlencode(args: Vec<Value>, _: &FunctionContext) -> Result<Value, FunctionError> {
    // Go's url.QueryEscape.
    let mut out = String::new();
    for byte in string_value(&args[0]).bytes() {
        match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(char::from(byte))
            }
            b' ' => out.push('+'),
            other => out.push_str(&format!("%{other:02X}")),
        }
    }
    Ok(Value::from(out))
}

fn jsondecode(args: Vec<Value>, _: &FunctionContext) -> Result<Value, FunctionError> {
    let text = string_value(&args[0]);
    let json: serde_json::Value =
        serde_json::from_str(text).map_err(|error| arg_error(0, json_error_text(&error)))?;
    value_from_json(&json, None).map_err(|error| arg_error(0, error.to_string()))
}

fn json_error_text(error: &serde_json::Error) -> String {
    use serde_json::error::Category;
    match error.classify() {
        Category::Eof => "unexpected end of JSON input".to_string(),
        _ => error.to_string(),
    }
}

fn jsonencode(args: Vec<Value>, _: &FunctionContext) -> Result<Value, FunctionError> {
    if !args[0].is_wholly_known() {
        return Ok(Value::Unknown(Type::String));
    }
    json_encode(&args[0]).map(Value::from).map_err(failed)
}

/// Writes a wholly known value as compact JSON, as Terraform's `jsonencode` does.
pub(super) fn json_encode(value: &Value) -> Result<String, String> {
    let mut out = String::new();
    write_json(value, &mut out)?;
    Ok(out)
}

fn write_json(value: &Value, out: &mut String) -> Result<(), String> {
    match value {
        Value::Null => out.push_str("null"),
        Value::Unknown(_) => return Err("value is not known".to_string()),
        Value::Sensitive(inner) => write_json(inner, out)?,
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Number(n) => out.push_str(&n.to_string()),
        Value::String(s) => write_json_string(s, out),
        Value::List(items) | Value::Tuple(items) | Value::Set(items) => {
            out.push('[');
            for (index, item) in items.iter().enumerate() {
                if index > 0 {
                    out.push(',');
                }
                write_json(item, out)?;
            }
            out.push(']');
        }
        Value::Map(items) | Value::Object(items) => {
            out.push('{');
            for (index, (key, item)) in items.iter().enumerate() {
                if index > 0 {
                    out.push(',');
                }
                write_json_string(key, out);
                out.push(':');
                write_json(item, out)?;
            }
            out.push('}');
        }
    }
    Ok(())
}

/// A JSON string literal with Go's `encoding/json` escaping.
fn write_json_string(text: &str, out: &mut String) {
    out.push('"');
    for ch in text.chars() {
        match ch {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            '<' | '>' | '&' | '\u{2028}' | '\u{2029}' => {
                out.push_str(&format!("\\u{:04x}", ch as u32))
            }
            ch if (ch as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", ch as u32)),
            ch => out.push(ch),
        }
    }
    out.push('"');
}

// --- YAML --------------------------------------------------------------------------------------

fn yamldecode(args: Vec<Value>, _: &FunctionContext) -> Result<Value, FunctionError> {
    super::yaml::decode(string_value(&args[0])).map_err(failed)
}

fn yamlencode(args: Vec<Value>, _: &FunctionContext) -> Result<Value, FunctionError> {
    if !args[0].is_wholly_known() {
        return Ok(Value::Unknown(Type::String));
    }
    let mut out = String::new();
    match args[0].unmarked() {
        Value::String(text) => {
            out.push_str(&yaml_scalar_string(text, 0, 0));
            out.push('\n');
        }
        Value::List(items) | Value::Tuple(items) | Value::Set(items) if !items.is_empty() => {
            write_yaml_sequence(items, 0, &mut out);
        }
        Value::Map(items) | Value::Object(items) if !items.is_empty() => {
            write_yaml_mapping(items, 0, &mut out)
        }
        other => {
            out.push_str(&yaml_inline(other));
            out.push('\n');
            if !matches!(
                other,
                Value::List(_) | Value::Tuple(_) | Value::Set(_) | Value::Map(_) | Value::Object(_)
            ) {
                // A plain scalar alone is an open-ended document, so the emitter ends it.
                out.push_str("...\n");
            }
        }
    }
    Ok(Value::from(out))
}

/// A value that fits on one line: scalars and empty collections.
fn yaml_inline(value: &Value) -> String {
    match value.unmarked() {
        Value::Null | Value::Unknown(_) => "null".to_string(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => n.to_string(),
        Value::String(s) => yaml_double_quoted(s),
        Value::List(_) | Value::Tuple(_) | Value::Set(_) => "[]".to_string(),
        Value::Map(_) | Value::Object(_) => "{}".to_string(),
        Value::Sensitive(_) => "null".to_string(),
    }
}

fn is_block(value: &Value) -> bool {
    match value.unmarked() {
        Value::List(items) | Value::Tuple(items) | Value::Set(items) => !items.is_empty(),
        Value::Map(items) | Value::Object(items) => !items.is_empty(),
        _ => false,
    }
}

/// A string scalar: a literal block when it has line breaks and can be one, else
/// double-quoted. `indent` is the indentation of the block's content (and of a folded
/// double-quoted string's continuation lines); `column` is where the scalar starts.
fn yaml_scalar_string(text: &str, indent: usize, column: usize) -> String {
    let literal_ok = text.contains('\n')
        && !text.ends_with(' ')
        && !text.contains(" \n")
        && text
            .chars()
            .all(|ch| yaml_printable(ch) && !matches!(ch, '\u{2028}' | '\u{2029}'));
    if !literal_ok {
        return yaml_double_quoted_folded(text, indent.max(2), column);
    }
    let trailing_breaks = text.len() - text.trim_end_matches('\n').len();
    let chomping = match trailing_breaks {
        0 => "-",
        // A text that is only a line break keeps it, as libyaml decides.
        1 if text.len() > 1 => "",
        _ => "+",
    };
    let indicator = if text.starts_with(' ') || text.starts_with('\n') {
        "2"
    } else {
        ""
    };
    let pad = " ".repeat(indent.max(2));
    let mut out = format!("|{indicator}{chomping}\n");
    let mut at_line_start = true;
    for ch in text.chars() {
        if ch == '\n' {
            out.push('\n');
            at_line_start = true;
        } else {
            if at_line_start {
                out.push_str(&pad);
                at_line_start = false;
            }
            out.push(ch);
        }
    }
    // The caller adds the final line break; drop the one the text itself ended with.
    if out.ends_with('\n') {
        out.pop();
    }
    out
}

/// A double-quoted scalar that is never folded (mapping keys).
fn yaml_double_quoted(text: &str) -> String {
    yaml_double_quoted_folded(text, 0, None)
}

/// How the YAML emitter escapes `ch` inside double quotes, if it does.
fn yaml_escape(ch: char) -> Option<String> {
    Some(match ch {
        '"' => "\\\"".to_string(),
        '\\' => "\\\\".to_string(),
        '\0' => "\\0".to_string(),
        '\u{7}' => "\\a".to_string(),
        '\u{8}' => "\\b".to_string(),
        '\t' => "\\t".to_string(),
        '\n' => "\\n".to_string(),
        '\u{b}' => "\\v".to_string(),
        '\u{c}' => "\\f".to_string(),
        '\r' => "\\r".to_string(),
        '\u{1b}' => "\\e".to_string(),
        '\u{85}' => "\\N".to_string(),
        '\u{2028}' => "\\L".to_string(),
        '\u{2029}' => "\\P".to_string(),
        ch if yaml_printable(ch) && ch != '\u{feff}' => return None,
        ch if (ch as u32) <= 0xFF => format!("\\x{:02X}", ch as u32),
        ch if (ch as u32) <= 0xFFFF => format!("\\u{:04X}", ch as u32),
        ch => format!("\\U{:08X}", ch as u32),
    })
}

/// libyaml's "printable": what it writes as is. Notably everything outside the Basic
/// Multilingual Plane (emoji) is not, so it is escaped as `\UXXXXXXXX`, as Terraform does.
fn yaml_printable(ch: char) -> bool {
    matches!(ch as u32,
        0x0A | 0x20..=0x7E | 0xA0..=0xD7FF | 0xE000..=0xFFFD)
        && ch != '\u{feff}'
}

/// The column past which the emitter folds a long double-quoted string at a space (go-yaml's
/// default best width).
const YAML_WIDTH: usize = 80;

/// A double-quoted scalar starting at `column` (None: never folded). Like libyaml, a space
/// past [`YAML_WIDTH`] becomes a line break followed by `indent` spaces (a `\` keeps a second
/// space from being eaten).
fn yaml_double_quoted_folded(
    text: &str,
    indent: usize,
    column: impl Into<Option<usize>>,
) -> String {
    let start = column.into();
    let mut column = start.unwrap_or(0) + 1;
    let mut out = String::from("\"");
    let chars: Vec<char> = text.chars().collect();
    let mut after_space = false;
    for (position, &ch) in chars.iter().enumerate() {
        if let Some(escape) = yaml_escape(ch) {
            column += escape.chars().count();
            out.push_str(&escape);
            after_space = false;
        } else if ch == ' ' {
            let fold = start.is_some()
                && !after_space
                && column > YAML_WIDTH
                && position > 0
                && position + 1 < chars.len();
            if fold {
                out.push('\n');
                out.push_str(&" ".repeat(indent));
                column = indent;
                if chars.get(position + 1) == Some(&' ') {
                    out.push('\\');
                    column += 1;
                }
            } else {
                out.push(' ');
                column += 1;
            }
            after_space = true;
        } else {
            out.push(ch);
            column += 1;
            after_space = false;
        }
    }
    out.push('"');
    out
}

fn write_yaml_value_after_key(value: &Value, indent: usize, out: &mut String) {
    match value.unmarked() {
        Value::List(items) | Value::Tuple(items) | Value::Set(items) if !items.is_empty() => {
            out.push('\n');
            // go-yaml writes a sequence under a key at the key's own indentation.
            write_yaml_sequence(items, indent, out);
        }
        Value::Map(items) | Value::Object(items) if !items.is_empty() => {
            out.push('\n');
            write_yaml_mapping(items, indent + 2, out);
        }
        Value::String(text) => {
            out.push(' ');
            let column = current_column(out);
            out.push_str(&yaml_scalar_string(text, indent + 2, column));
            out.push('\n');
        }
        other => {
            out.push(' ');
            out.push_str(&yaml_inline(other));
            out.push('\n');
        }
    }
}

/// The column the next character written to `out` lands in.
fn current_column(out: &str) -> usize {
    out.chars().rev().take_while(|ch| *ch != '\n').count()
}

fn write_yaml_mapping(items: &BTreeMap<String, Value>, indent: usize, out: &mut String) {
    for (position, (key, value)) in items.iter().enumerate() {
        // The first entry of a mapping inside a sequence item continues the `- ` line.
        if !(position == 0 && !out.is_empty() && !out.ends_with('\n')) {
            out.push_str(&" ".repeat(indent));
        }
        out.push_str(&yaml_double_quoted(key));
        out.push(':');
        write_yaml_value_after_key(value, indent, out);
    }
}

fn write_yaml_sequence(items: &[Value], indent: usize, out: &mut String) {
    for item in items {
        if !(out.ends_with("- ")) {
            out.push_str(&" ".repeat(indent));
        }
        out.push_str("- ");
        match item.unmarked() {
            value if is_block(value) => match value {
                Value::List(inner) | Value::Tuple(inner) | Value::Set(inner) => {
                    write_yaml_sequence(inner, indent + 2, out)
                }
                Value::Map(entries) | Value::Object(entries) => {
                    write_yaml_mapping(entries, indent + 2, out)
                }
                _ => {}
            },
            Value::String(text) => {
                let column = current_column(out);
                out.push_str(&yaml_scalar_string(text, indent + 2, column));
                out.push('\n');
            }
            other => {
                out.push_str(&yaml_inline(other));
                out.push('\n');
            }
        }
    }
}

// --- CSV ---------------------------------------------------------------------------------------

/// `csvdecode`: the first line names the columns; every later line becomes an object of
/// strings. Parsing follows Go's `encoding/csv` (quoted fields, `""` escapes, blank lines
/// skipped, every record as long as the header).
fn csvdecode(args: Vec<Value>, _: &FunctionContext) -> Result<Value, FunctionError> {
    let records = parse_csv(string_value(&args[0])).map_err(failed)?;
    let mut records = records.into_iter();
    let Some((_, headers)) = records.next() else {
        return Err(failed("missing header line"));
    };
    let mut seen = std::collections::BTreeSet::new();
    for name in &headers {
        if !seen.insert(name.as_str()) {
            return Err(failed(format!("duplicate column name {name:?}")));
        }
    }
    let mut rows = Vec::new();
    for (line, fields) in records {
        if fields.len() != headers.len() {
            return Err(failed(format!(
                "CSV parse error on line {line}: wrong number of fields"
            )));
        }
        rows.push(Value::Object(
            headers
                .iter()
                .cloned()
                .zip(fields.into_iter().map(Value::String))
                .collect(),
        ));
    }
    Ok(Value::List(rows))
}

/// Records with the line each starts on.
fn parse_csv(text: &str) -> Result<Vec<(usize, Vec<String>)>, String> {
    let text = text.replace("\r\n", "\n");
    let chars: Vec<char> = text.chars().collect();
    let mut records = Vec::new();
    let mut position = 0;
    let mut line = 1;
    while position < chars.len() {
        if chars[position] == '\n' {
            // Blank lines are skipped.
            position += 1;
            line += 1;
            continue;
        }
        let start_line = line;
        let mut fields = Vec::new();
        loop {
            let mut field = String::new();
            if chars.get(position) == Some(&'"') {
                position += 1;
                loop {
                    match chars.get(position) {
                        None => {
                            return Err(format!(
                                "CSV parse error on line {start_line}: extraneous or missing \" in quoted-field"
                            ))
                        }
                        Some('"') if chars.get(position + 1) == Some(&'"') => {
                            field.push('"');
                            position += 2;
                        }
                        Some('"') => {
                            position += 1;
                            break;
                        }
                        Some(&ch) => {
                            if ch == '\n' {
                                line += 1;
                            }
                            field.push(ch);
                            position += 1;
                        }
                    }
                }
                match chars.get(position) {
                    None | Some(',') | Some('\n') => {}
                    Some(_) => {
                        return Err(format!(
                        "CSV parse error on line {line}: extraneous or missing \" in quoted-field"
                    ))
                    }
                }
            } else {
                while let Some(&ch) = chars.get(position) {
                    if ch == ',' || ch == '\n' {
                        break;
                    }
                    if ch == '"' {
                        return Err(format!(
                            "CSV parse error on line {line}: bare \" in non-quoted-field"
                        ));
                    }
                    field.push(ch);
                    position += 1;
                }
            }
            fields.push(field);
            match chars.get(position) {
                Some(',') => position += 1,
                Some('\n') => {
                    position += 1;
                    line += 1;
                    break;
                }
                _ => break,
            }
        }
        records.push((start_line, fields));
    }
    Ok(records)
}
