//! What `strata drift` prints: the report, one line per environment (its Markdown and JSON
//! forms are files the command writes), and what a check said on standard error.

use crate::ui::drift::{render_drift_lines, DriftReport};

pub struct DriftView;

impl DriftView {
    pub fn report(&self, report: &DriftReport) {
        print!("{}", render_drift_lines(report));
    }

    /// A check's standard error (warnings, the wait for a lock), under its directory's name.
    pub fn check_said(&self, shown: &str, stderr: &str) {
        eprintln!("{shown}: {stderr}");
    }
}
