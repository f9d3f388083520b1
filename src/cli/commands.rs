//! The commands that read the configuration: init, validate, fmt, plan, apply, destroy, show,
//! output, graph, import.

use super::args::OperationArgs;
use super::lock::StateLock;
use super::settings::{
    ApplySettings, FmtSettings, ImportSettings, InitSettings, OperationSettings, OutputSettings,
    PlanSettings, ShowSettings,
};
use super::views::{self, show::ShowFormat};
use super::{backend, Context, Reported};
use crate::addrs::{ResourceInstance, Target};
use crate::config::variables::{resolve_root_variables_with_warnings, VarSource};
use crate::config::ModuleTree;
use crate::diagnostics::SourceMap;
use crate::engine::{Engine, RunOptions};
use crate::plan::file::{config_fingerprint, PlanFile};
use crate::plan::{Plan, PlanMode};
use crate::providers::Registry;
use crate::state::backend::Backend;
use crate::state::format::{read_state, write_state};
use crate::state::State;
use crate::ui;
use crate::value::Value;
use anyhow::{bail, Context as _};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::Ordering;
use std::sync::Arc;

/// The state's instances decoded per the built-in providers' schemas ([`with_registry_schemas`]
/// for commands that know no configuration's providers).
pub(super) fn with_schemas(state: State) -> State {
    with_registry_schemas(state, &Registry::builtin())
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

/// The state's instances decoded per the schemas of the providers this command runs (a
/// plugin's, where it serves a provider instead of the built-in one), so that Terraform's
/// encoding of dynamic attributes reads as values and what is written back is what that
/// provider's schema holds.
pub(super) fn with_registry_schemas(mut state: State, registry: &Registry) -> State {
    state.attach_schemas(state_schemas(registry));
    state
}

/// A workspace's state with the schemas of the command's providers attached.
async fn load_state_for(
    backend: &dyn Backend,
    workspace: &str,
    registry: &Registry,
) -> Result<State, crate::state::StateError> {
    // Read with the schemas: the file's text is decoded per schema in one pass.
    let schemas = state_schemas(registry);
    let mut state = backend
        .load_with_schemas(workspace, Some(Arc::clone(&schemas)))
        .await?;
    // A workspace without a state file comes back empty, without them.
    state.attach_schemas(schemas);
    Ok(state)
}

/// A workspace's state with the built-in providers' schemas attached ([`with_schemas`]).
pub(super) async fn load_state(
    backend: &dyn Backend,
    workspace: &str,
) -> Result<State, crate::state::StateError> {
    load_state_for(backend, workspace, &Registry::builtin()).await
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

pub(super) fn env_vars() -> Vec<(String, String)> {
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
    input: bool,
) -> anyhow::Result<BTreeMap<String, Value>> {
    // -var and -var-file in command-line order (Terraform applies them so).
    let mut cli = context.var_sources.clone();
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
        if let Some(line) = views::messages::ask_variable(name, variable.description.as_deref()) {
            cli.push(VarSource::Flag(format!(
                "{name}={}",
                line.trim_end_matches(['\n', '\r'])
            )));
        }
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

pub async fn current_workspace(context: &Context) -> anyhow::Result<String> {
    Ok(crate::state::workspace::current_workspace(&context.dir)?)
}

fn run_options(
    context: &Context,
    args: &OperationArgs,
    workspace: &str,
    mode: PlanMode,
) -> anyhow::Result<RunOptions> {
    let targets = args
        .targets
        .iter()
        .map(|t| Target::parse(t).context("Invalid target address"))
        .collect::<anyhow::Result<Vec<_>>>()?;
    let replace = args
        .replace
        .iter()
        .map(|t| ResourceInstance::parse(t).context("Invalid replace address"))
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
        read_only: false,
    })
}

/// The providers of one command: built in, or plugins `init` installed (started here to read
/// their schemas, and kept for the whole command).
async fn command_registry(context: &Context, tree: &ModuleTree) -> anyhow::Result<Registry> {
    Ok(Registry::for_configuration(tree, &context.dir).await?)
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
        Ok(engine) => Ok(engine.with_events(context.operation_view().events())),
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
            views::operation::interrupt_received();
            if tokio::signal::ctrl_c().await.is_ok() {
                views::operation::second_interrupt();
                std::process::exit(130);
            }
        }
    })
}

