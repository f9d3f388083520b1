//! The human-readable plan, as Terraform prints it: a legend, one block per changing instance
//! with attribute-level diffs, the summary line and the output changes.

use super::nested::{nested_update_lines, render_nested_signed};
use super::schemas::Schemas;
use super::values::{
    json_document, key_text, render_attribute_signed, render_value, render_value_signed,
};
use super::Style;
use crate::plan::{Action, ActionReason, OutputChange, Plan, PlanMode, ResourceChange};
use crate::providers::{Block, Nesting};
use crate::state::OutputValue;
use crate::value::{AttrPath, PathStep, Type, Value};
use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write;

/// Options of the plan rendering.
#[derive(Clone, Copy, Debug, Default)]
pub struct PlanStyle {
    /// The tool name in sentences ("Strata will perform the following actions").
    pub verbose_drift: bool,
}

fn header(change: &ResourceChange) -> String {
    let address = &change.address;
    let mut text = match change.action {
        Action::Create => format!("# {address} will be created"),
        Action::Read => format!("# {address} will be read during apply"),
        Action::Update => format!("# {address} will be updated in-place"),
        Action::DeleteThenCreate | Action::CreateThenDelete => match change.reason {
            Some(ActionReason::ReplaceByRequest) => {
                format!("# {address} will be replaced, as requested")
            }
            Some(ActionReason::ReplaceBecauseTainted) => {
                format!("# {address} is tainted, so must be replaced")
            }
            Some(ActionReason::ReplaceByTriggers) => {
                format!("# {address} will be replaced due to changes in replace_triggered_by")
            }
            _ => format!("# {address} must be replaced"),
        },
        Action::Delete => match &change.deposed {
            Some(key) => format!(
                "# {address} (deposed object {key}) will be destroyed\n  # (left over from a partially-failed replacement of this instance)"
            ),
            None => format!("# {address} will be destroyed"),
        },
        Action::NoOp => match (&change.previous_address, &change.importing) {
            (Some(previous), _) => format!("# {previous} has moved to {address}"),
            (None, Some(_)) => format!("# {address} will be imported"),
            (None, None) => format!("# {address}"),
        },
        Action::Forget => format!(
            "# {address} will no longer be managed by Strata, but will not be destroyed\n # (destroy = false is set in the configuration)"
        ),
    };
    if let (Some(previous), false) = (&change.previous_address, change.action == Action::NoOp) {
        text.push_str(&format!("\n  # (moved from {previous})"));
    }
    let imported_alone = change.action == Action::NoOp && change.previous_address.is_none();
    if let (Some(id), false) = (&change.importing, imported_alone) {
        text.push_str(&format!("\n  # (imported from \"{id}\")"));
    }
    let because = match (&change.reason, &change.address.key) {
        (Some(ActionReason::DeleteBecauseNoResourceConfig), _) => Some(format!(
            "(because {} is not in configuration)",
            change.address
        )),
        (Some(ActionReason::DeleteBecauseCountIndex), key) => {
            Some(format!("(because index {key} is out of range for count)"))
        }
        (Some(ActionReason::DeleteBecauseEachKey), key) => {
            Some(format!("(because key {key} is not in for_each map)"))
        }
        (Some(ActionReason::DeleteBecauseNoRepetitionKey), _) => {
            Some("(because the resource no longer has this instance key)".into())
        }
        _ => None,
    };
    if let Some(because) = because {
        text.push_str(&format!("\n  # {because}"));
    }
    text
}

fn resource_line(change: &ResourceChange) -> String {
    let resource = &change.address.resource;
    let kind = match resource.mode {
        crate::addrs::ResourceMode::Managed => "resource",
        crate::addrs::ResourceMode::Data => "data",
    };
    format!("{kind} \"{}\" \"{}\"", resource.type_name, resource.name)
}

/// Renders one instance's change block. With the resource type's schema, nested blocks render
/// as `name { ... }` sections after the attributes; without it, as attribute values.
pub fn render_change(change: &ResourceChange, style: Style, schema: Option<&Block>) -> String {
    let mut out = String::new();
    // Terraform prints a forget one column further left: ` # ...` and ` . resource`.
    let lead = if change.action == Action::Forget {
        " "
    } else {
        "  "
    };
    let _ = writeln!(out, "{lead}{}", style.bold(&header(change)));
    let symbol = change.action.symbol();
    let prefix = if change.action == Action::Forget {
        format!("{:>2}", symbol)
    } else {
        format!("{:>3}", symbol)
    };
    let painted = style.action_symbol(change.action);
    let _ = writeln!(
        out,
        "{}{} {} {{",
        " ".repeat(prefix.len().saturating_sub(symbol.len())),
        painted,
        resource_line(change)
    );
    let replace_paths: BTreeSet<AttrPath> = change.requires_replace.iter().cloned().collect();
    let mut lines = Vec::new();
    let empty = Value::Object(BTreeMap::new());
    let before = change.before.as_ref().unwrap_or(&empty);
    // A forgotten object is shown as it is: nothing about it changes.
    let after = match change.action {
        Action::Forget => before,
        _ => change.after.as_ref().unwrap_or(&empty),
    };
    if let Some(schema) = schema {
        let mode = match change.action {
            Action::Create | Action::Read => Mode::Create,
            Action::Delete => Mode::Delete,
            _ => Mode::Diff,
        };
        let renderer = BlockRenderer {
            style,
            replace: &replace_paths,
        };
        renderer.body(
            before,
            after,
            schema,
            mode,
            false,
            &mut Vec::new(),
            6,
            &mut lines,
        );
        for line in lines {
            let _ = writeln!(out, "{line}");
        }
        let _ = writeln!(out, "    }}");
        return out;
    }
    let mut hidden = 0;
    diff_object(
        before,
        after,
        change.action,
        &mut Vec::new(),
        &replace_paths,
        6,
        style,
        &mut lines,
        &mut hidden,
    );
    for line in lines {
        let _ = writeln!(out, "{line}");
    }
    if hidden > 0 {
        let _ = writeln!(
            out,
            "        {}",
            style.dim(&unchanged_note(hidden, "attribute"))
        );
    }
    let _ = writeln!(out, "    }}");
    out
}

/// `# (3 unchanged attributes hidden)`.
pub(super) fn unchanged_note(count: usize, noun: &str) -> String {
    let plural = if count == 1 { "" } else { "s" };
    format!("# ({count} unchanged {noun}{plural} hidden)")
}

/// How a block renders: wholly created, wholly destroyed, or as the difference of two values.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Mode {
    Create,
    Delete,
    Diff,
}

impl Mode {
    fn action(self) -> Action {
        match self {
            Mode::Create => Action::Create,
            Mode::Delete => Action::Delete,
            Mode::Diff => Action::Update,
        }
    }
}

/// Attributes Terraform shows even when unchanged, so an update still says which object it is.
const IMPORTANT_ATTRIBUTES: [&str; 3] = ["id", "name", "tags"];

/// Renders a block's body from its schema, as Terraform's block renderer does: the attributes
/// (sorted, aligned, unchanged ones counted), then each nested block type in name order, each
/// group after a blank line, every element of a list or set as its own `name { ... }` section.
struct BlockRenderer<'a> {
    style: Style,
    replace: &'a BTreeSet<AttrPath>,
}

