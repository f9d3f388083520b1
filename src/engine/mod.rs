//! The engine: walks the dependency graph to plan, apply and destroy.
//!
//! A plan walk visits every node of the [`crate::graph`] concurrently in dependency order:
//! providers are configured (and refresh the instances they own, batched per resource type),
//! module calls are expanded, variables, locals and outputs are evaluated, and each resource
//! node expands its `count`/`for_each` and plans every instance through its provider. The
//! result is a [`Plan`] plus the refreshed state.
//!
//! An apply walk visits the same graph again with the plan in hand: each changing instance is
//! re-evaluated (upstream values are now known), re-planned, checked against the plan, and
//! applied; deletions are nodes of their own, ordered by [`graph::deletions`] (dependents
//! first). Every operation is recorded through the [`StateWriter`] before the next node that
//! depends on it starts.
//!
//! Architecture invariants: only the engine calls providers; the engine never prints (it
//! reports [`Event`]s to the UI); provider calls never exceed `parallelism` at once.

mod adopt;
mod apply;
mod checks;
mod early;
#[cfg(test)]
mod early_tests;
mod eval;
mod gates;
pub mod moves;
mod nodes;
mod object_id;
mod plan;
mod provider_diagnostics;
mod provision;
#[cfg(test)]
mod schedule_tests;
mod store;
#[cfg(test)]
mod tests;
mod validate;
pub mod walk;

pub use object_id::ObjectId;
pub use store::{Expansion, Repetition};

use crate::addrs::{AbsResource, ModuleInstance, ResourceInstance, Target};
use crate::config::{Expr, ModuleTree, ProviderRef};
use crate::diagnostics::{did_you_mean, Diagnostic, Diagnostics, Span};
use crate::graph::{self, Graph, ModulePath};
use crate::lang::{self, EvalContext};
use crate::plan::{Action, Plan, PlanMode};
use crate::providers::{Provider, Registry};
use crate::state::{State, StateWriter};
use crate::value::Value;
use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, RwLock, RwLockReadGuard, RwLockWriteGuard};
use std::time::Duration;
use store::{InstanceScope, Store};

/// Settings of one run, resolved from flags before any work starts.
#[derive(Clone, Debug)]
pub struct RunOptions {
    pub workspace: String,
    /// Provider operations at once (`-parallelism`, default 10).
    pub parallelism: usize,
    /// Read every managed resource before planning (`-refresh=false` turns it off).
    pub refresh: bool,
    pub targets: Vec<Target>,
    pub replace: Vec<ResourceInstance>,
    pub mode: PlanMode,
    /// The working directory, for `path.cwd` and relative paths.
    pub cwd: PathBuf,
    /// The command only plans (`strata plan`): no provider call may change anything outside,
    /// not even tidying what a killed run left (the AWS provider's intent tags, which the next
    /// `apply`'s refresh removes).
    pub read_only: bool,
}

impl Default for RunOptions {
    fn default() -> Self {
        RunOptions {
            workspace: "default".into(),
            parallelism: 10,
            refresh: true,
            targets: Vec::new(),
            replace: Vec::new(),
            mode: PlanMode::Normal,
            cwd: PathBuf::from("."),
            read_only: false,
        }
    }
}

/// Something the UI may want to show while the engine works.
#[derive(Clone, Debug, PartialEq)]
pub enum Event {
    Refreshing {
        address: ResourceInstance,
        id: Option<String>,
    },
    Reading {
        address: ResourceInstance,
    },
    /// An `import` block's object is about to be read.
    Importing {
        address: ResourceInstance,
        id: String,
    },
    ApplyStarting {
        address: ResourceInstance,
        action: Action,
        /// The key of the deposed object being destroyed (the old half of a
        /// create_before_destroy replacement, or one a failed run left).
        deposed: Option<String>,
        /// What names the prior object (`[id=vpc-1]`); none for a create.
        id: Option<ObjectId>,
    },
    /// Every ten seconds while an operation runs.
    StillApplying {
        address: ResourceInstance,
        action: Action,
        elapsed: Duration,
        /// What names the prior object, as when the operation started.
        id: Option<ObjectId>,
    },
    /// A provider's progress message.
    Message {
        address: ResourceInstance,
        message: String,
    },
    ApplyDone {
        address: ResourceInstance,
        action: Action,
        elapsed: Duration,
        /// What names the new object; none after a destroy.
        id: Option<ObjectId>,
    },
    ApplyFailed {
        address: ResourceInstance,
        action: Action,
    },
    /// A provisioner starts (`Provisioning with 'local-exec'...`).
    ProvisionStarting {
        address: ResourceInstance,
        provisioner: String,
    },
    /// Something a provisioner printed (one or more lines; sensitive configurations print
    /// only that their output is suppressed).
    ProvisionOutput {
        address: ResourceInstance,
        provisioner: String,
        output: String,
    },
    /// A provisioner finished, or failed.
    ProvisionDone {
        address: ResourceInstance,
        provisioner: String,
        failed: bool,
    },
}

