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
    let tokens = lexer::tokenize(text);
    if let Err(error) = hcl_edit::parser::parse_body(&text_for_validation(text, &tokens)) {
        let location = error.location();
        return Err(FormatError::Syntax {
            file: file_name.to_string(),
            line: location.line(),
            column: location.column(),
            message: error.message().to_string(),
        });
    }
    Ok(format_tokens(tokens))
}

/// The layout of already checked text's tokens.
fn format_tokens(tokens: Vec<lexer::Token>) -> String {
    let mut tokens = rewrite::rewrite(tokens);
    layout::format_tokens(&mut tokens);
    lexer::render(&tokens)
}

/// The text handed to `hcl-edit` for the syntax check. HCL lets a comment hold a carriage
/// return that does not end a line; `hcl-edit` does not, so such a character is checked as a
/// space (same length, so error locations stay right).
fn text_for_validation<'a>(text: &'a str, tokens: &[lexer::Token]) -> std::borrow::Cow<'a, str> {
    if !text.contains('\r') {
        return std::borrow::Cow::Borrowed(text);
    }
    let mut checked = String::with_capacity(text.len());
    let mut offset = 0;
    for token in tokens {
        let start = offset + token.spaces_before;
        let end = start + token.text.len();
        checked.push_str(text.get(offset..start).unwrap_or(""));
        let token_text = text.get(start..end).unwrap_or("");
        if token.kind == lexer::TokenKind::Comment {
            let line_ending = if token_text.ends_with("\r\n") {
                2
            } else {
                usize::from(token_text.ends_with('\n'))
            };
            let body_end = token_text.len() - line_ending;
            checked.push_str(&token_text[..body_end].replace('\r', " "));
            checked.push_str(&token_text[body_end..]);
        } else {
            checked.push_str(token_text);
        }
        offset = end;
    }
    checked.push_str(text.get(offset..).unwrap_or(""));
    std::borrow::Cow::Owned(checked)
}

/// Formats the given files, and the formattable files of the given directories (with their
/// subdirectories when `recursive`; names starting with `.` are skipped there, as Terraform
/// does). An empty list means the current directory; `-` means standard input
/// ([`format_standard_input`]).
pub fn format_paths(paths: &[PathBuf], options: FmtOptions) -> Result<FmtReport, FormatError> {
    let mut report = FmtReport::default();
    let current_directory = [PathBuf::from(".")];
    let paths = if paths.is_empty() {
        &current_directory[..]
    } else {
        paths
    };
    for path in paths {
        if path.as_os_str() == "-" {
            let mut text = String::new();
            std::io::Read::read_to_string(&mut std::io::stdin(), &mut text).map_err(|source| {
                FormatError::Io {
                    path: "<stdin>".to_string(),
                    source,
                }
            })?;
            let stdin_report = format_standard_input(&text, options);
            report.changed.extend(stdin_report.changed);
            report.output.push_str(&stdin_report.output);
            report.errors.extend(stdin_report.errors);
            continue;
        }
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
    match std::fs::read_to_string(path) {
        Ok(original) => format_text(&shown, &original, Some(path), options, report),
        Err(source) => report.errors.push(FormatError::Io {
            path: shown,
            source,
        }),
    }
}

/// `terraform fmt -`: formats `text` (read from standard input by the caller). Nothing is
/// listed or written; the output is the formatted text, or its diff with `diff`.
pub fn format_standard_input(text: &str, options: FmtOptions) -> FmtReport {
    let mut report = FmtReport::default();
    let options = FmtOptions {
        list: false,
        write: false,
        ..options
    };
    format_text("<stdin>", text, None, options, &mut report);
    report
}

/// Formats one file's text; `path` is where to write it back (none for standard input).
fn format_text(
    shown: &str,
    original: &str,
    path: Option<&Path>,
    options: FmtOptions,
    report: &mut FmtReport,
) {
    let formatted = match format_named_source(shown, original) {
        Ok(formatted) => formatted,
        Err(error) => {
            report.errors.push(error);
            return;
        }
    };
    let write = options.write && !options.check;
    if formatted != original {
        report
            .changed
            .push(path.map_or_else(|| PathBuf::from("-"), Path::to_path_buf));
        if options.list {
            let _ = writeln!(report.output, "{shown}");
        }
        if let (true, Some(path)) = (write, path) {
            if let Err(source) = std::fs::write(path, &formatted) {
                report.errors.push(FormatError::Io {
                    path: shown.to_string(),
                    source,
                });
            }
        }
        if options.diff {
            report
                .output
                .push_str(&unified_diff(shown, original, &formatted));
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

    /// The layout code must not panic even on input the syntax check would refuse.
    #[test]
    fn no_input_makes_the_layout_panic() {
        const PIECES: [&str; 40] = [
            "a", "in", "=", "==", " ", "\t", "\n", "\r\n", "\r", "{", "}", "[", "]", "(", ")",
            "\"", "${", "%{", "~}", "<<EOT\n", "<<-X\n", "EOT\n", "X", "#c\n", "//", "/*", "*/",
            ",", "...", "-", "!", "?", ":", "1.5", "é", "$${", "\\", "variable", "type", "=>",
        ];
        let mut state: u64 = 0x9e37_79b9_7f4a_7c15;
        for _ in 0..3000 {
            let mut text = String::new();
            for _ in 0..(state % 40) {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                text.push_str(PIECES[(state % PIECES.len() as u64) as usize]);
            }
            let formatted = format_tokens(lexer::tokenize(&text));
            let _ = format_source(&text);
            let _ = format_tokens(lexer::tokenize(&formatted));
        }
    }

    #[test]
    fn keeps_missing_final_newline_as_terraform_does() {
        assert_eq!(format_source("a=1").unwrap(), "a = 1");
    }
}
