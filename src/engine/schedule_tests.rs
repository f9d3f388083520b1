//! The apply's instance-level scheduling, shown by order alone (no timing): `b[0]` reads
//! `a[0]` only, so it is applied while `a[1]` is still held by the provider. Were `b` to wait
//! for all of `a`, the apply could not finish: `a[1]` is released only once `b[0]` is done.

use super::{Engine, Event, Events, RunOptions};
use crate::config::load::load_tree;
use crate::diagnostics::SourceMap;
use crate::plan::Action;
use crate::providers::fake::FakeProvider;
use crate::providers::schema::ProviderSchema;
use crate::providers::{ApplyRequest, Provider, ProviderError, Registry};
use crate::state::{State, StateChange, StateError, StateWriter};
use crate::value::Value;
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::Notify;

const CONFIG: &str = r#"
resource "fake_resource" "a" {
  count = 2
  name  = "a-${count.index}"
}

resource "fake_resource" "b" {
  count = 2
  name  = "b-${fake_resource.a[count.index].id}"
}
"#;

/// The `fake` provider, except that the create of the object named `a-1` waits for `release`.
struct HoldingFake {
    inner: FakeProvider,
    release: Arc<Notify>,
}

#[async_trait::async_trait]
impl Provider for HoldingFake {
    fn schema(&self) -> Arc<ProviderSchema> {
        self.inner.schema()
    }

    async fn configure(&self, config: &Value) -> Result<(), ProviderError> {
        self.inner.configure(config).await
    }

    async fn apply_resource(&self, request: ApplyRequest) -> Result<Option<Value>, ProviderError> {
        if request.config.get_attr("name").and_then(Value::as_str) == Some("a-1") {
            self.release.notified().await;
        }
        self.inner.apply_resource(request).await
    }

    async fn read_resource(
        &self,
        type_name: &str,
        current: &Value,
    ) -> Result<Option<Value>, ProviderError> {
        self.inner.read_resource(type_name, current).await
    }

    async fn import_resource(&self, type_name: &str, id: &str) -> Result<Value, ProviderError> {
        self.inner.import_resource(type_name, id).await
    }

    async fn read_data_source(
        &self,
        type_name: &str,
        config: &Value,
    ) -> Result<Value, ProviderError> {
        self.inner.read_data_source(type_name, config).await
    }
}

/// Records the instances applied, in order, and releases `a-1` once `b[0]` is done.
struct Watch {
    done: Mutex<Vec<String>>,
    release: Arc<Notify>,
}

impl Events for Watch {
    fn event(&self, event: Event) {
        if let Event::ApplyDone { address, .. } = event {
            let address = address.to_string();
            if address == "fake_resource.b[0]" {
                self.release.notify_one();
            }
            self.done
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .push(address);
        }
    }
}

struct KeepNothing;

#[async_trait::async_trait]
impl StateWriter for KeepNothing {
    async fn record(&mut self, _change: &StateChange) -> Result<(), StateError> {
        Ok(())
    }

    async fn finish(&mut self, _state: &State) -> Result<(), StateError> {
        Ok(())
    }
}

#[tokio::test]
async fn an_instance_starts_once_the_instance_it_reads_is_applied() {
    let work = tempfile::tempdir().expect("a temporary directory");
    let store = work.path().join("store");
    let provider = format!("provider \"fake\" {{\n  store = {store:?}\n}}\n");
    std::fs::write(work.path().join("main.tf"), format!("{CONFIG}{provider}")).expect("main.tf");
    let tree = load_tree(work.path(), &mut SourceMap::new()).expect("a valid configuration");
    let release = Arc::new(Notify::new());
    let mut registry = Registry::empty();
    let held = release.clone();
    registry.register(
        "fake",
        "registry.strata.dev/strata/fake",
        Arc::new(move || {
            Arc::new(HoldingFake {
                inner: FakeProvider::new(),
                release: held.clone(),
            }) as Arc<dyn Provider>
        }),
    );
    let watch = Arc::new(Watch {
        done: Mutex::new(Vec::new()),
        release,
    });
    let options = RunOptions {
        cwd: work.path().to_path_buf(),
        ..RunOptions::default()
    };
    let engine = Engine::new(tree, registry, options, BTreeMap::new())
        .expect("a graph")
        .with_events(watch.clone());
    let planned = engine.plan(State::new()).await.expect("a plan");
    let creates = planned.plan.changes.iter();
    assert_eq!(creates.filter(|c| c.action == Action::Create).count(), 4);
    let applying = engine.apply(&planned.plan, planned.refreshed, Box::new(KeepNothing));
    // Not a measurement: only a guard against a hang, should `b[0]` wait for `a[1]`.
    let applied = tokio::time::timeout(Duration::from_secs(60), applying)
        .await
        .expect("b[0] was applied while a[1] was held (the apply did not finish)");
    assert!(
        !applied.diagnostics.has_errors(),
        "{:?}",
        applied.diagnostics
    );
    let done = watch.done.lock().unwrap_or_else(|e| e.into_inner()).clone();
    let position = |address: &str| done.iter().position(|d| d == address);
    assert!(
        position("fake_resource.b[0]") < position("fake_resource.a[1]"),
        "b[0] is applied before a[1]: {done:?}"
    );
    assert_eq!(done.len(), 4, "every instance is applied: {done:?}");
}
