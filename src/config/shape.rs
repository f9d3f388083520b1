//! The arguments and nested blocks a structural block (`terraform`, `variable`, `lifecycle`, a
//! provisioner, …) accepts, and the errors for what it does not: an unknown name (with a "Did you
//! mean" suggestion), or an argument written as a block and the other way round.

use crate::diagnostics::{did_you_mean, Diagnostic, Diagnostics, SourceFile};
use hcl_edit::structure::{Body, Structure};
use hcl_edit::Span as _;

/// The arguments and nested blocks a structural block accepts.
pub(super) struct Shape<'s> {
    /// The block, as a detail names it ("a variable block").
    pub what: &'s str,
    pub attributes: &'s [&'s str],
    pub blocks: &'s [&'s str],
}

impl Shape<'_> {
    /// Reports every argument and block of `body` this shape does not have.
    pub fn check(&self, file: &SourceFile, body: &Body, diagnostics: &mut Diagnostics) {
        for structure in body.iter() {
            let (name, range, is_block) = match structure {
                Structure::Attribute(attribute) => {
                    (attribute.key.as_str(), attribute.key.span(), false)
                }
                Structure::Block(block) => (block.ident.as_str(), block.ident.span(), true),
            };
            if let Some(diagnostic) = self.unexpected(name, is_block) {
                diagnostics.push(diagnostic.with_span_opt(range.map(|range| file.span(range))));
            }
        }
    }

    /// The error for an argument (or, with `is_block`, a block) named `name`, if the shape does
    /// not have it.
    fn unexpected(&self, name: &str, is_block: bool) -> Option<Diagnostic> {
        let what = self.what;
        let (expected, other, summary) = if is_block {
            (self.blocks, self.attributes, "Unsupported block type")
        } else {
            (self.attributes, self.blocks, "Unsupported argument")
        };
        if expected.contains(&name) {
            return None;
        }
        let diagnostic = Diagnostic::error(summary);
        let suggestion = did_you_mean(name, expected.iter().copied());
        Some(match (other.contains(&name), is_block) {
            (true, false) => diagnostic.with_detail(format!(
                "\"{name}\" is a block in {what}, not an argument: write `{name} {{ ... }}`."
            )),
            (true, true) => diagnostic.with_detail(format!(
                "\"{name}\" is an argument in {what}, not a block: write `{name} = ...`."
            )),
            (false, false) => diagnostic
                .with_detail(format!(
                    "An argument named \"{name}\" is not expected in {what}."
                ))
                .with_suggestion(suggestion),
            (false, true) => diagnostic
                .with_detail(format!(
                    "Blocks of type \"{name}\" are not expected in {what}."
                ))
                .with_suggestion(suggestion),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::Shape;
    use crate::diagnostics::{Diagnostics, SourceFile};

    fn check(text: &str) -> Vec<String> {
        let shape = Shape {
            what: "a variable block",
            attributes: &["type", "default"],
            blocks: &["validation"],
        };
        let file = SourceFile::new("main.tf", text);
        let body = hcl_edit::parser::parse_body(text).expect("a body");
        let mut diagnostics = Diagnostics::new();
        shape.check(&file, &body, &mut diagnostics);
        diagnostics
            .iter()
            .map(|d| {
                let line = d.span.as_ref().map_or(0, |span| span.start.line);
                let help = d.help.as_deref().unwrap_or("-");
                format!("{line}: {}: {} {help}", d.summary, d.detail)
            })
            .collect()
    }

    #[test]
    fn what_the_shape_has_passes() {
        assert!(check("type = string\ndefault = 1\nvalidation {\n}\n").is_empty());
    }

    #[test]
    fn unknown_names_are_errors_with_a_suggestion() {
        assert_eq!(
            check("tpye = string\nvalidaton {\n}\nzzz = 1\n"),
            [
                "1: Unsupported argument: An argument named \"tpye\" is not expected in a variable block. Did you mean \"type\"?",
                "2: Unsupported block type: Blocks of type \"validaton\" are not expected in a variable block. Did you mean \"validation\"?",
                "4: Unsupported argument: An argument named \"zzz\" is not expected in a variable block. -",
            ]
        );
    }

    #[test]
    fn an_argument_written_as_a_block_says_how_to_write_it() {
        assert_eq!(
            check("type {\n}\nvalidation = 1\n"),
            [
                "1: Unsupported block type: \"type\" is an argument in a variable block, not a block: write `type = ...`. -",
                "3: Unsupported argument: \"validation\" is a block in a variable block, not an argument: write `validation { ... }`. -",
            ]
        );
    }
}
