//! The command line, as clap sees it, and the step that lets Terraform's single-dash flags
//! (`-var=x`, `-auto-approve`) through clap.

use crate::config::variables::VarSource;
use clap::{ArgAction, ArgMatches, Args, CommandFactory, FromArgMatches, Parser, Subcommand};
use std::path::PathBuf;

/// Rewrites `-flag` and `-flag=value` as `--flag...`, so users can type flags as they do for
/// Terraform. `-h`, `-` alone and anything after `--` are left alone.
pub fn normalize(args: impl IntoIterator<Item = String>) -> Vec<String> {
    let mut out = Vec::new();
    let mut passthrough = false;
    for (i, arg) in args.into_iter().enumerate() {
        if i == 0 || passthrough {
            out.push(arg);
            continue;
        }
        if arg == "--" {
            passthrough = true;
            out.push(arg);
            continue;
        }
        let bytes = arg.as_bytes();
        if bytes.len() > 2 && bytes[0] == b'-' && bytes[1].is_ascii_alphabetic() {
            out.push(format!("-{arg}"));
        } else {
            out.push(arg);
        }
    }
    out
}

/// The process's arguments as the CLI reads them: `TF_CLI_ARGS*` words added
/// ([`with_env_args`]), Terraform's single-dash flags normalised ([`normalize`]).
pub fn process_args() -> Vec<String> {
    normalize(with_env_args(std::env::args().collect(), |name| {
        std::env::var(name).ok()
    }))
}

/// Terraform's `TF_CLI_ARGS` and `TF_CLI_ARGS_<command>` (pipelines set `TF_CLI_ARGS_plan=
/// "-lock-timeout=10m"`): their words go right after the command name, the general ones
/// first, before the arguments given on the command line. Words split at whitespace.
pub fn with_env_args(args: Vec<String>, env: impl Fn(&str) -> Option<String>) -> Vec<String> {
    // The command is the first argument that is not a global flag (`-chdir=DIR`, ...).
    let Some(position) = args
        .iter()
        .enumerate()
        .skip(1)
        .find(|(_, a)| !a.starts_with('-'))
        .map(|(i, _)| i)
    else {
        return args;
    };
    let command = args[position].clone();
    let mut extra: Vec<String> = Vec::new();
    for name in ["TF_CLI_ARGS".to_string(), format!("TF_CLI_ARGS_{command}")] {
        if let Some(value) = env(&name) {
            extra.extend(value.split_whitespace().map(str::to_string));
        }
    }
    if extra.is_empty() {
        return args;
    }
    let mut out = args[..=position].to_vec();
    out.extend(extra);
    out.extend(args[position + 1..].iter().cloned());
    out
}

#[derive(Parser, Debug)]
#[command(
    name = "strata",
    version,
    about = "Strata: infrastructure as code, in the Terraform language",
    disable_help_subcommand = true
)]
pub struct Cli {
    /// Switch to a different working directory before running the command.
    #[arg(long, global = true, value_name = "DIR")]
    pub chdir: Option<PathBuf>,
    /// Plain output: no colours.
    #[arg(long = "no-color", global = true)]
    pub no_color: bool,
    #[command(subcommand)]
    pub command: Command,
    /// The command's `-var` and `-var-file` options in command-line order (filled by [`parse`]).
    #[arg(skip)]
    pub var_sources: Vec<VarSource>,
}

/// Parses the command line. Terraform applies `-var` and `-var-file` in the order given, and
/// clap keeps each list's own order only: their positions come from the matches.
pub fn parse(args: Vec<String>) -> Result<Cli, clap::Error> {
    let matches = Cli::command().try_get_matches_from(args)?;
    let mut cli = Cli::from_arg_matches(&matches)?;
    cli.var_sources = var_sources(&matches);
    Ok(cli)
}

/// The `-var` (`vars`) and `-var-file` (`var_files`) values of the innermost command's
/// matches, in command-line order.
fn var_sources(matches: &ArgMatches) -> Vec<VarSource> {
    let mut matches = matches;
    while let Some((_, inner)) = matches.subcommand() {
        matches = inner;
    }
    // `indices_of` is only for ids the command has: `ids` lists those given.
    let given = |id: &str| matches.ids().any(|given| given.as_str() == id);
    let mut sources: Vec<(usize, VarSource)> = Vec::new();
    if given("vars") {
        let values = matches.get_many::<String>("vars").into_iter().flatten();
        let indices = matches.indices_of("vars").into_iter().flatten();
        sources.extend(indices.zip(values.map(|v| VarSource::Flag(v.clone()))));
    }
    if given("var_files") {
        let values = matches
            .get_many::<PathBuf>("var_files")
            .into_iter()
            .flatten();
        let indices = matches.indices_of("var_files").into_iter().flatten();
        sources.extend(indices.zip(values.map(|v| VarSource::File(v.clone()))));
    }
    sources.sort_by_key(|(index, _)| *index);
    sources.into_iter().map(|(_, source)| source).collect()
}

