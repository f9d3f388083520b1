//! Everything Strata prints: plans, apply progress, outputs, diagnostics, in colour on a terminal
//! and plain otherwise. Rendering functions return strings (or write lines to a stream they are
//! given); the CLI's views (`cli::views`) decide where they go.
//! Plans render as Terraform prints them, nested blocks as blocks: the caller passes the
//! providers' schemas ([`Schemas`]).
//!
//! Architecture invariant: only this module and `cli::views` write to the terminal (clippy's
//! `print_stdout`/`print_stderr` are denied elsewhere), and nothing here prints a sensitive
//! value: they render as `(sensitive value)`.

mod console;
mod json_lines;
mod markdown;
mod nested;
mod plan;
mod schemas;
mod state;
mod values;

pub mod drift;
pub use console::{render_console, static_type, Declared};
pub use json_lines::JsonLines;
pub use markdown::{render_markdown, MarkdownOptions, DEFAULT_MARKDOWN_LIMIT};
pub use plan::{render_apply_summary, render_outputs, render_plan, PlanStyle};
pub use schemas::Schemas;
pub use state::render_state;
pub use values::{render_plain, render_value};

use crate::engine::{Event, Events, ObjectId};
use crate::plan::Action;
use std::io::Write;
use std::sync::Mutex;
use std::time::Duration;

/// ANSI styling, or none.
#[derive(Clone, Copy, Debug)]
pub struct Style {
    pub color: bool,
}

impl Style {
    pub fn paint(&self, code: &str, text: &str) -> String {
        if self.color {
            format!("\x1b[{code}m{text}\x1b[0m")
        } else {
            text.to_string()
        }
    }
    pub fn green(&self, text: &str) -> String {
        self.paint("32", text)
    }
    pub fn yellow(&self, text: &str) -> String {
        self.paint("33", text)
    }
    pub fn red(&self, text: &str) -> String {
        self.paint("31", text)
    }
    pub fn cyan(&self, text: &str) -> String {
        self.paint("36", text)
    }
    pub fn bold(&self, text: &str) -> String {
        self.paint("1", text)
    }
    pub fn dim(&self, text: &str) -> String {
        self.paint("2", text)
    }

    /// The symbol of an action, coloured.
    pub fn action_symbol(&self, action: Action) -> String {
        let symbol = action.symbol();
        match action {
            Action::Create => self.green(symbol),
            Action::Update => self.yellow(symbol),
            Action::Delete => self.red(symbol),
            Action::DeleteThenCreate | Action::CreateThenDelete => self.red(symbol),
            Action::Read => self.cyan(symbol),
            Action::NoOp | Action::Forget => symbol.to_string(),
        }
    }
}

/// Prints apply progress as the engine reports it, one line per event.
pub struct ProgressPrinter {
    style: Style,
    out: Mutex<Box<dyn Write + Send>>,
}

impl ProgressPrinter {
    pub fn new(style: Style, out: Box<dyn Write + Send>) -> ProgressPrinter {
        ProgressPrinter {
            style,
            out: Mutex::new(out),
        }
    }
}

fn verbs(action: Action) -> (&'static str, &'static str, &'static str) {
    match action {
        Action::Create => ("Creating...", "Still creating...", "Creation complete"),
        Action::Update => (
            "Modifying...",
            "Still modifying...",
            "Modifications complete",
        ),
        Action::Delete => (
            "Destroying...",
            "Still destroying...",
            "Destruction complete",
        ),
        Action::Read => ("Reading...", "Still reading...", "Read complete"),
        _ => ("Applying...", "Still applying...", "Complete"),
    }
}

/// A provisioner's output as Terraform prints it: every line that is not blank, trailing
/// spaces removed, after the prefix (`terraform_data.x (local-exec):`); a message of blank lines
/// prints as one empty line.
fn provision_output(prefix: &str, output: &str) -> String {
    let lines: Vec<String> = output
        .lines()
        .map(str::trim_end)
        .filter(|line| !line.is_empty())
        .map(|line| format!("{prefix} {line}"))
        .collect();
    lines.join("\n").trim().to_string()
}

/// ` [id=vpc-1]` after a progress line, when something names the object.
fn id_suffix(id: Option<&ObjectId>) -> String {
    id.map(|id| format!(" [{id}]")).unwrap_or_default()
}

/// The bracket of a `Still creating...` line as Terraform prints it: `[id=vpc-1, 00m10s
/// elapsed]`, a value longer than 80 characters shortened in its middle.
fn still_suffix(id: Option<&ObjectId>, elapsed: Duration) -> String {
    let seconds = elapsed.as_secs();
    let named = match id {
        Some(ObjectId { key, value }) => format!("{key}={}, ", shorten_middle(value)),
        None => String::new(),
    };
    format!("[{named}{:02}m{:02}s elapsed]", seconds / 60, seconds % 60)
}

/// A value of more than 80 characters as its first 39, `...` and its last 38 (Terraform's
/// `truncateId` with its limit of 80).
fn shorten_middle(value: &str) -> String {
    let chars: Vec<char> = value.chars().collect();
    if chars.len() <= 80 {
        return value.to_string();
    }
    let head: String = chars[..39].iter().collect();
    let tail: String = chars[chars.len() - 38..].iter().collect();
    format!("{head}...{tail}")
}

/// `1m20s`, as Terraform prints elapsed times.
pub fn format_elapsed(elapsed: Duration) -> String {
    let seconds = elapsed.as_secs();
    if seconds >= 60 {
        format!("{}m{}s", seconds / 60, seconds % 60)
    } else {
        format!("{seconds}s")
    }
}