/// Two values the same, sensitivity included.
fn same(before: &Value, after: &Value) -> bool {
    before.equals(after) == Some(true) && before.contains_sensitive() == after.contains_sensitive()
}

/// Empty strings count as null inside blocks of a legacy schema, as in Terraform: the legacy
/// provider SDK cannot tell the two apart and returns either.
fn blank_to_null(value: Option<&Value>, modern: bool) -> Value {
    match value {
        None => Value::Null,
        Some(v) if !modern && v.unmarked().as_str() == Some("") => Value::Null,
        Some(v) => v.clone(),
    }
}

/// Whether a block uses types the legacy provider SDK could not express (dynamic, object or
/// tuple attributes, collections of non-primitive collections): Terraform then takes its empty
/// strings at their word.
pub(super) fn modern_schema(block: &Block) -> bool {
    fn dynamic(ty: &Type) -> bool {
        match ty {
            Type::Any => true,
            Type::List(e) | Type::Set(e) | Type::Map(e) => dynamic(e),
            Type::Tuple(items) => items.iter().any(dynamic),
            Type::Object(object) => object.attributes.values().any(dynamic),
            _ => false,
        }
    }
    let primitive = |ty: &Type| matches!(ty, Type::Bool | Type::Number | Type::String);
    block
        .attributes
        .values()
        .any(|attribute| match &attribute.ty {
            ty if dynamic(ty) => true,
            Type::Tuple(_) | Type::Object(_) => true,
            Type::List(e) | Type::Set(e) | Type::Map(e) => match e.as_ref() {
                Type::List(inner) | Type::Set(inner) | Type::Map(inner) => !primitive(inner),
                _ => false,
            },
            _ => false,
        })
}

/// A value of an attribute the schema declares sensitive, marked so it renders hidden.
fn mark_if(value: Value, sensitive: bool) -> Value {
    if sensitive && !value.is_null() && !matches!(value, Value::Sensitive(_)) {
        value.mark_sensitive()
    } else {
        value
    }
}

/// Pairs the elements of two lists of blocks as Terraform does: by position.
fn pair_list(before: &[Value], after: &[Value]) -> Vec<(Option<usize>, Option<usize>)> {
    (0..before.len().max(after.len()))
        .map(|i| {
            (
                (i < before.len()).then_some(i),
                (i < after.len()).then_some(i),
            )
        })
        .collect()
}

/// Pairs the elements of two sets: equal elements are unchanged, the other before elements are
/// deletions (in order), the other after elements creations.
fn pair_set(before: &[Value], after: &[Value]) -> Vec<(Option<usize>, Option<usize>)> {
    let mut matched = vec![false; after.len()];
    let mut pairs = Vec::new();
    for (i, x) in before.iter().enumerate() {
        let found = (0..after.len()).find(|&j| !matched[j] && same(x, &after[j]));
        if let Some(j) = found {
            matched[j] = true;
        }
        pairs.push((Some(i), found));
    }
    for (j, taken) in matched.iter().enumerate() {
        if !taken {
            pairs.push((None, Some(j)));
        }
    }
    pairs
}

/// A blank line before the first shown block of a group, when the body has attributes.
fn open_group(started: &mut bool, has_attributes: bool, lines: &mut Vec<String>) {
    if !*started && has_attributes {
        lines.push(String::new());
    }
    *started = true;
}

