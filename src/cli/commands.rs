//! The commands that read the configuration: init, validate, fmt, plan, apply, destroy, show,
//! output, graph, import.

use super::args::{LockArgs, PlanArgs, VarArgs};
use super::{backend, Context, Reported};
use crate::addrs::{ResourceInstance, Target};
use crate::config::variables::{resolve_root_variables_with_warnings, VarSource};
use crate::config::ModuleTree;
use crate::diagnostics::SourceMap;
use crate::engine::{Engine, RunOptions};
use crate::plan::file::{config_fingerprint, PlanFile};
use crate::plan::{Plan, PlanMode};
use crate::providers::Registry;
use crate::state::backend::{Backend, LockGuard, LockInfo};
use crate::state::format::{read_state, write_state};
use crate::state::State;
use crate::ui::{self, ProgressPrinter};
use crate::value::Value;
use anyhow::{anyhow, bail};
use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

/// The state's instances decoded per the built-in providers' schemas, so that Terraform's
/// encoding of dynamic attributes reads as values and is written back in the same form.
pub(super) fn with_schemas(mut state: State) -> State {
    state.attach_schemas(state_schemas(&Registry::builtin()));
    state
}

/// The resource schemas of every provider of `registry`, as the state encodes instances.
pub(super) fn state_schemas(registry: &Registry) -> Arc<crate::state::StateSchemas> {
    let _phase = crate::timings::phase("schema building (state)");
    let mut schemas = crate::state::StateSchemas::new();
    for name in registry.names() {
        if let Some(registered) = registry.get(name) {
            schemas.insert_provider(&registered.source, &(registered.factory)().schema());
        }
    }
    Arc::new(schemas)
}

/// A workspace's state with the built-in providers' schemas attached ([`with_schemas`]).
pub(super) async fn load_state(
    backend: &dyn Backend,
    workspace: &str,
) -> Result<State, crate::state::StateError> {
    backend.load(workspace).await.map(with_schemas)
}

/// Loads the module tree, printing diagnostics on failure.
pub fn load_config(context: &Context, sources: &mut SourceMap) -> anyhow::Result<ModuleTree> {
    match crate::config::load::load_tree(&context.dir, sources) {
        Ok(tree) => {
            context.print_diagnostics(&tree.warnings(), sources);
            Ok(tree)
        }
        Err(diagnostics) => {
            context.print_diagnostics(&diagnostics, sources);
            Err(Reported.into())
        }
    }
}

fn env_vars() -> Vec<(String, String)> {
    std::env::vars()
        .filter(|(k, _)| k.starts_with("TF_VAR_") || k.starts_with("STRATA_VAR_"))
        .collect()
}

/// The root variable values from files, flags and the environment (prompting for missing
/// required ones on a terminal).
pub fn load_variables(
    context: &Context,
    tree: &ModuleTree,
    sources: &mut SourceMap,
    vars: &VarArgs,
    input: bool,
) -> anyhow::Result<BTreeMap<String, Value>> {
    let mut cli: Vec<VarSource> = Vec::new();
    // Terraform applies -var and -var-file in command-line order; clap keeps each list's order,
    // and recovering the interleaving needs the raw argv.
    let argv: Vec<String> = super::args::process_args();
    let mut files = vars.var_files.iter();
    let mut flags = vars.vars.iter();
    let mut iter = argv.iter().peekable();
    while let Some(arg) = iter.next() {
        if arg == "--var-file" || arg.starts_with("--var-file=") {
            if arg == "--var-file" {
                iter.next();
            }
            if let Some(file) = files.next() {
                cli.push(VarSource::File(file.clone()));
            }
        } else if arg == "--var" || arg.starts_with("--var=") {
            if arg == "--var" {
                iter.next();
            }
            if let Some(flag) = flags.next() {
                cli.push(VarSource::Flag(flag.clone()));
            }
        }
    }
    cli.extend(files.map(|f| VarSource::File(f.clone())));
    cli.extend(flags.map(|f| VarSource::Flag(f.clone())));
    if input && context.interactive {
        prompt_missing(tree, &mut cli);
    }
    match resolve_root_variables_with_warnings(
        &tree.module,
        &context.dir,
        &cli,
        &env_vars(),
        sources,
    ) {
        Ok((values, warnings)) => {
            context.print_diagnostics(&warnings, sources);
            Ok(values)
        }
        Err(diagnostics) => {
            context.print_diagnostics(&diagnostics, sources);
            Err(Reported.into())
        }
    }
}