/// Receives [`Event`]s.
pub trait Events: Send + Sync {
    fn event(&self, event: Event);

    /// Several events that happen together (a refresh announces a type's objects at once), in
    /// order; a printer may write them in one go.
    fn events(&self, events: Vec<Event>) {
        for event in events {
            self.event(event);
        }
    }
}

/// Drops every event.
pub struct NoEvents;

impl Events for NoEvents {
    fn event(&self, _event: Event) {}
}

/// A plan and the state it was made from (after refresh).
#[derive(Debug)]
pub struct PlanOutcome {
    pub plan: Plan,
    pub refreshed: State,
    pub warnings: Diagnostics,
}

/// How an apply ended: the state as it now is, and every error.
pub struct ApplyOutcome {
    pub state: State,
    pub diagnostics: Diagnostics,
    pub writer: Box<dyn StateWriter>,
}

/// Plans and applies one configuration.
pub struct Engine {
    pub tree: Arc<ModuleTree>,
    pub graph: Arc<Graph>,
    pub registry: Registry,
    pub options: RunOptions,
    /// Root variable values, converted and validated.
    pub variables: BTreeMap<String, Value>,
    pub events: Arc<dyn Events>,
    /// Set (by Ctrl-C) to start nothing new.
    pub cancelled: Arc<AtomicBool>,
    /// Providers configured while the state was fetched, for the next run
    /// ([`Engine::configure_early`]).
    early: Mutex<early::EarlyProviders>,
}

impl Engine {
    /// Builds the graph; errors are configuration errors (undeclared references, cycles).
    pub fn new(
        tree: ModuleTree,
        registry: Registry,
        options: RunOptions,
        variables: BTreeMap<String, Value>,
    ) -> Result<Engine, Diagnostics> {
        // `-target`: the walks see only what the targets select.
        let target_mode = if options.mode == PlanMode::Destroy {
            graph::targets::TargetMode::Destroy
        } else {
            graph::targets::TargetMode::Plan
        };
        let graph = graph::build_targeted(&tree, &options.targets, target_mode)?;
        // `moved`, `removed` and `import` addresses are checked here, with the rest of the
        // configuration, before any state is locked or read.
        moves::resolve(&tree, &mut State::new())?;
        Ok(Engine {
            tree: Arc::new(tree),
            graph: Arc::new(graph),
            registry,
            options,
            variables,
            events: Arc::new(NoEvents),
            cancelled: Arc::new(AtomicBool::new(false)),
            early: Mutex::new(early::EarlyProviders::new()),
        })
    }

    pub fn with_events(mut self, events: Arc<dyn Events>) -> Engine {
        self.events = events;
        self
    }

    fn run(&self, prior: State, evaluation: Evaluation) -> Result<Arc<Run>, Diagnostics> {
        // The providers configured early serve this run (the first after them) only.
        let early = std::mem::take(&mut *locked(&self.early));
        let providers = self.providers_for(&prior, &early)?;
        let early_configs = early
            .into_iter()
            .filter(|(provider, _)| providers.contains_key(provider))
            .map(|(provider, early)| (provider, early.config))
            .collect();
        let context = RunContext {
            providers: RwLock::new(providers),
            early_configs,
            tree: self.tree.clone(),
            graph: self.graph.clone(),
            registry: self.registry.clone(),
            options: self.options.clone(),
            variables: self.variables.clone(),
            semaphore: tokio::sync::Semaphore::new(self.options.parallelism.max(1)),
            events: self.events.clone(),
            cancelled: self.cancelled.clone(),
            evaluation,
            root_dir: PathBuf::from("."),
        };
        Ok(Arc::new(Run::new(context, prior)))
    }

