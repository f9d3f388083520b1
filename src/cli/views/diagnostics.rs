//! Diagnostics as a command shows them: Terraform's JSON lines with `-json`, one line per
//! warning with `-compact-warnings`, else rendered in full (source line, caret, hint) on
//! standard error, sorted by location.

use crate::diagnostics::{Diagnostic, Diagnostics, SourceMap};
use crate::ui::Style;
use std::io::IsTerminal;

/// How diagnostics are shown: the command's `-json` and `-compact-warnings`.
#[derive(Clone, Copy, Debug)]
pub struct DiagnosticsView {
    pub style: Style,
    pub json: bool,
    pub compact_warnings: bool,
}

impl DiagnosticsView {
    pub fn show(&self, diagnostics: &Diagnostics, sources: &SourceMap) {
        if diagnostics.is_empty() {
            return;
        }
        if self.json {
            let lines = crate::ui::JsonLines::new(Box::new(std::io::stdout()));
            for diagnostic in diagnostics.iter() {
                lines.diagnostic(diagnostic);
            }
            return;
        }
        if self.compact_warnings && !diagnostics.has_errors() {
            eprintln!("{}", compact(diagnostics));
            return;
        }
        let color = self.style.color && std::io::stderr().is_terminal();
        eprintln!(
            "{}",
            by_location(diagnostics).render(sources, color).trim_end()
        );
    }
}

/// Warnings as one line each, with where they are.
fn compact(warnings: &Diagnostics) -> String {
    let mut text = String::from("Warnings:\n\n");
    for warning in warnings.iter() {
        text.push_str(&format!("- {}\n", warning.summary));
        if let Some(span) = &warning.span {
            text.push_str(&format!("  on {} line {}\n", span.file, span.start.line));
        }
    }
    text.push_str("\nTo see the full warning notes, run Strata without -compact-warnings.");
    text
}

/// Concurrent evaluation finds errors in any order: they are shown by location.
fn by_location(diagnostics: &Diagnostics) -> Diagnostics {
    let mut sorted = diagnostics.clone();
    let key = |d: &Diagnostic| {
        d.span
            .as_ref()
            .map(|s| (s.file.to_string(), s.start.line, s.start.column))
    };
    sorted.0.sort_by_key(key);
    sorted
}