/// Asks on the terminal for required variables that no source sets.
fn prompt_missing(tree: &ModuleTree, cli: &mut Vec<VarSource>) {
    let env = env_vars();
    for (name, variable) in &tree.module.variables {
        if variable.default.is_some() {
            continue;
        }
        let given_by_flag = cli.iter().any(|s| matches!(s, VarSource::Flag(f) if f.split_once('=').is_some_and(|(n, _)| n.trim() == name)));
        let given_by_env = env
            .iter()
            .any(|(k, _)| k == &format!("TF_VAR_{name}") || k == &format!("STRATA_VAR_{name}"));
        let in_files =
            !cli.iter().all(|s| matches!(s, VarSource::Flag(_))) || has_tfvars(&tree.module.dir);
        if given_by_flag || given_by_env || in_files {
            continue;
        }
        eprintln!("var.{name}");
        if let Some(description) = &variable.description {
            eprintln!("  {description}");
        }
        eprint!("\n  Enter a value: ");
        let _ = std::io::stderr().flush();
        let mut line = String::new();
        if std::io::stdin().read_line(&mut line).is_ok() {
            cli.push(VarSource::Flag(format!(
                "{name}={}",
                line.trim_end_matches(['\n', '\r'])
            )));
        }
        eprintln!();
    }
}

fn has_tfvars(dir: &Path) -> bool {
    std::fs::read_dir(dir)
        .map(|entries| {
            entries.flatten().any(|e| {
                let name = e.file_name().to_string_lossy().to_string();
                name == "terraform.tfvars"
                    || name == "terraform.tfvars.json"
                    || name.ends_with(".auto.tfvars")
                    || name.ends_with(".auto.tfvars.json")
            })
        })
        .unwrap_or(false)
}

fn parse_lock_timeout(lock: &LockArgs) -> anyhow::Result<Duration> {
    if lock.lock_timeout == "0" {
        return Ok(Duration::ZERO);
    }
    crate::engine::parse_duration(&lock.lock_timeout).ok_or_else(|| {
        anyhow!(
            "invalid -lock-timeout `{}`: use a duration such as 30s or 5m",
            lock.lock_timeout
        )
    })
}

/// Takes the workspace's lock (unless `-lock=false`), telling the user while it waits.
pub async fn take_lock(
    context: &Context,
    backend: &dyn Backend,
    workspace: &str,
    operation: &str,
    lock: &LockArgs,
) -> anyhow::Result<Option<LockGuard>> {
    if !lock.lock {
        return Ok(None);
    }
    let timeout = parse_lock_timeout(lock)?;
    let style = context.style;
    let on_wait = move |holder: &LockInfo| {
        eprintln!(
            "{}",
            style.yellow(&format!(
                "Acquiring state lock: held by {} ({}, since {}; lock ID {}). Waiting up to {}...",
                holder.who,
                holder.operation,
                holder.created,
                holder.id,
                crate::ui::format_elapsed(timeout)
            ))
        );
    };
    match backend.lock(workspace, operation, timeout, &on_wait).await {
        Ok(guard) => {
            if let Some(dead) = guard.taken_over() {
                eprintln!(
                    "{}",
                    style.yellow(&format!(
                        "Took over the state lock left by {} ({}, since {}; lock ID {}): its process is gone.",
                        dead.who, dead.operation, dead.created, dead.id
                    ))
                );
            }
            Ok(Some(guard))
        }
        Err(error) => {
            eprintln!(
                "{}",
                context.style.red("Error: Error acquiring the state lock")
            );
            eprintln!("\n{error}\n\nStrata acquires a state lock to protect the state from being written by\nmultiple users at the same time. Wait for the other run to finish, retry with\n-lock-timeout=DURATION to wait for it, or, if the holder is gone, remove the lock\nwith `strata force-unlock ID`.");
            Err(Reported.into())
        }
    }
}

async fn release(lock: Option<LockGuard>) {
    if let Some(lock) = lock {
        if let Err(error) = lock.release().await {
            eprintln!("Error releasing the state lock: {error}");
        }
    }
}

pub async fn current_workspace(context: &Context) -> anyhow::Result<String> {
    crate::state::workspace::current_workspace(&context.dir).map_err(|e| anyhow!("{e}"))
}