impl Events for ProgressPrinter {
    fn event(&self, event: Event) {
        self.events(vec![event]);
    }

    /// The lines of `events`, written with one flush (a refresh announces every object of a
    /// type at once: one write per line was a system call per instance).
    fn events(&self, events: Vec<Event>) {
        // One write: standard output is line-buffered, and writes each line on its own.
        let mut text = String::new();
        for line in events.into_iter().filter_map(|event| self.line(event)) {
            text.push_str(&line);
            text.push('\n');
        }
        if text.is_empty() {
            return;
        }
        let mut out = self.out.lock().unwrap_or_else(|e| e.into_inner());
        let _ = out.write_all(text.as_bytes());
        let _ = out.flush();
    }
}

impl ProgressPrinter {
    /// The line `event` prints, if any.
    fn line(&self, event: Event) -> Option<String> {
        Some(match event {
            Event::Refreshing { address, id } => match id {
                Some(id) => format!(
                    "{}: Refreshing state... [id={id}]",
                    self.style.bold(&address.to_string())
                ),
                None => format!(
                    "{}: Refreshing state...",
                    self.style.bold(&address.to_string())
                ),
            },
            Event::Reading { address } => {
                format!("{}: Reading...", self.style.bold(&address.to_string()))
            }
            Event::Importing { address, id } => format!(
                "{}: Preparing import... [id={id}]",
                self.style.bold(&address.to_string())
            ),
            Event::ApplyStarting {
                address,
                action,
                deposed,
                id,
            } => format!(
                "{}: {}{}",
                self.style.bold(&match deposed {
                    Some(key) => format!("{address} (deposed object {key})"),
                    None => address.to_string(),
                }),
                verbs(action).0,
                id_suffix(id.as_ref())
            ),
            Event::StillApplying {
                address,
                action,
                elapsed,
                id,
            } => format!(
                "{}: {} {}",
                self.style.bold(&address.to_string()),
                verbs(action).1,
                still_suffix(id.as_ref(), elapsed)
            ),
            Event::Message { address, message } => {
                format!("{}: {message}", self.style.bold(&address.to_string()))
            }
            Event::ApplyDone {
                address,
                action,
                elapsed,
                id,
            } => format!(
                "{}: {} after {}{}",
                self.style.bold(&address.to_string()),
                verbs(action).2,
                format_elapsed(elapsed),
                id_suffix(id.as_ref())
            ),
            Event::ApplyFailed { address, action } => {
                let failure = match action {
                    Action::Create => "Creation failed",
                    Action::Update => "Modifications failed",
                    Action::Delete => "Destruction failed",
                    Action::Read => "Read failed",
                    _ => "Failed",
                };
                format!(
                    "{}: {}",
                    self.style.bold(&address.to_string()),
                    self.style.red(failure)
                )
            }
            Event::ProvisionStarting {
                address,
                provisioner,
            } => self
                .style
                .bold(&format!("{address}: Provisioning with '{provisioner}'...")),
            Event::ProvisionOutput {
                address,
                provisioner,
                output,
            } => provision_output(
                &self.style.bold(&format!("{address} ({provisioner}):")),
                &output,
            ),
            Event::ProvisionDone { .. } => return None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::addrs::ResourceInstance;
    use std::sync::Arc;

    /// A writer that keeps what it is given and counts the writes that reach it.
    #[derive(Clone, Default)]
    struct Recording(Arc<Mutex<(Vec<u8>, usize)>>);

    impl Write for Recording {
        fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
            let mut recorded = self.0.lock().unwrap();
            recorded.0.extend_from_slice(bytes);
            recorded.1 += 1;
            Ok(bytes.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn a_batch_of_refresh_lines_is_written_in_order_in_one_write() {
        let out = Recording::default();
        let printer = ProgressPrinter::new(Style { color: false }, Box::new(out.clone()));
        let refreshing = |address: &str, id: Option<&str>| Event::Refreshing {
            address: ResourceInstance::parse(address).unwrap(),
            id: id.map(str::to_string),
        };
        printer.events(vec![
            refreshing("terraform_data.r[0]", Some("a")),
            refreshing("terraform_data.r[1]", None),
            Event::ProvisionDone {
                address: ResourceInstance::parse("terraform_data.r[1]").unwrap(),
                provisioner: "local-exec".into(),
                failed: false,
            },
        ]);
        printer.event(refreshing("terraform_data.r[2]", Some("c")));
        let (text, writes) = out.0.lock().unwrap().clone();
        assert_eq!(
            String::from_utf8(text).unwrap(),
            "terraform_data.r[0]: Refreshing state... [id=a]\n\
             terraform_data.r[1]: Refreshing state...\n\
             terraform_data.r[2]: Refreshing state... [id=c]\n"
        );
        assert_eq!(writes, 2, "one write per batch, one per single event");
    }

    #[test]
    fn still_lines_name_the_object_and_count_minutes_as_terraform_does() {
        let id = ObjectId {
            key: "id".into(),
            value: "vpc-1".into(),
        };
        assert_eq!(
            still_suffix(Some(&id), Duration::from_secs(10)),
            "[id=vpc-1, 00m10s elapsed]"
        );
        assert_eq!(
            still_suffix(None, Duration::from_secs(130)),
            "[02m10s elapsed]"
        );
        let long = ObjectId {
            key: "name".into(),
            value: format!("{}{}", "a".repeat(50), "b".repeat(50)),
        };
        assert_eq!(
            still_suffix(Some(&long), Duration::from_secs(70)),
            format!(
                "[name={}...{}, 01m10s elapsed]",
                "a".repeat(39),
                "b".repeat(38)
            )
        );
    }
}
