//! A Markdown summary of a plan, for pull-request comments: counts, a table of every change, and
//! the full plan in a collapsed block.

use super::plan::render_plan;
use super::schemas::Schemas;
use super::Style;
use crate::plan::{Action, Plan};

/// The summary as Markdown.
pub fn render_markdown_summary(plan: &Plan, schemas: &Schemas) -> String {
    let (add, change, destroy) = plan.counts();
    let mut out = format!("### Strata plan: `{}`\n\n", plan.workspace);
    if !plan.has_changes() {
        out.push_str("**No changes.** The infrastructure matches the configuration.\n");
        return out;
    }
    let imports = match plan.import_count() {
        0 => String::new(),
        n => format!("{n} to import, "),
    };
    out.push_str(&format!(
        "**Plan:** {imports}{add} to add, {change} to change, {destroy} to destroy.\n\n"
    ));
    out.push_str("| Action | Resource | Forced by |\n|---|---|---|\n");
    for c in plan.changes.iter().filter(|c| c.is_change()) {
        let mut action = match c.action {
            Action::Create => "create".to_string(),
            Action::Update => "update".to_string(),
            Action::Delete => "destroy".to_string(),
            Action::DeleteThenCreate => "replace (destroy first)".to_string(),
            Action::CreateThenDelete => "replace (create first)".to_string(),
            Action::Read => "read".to_string(),
            Action::NoOp => String::new(),
            Action::Forget => "forget (not destroyed)".to_string(),
        };
        // Moves and imports name themselves, alone or beside another action.
        let marks = [
            c.previous_address
                .as_ref()
                .map(|p| format!("move from `{p}`")),
            c.importing.as_ref().map(|id| format!("import `{id}`")),
        ];
        for mark in marks.into_iter().flatten() {
            action = if action.is_empty() {
                mark
            } else {
                format!("{action}, {mark}")
            };
        }
        if c.deposed.is_some() {
            action.push_str(" (deposed object)");
        }
        let forced: Vec<String> = c
            .requires_replace
            .iter()
            .map(|p| format!("`{p}`"))
            .collect();
        out.push_str(&format!(
            "| {action} | `{}` | {} |\n",
            c.address,
            forced.join(", ")
        ));
    }
    out.push_str("\n<details><summary>Full plan</summary>\n\n```\n");
    out.push_str(render_plan(plan, Style { color: false }, schemas).trim());
    out.push_str("\n```\n\n</details>\n");
    out
}