    /// An instance of every provider the graph and the prior state name (the one `early`
    /// configured, where there is one); an unknown one is an error at its configuration.
    fn providers_for(
        &self,
        prior: &State,
        early: &early::EarlyProviders,
    ) -> Result<HashMap<ProviderRef, Arc<dyn Provider>>, Diagnostics> {
        let mut providers = HashMap::new();
        let mut diagnostics = Diagnostics::new();
        let mut wanted: Vec<ProviderRef> = self
            .graph
            .index
            .keys()
            .filter_map(|node| match node {
                graph::Node::Provider { provider } => Some(provider.clone()),
                _ => None,
            })
            .collect();
        // Deposed objects too: a deletion needs its provider, however the configuration changed.
        let deposed = prior.deposed.values().flat_map(|objects| objects.values());
        for object in prior.resources.values().chain(deposed) {
            if let Some(provider) = parse_provider_address(&self.registry, &object.provider) {
                wanted.push(provider);
            }
        }
        wanted.sort();
        wanted.dedup();
        for provider in wanted {
            let configured = early.get(&provider).map(|e| e.instance.clone());
            match configured.or_else(|| {
                self.registry
                    .instance(&provider.name, provider.alias.as_deref())
            }) {
                Some(instance) => {
                    providers.insert(provider.clone(), instance);
                }
                None => {
                    let names: Vec<&str> = self.registry.names().collect();
                    let mut diagnostic = Diagnostic::error(format!(
                        "Provider \"{}\" is not available",
                        provider.name
                    ))
                    .with_detail(format!(
                        "Strata has these providers built in: {}.",
                        names.join(", ")
                    ));
                    diagnostic = diagnostic
                        .with_suggestion(did_you_mean(&provider.name, names.iter().copied()));
                    if let Some(span) = provider_span(&self.tree, &provider) {
                        diagnostic = diagnostic.with_span(span);
                    }
                    diagnostics.push(diagnostic);
                }
            }
        }
        diagnostics.into_result(providers)
    }

    /// Plans from `state` (the prior state, which becomes the run's working state: a caller
    /// that needs the state as loaded keeps a copy of its own): applies the `moved` blocks,
    /// then refreshes, evaluates and diffs. Nothing outside is changed.
    pub async fn plan(&self, mut state: State) -> Result<PlanOutcome, Diagnostics> {
        let (refactoring, warnings) = moves::resolve(&self.tree, &mut state)?;
        let run = self.run(state, plan::PlanWalker::EVALUATION)?;
        *run.refactoring() = refactoring;
        let mut outcome = plan::plan(run).await?;
        outcome.warnings.extend(warnings);
        Ok(outcome)
    }

    /// Applies `plan` on top of `refreshed` (the state the plan was made from), recording every
    /// operation through `writer` as it happens.
    pub async fn apply(
        &self,
        plan: &Plan,
        refreshed: State,
        writer: Box<dyn StateWriter>,
    ) -> ApplyOutcome {
        let run = match self.run(refreshed.clone(), apply::ApplyWalker::EVALUATION) {
            Ok(run) => run,
            Err(diagnostics) => {
                return ApplyOutcome {
                    state: refreshed,
                    diagnostics,
                    writer,
                }
            }
        };
        *run.writer.lock().await = Some(writer);
        apply::apply(run, plan.clone()).await
    }

    /// `strata console`: evaluates the configuration (variables, locals, outputs) with the
    /// state's values for resources and data sources, and no provider calls; the returned
    /// [`Console`] evaluates expressions in the root module.
    pub async fn console(&self, state: &State) -> Result<Console, Diagnostics> {
        let run = self.run(state.clone(), validate::ValidateWalker::EVALUATION)?;
        let walker = validate::ValidateWalker { state_values: true };
        let diagnostics = validate::validate(run.clone(), walker).await;
        if diagnostics.has_errors() {
            return Err(diagnostics);
        }
        Ok(Console { run })
    }