fn run_options(
    context: &Context,
    args: &PlanArgs,
    workspace: &str,
    mode: PlanMode,
) -> anyhow::Result<RunOptions> {
    let targets = args
        .targets
        .iter()
        .map(|t| Target::parse(t).map_err(|e| anyhow!("Invalid target address: {e}")))
        .collect::<anyhow::Result<Vec<_>>>()?;
    let replace = args
        .replace
        .iter()
        .map(|t| ResourceInstance::parse(t).map_err(|e| anyhow!("Invalid replace address: {e}")))
        .collect::<anyhow::Result<Vec<_>>>()?;
    Ok(RunOptions {
        workspace: workspace.to_string(),
        parallelism: args.parallelism.max(1),
        refresh: args.refresh,
        targets,
        replace,
        mode: if args.refresh_only {
            PlanMode::RefreshOnly
        } else {
            mode
        },
        cwd: std::env::current_dir().unwrap_or_else(|_| context.dir.clone()),
    })
}

/// The providers of one command: built in, or plugins `init` installed (started here to read
/// their schemas, and kept for the whole command).
async fn command_registry(context: &Context, tree: &ModuleTree) -> anyhow::Result<Registry> {
    Registry::for_configuration(tree, &context.dir)
        .await
        .map_err(|error| anyhow!("{error}"))
}

async fn engine(
    context: &Context,
    tree: ModuleTree,
    sources: &SourceMap,
    options: RunOptions,
    variables: BTreeMap<String, Value>,
) -> anyhow::Result<Engine> {
    let registry = command_registry(context, &tree).await?;
    match Engine::new(tree, registry, options, variables) {
        Ok(engine) if context.json => {
            let lines = ui::JsonLines::new(Box::new(std::io::stdout()));
            lines.version();
            Ok(engine.with_events(Arc::new(lines)))
        }
        Ok(engine) => Ok(engine.with_events(Arc::new(ProgressPrinter::new(
            context.style,
            Box::new(std::io::stdout()),
        )))),
        Err(diagnostics) => {
            context.print_diagnostics(&diagnostics, sources);
            Err(Reported.into())
        }
    }
}

fn module_dirs(tree: &ModuleTree) -> Vec<PathBuf> {
    let mut dirs = vec![tree.module.dir.clone()];
    for child in tree.children.values() {
        dirs.extend(module_dirs(child));
    }
    dirs
}

/// Ctrl-C: once, start nothing new and let running operations finish; twice, stop now.
fn handle_interrupts(cancelled: Arc<std::sync::atomic::AtomicBool>) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        if tokio::signal::ctrl_c().await.is_ok() {
            cancelled.store(true, Ordering::SeqCst);
            eprintln!("\nInterrupt received.\nPlease wait for Strata to exit or data loss may occur.\nGracefully shutting down...");
            if tokio::signal::ctrl_c().await.is_ok() {
                eprintln!("\nTwo interrupts received. Exiting immediately. Every operation that finished is recorded in the state journal.");
                std::process::exit(130);
            }
        }
    })
}