/// A boolean flag that also takes `=true`/`=false` (`-refresh=false`).
fn parse_bool(text: &str) -> Result<bool, String> {
    match text {
        "true" | "1" | "" => Ok(true),
        "false" | "0" => Ok(false),
        other => Err(format!("`{other}` is not a boolean: use true or false")),
    }
}

#[derive(Args, Debug, Clone)]
pub struct VarArgs {
    /// Set a root variable: `-var 'name=value'`.
    #[arg(long = "var", value_name = "NAME=VALUE", action = ArgAction::Append)]
    pub vars: Vec<String>,
    /// Load variable values from a file.
    #[arg(long = "var-file", value_name = "FILE", action = ArgAction::Append)]
    pub var_files: Vec<PathBuf>,
}

#[derive(Args, Debug, Clone)]
pub struct LockArgs {
    /// Take the state lock (`-lock=false` to skip: dangerous).
    #[arg(long, value_parser = parse_bool, num_args = 0..=1, require_equals = true, default_value = "true", default_missing_value = "true")]
    pub lock: bool,
    /// How long to wait for the state lock (`30s`, `5m`); 0 fails at once.
    #[arg(long = "lock-timeout", value_name = "DURATION", default_value = "0s")]
    pub lock_timeout: String,
}

/// The flags every planning command shares (`plan`, `apply`, `destroy`, `refresh`).
#[derive(Args, Debug, Clone)]
pub struct OperationArgs {
    #[command(flatten)]
    pub vars: VarArgs,
    #[command(flatten)]
    pub lock: LockArgs,
    /// Only plan these resources (and what they depend on).
    #[arg(long = "target", value_name = "ADDRESS", action = ArgAction::Append)]
    pub targets: Vec<String>,
    /// Plan to replace this instance even if nothing changed.
    #[arg(long = "replace", value_name = "ADDRESS", action = ArgAction::Append)]
    pub replace: Vec<String>,
    /// Read the current state of every resource first (`-refresh=false` to skip).
    #[arg(long, value_parser = parse_bool, num_args = 0..=1, require_equals = true, default_value = "true", default_missing_value = "true")]
    pub refresh: bool,
    /// Only refresh: record changes made outside, change nothing.
    #[arg(long = "refresh-only")]
    pub refresh_only: bool,
    /// Operations to run at once.
    #[arg(long, default_value_t = 10)]
    pub parallelism: usize,
    /// Ask for input on a terminal (`-input=false`, or `TF_INPUT=0`, never asks).
    #[arg(long, env = "TF_INPUT", value_parser = parse_bool, num_args = 0..=1, require_equals = true, default_value = "true", default_missing_value = "true")]
    pub input: bool,
    /// Machine-readable output (JSON lines).
    #[arg(long)]
    pub json: bool,
    /// Warnings as one line each (errors stay in full).
    #[arg(long = "compact-warnings")]
    pub compact_warnings: bool,
}

