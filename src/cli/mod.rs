//! The `strata` command: flags become settings ([`args`]), settings drive the library.
//!
//! This is the binary's edge: errors are `anyhow`, diagnostics are rendered here, and exit codes
//! follow Terraform's (0 success, 1 error, 2 = changes present with `-detailed-exitcode`, 3 =
//! `fmt -check` found unformatted files).

pub mod args;
mod backend;
mod commands;
mod console;
mod drift;
mod init_providers;
mod modules;
mod providers;
mod providers_install;
mod state_commands;

use args::{Cli, Command};
use clap::Parser;
use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;

use crate::diagnostics::{Diagnostics, SourceMap};
use crate::ui::Style;

/// What every command needs: where it runs and how it prints.
pub struct Context {
    /// The working directory (after `-chdir`).
    pub dir: PathBuf,
    pub style: Style,
    /// Whether standard input is a terminal (prompts are allowed).
    pub interactive: bool,
    /// `-json` on plan / apply / destroy / refresh: Terraform's machine-readable UI (JSON
    /// lines) on standard output, diagnostics included.
    pub json: bool,
    /// `-compact-warnings`: a warning is one line (its summary and place).
    pub compact_warnings: bool,
}

impl Context {
    /// Prints diagnostics to standard error.
    pub fn print_diagnostics(&self, diagnostics: &Diagnostics, sources: &SourceMap) {
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
            let mut text = String::from("Warnings:\n\n");
            for warning in diagnostics.iter() {
                text.push_str(&format!("- {}\n", warning.summary));
                if let Some(span) = &warning.span {
                    text.push_str(&format!("  on {} line {}\n", span.file, span.start.line));
                }
            }
            text.push_str("\nTo see the full warning notes, run Strata without -compact-warnings.");
            eprintln!("{text}");
            return;
        }
        let style = Style {
            color: self.style.color && std::io::stderr().is_terminal(),
        };
        // Concurrent evaluation finds errors in any order: print them by location.
        let mut sorted = diagnostics.clone();
        sorted.0.sort_by(|a, b| {
            let key = |d: &crate::diagnostics::Diagnostic| {
                d.span
                    .as_ref()
                    .map(|s| (s.file.to_string(), s.start.line, s.start.column))
            };
            key(a).cmp(&key(b))
        });
        eprintln!("{}", sorted.render(sources, style.color).trim_end());
    }
}

/// An error that has already been reported (diagnostics printed): exit 1 quietly.
#[derive(Debug, thiserror::Error)]
#[error("reported")]
pub struct Reported;

/// Runs the CLI with the process's arguments.
pub fn main() -> ExitCode {
    let args = args::process_args();
    let cli = match Cli::try_parse_from(args) {
        Ok(cli) => cli,
        Err(error) => {
            let _ = error.print();
            return ExitCode::from(if error.use_stderr() { 1 } else { 0 });
        }
    };
    init_tracing();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("Error: cannot start the async runtime: {error}");
            return ExitCode::from(1);
        }
    };
    let result = runtime.block_on(run(cli));
    if let Some(report) = crate::timings::report() {
        eprint!("{report}");
    }
    match result {
        Ok(code) => ExitCode::from(code),
        Err(error) => {
            if !error.is::<Reported>() {
                eprintln!("Error: {error:#}");
            }
            ExitCode::from(1)
        }
    }
}

fn init_tracing() {
    // STRATA_LOG=debug (or Terraform's TF_LOG=DEBUG) turns on logs, to stderr or to the file
    // STRATA_LOG_PATH / TF_LOG_PATH names. Providers never log sensitive values.
    let env = |names: [&str; 2]| names.iter().find_map(|name| std::env::var(name).ok());
    let Some(filter) = env(["STRATA_LOG", "TF_LOG"]) else {
        return;
    };
    let filter = match filter.to_ascii_lowercase().as_str() {
        // Terraform's `TF_LOG=JSON` means trace-level logs as JSON; plain text here.
        "json" => "trace".to_string(),
        other => other.to_string(),
    };
    let builder =
        tracing_subscriber::fmt().with_env_filter(tracing_subscriber::EnvFilter::new(filter));
    match env(["STRATA_LOG_PATH", "TF_LOG_PATH"]) {
        Some(path) => match std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&path)
        {
            Ok(file) => {
                let _ = builder
                    .with_ansi(false)
                    .with_writer(std::sync::Mutex::new(file))
                    .try_init();
            }
            Err(error) => {
                eprintln!("Warning: cannot write logs to {path}: {error}; logging to stderr");
                let _ = builder.with_writer(std::io::stderr).try_init();
            }
        },
        None => {
            let _ = builder.with_writer(std::io::stderr).try_init();
        }
    }
}

