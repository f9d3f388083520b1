//! The `fake` provider, for engine tests and benchmarks.
//!
//! Its "remote system" is a directory (the provider's `store` argument, else the
//! `STRATA_FAKE_STORE` environment variable, else `.fake-store` in the working directory) with
//! one JSON file per object, so objects outlive a process and a test can look at, change
//! (drift) or delete them behind Strata's back. Resources can be told to take time
//! (`latency_ms`: each create, update or delete takes that long in all, writing the store
//! included; the object appears when it ends), to fail (`fail = "create"`), or to outlast
//! their `timeouts`.
//!
//! Resource `fake_resource`: `name`, `value`, `replace_on` (forces replacement), `secret`
//! (sensitive), `tags`, `latency_ms`, `fail`, nested `rule` blocks; computed `id` and `computed`.
//! Data source `fake_data`: `name` in, `value` (`"data-<name>"`) out.

use super::schema::{Attribute, Block, Nesting, ProviderSchema, ResourceSchema};
use super::{ApplyRequest, Provider, ProviderError};
use crate::state::off_the_runtime;
use crate::value::{value_from_json, value_to_json, Type, Value};
use async_trait::async_trait;
use std::path::PathBuf;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

/// The `fake` provider.
pub struct FakeProvider {
    schema: Arc<ProviderSchema>,
    store: OnceLock<PathBuf>,
    default_latency: OnceLock<Duration>,
    /// Set by [`Provider::configure`]: every call on objects before it is refused, as the AWS
    /// provider refuses it, so that an engine test catches a call made too early.
    configured: std::sync::atomic::AtomicBool,
}

impl Default for FakeProvider {
    fn default() -> Self {
        FakeProvider::new()
    }
}

fn resource_block() -> Block {
    Block::new()
        .attr("id", Attribute::computed(Type::String))
        .attr("name", Attribute::optional(Type::String))
        .attr("value", Attribute::optional(Type::String))
        .attr("replace_on", Attribute::optional(Type::String).force_new())
        .attr("secret", Attribute::optional(Type::String).sensitive())
        .attr("tags", Attribute::optional(Type::map(Type::String)))
        .attr("latency_ms", Attribute::optional(Type::Number))
        .attr("fail", Attribute::optional(Type::String))
        .attr("computed", Attribute::computed(Type::String))
        .block(
            "rule",
            Nesting::List,
            Block::new()
                .attr("port", Attribute::required(Type::Number))
                .attr(
                    "protocol",
                    Attribute::optional(Type::String).with_default("tcp"),
                ),
        )
}

impl FakeProvider {
    pub fn new() -> FakeProvider {
        let mut schema = ProviderSchema {
            provider: Block::new()
                .attr("store", Attribute::optional(Type::String))
                .attr("latency_ms", Attribute::optional(Type::Number)),
            ..ProviderSchema::default()
        };
        schema.resources.insert(
            "fake_resource".into(),
            ResourceSchema {
                version: 0,
                block: resource_block(),
            },
        );
        schema.data_sources.insert(
            "fake_data".into(),
            ResourceSchema {
                version: 0,
                block: Block::new()
                    .attr("name", Attribute::required(Type::String))
                    .attr("value", Attribute::computed(Type::String)),
            },
        );
        FakeProvider {
            schema: Arc::new(schema),
            store: OnceLock::new(),
            default_latency: OnceLock::new(),
            configured: std::sync::atomic::AtomicBool::new(false),
        }
    }

    /// Refuses a call on objects before [`Provider::configure`] (the engine's contract).
    fn configured(&self, call: &str) -> Result<(), ProviderError> {
        if self.configured.load(std::sync::atomic::Ordering::SeqCst) {
            return Ok(());
        }
        Err(ProviderError::new(
            format!("the fake provider is not configured ({call})"),
            "the engine must call `configure` before using it",
        ))
    }

    fn store(&self) -> PathBuf {
        self.store.get().cloned().unwrap_or_else(default_store)
    }

    fn object_path(&self, id: &str) -> PathBuf {
        self.store().join(format!("{id}.json"))
    }

