//! Engine tests without the binary, as OpenTofu's `context_plan_test.go`: each case is a folder
//! `testdata/<case>/` run against the `fake` provider (its store in a temporary directory):
//!
//! - `main.tf`: the configuration planned, then applied;
//! - `before/main.tf` (optional): applied first, to make the prior state;
//! - `state.json` (optional): the prior state instead (Terraform's format; its `fake_resource`
//!   objects are put in the fake store, so the refresh finds them);
//! - `options.json` (optional): `{"targets": [...], "replace": [...], "destroy": true}`;
//! - `plan.snap`, `apply.snap`: the plan (changes, outputs, warnings) and what the apply did
//!   (diagnostics, the state changes recorded per address in order, the resulting state, and
//!   how many changes a plain plan made right after still finds), as insta snapshots; a plan
//!   that fails has its errors in `plan.snap` and no `apply.snap`.
//!
//! Independent operations run concurrently, so the recorded changes are listed per address;
//! `check_order` checks the order across addresses that matters (an object is written after
//! what it depends on, and removed before it; an orphan is removed after what used it changed).
//!
//! The fake provider's IDs are random: they appear as `fake-<n>`, numbered by first appearance.
//! Cases do not write a `provider "fake"` block: the harness adds one naming the store.

use super::{Engine, RunOptions};
use crate::addrs::{ResourceInstance, Target};
use crate::config::load::load_tree;
use crate::diagnostics::{Diagnostics, SourceMap};
use crate::plan::{Plan, PlanMode};
use crate::providers::Registry;
use crate::state::{State, StateChange, StateError, StateWriter};
use crate::value::Value;
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

/// `options.json`.
#[derive(Default, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
struct CaseOptions {
    targets: Vec<String>,
    replace: Vec<String>,
    destroy: bool,
}

/// Records the state changes an apply makes, in order (the journal a backend would write).
#[derive(Clone, Default)]
struct RecordingWriter {
    changes: Arc<Mutex<Vec<StateChange>>>,
}

#[async_trait::async_trait]
impl StateWriter for RecordingWriter {
    async fn record(&mut self, change: &StateChange) -> Result<(), StateError> {
        self.changes
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(change.clone());
        Ok(())
    }

    async fn finish(&mut self, _state: &State) -> Result<(), StateError> {
        Ok(())
    }
}

/// Numbers the fake provider's random IDs by first appearance.
#[derive(Default)]
struct Redactor {
    seen: BTreeMap<String, usize>,
}

impl Redactor {
    fn redact(&mut self, text: &str) -> String {
        let pattern = regex::Regex::new("fake-[0-9a-f]{12}").expect("a valid pattern");
        pattern
            .replace_all(text, |found: &regex::Captures| {
                let next = self.seen.len() + 1;
                let number = *self.seen.entry(found[0].to_string()).or_insert(next);
                format!("fake-<{number}>")
            })
            .into_owned()
    }
}

