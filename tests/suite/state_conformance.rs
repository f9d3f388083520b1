//! The conformance suite every state backend passes: one function for the storage client
//! (`ObjectStore`: get, put, conditional put, delete, list) and one for the backend built on it
//! (serials, an interrupted apply replayed by the next run with its pending creates, ten applies
//! queued on one workspace finishing in arrival order without losing a change). Each runs per
//! backend: local files, and S3 on the moto emulator (with the `aws` feature).
//!
//! Also here, with S3 on moto and the real binary: an apply killed with SIGKILL and finished by
//! a run in a fresh working directory (a new CI runner), ten `strata apply` processes started at
//! once on one workspace (local and S3), and the group commit measured (an
//! apply of 1,000 `terraform_data` makes far fewer writes to the bucket than changes).

use std::sync::{Arc, Mutex};
use std::time::Duration;
use strata::addrs::ResourceInstance;
use strata::state::store::{LocalFiles, ObjectStore, Precondition};
use strata::state::{
    Backend, InstanceObject, LocalBackend, ObjectStatus, PendingCreate, State, StateChange,
    StateError,
};
use strata::value::Value;

fn address(text: &str) -> ResourceInstance {
    ResourceInstance::parse(text).expect("address")
}

fn put(name: &str) -> StateChange {
    StateChange::Put {
        address: address(name),
        object: InstanceObject {
            value: Value::object([("id", Value::string(name))]),
            provider: "provider[\"terraform.io/builtin/terraform\"]".into(),
            schema_version: 0,
            dependencies: Vec::new(),
            create_before_destroy: false,
            status: ObjectStatus::Ready,
            private: None,
        },
    }
}

/// What the interrupted create of `terraform_data.c` asked for (its unknown `id` as null).
fn planned_c() -> Value {
    Value::object([("input", Value::string("c")), ("id", Value::Null)])
}

/// What every storage client does (see `state::store`).
async fn store_conformance(store: Arc<dyn ObjectStore>) {
    assert_eq!(store.get("dir/a").await.unwrap(), None);
    let first = store
        .put("dir/a", b"one", Precondition::IfAbsent)
        .await
        .unwrap()
        .expect("created when absent");
    assert_eq!(
        store
            .put("dir/a", b"two", Precondition::IfAbsent)
            .await
            .unwrap(),
        None,
        "If-None-Match fails on an existing key"
    );
    let stored = store.get("dir/a").await.unwrap().unwrap();
    assert_eq!(
        (stored.bytes.as_slice(), &stored.etag),
        (&b"one"[..], &first)
    );
    assert_eq!(
        store
            .put("dir/a", b"two", Precondition::IfMatch("\"stale\"".into()))
            .await
            .unwrap(),
        None,
        "If-Match fails on another ETag"
    );
    let second = store
        .put("dir/a", b"two", Precondition::IfMatch(first.clone()))
        .await
        .unwrap()
        .expect("If-Match succeeds on the ETag read");
    assert_ne!(second, first, "a new version has a new ETag");
    assert_eq!(
        store
            .put("dir/missing", b"x", Precondition::IfMatch(second.clone()))
            .await
            .unwrap(),
        None,
        "If-Match fails on a missing key"
    );
    assert_eq!(store.get("dir/a").await.unwrap().unwrap().bytes, b"two");
    store.put("dir/b", b"b", Precondition::None).await.unwrap();
    store.put("dir/b", b"b2", Precondition::None).await.unwrap();
    store
        .put("other/c", b"c", Precondition::None)
        .await
        .unwrap();
    assert_eq!(store.list("dir/").await.unwrap(), vec!["dir/a", "dir/b"]);
    assert_eq!(store.list("dir/b").await.unwrap(), vec!["dir/b"]);

    // Eight writers race to create one key: exactly one wins.
    let mut racers = Vec::new();
    for index in 0..8u8 {
        let store = store.clone();
        racers.push(tokio::spawn(async move {
            store
                .put("race/key", &[index], Precondition::IfAbsent)
                .await
                .unwrap()
                .is_some()
        }));
    }
    let mut winners = 0;
    for racer in racers {
        winners += usize::from(racer.await.unwrap());
    }
    assert_eq!(winners, 1, "exactly one conditional create wins");

    // A conditional delete removes only the version it names (a store may offer none).
    let version = store
        .put("cond/key", b"1", Precondition::None)
        .await
        .unwrap()
        .unwrap();
    if let Some(deleted) = store
        .delete_if_match("cond/key", "\"stale\"")
        .await
        .unwrap()
    {
        assert!(
            !deleted,
            "a conditional delete of another version deletes nothing"
        );
        assert!(store.get("cond/key").await.unwrap().is_some());
        let deleted = store.delete_if_match("cond/key", &version).await.unwrap();
        assert_eq!(deleted, Some(true));
        assert_eq!(store.get("cond/key").await.unwrap(), None);
        let gone = store.delete_if_match("cond/key", &version).await.unwrap();
        assert_eq!(gone, Some(false), "nothing to delete");
    }

    store.delete("dir/a").await.unwrap();
    store.delete("dir/a").await.unwrap();
    assert_eq!(store.get("dir/a").await.unwrap(), None);
    store
        .delete_many(&["dir/b".to_string(), "other/c".to_string()])
        .await
        .unwrap();
    assert!(store.list("dir/").await.unwrap().is_empty());
    assert!(store.list("other/").await.unwrap().is_empty());
}