impl BlockRenderer<'_> {
    fn forces(&self, path: &[PathStep]) -> bool {
        self.replace.contains(&AttrPath(path.to_vec()))
    }

    fn forces_note(&self, forces: bool) -> String {
        if forces {
            self.style.red(" # forces replacement")
        } else {
            String::new()
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn body(
        &self,
        before: &Value,
        after: &Value,
        schema: &Block,
        mode: Mode,
        modern: bool,
        path: &mut Vec<PathStep>,
        indent: usize,
        lines: &mut Vec<String>,
    ) {
        let style = self.style;
        let modern = modern || modern_schema(schema);
        let empty = BTreeMap::new();
        let before_entries = before.as_entries().unwrap_or(&empty);
        let after_entries = after.as_entries().unwrap_or(&empty);
        let keys: BTreeSet<&String> = before_entries
            .keys()
            .chain(after_entries.keys())
            .filter(|k| !schema.blocks.contains_key(*k))
            .collect();
        let attributes: Vec<(&String, Value, Value)> = keys
            .into_iter()
            .filter_map(|key| {
                let sensitive = schema.attributes.get(key).is_some_and(|a| a.sensitive);
                let b = mark_if(blank_to_null(before_entries.get(key), modern), sensitive);
                let a = mark_if(blank_to_null(after_entries.get(key), modern), sensitive);
                (!(b.is_null() && a.is_null())).then_some((key, b, a))
            })
            .collect();
        let width = attributes
            .iter()
            .map(|(k, _, _)| key_text(k, false).len())
            .max()
            .unwrap_or(0);
        let pad = " ".repeat(indent);
        let mut hidden = 0;
        for (key, b, a) in &attributes {
            path.push(PathStep::Attr((*key).clone()));
            let forces = self.forces_note(mode == Mode::Diff && self.forces(path));
            let name = format!("{:<width$}", key_text(key, false));
            let create = sign(style, Action::Create);
            let delete = sign(style, Action::Delete);
            let update = sign(style, Action::Update);
            let nested = schema.attributes.get(*key).filter(|a| a.nested);
            let signed = |value: &Value, sign: &str| match nested {
                Some(attribute) => render_nested_signed(value, &attribute.ty, indent, sign),
                None => render_attribute_signed(value, indent, sign),
            };
            if mode == Mode::Create || (mode == Mode::Diff && b.is_null()) {
                lines.push(format!(
                    "{pad}{create} {name} = {}{forces}",
                    signed(a, &create)
                ));
            } else if mode == Mode::Delete || a.is_null() {
                lines.push(format!(
                    "{pad}{delete} {name} = {} -> null{forces}",
                    signed(b, &delete)
                ));
            } else if same(b, a) {
                if IMPORTANT_ATTRIBUTES.contains(&key.as_str()) {
                    lines.push(format!(
                        "{pad}  {name} = {}",
                        render_value_signed(a, indent, " ")
                    ));
                } else {
                    hidden += 1;
                }
            } else if matches!(b, Value::Sensitive(_)) || matches!(a, Value::Sensitive(_)) {
                lines.push(format!("{pad}{update} {name} = (sensitive value){forces}"));
            } else if let Some(attribute) = nested.filter(|_| !a.is_unknown()) {
                let ty = &attribute.ty;
                nested_update_lines(b, a, ty, &name, indent, &forces, style, lines);
            } else {
                update_lines(b, a, &name, path, indent, &forces, style, lines);
            }
            path.pop();
        }
        if hidden > 0 {
            lines.push(format!(
                "{pad}  {}",
                style.dim(&unchanged_note(hidden, "attribute"))
            ));
        }
        let mut unchanged_blocks = 0;
        for (name, nested) in &schema.blocks {
            let null = Value::Null;
            let b = match mode {
                Mode::Create => &null,
                _ => before_entries.get(name).unwrap_or(&null),
            };
            let a = match mode {
                Mode::Delete => &null,
                _ => after_entries.get(name).unwrap_or(&null),
            };
            path.push(PathStep::Attr(name.clone()));
            let block_forces = mode == Mode::Diff && self.forces(path);
            let mut started = false;
            let absent = |v: &Value| v.is_null() || v.as_seq().is_some_and(<[Value]>::is_empty);
            if a.is_unknown() {
                // The provider decides the whole block during apply; the sign of a list or set
                // is the enclosing block's, as Terraform has it. What is there now is then shown
                // going away.
                let symbol = match (nested.nesting, mode) {
                    // A single block is its own value: created when there was none.
                    (Nesting::Single, Mode::Diff) if b.is_null() => sign(style, Action::Create),
                    _ => sign(style, mode.action()),
                };
                open_group(&mut started, !attributes.is_empty(), lines);
                lines.push(format!(
                    "{pad}{symbol} {name} (known after apply){}",
                    self.forces_note(block_forces)
                ));
            }
            let sensitive = matches!(b, Value::Sensitive(_)) || matches!(a, Value::Sensitive(_));
            if sensitive && !a.is_unknown() {
                let action = match mode {
                    Mode::Diff if absent(b) => Action::Create,
                    Mode::Diff if absent(a) => Action::Delete,
                    Mode::Diff if same(b, a) => Action::NoOp,
                    other => other.action(),
                };
                if action == Action::NoOp {
                    unchanged_blocks += 1;
                } else if !(absent(b) && absent(a)) {
                    open_group(&mut started, !attributes.is_empty(), lines);
                    lines.push(format!(
                        "{pad}{} {name} {{{}",
                        sign(style, action),
                        self.forces_note(block_forces)
                    ));
                    lines.push(format!(
                        "{pad}    {}",
                        style.dim("# At least one attribute in this block is (or was) sensitive,")
                    ));
                    lines.push(format!(
                        "{pad}    {}",
                        style.dim("# so its contents will not be displayed.")
                    ));
                    lines.push(format!("{pad}  }}"));
                }
                path.pop();
                continue;
            }
            let single = |v: &Value| -> Vec<Value> {
                if v.is_null() || v.is_unknown() {
                    Vec::new()
                } else {
                    vec![v.clone()]
                }
            };
            // A map block's labels (`listener "http"`), aligned with its items.
            let mut labels = (Vec::new(), Vec::new());
            let (before_items, after_items, indexed) = match nested.nesting {
                Nesting::Map => {
                    let (before_labels, before_items) = labelled(b);
                    let (after_labels, after_items) = labelled(a);
                    labels = (before_labels, after_labels);
                    (before_items, after_items, false)
                }
                Nesting::Single => (single(b), single(a), false),
                Nesting::List | Nesting::Set => (
                    b.as_seq()
                        .map(<[Value]>::to_vec)
                        .unwrap_or_else(|| single(b)),
                    a.as_seq()
                        .map(<[Value]>::to_vec)
                        .unwrap_or_else(|| single(a)),
                    true,
                ),
            };
            let pairs = match (mode, nested.nesting) {
                (Mode::Create, _) => (0..after_items.len()).map(|j| (None, Some(j))).collect(),
                (Mode::Delete, _) => (0..before_items.len()).map(|i| (Some(i), None)).collect(),
                (_, Nesting::Set) => pair_set(&before_items, &after_items),
                (_, Nesting::Map) => pair_labels(&labels.0, &labels.1),
                _ => pair_list(&before_items, &after_items),
            };
            for (i, j) in pairs {
                let x = i.map(|i| &before_items[i]);
                let y = j.map(|j| &after_items[j]);
                let (action, element_mode) = match (x, y) {
                    (None, Some(_)) => (Action::Create, Mode::Create),
                    (Some(_), None) => (Action::Delete, Mode::Delete),
                    (Some(x), Some(y)) if same(x, y) => (Action::NoOp, Mode::Diff),
                    _ => (Action::Update, Mode::Diff),
                };
                if action == Action::NoOp {
                    unchanged_blocks += 1;
                    continue;
                }
                open_group(&mut started, !attributes.is_empty(), lines);
                let label = match (i, j) {
                    (_, Some(j)) => labels.1.get(j),
                    (Some(i), None) => labels.0.get(i),
                    (None, None) => None,
                };
                if indexed {
                    let index = j.or(i).unwrap_or(0);
                    path.push(PathStep::Index(i64::try_from(index).unwrap_or(i64::MAX)));
                } else if let Some(label) = label {
                    path.push(PathStep::Key(label.clone()));
                }
                let name = match label {
                    Some(label) => format!("{name} {label:?}"),
                    None => name.clone(),
                };
                let forces =
                    self.forces_note(block_forces || (mode == Mode::Diff && self.forces(path)));
                let symbol = sign(style, action);
                if y.is_some_and(Value::is_unknown) {
                    lines.push(format!("{pad}{symbol} {name} (known after apply){forces}"));
                } else {
                    let mut inner = Vec::new();
                    self.body(
                        x.unwrap_or(&null),
                        y.unwrap_or(&null),
                        &nested.block,
                        element_mode,
                        modern,
                        path,
                        indent + 4,
                        &mut inner,
                    );
                    if inner.is_empty() {
                        lines.push(format!("{pad}{symbol} {name} {{}}{forces}"));
                    } else {
                        lines.push(format!("{pad}{symbol} {name} {{{forces}"));
                        lines.extend(inner);
                        lines.push(format!("{pad}  }}"));
                    }
                }
                if indexed || label.is_some() {
                    path.pop();
                }
            }
            path.pop();
        }
        if unchanged_blocks > 0 {
            lines.push(String::new());
            lines.push(format!(
                "{pad}  {}",
                style.dim(&unchanged_note(unchanged_blocks, "block"))
            ));
        }
    }
}

/// A map block's value as its labels and its items, in label order.
fn labelled(value: &Value) -> (Vec<String>, Vec<Value>) {
    value
        .as_entries()
        .map(|entries| {
            entries
                .iter()
                .map(|(label, item)| (label.clone(), item.clone()))
                .unzip()
        })
        .unwrap_or_default()
}

/// Before and after items of a map block paired by label, in label order.
fn pair_labels(before: &[String], after: &[String]) -> Vec<(Option<usize>, Option<usize>)> {
    let all: BTreeSet<&String> = before.iter().chain(after).collect();
    all.into_iter()
        .map(|label| {
            let position = |labels: &[String]| labels.iter().position(|l| l == label);
            (position(before), position(after))
        })
        .collect()
}

pub(super) fn sign(style: Style, action: Action) -> String {
    match action {
        Action::Create => style.green("+"),
        Action::Delete => style.red("-"),
        Action::Update => style.yellow("~"),
        _ => " ".into(),
    }
}

#[allow(clippy::too_many_arguments)]
fn diff_object(
    before: &Value,
    after: &Value,
    action: Action,
    path: &mut Vec<PathStep>,
    replace: &BTreeSet<AttrPath>,
    indent: usize,
    style: Style,
    lines: &mut Vec<String>,
    hidden: &mut usize,
) {
    let empty = BTreeMap::new();
    let before_entries = before.as_entries().unwrap_or(&empty);
    let after_entries = after.as_entries().unwrap_or(&empty);
    let keys: BTreeSet<&String> = before_entries.keys().chain(after_entries.keys()).collect();
    let width = keys
        .iter()
        .filter(|k| {
            let b = before_entries.get(**k).unwrap_or(&Value::Null);
            let a = after_entries.get(**k).unwrap_or(&Value::Null);
            !(b.is_null() && a.is_null())
        })
        .map(|k| key_text(k, false).len())
        .max()
        .unwrap_or(0);
    for key in keys {
        let b = before_entries.get(key).unwrap_or(&Value::Null);
        let a = after_entries.get(key).unwrap_or(&Value::Null);
        if b.is_null() && a.is_null() {
            continue;
        }
        path.push(PathStep::Attr(key.clone()));
        let forces = if replace.contains(&AttrPath(path.clone())) {
            style.red(" # forces replacement")
        } else {
            String::new()
        };
        let name = format!("{:<width$}", key_text(key, false));
        let pad = " ".repeat(indent);
        match action {
            Action::Create | Action::Read => {
                // Empty nested blocks are not worth a line, as Terraform has it.
                if a.as_seq().is_some_and(<[Value]>::is_empty) {
                    path.pop();
                    continue;
                }
                lines.push(format!(
                    "{pad}{} {name} = {}",
                    sign(style, Action::Create),
                    render_attribute_signed(a, indent, &sign(style, Action::Create))
                ))
            }
            Action::Delete => lines.push(format!(
                "{pad}{} {name} = {} -> null",
                sign(style, Action::Delete),
                render_attribute_signed(b, indent, &sign(style, Action::Delete))
            )),
            _ => {
                let same =
                    b.equals(a) == Some(true) && b.contains_sensitive() == a.contains_sensitive();
                if same {
                    if key == "id" || key == "name" {
                        lines.push(format!("{pad}  {name} = {}", render_value(a, indent)));
                    } else {
                        *hidden += 1;
                    }
                } else if b.is_null() {
                    lines.push(format!(
                        "{pad}{} {name} = {}{forces}",
                        sign(style, Action::Create),
                        render_value(a, indent)
                    ));
                } else if a.is_null() {
                    lines.push(format!(
                        "{pad}{} {name} = {} -> null{forces}",
                        sign(style, Action::Delete),
                        render_value(b, indent)
                    ));
                } else {
                    update_lines(b, a, &name, path, indent, &forces, style, lines);
                }
            }
        }
        path.pop();
    }
}

/// The lines of one attribute changed in place: a line diff of text, an element diff of
/// collections, or `before -> after`.
#[allow(clippy::too_many_arguments)]
pub(super) fn update_lines(
    b: &Value,
    a: &Value,
    name: &str,
    path: &mut Vec<PathStep>,
    indent: usize,
    forces: &str,
    style: Style,
    lines: &mut Vec<String>,
) {
    let pad = " ".repeat(indent);
    let documents = match (b, a) {
        (Value::String(old), Value::String(new)) => json_document(old).zip(json_document(new)),
        _ => None,
    };
    if let Some((old, new)) = documents.filter(|(old, new)| !same(old, new)) {
        // Two JSON documents: diffed by structure, as Terraform shows a changed policy.
        let update = sign(style, Action::Update);
        lines.push(format!("{pad}{update} {name} = jsonencode("));
        lines.push(format!(
            "{pad}    {update} {}",
            structural_diff(&old, &new, indent + 4, style)
        ));
        lines.push(format!("{pad}  ){forces}"));
    } else if let Some(diff) = text_diff(b, a, indent, style) {
        lines.push(format!(
            "{pad}{} {name} = {}{forces}",
            sign(style, Action::Update),
            diff
        ));
    } else if nested_diffable(b, a) {
        let (open, close) = if matches!(a.unmarked(), Value::Map(_) | Value::Object(_)) {
            ("{", "}")
        } else {
            ("[", "]")
        };
        lines.push(format!(
            "{pad}{} {name} = {open}{forces}",
            sign(style, Action::Update)
        ));
        let mut inner_hidden = 0;
        if open == "{" {
            diff_entries(b, a, path, indent + 4, style, lines, &mut inner_hidden);
        } else {
            diff_sequence(b, a, indent + 4, style, lines, &mut inner_hidden);
        }
        if inner_hidden > 0 {
            lines.push(format!(
                "{pad}      {}",
                style.dim(&unchanged_note(inner_hidden, "element"))
            ));
        }
        lines.push(format!("{pad}  {close}"));
    } else if a.is_unknown() {
        // What is known now goes away, as Terraform shows it: the old value signed `-`.
        lines.push(format!(
            "{pad}{} {name} = {} -> {}{forces}",
            sign(style, Action::Update),
            render_attribute_signed(b, indent, &sign(style, Action::Delete)),
            render_value(a, indent)
        ));
    } else {
        lines.push(format!(
            "{pad}{} {name} = {} -> {}{forces}",
            sign(style, Action::Update),
            render_value(b, indent),
            render_value(a, indent)
        ));
    }
}

/// The structural diff of two values of a JSON document whose line has its sign at column
/// `indent`: changed object entries and array elements signed, unchanged ones counted. Array
/// elements pair up by their longest common subsequence, objects between them as updates.
fn structural_diff(before: &Value, after: &Value, indent: usize, style: Style) -> String {
    match (before.unmarked(), after.unmarked()) {
        (Value::Object(old), Value::Object(new)) => {
            let keys: BTreeSet<&String> = old.keys().chain(new.keys()).collect();
            let width = keys
                .iter()
                .map(|k| key_text(k, false).len())
                .max()
                .unwrap_or(0);
            let entries = keys.into_iter().map(|key| {
                let label = format!("{:<width$} = ", key_text(key, false));
                (label, old.get(key), new.get(key))
            });
            json_diff_entries(entries, false, indent, style)
        }
        (Value::Tuple(old) | Value::List(old), Value::Tuple(new) | Value::List(new)) => {
            let entries = pair_lcs(old, new)
                .into_iter()
                .map(|(i, j)| (String::new(), i.map(|i| &old[i]), j.map(|j| &new[j])));
            json_diff_entries(entries, true, indent, style)
        }
        _ => format!(
            "{} -> {}",
            render_value(before, indent),
            render_value(after, indent)
        ),
    }
}

/// A structural diff of an object (`{`, entries `name = value`) or, with `array`, an array
/// (`[`, elements `value,`): the changed entries signed, the unchanged ones counted in a note,
/// then the closing bracket. Each entry is its label (`name = `, or nothing) and its values
/// before and after.
fn json_diff_entries<'v>(
    entries: impl Iterator<Item = (String, Option<&'v Value>, Option<&'v Value>)>,
    array: bool,
    indent: usize,
    style: Style,
) -> String {
    let child = " ".repeat(indent + 4);
    let (create, delete, update) = (
        sign(style, Action::Create),
        sign(style, Action::Delete),
        sign(style, Action::Update),
    );
    let (open, close, what, end, gone) = if array {
        ('[', ']', "element", ",", ",")
    } else {
        ('{', '}', "attribute", "", " -> null")
    };
    let mut out = format!("{open}\n");
    let mut hidden = 0;
    for (label, old, new) in entries {
        match (old, new) {
            (Some(x), Some(y)) if same(x, y) => hidden += 1,
            (Some(x), Some(y)) => out.push_str(&format!(
                "{child}{update} {label}{}{end}\n",
                structural_diff(x, y, indent + 4, style)
            )),
            (None, Some(y)) => out.push_str(&format!(
                "{child}{create} {label}{}{end}\n",
                render_value_signed(y, indent + 4, &create)
            )),
            (Some(x), None) => out.push_str(&format!(
                "{child}{delete} {label}{}{gone}\n",
                render_value_signed(x, indent + 4, &delete)
            )),
            (None, None) => {}
        }
    }
    if hidden > 0 {
        out.push_str(&format!(
            "{}{}\n",
            " ".repeat(indent + 6),
            style.dim(&unchanged_note(hidden, what))
        ));
    }
    out.push_str(&format!("{}{close}", " ".repeat(indent + 2)));
    out
}