    /// Checks the configuration without touching anything: every expression evaluated with
    /// unknown values for everything not yet known.
    pub async fn validate(&self) -> Diagnostics {
        match self.run(State::new(), validate::ValidateWalker::EVALUATION) {
            Ok(run) => {
                let walker = validate::ValidateWalker {
                    state_values: false,
                };
                validate::validate(run, walker).await
            }
            Err(diagnostics) => diagnostics,
        }
    }
}

/// Expressions evaluated against a configuration and its state (`strata console`).
pub struct Console {
    run: Arc<Run>,
}

impl Console {
    /// Evaluates one expression in the root module.
    pub fn eval(&self, text: &str) -> Result<Value, Diagnostics> {
        let file = Arc::new(crate::diagnostics::SourceFile::new("<console-input>", text));
        let expr = hcl_edit::parser::parse_expr(text).map_err(|error| {
            Diagnostics::from(
                Diagnostic::error("Invalid expression").with_detail(error.message().to_string()),
            )
        })?;
        let expr = crate::config::Expr { file, expr };
        let undeclared = graph::check_root_references(&self.run.tree, &expr);
        if undeclared.has_errors() {
            return Err(undeclared);
        }
        self.run
            .eval(&expr, &ModuleInstance::root(), &Repetition::None, None)
    }
}

/// How a walk evaluates, as its walker needs it (each walker has its own: `EVALUATION`), so
/// evaluation reads what to do, never which walk it is in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Evaluation {
    /// Values may stay unknown until apply (a plan's, validation's); an apply evaluates with
    /// what it has made known (`lang`'s `plan_mode`).
    defers_unknowns: bool,
    /// What cannot be known yet is unknown instead of an error: unknown `count`/`for_each`
    /// (one placeholder instance), unset root variables, missing values, repetitions, and
    /// conditions not checked (validation and the console).
    partial: bool,
    /// Provider configurations are sent to the providers (not by validation and the console,
    /// which configure nothing).
    configures_providers: bool,
}

impl Evaluation {
    /// `validate` and `console`.
    const PARTIAL: Evaluation = Evaluation {
        defers_unknowns: true,
        partial: true,
        configures_providers: false,
    };
    /// A plan (and `import`'s provider configuration).
    const PLAN: Evaluation = Evaluation {
        defers_unknowns: true,
        partial: false,
        configures_providers: true,
    };
    /// An apply.
    const APPLY: Evaluation = Evaluation {
        defers_unknowns: false,
        partial: false,
        configures_providers: true,
    };
}

/// What one walk reads and never changes: the configuration and its graph, the providers and
/// the options, and how the walk evaluates. What only reads takes a `&RunContext`.
struct RunContext {
    tree: Arc<ModuleTree>,
    graph: Arc<Graph>,
    registry: Registry,
    options: RunOptions,
    variables: BTreeMap<String, Value>,
    /// The instance serving each provider configuration (one configured early may be
    /// replaced: [`RunContext::replace_provider`]).
    providers: RwLock<HashMap<ProviderRef, Arc<dyn Provider>>>,
    /// The configurations the early instances among them were given (`engine::early`).
    early_configs: HashMap<ProviderRef, Value>,
    /// Bounds the provider calls at once (`-parallelism`).
    semaphore: tokio::sync::Semaphore,
    events: Arc<dyn Events>,
    cancelled: Arc<AtomicBool>,
    evaluation: Evaluation,
    root_dir: PathBuf,
}

impl RunContext {
    fn cancelled(&self) -> bool {
        self.cancelled.load(Ordering::SeqCst)
    }

    /// The state address of a provider configuration.
    fn provider_address(&self, provider: &ProviderRef) -> String {
        provider_address(&self.registry, provider)
    }

    fn provider(&self, provider: &ProviderRef) -> Option<Arc<dyn Provider>> {
        read_locked(&self.providers).get(provider).cloned()
    }

    /// Every provider configuration this run has an instance for.
    fn provider_refs(&self) -> Vec<ProviderRef> {
        read_locked(&self.providers).keys().cloned().collect()
    }

    /// The configuration `provider`'s instance was given before the run, if it was.
    fn early_config(&self, provider: &ProviderRef) -> Option<&Value> {
        self.early_configs.get(provider)
    }