pub async fn init(
    context: &Context,
    backend_config: &[String],
    migrate_state: bool,
    reconfigure: bool,
    configure_backend: bool,
    provider_flags: &super::init_providers::ProviderFlags,
) -> anyhow::Result<u8> {
    let mut sources = SourceMap::new();
    let tree = load_config(context, &mut sources)?;
    if !configure_backend {
        println!("{}", context.style.bold("Initializing provider plugins..."));
        super::init_providers::init_providers(context, &tree, &mut sources, provider_flags).await?;
        println!(
            "\n{}",
            context.style.green(&context.style.bold(
                "Strata has been successfully initialized! (backend not configured: -backend=false)"
            ))
        );
        return Ok(0);
    }
    let settings = backend::configured_settings(&tree, backend_config, &context.dir)?;
    // Without recorded settings, the directory used the local backend: it counts as the
    // previous backend when it holds state.
    let previous = match backend::read_settings(&context.dir)? {
        Some(recorded) => Some(recorded),
        None if local_state_exists(&context.dir) => Some(backend::BackendSettings {
            backend_type: "local".into(),
            settings: BTreeMap::new(),
        }),
        None => None,
    };
    println!("{}", context.style.bold("Initializing the backend..."));
    if let Some(previous) = previous.as_ref().filter(|p| **p != settings) {
        if migrate_state {
            // Both sides with the configured state encryption (its fallbacks read either form).
            let sealer = backend::encryption(context, Some(&tree))?.state;
            let from = backend::open_settings_sealed(context, previous, sealer.clone()).await?;
            let to = backend::open_settings_sealed(context, &settings, sealer).await?;
            for workspace in from.workspaces().await.map_err(|e| anyhow!("{e}"))? {
                if let Some(text) = from.pull(&workspace).await.map_err(|e| anyhow!("{e}"))? {
                    if workspace != "default"
                        && !to
                            .workspaces()
                            .await
                            .map_err(|e| anyhow!("{e}"))?
                            .contains(&workspace)
                    {
                        to.create_workspace(&workspace)
                            .await
                            .map_err(|e| anyhow!("{e}"))?;
                    }
                    to.push(&workspace, &text, false)
                        .await
                        .map_err(|e| anyhow!("migrating workspace {workspace}: {e}"))?;
                    println!(
                        "Copied the state of workspace \"{workspace}\" from \"{}\" to \"{}\".",
                        previous.backend_type, settings.backend_type
                    );
                }
            }
        } else if !reconfigure {
            bail!("Backend configuration changed. Run `strata init -migrate-state` to copy existing state to the new backend, or `strata init -reconfigure` to use the new settings without copying.");
        }
    }
    // Check the backend answers before recording it.
    let backend = backend::open_settings(context, &settings).await?;
    backend.workspaces().await.map_err(|e| {
        anyhow!(
            "the {} backend is not reachable: {e}",
            settings.backend_type
        )
    })?;
    backend::write_settings(&context.dir, &settings)?;
    println!(
        "Successfully configured the backend \"{}\"!\n",
        settings.backend_type
    );
    println!("{}", context.style.bold("Initializing provider plugins..."));
    super::init_providers::init_providers(context, &tree, &mut sources, provider_flags).await?;
    println!(
        "\n{}",
        context.style.green(
            &context
                .style
                .bold("Strata has been successfully initialized!")
        )
    );
    Ok(0)
}

fn local_state_exists(dir: &Path) -> bool {
    dir.join("terraform.tfstate").exists() || dir.join("terraform.tfstate.d").is_dir()
}

pub async fn validate(context: &Context, json: bool) -> anyhow::Result<u8> {
    let mut sources = SourceMap::new();
    let result = crate::config::load::load_tree(&context.dir, &mut sources);
    let diagnostics = match result {
        Err(diagnostics) => diagnostics,
        Ok(tree) => {
            let registry = command_registry(context, &tree).await?;
            match Engine::new(tree, registry, RunOptions::default(), BTreeMap::new()) {
                Err(diagnostics) => diagnostics,
                Ok(engine) => {
                    let diagnostics = engine.validate().await;
                    engine.registry.close().await;
                    diagnostics
                }
            }
        }
    };
    let errors = diagnostics.iter().filter(|d| d.is_error()).count();
    if json {
        let value = serde_json::json!({
            "format_version": "1.0",
            "valid": errors == 0,
            "error_count": errors,
            "warning_count": diagnostics.len() - errors,
            "diagnostics": diagnostics,
        });
        println!("{}", serde_json::to_string_pretty(&value)?);
    } else if errors == 0 {
        context.print_diagnostics(&diagnostics, &sources);
        println!(
            "{}",
            context
                .style
                .green(&context.style.bold("Success! The configuration is valid."))
        );
    } else {
        context.print_diagnostics(&diagnostics, &sources);
    }
    Ok(if errors == 0 { 0 } else { 1 })
}

pub fn fmt(
    context: &Context,
    check: bool,
    diff: bool,
    recursive: bool,
    list: bool,
    write: bool,
    paths: &[PathBuf],
) -> anyhow::Result<u8> {
    let paths: Vec<PathBuf> = if paths.is_empty() {
        vec![context.dir.clone()]
    } else {
        paths.to_vec()
    };
    let options = crate::fmt::FmtOptions {
        check,
        diff,
        recursive,
        list,
        write: write && !check,
    };
    let report = crate::fmt::format_paths(&paths, options).map_err(|e| anyhow!("{e}"))?;
    print!("{}", report.output);
    for error in &report.errors {
        eprintln!("{}", context.style.red(&format!("Error: {error}")));
    }
    if !report.errors.is_empty() {
        // As terraform fmt: 2 when a file could not be parsed.
        return Ok(2);
    }
    Ok(if check && !report.changed.is_empty() {
        3
    } else {
        0
    })
}