/// Runs one parsed command; returns the exit code.
pub async fn run(cli: Cli) -> anyhow::Result<u8> {
    let dir = match &cli.chdir {
        Some(dir) => {
            std::env::set_current_dir(dir).map_err(|e| {
                anyhow::anyhow!("cannot change to directory `{}`: {e}", dir.display())
            })?;
            PathBuf::from(".")
        }
        None => PathBuf::from("."),
    };
    let color =
        !cli.no_color && std::env::var_os("NO_COLOR").is_none() && std::io::stdout().is_terminal();
    let (json, compact_warnings) = match &cli.command {
        Command::Plan { args, .. }
        | Command::Apply { args, .. }
        | Command::Destroy { args, .. }
        | Command::Refresh { args } => (args.json, args.compact_warnings),
        _ => (false, false),
    };
    let context = Context {
        dir,
        style: Style {
            color: color && !json,
        },
        interactive: std::io::stdin().is_terminal(),
        json,
        compact_warnings,
    };
    match cli.command {
        Command::Init {
            backend_config,
            migrate_state,
            reconfigure,
            backend,
            upgrade,
            lockfile,
            plugin_dir,
            get,
            ..
        } => {
            if get {
                modules::install(&context, upgrade).await?;
            }
            let provider_flags = init_providers::ProviderFlags {
                upgrade,
                plugin_dirs: plugin_dir,
                lockfile,
            };
            commands::init(
                &context,
                &backend_config,
                migrate_state,
                reconfigure,
                backend,
                &provider_flags,
            )
            .await
        }
        Command::Get { update } => modules::get(&context, update).await,
        Command::Validate { json } => commands::validate(&context, json).await,
        Command::Fmt {
            check,
            diff,
            recursive,
            list,
            write,
            paths,
        } => commands::fmt(&context, check, diff, recursive, list, write, &paths),
        Command::Plan {
            args,
            out,
            destroy,
            detailed_exitcode,
            markdown,
            markdown_limit,
        } => {
            let markdown = markdown.map(|path| (path, markdown_limit));
            commands::plan(
                &context,
                &args,
                out.as_deref(),
                destroy,
                detailed_exitcode,
                markdown.as_ref().map(|(p, l)| (p.as_path(), *l)),
            )
            .await
        }
        Command::Apply {
            args,
            auto_approve,
            destroy,
            plan_file,
        } => match plan_file {
            Some(file) => commands::apply_saved(&context, &args, &file).await,
            None => commands::apply(&context, &args, auto_approve, destroy).await,
        },
        Command::Destroy { args, auto_approve } => {
            commands::apply(&context, &args, auto_approve, true).await
        }
        Command::Show {
            json,
            markdown,
            markdown_limit,
            path,
        } => {
            let format = match (json, markdown) {
                (true, _) => commands::ShowFormat::Json,
                (_, true) => commands::ShowFormat::Markdown(markdown_limit),
                _ => commands::ShowFormat::Human,
            };
            commands::show(&context, format, path.as_deref()).await
        }
        Command::Output { json, raw, name } => {
            commands::output(&context, json, raw, name.as_deref()).await
        }
        Command::Graph { .. } => commands::graph(&context).await,
        Command::Taint {
            lock,
            allow_missing,
            address,
        } => state_commands::taint(&context, lock, allow_missing, &address, true).await,
        Command::Untaint {
            lock,
            allow_missing,
            address,
        } => state_commands::taint(&context, lock, allow_missing, &address, false).await,
        Command::Drift {
            workspaces,
            markdown,
            json_report,
            lock,
            dirs,
        } => {
            let settings = drift::DriftSettings {
                dirs,
                workspaces,
                markdown,
                json: json_report,
                lock,
            };
            drift::drift(&context, &settings).await
        }
        Command::Refresh { mut args } => {
            args.refresh_only = true;
            commands::apply(&context, &args, true, false).await
        }
        Command::Console { vars } => console::console(&context, &vars).await,
        Command::Providers { command } => providers::providers(&context, command).await,
        Command::State { command } => state_commands::state(&context, command).await,
        Command::Workspace { command } => state_commands::workspace(&context, command).await,
        Command::ForceUnlock { force, lock_id } => {
            state_commands::force_unlock(&context, force, &lock_id).await
        }
        Command::Import {
            vars,
            lock,
            address,
            id,
        } => commands::import(&context, &vars, &lock, &address, &id).await,
        Command::Version { json } => {
            if json {
                println!(
                    "{}",
                    serde_json::json!({"strata_version": env!("CARGO_PKG_VERSION"), "platform": platform(), "terraform_compatible_version": crate::TERRAFORM_VERSION_COMPAT})
                );
            } else {
                println!("Strata v{}\non {}", env!("CARGO_PKG_VERSION"), platform());
            }
            Ok(0)
        }
    }
}

fn platform() -> String {
    let arch = match std::env::consts::ARCH {
        "x86_64" => "amd64",
        "aarch64" => "arm64",
        other => other,
    };
    format!("{}_{arch}", std::env::consts::OS)
}