/// Pairs two sequences as Terraform pairs the elements of a list: elements of their longest
/// common subsequence are unchanged; between two of those, objects before and after pair up as
/// updates, other elements are removed and added.
fn pair_lcs(before: &[Value], after: &[Value]) -> Vec<(Option<usize>, Option<usize>)> {
    let (n, m) = (before.len(), after.len());
    let mut table = vec![vec![0usize; m + 1]; n + 1];
    for i in (0..n).rev() {
        for j in (0..m).rev() {
            table[i][j] = if same(&before[i], &after[j]) {
                table[i + 1][j + 1] + 1
            } else {
                table[i + 1][j].max(table[i][j + 1])
            };
        }
    }
    let mut common = Vec::new();
    let (mut i, mut j) = (0, 0);
    while i < n && j < m {
        if same(&before[i], &after[j]) {
            common.push((i, j));
            i += 1;
            j += 1;
        } else if table[i + 1][j] >= table[i][j + 1] {
            i += 1;
        } else {
            j += 1;
        }
    }
    common.push((n, m));
    let object = |v: &Value| matches!(v.unmarked(), Value::Object(_) | Value::Map(_));
    let mut pairs = Vec::new();
    let (mut b, mut a) = (0, 0);
    for (next_b, next_a) in common {
        while b < next_b {
            if a < next_a && object(&before[b]) && object(&after[a]) {
                pairs.push((Some(b), Some(a)));
                a += 1;
            } else {
                pairs.push((Some(b), None));
            }
            b += 1;
        }
        while a < next_a {
            pairs.push((None, Some(a)));
            a += 1;
        }
        if next_b < n {
            pairs.push((Some(next_b), Some(next_a)));
            b += 1;
            a += 1;
        }
    }
    pairs
}