pub async fn init(context: &Context, settings: &InitSettings) -> anyhow::Result<u8> {
    if settings.get_modules {
        super::modules::install(context, settings.upgrade).await?;
    }
    let mut sources = SourceMap::new();
    let tree = load_config(context, &mut sources)?;
    let view = views::messages::InitView(context.style);
    if !settings.configure_backend {
        view.heading("Initializing provider plugins...");
        super::init_providers::init_providers(context, &tree, &mut sources, &settings.providers)
            .await?;
        view.done(
            "Strata has been successfully initialized! (backend not configured: -backend=false)",
        );
        return Ok(0);
    }
    let configured = backend::configured_settings(&tree, &settings.backend_config, &context.dir)?;
    let previous = previous_backend(&context.dir)?;
    view.heading("Initializing the backend...");
    // What the block held at init is not a setting: a directory initialised before it was
    // recorded is not a change.
    let changed = |p: &&backend::BackendSettings| {
        p.backend_type != configured.backend_type || p.settings != configured.settings
    };
    if let Some(previous) = previous.as_ref().filter(changed) {
        if settings.migrate_state {
            migrate_state(context, &tree, previous, &configured).await?;
        } else if !settings.reconfigure {
            bail!("Backend configuration changed. Run `strata init -migrate-state` to copy existing state to the new backend, or `strata init -reconfigure` to use the new settings without copying.");
        }
    }
    // Check the backend answers before recording it.
    let backend = backend::open_settings(context, &configured).await?;
    backend
        .workspaces()
        .await
        .with_context(|| format!("the {} backend is not reachable", configured.backend_type))?;
    backend::write_settings(&context.dir, &configured)?;
    view.backend_configured(&configured.backend_type);
    view.heading("Initializing provider plugins...");
    super::init_providers::init_providers(context, &tree, &mut sources, &settings.providers)
        .await?;
    view.done("Strata has been successfully initialized!");
    Ok(0)
}

/// The backend settings `init` recorded before. Without recorded settings, the directory used
/// the local backend: it counts as the previous backend when it holds state.
fn previous_backend(dir: &Path) -> anyhow::Result<Option<backend::BackendSettings>> {
    Ok(match backend::read_settings(dir)? {
        Some(recorded) => Some(recorded),
        None if crate::state::local::holds_state(dir) => Some(backend::BackendSettings {
            backend_type: "local".into(),
            settings: BTreeMap::new(),
            block: None,
        }),
        None => None,
    })
}

/// `init -migrate-state`: copies every workspace's state from the previous backend to the
/// configured one, both sides with the configured state encryption (its fallbacks read either
/// form).
async fn migrate_state(
    context: &Context,
    tree: &ModuleTree,
    previous: &backend::BackendSettings,
    configured: &backend::BackendSettings,
) -> anyhow::Result<()> {
    let sealer = backend::encryption(context, Some(tree))?.state;
    let from = backend::open_settings_sealed(context, previous, sealer.clone()).await?;
    let to = backend::open_settings_sealed(context, configured, sealer).await?;
    for workspace in from.workspaces().await? {
        let Some(text) = from.pull(&workspace).await? else {
            continue;
        };
        if workspace != "default" && !to.workspaces().await?.contains(&workspace) {
            to.create_workspace(&workspace).await?;
        }
        to.push(&workspace, &text, false)
            .await
            .with_context(|| format!("migrating workspace {workspace}"))?;
        views::messages::InitView(context.style).state_copied(
            &workspace,
            &previous.backend_type,
            &configured.backend_type,
        );
    }
    Ok(())
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
    if json {
        views::messages::validated_json(&diagnostics)?;
    } else {
        context.print_diagnostics(&diagnostics, &sources);
        if !diagnostics.has_errors() {
            views::messages::validated(context.style);
        }
    }
    Ok(if diagnostics.has_errors() { 1 } else { 0 })
}