    /// A fresh instance in place of `provider`'s (one configured early with another
    /// configuration than the run's), returned.
    fn replace_provider(&self, provider: &ProviderRef) -> Option<Arc<dyn Provider>> {
        let fresh = self
            .registry
            .instance(&provider.name, provider.alias.as_deref())?;
        let mut providers = self.providers.write().unwrap_or_else(|e| e.into_inner());
        providers.insert(provider.clone(), fresh.clone());
        Some(fresh)
    }
}

/// One walk: its [`RunContext`] (read through `Deref`: `run.tree`, `run.options`) and what the
/// walk changes, each behind its own lock, reached through the small accessors below
/// (`run.state()`, `run.store()`, `run.store_mut()`, `run.refactoring()`).
struct Run {
    context: RunContext,
    /// Providers whose configuration succeeded.
    configured: Mutex<HashMap<ProviderRef, bool>>,
    /// What the walk has evaluated so far, which the evaluator reads through a `Scope`.
    store: RwLock<Store>,
    /// The working state: refreshed during plan, updated by every operation during apply.
    state: Mutex<State>,
    changes: Mutex<Vec<crate::plan::ResourceChange>>,
    drift: Mutex<Vec<crate::plan::ResourceChange>>,
    diagnostics: Mutex<Diagnostics>,
    writer: tokio::sync::Mutex<Option<Box<dyn StateWriter>>>,
    /// Changes waiting for the writer (see `apply::record`).
    pending_records: crate::state::GroupCommit,
    /// What the `moved` and `removed` blocks mean for this plan (empty during apply: the
    /// plan's changes carry it).
    refactoring: Mutex<moves::Refactoring>,
    /// [`Run::module_dir`]'s answers: canonicalizing takes a few system calls, and every
    /// evaluation asks.
    module_dirs: Mutex<HashMap<ModulePath, PathBuf>>,
}

impl std::ops::Deref for Run {
    type Target = RunContext;

    fn deref(&self) -> &RunContext {
        &self.context
    }
}

/// A lock's value; a walk task that panicked while holding it left nothing half-written
/// that matters more than reporting what the others did.
fn locked<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|e| e.into_inner())
}

/// [`locked`] for reading a `RwLock`.
fn read_locked<T>(lock: &RwLock<T>) -> RwLockReadGuard<'_, T> {
    lock.read().unwrap_or_else(|e| e.into_inner())
}

impl Run {
    /// A walk over `prior`, with nothing evaluated, planned or recorded yet.
    fn new(context: RunContext, prior: State) -> Run {
        Run {
            context,
            configured: Mutex::new(HashMap::new()),
            store: RwLock::new(Store::new()),
            state: Mutex::new(prior),
            changes: Mutex::new(Vec::new()),
            drift: Mutex::new(Vec::new()),
            diagnostics: Mutex::new(Diagnostics::new()),
            writer: tokio::sync::Mutex::new(None),
            pending_records: crate::state::GroupCommit::default(),
            refactoring: Mutex::new(moves::Refactoring::default()),
            module_dirs: Mutex::new(HashMap::new()),
        }
    }