/// Both known, not sensitive, and the same kind of collection: diffed element by element.
/// Two multi-line strings, or two JSON documents (policies written with `jsonencode`), diffed
/// line by line; `None` for anything else.
fn text_diff(before: &Value, after: &Value, indent: usize, style: Style) -> Option<String> {
    let (Value::String(old), Value::String(new)) = (before, after) else {
        return None;
    };
    let as_json = |text: &str| -> Option<String> {
        let trimmed = text.trim_start();
        if !(trimmed.starts_with('{') || trimmed.starts_with('[')) {
            return None;
        }
        let parsed: serde_json::Value = serde_json::from_str(text).ok()?;
        serde_json::to_string_pretty(&parsed).ok()
    };
    let (old_text, new_text, label) = match (as_json(old), as_json(new)) {
        (Some(o), Some(n)) => (o, n, "jsonencode("),
        _ if old.contains('\n') || new.contains('\n') => (old.clone(), new.clone(), "<<-EOT"),
        _ => return None,
    };
    let pad = " ".repeat(indent + 4);
    let mut out = format!("{label}\n");
    let diff = similar::TextDiff::from_lines(&old_text, &new_text);
    for change in diff.iter_all_changes() {
        let line = change.value().trim_end_matches('\n');
        let marker = match change.tag() {
            similar::ChangeTag::Delete => style.red("-"),
            similar::ChangeTag::Insert => style.green("+"),
            similar::ChangeTag::Equal => " ".to_string(),
        };
        out.push_str(&format!("{pad}{marker} {line}\n"));
    }
    let close = if label == "<<-EOT" { "EOT" } else { ")" };
    out.push_str(&format!("{}{close}", " ".repeat(indent + 2)));
    Some(out)
}

fn nested_diffable(before: &Value, after: &Value) -> bool {
    let plain = |v: &Value| !matches!(v, Value::Sensitive(_) | Value::Unknown(_));
    plain(before)
        && plain(after)
        && ((before.as_entries().is_some() && after.as_entries().is_some())
            || (before.as_seq().is_some() && after.as_seq().is_some()))
}

#[allow(clippy::too_many_arguments)]
fn diff_entries(
    before: &Value,
    after: &Value,
    path: &mut Vec<PathStep>,
    indent: usize,
    style: Style,
    lines: &mut Vec<String>,
    hidden: &mut usize,
) {
    let quoted = matches!(after, Value::Map(_)) || matches!(before, Value::Map(_));
    let empty = BTreeMap::new();
    let b = before.as_entries().unwrap_or(&empty);
    let a = after.as_entries().unwrap_or(&empty);
    let keys: BTreeSet<&String> = b.keys().chain(a.keys()).collect();
    let width = keys
        .iter()
        .map(|k| key_text(k, quoted).len())
        .max()
        .unwrap_or(0);
    let pad = " ".repeat(indent);
    for key in keys {
        let name = format!("{:<width$}", key_text(key, quoted));
        match (b.get(key), a.get(key)) {
            (Some(x), Some(y)) if x.equals(y) == Some(true) => *hidden += 1,
            (Some(x), Some(y)) => {
                if nested_diffable(x, y) && x.as_entries().is_some() {
                    path.push(PathStep::Attr(key.clone()));
                    lines.push(format!("{pad}{} {name} = {{", sign(style, Action::Update)));
                    let mut inner = 0;
                    diff_entries(x, y, path, indent + 4, style, lines, &mut inner);
                    lines.push(format!("{pad}  }}"));
                    path.pop();
                } else {
                    lines.push(format!(
                        "{pad}{} {name} = {} -> {}",
                        sign(style, Action::Update),
                        render_value(x, indent),
                        render_value(y, indent)
                    ));
                }
            }
            (None, Some(y)) => lines.push(format!(
                "{pad}{} {name} = {}",
                sign(style, Action::Create),
                render_value(y, indent)
            )),
            (Some(x), None) => lines.push(format!(
                "{pad}{} {name} = {} -> null",
                sign(style, Action::Delete),
                render_value(x, indent)
            )),
            (None, None) => {}
        }
    }
}

fn diff_sequence(
    before: &Value,
    after: &Value,
    indent: usize,
    style: Style,
    lines: &mut Vec<String>,
    hidden: &mut usize,
) {
    let b = before.as_seq().unwrap_or(&[]);
    let a = after.as_seq().unwrap_or(&[]);
    let pad = " ".repeat(indent);
    // Elements present on both sides are unchanged; the rest are removed or added.
    for x in b {
        if a.iter().any(|y| y.equals(x) == Some(true)) {
            *hidden += 1;
        } else {
            let minus = sign(style, Action::Delete);
            lines.push(format!(
                "{pad}{minus} {},",
                render_value_signed(x, indent, &minus)
            ));
        }
    }
    for y in a {
        if !b.iter().any(|x| x.equals(y) == Some(true)) {
            let plus = sign(style, Action::Create);
            lines.push(format!(
                "{pad}{plus} {},",
                render_value_signed(y, indent, &plus)
            ));
        }
    }
}