    fn token_path(&self, token: &str) -> PathBuf {
        self.store().join("tokens").join(token)
    }

    fn latency(&self, config: &Value) -> Duration {
        config
            .get_attr("latency_ms")
            .and_then(Value::as_number)
            .and_then(|n| u64::try_from(n.to_i64().unwrap_or(0)).ok())
            .map(Duration::from_millis)
            .or_else(|| self.default_latency.get().copied())
            .unwrap_or_default()
    }

    /// Writes an object beside its place ([`Staged::publish`] moves it there).
    fn stage_object(&self, id: &str, value: &Value) -> Result<Staged, ProviderError> {
        let (plain, _) = value.clone().deep_unmark();
        let json = value_to_json(&plain)
            .map_err(|e| ProviderError::new("writing fake object", e.to_string()))?;
        let text = serde_json::to_string_pretty(&json)
            .map_err(|e| ProviderError::new("writing fake object", e.to_string()))?;
        std::fs::create_dir_all(self.store().join("tokens")).map_err(io_error)?;
        let path = self.object_path(id);
        let temporary = path.with_extension("json.tmp");
        std::fs::write(&temporary, text).map_err(io_error)?;
        Ok(Staged { temporary, path })
    }

    fn read_object(&self, id: &str) -> Result<Option<Value>, ProviderError> {
        let path = self.object_path(id);
        let text = match std::fs::read_to_string(&path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(io_error(e)),
        };
        let json: serde_json::Value = serde_json::from_str(&text)
            .map_err(|e| ProviderError::new("reading fake object", e.to_string()))?;
        let value = value_from_json(&json, Some(&resource_block().value_type()))
            .map_err(|e| ProviderError::new("reading fake object", e.to_string()))?;
        Ok(Some(mark_secret(value)))
    }
}

fn default_store() -> PathBuf {
    std::env::var_os("STRATA_FAKE_STORE")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(".fake-store"))
}

/// An object written beside its place: it exists for Strata (a read, `.fake-store/*.json`)
/// once published.
struct Staged {
    temporary: PathBuf,
    path: PathBuf,
}

impl Staged {
    fn publish(self) -> Result<(), ProviderError> {
        std::fs::rename(&self.temporary, &self.path).map_err(io_error)
    }
}

fn io_error(e: std::io::Error) -> ProviderError {
    ProviderError::new("fake store I/O", e.to_string())
}

fn mark_secret(mut value: Value) -> Value {
    if let Some(secret) = value.get_attr("secret").cloned() {
        if !secret.is_null() {
            value.set_at_path(
                &[crate::value::PathStep::Attr("secret".into())],
                secret.mark_sensitive(),
            );
        }
    }
    value
}

/// Waits until `deadline` to within the system timer's precision, not tokio's: its timer wheel
/// ticks in whole milliseconds, so a call of 100 ms took 101–103 ms (median 101.4 ms in the
/// chain benchmark), which the benchmarks' ideal schedule would count as the engine's. One
/// thread ([`sleeper`]) wakes every waiter at its deadline.
async fn wait_until(deadline: tokio::time::Instant) {
    if deadline <= tokio::time::Instant::now() {
        return;
    }
    let (done, woken) = tokio::sync::oneshot::channel();
    match sleeper().send((deadline.into_std(), done)) {
        Ok(()) => {
            let _ = woken.await;
        }
        Err(_) => tokio::time::sleep_until(deadline).await,
    }
}

type Waiter = (std::time::Instant, tokio::sync::oneshot::Sender<()>);

/// The thread behind [`wait_until`], started on first use.
fn sleeper() -> &'static std::sync::mpsc::Sender<Waiter> {
    static SLEEPER: OnceLock<std::sync::mpsc::Sender<Waiter>> = OnceLock::new();
    SLEEPER.get_or_init(|| {
        let (requests, waiters) = std::sync::mpsc::channel();
        std::thread::spawn(move || wake_waiters(&waiters));
        requests
    })
}

