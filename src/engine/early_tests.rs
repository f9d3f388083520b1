//! `engine::early`, seen from the provider: which instance is configured, with what, and how
//! often. Each instance of the `fake` provider here is numbered, and every `configure` call is
//! logged with that number and the configuration.

use super::{locked, Engine, RunOptions};
use crate::config::load::load_tree;
use crate::config::ProviderRef;
use crate::diagnostics::SourceMap;
use crate::plan::Action;
use crate::providers::fake::FakeProvider;
use crate::providers::schema::ProviderSchema;
use crate::providers::{ApplyRequest, Provider, ProviderError, Registry};
use crate::state::State;
use crate::value::Value;
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

type ConfigureLog = Arc<Mutex<Vec<(usize, Value)>>>;

/// The `fake` provider, numbered, logging its `configure` calls.
struct Numbered {
    inner: FakeProvider,
    number: usize,
    log: ConfigureLog,
}

#[async_trait::async_trait]
impl Provider for Numbered {
    fn schema(&self) -> Arc<ProviderSchema> {
        self.inner.schema()
    }

    async fn configure(&self, config: &Value) -> Result<(), ProviderError> {
        locked(&self.log).push((self.number, config.clone()));
        self.inner.configure(config).await
    }

    async fn apply_resource(&self, request: ApplyRequest) -> Result<Option<Value>, ProviderError> {
        self.inner.apply_resource(request).await
    }

    async fn read_resource(
        &self,
        type_name: &str,
        current: &Value,
    ) -> Result<Option<Value>, ProviderError> {
        self.inner.read_resource(type_name, current).await
    }

    async fn read_data_source(
        &self,
        type_name: &str,
        config: &Value,
    ) -> Result<Value, ProviderError> {
        self.inner.read_data_source(type_name, config).await
    }

    async fn import_resource(&self, type_name: &str, id: &str) -> Result<Value, ProviderError> {
        self.inner.import_resource(type_name, id).await
    }
}

/// An engine over `main_tf` (in a temporary directory, which `{store}` names) whose `fake`
/// instances log their configuration.
fn engine(main_tf: &str) -> (Engine, ConfigureLog, tempfile::TempDir) {
    let work = tempfile::tempdir().expect("a temporary directory");
    let store = work.path().join("store");
    let text = main_tf.replace("{store}", &format!("{store:?}"));
    std::fs::write(work.path().join("main.tf"), text).expect("main.tf");
    let tree = load_tree(work.path(), &mut SourceMap::new()).expect("a valid configuration");
    let log = ConfigureLog::default();
    let numbers = Arc::new(AtomicUsize::new(0));
    let mut registry = Registry::builtin();
    let logged = log.clone();
    registry.register(
        "fake",
        "registry.strata.dev/strata/fake",
        Arc::new(move || {
            Arc::new(Numbered {
                inner: FakeProvider::new(),
                number: numbers.fetch_add(1, Ordering::SeqCst),
                log: logged.clone(),
            }) as Arc<dyn Provider>
        }),
    );
    let options = RunOptions {
        cwd: work.path().to_path_buf(),
        ..RunOptions::default()
    };
    let engine = Engine::new(tree, registry, options, BTreeMap::new()).expect("a graph");
    (engine, log, work)
}

const FROM_A_VARIABLE: &str = r#"
variable "store" {
  default = {store}
}

provider "fake" {
  store = var.store
}

resource "fake_resource" "r" {
  name = "r"
}
"#;

fn fake() -> ProviderRef {
    ProviderRef {
        name: "fake".into(),
        alias: None,
    }
}

#[tokio::test]
async fn a_provider_configured_early_serves_the_plan_without_a_second_configure() {
    let (engine, log, _work) = engine(FROM_A_VARIABLE);
    engine.configure_early().await;
    let early = locked(&log).clone();
    assert_eq!(early.len(), 1, "{early:?}");
    let planned = engine.plan(State::new()).await.expect("a plan");
    assert_eq!(planned.plan.changes[0].action, Action::Create);
    assert_eq!(*locked(&log), early, "the plan configured nothing more");
    // The early instance served that plan only: the next run configures its own.
    engine.plan(State::new()).await.expect("a plan");
    let log = locked(&log).clone();
    assert_eq!(log.len(), 2, "{log:?}");
    assert_ne!(log[1].0, log[0].0, "{log:?}");
}

#[tokio::test]
async fn an_early_configuration_the_run_does_not_give_is_replaced_by_a_fresh_instance() {
    let (engine, log, _work) = engine(FROM_A_VARIABLE);
    engine.configure_early().await;
    // As if the early evaluation had given another value (an impure function).
    let early = locked(&engine.early).get_mut(&fake()).map(|early| {
        early.config = Value::object([("store", Value::string("elsewhere"))]);
    });
    assert!(early.is_some(), "the provider was configured early");
    engine.plan(State::new()).await.expect("a plan");
    let log = locked(&log).clone();
    assert_eq!(log.len(), 2, "{log:?}");
    assert_ne!(log[1].0, log[0].0, "a fresh instance: {log:?}");
    assert_eq!(
        log[1].1, log[0].1,
        "configured with the run's value: {log:?}"
    );
}

#[tokio::test]
async fn a_provider_reading_a_resource_is_configured_by_its_run_only() {
    let (engine, log, _work) = engine(
        r#"
resource "terraform_data" "store" {
  input = {store}
}

provider "fake" {
  store = terraform_data.store.output
}
"#,
    );
    engine.configure_early().await;
    assert!(locked(&log).is_empty(), "{:?}", locked(&log));
    assert!(!locked(&engine.early).contains_key(&fake()));
}
