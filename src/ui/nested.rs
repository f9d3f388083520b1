//! Protocol-6 nested attributes (an attribute whose type is an object, or a list, set or map
//! of objects, declared attribute by attribute) as Terraform renders them in plans and `show`:
//! unlike a plain object value, an object's null attributes are left out rather than counted,
//! every element of a collection is signed and followed by a comma, and an update pairs list
//! elements by position, map elements by key and set elements by value, each changed element
//! showing only its changed attributes.

use super::plan::{sign, unchanged_note, update_lines};
use super::values::{key_text, render_value_signed};
use super::Style;
use crate::plan::Action;
use crate::value::{Type, Value};
use std::collections::{BTreeMap, BTreeSet};

/// Renders a protocol-6 nested attribute's value being created or destroyed, as Terraform
/// renders nested attributes: an object's null attributes left out (not counted), every
/// element of a list, set or map signed and followed by a comma. `ty` is the attribute's type
/// (a value read from a state file without its schema may hold a map as an object).
pub(super) fn render_nested_signed(value: &Value, ty: &Type, indent: usize, sign: &str) -> String {
    let object = |item: &Value| nested_object_signed(item, indent + 4, sign);
    let close = " ".repeat(indent + 2);
    let pad = " ".repeat(indent + 4);
    match (value, ty) {
        (Value::Object(_), Type::Object(_)) => nested_object_signed(value, indent, sign),
        (Value::List(items) | Value::Set(items) | Value::Tuple(items), _) if !items.is_empty() => {
            let lines: String = items
                .iter()
                .map(|item| format!("{pad}{sign} {},\n", object(item)))
                .collect();
            format!("[\n{lines}{close}]")
        }
        (Value::Map(items) | Value::Object(items), Type::Map(_)) if !items.is_empty() => {
            // Keys are not aligned: each element spans lines (as Terraform 1.15 prints it).
            let lines: String = items
                .iter()
                .map(|(key, item)| {
                    let key = key_text(key, true);
                    format!("{pad}{sign} {key} = {},\n", object(item))
                })
                .collect();
            format!("{{\n{lines}{close}}}")
        }
        (other, _) => render_value_signed(other, indent, sign),
    }
}

/// One object of a nested attribute whose line has its sign at column `indent`.
fn nested_object_signed(value: &Value, indent: usize, sign: &str) -> String {
    let Value::Object(attributes) = value else {
        return render_value_signed(value, indent, sign);
    };
    let set: Vec<(&String, &Value)> = attributes.iter().filter(|(_, v)| !v.is_null()).collect();
    if set.is_empty() {
        return "{}".into();
    }
    let width = set.iter().map(|(k, _)| key_text(k, false).len()).max();
    let width = width.unwrap_or(0);
    let pad = " ".repeat(indent + 4);
    let lines: String = set
        .iter()
        .map(|(key, v)| {
            let key = key_text(key, false);
            let v = render_value_signed(v, indent + 4, sign);
            format!("{pad}{sign} {key:<width$} = {v}\n")
        })
        .collect();
    format!("{{\n{lines}{}}}", " ".repeat(indent + 2))
}

/// The lines of a nested attribute changed in place (both values known): the sign column of
/// its line is `indent`.
#[allow(clippy::too_many_arguments)]
pub(super) fn nested_update_lines(
    before: &Value,
    after: &Value,
    ty: &Type,
    name: &str,
    indent: usize,
    forces: &str,
    style: Style,
    lines: &mut Vec<String>,
) {
    let pad = " ".repeat(indent);
    let update = sign(style, Action::Update);
    if let Type::Object(_) = ty {
        lines.push(format!("{pad}{update} {name} = {{{forces}"));
        object_lines(Some(before), Some(after), indent + 4, style, lines);
        lines.push(format!("{pad}  }}"));
        return;
    }
    let (open, close) = match ty {
        Type::Map(_) => ("{", "}"),
        _ => ("[", "]"),
    };
    lines.push(format!("{pad}{update} {name} = {open}{forces}"));
    let elements = match ty {
        Type::Map(_) => by_key(before, after),
        Type::Set(_) => by_value(before, after),
        _ => by_position(before, after),
    };
    let mut unchanged = 0;
    for (label, x, y) in elements {
        if let (Some(x), Some(y)) = (x, y) {
            if x.equals(y) == Some(true) {
                unchanged += 1;
                continue;
            }
        }
        element_lines(label.as_deref(), x, y, indent + 4, style, lines);
    }
    if unchanged > 0 {
        let note = style.dim(&unchanged_note(unchanged, "element"));
        lines.push(format!("{pad}      {note}"));
    }
    lines.push(format!("{pad}  {close}"));
}

