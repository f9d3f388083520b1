//! Values as plans print them: HCL-like literals, `(known after apply)` for unknowns and
//! `(sensitive value)` for anything sensitive.

use crate::value::{value_from_json, Value};

/// Renders a value as a plan line shows it, at an indentation (in spaces) for the lines after
/// the first: nested lines leave room for the `+`/`~` column.
pub fn render_value(value: &Value, indent: usize) -> String {
    render_with(value, indent, 4, 2, true)
}

/// Renders a value being created or destroyed: nested entries carry the sign too, as in
/// `+ tags = { + "Name" = "web" }` spread over lines.
pub fn render_value_signed(value: &Value, indent: usize, sign: &str) -> String {
    let text = render_value(value, indent);
    let mut in_heredoc = false;
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let trimmed = line.trim_start();
        let skip = i == 0 || in_heredoc || trimmed.starts_with(']') || trimmed.starts_with('}');
        if line.ends_with("<<-EOT") {
            in_heredoc = true;
        } else if trimmed == "EOT" {
            in_heredoc = false;
        }
        let spaces = line.len() - trimmed.len();
        if skip || trimmed == "EOT" {
            out.push(line.to_string());
        } else if trimmed.starts_with("# (") {
            // A count of hidden attributes lines up with the names, past the sign column.
            out.push(format!("{}  {trimmed}", &line[..spaces]));
        } else {
            out.push(format!("{}{sign} {trimmed}", &line[..spaces]));
        }
    }
    out.join("\n")
}

/// Renders an attribute's value being created or destroyed. A string holding a JSON object or
/// array (a policy written with `jsonencode`) renders as `jsonencode(...)` of its structure,
/// every entry signed, as Terraform shows it.
pub fn render_attribute_signed(value: &Value, indent: usize, sign: &str) -> String {
    if let Value::String(text) = value {
        if let Some(document) = json_document(text) {
            return format!(
                "jsonencode(\n{}{}\n{})",
                " ".repeat(indent + 6),
                render_value_signed(&document, indent + 4, sign),
                " ".repeat(indent + 2)
            );
        }
    }
    render_value_signed(value, indent, sign)
}

/// The structure of a JSON object or array held in a string.
pub(super) fn json_document(text: &str) -> Option<Value> {
    let trimmed = text.trim_start();
    if !(trimmed.starts_with('{') || trimmed.starts_with('[')) {
        return None;
    }
    let parsed: serde_json::Value = serde_json::from_str(text).ok()?;
    value_from_json(&parsed, None).ok()
}

/// Renders a value as `strata output` shows it: nested lines two spaces in.
pub fn render_plain(value: &Value, indent: usize) -> String {
    render_with(value, indent, 2, 0, false)
}

/// `item_offset` and `close_offset`: where nested lines and closing brackets go, relative to
/// `indent`; `plan`: rendering for a plan (rather than `strata output`).
fn render_with(
    value: &Value,
    indent: usize,
    item_offset: usize,
    close_offset: usize,
    plan: bool,
) -> String {
    let render_value = |v: &Value, i: usize| render_with(v, i, item_offset, close_offset, plan);
    match value {
        Value::Sensitive(_) => "(sensitive value)".into(),
        Value::Unknown(_) => "(known after apply)".into(),
        Value::Null => "null".into(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => n.to_string(),
        Value::String(s) => render_string(s, indent, item_offset, close_offset),
        // Which elements a set holds is not known while any of them is not (Terraform shows
        // such a set as wholly unknown).
        Value::Set(items) if items.iter().any(|item| !item.is_wholly_known()) => {
            "(known after apply)".into()
        }
        Value::List(items) | Value::Tuple(items) | Value::Set(items) => {
            if items.is_empty() {
                return "[]".into();
            }
            let pad = " ".repeat(indent + item_offset);
            let mut out = String::from("[\n");
            for item in items {
                out.push_str(&format!(
                    "{pad}{},\n",
                    render_value(item, indent + item_offset)
                ));
            }
            out.push_str(&format!("{}]", " ".repeat(indent + close_offset)));
            out
        }
        Value::Map(items) | Value::Object(items) => {
            if items.is_empty() {
                return "{}".into();
            }
            let width = items
                .keys()
                .map(|k| key_text(k, matches!(value, Value::Map(_))).len())
                .max()
                .unwrap_or(0);
            let pad = " ".repeat(indent + item_offset);
            let mut out = String::from("{\n");
            // In a plan, an object's null attributes are counted, not shown, as Terraform has it.
            let hide_nulls = plan && matches!(value, Value::Object(_));
            let mut hidden = 0;
            for (k, v) in items {
                if hide_nulls && matches!(v, Value::Null) {
                    hidden += 1;
                    continue;
                }
                let key = key_text(k, matches!(value, Value::Map(_)));
                out.push_str(&format!(
                    "{pad}{key:<width$} = {}\n",
                    render_value(v, indent + item_offset)
                ));
            }
            if hidden > 0 {
                let noun = if hidden == 1 {
                    "attribute"
                } else {
                    "attributes"
                };
                out.push_str(&format!("{pad}# ({hidden} unchanged {noun} hidden)\n"));
            }
            out.push_str(&format!("{}}}", " ".repeat(indent + close_offset)));
            out
        }
    }
}

/// Map keys are quoted, object attributes are bare (when they are identifiers).
pub fn key_text(key: &str, quoted: bool) -> String {
    let identifier = !key.is_empty()
        && key
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && key
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
    if quoted || !identifier {
        serde_json::to_string(key).unwrap_or_else(|_| format!("\"{key}\""))
    } else {
        key.to_string()
    }
}

fn render_string(s: &str, indent: usize, item_offset: usize, close_offset: usize) -> String {
    if s.contains('\n') && !s.trim_end_matches('\n').is_empty() {
        let pad = " ".repeat(indent + item_offset);
        let mut out = String::from("<<-EOT\n");
        for line in s.trim_end_matches('\n').lines() {
            out.push_str(&format!("{pad}{line}\n"));
        }
        out.push_str(&format!("{}EOT", " ".repeat(indent + close_offset)));
        return out;
    }
    serde_json::to_string(s).unwrap_or_else(|_| format!("\"{s}\""))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn marks_render_as_placeholders() {
        assert_eq!(
            render_value(&Value::from("x").mark_sensitive(), 0),
            "(sensitive value)"
        );
        assert_eq!(render_value(&Value::unknown(), 0), "(known after apply)");
        assert_eq!(render_value(&Value::from("a\"b"), 0), "\"a\\\"b\"");
    }
}