pub fn fmt(context: &Context, settings: &FmtSettings) -> anyhow::Result<u8> {
    let paths: Vec<PathBuf> = if settings.paths.is_empty() {
        vec![context.dir.clone()]
    } else {
        settings.paths.clone()
    };
    let report = crate::fmt::format_paths(&paths, settings.options)?;
    views::messages::formatted(context.style, &report.output, &report.errors);
    if !report.errors.is_empty() {
        // As terraform fmt: 2 when a file could not be parsed.
        return Ok(2);
    }
    Ok(if settings.options.check && !report.changed.is_empty() {
        3
    } else {
        0
    })
}

/// What [`make_plan`] hands back: the plan and everything an apply of it needs.
struct Planned {
    engine: Engine,
    sources: SourceMap,
    backend: Box<dyn Backend>,
    workspace: String,
    /// Held from before the state was loaded until the command is done with it.
    lock: StateLock,
    outcome: crate::engine::PlanOutcome,
    /// The state as loaded, before the refresh, when the command asked to keep it (an apply
    /// writes on top of it); a plan hands it to the engine without a copy.
    state: Option<State>,
}

/// Loads everything a plan needs and makes it. `planning_only` (`strata plan`): the plan changes
/// nothing outside ([`RunOptions::read_only`]); otherwise (an apply) a copy of the state as
/// loaded is kept ([`Planned::state`]).
async fn make_plan(
    context: &Context,
    settings: &OperationSettings,
    planning_only: bool,
) -> anyhow::Result<Planned> {
    let args = &settings.args;
    let mut sources = SourceMap::new();
    let tree = load_config(context, &mut sources)?;
    let variables = load_variables(context, &tree, &mut sources, args.input)?;
    let backend = backend::open(context, Some(&tree)).await?;
    let workspace = current_workspace(context).await?;
    let mut options = run_options(context, args, &workspace, settings.mode)?;
    options.read_only = planning_only;
    let engine = engine(context, tree, &sources, options, variables).await?;
    // The providers that need nothing from the state are configured meanwhile (polled second:
    // the lock's request goes out first).
    let fetch = async {
        let lock = StateLock::take(
            context,
            backend.as_ref(),
            &workspace,
            settings.lock_operation(planning_only),
            &args.lock,
        )
        .await?;
        let state = load_state_for(backend.as_ref(), &workspace, &engine.registry).await?;
        anyhow::Ok((lock, state))
    };
    let (fetched, ()) = tokio::join!(fetch, engine.configure_early());
    let (lock, state) = fetched?;
    let loaded = (!planning_only).then(|| state.clone());
    match engine.plan(state).await {
        Ok(outcome) => {
            context.print_diagnostics(&outcome.warnings, &sources);
            Ok(Planned {
                engine,
                sources,
                backend,
                workspace,
                lock,
                outcome,
                state: loaded,
            })
        }
        Err(diagnostics) => {
            context.print_diagnostics(&diagnostics, &sources);
            Err(Reported.into())
        }
    }
}

