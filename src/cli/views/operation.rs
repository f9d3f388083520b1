//! What `plan`, `apply`, `destroy` and `refresh` show: the engine's progress, the plan, the
//! approval question, the apply summary and outputs; as text, or with `-json` as Terraform's
//! machine-readable UI ([`crate::ui::JsonLines`]).

use crate::engine::Events;
use crate::plan::{Plan, PlanMode};
use crate::state::OutputValue;
use crate::ui::{self, Style};
use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

/// The form an operation's results take.
#[derive(Clone, Copy, Debug)]
pub enum OperationView {
    Human(Style),
    /// `-json`: JSON lines on standard output.
    Json,
}

fn json_lines() -> ui::JsonLines {
    ui::JsonLines::new(Box::new(std::io::stdout()))
}

impl OperationView {
    pub fn new(style: Style, json: bool) -> OperationView {
        if json {
            OperationView::Json
        } else {
            OperationView::Human(style)
        }
    }

    /// Where the engine reports progress (with `-json`, after the `version` line).
    pub fn events(&self) -> Arc<dyn Events> {
        match self {
            OperationView::Json => {
                let lines = json_lines();
                lines.version();
                Arc::new(lines)
            }
            OperationView::Human(style) => Arc::new(ui::ProgressPrinter::new(
                *style,
                Box::new(std::io::stdout()),
            )),
        }
    }

    /// The plan: the changes and their summary.
    pub fn plan(&self, plan: &Plan, schemas: &ui::Schemas) {
        match self {
            OperationView::Json => json_lines().plan(plan),
            OperationView::Human(style) => print!("{}", ui::render_plan(plan, *style, schemas)),
        }
    }

    /// After `plan -out=PATH`: how to apply it.
    pub fn plan_saved(&self, path: &Path) {
        if let OperationView::Human(_) = self {
            println!("\nSaved the plan to: {}\n\nTo perform exactly these actions, run the following command to apply:\n    strata apply \"{}\"", path.display(), path.display());
        }
    }

    /// After a plan with changes that was not saved.
    pub fn plan_not_saved(&self, plan: &Plan) {
        if let OperationView::Human(_) = self {
            if plan.has_changes() {
                println!("\nNote: You didn't use the -out option to save this plan, so Strata can't\nguarantee to take exactly these actions if you run \"strata apply\" now.");
            }
        }
    }

    /// Asks whether to go ahead (a terminal and the human view only); true for `yes`.
    pub fn confirm(&self, style: Style, destroy: bool) -> std::io::Result<bool> {
        let question = if destroy {
            format!("\n{}\n  Strata will destroy all your managed infrastructure, as shown above.\n  There is no undo. Only 'yes' will be accepted to confirm.\n", style.bold("Do you really want to destroy all resources?"))
        } else {
            format!("\n{}\n  Strata will perform the actions described above.\n  Only 'yes' will be accepted to approve.\n", style.bold("Do you want to perform these actions?"))
        };
        let answer = super::ask_on_stdout(&question, "  Enter a value: ")?;
        println!();
        Ok(answer.trim() == "yes")
    }

    /// The answer was not `yes`.
    pub fn cancelled(&self, destroy: bool) {
        println!(
            "{}",
            if destroy {
                "Destroy cancelled."
            } else {
                "Apply cancelled."
            }
        );
    }

    /// The apply stopped at an interrupt.
    pub fn interrupted(&self) {
        eprintln!("Apply interrupted: every operation that finished is saved in the state.");
    }

    /// The apply finished: its summary and the root outputs.
    pub fn applied(&self, plan: &Plan, outputs: &BTreeMap<String, OutputValue>) {
        let show_outputs = plan.mode != PlanMode::Destroy;
        match self {
            OperationView::Json => {
                let lines = json_lines();
                lines.summary(plan, "apply");
                if show_outputs {
                    lines.outputs(outputs);
                }
            }
            OperationView::Human(style) => {
                println!("\n{}", ui::render_apply_summary(plan, *style));
                if !outputs.is_empty() && show_outputs {
                    println!("\n{}\n", style.bold("Outputs:"));
                    print!("{}", ui::render_outputs(outputs));
                }
            }
        }
    }
}

/// The first Ctrl-C: running operations finish, nothing new starts.
pub fn interrupt_received() {
    eprintln!("\nInterrupt received.\nPlease wait for Strata to exit or data loss may occur.\nGracefully shutting down...");
}

/// The second Ctrl-C: the process exits at once.
pub fn second_interrupt() {
    eprintln!("\nTwo interrupts received. Exiting immediately. Every operation that finished is recorded in the state journal.");
}