/// What every backend does. `next_run` opens the same storage the way the next run would (for
/// S3: from another working directory, as another machine).
async fn backend_conformance(first: Arc<dyn Backend>, next_run: Arc<dyn Backend>) {
    assert!(first.load("default").await.unwrap().resources.is_empty());
    let mut state = State::new();
    state.apply_change(&put("terraform_data.a"));
    assert_eq!(first.write("default", &state).await.unwrap(), 1);
    assert_eq!(
        first.write("default", &state).await.unwrap(),
        1,
        "the same content keeps its serial"
    );

    // An apply interrupted after recording (no finish, as a killed run): the next run replays
    // its journal, pending creates included.
    let guard = first
        .lock("default", "apply", Duration::ZERO, &|_| {})
        .await
        .unwrap();
    let base = first.load("default").await.unwrap();
    let mut writer = first.writer("default", &base).await.unwrap();
    writer
        .record_all(&[
            StateChange::CreateStarted {
                address: address("terraform_data.b"),
                token: "token-b".into(),
                planned: Value::Null,
            },
            put("terraform_data.b"),
        ])
        .await
        .unwrap();
    writer
        .record(&StateChange::CreateStarted {
            address: address("terraform_data.c"),
            token: "token-c".into(),
            planned: planned_c(),
        })
        .await
        .unwrap();
    drop(writer);
    guard.release().await.unwrap();
    let recovered = next_run.load("default").await.unwrap();
    assert!(recovered
        .resources
        .contains_key(&address("terraform_data.b")));
    assert_eq!(
        recovered.pending_creates.get(&address("terraform_data.c")),
        Some(&PendingCreate {
            token: "token-c".into(),
            planned: planned_c(),
        }),
        "the pending create survives on the next run, with what it asked for"
    );
    assert_eq!(recovered.serial, 2, "the replay was stored once");
    assert_eq!(next_run.load("default").await.unwrap(), recovered);

    // A writer for another state (another lineage) is refused.
    assert!(matches!(
        next_run.writer("default", &State::new()).await,
        Err(StateError::LineageMismatch { .. })
    ));

    ten_applies_in_arrival_order(first.clone()).await;
}