pub async fn plan(context: &Context, settings: &PlanSettings) -> anyhow::Result<u8> {
    let operation = &settings.operation;
    let planned = make_plan(context, operation, true).await?;
    planned.lock.release().await;
    let engine = planned.engine;
    engine.registry.close().await;
    let plan = &planned.outcome.plan;
    let schemas = ui::Schemas::from_registry(&engine.registry);
    let view = context.operation_view();
    view.plan(plan, &schemas);
    if let Some((path, limit)) = &settings.markdown {
        let options = ui::MarkdownOptions {
            limit: *limit,
            whole_plan_command: match &settings.out {
                Some(out) => format!("strata show {}", out.display()),
                None => "strata plan".to_string(),
            },
        };
        std::fs::write(path, ui::render_markdown(plan, &schemas, &options))
            .with_context(|| format!("writing {}", path.display()))?;
    }
    match &settings.out {
        Some(path) => {
            save_plan(
                context,
                &engine.tree,
                plan,
                &planned.outcome.refreshed,
                path,
            )?;
            view.plan_saved(path);
        }
        None => view.plan_not_saved(plan),
    }
    Ok(if settings.detailed_exitcode && plan.has_changes() {
        2
    } else {
        0
    })
}

/// `plan -out=PATH`: the plan, the refreshed state and the configuration's fingerprint,
/// sealed with the configured plan encryption.
fn save_plan(
    context: &Context,
    tree: &ModuleTree,
    plan: &Plan,
    refreshed: &State,
    path: &Path,
) -> anyhow::Result<()> {
    let dirs = module_dirs(tree);
    let file = PlanFile {
        kind: PlanFile::KIND.to_string(),
        plan: plan.clone(),
        prior_state: write_state(refreshed)?,
        config_fingerprint: config_fingerprint(dirs.iter().map(PathBuf::as_path)),
    };
    let encryption = backend::encryption(context, Some(tree))?;
    file.write_sealed(path, &encryption.plan)?;
    Ok(())
}

/// Asks whether to go ahead; only a terminal can answer.
fn confirm(context: &Context, destroy: bool) -> anyhow::Result<bool> {
    if !context.interactive {
        bail!("Apply needs approval: run with -auto-approve in a non-interactive session, or apply a saved plan.");
    }
    Ok(context.operation_view().confirm(context.style, destroy)?)
}

/// `apply`, `destroy`, `refresh`: a saved plan, or a new plan applied once approved.
pub async fn apply(context: &Context, settings: &ApplySettings) -> anyhow::Result<u8> {
    if let Some(path) = &settings.plan_file {
        return apply_saved(context, &settings.operation.args, path).await;
    }
    let operation = &settings.operation;
    let destroy = operation.destroy();
    if context.json && !settings.auto_approve {
        bail!("Plan approval needed: -json cannot ask for approval; add -auto-approve, or apply a saved plan.");
    }
    let planned = make_plan(context, operation, false).await?;
    let loaded = planned.state.as_ref().context("the state as loaded")?;
    let plan = &planned.outcome.plan;
    let view = context.operation_view();
    view.plan(plan, &ui::Schemas::from_registry(&planned.engine.registry));
    // With nothing to change, the state is still written when the plan's refresh changed it
    // (an upgraded schema version, drift), as Terraform writes it; with no approval asked.
    let refreshed_differs = planned.outcome.refreshed != *loaded;
    if !plan.has_changes() && plan.mode != PlanMode::RefreshOnly && !refreshed_differs {
        planned.lock.release().await;
        planned.engine.registry.close().await;
        return Ok(0);
    }
    let asks = plan.has_changes() || plan.mode == PlanMode::RefreshOnly;
    if asks && !settings.auto_approve && !confirm(context, destroy)? {
        planned.lock.release().await;
        view.cancelled(destroy);
        return Ok(1);
    }
    let code = run_apply(
        context,
        &planned.engine,
        &planned.sources,
        planned.backend.as_ref(),
        &planned.workspace,
        plan,
        planned.outcome.refreshed.clone(),
        loaded,
    )
    .await;
    planned.lock.release().await;
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
    let writer = backend.writer(workspace, base).await?;
    let interrupts = handle_interrupts(engine.cancelled.clone());
    let outcome = engine.apply(plan, refreshed, writer).await;
    interrupts.abort();
    engine.registry.close().await;
    context.print_diagnostics(&outcome.diagnostics, sources);
    if outcome.diagnostics.has_errors() {
        return Ok(1);
    }
    let view = context.operation_view();
    if engine.cancelled.load(Ordering::SeqCst) {
        view.interrupted();
        return Ok(1);
    }
    view.applied(plan, &outcome.state.outputs);
    Ok(0)
}