/// The commands. A command whose flags are more than one or two has them in a struct of its
/// own here, which [`super::settings`] resolves into the command's settings.
#[derive(Subcommand, Debug)]
pub enum Command {
    /// Prepare a working directory: backend settings (and state migration between backends).
    Init(InitArgs),
    /// Install the modules the configuration calls into .terraform/modules.
    Get {
        /// Reinstall every module (the newest versions the constraints allow).
        #[arg(long)]
        update: bool,
    },
    /// Check the configuration.
    Validate {
        #[arg(long)]
        json: bool,
    },
    /// Rewrite configuration files in the canonical layout.
    Fmt(FmtArgs),
    /// Show what apply would change.
    Plan(PlanArgs),
    /// Make the changes: plan and apply, or apply a saved plan.
    Apply(ApplyArgs),
    /// Destroy everything this configuration manages.
    Destroy(DestroyArgs),
    /// Show the state, or a saved plan.
    Show(ShowArgs),
    /// Show root module outputs.
    Output(OutputArgs),
    /// Print the dependency graph in Graphviz DOT.
    Graph {
        #[arg(long = "type", default_value = "plan")]
        graph_type: String,
    },
    /// Evaluate expressions against the configuration and state, one per line.
    Console {
        #[command(flatten)]
        vars: VarArgs,
    },
    /// Show the providers the configuration requires, or (`providers schema -json`) their schemas.
    Providers {
        #[command(subcommand)]
        command: Option<ProvidersCommand>,
    },
    /// Inspect and change the state.
    State {
        #[command(subcommand)]
        command: StateCommand,
    },
    /// Manage workspaces.
    Workspace {
        #[command(subcommand)]
        command: WorkspaceCommand,
    },
    /// Mark an instance so the next plan replaces it.
    Taint(TaintArgs),
    /// Take the taint mark off an instance.
    Untaint(TaintArgs),
    /// Check environments for changes made outside of Strata: a refresh-only plan in each
    /// directory (and each `-workspace`), one report. Exit 0 in sync, 2 drifted, 1 on error.
    Drift(DriftArgs),
    /// Update the state from the real objects (as `apply -refresh-only -auto-approve`).
    Refresh(OperationArgs),
    /// Remove a stuck state lock.
    #[command(name = "force-unlock")]
    ForceUnlock {
        #[arg(long)]
        force: bool,
        lock_id: String,
    },
    /// Bring an existing object under management.
    Import(ImportArgs),
    /// Print the version.
    Version {
        #[arg(long)]
        json: bool,
    },
}

impl Command {
    /// The planning flags of `plan`, `apply`, `destroy` and `refresh` (`-json`,
    /// `-compact-warnings` decide how the whole command prints).
    pub fn operation(&self) -> Option<&OperationArgs> {
        match self {
            Command::Plan(args) => Some(&args.operation),
            Command::Apply(args) => Some(&args.operation),
            Command::Destroy(args) => Some(&args.operation),
            Command::Refresh(args) => Some(args),
            _ => None,
        }
    }
}

/// `strata init`'s flags.
#[derive(Args, Debug)]
pub struct InitArgs {
    /// Backend setting `key=value`, or a file of them.
    #[arg(long = "backend-config", value_name = "KEY=VALUE|FILE", action = ArgAction::Append)]
    pub backend_config: Vec<String>,
    /// Copy existing state to the newly configured backend.
    #[arg(long = "migrate-state")]
    pub migrate_state: bool,
    /// Forget the previous backend settings without migrating.
    #[arg(long)]
    pub reconfigure: bool,
    #[arg(long, value_parser = parse_bool, num_args = 0..=1, require_equals = true, default_value = "true", default_missing_value = "true")]
    pub input: bool,
    /// Configure the backend (`-backend=false` checks the configuration and providers only).
    #[arg(long, value_parser = parse_bool, num_args = 0..=1, require_equals = true, default_value = "true", default_missing_value = "true")]
    pub backend: bool,
    /// Reinstall every module and select the newest provider versions the constraints
    /// allow, ignoring the versions the lock file selected.
    #[arg(long)]
    pub upgrade: bool,
    /// Install the modules the configuration calls (`-get=false` skips it).
    #[arg(long, value_parser = parse_bool, num_args = 0..=1, require_equals = true, default_value = "true", default_missing_value = "true")]
    pub get: bool,
    /// `readonly`: check `.terraform.lock.hcl` against the selections, never write it.
    #[arg(long, value_name = "MODE")]
    pub lockfile: Option<String>,
    /// Install providers only from this directory (a filesystem mirror; repeatable),
    /// instead of the CLI configuration's installation methods.
    #[arg(long = "plugin-dir", value_name = "DIR", action = ArgAction::Append)]
    pub plugin_dir: Vec<PathBuf>,
    #[command(flatten)]
    pub lock: LockArgs,
}

/// `strata fmt`'s flags.
#[derive(Args, Debug)]
pub struct FmtArgs {
    /// Exit with status 3 when a file is not formatted, and change nothing.
    #[arg(long)]
    pub check: bool,
    /// Print the differences.
    #[arg(long)]
    pub diff: bool,
    /// Also process subdirectories.
    #[arg(long)]
    pub recursive: bool,
    /// List the files whose formatting differs.
    #[arg(long, value_parser = parse_bool, num_args = 0..=1, require_equals = true, default_value = "true", default_missing_value = "true")]
    pub list: bool,
    /// Write the result back to the files.
    #[arg(long, value_parser = parse_bool, num_args = 0..=1, require_equals = true, default_value = "true", default_missing_value = "true")]
    pub write: bool,
    pub paths: Vec<PathBuf>,
}

