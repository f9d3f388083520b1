//! A Markdown summary of a plan, for pull-request comments, within a size budget (GitHub refuses
//! comments over 65,536 characters).
//!
//! In order: the counts; every destroy and replacement (never cut: when even their addresses
//! exceed the budget, they are listed by address only); then updates, creates and the rest; each
//! resource's attribute diff in a collapsed `<details>` block while room remains, its address
//! alone after that; the output changes if they fit. What did not fit is counted by action in a
//! last line that says how to see the whole plan.

use super::plan::render_change;
use super::schemas::Schemas;
use super::Style;
use crate::plan::{Action, Plan, PlanMode, ResourceChange};
use std::collections::BTreeMap;

/// GitHub's limit on a comment's length, in characters.
pub const DEFAULT_MARKDOWN_LIMIT: usize = 65_536;

/// How the summary is bounded, and what its last line points to.
#[derive(Clone, Debug)]
pub struct MarkdownOptions {
    /// The most characters the summary may have (destroys and replacements excepted).
    pub limit: usize,
    /// The command that shows the whole plan (`strata show tfplan`).
    pub whole_plan_command: String,
}

impl Default for MarkdownOptions {
    fn default() -> Self {
        MarkdownOptions {
            limit: DEFAULT_MARKDOWN_LIMIT,
            whole_plan_command: "strata plan".to_string(),
        }
    }
}

/// Room kept for the last line (the counts of what did not fit).
const FOOTER_ROOM: usize = 400;

/// The summary as Markdown, within `options.limit` characters.
pub fn render_markdown(plan: &Plan, schemas: &Schemas, options: &MarkdownOptions) -> String {
    let mut out = format!("### Strata plan: `{}`\n\n", plan.workspace);
    let drifted = plan.mode == PlanMode::RefreshOnly && !plan.drift.is_empty();
    if !plan.has_changes() && !drifted {
        out.push_str("**No changes.** The infrastructure matches the configuration.\n");
        return out;
    }
    out.push_str(&counts_line(plan));
    let (must, rest) = sections(plan);
    // The destroys and replacements, by address, are always there; their diffs and everything
    // else share what room is left.
    let must_lines: Vec<String> = must.iter().map(|(_, c)| entry_line(c)).collect();
    let mandatory = chars(&out) + must_lines.iter().map(|l| chars(l)).sum::<usize>() + 64;
    let mut room = options
        .limit
        .saturating_sub(mandatory)
        .saturating_sub(FOOTER_ROOM);
    let mut omitted: BTreeMap<&'static str, usize> = BTreeMap::new();
    let mut current_section = "";
    for ((section, change), line) in must.iter().zip(&must_lines) {
        heading(&mut out, &mut current_section, section);
        let block = details_block(change, schemas);
        let extra = chars(&block).saturating_sub(chars(line));
        if extra <= room {
            room -= extra;
            out.push_str(&block);
        } else {
            out.push_str(line);
        }
    }
    // Diffs while they fit, then addresses while they fit (order kept), then only counts.
    let (mut diffs_fit, mut lines_fit) = (true, true);
    for (section, change) in &rest {
        let heading_cost = if current_section == *section {
            0
        } else {
            section.len() + 8
        };
        let mut piece = None;
        if diffs_fit {
            let block = details_block(change, schemas);
            diffs_fit = chars(&block) + heading_cost <= room;
            piece = diffs_fit.then_some(block);
        }
        if piece.is_none() && lines_fit {
            let line = entry_line(change);
            lines_fit = chars(&line) + heading_cost <= room;
            piece = lines_fit.then_some(line);
        }
        let Some(piece) = piece else {
            *omitted.entry(action_word(change)).or_default() += 1;
            continue;
        };
        room -= chars(&piece) + heading_cost;
        heading(&mut out, &mut current_section, section);
        out.push_str(&piece);
    }
    let outputs = outputs_block(plan);
    if !outputs.is_empty() {
        if chars(&outputs) < room {
            blank_line(&mut out);
            out.push_str(&outputs);
        } else {
            *omitted.entry("output changes").or_default() += plan
                .output_changes
                .values()
                .filter(|o| o.action != Action::NoOp)
                .count();
        }
    }
    if !omitted.is_empty() {
        blank_line(&mut out);
        out.push_str(&footer(&omitted, options));
    }
    out
}

fn chars(text: &str) -> usize {
    text.chars().count()
}

fn counts_line(plan: &Plan) -> String {
    if plan.mode == PlanMode::RefreshOnly {
        return format!(
            "**Drift:** {} objects changed outside of Strata.\n\n",
            plan.drift.len()
        );
    }
    let (add, change, destroy) = plan.counts();
    let imports = match plan.import_count() {
        0 => String::new(),
        n => format!("{n} to import, "),
    };
    format!("**Plan:** {imports}{add} to add, {change} to change, {destroy} to destroy.\n\n")
}

