//! Rendering diagnostics for a terminal: summary, location, the source line with a caret under
//! the offending range, the detail and the help.

use super::{Diagnostic, Diagnostics, Severity, SourceMap};
use std::fmt::Write;

impl Diagnostic {
    /// The diagnostic as the CLI prints it. `color` adds ANSI colours.
    pub fn render(&self, sources: &SourceMap, color: bool) -> String {
        let (label, paint) = match self.severity {
            Severity::Error => ("Error", "\x1b[1;31m"),
            Severity::Warning => ("Warning", "\x1b[1;33m"),
        };
        let mut out = String::new();
        if color {
            let _ = writeln!(out, "{paint}{label}:\x1b[0m \x1b[1m{}\x1b[0m", self.summary);
        } else {
            let _ = writeln!(out, "{label}: {}", self.summary);
        }
        if let Some(span) = &self.span {
            let _ = writeln!(out, "  --> {span}");
            if let Some(line) = sources
                .get(&span.file)
                .and_then(|f| f.line_text(span.start.line))
            {
                let number = span.start.line.to_string();
                let gutter = " ".repeat(number.len());
                let _ = writeln!(out, " {gutter} |");
                let _ = writeln!(out, " {number} | {line}");
                let line_chars = line.chars().count();
                let start = span.start.column.saturating_sub(1).min(line_chars);
                let end = if span.end.line == span.start.line {
                    span.end.column.saturating_sub(1).min(line_chars)
                } else {
                    line_chars
                };
                let width = end.saturating_sub(start).max(1);
                // Keep tabs so the caret lines up under tab-indented source.
                let pad: String = line
                    .chars()
                    .take(start)
                    .map(|c| if c == '\t' { '\t' } else { ' ' })
                    .collect();
                let _ = writeln!(out, " {gutter} | {pad}{}", "^".repeat(width));
            }
        }
        if !self.detail.is_empty() {
            let _ = writeln!(out);
            let _ = writeln!(out, "{}", self.detail);
        }
        if let Some(help) = &self.help {
            let _ = writeln!(out, "help: {help}");
        }
        out
    }
}

impl Diagnostics {
    /// Every diagnostic rendered, errors and warnings in the order found, a blank line between.
    pub fn render(&self, sources: &SourceMap, color: bool) -> String {
        self.0
            .iter()
            .map(|d| d.render(sources, color))
            .collect::<Vec<_>>()
            .join("\n")
    }
}

#[cfg(test)]
mod tests {
    use super::super::SourceFile;
    use super::*;
    use std::sync::Arc;

    #[test]
    fn renders_line_and_caret() {
        let file = Arc::new(SourceFile::new("main.tf", "locals {\n  a = var.nme\n}\n"));
        let mut sources = SourceMap::new();
        sources.add(file.clone());
        let diagnostic = Diagnostic::error("Reference to undeclared input variable")
            .with_span(file.span(15..22))
            .with_detail("An input variable with the name \"nme\" has not been declared.")
            .with_help("Did you mean \"name\"?");
        let text = diagnostic.render(&sources, false);
        assert_eq!(
            text,
            "Error: Reference to undeclared input variable\n  --> main.tf:2:7\n   |\n 2 |   a = var.nme\n   |       ^^^^^^^\n\nAn input variable with the name \"nme\" has not been declared.\nhelp: Did you mean \"name\"?\n"
        );
    }
}