    /// The working state.
    fn state(&self) -> MutexGuard<'_, State> {
        locked(&self.state)
    }

    /// Whether `provider`'s configuration succeeded in this walk: nothing else may be asked of
    /// it before.
    fn is_configured(&self, provider: &ProviderRef) -> bool {
        locked(&self.configured)
            .get(provider)
            .copied()
            .unwrap_or(false)
    }

    /// What the `moved`, `removed` and `import` blocks (and adopted creates) mean for this plan.
    fn refactoring(&self) -> MutexGuard<'_, moves::Refactoring> {
        locked(&self.refactoring)
    }

    /// The values evaluated so far.
    fn store(&self) -> RwLockReadGuard<'_, Store> {
        read_locked(&self.store)
    }

    fn store_mut(&self) -> RwLockWriteGuard<'_, Store> {
        self.store.write().unwrap_or_else(|e| e.into_inner())
    }

    /// The errors and warnings reported so far.
    fn diagnostics(&self) -> MutexGuard<'_, Diagnostics> {
        locked(&self.diagnostics)
    }

    /// The instances of a module (from its expansion), as far as the walk has expanded it.
    fn module_instances(&self, path: &ModulePath) -> Vec<store::ModuleInstanceInfo> {
        self.store().instances_of(path)
    }

    fn error(&self, diagnostics: Diagnostics) {
        self.diagnostics().extend(diagnostics);
    }

    fn module_dir(&self, path: &ModulePath) -> PathBuf {
        let mut known = locked(&self.module_dirs);
        if let Some(dir) = known.get(path) {
            return dir.clone();
        }
        let dir = self
            .tree
            .descendant(path)
            .map(|t| t.module.dir.clone())
            .unwrap_or_default();
        let dir = relative_to(&dir, &self.options.cwd);
        known.insert(path.clone(), dir.clone());
        dir
    }

    /// Evaluates `expr` in a module instance.
    fn eval(
        &self,
        expr: &Expr,
        module: &ModuleInstance,
        repetition: &Repetition,
        self_value: Option<Value>,
    ) -> Result<Value, Diagnostics> {
        self.in_context(module, repetition, self_value, |context| {
            lang::eval_expr(expr, context)
        })
    }

    /// Runs `evaluate` in the evaluation context of a module instance, a repetition of a
    /// resource in it, and `self` (for provisioners and connections).
    fn in_context<T>(
        &self,
        module: &ModuleInstance,
        repetition: &Repetition,
        self_value: Option<Value>,
        evaluate: impl FnOnce(&EvalContext) -> T,
    ) -> T {
        let path = module.module_path();
        let tree = self.tree.descendant(&path).unwrap_or(&self.tree);
        let module_dir = self.module_dir(&path);
        let scope = self.scope(module, repetition, tree, module_dir.clone(), self_value);
        evaluate(&EvalContext {
            scope: &scope,
            module_dir,
            plan_mode: self.evaluation.defers_unknowns,
        })
    }

    fn eval_body(
        &self,
        body: &crate::config::Body,
        schema: &crate::providers::Block,
        module: &ModuleInstance,
        repetition: &Repetition,
    ) -> Result<Value, Diagnostics> {
        self.in_context(module, repetition, None, |context| {
            lang::eval_body(body, schema, context)
        })
    }

    /// A resource's configuration value: its body against the schema, and, when the schema has
    /// a `timeouts` block (the loader keeps `timeouts` apart, for the engine's own use), the
    /// evaluated timeouts in it, so plans show them and state records them as Terraform does.
    fn eval_resource_body(
        &self,
        config: &crate::config::ResourceConfig,
        schema: &crate::providers::Block,
        module: &ModuleInstance,
        repetition: &Repetition,
    ) -> Result<Value, Diagnostics> {
        let mut value = self.eval_body(&config.body, schema, module, repetition)?;
        let Some(nested) = schema.blocks.get("timeouts") else {
            return Ok(value);
        };
        if config.timeouts.is_empty() {
            return Ok(value);
        }
        let mut timeouts = std::collections::BTreeMap::new();
        for name in nested.block.attributes.keys() {
            let evaluated = match config.timeouts.get(name) {
                Some(expr) => self.eval(expr, module, repetition, None)?,
                None => Value::Null,
            };
            timeouts.insert(name.clone(), evaluated);
        }
        let timeouts = Value::Object(timeouts);
        let timeouts = match nested.nesting {
            crate::providers::Nesting::Single => timeouts,
            crate::providers::Nesting::List => Value::List(vec![timeouts]),
            crate::providers::Nesting::Set => Value::set(vec![timeouts]),
            crate::providers::Nesting::Map => {
                Value::Map(BTreeMap::from([("default".to_string(), timeouts)]))
            }
        };
        if let Value::Object(attributes) = &mut value {
            attributes.insert("timeouts".into(), timeouts);
        }
        Ok(value)
    }

    fn scope<'a>(
        &'a self,
        module: &'a ModuleInstance,
        repetition: &'a Repetition,
        tree: &'a ModuleTree,
        module_dir: PathBuf,
        self_value: Option<Value>,
    ) -> InstanceScope<'a> {
        InstanceScope {
            store: &self.store,
            module,
            repetition,
            repetition_unknown: self.evaluation.partial,
            module_dir,
            root_dir: self.root_dir.clone(),
            cwd: PathBuf::from(self.options.cwd.to_string_lossy().as_ref()),
            workspace: &self.options.workspace,
            module_tree: tree,
            lenient: self.evaluation.partial,
            self_value,
        }
    }
}