/// The changes in the order they are shown: destroys and replacements (which are never cut),
/// then updates, creates and the rest (moves, imports, reads), each with its section heading.
#[allow(clippy::type_complexity)]
fn sections(
    plan: &Plan,
) -> (
    Vec<(&'static str, &ResourceChange)>,
    Vec<(&'static str, &ResourceChange)>,
) {
    if plan.mode == PlanMode::RefreshOnly {
        let drift = plan.drift.iter().map(|c| ("Changed outside of Strata", c));
        return (Vec::new(), drift.collect());
    }
    let changes: Vec<&ResourceChange> = plan.changes.iter().filter(|c| c.is_change()).collect();
    let of = |name: &'static str, actions: &[Action]| {
        changes
            .iter()
            .filter(|c| actions.contains(&c.action))
            .map(|c| (name, *c))
            .collect::<Vec<_>>()
    };
    let mut must = of("Destroy", &[Action::Delete]);
    must.extend(of("Forget (not destroyed)", &[Action::Forget]));
    must.extend(of(
        "Replace",
        &[Action::DeleteThenCreate, Action::CreateThenDelete],
    ));
    let mut rest = of("Update", &[Action::Update]);
    rest.extend(of("Create", &[Action::Create]));
    rest.extend(of("Import, move and read", &[Action::Read, Action::NoOp]));
    (must, rest)
}

fn heading(out: &mut String, current: &mut &'static str, section: &'static str) {
    if *current != section {
        blank_line(out);
        out.push_str(&format!("#### {section}\n\n"));
        *current = section;
    }
}

/// Ends the text so far with an empty line (Markdown blocks and HTML blocks need one between).
fn blank_line(out: &mut String) {
    while !out.ends_with("\n\n") {
        out.push('\n');
    }
}

/// The word a change is counted under when it does not fit.
fn action_word(change: &ResourceChange) -> &'static str {
    match change.action {
        Action::Create => "to create",
        Action::Update => "to update",
        Action::Delete => "to destroy",
        Action::DeleteThenCreate | Action::CreateThenDelete => "to replace",
        Action::Read => "to read",
        Action::Forget => "to forget",
        Action::NoOp if change.importing.is_some() => "to import",
        Action::NoOp if change.previous_address.is_some() => "to move",
        Action::NoOp => "changed outside of Strata",
    }
}

/// What happens to the instance, in words: `replace (destroy first), move from `a``.
fn action_text(change: &ResourceChange) -> String {
    let mut action = match change.action {
        Action::Create => "create".to_string(),
        Action::Update => "update".to_string(),
        Action::Delete => "destroy".to_string(),
        Action::DeleteThenCreate => "replace (destroy first)".to_string(),
        Action::CreateThenDelete => "replace (create first)".to_string(),
        Action::Read => "read".to_string(),
        Action::NoOp => String::new(),
        Action::Forget => "forget (not destroyed)".to_string(),
    };
    let marks = [
        change
            .previous_address
            .as_ref()
            .map(|p| format!("move from `{p}`")),
        change.importing.as_ref().map(|id| format!("import `{id}`")),
    ];
    for mark in marks.into_iter().flatten() {
        action = if action.is_empty() {
            mark
        } else {
            format!("{action}, {mark}")
        };
    }
    if action.is_empty() {
        action = "changed outside of Strata".to_string();
    }
    if change.deposed.is_some() {
        action.push_str(" (deposed object)");
    }
    if !change.requires_replace.is_empty() {
        let forced: Vec<String> = change
            .requires_replace
            .iter()
            .map(|p| format!("`{p}`"))
            .collect();
        action.push_str(&format!(", forced by {}", forced.join(", ")));
    }
    action
}

/// One instance by address only.
fn entry_line(change: &ResourceChange) -> String {
    format!("- `{}`: {}\n", change.address, action_text(change))
}

/// One instance with its attribute diff (sensitive values redacted by the plan renderer).
fn details_block(change: &ResourceChange, schemas: &Schemas) -> String {
    let resource = &change.address.resource;
    let schema = schemas.block(resource.mode, &resource.type_name);
    let diff = render_change(change, Style { color: false }, schema);
    format!(
        "<details><summary><code>{}</code>: {}</summary>\n\n```diff\n{}\n```\n\n</details>\n\n",
        change.address,
        action_text(change).replace('`', ""),
        diff.trim_end()
    )
}

/// The root output changes, collapsed.
fn outputs_block(plan: &Plan) -> String {
    let mut lines = String::new();
    for (name, change) in &plan.output_changes {
        if change.action == Action::NoOp {
            continue;
        }
        let value = |value: &Option<crate::value::Value>| match value {
            _ if change.sensitive => "(sensitive value)".to_string(),
            Some(v) => super::render_value(v, 0),
            None => "null".to_string(),
        };
        lines.push_str(&match change.action {
            Action::Create => format!("+ {name} = {}\n", value(&change.after)),
            Action::Delete => format!("- {name} = {}\n", value(&change.before)),
            _ => format!(
                "~ {name} = {} -> {}\n",
                value(&change.before),
                value(&change.after)
            ),
        });
    }
    if lines.is_empty() {
        return lines;
    }
    format!("<details><summary>Changes to outputs</summary>\n\n```diff\n{lines}```\n\n</details>\n")
}

