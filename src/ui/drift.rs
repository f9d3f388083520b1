//! The drift report of `strata drift`: per environment (a directory and a workspace), what
//! changed outside of Strata, as Markdown (for an issue or a chat message), as JSON (for
//! machines) and as one line per environment on the terminal. Values are never in the report
//! except inside the Markdown diffs, where sensitive ones are redacted as in every plan.

use super::plan::render_change;
use super::Style;
use crate::plan::{Action, ResourceChange};
use crate::value::Value;
use serde::Serialize;

/// The report: one entry per environment checked, in the order given.
#[derive(Clone, Debug, Serialize)]
pub struct DriftReport {
    pub format_version: &'static str,
    pub environments: Vec<EnvironmentDrift>,
}

/// How one environment's check ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DriftStatus {
    /// The objects match the state.
    InSync,
    /// Something changed outside of Strata.
    Drifted,
    /// The check failed (configuration, backend, lock, provider): see `error`.
    Error,
}

/// One environment (directory and workspace).
#[derive(Clone, Debug, Serialize)]
pub struct EnvironmentDrift {
    pub dir: String,
    pub workspace: String,
    pub status: DriftStatus,
    pub resources: Vec<DriftedResource>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// The changes, for the Markdown diffs.
    #[serde(skip)]
    pub changes: Vec<ResourceChange>,
}

/// One object that changed outside of Strata.
#[derive(Clone, Debug, Serialize)]
pub struct DriftedResource {
    pub address: String,
    /// `update` (changed) or `delete` (gone).
    pub action: &'static str,
    /// The top-level attributes whose values differ (names only).
    pub attributes: Vec<String>,
}

impl DriftReport {
    pub fn new(environments: Vec<EnvironmentDrift>) -> DriftReport {
        DriftReport {
            format_version: "1.0",
            environments,
        }
    }

    pub fn any(&self, status: DriftStatus) -> bool {
        self.environments.iter().any(|e| e.status == status)
    }

    /// The exit code: 1 when any check failed, else 2 when any environment drifted, else 0.
    pub fn exit_code(&self) -> u8 {
        if self.any(DriftStatus::Error) {
            1
        } else if self.any(DriftStatus::Drifted) {
            2
        } else {
            0
        }
    }
}

impl EnvironmentDrift {
    /// The result of a refresh-only plan's drift.
    pub fn from_drift(dir: String, workspace: String, drift: Vec<ResourceChange>) -> Self {
        let resources: Vec<DriftedResource> = drift.iter().map(drifted_resource).collect();
        EnvironmentDrift {
            dir,
            workspace,
            status: if resources.is_empty() {
                DriftStatus::InSync
            } else {
                DriftStatus::Drifted
            },
            resources,
            error: None,
            changes: drift,
        }
    }

    pub fn failed(dir: String, workspace: String, error: String) -> Self {
        EnvironmentDrift {
            dir,
            workspace,
            status: DriftStatus::Error,
            resources: Vec::new(),
            error: Some(error),
            changes: Vec::new(),
        }
    }
}

fn drifted_resource(change: &ResourceChange) -> DriftedResource {
    let attributes = match (&change.before, &change.after) {
        (Some(before), Some(after)) => changed_attributes(before, after),
        _ => Vec::new(),
    };
    DriftedResource {
        address: change.address.to_string(),
        action: if change.action == Action::Delete || change.after.is_none() {
            "delete"
        } else {
            "update"
        },
        attributes,
    }
}

/// The names of the top-level attributes whose values differ.
fn changed_attributes(before: &Value, after: &Value) -> Vec<String> {
    let (before, _) = before.clone().deep_unmark();
    let (after, _) = after.clone().deep_unmark();
    match (before, after) {
        (Value::Object(before), Value::Object(after)) => {
            let mut names: Vec<String> = before
                .keys()
                .chain(after.keys())
                .filter(|k| {
                    let (a, b) = (before.get(*k), after.get(*k));
                    match (a, b) {
                        (Some(a), Some(b)) => a.equals(b) != Some(true),
                        _ => true,
                    }
                })
                .cloned()
                .collect();
            names.sort();
            names.dedup();
            names
        }
        _ => Vec::new(),
    }
}

fn status_text(status: DriftStatus) -> &'static str {
    match status {
        DriftStatus::InSync => "in sync",
        DriftStatus::Drifted => "drifted",
        DriftStatus::Error => "error",
    }
}

/// The report as Markdown: a table of environments, then each drifted object's diff.
pub fn render_drift_markdown(report: &DriftReport) -> String {
    let mut out = String::from("### Strata drift report\n\n");
    out.push_str("| Environment | Workspace | Status | Drifted objects |\n|---|---|---|---|\n");
    for env in &report.environments {
        out.push_str(&format!(
            "| `{}` | `{}` | {} | {} |\n",
            env.dir,
            env.workspace,
            status_text(env.status),
            env.resources.len()
        ));
    }
    for env in &report.environments {
        if env.status == DriftStatus::InSync {
            continue;
        }
        out.push_str(&format!("\n#### `{}` (`{}`)\n\n", env.dir, env.workspace));
        if let Some(error) = &env.error {
            out.push_str(&format!("```\n{}\n```\n", error.trim()));
        }
        for (change, resource) in env.changes.iter().zip(&env.resources) {
            let what = match resource.action {
                "delete" => "deleted outside of Strata".to_string(),
                _ => format!(
                    "changed outside of Strata: {}",
                    resource.attributes.join(", ")
                ),
            };
            let address = &resource.address;
            let diff = render_change(change, Style { color: false }, None)
                .replacen(
                    &format!("# {address} will be updated in-place"),
                    &format!("# {address} has changed"),
                    1,
                )
                .replacen(
                    &format!("# {address} will be destroyed"),
                    &format!("# {address} has been deleted"),
                    1,
                );
            out.push_str(&format!(
                "<details><summary><code>{}</code> {what}</summary>\n\n```diff\n{}\n```\n\n</details>\n",
                resource.address,
                diff.trim_end()
            ));
        }
    }
    out
}

/// One line per environment, for the terminal.
pub fn render_drift_lines(report: &DriftReport) -> String {
    let mut out = String::new();
    for env in &report.environments {
        let detail = match env.status {
            DriftStatus::InSync => "no drift".to_string(),
            DriftStatus::Drifted => format!(
                "{} object(s) changed outside of Strata: {}",
                env.resources.len(),
                env.resources
                    .iter()
                    .map(|r| r.address.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            DriftStatus::Error => format!(
                "error: {}",
                env.error
                    .as_deref()
                    .unwrap_or("")
                    .lines()
                    .next()
                    .unwrap_or("")
            ),
        };
        out.push_str(&format!("{} ({}): {detail}\n", env.dir, env.workspace));
    }
    out
}
