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
mod lock;
mod modules;
mod providers;
mod providers_install;
mod settings;
mod state_commands;
pub mod views;

use anyhow::Context as _;
use args::{Cli, Command};
use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;

use settings::ApplySettings;

use crate::config::variables::VarSource;
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
    /// `-var` and `-var-file`, in command-line order.
    pub var_sources: Vec<VarSource>,
}

impl Context {
    /// Prints diagnostics as this command shows them ([`views::diagnostics`]).
    pub fn print_diagnostics(&self, diagnostics: &Diagnostics, sources: &SourceMap) {
        let view = views::diagnostics::DiagnosticsView {
            style: self.style,
            json: self.json,
            compact_warnings: self.compact_warnings,
        };
        view.show(diagnostics, sources);
    }

    /// How `plan`, `apply` and their kin show their results: `-json` or text.
    pub fn operation_view(&self) -> views::operation::OperationView {
        views::operation::OperationView::new(self.style, self.json)
    }
}

/// An error that has already been reported (diagnostics printed): exit 1 quietly.
#[derive(Debug, thiserror::Error)]
#[error("reported")]
pub struct Reported;

/// Runs the CLI with the process's arguments.
pub fn main() -> ExitCode {
    let args = args::process_args();
    let cli = match args::parse(args) {
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
            views::messages::error(
                &anyhow::Error::new(error).context("cannot start the async runtime"),
            );
            return ExitCode::from(1);
        }
    };
    let result = runtime.block_on(run(cli));
    if let Some(report) = crate::timings::report() {
        views::messages::timings(&report);
    }
    match result {
        Ok(code) => ExitCode::from(code),
        Err(error) => {
            if !error.is::<Reported>() {
                views::messages::error(&error);
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
                views::messages::warning(&format!(
                    "Warning: cannot write logs to {path}: {error}; logging to stderr"
                ));
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
            std::env::set_current_dir(dir)
                .with_context(|| format!("cannot change to directory `{}`", dir.display()))?;
            PathBuf::from(".")
        }
        None => PathBuf::from("."),
    };
    let color =
        !cli.no_color && std::env::var_os("NO_COLOR").is_none() && std::io::stdout().is_terminal();
    let (json, compact_warnings) = cli
        .command
        .operation()
        .map_or((false, false), |args| (args.json, args.compact_warnings));
    let context = Context {
        dir,
        style: Style {
            color: color && !json,
        },
        interactive: std::io::stdin().is_terminal(),
        json,
        compact_warnings,
        var_sources: cli.var_sources,
    };
    let result = dispatch(&context, cli.command).await;
    // Locks an error path dropped are released here, awaited, whatever the command returned.
    lock::release_dropped().await;
    result
}

/// Resolves the command's flags into its settings ([`settings`]) and runs it: one line per
/// command.
async fn dispatch(context: &Context, command: Command) -> anyhow::Result<u8> {
    match command {
        Command::Init(args) => commands::init(context, &args.into()).await,
        Command::Get { update } => modules::get(context, update).await,
        Command::Validate { json } => commands::validate(context, json).await,
        Command::Fmt(args) => commands::fmt(context, &args.into()),
        Command::Plan(args) => commands::plan(context, &args.into()).await,
        Command::Apply(args) => commands::apply(context, &args.into()).await,
        Command::Destroy(args) => commands::apply(context, &args.into()).await,
        Command::Refresh(args) => commands::apply(context, &ApplySettings::refresh(args)).await,
        Command::Show(args) => commands::show(context, &args.into()).await,
        Command::Output(args) => commands::output(context, &args.into()).await,
        Command::Graph { .. } => commands::graph(context).await,
        Command::Taint(args) => state_commands::taint(context, &args, true).await,
        Command::Untaint(args) => state_commands::taint(context, &args, false).await,
        Command::Drift(args) => drift::drift(context, &args.into()).await,
        Command::Console { .. } => console::console(context).await,
        Command::Providers { command } => providers::providers(context, command).await,
        Command::State { command } => state_commands::state(context, command).await,
        Command::Workspace { command } => state_commands::workspace(context, command).await,
        Command::ForceUnlock { force, lock_id } => {
            state_commands::force_unlock(context, force, &lock_id).await
        }
        Command::Import(args) => commands::import(context, &args.into()).await,
        Command::Version { json } => {
            views::show::version(json, &platform());
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