/// One element before and after (either absent), with its map key if any.
type Pair<'v> = (Option<String>, Option<&'v Value>, Option<&'v Value>);

fn by_position<'v>(before: &'v Value, after: &'v Value) -> Vec<Pair<'v>> {
    let (b, a) = (seq(before), seq(after));
    (0..b.len().max(a.len()))
        .map(|i| (None, b.get(i), a.get(i)))
        .collect()
}

fn by_value<'v>(before: &'v Value, after: &'v Value) -> Vec<Pair<'v>> {
    let (b, a) = (seq(before), seq(after));
    let kept = |x: &Value, others: &[Value]| others.iter().any(|o| o.equals(x) == Some(true));
    let mut pairs: Vec<Pair<'v>> = Vec::new();
    for x in b {
        match kept(x, a) {
            true => pairs.push((None, Some(x), Some(x))),
            false => pairs.push((None, Some(x), None)),
        }
    }
    pairs.extend(
        a.iter()
            .filter(|y| !kept(y, b))
            .map(|y| (None, None, Some(y))),
    );
    pairs
}

fn by_key<'v>(before: &'v Value, after: &'v Value) -> Vec<Pair<'v>> {
    let (b, a) = (before.as_entries(), after.as_entries());
    let keys: BTreeSet<&String> = b.into_iter().chain(a).flat_map(|m| m.keys()).collect();
    keys.into_iter()
        .map(|key| {
            let get = |m: Option<&'v BTreeMap<String, Value>>| m.and_then(|m| m.get(key));
            (Some(key.clone()), get(b), get(a))
        })
        .collect()
}

fn seq(value: &Value) -> &[Value] {
    value.as_seq().unwrap_or(&[])
}

/// One element of a collection: `+ {`, `- {` or `~ {` (after `"key" = ` in a map), its
/// attributes, `},`.
fn element_lines(
    label: Option<&str>,
    before: Option<&Value>,
    after: Option<&Value>,
    indent: usize,
    style: Style,
    lines: &mut Vec<String>,
) {
    let pad = " ".repeat(indent);
    let action = match (before, after) {
        (None, _) => Action::Create,
        (_, None) => Action::Delete,
        _ => Action::Update,
    };
    let key = label.map(|l| format!("{} = ", key_text(l, true)));
    lines.push(format!(
        "{pad}{} {}{{",
        sign(style, action),
        key.unwrap_or_default()
    ));
    object_lines(before, after, indent + 4, style, lines);
    lines.push(format!("{pad}  }},"));
}

/// The attributes of one object of a nested attribute, signed at column `indent`: created,
/// deleted (`-> null`), changed, or counted as unchanged; null on both sides left out.
fn object_lines(
    before: Option<&Value>,
    after: Option<&Value>,
    indent: usize,
    style: Style,
    lines: &mut Vec<String>,
) {
    let empty = BTreeMap::new();
    let b = before.and_then(Value::as_entries).unwrap_or(&empty);
    let a = after.and_then(Value::as_entries).unwrap_or(&empty);
    let null = Value::Null;
    let keys: Vec<&String> = b
        .keys()
        .chain(a.keys())
        .collect::<BTreeSet<_>>()
        .into_iter()
        .filter(|k| !(b.get(*k).unwrap_or(&null).is_null() && a.get(*k).unwrap_or(&null).is_null()))
        .collect();
    let width = keys.iter().map(|k| key_text(k, false).len()).max();
    let width = width.unwrap_or(0);
    let pad = " ".repeat(indent);
    let mut unchanged = 0;
    for key in keys {
        let (x, y) = (b.get(key).unwrap_or(&null), a.get(key).unwrap_or(&null));
        let name = format!("{:<width$}", key_text(key, false));
        if x.is_null() {
            let plus = sign(style, Action::Create);
            let text = render_value_signed(y, indent, &plus);
            lines.push(format!("{pad}{plus} {name} = {text}"));
        } else if y.is_null() {
            let minus = sign(style, Action::Delete);
            let text = render_value_signed(x, indent, &minus);
            lines.push(format!("{pad}{minus} {name} = {text} -> null"));
        } else if x.equals(y) == Some(true) && x.contains_sensitive() == y.contains_sensitive() {
            unchanged += 1;
        } else {
            update_lines(x, y, &name, &mut Vec::new(), indent, "", style, lines);
        }
    }
    if unchanged > 0 {
        let note = style.dim(&unchanged_note(unchanged, "attribute"));
        lines.push(format!("{pad}  {note}"));
    }
}
