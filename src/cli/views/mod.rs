//! How each command's results are shown, after OpenTofu's `command/views`: a command resolves
//! its flags into settings, does its work, and hands what it found to a view here, which
//! decides the form (human text, Terraform's JSON, Markdown) and the stream. Rendering itself
//! is [`crate::ui`]'s (functions that return strings).
//!
//! Architecture invariant: this module and [`crate::ui`] are the only places that write to the
//! terminal; `clippy::print_stdout` and `clippy::print_stderr` are denied everywhere else
//! (`Cargo.toml`'s `[lints]`, allowed only here).
#![allow(clippy::print_stdout, clippy::print_stderr)]

pub mod console;
pub mod diagnostics;
pub mod drift;
pub mod lock;
pub mod messages;
pub mod operation;
pub mod output;
pub mod providers;
pub mod show;
pub mod state;

use std::io::Write;

/// A question on standard error (after `lines`), answered by one line of standard input;
/// `None` when standard input cannot be read.
fn ask_on_stderr(lines: &[String], prompt: &str) -> Option<String> {
    for line in lines {
        eprintln!("{line}");
    }
    eprint!("{prompt}");
    let _ = std::io::stderr().flush();
    let mut answer = String::new();
    let read = std::io::stdin().read_line(&mut answer).is_ok();
    eprintln!();
    read.then_some(answer)
}

/// A question on standard output, answered by one line of standard input.
fn ask_on_stdout(question: &str, prompt: &str) -> std::io::Result<String> {
    println!("{question}");
    print!("{prompt}");
    std::io::stdout().flush()?;
    let mut answer = String::new();
    std::io::stdin().read_line(&mut answer)?;
    Ok(answer)
}