fn legend(plan: &Plan, style: Style) -> String {
    let actions: BTreeSet<Action> = plan.changes.iter().map(|c| c.action).collect();
    let mut out = String::from("Strata used the selected providers to generate the following execution\nplan. Resource actions are indicated with the following symbols:\n");
    for (action, text) in [
        (Action::Create, "create"),
        (Action::Update, "update in-place"),
        (Action::Delete, "destroy"),
        (
            Action::DeleteThenCreate,
            "destroy and then create replacement",
        ),
        (
            Action::CreateThenDelete,
            "create replacement and then destroy",
        ),
        (Action::Read, "read (data resources)"),
    ] {
        if actions.contains(&action) {
            let symbol = action.symbol();
            let pad = " ".repeat(3usize.saturating_sub(symbol.len()));
            out.push_str(&format!("{pad}{} {text}\n", style.action_symbol(action)));
        }
    }
    out
}

/// The schema a change renders with.
fn schema_of<'s>(schemas: &'s Schemas, change: &ResourceChange) -> Option<&'s Block> {
    let resource = &change.address.resource;
    schemas.block(resource.mode, &resource.type_name)
}

/// The whole plan as `strata plan` prints it; `schemas` tell nested blocks from attributes.
pub fn render_plan(plan: &Plan, style: Style, schemas: &Schemas) -> String {
    let _phase = crate::timings::phase("rendering");
    let mut out = String::new();
    if !plan.drift.is_empty() && (plan.mode == PlanMode::RefreshOnly || plan.has_resource_changes())
    {
        out.push_str(&style.bold("\nNote: Objects have changed outside of Strata\n\n"));
        out.push_str("Strata detected the following changes made outside of Strata since the\nlast \"strata apply\" which may have affected this plan:\n\n");
        for drift in &plan.drift {
            let mut drift = drift.clone();
            let header_change = drift.clone();
            let text = render_change(&drift, style, schema_of(schemas, &drift)).replacen(
                &header(&header_change),
                &match drift.action {
                    Action::Delete => format!("# {} has been deleted", drift.address),
                    _ => format!("# {} has changed", drift.address),
                },
                1,
            );
            drift.reason = None;
            out.push_str(&text);
            out.push('\n');
        }
    }
    if plan.mode == PlanMode::RefreshOnly {
        if plan.drift.is_empty() {
            out.push_str("\nNo changes. Your infrastructure still matches the configuration.\n");
        } else {
            out.push_str("This is a refresh-only plan, so Strata will not take any actions to undo\nthese. If you were expecting these changes then you can apply this plan to\nrecord the updated values in the Strata state without changing any remote\nobjects.\n");
        }
        return out;
    }
    let changes: Vec<&ResourceChange> = plan.changes.iter().filter(|c| c.is_change()).collect();
    if changes.is_empty()
        && !plan
            .output_changes
            .values()
            .any(|o| o.action != Action::NoOp)
    {
        if plan.mode == PlanMode::Destroy {
            out.push_str("\nNo changes. No objects need to be destroyed.\n\nEither you have not created any objects yet or the existing objects were\nalready deleted outside of Strata.\n");
        } else {
            out.push_str("\nNo changes. Your infrastructure matches the configuration.\n\nStrata has compared your real infrastructure against your configuration\nand found no differences, so no changes are needed.\n");
        }
        return out;
    }
    if !changes.is_empty() {
        // Terraform leaves the legend out when nothing but moves and imports happen.
        if plan.changes.iter().any(|c| c.action != Action::NoOp) {
            out.push('\n');
            out.push_str(&legend(plan, style));
        }
        out.push_str("\nStrata will perform the following actions:\n\n");
        for change in &changes {
            out.push_str(&render_change(change, style, schema_of(schemas, change)));
            out.push('\n');
        }
    }
    let (add, change, destroy) = plan.counts();

    let import = match plan.import_count() {
        0 => String::new(),
        n => format!("{n} to import, "),
    };
    // As Terraform: no `Plan:` line when only outputs change, but what applying would do.
    if !changes.is_empty() {
        out.push_str(&style.bold(&format!(
            "Plan: {import}{add} to add, {change} to change, {destroy} to destroy."
        )));
        out.push('\n');
    }
    let output_lines = render_output_changes(&plan.output_changes, style);
    if !output_lines.is_empty() {
        out.push_str("\nChanges to Outputs:\n");
        out.push_str(&output_lines);
        if changes.is_empty() {
            out.push_str("\nYou can apply this plan to save these new output values to the Strata\nstate, without changing any real infrastructure.\n");
        }
    }
    out
}

fn render_output_changes(changes: &BTreeMap<String, OutputChange>, style: Style) -> String {
    let visible: Vec<(&String, &OutputChange)> = changes
        .iter()
        .filter(|(_, c)| c.action != Action::NoOp)
        .collect();
    let width = visible.iter().map(|(n, _)| n.len()).max().unwrap_or(0);
    let mut out = String::new();
    for (name, change) in visible {
        let show = |v: &Value| {
            if change.sensitive {
                "(sensitive value)".to_string()
            } else {
                render_value(v, 2)
            }
        };
        // A created or destroyed collection signs every element, as Terraform prints it.
        let signed = |v: &Value, sign: &str| {
            if change.sensitive {
                "(sensitive value)".to_string()
            } else {
                render_value_signed(v, 2, sign)
            }
        };
        let line = match (change.action, &change.before, &change.after) {
            (Action::Create, _, Some(a)) => format!(
                "  {} {name:<width$} = {}",
                style.green("+"),
                signed(a, &style.green("+"))
            ),
            (Action::Delete, Some(b), _) => format!(
                "  {} {name:<width$} = {} -> null",
                style.red("-"),
                signed(b, &style.red("-"))
            ),
            (_, Some(b), Some(a)) => format!(
                "  {} {name:<width$} = {} -> {}",
                style.yellow("~"),
                show(b),
                show(a)
            ),
            _ => continue,
        };
        out.push_str(&line);
        out.push('\n');
    }
    out
}

/// `Apply complete! Resources: 1 added, 0 changed, 0 destroyed.`
pub fn render_apply_summary(plan: &Plan, style: Style) -> String {
    let (add, change, destroy) = plan.counts();
    if plan.mode == PlanMode::Destroy {
        return style.green(&style.bold(&format!(
            "Destroy complete! Resources: {destroy} destroyed."
        )));
    }
    let import = match plan.import_count() {
        0 => String::new(),
        n => format!("{n} imported, "),
    };
    style.green(&style.bold(&format!(
        "Apply complete! Resources: {import}{add} added, {change} changed, {destroy} destroyed."
    )))
}