/// `apply PLANFILE`: the saved plan, checked against the configuration and the state.
async fn apply_saved(context: &Context, args: &OperationArgs, path: &Path) -> anyhow::Result<u8> {
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
    let lock = StateLock::take(
        context,
        backend.as_ref(),
        &workspace,
        "OperationTypeApply",
        &args.lock,
    )
    .await?;
    let state = load_state_for(backend.as_ref(), &workspace, &engine.registry).await?;
    let refreshed = read_state(&file.prior_state, &path.display().to_string())
        .map(|state| with_registry_schemas(state, &engine.registry))?;
    let state = check_not_stale(&file, path, state, &refreshed)?;
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
    lock.release().await;
    code
}

/// The state a saved plan applies to: the stored one, which must be the one the plan was made
/// against. A workspace with no state yet gets a new lineage on every load: a plan made against
/// "nothing" still applies to "nothing".
fn check_not_stale(
    file: &PlanFile,
    path: &Path,
    state: State,
    refreshed: &State,
) -> anyhow::Result<State> {
    let nothing_stored =
        state.serial == 0 && state.resources.is_empty() && state.outputs.is_empty();
    let state = if nothing_stored && file.plan.prior_serial == 0 {
        refreshed.clone()
    } else {
        state
    };
    if state.lineage != file.plan.prior_lineage || state.serial != file.plan.prior_serial {
        bail!(
            "Saved plan `{}` is stale: the state changed since this plan was made (it was made against serial {} of lineage {}, the state is now at serial {} of lineage {}). Run `strata plan` again to make a new plan.",
            path.display(),
            file.plan.prior_serial,
            file.plan.prior_lineage,
            state.serial,
            state.lineage
        );
    }
    Ok(state)
}

pub async fn show(context: &Context, settings: &ShowSettings) -> anyhow::Result<u8> {
    if let Some(path) = &settings.plan_file {
        return show_plan(context, settings.format, path).await;
    }
    let backend = backend::open(context, None).await?;
    let workspace = current_workspace(context).await?;
    // Decoded and shown per the schemas of the providers the configuration runs (a plugin's
    // where one serves a provider), as Terraform shows the state.
    let registry = super::state_commands::configuration_registry(context).await;
    let state = load_state_for(backend.as_ref(), &workspace, &registry).await;
    let schemas = ui::Schemas::from_registry(&registry);
    registry.close().await;
    let state = state?;
    if settings.format == ShowFormat::Json {
        views::show::json(&crate::plan::json::state_json(&state))?;
    } else {
        views::show::state(&state, &schemas);
    }
    Ok(0)
}

/// `show PLANFILE`.
async fn show_plan(context: &Context, format: ShowFormat, path: &Path) -> anyhow::Result<u8> {
    let file = PlanFile::read_sealed(path, &backend::encryption(context, None)?.plan)?;
    match format {
        ShowFormat::Markdown(limit) => {
            let options = ui::MarkdownOptions {
                limit,
                whole_plan_command: format!("strata show {}", path.display()),
            };
            let schemas = super::state_commands::rendering_schemas(context).await;
            views::show::markdown(&file.plan, &schemas, &options);
        }
        ShowFormat::Json => {
            let prior =
                read_state(&file.prior_state, &path.display().to_string()).map(with_schemas)?;
            // The configuration the plan was made from: a saved plan applies only while it is
            // unchanged (its fingerprint is checked), so the directory's is that one.
            let tree = crate::config::load::load_tree(&context.dir, &mut SourceMap::new()).ok();
            let configuration = tree
                .as_ref()
                .map(|tree| {
                    crate::plan::config_json::configuration_json(tree, &Registry::builtin())
                })
                .unwrap_or_else(|| serde_json::json!({ "root_module": {} }));
            let locals = tree
                .as_ref()
                .map(crate::plan::config_json::locals_json)
                .unwrap_or_else(|| serde_json::json!({ "root_module": {} }));
            views::show::json(&crate::plan::json::plan_json(
                &file.plan,
                &prior,
                configuration,
                &locals,
            ))?;
        }
        ShowFormat::Human => {
            let schemas = super::state_commands::rendering_schemas(context).await;
            views::show::plan(&file.plan, context.style, &schemas);
        }
    }
    Ok(0)
}

