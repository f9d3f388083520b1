//! The human-readable plan, as Terraform prints it: a legend, one block per changing instance
//! with attribute-level diffs, the summary line and the output changes.

use super::values::{key_text, render_value, render_value_signed};
use super::Style;
use crate::plan::{Action, ActionReason, OutputChange, Plan, PlanMode, ResourceChange};
use crate::state::OutputValue;
use crate::value::{AttrPath, PathStep, Value};
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
            Some(key) => format!("# {address} (deposed object {key}) will be destroyed"),
            None => format!("# {address} will be destroyed"),
        },
        Action::NoOp => match (&change.previous_address, &change.importing) {
            (Some(previous), _) => format!("# {previous} has moved to {address}"),
            (None, Some(_)) => format!("# {address} will be imported"),
            (None, None) => format!("# {address}"),
        },
        Action::Forget => format!("# {address} will no longer be managed by Strata"),
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

/// Renders one instance's change block.
pub fn render_change(change: &ResourceChange, style: Style) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "  {}", style.bold(&header(change)));
    let symbol = change.action.symbol();
    let prefix = format!("{:>3}", symbol);
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
    let mut hidden = 0;
    let empty = Value::Object(BTreeMap::new());
    let before = change.before.as_ref().unwrap_or(&empty);
    // A forgotten object is shown as it is: nothing about it changes.
    let after = match change.action {
        Action::Forget => before,
        _ => change.after.as_ref().unwrap_or(&empty),
    };
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
        let noun = if hidden == 1 {
            "attribute"
        } else {
            "attributes"
        };
        let _ = writeln!(
            out,
            "        {}",
            style.dim(&format!("# ({hidden} unchanged {noun} hidden)"))
        );
    }
    let _ = writeln!(out, "    }}");
    out
}

fn sign(style: Style, action: Action) -> String {
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
                    render_value_signed(a, indent, &sign(style, Action::Create))
                ))
            }
            Action::Delete => lines.push(format!(
                "{pad}{} {name} = {} -> null",
                sign(style, Action::Delete),
                render_value_signed(b, indent, &sign(style, Action::Delete))
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
                } else if let Some(diff) = text_diff(b, a, indent, style) {
                    lines.push(format!(
                        "{pad}{} {name} = {}{forces}",
                        sign(style, Action::Update),
                        diff
                    ));
                } else if nested_diffable(b, a) {
                    let (open, close) = if matches!(a.unmarked(), Value::Map(_) | Value::Object(_))
                    {
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
                            style.dim(&format!("# ({inner_hidden} unchanged elements hidden)"))
                        ));
                    }
                    lines.push(format!("{pad}    {close}"));
                } else {
                    lines.push(format!(
                        "{pad}{} {name} = {} -> {}{forces}",
                        sign(style, Action::Update),
                        render_value(b, indent),
                        render_value(a, indent)
                    ));
                }
            }
        }
        path.pop();
    }
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
                    lines.push(format!("{pad}    }}"));
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
            lines.push(format!(
                "{pad}{} {},",
                sign(style, Action::Delete),
                render_value(x, indent)
            ));
        }
    }
    for y in a {
        if !b.iter().any(|x| x.equals(y) == Some(true)) {
            lines.push(format!(
                "{pad}{} {},",
                sign(style, Action::Create),
                render_value(y, indent)
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
        (Action::Forget, "forget"),
    ] {
        if actions.contains(&action) {
            let symbol = action.symbol();
            let pad = " ".repeat(3usize.saturating_sub(symbol.len()));
            out.push_str(&format!("{pad}{} {text}\n", style.action_symbol(action)));
        }
    }
    out
}

/// The whole plan as `strata plan` prints it.
pub fn render_plan(plan: &Plan, style: Style) -> String {
    let mut out = String::new();
    if !plan.drift.is_empty() && (plan.mode == PlanMode::RefreshOnly || plan.has_resource_changes())
    {
        out.push_str(&style.bold("\nNote: Objects have changed outside of Strata\n\n"));
        out.push_str("Strata detected the following changes made outside of Strata since the\nlast \"strata apply\" which may have affected this plan:\n\n");
        for drift in &plan.drift {
            let mut drift = drift.clone();
            let header_change = drift.clone();
            let text = render_change(&drift, style).replacen(
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
        out.push('\n');
        out.push_str(&legend(plan, style));
        out.push_str("\nStrata will perform the following actions:\n\n");
        for change in &changes {
            out.push_str(&render_change(change, style));
            out.push('\n');
        }
    }
    let (add, change, destroy) = plan.counts();
    let forget = match plan.forget_count() {
        0 => String::new(),
        n => format!(", {n} to forget"),
    };
    let import = match plan.import_count() {
        0 => String::new(),
        n => format!("{n} to import, "),
    };
    out.push_str(&style.bold(&format!(
        "Plan: {import}{add} to add, {change} to change, {destroy} to destroy{forget}."
    )));
    out.push('\n');
    let output_lines = render_output_changes(&plan.output_changes, style);
    if !output_lines.is_empty() {
        out.push_str("\nChanges to Outputs:\n");
        out.push_str(&output_lines);
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
        let line = match (change.action, &change.before, &change.after) {
            (Action::Create, _, Some(a)) => {
                format!("  {} {name:<width$} = {}", style.green("+"), show(a))
            }
            (Action::Delete, Some(b), _) => {
                format!("  {} {name:<width$} = {} -> null", style.red("-"), show(b))
            }
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
