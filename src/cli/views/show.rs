//! What `strata show` prints: a saved plan (text, Terraform's JSON, or a Markdown summary) or
//! the workspace's state (text or JSON); also `graph`'s DOT and `version`.

use crate::plan::Plan;
use crate::state::State;
use crate::ui::{self, Style};

/// How `show` prints.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ShowFormat {
    Human,
    Json,
    /// A saved plan's Markdown summary within this many characters.
    Markdown(usize),
}

/// A JSON document (Terraform's plan or state representation) on one line.
pub fn json(document: &serde_json::Value) -> serde_json::Result<()> {
    println!("{}", serde_json::to_string(document)?);
    Ok(())
}

/// A saved plan as `plan` printed it.
pub fn plan(plan: &Plan, style: Style, schemas: &ui::Schemas) {
    print!("{}", ui::render_plan(plan, style, schemas));
}

/// A saved plan's Markdown summary.
pub fn markdown(plan: &Plan, schemas: &ui::Schemas, options: &ui::MarkdownOptions) {
    print!("{}", ui::render_markdown(plan, schemas, options));
}

/// The state's resources and outputs, blocks drawn from `schemas`; `No state.` when empty.
pub fn state(state: &State, schemas: &ui::Schemas) {
    if state.resources.is_empty() && state.outputs.is_empty() {
        println!("No state.");
    } else {
        print!("{}", ui::render_state(state, schemas));
    }
}

/// `strata graph`: the dependency graph in DOT.
pub fn graph(dot: &str) {
    print!("{dot}");
}

/// `strata version [-json]`.
pub fn version(json: bool, platform: &str) {
    if json {
        println!(
            "{}",
            serde_json::json!({"strata_version": env!("CARGO_PKG_VERSION"), "platform": platform, "terraform_compatible_version": crate::TERRAFORM_VERSION_COMPAT})
        );
    } else {
        println!("Strata v{}\non {platform}", env!("CARGO_PKG_VERSION"));
    }
}
