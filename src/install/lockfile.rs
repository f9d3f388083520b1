//! `.terraform.lock.hcl`, the dependency lock file, read and written in Terraform's exact
//! format: the header comment, one `provider "<address>"` block per provider sorted by address,
//! `version` and `constraints` aligned, `hashes` one per line, sorted (`h1:` before `zh:`),
//! a blank line between blocks. Errors point at `file:line:col` like configuration errors.

use super::addr::ProviderAddr;
use crate::config::literal::literal_value;
use crate::diagnostics::{Diagnostic, Diagnostics, SourceFile, SourceMap};
use hcl_edit::structure::Structure;
use hcl_edit::Span as _;
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::sync::Arc;

pub const LOCK_FILE_NAME: &str = ".terraform.lock.hcl";

const HEADER: &str = "# This file is maintained automatically by \"terraform init\".\n# Manual edits may be lost in future updates.\n";

/// What the lock file records for one provider.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LockedProvider {
    pub version: String,
    /// The canonical constraints the configuration had when this was recorded.
    pub constraints: Option<String>,
    pub hashes: BTreeSet<String>,
}

/// The whole lock file.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LockFile {
    pub providers: BTreeMap<ProviderAddr, LockedProvider>,
}

impl LockFile {
    /// Reads `dir/.terraform.lock.hcl`; an absent file is an empty lock.
    pub fn read(dir: &Path, sources: &mut SourceMap) -> Result<LockFile, Diagnostics> {
        let path = dir.join(LOCK_FILE_NAME);
        match std::fs::read_to_string(&path) {
            Ok(text) => LockFile::parse(LOCK_FILE_NAME, &text, sources),
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(LockFile::default()),
            Err(error) => Err(Diagnostic::error("Failed to read the dependency lock file")
                .with_detail(format!("Cannot read {}: {error}.", path.display()))
                .into()),
        }
    }

    pub fn parse(name: &str, text: &str, sources: &mut SourceMap) -> Result<LockFile, Diagnostics> {
        let (file, body) = crate::config::load::parse_file(name, text, sources)?;
        let mut diagnostics = Diagnostics::new();
        let mut lock = LockFile::default();
        for structure in body.iter() {
            let block = match structure {
                Structure::Block(block) if block.ident.as_str() == "provider" => block,
                Structure::Block(block) => {
                    // Terraform ignores (and drops) what it does not know, with a warning.
                    diagnostics.push(
                        Diagnostic::warning("Unsupported block in the dependency lock file")
                            .with_detail(format!(
                                "A `{}` block is not expected here; it is ignored.",
                                block.ident.as_str()
                            ))
                            .with_span_opt(block.ident.span().map(|r| file.span(r))),
                    );
                    continue;
                }
                Structure::Attribute(attribute) => {
                    diagnostics.push(
                        Diagnostic::error("Unsupported argument in the dependency lock file")
                            .with_detail(format!(
                                "An argument named `{}` is not expected here.",
                                attribute.key.as_str()
                            ))
                            .with_span_opt(attribute.key.span().map(|r| file.span(r))),
                    );
                    continue;
                }
            };
            let span = block.ident.span().map(|r| file.span(r));
            let [label] = block.labels.as_slice() else {
                diagnostics.push(
                    Diagnostic::error("Invalid provider block in the dependency lock file")
                        .with_detail(
                            "A provider block needs one label, the provider's source address.",
                        )
                        .with_span_opt(span),
                );
                continue;
            };
            let addr = match ProviderAddr::parse(label.as_str()) {
                Ok(addr) if addr.to_string() == label.as_str() => addr,
                Ok(addr) => {
                    diagnostics.push(
                        Diagnostic::error("Non-normalized provider source address")
                            .with_detail(format!("The provider source address for a provider lock must be given in its normalized form, `{addr}`."))
                            .with_span_opt(label.span().map(|r| file.span(r))),
                    );
                    continue;
                }
                Err(message) => {
                    diagnostics.push(
                        Diagnostic::error("Invalid provider source address")
                            .with_detail(message)
                            .with_span_opt(label.span().map(|r| file.span(r))),
                    );
                    continue;
                }
            };
            if let Some(locked) = decode_provider(&file, &block.body, span, &mut diagnostics) {
                if lock.providers.insert(addr.clone(), locked).is_some() {
                    diagnostics.push(
                        Diagnostic::error("Duplicate provider lock")
                            .with_detail(format!("The lock for {addr} is recorded twice."))
                            .with_span_opt(block.ident.span().map(|r| file.span(r))),
                    );
                }
            }
        }
        diagnostics.into_result(lock)
    }

    /// The file's text, as Terraform writes it.
    pub fn render(&self) -> String {
        let mut out = String::from(HEADER);
        for (addr, locked) in &self.providers {
            out.push_str(&format!("\nprovider \"{addr}\" {{\n"));
            match &locked.constraints {
                Some(constraints) => {
                    out.push_str(&format!("  version     = \"{}\"\n", locked.version));
                    out.push_str(&format!("  constraints = \"{constraints}\"\n"));
                }
                None => out.push_str(&format!("  version = \"{}\"\n", locked.version)),
            }
            out.push_str("  hashes = [\n");
            for hash in &locked.hashes {
                out.push_str(&format!("    \"{hash}\",\n"));
            }
            out.push_str("  ]\n}\n");
        }
        out
    }