/// The last line: what did not fit, by action, and how to see everything.
fn footer(omitted: &BTreeMap<&'static str, usize>, options: &MarkdownOptions) -> String {
    let counts: Vec<String> = omitted
        .iter()
        .map(|(what, n)| format!("{} {what}", thousands(*n)))
        .collect();
    format!(
        "**Not shown** (over the {}-character limit of this summary): {}. Run `{}` to see the whole plan.\n",
        thousands(options.limit),
        counts.join(", "),
        options.whole_plan_command
    )
}

/// `65536` as `65,536`.
fn thousands(n: usize) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::addrs::ResourceInstance;
    use crate::plan::{Plan, PlanMode, ResourceChange};
    use crate::providers::Registry;
    use crate::value::Value;

    fn object(pairs: &[(&str, Value)]) -> Value {
        Value::Object(
            pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.clone()))
                .collect(),
        )
    }

    fn change(address: &str, action: Action, n: usize) -> ResourceChange {
        let before = object(&[
            ("id", Value::string(format!("id-{n}"))),
            ("input", Value::string(format!("old-{n}"))),
            (
                "password",
                Value::Sensitive(Box::new(Value::string("hunter2"))),
            ),
        ]);
        let after = object(&[
            ("id", Value::string(format!("id-{n}"))),
            ("input", Value::string(format!("new-{n}"))),
            (
                "password",
                Value::Sensitive(Box::new(Value::string("hunter3"))),
            ),
        ]);
        ResourceChange {
            address: ResourceInstance::parse(address).expect("an address"),
            provider: "provider[\"terraform.io/builtin/terraform\"]".into(),
            action,
            before: (action != Action::Create).then_some(before),
            after: (action != Action::Delete).then_some(after),
            requires_replace: Vec::new(),
            reason: None,
            schema_version: 0,
            deposed: None,
            previous_address: None,
            importing: None,
            private: Default::default(),
        }
    }

    fn plan(counts: &[(Action, &str, usize)]) -> Plan {
        let mut changes = Vec::new();
        for (action, name, count) in counts {
            for i in 0..*count {
                changes.push(change(&format!("terraform_data.{name}[{i}]"), *action, i));
            }
        }
        Plan {
            format_version: Plan::FORMAT_VERSION,
            mode: PlanMode::Normal,
            workspace: "dev".into(),
            prior_lineage: String::new(),
            prior_serial: 0,
            variables: Default::default(),
            changes,
            drift: Vec::new(),
            output_changes: Default::default(),
            targets: Vec::new(),
            replace: Vec::new(),
        }
    }

    fn render(plan: &Plan, limit: usize) -> String {
        let options = MarkdownOptions {
            limit,
            whole_plan_command: "strata show tfplan".into(),
        };
        render_markdown(
            plan,
            &Schemas::from_registry(&Registry::builtin()),
            &options,
        )
    }

    /// Destroys and replacements first with their diffs, then updates and creates while room
    /// remains (diffs, then addresses), then the count of the rest; no secret anywhere.
    #[test]
    fn a_mixed_plan_within_a_small_limit() {
        let plan = plan(&[
            (Action::Delete, "old", 2),
            (Action::DeleteThenCreate, "swapped", 1),
            (Action::Update, "changed", 3),
            (Action::Create, "new", 40),
        ]);
        let text = render(&plan, 3_000);
        assert!(text.chars().count() <= 3_000, "{} characters", text.len());
        assert!(!text.contains("hunter"), "a sensitive value leaked");
        insta::assert_snapshot!(text);
    }

    /// 5,000 creates fit GitHub's limit: the counts are whole, and what is not shown is counted.
    #[test]
    fn five_thousand_resources_fit_the_default_limit() {
        let plan = plan(&[(Action::Create, "n", 5_000)]);
        let text = render(&plan, DEFAULT_MARKDOWN_LIMIT);
        assert!(text.chars().count() <= DEFAULT_MARKDOWN_LIMIT);
        assert!(text.contains("**Plan:** 5000 to add, 0 to change, 0 to destroy."));
        let shown = text.matches("`terraform_data.n[").count()
            + text.matches("<code>terraform_data.n[").count();
        let footer = regex::Regex::new(r"\*\*Not shown\*\* .*: ([0-9,]+) to create\. Run `strata show tfplan` to see the whole plan\.\n$")
            .expect("a regex");
        let hidden: usize = footer.captures(&text).unwrap_or_else(|| {
            panic!(
                "no last line counting what is not shown:\n{}",
                &text[text.len() - 300..]
            )
        })[1]
            .replace(',', "")
            .parse()
            .expect("a count");
        assert!(shown > 100, "only {shown} shown");
        assert_eq!(shown + hidden, 5_000);
    }

    /// When the destroys alone exceed the limit they are all listed, by address only.
    #[test]
    fn destroys_beyond_the_limit_are_listed_by_address() {
        let plan = plan(&[(Action::Delete, "gone", 12), (Action::Create, "new", 3)]);
        let text = render(&plan, 500);
        assert!(!text.contains("<details>"));
        for i in 0..12 {
            assert!(text.contains(&format!("- `terraform_data.gone[{i}]`: destroy\n")));
        }
        insta::assert_snapshot!(text);
    }
}