/// `strata plan`'s flags.
#[derive(Args, Debug)]
pub struct PlanArgs {
    #[command(flatten)]
    pub operation: OperationArgs,
    /// Save the plan to a file, for `strata apply FILE`.
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
    /// Plan to destroy everything.
    #[arg(long)]
    pub destroy: bool,
    /// Exit 0 with no changes, 1 on error, 2 with changes.
    #[arg(long = "detailed-exitcode")]
    pub detailed_exitcode: bool,
    /// Also write a Markdown summary (for pull-request comments) to FILE.
    #[arg(long = "markdown", value_name = "FILE")]
    pub markdown: Option<PathBuf>,
    /// The most characters the Markdown summary may have (GitHub's comment limit).
    #[arg(long = "markdown-limit", value_name = "N", default_value_t = crate::ui::DEFAULT_MARKDOWN_LIMIT)]
    pub markdown_limit: usize,
}

/// `strata apply`'s flags.
#[derive(Args, Debug)]
pub struct ApplyArgs {
    #[command(flatten)]
    pub operation: OperationArgs,
    /// Skip the approval prompt.
    #[arg(long = "auto-approve")]
    pub auto_approve: bool,
    /// Destroy everything (as `strata destroy`).
    #[arg(long)]
    pub destroy: bool,
    /// A plan saved with `plan -out`.
    pub plan_file: Option<PathBuf>,
}

/// `strata destroy`'s flags.
#[derive(Args, Debug)]
pub struct DestroyArgs {
    #[command(flatten)]
    pub operation: OperationArgs,
    #[arg(long = "auto-approve")]
    pub auto_approve: bool,
}

/// `strata show`'s flags.
#[derive(Args, Debug)]
pub struct ShowArgs {
    #[arg(long)]
    pub json: bool,
    /// A saved plan's Markdown summary (for pull-request comments).
    #[arg(long, conflicts_with = "json", requires = "path")]
    pub markdown: bool,
    /// The most characters the Markdown summary may have (GitHub's comment limit).
    #[arg(long = "markdown-limit", value_name = "N", default_value_t = crate::ui::DEFAULT_MARKDOWN_LIMIT)]
    pub markdown_limit: usize,
    pub path: Option<PathBuf>,
}

/// `strata output`'s flags.
#[derive(Args, Debug)]
pub struct OutputArgs {
    #[arg(long)]
    pub json: bool,
    /// Print a string output as it is, without quotes.
    #[arg(long)]
    pub raw: bool,
    pub name: Option<String>,
}

/// `strata taint`'s and `strata untaint`'s flags.
#[derive(Args, Debug)]
pub struct TaintArgs {
    #[command(flatten)]
    pub lock: LockArgs,
    /// Succeed (with a warning) when the instance is not in the state.
    #[arg(long = "allow-missing")]
    pub allow_missing: bool,
    pub address: String,
}

/// `strata drift`'s flags.
#[derive(Args, Debug)]
pub struct DriftArgs {
    /// Check this workspace in every directory (repeatable; default: each one's current).
    #[arg(long = "workspace", value_name = "NAME", action = ArgAction::Append)]
    pub workspaces: Vec<String>,
    /// Write the report as Markdown to FILE.
    #[arg(long = "markdown", value_name = "FILE")]
    pub markdown: Option<PathBuf>,
    /// Write the report as JSON to FILE.
    #[arg(long = "json-report", value_name = "FILE")]
    pub json_report: Option<PathBuf>,
    #[command(flatten)]
    pub lock: LockArgs,
    /// The environments' directories (default: the working directory).
    pub dirs: Vec<PathBuf>,
}

/// `strata import`'s flags.
#[derive(Args, Debug)]
pub struct ImportArgs {
    #[command(flatten)]
    pub vars: VarArgs,
    #[command(flatten)]
    pub lock: LockArgs,
    pub address: String,
    pub id: String,
}

#[derive(Subcommand, Debug)]
pub enum ProvidersCommand {
    /// Print the schemas of the providers the configuration uses, in Terraform's JSON format.
    Schema {
        #[arg(long)]
        json: bool,
    },
    /// Add the checksums of every provider's package for each platform to the lock file.
    Lock {
        /// A platform to lock for, like `linux_amd64` (repeatable; default: this one).
        #[arg(long = "platform", value_name = "OS_ARCH", action = ArgAction::Append)]
        platforms: Vec<String>,
        /// Fetch the packages from this filesystem mirror instead of their registries.
        #[arg(long = "fs-mirror", value_name = "DIR")]
        fs_mirror: Option<PathBuf>,
        /// Fetch the packages from this network mirror instead of their registries.
        #[arg(long = "net-mirror", value_name = "URL")]
        net_mirror: Option<String>,
        /// Only these providers (`hashicorp/aws`).
        providers: Vec<String>,
    },
    /// Copy every provider's package into a directory laid out as a provider mirror.
    Mirror {
        /// A platform to mirror, like `linux_amd64` (repeatable; default: this one).
        #[arg(long = "platform", value_name = "OS_ARCH", action = ArgAction::Append)]
        platforms: Vec<String>,
        target_dir: PathBuf,
    },
}