/// Ten applies started while another run holds the lock: all finish, in arrival order, each
/// keeping the others' changes.
async fn ten_applies_in_arrival_order(backend: Arc<dyn Backend>) {
    let holder = backend
        .lock("default", "apply", Duration::ZERO, &|_| {})
        .await
        .unwrap();
    let order = Arc::new(Mutex::new(Vec::new()));
    let mut applies = Vec::new();
    for index in 0..10 {
        let (backend, order) = (backend.clone(), order.clone());
        applies.push(tokio::spawn(async move {
            let guard = backend
                .lock("default", "apply", Duration::from_secs(120), &|_| {})
                .await
                .unwrap();
            order.lock().unwrap().push(index);
            let base = backend.load("default").await.unwrap();
            let mut writer = backend.writer("default", &base).await.unwrap();
            let change = put(&format!("terraform_data.queued[{index}]"));
            writer.record(&change).await.unwrap();
            let mut last = base.clone();
            last.apply_change(&change);
            writer.finish(&last).await.unwrap();
            guard.release().await.unwrap();
        }));
        // Arrival order: each waiter is queued before the next one starts.
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    holder.release().await.unwrap();
    for apply in applies {
        apply.await.unwrap();
    }
    assert_eq!(*order.lock().unwrap(), (0..10).collect::<Vec<_>>());
    let last = backend.load("default").await.unwrap();
    for index in 0..10 {
        assert!(
            last.resources
                .contains_key(&address(&format!("terraform_data.queued[{index}]"))),
            "apply {index}'s change was lost"
        );
    }
}

#[tokio::test]
async fn local_files_are_a_conforming_store() {
    let dir = tempfile::tempdir().unwrap();
    store_conformance(Arc::new(LocalFiles::new(dir.path()))).await;
}

#[tokio::test]
async fn the_local_backend_conforms() {
    let dir = tempfile::tempdir().unwrap();
    let first: Arc<dyn Backend> = Arc::new(LocalBackend::new(dir.path()));
    let next_run: Arc<dyn Backend> = Arc::new(LocalBackend::new(dir.path()));
    backend_conformance(first, next_run).await;
}

/// The configuration ten concurrent applies share: each targets its own instance.
const TEN_INSTANCES: &str = "resource \"terraform_data\" \"x\" {\n  for_each = toset([\"0\", \"1\", \"2\", \"3\", \"4\", \"5\", \"6\", \"7\", \"8\", \"9\"])\n  input    = each.key\n}\n";

/// Ten `strata apply` processes started at once on one workspace, each creating its own
/// instance: all succeed (queueing for the lock) and the state holds all ten.
fn ten_binary_applies(dir: &std::path::Path, env: &[(String, String)]) {
    let children: Vec<_> = (0..10)
        .map(|index| {
            std::process::Command::new(crate::common::strata())
                .args(["apply", "-auto-approve", "-lock-timeout=300s"])
                .arg(format!("-target=terraform_data.x[\"{index}\"]"))
                .current_dir(dir)
                .envs(env.iter().cloned())
                .stdout(std::process::Stdio::null())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    for child in children {
        let output = child.wait_with_output().unwrap();
        assert!(
            output.status.success(),
            "an apply failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
    let listed = std::process::Command::new(crate::common::strata())
        .args(["state", "list"])
        .current_dir(dir)
        .envs(env.iter().cloned())
        .output()
        .unwrap();
    let listed = String::from_utf8_lossy(&listed.stdout).to_string();
    assert_eq!(
        listed.lines().count(),
        10,
        "an apply lost another's change:\n{listed}"
    );
}

#[test]
fn ten_local_applies_at_once_all_land() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("main.tf"), TEN_INSTANCES).unwrap();
    ten_binary_applies(dir.path(), &[]);
}

#[cfg(feature = "aws")]
mod s3 {
    use super::*;
    use crate::common::{strata, Moto};
    use std::collections::{BTreeMap, BTreeSet};
    use std::path::Path;
    use std::process::{Command, Stdio};
    use std::sync::atomic::Ordering;
    use strata::state::backend::LockInfo;
    use strata::state::lock_records::{holder, release, take, LockRecord, ObjectLockRecord};
    use strata::state::s3::{S3Backend, S3Settings};
    use strata::state::s3_store::S3Objects;
    use strata::state::store::Stored;

    async fn client(moto: &Moto) -> aws_sdk_s3::Client {
        let shared = aws_config::defaults(aws_config::BehaviorVersion::latest())
            .region(aws_config::Region::new("us-east-1"))
            .credentials_provider(aws_credential_types::Credentials::new(
                "test", "test", None, None, "test",
            ))
            .load()
            .await;
        let config = aws_sdk_s3::config::Builder::from(&shared)
            .endpoint_url(&moto.endpoint)
            .force_path_style(true)
            .build();
        aws_sdk_s3::Client::from_conf(config)
    }

    async fn bucket(moto: &Moto, name: &str) -> aws_sdk_s3::Client {
        let client = client(moto).await;
        client.create_bucket().bucket(name).send().await.unwrap();
        client
    }

    async fn backend(moto: &Moto, bucket: &str, dir: &Path) -> Arc<dyn Backend> {
        let settings: BTreeMap<String, Value> = [
            ("bucket", Value::string(bucket)),
            ("key", Value::string("app/terraform.tfstate")),
            ("region", Value::string("us-east-1")),
            ("use_path_style", Value::Bool(true)),
            ("use_lockfile", Value::Bool(true)),
            ("access_key", Value::string("test")),
            ("secret_key", Value::string("test")),
            ("endpoint", Value::string(&moto.endpoint)),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect();
        let settings = S3Settings::from_settings(&settings).unwrap();
        Arc::new(S3Backend::new(settings, dir).await.unwrap())
    }

    #[tokio::test]
    async fn s3_objects_are_a_conforming_store() {
        let moto = Moto::start();
        let client = bucket(&moto, "objects").await;
        store_conformance(Arc::new(S3Objects::new(client, "objects", false))).await;
    }

    /// S3Objects, counting the reads and deletes it is asked for.
    struct Counted {
        inner: S3Objects,
        reads: std::sync::atomic::AtomicUsize,
        deletes: std::sync::atomic::AtomicUsize,
    }

    #[async_trait::async_trait]
    impl ObjectStore for Counted {
        fn location(&self, key: &str) -> String {
            self.inner.location(key)
        }
        async fn get(&self, key: &str) -> Result<Option<Stored>, StateError> {
            self.reads.fetch_add(1, Ordering::SeqCst);
            self.inner.get(key).await
        }
        async fn put(
            &self,
            key: &str,
            bytes: &[u8],
            condition: Precondition,
        ) -> Result<Option<String>, StateError> {
            self.inner.put(key, bytes, condition).await
        }
        async fn delete(&self, key: &str) -> Result<(), StateError> {
            self.deletes.fetch_add(1, Ordering::SeqCst);
            self.inner.delete(key).await
        }
        async fn delete_if_match(&self, key: &str, etag: &str) -> Result<Option<bool>, StateError> {
            self.deletes.fetch_add(1, Ordering::SeqCst);
            self.inner.delete_if_match(key, etag).await
        }
        async fn list(&self, prefix: &str) -> Result<Vec<String>, StateError> {
            self.inner.list(prefix).await
        }
    }

    /// Issue 16: the holder of an S3 lock object releases it with one conditional delete, not
    /// a read and a delete; a holder whose lock was taken over meanwhile deletes nothing and is
    /// told who holds it, as before.
    #[tokio::test]
    async fn an_s3_lock_is_released_with_one_conditional_delete() {
        let moto = Moto::start();
        let store = Counted {
            inner: S3Objects::new(bucket(&moto, "locks").await, "locks", false),
            reads: Default::default(),
            deletes: Default::default(),
        };
        let record = ObjectLockRecord::new(&store, "app.tflock".into());
        let first = LockInfo::new("plan", "app");
        assert_eq!(take(&record, &first).await.unwrap(), Some(None));
        assert!(release(&record, &first.id).await.unwrap());
        let asked = (
            store.reads.load(Ordering::SeqCst),
            store.deletes.load(Ordering::SeqCst),
        );
        assert_eq!(asked, (0, 1), "(reads, deletes) of a release");
        assert_eq!(holder(&record).await.unwrap(), None);

        // Another run replaces the record (a take-over) behind the holder's back.
        assert_eq!(take(&record, &first).await.unwrap(), Some(None));
        let version = record.read().await.unwrap().unwrap().version;
        let second = LockInfo::new("apply", "app");
        let body = serde_json::to_vec(&second).unwrap();
        let replaced = store
            .inner
            .put("app.tflock", &body, Precondition::IfMatch(version));
        assert!(replaced.await.unwrap().is_some());
        let error = release(&record, &first.id).await.unwrap_err();
        assert!(error.to_string().contains(&second.id), "{error}");
        assert_eq!(holder(&record).await.unwrap().unwrap().id, second.id);
    }

    #[tokio::test]
    async fn the_s3_backend_conforms() {
        let moto = Moto::start();
        bucket(&moto, "states").await;
        let (here, elsewhere) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
        let first = backend(&moto, "states", here.path()).await;
        let next_run = backend(&moto, "states", elsewhere.path()).await;
        backend_conformance(first, next_run).await;
    }

    /// A working directory whose configuration keeps its state in `bucket` on `moto`,
    /// initialised.
    fn s3_workdir(moto: &Moto, bucket: &str, body: &str) -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        let main_tf = format!(
            "terraform {{\n  backend \"s3\" {{\n    key          = \"app/terraform.tfstate\"\n    region       = \"us-east-1\"\n    use_lockfile = true\n  }}\n}}\n\n{body}"
        );
        std::fs::write(dir.path().join("main.tf"), main_tf).unwrap();
        let output = run(
            moto,
            dir.path(),
            None,
            &[
                "init",
                &format!("-backend-config=bucket={bucket}"),
                &format!("-backend-config=endpoint={}", moto.endpoint),
                "-backend-config=use_path_style=true",
            ],
        );
        assert!(
            output.status.success(),
            "init: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        dir
    }

    fn command(moto: &Moto, dir: &Path, store: Option<&Path>, args: &[&str]) -> Command {
        let mut command = Command::new(strata());
        command.args(args).current_dir(dir).envs(moto.env());
        if let Some(store) = store {
            command.env("STRATA_FAKE_STORE", store);
        }
        command
    }

    fn run(moto: &Moto, dir: &Path, store: Option<&Path>, args: &[&str]) -> std::process::Output {
        command(moto, dir, store, args).output().unwrap()
    }

    /// The names of the objects the fake provider holds in `store`.
    fn fake_objects(store: &Path) -> BTreeSet<String> {
        let Ok(entries) = std::fs::read_dir(store) else {
            return BTreeSet::new();
        };
        entries
            .flatten()
            .filter(|e| e.path().extension().is_some_and(|x| x == "json"))
            .filter_map(|e| {
                let text = std::fs::read_to_string(e.path()).ok()?;
                let object: serde_json::Value = serde_json::from_str(&text).ok()?;
                let name = object["name"]
                    .as_str()?
                    .trim_start_matches("n-")
                    .to_string();
                Some(format!("fake_resource.n[{name}]"))
            })
            .collect()
    }

    #[tokio::test]
    async fn an_apply_killed_on_one_runner_is_finished_by_a_fresh_one() {
        let moto = Moto::start();
        bucket(&moto, "ci-runs").await;
        let store = tempfile::tempdir().unwrap();
        let body = "resource \"fake_resource\" \"n\" {\n  count      = 60\n  name       = \"n-${count.index}\"\n  latency_ms = 100\n}\n";
        let runner = s3_workdir(&moto, "ci-runs", body);
        let mut child = command(
            &moto,
            runner.path(),
            Some(store.path()),
            &["apply", "-auto-approve", "-parallelism=4"],
        )
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
        let deadline = std::time::Instant::now() + Duration::from_secs(120);
        while fake_objects(store.path()).len() < 8 {
            assert!(
                std::time::Instant::now() < deadline,
                "the apply made no progress"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        child.kill().unwrap();
        assert!(
            !child.wait().unwrap().success(),
            "the apply finished before it was killed; the test proves nothing"
        );
        // The runner is thrown away, and with it its working directory.
        drop(runner);
        let made = fake_objects(store.path());
        assert!(made.len() < 60, "every object was made before the kill");

        let fresh = s3_workdir(&moto, "ci-runs", body);
        let listed = run(&moto, fresh.path(), Some(store.path()), &["state", "list"]);
        assert!(
            listed.status.success(),
            "{}",
            String::from_utf8_lossy(&listed.stderr)
        );
        let pending = regex::Regex::new(r"the create of (\S+) was interrupted").unwrap();
        let mut recorded: BTreeSet<String> = pending
            .captures_iter(&String::from_utf8_lossy(&listed.stderr))
            .map(|c| c[1].to_string())
            .collect();
        recorded.extend(
            String::from_utf8_lossy(&listed.stdout)
                .lines()
                .map(str::to_string),
        );
        let missing: Vec<&String> = made.difference(&recorded).collect();
        assert!(
            missing.is_empty(),
            "objects exist but a fresh runner's state does not record them: {missing:?}"
        );

        // A fresh runner finishes the job: every object once, none made twice. The killed
        // run's lock has a lease; a short one lets the next run take it over.
        let finished = command(
            &moto,
            fresh.path(),
            Some(store.path()),
            &["apply", "-auto-approve", "-lock-timeout=120s"],
        )
        .env("STRATA_LOCK_LEASE", "3s")
        .output()
        .unwrap();
        assert!(
            finished.status.success(),
            "{}",
            String::from_utf8_lossy(&finished.stderr)
        );
        assert_eq!(fake_objects(store.path()).len(), 60);
        let entries = std::fs::read_dir(store.path())
            .unwrap()
            .flatten()
            .filter(|e| e.path().extension().is_some_and(|x| x == "json"))
            .count();
        assert_eq!(entries, 60, "no object was made twice");
        let listed = run(&moto, fresh.path(), Some(store.path()), &["state", "list"]);
        assert_eq!(String::from_utf8_lossy(&listed.stdout).lines().count(), 60);
    }

    #[tokio::test]
    async fn group_commit_makes_far_fewer_writes_than_changes() {
        let moto = Moto::start();
        let client = bucket(&moto, "counted").await;
        // Every write to the bucket leaves a version (or a delete marker): a count of PUTs
        // kept by the emulator itself.
        client
            .put_bucket_versioning()
            .bucket("counted")
            .versioning_configuration(
                aws_sdk_s3::types::VersioningConfiguration::builder()
                    .status(aws_sdk_s3::types::BucketVersioningStatus::Enabled)
                    .build(),
            )
            .send()
            .await
            .unwrap();
        let body = "resource \"terraform_data\" \"n\" {\n  count = 1000\n  input = \"n-${count.index}\"\n}\n";
        let work = s3_workdir(&moto, "counted", body);
        let applied = run(&moto, work.path(), None, &["apply", "-auto-approve"]);
        assert!(
            applied.status.success(),
            "{}",
            String::from_utf8_lossy(&applied.stderr)
        );
        let mut state_puts = 0;
        let mut journal_puts = 0;
        let (mut key_marker, mut version_marker) = (None::<String>, None::<String>);
        loop {
            let page = client
                .list_object_versions()
                .bucket("counted")
                .prefix("app/terraform.tfstate")
                .set_key_marker(key_marker.clone())
                .set_version_id_marker(version_marker.clone())
                .send()
                .await
                .unwrap();
            for version in page.versions() {
                match version.key().unwrap_or_default() {
                    "app/terraform.tfstate" => state_puts += 1,
                    key if key.starts_with("app/terraform.tfstate.journal/") => journal_puts += 1,
                    _ => {}
                }
            }
            if page.is_truncated() != Some(true) {
                break;
            }
            key_marker = page.next_key_marker().map(str::to_string);
            version_marker = page.next_version_id_marker().map(str::to_string);
        }
        // 1,000 creates are 2,000 changes (the intent, then the object) and the outputs.
        let changes = 2001;
        let writes = state_puts + journal_puts;
        eprintln!("group commit: {changes} changes, {journal_puts} journal segments, {state_puts} state uploads");
        assert!(
            state_puts >= 1 && journal_puts >= 1,
            "nothing was journaled"
        );
        // Operations that finish while a segment is being written share the next one: with
        // 1,000 creates starting together, far fewer than one write per ten changes.
        assert!(
            writes * 20 <= changes,
            "{writes} writes for {changes} changes: the changes were not grouped"
        );
        let listed = run(&moto, work.path(), None, &["state", "list"]);
        assert_eq!(
            String::from_utf8_lossy(&listed.stdout).lines().count(),
            1000
        );
    }

    #[tokio::test]
    async fn ten_s3_applies_at_once_all_land() {
        let moto = Moto::start();
        bucket(&moto, "queued").await;
        let work = s3_workdir(&moto, "queued", TEN_INSTANCES);
        ten_binary_applies(work.path(), &moto.env());
    }

    /// A command that fails while it holds the lock (here the stored state does not parse)
    /// leaves no lock object behind: the CLI's guard is released on that error path too, by
    /// an awaited request before the process exits, not by a task the exit could cancel.
    #[tokio::test]
    async fn a_command_that_fails_holding_the_s3_lock_releases_it() {
        let moto = Moto::start();
        let client = bucket(&moto, "failing").await;
        let work = s3_workdir(&moto, "failing", "resource \"terraform_data\" \"x\" {}\n");
        client
            .put_object()
            .bucket("failing")
            .key("app/terraform.tfstate")
            .body(aws_sdk_s3::primitives::ByteStream::from(
                b"not a state".to_vec(),
            ))
            .send()
            .await
            .unwrap();
        let output = run(&moto, work.path(), None, &["plan", "-input=false"]);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(!output.status.success(), "the plan read a broken state");
        assert!(
            !stderr.contains("Error acquiring the state lock"),
            "the plan failed before taking the lock: {stderr}"
        );
        let lock = client
            .get_object()
            .bucket("failing")
            .key("app/terraform.tfstate.tflock")
            .send()
            .await;
        assert!(
            lock.is_err(),
            "the lock object outlived the failed plan: {stderr}"
        );
    }
}
