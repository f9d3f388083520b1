//! `strata fmt`: rewrites configuration files in the canonical layout, byte for byte the layout
//! `terraform fmt` writes.
//!
//! How a file is formatted:
//! 1. it is parsed with `hcl-edit`; a file with a syntax error is left alone and the error is
//!    reported with its location (as Terraform refuses to format what it cannot parse);
//! 2. [`lexer`] splits it into the tokens of HashiCorp's `hclsyntax` scanner, each with the
//!    spaces before it;
//! 3. [`rewrite`] makes Terraform's few token rewrites (quoted labels, unwrapped `"${x}"`,
//!    modern variable types);
//! 4. [`layout`] sets the spaces before every token by `hclwrite`'s rules (indentation,
//!    spacing by token type, `=` and comment alignment).
//!
//! Architecture invariant: formatting changes whitespace and the rewrites above, nothing else;
//! the tokens themselves (comments, heredoc contents, literal text) are written back unchanged.
//! Like Terraform, it neither adds nor removes a final newline, and keeps blank lines as they are.

mod layout;
mod lexer;
mod rewrite;

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

/// The file name extensions `fmt` formats (Terraform's list).
pub const FORMATTED_EXTENSIONS: [&str; 3] = [".tf", ".tfvars", ".tftest.hcl"];

#[derive(Debug, thiserror::Error)]
pub enum FormatError {
    /// The file does not parse: it is not touched.
    #[error("{file}:{line}:{column}: invalid syntax: {message}")]
    Syntax {
        file: String,
        line: usize,
        column: usize,
        message: String,
    },
    #[error("{path}: {source}")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error(
        "{path}: only .tf, .tfvars and .tftest.hcl files can be formatted; give a directory to \
         format every such file in it"
    )]
    UnsupportedFile { path: String },
    #[error("{path}: no such file or directory")]
    NotFound { path: String },
}

/// The flags of `strata fmt`, with Terraform's defaults from [`FmtOptions::default`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FmtOptions {
    /// Only check: write nothing (`-check`; the CLI exits 3 when a file would change).
    pub check: bool,
    /// Show a unified diff of each change (`-diff`).
    pub diff: bool,
    /// Also format the files of subdirectories (`-recursive`).
    pub recursive: bool,
    /// Write the formatted files back (`-write`, default true).
    pub write: bool,
    /// Name each file that changed (`-list`, default true).
    pub list: bool,
}

impl Default for FmtOptions {
    fn default() -> FmtOptions {
        FmtOptions {
            check: false,
            diff: false,
            recursive: false,
            write: true,
            list: true,
        }
    }
}

/// What a `fmt` run did.
#[derive(Debug, Default)]
pub struct FmtReport {
    /// Every file looked at, in the order processed.
    pub files: Vec<PathBuf>,
    /// The files whose layout was (or, with `check` or `write = false`, would be) changed.
    pub changed: Vec<PathBuf>,
    /// What the command prints on standard output: the changed files' names (`list`), their
    /// diffs (`diff`), or, with none of `list`, `write` and `diff`, the formatted text.
    pub output: String,
    /// Files that could not be formatted (syntax or I/O errors); the others were still processed.
    pub errors: Vec<FormatError>,
}

/// `text` in the canonical layout. A syntax error is reported against the name `<input>`.
pub fn format_source(text: &str) -> Result<String, FormatError> {
    format_named_source("<input>", text)
}

/// `text` (the contents of `file_name`, used in error locations) in the canonical layout.
pub fn format_named_source(file_name: &str, text: &str) -> Result<String, FormatError> {
    if let Err(error) = hcl_edit::parser::parse_body(text) {
        let location = error.location();
        return Err(FormatError::Syntax {
            file: file_name.to_string(),
            line: location.line(),
            column: location.column(),
            message: error.message().to_string(),
        });
    }
    let tokens = rewrite::rewrite(lexer::tokenize(text));
    let mut tokens = tokens;
    layout::format_tokens(&mut tokens);
    Ok(lexer::render(&tokens))
}

