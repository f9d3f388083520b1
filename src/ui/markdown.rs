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
    out.push_str(&format!(
        "**Plan:** {add} to add, {change} to change, {destroy} to destroy.\n\n"
    ));
    out.push_str("| Action | Resource | Forced by |\n|---|---|---|\n");
    for c in plan.changes.iter().filter(|c| c.is_change()) {
        let action = match c.action {
            Action::Create => "create",
            Action::Update => "update",
            Action::Delete => "destroy",
            Action::DeleteThenCreate => "replace (destroy first)",
            Action::CreateThenDelete => "replace (create first)",
            Action::Read => "read",
            Action::NoOp => "move",
            Action::Forget => "forget",
        };
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