/// Loads everything a plan needs and makes it.
async fn make_plan(
    context: &Context,
    args: &PlanArgs,
    mode: PlanMode,
    operation: &str,
) -> anyhow::Result<(
    Engine,
    SourceMap,
    Box<dyn Backend>,
    String,
    Option<LockGuard>,
    crate::engine::PlanOutcome,
    State,
)> {
    let mut sources = SourceMap::new();
    let tree = load_config(context, &mut sources)?;
    let variables = load_variables(context, &tree, &mut sources, &args.vars, args.input)?;
    let backend = backend::open(context, Some(&tree)).await?;
    let workspace = current_workspace(context).await?;
    let options = run_options(context, args, &workspace, mode)?;
    let engine = engine(context, tree, &sources, options, variables).await?;
    let lock = take_lock(context, backend.as_ref(), &workspace, operation, &args.lock).await?;
    let state = match load_state(backend.as_ref(), &workspace).await {
        Ok(state) => state,
        Err(error) => {
            release(lock).await;
            bail!("{error}");
        }
    };
    match engine.plan(&state).await {
        Ok(outcome) => {
            context.print_diagnostics(&outcome.warnings, &sources);
            Ok((engine, sources, backend, workspace, lock, outcome, state))
        }
        Err(diagnostics) => {
            release(lock).await;
            context.print_diagnostics(&diagnostics, &sources);
            Err(Reported.into())
        }
    }
}

pub async fn plan(
    context: &Context,
    args: &PlanArgs,
    out: Option<&Path>,
    destroy: bool,
    detailed_exitcode: bool,
    markdown: Option<(&Path, usize)>,
) -> anyhow::Result<u8> {
    let mode = if destroy {
        PlanMode::Destroy
    } else {
        PlanMode::Normal
    };
    let (engine, _sources, _backend, _workspace, lock, outcome, _state) =
        make_plan(context, args, mode, "OperationTypePlan").await?;
    release(lock).await;
    engine.registry.close().await;
    let plan = &outcome.plan;
    let schemas = ui::Schemas::from_registry(&engine.registry);
    if args.json {
        ui::JsonLines::new(Box::new(std::io::stdout())).plan(plan);
    } else {
        print!("{}", ui::render_plan(plan, context.style, &schemas));
    }
    if let Some((path, limit)) = markdown {
        let options = ui::MarkdownOptions {
            limit,
            whole_plan_command: match out {
                Some(out) => format!("strata show {}", out.display()),
                None => "strata plan".to_string(),
            },
        };
        std::fs::write(path, ui::render_markdown(plan, &schemas, &options))
            .map_err(|e| anyhow!("writing {}: {e}", path.display()))?;
    }
    if let Some(path) = out {
        let dirs = module_dirs(&engine.tree);
        let file = PlanFile {
            kind: PlanFile::KIND.to_string(),
            plan: plan.clone(),
            prior_state: write_state(&outcome.refreshed).map_err(|e| anyhow!("{e}"))?,
            config_fingerprint: config_fingerprint(dirs.iter().map(PathBuf::as_path)),
        };
        let encryption = backend::encryption(context, Some(&engine.tree))?;
        file.write_sealed(path, &encryption.plan)?;
        if !args.json {
            println!("\nSaved the plan to: {}\n\nTo perform exactly these actions, run the following command to apply:\n    strata apply \"{}\"", path.display(), path.display());
        }
    } else if !args.json && plan.has_changes() {
        println!("\nNote: You didn't use the -out option to save this plan, so Strata can't\nguarantee to take exactly these actions if you run \"strata apply\" now.");
    }
    Ok(if detailed_exitcode && plan.has_changes() {
        2
    } else {
        0
    })
}

fn confirm(context: &Context, destroy: bool) -> anyhow::Result<bool> {
    if !context.interactive {
        bail!("Apply needs approval: run with -auto-approve in a non-interactive session, or apply a saved plan.");
    }
    if destroy {
        println!("\n{}\n  Strata will destroy all your managed infrastructure, as shown above.\n  There is no undo. Only 'yes' will be accepted to confirm.\n", context.style.bold("Do you really want to destroy all resources?"));
    } else {
        println!("\n{}\n  Strata will perform the actions described above.\n  Only 'yes' will be accepted to approve.\n", context.style.bold("Do you want to perform these actions?"));
    }
    print!("  Enter a value: ");
    std::io::stdout().flush()?;
    let mut line = String::new();
    std::io::stdin().read_line(&mut line)?;
    println!();
    Ok(line.trim() == "yes")
}