/// `provider["registry.terraform.io/hashicorp/aws"]`, with `.alias` when aliased.
pub fn provider_address(registry: &Registry, provider: &ProviderRef) -> String {
    let source = registry
        .get(&provider.name)
        .map(|r| r.source.clone())
        .unwrap_or_else(|| format!("registry.terraform.io/hashicorp/{}", provider.name));
    match &provider.alias {
        Some(alias) => format!("provider[\"{source}\"].{alias}"),
        None => format!("provider[\"{source}\"]"),
    }
}

/// The provider configuration a state's provider address names.
pub fn parse_provider_address(registry: &Registry, address: &str) -> Option<ProviderRef> {
    let rest = address.strip_prefix("provider[\"")?;
    let (source, rest) = rest.split_once("\"]")?;
    let alias = rest.strip_prefix('.').map(str::to_string);
    let name = registry
        .names()
        .find(|name| registry.get(name).is_some_and(|r| r.source == source))
        .map(str::to_string)
        .unwrap_or_else(|| source.rsplit('/').next().unwrap_or(source).to_string());
    Some(ProviderRef { name, alias })
}

fn provider_span(tree: &ModuleTree, provider: &ProviderRef) -> Option<Span> {
    if let Some(block) = tree
        .module
        .providers
        .iter()
        .find(|p| p.name == provider.name && p.alias == provider.alias)
    {
        return Some(block.span.clone());
    }
    let mut stack = vec![tree];
    while let Some(t) = stack.pop() {
        if let Some(r) = t
            .module
            .resources
            .values()
            .find(|r| r.provider == *provider)
        {
            return Some(r.span.clone());
        }
        stack.extend(t.children.values());
    }
    None
}

/// `path` relative to `base` when it lies below it ("." for `base` itself).
fn relative_to(path: &Path, base: &Path) -> PathBuf {
    let canonical = |p: &Path| std::fs::canonicalize(p).unwrap_or_else(|_| p.to_path_buf());
    let (path_c, base_c) = (canonical(path), canonical(base));
    match path_c.strip_prefix(&base_c) {
        Ok(rest) if rest.as_os_str().is_empty() => PathBuf::from("."),
        Ok(rest) => rest.to_path_buf(),
        Err(_) => path_c,
    }
}

/// The resources an instance's configuration depends on, directly or through locals, variables
/// and module outputs: recorded in state as `dependencies`, and used to order deletions.
fn resource_dependencies(graph: &Graph, node: &graph::Node) -> Vec<graph::Node> {
    graph.resource_dependencies(node)
}

/// The configuration's graph for a walk that refreshes or deletes objects of `providers`, with a
/// node for each of them: one `-target` pruned away (a targeted orphan's) is put back with what
/// its configuration needs, one the configuration never mentions gets a node of its own. No
/// provider is called before its node configures it.
fn graph_with_providers<'a>(
    run: &RunContext,
    providers: impl IntoIterator<Item = &'a ProviderRef>,
) -> Result<Graph, Diagnostics> {
    // One per object in the state: the few distinct ones first.
    let distinct: std::collections::BTreeSet<&ProviderRef> = providers.into_iter().collect();
    let missing: Vec<ProviderRef> = distinct
        .into_iter()
        .filter(|provider| {
            let node = graph::Node::Provider {
                provider: (*provider).clone(),
            };
            !run.graph.index.contains_key(&node)
        })
        .cloned()
        .collect();
    if missing.is_empty() {
        return Ok((*run.graph).clone());
    }
    let full = if run.options.targets.is_empty() {
        run.graph.clone()
    } else {
        Arc::new(graph::build(&run.tree)?)
    };
    Ok(graph::targets::with_providers(&run.graph, &full, &missing))
}