    /// Writes the file when its text changes (atomically: a temporary file renamed over it).
    pub fn write(&self, dir: &Path) -> std::io::Result<()> {
        let path = dir.join(LOCK_FILE_NAME);
        let text = self.render();
        if std::fs::read_to_string(&path).is_ok_and(|old| old == text) {
            return Ok(());
        }
        let mut temporary = tempfile::NamedTempFile::new_in(dir)?;
        std::io::Write::write_all(&mut temporary, text.as_bytes())?;
        temporary.persist(&path).map_err(|error| error.error)?;
        Ok(())
    }
}

fn decode_provider(
    file: &Arc<SourceFile>,
    body: &hcl_edit::structure::Body,
    span: Option<crate::diagnostics::Span>,
    diagnostics: &mut Diagnostics,
) -> Option<LockedProvider> {
    let mut locked = LockedProvider::default();
    let mut has_version = false;
    for attribute in body.attributes() {
        let at = attribute.value.span().map(|r| file.span(r));
        let value = match literal_value(&attribute.value, file) {
            Ok(value) => value,
            Err(errors) => {
                diagnostics.extend(errors);
                continue;
            }
        };
        let wrong = |what: &str| {
            Diagnostic::error("Invalid provider lock")
                .with_detail(format!("`{}` must be {what}.", attribute.key.as_str()))
                .with_span_opt(at.clone())
        };
        match attribute.key.as_str() {
            "version" => match value.as_str() {
                Some(version) if crate::config::version::compare(version, version).is_ok() => {
                    locked.version = version.to_string();
                    has_version = true;
                }
                _ => diagnostics.push(wrong("a version number string")),
            },
            "constraints" => match value.as_str() {
                Some(text) => locked.constraints = Some(text.to_string()),
                None => diagnostics.push(wrong("a string")),
            },
            "hashes" => {
                let items = value.as_seq().unwrap_or_default();
                let hashes: Option<BTreeSet<String>> = items
                    .iter()
                    .map(|h| h.as_str().filter(|h| h.contains(':')).map(str::to_string))
                    .collect();
                match hashes {
                    Some(hashes) if value.as_seq().is_some() => locked.hashes = hashes,
                    _ => diagnostics.push(wrong("a list of hash strings like \"h1:...\"")),
                }
            }
            other => diagnostics.push(
                Diagnostic::error("Unsupported argument in the dependency lock file")
                    .with_detail(format!(
                        "An argument named `{other}` is not expected in a provider block."
                    ))
                    .with_span_opt(attribute.key.span().map(|r| file.span(r))),
            ),
        }
    }
    if !has_version {
        diagnostics.push(
            Diagnostic::error("Missing required argument")
                .with_detail("A provider lock needs `version`.")
                .with_span_opt(span),
        );
        return None;
    }
    Some(locked)
}

#[cfg(test)]
mod tests {
    use super::*;

    const TERRAFORM_WROTE: &str = r#"# This file is maintained automatically by "terraform init".
# Manual edits may be lost in future updates.

provider "registry.terraform.io/hashicorp/aws" {
  version     = "3.39.0"
  constraints = "~> 3.39"
  hashes = [
    "h1:abc=",
    "zh:0123",
  ]
}

provider "registry.terraform.io/hashicorp/random" {
  version = "3.1.0"
  hashes = [
    "h1:xyz=",
  ]
}
"#;

    #[test]
    fn round_trips_terraforms_format() {
        let lock = LockFile::parse(LOCK_FILE_NAME, TERRAFORM_WROTE, &mut SourceMap::new()).unwrap();
        assert_eq!(lock.providers.len(), 2);
        assert_eq!(lock.render(), TERRAFORM_WROTE);
    }

    #[test]
    fn errors_point_into_the_file() {
        let cases = [
            ("provider \"hashicorp/aws\" {\n  version = \"1.0.0\"\n}\n", "Non-normalized provider source address", 1, 10),
            ("provider \"registry.terraform.io/hashicorp/aws\" {\n  hashes = []\n}\n", "Missing required argument", 1, 1),
            ("provider \"registry.terraform.io/hashicorp/aws\" {\n  version = \"1.0.0\"\n  hashes = \"h1:x\"\n}\n", "Invalid provider lock", 3, 12),
            ("provider \"registry.terraform.io/hashicorp/aws\" {\n  version = \"1.0.0\"\n  colour = 1\n}\n", "Unsupported argument in the dependency lock file", 3, 3),
        ];
        for (text, summary, line, column) in cases {
            let errors = LockFile::parse(LOCK_FILE_NAME, text, &mut SourceMap::new()).unwrap_err();
            let error = errors.iter().next().unwrap();
            assert_eq!(error.summary, summary, "{text}");
            let span = error.span.as_ref().unwrap();
            assert_eq!(
                (span.start.line, span.start.column),
                (line, column),
                "{text}"
            );
        }
    }
}