/// Keeps the waiters by deadline and sleeps (`recv_timeout`: tens of microseconds late at most
/// on Linux) until the next is due or another arrives.
fn wake_waiters(arrivals: &std::sync::mpsc::Receiver<Waiter>) {
    let mut due = std::collections::BTreeMap::new();
    let mut arrived = 0_u64;
    loop {
        let now = std::time::Instant::now();
        while let Some(entry) = due.first_entry() {
            let &(deadline, _) = entry.key();
            if deadline > now {
                break;
            }
            // A waiter that went away (its call was dropped) is simply not told.
            let waiter: tokio::sync::oneshot::Sender<()> = entry.remove();
            let _ = waiter.send(());
        }
        let next = match due.keys().next() {
            Some(&(deadline, _)) => arrivals.recv_timeout(deadline - now).ok(),
            None => match arrivals.recv() {
                Ok(waiter) => Some(waiter),
                Err(_) => return,
            },
        };
        if let Some((deadline, waiter)) = next {
            arrived += 1;
            due.insert((deadline, arrived), waiter);
        }
    }
}

fn fails_on(config: &Value, operation: &str) -> bool {
    config.get_attr("fail").and_then(Value::as_str) == Some(operation)
}

#[async_trait]
impl Provider for FakeProvider {
    fn schema(&self) -> Arc<ProviderSchema> {
        self.schema.clone()
    }

    async fn configure(&self, config: &Value) -> Result<(), ProviderError> {
        if let Some(store) = config.get_attr("store").and_then(Value::as_str) {
            let _ = self.store.set(PathBuf::from(store));
        }
        if let Some(ms) = config
            .get_attr("latency_ms")
            .and_then(Value::as_number)
            .and_then(|n| n.to_i64())
        {
            let _ = self
                .default_latency
                .set(Duration::from_millis(u64::try_from(ms).unwrap_or(0)));
        }
        self.configured
            .store(true, std::sync::atomic::Ordering::SeqCst);
        Ok(())
    }

    async fn apply_resource(&self, request: ApplyRequest) -> Result<Option<Value>, ProviderError> {
        self.configured("apply")?;
        if request.type_name != "fake_resource" {
            return Err(ProviderError::new(
                format!("unsupported resource type `{}`", request.type_name),
                "",
            ));
        }
        let operation = match (&request.prior, &request.planned) {
            (None, Some(_)) => "create",
            (Some(_), Some(_)) => "update",
            (_, None) => "delete",
        };
        let settings = if operation == "delete" {
            request.prior.clone().unwrap_or(Value::Null)
        } else {
            request.config.clone()
        };
        let latency = self.latency(&settings);
        if let Some(timeout) = request.timeout {
            if latency > timeout {
                tokio::time::sleep(timeout).await;
                return Err(ProviderError::new(
                    format!("timeout while waiting for fake_resource to {operation}"),
                    format!("the operation takes {latency:?}, more than the {timeout:?} allowed by `timeouts`"),
                ));
            }
        }
        // The call takes `latency` in all, the store's work included (as a remote call's time
        // includes the server's work): the object is written during it and appears (one
        // rename) when it ends.
        let deadline = tokio::time::Instant::now() + latency;
        if fails_on(&settings, operation) {
            wait_until(deadline).await;
            return Err(ProviderError::new(
                format!("fake_resource {operation} failed"),
                "the resource was told to fail (`fail` argument)",
            ));
        }
        match operation {
            "delete" => {
                wait_until(deadline).await;
                if let Some(id) = request
                    .prior
                    .as_ref()
                    .and_then(|p| p.get_attr("id"))
                    .and_then(Value::as_str)
                {
                    match off_the_runtime(|| std::fs::remove_file(self.object_path(id))) {
                        Ok(()) => {}
                        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                        Err(e) => return Err(io_error(e)),
                    }
                }
                Ok(None)
            }
            _ => {
                let mut state = request.planned.clone().unwrap_or(Value::Null);
                let id = match (operation, state.get_attr("id").and_then(Value::as_str)) {
                    ("update", Some(id)) => id.to_string(),
                    _ => {
                        // A retried create with the same token finds the object it made.
                        if let Ok(existing) =
                            std::fs::read_to_string(self.token_path(&request.idempotency_token))
                        {
                            existing.trim().to_string()
                        } else {
                            format!("fake-{}", &uuid::Uuid::new_v4().simple().to_string()[..12])
                        }
                    }
                };
                // Fill in what the plan left unknown, from the (now known) configuration.
                let (config, _) = request.config.clone().deep_unmark();
                if let Value::Object(attrs) = &mut state {
                    for (name, value) in attrs.iter_mut() {
                        if value.is_unknown() || !value.is_wholly_known() {
                            *value = config.get_attr(name).cloned().unwrap_or(Value::Null);
                        }
                    }
                    attrs.insert("id".into(), Value::String(id.clone()));
                    attrs.insert("computed".into(), Value::String(format!("computed-{id}")));
                }
                let state = mark_secret(state.deep_unmark().0);
                // The store is the remote system: its file work (slow on a file system that
                // has just deleted thousands of files) must not hold up the engine's tasks.
                let staged = off_the_runtime(|| {
                    if operation == "create" {
                        std::fs::create_dir_all(self.store().join("tokens")).map_err(io_error)?;
                        std::fs::write(self.token_path(&request.idempotency_token), &id)
                            .map_err(io_error)?;
                    }
                    self.stage_object(&id, &state)
                })?;
                wait_until(deadline).await;
                off_the_runtime(|| staged.publish())?;
                Ok(Some(state))
            }
        }
    }