/// Formats the given files, and the formattable files of the given directories (with their
/// subdirectories when `recursive`; names starting with `.` are skipped there, as Terraform
/// does). An empty list means the current directory.
pub fn format_paths(paths: &[PathBuf], options: FmtOptions) -> Result<FmtReport, FormatError> {
    let mut report = FmtReport::default();
    let current_directory = [PathBuf::from(".")];
    let paths = if paths.is_empty() {
        &current_directory[..]
    } else {
        paths
    };
    for path in paths {
        let metadata = std::fs::metadata(path).map_err(|_| FormatError::NotFound {
            path: display_path(path),
        })?;
        if metadata.is_dir() {
            format_directory(path, options, &mut report);
        } else if is_formatted_file(path) {
            format_file(path, options, &mut report);
        } else {
            return Err(FormatError::UnsupportedFile {
                path: display_path(path),
            });
        }
    }
    Ok(report)
}

fn is_formatted_file(path: &Path) -> bool {
    let name = path
        .file_name()
        .map(|name| name.to_string_lossy())
        .unwrap_or_default();
    FORMATTED_EXTENSIONS
        .iter()
        .any(|extension| name.ends_with(extension) && name.len() > extension.len())
}

/// Terraform ignores dot files and editor backups (`name~`, `#name#`).
fn is_ignored_name(name: &str) -> bool {
    name.starts_with('.') || name.ends_with('~') || (name.starts_with('#') && name.ends_with('#'))
}

fn format_directory(directory: &Path, options: FmtOptions, report: &mut FmtReport) {
    let entries = match std::fs::read_dir(directory) {
        Ok(entries) => entries,
        Err(source) => {
            report.errors.push(FormatError::Io {
                path: display_path(directory),
                source,
            });
            return;
        }
    };
    let mut entries: Vec<(String, PathBuf, bool)> = entries
        .filter_map(Result::ok)
        .map(|entry| {
            let is_directory = entry.file_type().is_ok_and(|kind| kind.is_dir());
            (
                entry.file_name().to_string_lossy().into_owned(),
                entry.path(),
                is_directory,
            )
        })
        .collect();
    entries.sort();
    for (name, path, is_directory) in entries {
        if is_ignored_name(&name) {
            continue;
        }
        if is_directory {
            if options.recursive {
                format_directory(&path, options, report);
            }
        } else if is_formatted_file(&path) {
            format_file(&path, options, report);
        }
    }
}

fn format_file(path: &Path, options: FmtOptions, report: &mut FmtReport) {
    let shown = display_path(path);
    report.files.push(path.to_path_buf());
    let original = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(source) => {
            report.errors.push(FormatError::Io {
                path: shown,
                source,
            });
            return;
        }
    };
    let formatted = match format_named_source(&shown, &original) {
        Ok(formatted) => formatted,
        Err(error) => {
            report.errors.push(error);
            return;
        }
    };
    let write = options.write && !options.check;
    if formatted != original {
        report.changed.push(path.to_path_buf());
        if options.list {
            let _ = writeln!(report.output, "{shown}");
        }
        if write {
            if let Err(source) = std::fs::write(path, &formatted) {
                report.errors.push(FormatError::Io {
                    path: shown.clone(),
                    source,
                });
            }
        }
        if options.diff {
            report
                .output
                .push_str(&unified_diff(&shown, &original, &formatted));
        }
    }
    if !options.list && !write && !options.diff {
        report.output.push_str(&formatted);
    }
}

/// The diff Terraform shows for `-diff` (`diff -u` with `old/` and `new/` labels).
pub fn unified_diff(path: &str, original: &str, formatted: &str) -> String {
    similar::TextDiff::from_lines(original, formatted)
        .unified_diff()
        .context_radius(3)
        .header(&format!("old/{path}"), &format!("new/{path}"))
        .to_string()
}

/// A path as Terraform prints it: joined under the directory given, without a leading `./`.
fn display_path(path: &Path) -> String {
    let text = path.to_string_lossy();
    let mut shown: &str = &text;
    while let Some(rest) = shown.strip_prefix("./") {
        shown = rest;
    }
    shown.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aligns_and_spaces() {
        assert_eq!(
            format_source("a=[1,2]\nbbb = f( x )\n").unwrap(),
            "a   = [1, 2]\nbbb = f(x)\n"
        );
    }

    #[test]
    fn rejects_invalid_input_with_a_location() {
        let error = format_source("a = 1\nb = [\n").unwrap_err();
        assert!(
            matches!(error, FormatError::Syntax { line: 2.., .. }),
            "{error}"
        );
    }

    #[test]
    fn keeps_missing_final_newline_as_terraform_does() {
        assert_eq!(format_source("a=1").unwrap(), "a = 1");
    }
}