pub async fn apply(
    context: &Context,
    args: &PlanArgs,
    auto_approve: bool,
    destroy: bool,
) -> anyhow::Result<u8> {
    let mode = if destroy {
        PlanMode::Destroy
    } else {
        PlanMode::Normal
    };
    let operation = if destroy {
        "OperationTypeDestroy"
    } else {
        "OperationTypeApply"
    };
    if context.json && !auto_approve {
        bail!("Plan approval needed: -json cannot ask for approval; add -auto-approve, or apply a saved plan.");
    }
    let (engine, sources, backend, workspace, lock, outcome, state) =
        make_plan(context, args, mode, operation).await?;
    let plan = outcome.plan.clone();
    if context.json {
        ui::JsonLines::new(Box::new(std::io::stdout())).plan(&plan);
    } else {
        print!(
            "{}",
            ui::render_plan(
                &plan,
                context.style,
                &ui::Schemas::from_registry(&engine.registry)
            )
        );
    }
    if !plan.has_changes() && plan.mode != PlanMode::RefreshOnly {
        release(lock).await;
        engine.registry.close().await;
        return Ok(0);
    }
    if !auto_approve && !confirm(context, destroy)? {
        release(lock).await;
        println!(
            "{}",
            if destroy {
                "Destroy cancelled."
            } else {
                "Apply cancelled."
            }
        );
        return Ok(1);
    }
    let code = run_apply(
        context,
        &engine,
        &sources,
        backend.as_ref(),
        &workspace,
        &plan,
        outcome.refreshed,
        &state,
    )
    .await;
    release(lock).await;
    code
}

#[allow(clippy::too_many_arguments)]
async fn run_apply(
    context: &Context,
    engine: &Engine,
    sources: &SourceMap,
    backend: &dyn Backend,
    workspace: &str,
    plan: &Plan,
    refreshed: State,
    base: &State,
) -> anyhow::Result<u8> {
    let writer = backend
        .writer(workspace, base)
        .await
        .map_err(|e| anyhow!("{e}"))?;
    let interrupts = handle_interrupts(engine.cancelled.clone());
    let outcome = engine.apply(plan, refreshed, writer).await;
    interrupts.abort();
    engine.registry.close().await;
    context.print_diagnostics(&outcome.diagnostics, sources);
    if outcome.diagnostics.has_errors() {
        return Ok(1);
    }
    if engine.cancelled.load(Ordering::SeqCst) {
        eprintln!("Apply interrupted: every operation that finished is saved in the state.");
        return Ok(1);
    }
    if context.json {
        let lines = ui::JsonLines::new(Box::new(std::io::stdout()));
        lines.summary(plan, "apply");
        if plan.mode != PlanMode::Destroy {
            lines.outputs(&outcome.state.outputs);
        }
        return Ok(0);
    }
    println!("\n{}", ui::render_apply_summary(plan, context.style));
    if !outcome.state.outputs.is_empty() && plan.mode != PlanMode::Destroy {
        println!("\n{}\n", context.style.bold("Outputs:"));
        print!("{}", ui::render_outputs(&outcome.state.outputs));
    }
    Ok(0)
}