    async fn read_resource(
        &self,
        type_name: &str,
        current: &Value,
    ) -> Result<Option<Value>, ProviderError> {
        self.configured("read")?;
        if fails_on(current, "read") {
            return Err(ProviderError::new(
                format!("{type_name} read failed"),
                "the resource was told to fail (`fail` argument)",
            ));
        }
        match current.get_attr("id").and_then(Value::as_str) {
            Some(id) => self.read_object(id),
            None => Ok(None),
        }
    }

    async fn import_resource(&self, type_name: &str, id: &str) -> Result<Value, ProviderError> {
        self.configured("import")?;
        self.read_object(id)?.ok_or_else(|| {
            ProviderError::new(
                "cannot import non-existent remote object".to_string(),
                format!("no {type_name} with id `{id}` exists in the fake store"),
            )
        })
    }

    async fn read_data_source(
        &self,
        type_name: &str,
        config: &Value,
    ) -> Result<Value, ProviderError> {
        self.configured("read data source")?;
        if type_name != "fake_data" {
            return Err(ProviderError::new(
                format!("unsupported data source `{type_name}`"),
                "",
            ));
        }
        let name = config
            .get_attr("name")
            .and_then(Value::as_str)
            .unwrap_or_default();
        Ok(Value::object([
            ("name", Value::from(name)),
            ("value", Value::String(format!("data-{name}"))),
        ]))
    }
}

#[cfg(test)]
mod tests {
    use super::wait_until;
    use std::time::Duration;
    use tokio::time::Instant;

    /// The fake's latency is a floor: no wait ends before its deadline, waits given out of
    /// order each end at their own, and a wait given up does not hold up the others.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn waits_end_at_their_deadlines_never_before() {
        let start = Instant::now();
        let given_up = start + Duration::from_millis(500);
        tokio::select! {
            () = wait_until(given_up) => panic!("a wait of 500 ms ended within 5 ms"),
            () = tokio::time::sleep(Duration::from_millis(5)) => {}
        }
        let waits = [40_u64, 10, 30, 20].map(|ms| {
            let deadline = start + Duration::from_millis(ms);
            tokio::spawn(async move {
                wait_until(deadline).await;
                (deadline, Instant::now())
            })
        });
        for wait in waits {
            let (deadline, ended) = wait.await.expect("the wait's task");
            assert!(ended >= deadline, "ended {:?} early", deadline - ended);
        }
        assert!(
            Instant::now() < given_up,
            "the given-up wait held the others"
        );
    }
}