#[derive(Subcommand, Debug)]
pub enum StateCommand {
    /// List the resource instances in the state.
    List { addresses: Vec<String> },
    /// Show one instance's attributes.
    Show { address: String },
    /// Forget instances (the objects are not destroyed).
    Rm {
        #[command(flatten)]
        lock: LockArgs,
        #[arg(required = true)]
        addresses: Vec<String>,
    },
    /// Rename an instance in the state.
    Mv {
        #[command(flatten)]
        lock: LockArgs,
        source: String,
        destination: String,
    },
    /// Print the raw state.
    Pull,
    /// Replace the stored state with a file's.
    Push {
        #[arg(long)]
        force: bool,
        path: PathBuf,
    },
}

#[derive(Subcommand, Debug)]
pub enum WorkspaceCommand {
    List,
    Show,
    New {
        name: String,
    },
    Select {
        /// Create the workspace when it does not exist yet.
        #[arg(long = "or-create", value_parser = parse_bool, num_args = 0..=1, require_equals = true, default_value = "false", default_missing_value = "true")]
        or_create: bool,
        name: String,
    },
    Delete {
        #[arg(long)]
        force: bool,
        name: String,
    },
}

#[cfg(test)]
mod env_args_tests {
    use super::with_env_args;

    fn args(text: &str) -> Vec<String> {
        text.split(' ').map(str::to_string).collect()
    }

    #[test]
    fn tf_cli_args_go_after_the_command() {
        let env = |name: &str| match name {
            "TF_CLI_ARGS" => Some("-no-color".to_string()),
            "TF_CLI_ARGS_plan" => Some("-lock-timeout=10m  -parallelism=4".to_string()),
            _ => None,
        };
        assert_eq!(
            with_env_args(args("strata -chdir=env plan -out=p"), env),
            args("strata -chdir=env plan -no-color -lock-timeout=10m -parallelism=4 -out=p")
        );
        assert_eq!(
            with_env_args(args("strata apply p"), env),
            args("strata apply -no-color p")
        );
        assert_eq!(with_env_args(args("strata"), env), args("strata"));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn var_and_var_file_keep_their_command_line_order() {
        let words = "strata plan -var-file=a.tfvars -var x=1 -var-file b.tfvars -var=y=2";
        let cli = parse(normalize(words.split(' ').map(String::from))).unwrap();
        assert_eq!(
            cli.var_sources,
            vec![
                VarSource::File("a.tfvars".into()),
                VarSource::Flag("x=1".into()),
                VarSource::File("b.tfvars".into()),
                VarSource::Flag("y=2".into()),
            ]
        );
        let cli = parse(normalize(["strata", "graph"].map(String::from))).unwrap();
        assert!(cli.var_sources.is_empty());
    }

    #[test]
    fn single_dash_flags_become_long() {
        let args = normalize(
            [
                "strata",
                "plan",
                "-var=a=1",
                "-auto-approve",
                "-",
                "-h",
                "x",
            ]
            .map(String::from),
        );
        assert_eq!(
            args,
            vec![
                "strata",
                "plan",
                "--var=a=1",
                "--auto-approve",
                "-",
                "-h",
                "x"
            ]
        );
    }

    #[test]
    fn parses_terraform_style_flags() {
        let cli = Cli::try_parse_from(normalize(
            [
                "strata",
                "plan",
                "-var",
                "a=1",
                "-refresh=false",
                "-target=aws_vpc.main",
                "-out=p.plan",
                "-no-color",
            ]
            .map(String::from),
        ))
        .unwrap();
        assert!(cli.no_color);
        match cli.command {
            Command::Plan(plan) => {
                assert_eq!(plan.operation.vars.vars, vec!["a=1"]);
                assert!(!plan.operation.refresh);
                assert_eq!(plan.operation.targets, vec!["aws_vpc.main"]);
                assert_eq!(plan.out, Some(PathBuf::from("p.plan")));
            }
            other => panic!("parsed as {other:?}"),
        }
    }
}