pub async fn apply_saved(context: &Context, args: &PlanArgs, path: &Path) -> anyhow::Result<u8> {
    let mut sources = SourceMap::new();
    let tree = load_config(context, &mut sources)?;
    let file = PlanFile::read_sealed(path, &backend::encryption(context, Some(&tree))?.plan)?;
    let dirs = module_dirs(&tree);
    if config_fingerprint(dirs.iter().map(PathBuf::as_path)) != file.config_fingerprint {
        bail!(
            "Saved plan `{}` does not match the configuration: the .tf files changed since the plan was made. Run `strata plan -out={}` again.",
            path.display(),
            path.display()
        );
    }
    let backend = backend::open(context, Some(&tree)).await?;
    let workspace = current_workspace(context).await?;
    if workspace != file.plan.workspace {
        bail!(
            "Saved plan `{}` is for workspace \"{}\", but the current workspace is \"{workspace}\". Run `strata workspace select {}` to apply it, or make a plan for this workspace.",
            path.display(),
            file.plan.workspace,
            file.plan.workspace
        );
    }
    let mut options = run_options(context, args, &workspace, file.plan.mode)?;
    options.targets = file
        .plan
        .targets
        .iter()
        .filter_map(|t| Target::parse(t).ok())
        .collect();
    let engine = engine(
        context,
        tree,
        &sources,
        options,
        file.plan.variables.clone(),
    )
    .await?;
    let lock = take_lock(
        context,
        backend.as_ref(),
        &workspace,
        "OperationTypeApply",
        &args.lock,
    )
    .await?;
    let state = match load_state(backend.as_ref(), &workspace).await {
        Ok(state) => state,
        Err(error) => {
            release(lock).await;
            bail!("{error}");
        }
    };
    let refreshed =
        match read_state(&file.prior_state, &path.display().to_string()).map(with_schemas) {
            Ok(refreshed) => refreshed,
            Err(error) => {
                release(lock).await;
                bail!("{error}");
            }
        };
    // A workspace with no state yet gets a new lineage on every load: a plan made against
    // "nothing" still applies to "nothing".
    let nothing_stored =
        state.serial == 0 && state.resources.is_empty() && state.outputs.is_empty();
    let state = if nothing_stored && file.plan.prior_serial == 0 {
        refreshed.clone()
    } else {
        state
    };
    if state.lineage != file.plan.prior_lineage || state.serial != file.plan.prior_serial {
        release(lock).await;
        bail!(
            "Saved plan `{}` is stale: the state changed since this plan was made (it was made against serial {} of lineage {}, the state is now at serial {} of lineage {}). Run `strata plan` again to make a new plan.",
            path.display(),
            file.plan.prior_serial,
            file.plan.prior_lineage,
            state.serial,
            state.lineage
        );
    }
    let code = run_apply(
        context,
        &engine,
        &sources,
        backend.as_ref(),
        &workspace,
        &file.plan,
        refreshed,
        &state,
    )
    .await;
    release(lock).await;
    code
}

/// How `show` prints.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ShowFormat {
    Human,
    Json,
    /// A saved plan's Markdown summary within this many characters.
    Markdown(usize),
}

pub async fn show(
    context: &Context,
    format: ShowFormat,
    path: Option<&Path>,
) -> anyhow::Result<u8> {
    let json = format == ShowFormat::Json;
    if let Some(path) = path {
        let file = PlanFile::read_sealed(path, &backend::encryption(context, None)?.plan)?;
        if let ShowFormat::Markdown(limit) = format {
            let options = ui::MarkdownOptions {
                limit,
                whole_plan_command: format!("strata show {}", path.display()),
            };
            let schemas = super::state_commands::rendering_schemas(context).await;
            print!("{}", ui::render_markdown(&file.plan, &schemas, &options));
            return Ok(0);
        }
        if json {
            let prior = read_state(&file.prior_state, &path.display().to_string())
                .map(with_schemas)
                .map_err(|e| anyhow!("{e}"))?;
            // The configuration the plan was made from: a saved plan applies only while it is
            // unchanged (its fingerprint is checked), so the directory's is that one.
            let configuration = crate::config::load::load_tree(&context.dir, &mut SourceMap::new())
                .map(|tree| {
                    crate::plan::config_json::configuration_json(&tree, &Registry::builtin())
                })
                .unwrap_or_else(|_| serde_json::json!({ "root_module": {} }));
            println!(
                "{}",
                serde_json::to_string(&crate::plan::json::plan_json(
                    &file.plan,
                    &prior,
                    configuration
                ))?
            );
        } else {
            print!(
                "{}",
                ui::render_plan(
                    &file.plan,
                    context.style,
                    &super::state_commands::rendering_schemas(context).await
                )
            );
        }
        return Ok(0);
    }
    let backend = backend::open(context, None).await?;
    let workspace = current_workspace(context).await?;
    let state = load_state(backend.as_ref(), &workspace)
        .await
        .map_err(|e| anyhow!("{e}"))?;
    if json {
        println!(
            "{}",
            serde_json::to_string(&crate::plan::json::state_json(&state))?
        );
        return Ok(0);
    }
    if state.resources.is_empty() && state.outputs.is_empty() {
        println!("No state.");
        return Ok(0);
    }
    print!(
        "{}",
        super::state_commands::render_state(context, &state).await
    );
    Ok(0)
}