pub async fn output(context: &Context, settings: &OutputSettings) -> anyhow::Result<u8> {
    let backend = backend::open(context, None).await?;
    let workspace = current_workspace(context).await?;
    let state = load_state(backend.as_ref(), &workspace).await?;
    match &settings.name {
        Some(name) => {
            let Some(output) = state.outputs.get(name) else {
                bail!("Output \"{name}\" not found: the state has no output of that name. Apply first, or check `strata output` for the names.");
            };
            views::output::one(settings.format, name, output)?;
        }
        None => views::output::all(settings.format, context.style, &state.outputs)?,
    }
    Ok(0)
}

pub async fn graph(context: &Context) -> anyhow::Result<u8> {
    let mut sources = SourceMap::new();
    let tree = load_config(context, &mut sources)?;
    match crate::graph::build(&tree) {
        Ok(graph) => {
            views::show::graph(&graph.to_dot());
            Ok(0)
        }
        Err(diagnostics) => {
            context.print_diagnostics(&diagnostics, &sources);
            Err(Reported.into())
        }
    }
}

pub async fn import(context: &Context, settings: &ImportSettings) -> anyhow::Result<u8> {
    let address = ResourceInstance::parse(&settings.address)?;
    let mut sources = SourceMap::new();
    let tree = load_config(context, &mut sources)?;
    let variables = load_variables(context, &tree, &mut sources, true)?;
    let backend = backend::open(context, Some(&tree)).await?;
    let workspace = current_workspace(context).await?;
    let options = RunOptions {
        workspace: workspace.clone(),
        ..RunOptions::default()
    };
    let engine = engine(context, tree, &sources, options, variables).await?;
    let lock = StateLock::take(
        context,
        backend.as_ref(),
        &workspace,
        "OperationTypeImport",
        &settings.lock,
    )
    .await?;
    let result = import_into_state(
        context,
        &engine,
        &sources,
        backend.as_ref(),
        &workspace,
        &address,
        &settings.id,
    )
    .await;
    lock.release().await;
    engine.registry.close().await;
    result
}

/// Reads the object `id` names through the provider and records it at `address`.
async fn import_into_state(
    context: &Context,
    engine: &Engine,
    sources: &SourceMap,
    backend: &dyn Backend,
    workspace: &str,
    address: &ResourceInstance,
    id: &str,
) -> anyhow::Result<u8> {
    let state = load_state_for(backend, workspace, &engine.registry).await?;
    if state.resources.contains_key(address) {
        bail!("Resource already managed by Strata: {address} is already in the state. Remove it with `strata state rm {address}` first to import it again.");
    }
    let view = views::messages::ImportView(context.style);
    view.importing(address, id);
    let object = match engine.import(address, id).await {
        Ok(object) => object,
        Err(diagnostics) => {
            context.print_diagnostics(&diagnostics, sources);
            return Err(Reported.into());
        }
    };
    let mut writer = backend.writer(workspace, &state).await?;
    let change = crate::state::StateChange::Put {
        address: address.clone(),
        object,
    };
    writer.record(&change).await?;
    let mut state = state;
    state.apply_change(&change);
    writer.finish(&state).await?;
    view.imported(address);
    Ok(0)
}