/// The `Outputs:` block after an apply, and `strata output`.
pub fn render_outputs(outputs: &BTreeMap<String, OutputValue>) -> String {
    let mut out = String::new();
    for (name, output) in outputs {
        let value = if output.sensitive {
            "<sensitive>".to_string()
        } else {
            super::values::render_plain(&output.value, 0)
        };
        out.push_str(&format!("{name} = {value}\n"));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::addrs::ResourceInstance;
    use crate::providers::{Attribute, NestedBlock};

    /// A cluster-like resource type: a required single `vpc_config` list block (at most one,
    /// with a sensitive attribute), several `ingress` set blocks, a computed `access_config`
    /// block and a single `timeouts` block.
    fn cluster_schema() -> Block {
        let vpc_config = Block::new()
            .attr(
                "subnet_ids",
                Attribute::required(Type::set(Type::String)).force_new(),
            )
            .attr("endpoint_public_access", Attribute::optional(Type::Bool))
            .attr("token", Attribute::optional(Type::String).sensitive())
            .attr("vpc_id", Attribute::computed(Type::String));
        let ingress = Block::new()
            .attr("from_port", Attribute::required(Type::Number))
            .attr("cidr_blocks", Attribute::optional(Type::list(Type::String)));
        let access = Block::new().attr("mode", Attribute::optional_computed(Type::String));
        Block::new()
            .attr("id", Attribute::computed(Type::String))
            .attr("name", Attribute::required(Type::String))
            .attr("arn", Attribute::computed(Type::String))
            .attr("role", Attribute::optional(Type::String))
            .nested(
                "vpc_config",
                NestedBlock {
                    nesting: Nesting::List,
                    block: vpc_config,
                    min_items: 1,
                    max_items: 1,
                    force_new: false,
                    computed: false,
                    attribute_syntax: false,
                },
            )
            .block("ingress", Nesting::Set, ingress)
            .nested(
                "access_config",
                NestedBlock {
                    nesting: Nesting::List,
                    block: access,
                    min_items: 0,
                    max_items: 1,
                    force_new: false,
                    computed: true,
                    attribute_syntax: false,
                },
            )
            .block(
                "timeouts",
                Nesting::Single,
                Block::new().attr("create", Attribute::optional(Type::String)),
            )
    }

    fn strings(items: &[&str]) -> Vec<Value> {
        items.iter().map(|s| Value::from(*s)).collect()
    }

    fn vpc(subnets: &[&str], public: bool, token: &str) -> Value {
        Value::List(vec![Value::object([
            ("subnet_ids", Value::set(strings(subnets))),
            ("endpoint_public_access", Value::from(public)),
            ("token", Value::from(token)),
            ("vpc_id", Value::from("vpc-1")),
        ])])
    }

    fn ingress(port: i64, cidrs: &[&str]) -> Value {
        Value::object([
            ("from_port", Value::from(port)),
            ("cidr_blocks", Value::List(strings(cidrs))),
        ])
    }

    /// The cluster as it stands: two ingress blocks, a 30m create timeout.
    fn existing() -> Value {
        Value::object([
            ("id", Value::from("c-1")),
            ("name", Value::from("demo")),
            ("arn", Value::from("arn:demo")),
            ("role", Value::from("")),
            ("vpc_config", vpc(&["subnet-a", "subnet-b"], true, "s3cret")),
            (
                "ingress",
                Value::set(vec![
                    ingress(443, &["10.0.0.0/16"]),
                    ingress(22, &["10.0.1.0/24"]),
                ]),
            ),
            (
                "access_config",
                Value::List(vec![Value::object([("mode", Value::from("API"))])]),
            ),
            ("timeouts", Value::object([("create", Value::from("30m"))])),
        ])
    }

    fn change(
        action: Action,
        before: Option<Value>,
        after: Option<Value>,
        requires_replace: Vec<AttrPath>,
    ) -> ResourceChange {
        ResourceChange {
            address: ResourceInstance::parse("test_cluster.main").expect("an address"),
            provider: "provider[\"registry.terraform.io/hashicorp/test\"]".into(),
            action,
            before,
            after,
            requires_replace,
            reason: None,
            schema_version: 0,
            deposed: None,
            previous_address: None,
            importing: None,
            private: None,
        }
    }

    fn render(change: &ResourceChange) -> String {
        render_change(change, Style { color: false }, Some(&cluster_schema()))
    }

    fn with(value: &Value, name: &str, replacement: Value) -> Value {
        let mut entries = value.as_entries().cloned().unwrap_or_default();
        entries.insert(name.to_string(), replacement);
        Value::Object(entries)
    }

    #[test]
    fn nested_blocks_render_as_blocks_on_create() {
        let after = Value::object([
            ("id", Value::unknown()),
            ("name", Value::from("demo")),
            ("arn", Value::unknown()),
            ("role", Value::from("")),
            (
                "vpc_config",
                Value::List(vec![Value::object([
                    ("subnet_ids", Value::set(vec![Value::unknown()])),
                    ("endpoint_public_access", Value::from(true)),
                    ("token", Value::from("s3cret")),
                    ("vpc_id", Value::unknown()),
                ])]),
            ),
            (
                "ingress",
                Value::set(vec![
                    ingress(443, &["10.0.0.0/16"]),
                    ingress(22, &["10.0.1.0/24"]),
                ]),
            ),
            ("access_config", Value::unknown()),
            ("timeouts", Value::object([("create", Value::from("30m"))])),
        ]);
        let text = render(&change(Action::Create, None, Some(after), Vec::new()));
        assert!(!text.contains("token ") || text.contains("(sensitive value)"));
        assert!(!text.contains("s3cret"), "{text}");
        insta::assert_snapshot!(text);
    }

    #[test]
    fn nested_blocks_update_in_place() {
        let before = existing();
        let mut after = with(
            &before,
            "vpc_config",
            vpc(&["subnet-a", "subnet-b"], false, "s3cret"),
        );
        after = with(
            &after,
            "ingress",
            Value::set(vec![
                ingress(443, &["10.0.0.0/16"]),
                ingress(22, &["10.0.2.0/24"]),
            ]),
        );
        after = with(&after, "timeouts", Value::Null);
        let text = render(&change(
            Action::Update,
            Some(before),
            Some(after),
            Vec::new(),
        ));
        insta::assert_snapshot!(text);
    }

    #[test]
    fn sensitive_attribute_inside_a_block_stays_hidden() {
        let before = existing();
        let after = with(
            &before,
            "vpc_config",
            vpc(&["subnet-a", "subnet-b"], true, "n3w"),
        );
        let text = render(&change(
            Action::Update,
            Some(before),
            Some(after),
            Vec::new(),
        ));
        assert!(!text.contains("s3cret") && !text.contains("n3w"), "{text}");
        insta::assert_snapshot!(text);
    }

    #[test]
    fn wholly_sensitive_block_hides_its_contents() {
        let before = existing();
        let after = with(
            &before,
            "timeouts",
            Value::object([("create", Value::from("45m"))]).mark_sensitive(),
        );
        let text = render(&change(
            Action::Update,
            Some(before),
            Some(after),
            Vec::new(),
        ));
        assert!(!text.contains("45m"), "{text}");
        insta::assert_snapshot!(text);
    }

    #[test]
    fn empty_strings_are_null_only_in_legacy_schemas() {
        let after = Value::object([("id", Value::unknown()), ("input", Value::from(""))]);
        let created = change(Action::Create, None, Some(after), Vec::new());
        let legacy = Block::new()
            .attr("id", Attribute::computed(Type::String))
            .attr("input", Attribute::optional(Type::String));
        let modern = Block::new()
            .attr("id", Attribute::computed(Type::String))
            .attr("input", Attribute::optional(Type::Any));
        let plain = Style { color: false };
        assert!(!render_change(&created, plain, Some(&legacy)).contains("input"));
        assert!(render_change(&created, plain, Some(&modern)).contains("+ input = \"\""));
    }

    #[test]
    fn set_of_objects_attribute_diffs_element_by_element() {
        let rule = |port: i64, cidr: &str| {
            Value::object([
                ("from_port", Value::from(port)),
                ("cidr_blocks", Value::List(strings(&[cidr]))),
                ("description", Value::Null),
            ])
        };
        let schema = Block::new()
            .attr("id", Attribute::computed(Type::String))
            .attr(
                "ingress",
                Attribute::optional_computed(Type::set(Type::Any)),
            );
        let before = Value::object([
            ("id", Value::from("sg-1")),
            (
                "ingress",
                Value::set(vec![rule(443, "10.0.0.0/16"), rule(22, "10.0.1.0/24")]),
            ),
        ]);
        let after = with(
            &before,
            "ingress",
            Value::set(vec![rule(443, "10.0.0.0/16"), rule(22, "10.0.2.0/24")]),
        );
        let text = render_change(
            &change(Action::Update, Some(before), Some(after), Vec::new()),
            Style { color: false },
            Some(&schema),
        );
        insta::assert_snapshot!(text);
    }

    #[test]
    fn json_documents_diff_by_structure() {
        let policy = |service: &str| {
            format!(
                r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Action":"sts:AssumeRole","Principal":{{"Service":"{service}"}}}}]}}"#
            )
        };
        let schema = Block::new()
            .attr("id", Attribute::computed(Type::String))
            .attr("policy", Attribute::required(Type::String));
        let before = Value::object([
            ("id", Value::from("role")),
            ("policy", Value::from(policy("eks.amazonaws.com"))),
        ]);
        let after = with(&before, "policy", Value::from(policy("ec2.amazonaws.com")));
        let text = render_change(
            &change(Action::Update, Some(before), Some(after), Vec::new()),
            Style { color: false },
            Some(&schema),
        );
        insta::assert_snapshot!(text);
    }

    #[test]
    fn sequences_pair_objects_between_common_elements() {
        let objects = |names: &[&str]| -> Vec<Value> {
            names
                .iter()
                .map(|n| Value::object([("name", Value::from(*n))]))
                .collect()
        };
        assert_eq!(
            pair_lcs(&objects(&["a", "b", "c"]), &objects(&["a", "x", "c", "d"])),
            vec![
                (Some(0), Some(0)),
                (Some(1), Some(1)),
                (Some(2), Some(2)),
                (None, Some(3))
            ]
        );
        assert_eq!(
            pair_lcs(&strings(&["a", "b"]), &strings(&["a", "x"])),
            vec![(Some(0), Some(0)), (Some(1), None), (None, Some(1))]
        );
    }

    #[test]
    fn nested_block_forces_replacement() {
        let before = existing();
        let mut after = with(&before, "vpc_config", vpc(&["subnet-a"], true, "s3cret"));
        after = with(&after, "id", Value::unknown());
        after = with(&after, "arn", Value::unknown());
        after = with(&after, "access_config", Value::unknown());
        after = with(
            &after,
            "ingress",
            Value::set(vec![ingress(443, &["10.0.0.0/16"]), ingress(80, &[])]),
        );
        let replace = vec![
            AttrPath(vec![
                PathStep::Attr("vpc_config".into()),
                PathStep::Index(0),
                PathStep::Attr("subnet_ids".into()),
            ]),
            AttrPath(vec![PathStep::Attr("ingress".into())]),
        ];
        let text = render(&change(
            Action::DeleteThenCreate,
            Some(before),
            Some(after),
            replace,
        ));
        insta::assert_snapshot!(text);
    }

    #[test]
    fn nested_blocks_render_as_blocks_on_delete() {
        let text = render(&change(Action::Delete, Some(existing()), None, Vec::new()));
        insta::assert_snapshot!(text);
    }

    #[test]
    fn without_a_schema_blocks_stay_attribute_values() {
        let before = existing();
        let after = with(
            &before,
            "vpc_config",
            vpc(&["subnet-a", "subnet-b"], false, "s3cret"),
        );
        let text = render_change(
            &change(Action::Update, Some(before), Some(after), Vec::new()),
            Style { color: false },
            None,
        );
        assert!(text.contains("~ vpc_config    = ["), "{text}");
        assert!(!text.contains("vpc_config {"), "{text}");
    }

    #[test]
    fn block_elements_pair_by_position_in_lists_and_by_value_in_sets() {
        let list = |items: &[&str]| strings(items);
        assert_eq!(
            pair_list(&list(&["a", "b"]), &list(&["b", "a", "c"])),
            vec![(Some(0), Some(0)), (Some(1), Some(1)), (None, Some(2))]
        );
        assert_eq!(
            pair_set(&list(&["a", "b"]), &list(&["b", "c"])),
            vec![(Some(0), None), (Some(1), Some(0)), (None, Some(1))]
        );
    }

    #[test]
    fn json_objects_and_arrays_diff_entry_by_entry() {
        let json = |text: &str| {
            let json: serde_json::Value = serde_json::from_str(text).expect("JSON");
            crate::value::value_from_json(&json, None).expect("a value")
        };
        let before = json(r#"{"a":1,"b":[1,2,3],"c":"x","d":{"e":1,"g":2}}"#);
        let after = json(r#"{"a":1,"b":[1,3,4],"d":{"e":2,"g":2},"f":true}"#);
        let text = structural_diff(&before, &after, 2, Style { color: false });
        assert_eq!(
            text,
            "{\n      ~ b = [\n          - 2,\n          + 4,\n            # (2 unchanged elements hidden)\n        ]\n      - c = \"x\" -> null\n      ~ d = {\n          ~ e = 1 -> 2\n            # (1 unchanged attribute hidden)\n        }\n      + f = true\n        # (1 unchanged attribute hidden)\n    }"
        );
    }

    #[test]
    fn json_documents_diff_line_by_line() {
        let before = Value::from(
            r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"sts:AssumeRole"}]}"#,
        );
        let after = Value::from(
            r#"{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"sts:AssumeRole"}]}"#,
        );
        let text = text_diff(&before, &after, 6, Style { color: false }).expect("a line diff");
        assert!(text.starts_with("jsonencode("), "{text}");
        let line_of = |needle: &str| {
            text.lines()
                .find(|l| l.contains(needle))
                .map(str::trim_start)
                .unwrap_or_default()
                .to_string()
        };
        assert!(line_of("Allow").starts_with('-'), "{text}");
        assert!(line_of("Deny").starts_with('+'), "{text}");
        assert!(
            line_of("sts:AssumeRole").starts_with('"'),
            "unchanged lines carry no sign: {text}"
        );
    }

    #[test]
    fn short_strings_are_not_line_diffed() {
        assert!(text_diff(
            &Value::from("a"),
            &Value::from("b"),
            6,
            Style { color: false }
        )
        .is_none());
        let multi = text_diff(
            &Value::from("one\ntwo\n"),
            &Value::from("one\nthree\n"),
            6,
            Style { color: false },
        )
        .unwrap();
        assert!(
            multi.contains("- two") && multi.contains("+ three") && multi.contains("  one"),
            "{multi}"
        );
    }
}