pub async fn output(
    context: &Context,
    json: bool,
    raw: bool,
    name: Option<&str>,
) -> anyhow::Result<u8> {
    let backend = backend::open(context, None).await?;
    let workspace = current_workspace(context).await?;
    let state = load_state(backend.as_ref(), &workspace)
        .await
        .map_err(|e| anyhow!("{e}"))?;
    match name {
        Some(name) => {
            let Some(output) = state.outputs.get(name) else {
                bail!("Output \"{name}\" not found: the state has no output of that name. Apply first, or check `strata output` for the names.");
            };
            let plain = output.value.clone().deep_unmark().0;
            if raw {
                match &plain {
                    Value::String(s) => print!("{s}"),
                    Value::Number(_) | Value::Bool(_) => print!("{}", ui::render_plain(&plain, 0)),
                    _ => bail!("Unsupported value for raw output: the -raw option only supports strings, numbers and bools; use -json for \"{name}\"."),
                }
            } else if json {
                println!(
                    "{}",
                    serde_json::to_string_pretty(
                        &crate::value::value_to_json(&plain).map_err(|e| anyhow!("{e}"))?
                    )?
                );
            } else {
                // Naming an output prints it even when sensitive, as Terraform does.
                println!("{}", ui::render_plain(&plain, 0));
            }
        }
        None if json => {
            let mut map = serde_json::Map::new();
            for (name, output) in &state.outputs {
                let plain = output.value.clone().deep_unmark().0;
                map.insert(
                    name.clone(),
                    serde_json::json!({
                        "sensitive": output.sensitive,
                        "type": crate::state::format::type_to_json(&plain.type_of()),
                        "value": crate::value::value_to_json(&plain).map_err(|e| anyhow!("{e}"))?,
                    }),
                );
            }
            println!(
                "{}",
                serde_json::to_string_pretty(&serde_json::Value::Object(map))?
            );
        }
        None => {
            if state.outputs.is_empty() {
                eprintln!("{}", context.style.yellow("Warning: No outputs found"));
                return Ok(0);
            }
            print!("{}", ui::render_outputs(&state.outputs));
        }
    }
    Ok(0)
}

pub async fn graph(context: &Context) -> anyhow::Result<u8> {
    let mut sources = SourceMap::new();
    let tree = load_config(context, &mut sources)?;
    match crate::graph::build(&tree) {
        Ok(graph) => {
            print!("{}", graph.to_dot());
            Ok(0)
        }
        Err(diagnostics) => {
            context.print_diagnostics(&diagnostics, &sources);
            Err(Reported.into())
        }
    }
}

pub async fn import(
    context: &Context,
    vars: &VarArgs,
    lock: &LockArgs,
    address: &str,
    id: &str,
) -> anyhow::Result<u8> {
    let address = ResourceInstance::parse(address).map_err(|e| anyhow!("{e}"))?;
    let mut sources = SourceMap::new();
    let tree = load_config(context, &mut sources)?;
    let variables = load_variables(context, &tree, &mut sources, vars, true)?;
    let backend = backend::open(context, Some(&tree)).await?;
    let workspace = current_workspace(context).await?;
    let options = RunOptions {
        workspace: workspace.clone(),
        ..RunOptions::default()
    };
    let engine = engine(context, tree, &sources, options, variables).await?;
    let guard = take_lock(
        context,
        backend.as_ref(),
        &workspace,
        "OperationTypeImport",
        lock,
    )
    .await?;
    let result = async {
        let state = load_state(backend.as_ref(), &workspace).await.map_err(|e| anyhow!("{e}"))?;
        if state.resources.contains_key(&address) {
            bail!("Resource already managed by Strata: {address} is already in the state. Remove it with `strata state rm {address}` first to import it again.");
        }
        println!("{}: Importing from ID \"{id}\"...", context.style.bold(&address.to_string()));
        let object = match engine.import(&address, id).await {
            Ok(object) => object,
            Err(diagnostics) => {
                context.print_diagnostics(&diagnostics, &sources);
                return Err(Reported.into());
            }
        };
        let mut writer = backend.writer(&workspace, &state).await.map_err(|e| anyhow!("{e}"))?;
        let change = crate::state::StateChange::Put { address: address.clone(), object };
        writer.record(&change).await.map_err(|e| anyhow!("{e}"))?;
        let mut state = state;
        state.apply_change(&change);
        writer.finish(&state).await.map_err(|e| anyhow!("{e}"))?;
        println!("{}: Import prepared!\n\n{}", context.style.bold(&address.to_string()), context.style.green(&context.style.bold("Import successful!")));
        println!("\nThe resources that were imported are shown above. These resources are now in\nyour Strata state and will henceforth be managed by Strata.");
        Ok(0)
    }
    .await;
    release(guard).await;
    engine.registry.close().await;
    result
}