/// A value on one line, HCL-like; unknowns and sensitive values as the plan shows them.
fn show(value: &Value) -> String {
    let list = |items: &[Value], open: &str, close: &str| {
        let items: Vec<String> = items.iter().map(show).collect();
        format!("{open}{}{close}", items.join(", "))
    };
    match value {
        Value::Null => "null".into(),
        Value::Unknown(_) => "(known after apply)".into(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => n.to_string(),
        Value::String(s) => format!("{s:?}"),
        Value::List(items) | Value::Tuple(items) => list(items, "[", "]"),
        Value::Set(items) => list(items, "set(", ")"),
        Value::Map(entries) | Value::Object(entries) => {
            let entries: Vec<String> = entries
                .iter()
                .filter(|(_, v)| !v.is_null())
                .map(|(k, v)| format!("{k} = {}", show(v)))
                .collect();
            format!("{{ {} }}", entries.join(", "))
        }
        Value::Sensitive(_) => "(sensitive value)".into(),
    }
}

fn show_diagnostics(out: &mut String, diagnostics: &Diagnostics) {
    for diagnostic in diagnostics.iter() {
        let level = if diagnostic.is_error() {
            "error"
        } else {
            "warning"
        };
        let detail = diagnostic.detail.lines().next().unwrap_or_default();
        let _ = writeln!(out, "{level}: {}: {detail}", diagnostic.summary);
    }
}

fn show_plan(plan: &Plan, warnings: &Diagnostics) -> String {
    let mut out = String::new();
    for change in &plan.changes {
        let _ = write!(out, "{:?} {}", change.action, change.address);
        if change.deposed.is_some() {
            out.push_str(" (deposed object)");
        }
        if let Some(from) = &change.previous_address {
            let _ = write!(out, " (moved from {from})");
        }
        if let Some(id) = &change.importing {
            let _ = write!(out, " (importing {id})");
        }
        if let Some(reason) = &change.reason {
            let _ = write!(out, " because {reason:?}");
        }
        if !change.requires_replace.is_empty() {
            let paths: Vec<String> = change
                .requires_replace
                .iter()
                .map(ToString::to_string)
                .collect();
            let _ = write!(out, " (forced by {})", paths.join(", "));
        }
        out.push('\n');
        if let Some(after) = &change.after {
            let _ = writeln!(out, "  after: {}", show(after));
        }
    }
    for (name, change) in &plan.output_changes {
        let after = change.after.as_ref().map(show).unwrap_or_default();
        let _ = writeln!(out, "output.{name}: {:?} {after}", change.action);
    }
    show_diagnostics(&mut out, warnings);
    out
}

fn show_state(out: &mut String, state: &State) {
    for (address, object) in &state.resources {
        let _ = writeln!(
            out,
            "{address} ({:?}): {}",
            object.status,
            show(&object.value)
        );
    }
    for (address, objects) in &state.deposed {
        for object in objects.values() {
            let _ = writeln!(out, "{address} deposed: {}", show(&object.value));
        }
    }
    for address in state.pending_creates.keys() {
        let _ = writeln!(out, "{address}: create pending");
    }
    for (name, output) in &state.outputs {
        let _ = writeln!(out, "output.{name} = {}", show(&output.value));
    }
}

/// The instance a recorded change is about (a move: its destination).
fn changed_address(change: &StateChange) -> Option<ResourceInstance> {
    let json = serde_json::to_value(change).unwrap_or_default();
    let address = json.get("address").or_else(|| json.get("to"))?;
    serde_json::from_value(address.clone()).ok()
}

/// One recorded change: its operation and address.
fn show_change(change: &StateChange) -> String {
    let json = serde_json::to_value(change).unwrap_or_default();
    let op = json["op"].as_str().unwrap_or("?").to_string();
    match changed_address(change) {
        Some(address) => format!("{op} {address}"),
        None => op,
    }
}

/// Checks the order the apply recorded its operations in: an object is written after the
/// objects it depends on are (final state's dependencies), and removed before the objects it
/// depended on are (prior state's dependencies).
fn check_order(prior: &State, after: &State, recorded: &[StateChange]) {
    let depends = |state: &State, dependent: &ResourceInstance, on: &ResourceInstance| {
        state.resources.get(dependent).is_some_and(|object| {
            object
                .dependencies
                .iter()
                .any(|d| d.module == on.module && d.resource == on.resource)
        })
    };
    let position = |op: &str, address: &ResourceInstance, last: bool| {
        let mut found = recorded.iter().enumerate().filter(|(_, change)| {
            changed_address(change).as_ref() == Some(address)
                && show_change(change).starts_with(&format!("{op} "))
        });
        if last {
            found.next_back().map(|(i, _)| i)
        } else {
            found.next().map(|(i, _)| i)
        }
    };
    let addresses: Vec<ResourceInstance> = recorded.iter().filter_map(changed_address).collect();
    for x in &addresses {
        for y in addresses.iter().filter(|y| *y != x) {
            if let (true, Some(px), Some(py)) = (
                depends(after, y, x),
                position("put", x, true),
                position("put", y, true),
            ) {
                assert!(px < py, "{y} is written before {x}, which it depends on");
            }
            if let (true, Some(rx), Some(ry)) = (
                depends(prior, y, x),
                position("remove", x, false),
                position("remove", y, false),
            ) {
                assert!(ry < rx, "{x} is removed before {y}, which depends on it");
            }
            // An orphan (its resource is gone from the configuration) is removed after what
            // depended on it has changed.
            let resource_gone = !after
                .resources
                .keys()
                .any(|a| a.module == x.module && a.resource == x.resource);
            if let (true, true, Some(rx), Some(py)) = (
                resource_gone,
                depends(prior, y, x),
                position("remove", x, false),
                position("put", y, true),
            ) {
                assert!(py < rx, "{x} is removed before {y}, which used it, changes");
            }
        }
    }
}

/// A case's configuration in a working directory, with the provider block naming the store.
fn working_copy(config: &Path, work: &Path, store: &Path) -> PathBuf {
    let dir = work.join("config");
    copy_tf_files(config, &dir);
    let provider = format!("provider \"fake\" {{\n  store = {:?}\n}}\n", store);
    std::fs::write(dir.join("zz_fake_store.tf"), provider).expect("the provider block");
    dir
}

/// The `.tf` files of `from` and its subfolders (local modules), except `before/`.
fn copy_tf_files(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("a config directory");
    for entry in std::fs::read_dir(from).expect("a case folder") {
        let path = entry.expect("an entry").path();
        let name = path.file_name().expect("a file name");
        if path.is_dir() && name != "before" {
            copy_tf_files(&path, &to.join(name));
        } else if path.extension().is_some_and(|e| e == "tf") {
            std::fs::copy(&path, to.join(name)).expect("copy a .tf file");
        }
    }
}

fn engine_for(config: &Path, work: &Path, store: &Path, options: &CaseOptions) -> Engine {
    let dir = working_copy(config, work, store);
    let tree = load_tree(&dir, &mut SourceMap::new()).expect("a valid configuration");
    let parse = |t: &String| Target::parse(t).expect("a target");
    let run_options = RunOptions {
        targets: options.targets.iter().map(parse).collect(),
        replace: options
            .replace
            .iter()
            .map(|r| match parse(r) {
                Target::Instance(instance) => instance,
                other => panic!("`replace` names instances, not {other}"),
            })
            .collect(),
        mode: if options.destroy {
            PlanMode::Destroy
        } else {
            PlanMode::Normal
        },
        cwd: dir,
        ..RunOptions::default()
    };
    Engine::new(tree, Registry::builtin(), run_options, BTreeMap::new())
        .expect("the configuration builds a graph")
}

/// The state as a state file holds it, read back with the providers' schemas (as commands do).
fn through_file(state: &State) -> State {
    let text = crate::state::format::write_state(state).expect("a state file");
    read_with_schemas(&text)
}

fn read_with_schemas(text: &str) -> State {
    let mut state = crate::state::format::read_state(text, "state.json").expect("a state");
    let registry = Registry::builtin();
    let mut schemas = crate::state::StateSchemas::new();
    for name in registry.names() {
        if let Some(registered) = registry.get(name) {
            schemas.insert_provider(&registered.source, &(registered.factory)().schema());
        }
    }
    state.attach_schemas(Arc::new(schemas));
    state
}

/// Puts a state's `fake_resource` objects in the fake store, where a refresh finds them.
fn seed_store(state: &State, store: &Path) {
    std::fs::create_dir_all(store).expect("the store");
    let objects = state
        .resources
        .values()
        .chain(state.deposed.values().flat_map(|d| d.values()));
    for object in objects {
        let Some(id) = object.value.get_attr("id").and_then(Value::as_str) else {
            continue;
        };
        let (plain, _) = object.value.clone().deep_unmark();
        let json = crate::value::value_to_json(&plain).expect("a JSON value");
        std::fs::write(store.join(format!("{id}.json")), json.to_string()).expect("an object");
    }
}

async fn plan_and_apply(
    engine: &Engine,
    prior: &State,
) -> (Plan, Diagnostics, super::ApplyOutcome) {
    let outcome = engine.plan(prior.clone()).await.expect("a plan");
    let writer = RecordingWriter::default();
    let applied = engine
        .apply(&outcome.plan, outcome.refreshed, Box::new(writer))
        .await;
    (outcome.plan, outcome.warnings, applied)
}

/// Runs the case in `testdata/<case>` and checks its two snapshots.
async fn run_case(case: &str) {
    let folder = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("src/engine/testdata")
        .join(case);
    let work = tempfile::tempdir().expect("a temporary directory");
    let store = work.path().join("store");
    let options: CaseOptions = match std::fs::read_to_string(folder.join("options.json")) {
        Ok(text) => serde_json::from_str(&text).expect("valid options.json"),
        Err(_) => CaseOptions::default(),
    };
    let mut prior = State::new();
    if folder.join("before").is_dir() {
        let before_work = work.path().join("before");
        let before = engine_for(
            &folder.join("before"),
            &before_work,
            &store,
            &CaseOptions::default(),
        );
        let (_, _, applied) = plan_and_apply(&before, &State::new()).await;
        assert!(
            !applied.diagnostics.has_errors(),
            "before/main.tf applies: {:?}",
            applied.diagnostics
        );
        prior = through_file(&applied.state);
    }
    if let Ok(text) = std::fs::read_to_string(folder.join("state.json")) {
        prior = read_with_schemas(&text);
        seed_store(&prior, &store);
    }
    let engine = engine_for(&folder, &work.path().join("main"), &store, &options);
    let mut redactor = Redactor::default();
    let outcome = engine.plan(prior.clone()).await;
    let (plan, warnings, refreshed) = match outcome {
        Ok(outcome) => (outcome.plan, outcome.warnings, outcome.refreshed),
        Err(errors) => {
            let mut out = String::new();
            show_diagnostics(&mut out, &errors);
            snapshot(&folder, "plan", redactor.redact(&out));
            return;
        }
    };
    snapshot(
        &folder,
        "plan",
        redactor.redact(&show_plan(&plan, &warnings)),
    );
    let writer = RecordingWriter::default();
    let recorded = writer.changes.clone();
    let applied = engine.apply(&plan, refreshed, Box::new(writer)).await;
    let mut out = String::new();
    show_diagnostics(&mut out, &applied.diagnostics);
    let recorded = recorded.lock().unwrap_or_else(|e| e.into_inner()).clone();
    check_order(&prior, &applied.state, &recorded);
    out.push_str("recorded (per address, in order):\n");
    let mut lines: Vec<(Option<ResourceInstance>, String)> = recorded
        .iter()
        .map(|change| (changed_address(change), show_change(change)))
        .collect();
    // Independent operations run concurrently: only each address's own sequence (and the
    // dependency order `check_order` checks) is deterministic.
    lines.sort_by(|a, b| match (&a.0, &b.0) {
        (Some(x), Some(y)) => x.cmp(y),
        (Some(_), None) => std::cmp::Ordering::Less,
        (None, Some(_)) => std::cmp::Ordering::Greater,
        (None, None) => std::cmp::Ordering::Equal,
    });
    for (_, line) in lines {
        let _ = writeln!(out, "  {line}");
    }
    out.push_str("state:\n");
    show_state(&mut out, &applied.state);
    // Without `-target` or `-replace`: what the next plain plan would still do.
    let plain = engine_for(
        &folder,
        &work.path().join("again"),
        &store,
        &CaseOptions::default(),
    );
    let after = through_file(&applied.state);
    let again = match plain.plan(after).await {
        Ok(again) => {
            let pending = again.plan.changes.iter().filter(|c| c.is_change()).count();
            format!("a plan after the apply: {pending} changes\n")
        }
        Err(errors) => format!("a plan after the apply fails: {} errors\n", errors.len()),
    };
    out.push_str(&again);
    snapshot(&folder, "apply", redactor.redact(&out));
}

fn snapshot(folder: &Path, name: &str, text: String) {
    let mut settings = insta::Settings::clone_current();
    settings.set_snapshot_path(folder);
    settings.set_prepend_module_to_snapshot(false);
    settings.set_omit_expression(true);
    settings.bind(|| insta::assert_snapshot!(name, text));
}

/// A `destroy` whose provider cannot be configured when the apply starts (its plan configured
/// it: a credential gone, a file removed) calls nothing on it: the object stays in the state
/// and in the store, with an error naming the cause, not the provider's own "not configured".
#[tokio::test]
async fn a_destroy_whose_provider_cannot_be_configured_deletes_nothing() {
    let work = tempfile::tempdir().expect("a temporary directory");
    let store = work.path().join("store");
    let config = work.path().join("case");
    std::fs::create_dir_all(&config).expect("a case folder");
    let main = "resource \"fake_resource\" \"a\" {\n  name = \"a\"\n}\n";
    std::fs::write(config.join("main.tf"), main).expect("main.tf");
    let created = engine_for(
        &config,
        &work.path().join("create"),
        &store,
        &CaseOptions::default(),
    );
    let (_, _, applied) = plan_and_apply(&created, &State::new()).await;
    assert!(
        !applied.diagnostics.has_errors(),
        "{:?}",
        applied.diagnostics
    );
    let destroy = CaseOptions {
        destroy: true,
        ..CaseOptions::default()
    };
    let planner = engine_for(&config, &work.path().join("plan"), &store, &destroy);
    let planned = planner
        .plan(applied.state.clone())
        .await
        .expect("a destroy plan");
    assert_eq!(planned.plan.changes.len(), 1);
    // The same configuration, its provider block failing now.
    let broken = work.path().join("broken");
    std::fs::create_dir_all(&broken).expect("a config directory");
    std::fs::write(broken.join("main.tf"), main).expect("main.tf");
    let provider = "provider \"fake\" {\n  store = file(\"no-such-file\")\n}\n";
    std::fs::write(broken.join("provider.tf"), provider).expect("provider.tf");
    let tree = load_tree(&broken, &mut SourceMap::new()).expect("a valid configuration");
    let options = RunOptions {
        mode: PlanMode::Destroy,
        cwd: broken,
        ..RunOptions::default()
    };
    let engine = Engine::new(tree, Registry::builtin(), options, BTreeMap::new()).expect("a graph");
    let writer = Box::new(RecordingWriter::default());
    let outcome = engine.apply(&planned.plan, planned.refreshed, writer).await;
    let mut errors = String::new();
    show_diagnostics(&mut errors, &outcome.diagnostics);
    assert!(
        errors.contains("fake_resource.a: not deleted") && !errors.contains("not configured ("),
        "{errors}"
    );
    assert!(outcome
        .state
        .resources
        .keys()
        .any(|a| a.to_string() == "fake_resource.a"));
    let objects = std::fs::read_dir(&store)
        .expect("the store")
        .filter(|e| {
            e.as_ref()
                .is_ok_and(|e| e.path().extension().is_some_and(|x| x == "json"))
        })
        .count();
    assert_eq!(objects, 1, "the object is still there");
}

/// A check's scoped data source is read only through a provider the walk configured: with
/// `-target`, a provider the pruning left out (here one the state still names) is not asked;
/// its check, which the targeted run does not reach, is not evaluated.
#[tokio::test]
async fn a_check_never_reads_through_a_provider_the_walk_did_not_configure() {
    let work = tempfile::tempdir().expect("a temporary directory");
    let store = work.path().join("store");
    let dir = work.path().join("config");
    std::fs::create_dir_all(&dir).expect("a config directory");
    let config = format!(
        r#"provider "fake" {{
  store = {store:?}
}}
provider "fake" {{
  alias = "other"
  store = {store:?}
}}
resource "fake_resource" "a" {{
  name = "a"
}}
resource "fake_resource" "b" {{
  provider = fake.other
  name     = "b"
}}
check "other" {{
  data "fake_data" "d" {{
    provider = fake.other
    name     = "d"
  }}
  assert {{
    condition     = data.fake_data.d.value == "data-d"
    error_message = "the data source reads"
  }}
}}
"#
    );
    std::fs::write(dir.join("main.tf"), config).expect("main.tf");
    let engine = |targets: Vec<Target>| {
        let tree = load_tree(&dir, &mut SourceMap::new()).expect("a valid configuration");
        let options = RunOptions {
            targets,
            cwd: dir.clone(),
            ..RunOptions::default()
        };
        Engine::new(tree, Registry::builtin(), options, BTreeMap::new()).expect("a graph")
    };
    let (_, warnings, applied) = plan_and_apply(&engine(Vec::new()), &State::new()).await;
    assert!(
        !applied.diagnostics.has_errors(),
        "{:?}",
        applied.diagnostics
    );
    assert!(
        !warnings.has_errors() && warnings.is_empty(),
        "{warnings:?}"
    );
    let targeted = engine(vec![Target::parse("fake_resource.a").expect("a target")]);
    let (_, warnings, applied) = plan_and_apply(&targeted, &applied.state).await;
    let mut text = String::new();
    show_diagnostics(&mut text, &warnings);
    show_diagnostics(&mut text, &applied.diagnostics);
    assert!(!text.contains("not configured"), "{text}");
    assert!(!applied.diagnostics.has_errors(), "{text}");
}

macro_rules! cases {
    ($($case:ident),* $(,)?) => {
        $(
            #[tokio::test]
            async fn $case() {
                run_case(stringify!($case)).await;
            }
        )*

        /// Every folder under `testdata` is a case listed here.
        #[test]
        fn every_case_folder_is_listed() {
            let listed = [$(stringify!($case)),*];
            let folder = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/engine/testdata");
            for entry in std::fs::read_dir(folder).expect("the testdata folder") {
                let name = entry.expect("an entry").file_name().to_string_lossy().to_string();
                assert!(listed.contains(&name.as_str()), "add `{name}` to `cases!`");
            }
        }
    };
}

cases!(
    count_shrinks,
    create,
    data_sources,
    delete_orphan_resource,
    deposed_from_state,
    deposed_of_a_provider_nothing_configures,
    destroy,
    failure_mid_apply,
    failure_on_update,
    for_each_expansion,
    instance_references,
    module_count,
    module_count_shrinks,
    moved_block,
    orphan_depended_on,
    precondition_fails,
    prevent_destroy,
    replace,
    replace_by_request,
    replace_create_before_destroy,
    replace_create_before_destroy_fails,
    tainted_from_state,
    targeting_instance,
    targeting_orphan,
    update,
);