/// The prior state's objects, as the graph's deletion steps see them: current and deposed
/// objects, and the instances with a pending create (an interrupted run's, which the refresh
/// may adopt).
fn prior_objects(registry: &Registry, state: &State) -> Vec<graph::deletions::PriorObject> {
    let object = |instance: &ResourceInstance,
                  deposed: Option<&String>,
                  o: &crate::state::InstanceObject| {
        graph::deletions::PriorObject {
            instance: instance.clone(),
            deposed: deposed.cloned(),
            provider: parse_provider_address(registry, &o.provider),
            dependencies: o.dependencies.clone(),
        }
    };
    let mut prior: Vec<_> = state
        .resources
        .iter()
        .map(|(instance, o)| object(instance, None, o))
        .collect();
    for (instance, objects) in &state.deposed {
        prior.extend(
            objects
                .iter()
                .map(|(key, o)| object(instance, Some(key), o)),
        );
    }
    let pending = state
        .pending_creates
        .keys()
        .filter(|instance| !state.resources.contains_key(*instance));
    prior.extend(pending.map(|instance| {
        graph::deletions::PriorObject {
            instance: instance.clone(),
            deposed: None,
            // No configuration: the default configuration of its type's provider (as `adopt` sees it).
            provider: instance
                .resource
                .type_name
                .split('_')
                .next()
                .map(|name| ProviderRef {
                    name: name.to_string(),
                    alias: None,
                }),
            dependencies: Vec::new(),
        }
    }));
    prior
}

/// The abs resources (per module instance) for dependency nodes.
fn dependency_addresses(store: &Store, nodes: &[graph::Node]) -> Vec<AbsResource> {
    let mut out = Vec::new();
    for node in nodes {
        if let graph::Node::Resource { module, resource } = node {
            for info in store.instances_of(module) {
                out.push(AbsResource {
                    module: info.instance.clone(),
                    resource: resource.clone(),
                });
            }
        }
    }
    out.sort();
    out.dedup();
    out
}

pub use crate::lang::functions::parse_go_duration as parse_duration;

impl Engine {
    /// Imports an existing object as `address` (which the configuration must declare): the
    /// provider is configured (evaluating what its configuration needs) and asked to read the
    /// object by `id`.
    pub async fn import(
        &self,
        address: &ResourceInstance,
        id: &str,
    ) -> Result<crate::state::InstanceObject, Diagnostics> {
        let run = self.run(State::new(), plan::PlanWalker::EVALUATION)?;
        let path = address.module.module_path();
        let Some(config) = eval::resource_config(&self.tree, &path, &address.resource) else {
            return Err(Diagnostic::error("Configuration for import target does not exist")
                .with_detail(format!("The configuration for the given import target {address} does not exist. All target instances must have an associated configuration to be imported."))
                .with_help(format!("Add a resource block for {} first.", address.abs_resource()))
                .into());
        };
        let (provider_ref, schema) = eval::schema_for(&run, config, &path)?;
        let provider_node = graph::Node::Provider {
            provider: provider_ref.clone(),
        };
        let Some(&target) = self.graph.index.get(&provider_node) else {
            return Err(Diagnostic::error("Provider configuration not found").into());
        };
        // Everything the provider configuration depends on, in dependency order.
        let order = petgraph::algo::toposort(&self.graph.graph, None)
            .map_err(|_| Diagnostics::from(Diagnostic::error("Cycle in configuration")))?;
        let mut needed = std::collections::HashSet::new();
        let mut stack = vec![target];
        while let Some(node) = stack.pop() {
            if needed.insert(node) {
                stack.extend(
                    self.graph
                        .graph
                        .neighbors_directed(node, petgraph::Direction::Incoming),
                );
            }
        }
        for node in order.into_iter().filter(|n| needed.contains(n)) {
            let node = &self.graph.graph[node];
            if !nodes::visit_node(run.clone(), &plan::PlanWalker::default(), node).await {
                return Err(run.diagnostics().clone());
            }
        }
        let Some(provider) = run.provider(&provider_ref) else {
            return Err(Diagnostic::error(format!(
                "Provider \"{}\" is not available",
                provider_ref.name
            ))
            .into());
        };
        let imported = provider
            .import(&address.resource.type_name, id)
            .await
            .map_err(|error| provider_diagnostics::located(address, &error, Some(config)))?;
        let value = eval::mark_schema_sensitive(&run, address, imported.value);
        Ok(crate::state::InstanceObject {
            value,
            provider: run.provider_address(&provider_ref),
            schema_version: schema.version,
            dependencies: Vec::new(),
            create_before_destroy: config.lifecycle.create_before_destroy,
            status: crate::state::ObjectStatus::Ready,
            private: provider_diagnostics::encode_private(&imported.private),
        })
    }
}
