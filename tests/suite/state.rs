//! State: Terraform's file format, the local backend (atomic writes, serials, lineage, backups),
//! the apply journal and its crash safety, the lock and its queue, workspaces, pull/push, and
//! (with the `aws` feature) the S3 backend against the emulator.

use crate::common;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use strata::addrs::ResourceInstance;
use strata::state::format::{read_state, write_state};
use strata::state::workspace::{
    current_workspace_from, delete_workspace, new_workspace, select_workspace,
};
use strata::state::{
    Backend, InstanceObject, LocalBackend, ObjectStatus, OutputValue, State, StateChange,
    StateError,
};
use strata::value::Value;

fn fixture(name: &str) -> String {
    std::fs::read_to_string(common::fixtures("state").join(name)).expect("read fixture")
}

fn object(id: &str, payload: &str) -> InstanceObject {
    InstanceObject {
        value: Value::object([
            ("id", Value::string(id)),
            ("payload", Value::string(payload)),
            ("password", Value::string("hunter2").mark_sensitive()),
        ]),
        provider: "provider[\"terraform.io/builtin/terraform\"]".into(),
        schema_version: 0,
        dependencies: Vec::new(),
        create_before_destroy: false,
        status: ObjectStatus::Ready,
        private: None,
    }
}

fn address(text: &str) -> ResourceInstance {
    ResourceInstance::parse(text).expect("address")
}

fn put(index: usize, payload: &str) -> StateChange {
    StateChange::Put {
        address: address(&format!("terraform_data.item[{index}]")),
        object: object(&format!("id-{index}"), payload),
    }
}

/// One line per instance: what the reader understood of a state file.
fn describe(state: &State) -> String {
    let mut lines = vec![format!(
        "serial={} lineage={} version={}",
        state.serial, state.lineage, state.terraform_version
    )];
    for (name, output) in &state.outputs {
        lines.push(format!(
            "output {name}: sensitive={} type={}",
            output.sensitive,
            output.value.type_of().expression()
        ));
    }
    for (address, object) in &state.resources {
        let (_, sensitive) = object.value.clone().deep_unmark();
        let extras = state.extras.get(address);
        lines.push(format!(
            "{address}: provider={} status={:?} cbd={} deps=[{}] sensitive=[{}] private={} identity={}",
            object.provider,
            object.status,
            object.create_before_destroy,
            object
                .dependencies
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join(", "),
            sensitive
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join(", "),
            object.private.is_some(),
            extras.is_some_and(|e| e.identity.is_some()),
        ));
    }
    lines.join("\n")
}

// ---------------------------------------------------------------------------------------------
// Format

/// Every `terraform-*.tfstate` fixture (written the way Terraform writes state) reads into the
/// model shown in its snapshot and writes back byte for byte.
#[test]
fn terraform_states_round_trip_byte_for_byte() {
    let mut names: Vec<String> = std::fs::read_dir(common::fixtures("state"))
        .unwrap()
        .filter_map(Result::ok)
        .map(|entry| entry.file_name().to_string_lossy().into_owned())
        .filter(|name| name.starts_with("terraform-") && name.ends_with(".tfstate"))
        .collect();
    names.sort();
    assert!(names.len() >= 2, "{names:?}");
    for name in names {
        let text = fixture(&name);
        let state = read_state(&text, &name).unwrap_or_else(|e| panic!("{name}: {e}"));
        insta::assert_snapshot!(format!("model-{name}"), describe(&state));
        let written = write_state(&state).expect("write");
        pretty_assertions::assert_eq!(written, text, "{name}");
    }
}

#[test]
fn a_changed_instance_drops_the_data_it_no_longer_matches() {
    let mut state = read_state(&fixture("terraform-aws.tfstate"), "aws").unwrap();
    let vpc = address("aws_vpc.main");
    assert!(state.resources[&vpc].private.is_some());
    // The provider's private data travels with the object: a change that records an object
    // without it (a provider that keeps none) leaves none in the file.
    let mut object = state.resources[&vpc].clone();
    object.private = None;
    state.apply_change(&StateChange::Put {
        address: vpc.clone(),
        object,
    });
    assert!(!state.extras.contains_key(&vpc));
    assert!(!write_state(&state)
        .unwrap()
        .contains("eyJzY2hlbWFfdmVyc2lvbiI6IjEifQ=="));
}

#[test]
fn a_changed_instance_keeps_the_private_data_the_provider_returned() {
    let mut state = read_state(&fixture("terraform-aws.tfstate"), "aws").unwrap();
    let vpc = address("aws_vpc.main");
    let mut object = state.resources[&vpc].clone();
    object.private = Some("bmV3".into());
    state.apply_change(&StateChange::Put {
        address: vpc.clone(),
        object,
    });
    assert!(write_state(&state)
        .unwrap()
        .contains("\"private\": \"bmV3\""));
}

#[test]
fn sensitive_values_are_marked_on_read() {
    let state = read_state(&fixture("terraform-1.15.tfstate"), "fixture").unwrap();
    let credentials = &state.resources[&address("module.vpc.terraform_data.credentials")];
    let input = credentials
        .value
        .get_attr("input")
        .unwrap()
        .get_attr("value")
        .unwrap();
    assert!(matches!(
        input.get_attr("password"),
        Some(Value::Sensitive(_))
    ));
    assert!(matches!(input.get_attr("user"), Some(Value::String(_))));
    assert!(state.outputs["db_password"].sensitive);
    assert!(state.outputs["db_password"].value.contains_sensitive());
}

/// A state Terraform 1.15 wrote when an apply was interrupted in the middle of two
/// create_before_destroy replacements (`deposed-terraform-1.15.tfstate`: the new objects are
/// tainted, the old ones deposed): the deposed objects are kept and written back as Terraform
/// wrote them. The one difference is `"each": "list"`, which Terraform leaves out of a state
/// written by an interrupted run and writes after a complete one, and Strata always writes.
#[test]
fn deposed_objects_round_trip() {
    let name = "deposed-terraform-1.15.tfstate";
    let text = fixture(name);
    let state = read_state(&text, name).unwrap_or_else(|e| panic!("{name}: {e}"));
    let deposed: Vec<String> = state
        .deposed
        .iter()
        .flat_map(|(address, objects)| objects.keys().map(move |key| format!("{address} {key}")))
        .collect();
    assert_eq!(
        deposed,
        [
            "terraform_data.a[0] 80da61fa",
            "terraform_data.a[1] 9eb91e65"
        ]
    );
    assert_eq!(state.resources.len(), 2);
    assert!(state
        .resources
        .values()
        .all(|object| object.status == ObjectStatus::Tainted));
    // Byte for byte, without an `each` key: Terraform 1.15 does not write one.
    let written = write_state(&state).expect("write");
    pretty_assertions::assert_eq!(written, text);
}

#[test]
fn malformed_state_files_are_rejected_with_the_file_name() {
    for (name, expected) in [
        ("version-3.tfstate", "version 3 is not supported"),
        ("truncated.tfstate", "not valid JSON"),
        ("bad-instance.tfstate", "index_key"),
    ] {
        let error = read_state(&fixture(name), name).unwrap_err().to_string();
        assert!(error.starts_with(name), "{name}: {error}");
        assert!(error.contains(expected), "{name}: {error}");
    }
}

#[test]
fn large_states_load_and_write() {
    let mut state = State::new();
    for index in 0..10_000 {
        if let StateChange::Put { address, object } = put(index, "x") {
            state.resources.insert(address, object);
        }
    }
    let text = write_state(&state).unwrap();
    let read = read_state(&text, "large").unwrap();
    assert_eq!(read.resources.len(), 10_000);
    assert_eq!(read, state);
}

// ---------------------------------------------------------------------------------------------
// Local backend

#[tokio::test]
async fn local_writes_are_atomic_private_and_keep_a_backup() {
    let dir = tempfile::tempdir().unwrap();
    let backend = LocalBackend::new(dir.path());
    let mut state = backend.load("default").await.unwrap();
    assert!(state.resources.is_empty());
    state
        .resources
        .insert(address("terraform_data.a"), object("a", "1"));
    assert_eq!(backend.write("default", &state).await.unwrap(), 1);
    let file = dir.path().join("terraform.tfstate");
    let first = std::fs::read_to_string(&file).unwrap();
    assert!(first.contains("\"serial\": 1"));
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&file).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
    }
    // Same content: no new serial, no rewrite.
    assert_eq!(backend.write("default", &state).await.unwrap(), 1);
    assert!(!dir.path().join("terraform.tfstate.backup").exists());

    state
        .resources
        .insert(address("terraform_data.b"), object("b", "2"));
    assert_eq!(backend.write("default", &state).await.unwrap(), 2);
    let backup = std::fs::read_to_string(dir.path().join("terraform.tfstate.backup")).unwrap();
    assert_eq!(backup, first);
    let loaded = backend.load("default").await.unwrap();
    assert_eq!(loaded.serial, 2);
    assert_eq!(loaded.resources, state.resources);
    // No temporary files left behind.
    let leftovers: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .filter_map(Result::ok)
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".tmp"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}

#[tokio::test]
async fn local_refuses_another_lineage() {
    let dir = tempfile::tempdir().unwrap();
    let backend = LocalBackend::new(dir.path());
    let mut state = State::new();
    state
        .resources
        .insert(address("terraform_data.a"), object("a", "1"));
    backend.write("default", &state).await.unwrap();
    let mut other = State::new();
    other
        .resources
        .insert(address("terraform_data.b"), object("b", "1"));
    let error = backend.write("default", &other).await.unwrap_err();
    assert!(
        matches!(error, StateError::LineageMismatch { .. }),
        "{error}"
    );
    assert!(backend.writer("default", &other).await.is_err());
}

#[tokio::test]
async fn local_path_is_configurable() {
    let dir = tempfile::tempdir().unwrap();
    let backend = LocalBackend::new(dir.path()).with_path("states/main.tfstate");
    let mut state = State::new();
    state.outputs.insert(
        "x".into(),
        OutputValue {
            value: Value::string("y"),
            sensitive: false,
        },
    );
    backend.write("default", &state).await.unwrap();
    assert!(dir.path().join("states/main.tfstate").exists());
    assert_eq!(
        backend.load("default").await.unwrap().outputs,
        state.outputs
    );
}

// ---------------------------------------------------------------------------------------------
// Journal

#[tokio::test]
async fn journal_records_survive_without_finish_and_are_folded_on_load() {
    let dir = tempfile::tempdir().unwrap();
    let backend = LocalBackend::new(dir.path());
    let base = backend.load("default").await.unwrap();
    let mut writer = backend.writer("default", &base).await.unwrap();
    for index in 0..50 {
        writer.record(&put(index, "small")).await.unwrap();
    }
    writer
        .record(&StateChange::Remove {
            address: address("terraform_data.item[3]"),
        })
        .await
        .unwrap();
    drop(writer); // as if the process died before finish()
    let journal = backend.journal_file("default");
    assert!(journal.exists());
    let pulled = backend
        .pull("default")
        .await
        .unwrap()
        .expect("pull sees the journal");
    assert_eq!(read_state(&pulled, "pulled").unwrap().resources.len(), 49);

    let loaded = backend.load("default").await.unwrap();
    assert_eq!(loaded.resources.len(), 49);
    assert!(!loaded
        .resources
        .contains_key(&address("terraform_data.item[3]")));
    assert_eq!(loaded.lineage, base.lineage);
    assert!(
        loaded.resources[&address("terraform_data.item[7]")]
            .value
            .contains_sensitive(),
        "marks survive the journal"
    );
    assert!(
        !journal.exists(),
        "load folds the journal into the state file"
    );
    let stored = read_state(
        &std::fs::read_to_string(dir.path().join("terraform.tfstate")).unwrap(),
        "stored",
    )
    .unwrap();
    assert_eq!(stored.resources, loaded.resources);
}

#[tokio::test]
async fn journal_is_compacted_when_it_outgrows_the_state() {
    let dir = tempfile::tempdir().unwrap();
    let backend = LocalBackend::new(dir.path());
    let base = backend.load("default").await.unwrap();
    let mut writer = backend.writer("default", &base).await.unwrap();
    let payload = "p".repeat(4000);
    let mut largest_journal = 0;
    // Rewrite the same few instances many times: the state stays small, the journal would not.
    for round in 0..400 {
        writer
            .record(&put(round % 5, &format!("{round}{payload}")))
            .await
            .unwrap();
        let size = std::fs::metadata(backend.journal_file("default"))
            .unwrap()
            .len();
        largest_journal = largest_journal.max(size);
    }
    assert!(
        largest_journal < 300 * 1024,
        "journal grew to {largest_journal} bytes"
    );
    let state_file = dir.path().join("terraform.tfstate");
    assert!(state_file.exists(), "compaction wrote the state");
    let mut final_state = base.clone();
    for index in 0..5 {
        if let StateChange::Put { address, object } = put(index, &payload) {
            final_state.resources.insert(address, object);
        }
    }
    writer.finish(&final_state).await.unwrap();
    let serial = writer.written_serial().unwrap();
    assert!(
        serial >= 2,
        "compactions and finish each wrote a serial: {serial}"
    );
    assert!(!backend.journal_file("default").exists());
    assert_eq!(
        backend.load("default").await.unwrap().resources,
        final_state.resources
    );
}

/// Records changes (4 KB each, five instances rewritten) until the state file changes: a
/// compaction wrote it, or recording failed.
async fn record_until_rewritten(
    writer: &mut Box<dyn strata::state::StateWriter>,
    state_file: &std::path::Path,
    round: &mut usize,
) -> Result<(), StateError> {
    let before = std::fs::read(state_file).ok();
    let payload = "p".repeat(4000);
    loop {
        *round += 1;
        writer
            .record(&put(*round % 5, &format!("{round}{payload}")))
            .await?;
        if std::fs::read(state_file).ok() != before {
            return Ok(());
        }
        assert!(*round < 2000, "the journal was never compacted");
    }
}

/// A compaction does not decode the state file it wrote itself again, but one replaced behind
/// its back (another lineage here) is still checked, and refused, as any write is.
#[tokio::test]
async fn a_compaction_checks_a_state_file_replaced_behind_the_writer() {
    let dir = tempfile::tempdir().unwrap();
    let backend = LocalBackend::new(dir.path());
    let base = backend.load("default").await.unwrap();
    let mut writer = backend.writer("default", &base).await.unwrap();
    let state_file = dir.path().join("terraform.tfstate");
    let mut round = 0;
    record_until_rewritten(&mut writer, &state_file, &mut round)
        .await
        .unwrap();
    let compacted = read_state(&std::fs::read_to_string(&state_file).unwrap(), "s").unwrap();
    assert_eq!(compacted.resources.len(), 5);
    let mut other = State::new();
    other
        .resources
        .insert(address("terraform_data.b"), object("b", "1"));
    std::fs::write(&state_file, write_state(&other).unwrap()).unwrap();
    let error = record_until_rewritten(&mut writer, &state_file, &mut round)
        .await
        .unwrap_err();
    assert!(
        matches!(error, StateError::LineageMismatch { .. }),
        "{error}"
    );
    let kept = read_state(&std::fs::read_to_string(&state_file).unwrap(), "s").unwrap();
    assert_eq!(kept.lineage, other.lineage, "the other state file stays");
}

#[tokio::test]
async fn recording_does_not_rewrite_the_state() {
    let dir = tempfile::tempdir().unwrap();
    let backend = LocalBackend::new(dir.path());
    let mut state = State::new();
    for index in 0..2_000 {
        if let StateChange::Put { address, object } = put(index, "initial") {
            state.resources.insert(address, object);
        }
    }
    backend.write("default", &state).await.unwrap();
    let state_file = dir.path().join("terraform.tfstate");
    let before = std::fs::read(&state_file).unwrap();
    let loaded = backend.load("default").await.unwrap();
    let mut writer = backend.writer("default", &loaded).await.unwrap();
    for index in 0..300 {
        writer.record(&put(index, "changed")).await.unwrap();
    }
    // Each record appended one line; the state file was not touched.
    let journal = std::fs::read_to_string(backend.journal_file("default")).unwrap();
    assert_eq!(journal.lines().count(), 301);
    assert_eq!(std::fs::read(&state_file).unwrap(), before);
    drop(writer);
    let reloaded = backend.load("default").await.unwrap();
    assert_eq!(reloaded.resources.len(), 2_000);
    assert_eq!(reloaded.serial, 2);
}

/// Not a test on its own: the child process of [`sigkill_during_records_loses_nothing`].
#[tokio::test]
#[ignore]
async fn journal_child_process() {
    let Ok(dir) = std::env::var("STRATA_JOURNAL_CHILD_DIR") else {
        return;
    };
    let backend = LocalBackend::new(&dir);
    let base = backend.load("default").await.unwrap();
    let mut writer = backend.writer("default", &base).await.unwrap();
    let payload = "q".repeat(2000);
    let start: usize = std::env::var("STRATA_JOURNAL_CHILD_START")
        .unwrap()
        .parse()
        .unwrap();
    for index in start.. {
        writer.record(&put(index, &payload)).await.unwrap();
        use std::io::Write;
        let mut stdout = std::io::stdout();
        writeln!(stdout, "recorded {index}").unwrap();
        stdout.flush().unwrap();
    }
}

#[test]
fn sigkill_during_records_loses_nothing() {
    use std::io::BufRead;
    let dir = tempfile::tempdir().unwrap();
    let mut confirmed = 0usize;
    // Several kills at different moments: during appends, compactions and journal folding.
    for (round, kill_after) in [37usize, 180, 420, 9].into_iter().enumerate() {
        let mut child = std::process::Command::new(std::env::current_exe().unwrap())
            .args([
                "--ignored",
                "--exact",
                "state::journal_child_process",
                "--nocapture",
                "--test-threads=1",
            ])
            .env("STRATA_JOURNAL_CHILD_DIR", dir.path())
            .env("STRATA_JOURNAL_CHILD_START", confirmed.to_string())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let mut seen = 0;
        for line in std::io::BufReader::new(stdout).lines() {
            let line = line.unwrap();
            if let Some(index) = line.strip_prefix("recorded ") {
                confirmed = index.parse::<usize>().unwrap() + 1;
                seen += 1;
                if seen == kill_after {
                    break;
                }
            }
        }
        child.kill().unwrap(); // SIGKILL
        child.wait().unwrap();
        assert_eq!(seen, kill_after, "round {round}: the child stopped early");

        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let state = runtime
            .block_on(LocalBackend::new(dir.path()).load("default"))
            .unwrap_or_else(|e| panic!("round {round}: the state does not load: {e}"));
        for index in 0..confirmed {
            assert!(
                state
                    .resources
                    .contains_key(&address(&format!("terraform_data.item[{index}]"))),
                "round {round}: item[{index}] was recorded but is missing"
            );
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Locks

#[tokio::test]
async fn a_held_lock_fails_fast_with_the_holders_details() {
    let dir = tempfile::tempdir().unwrap();
    let backend = LocalBackend::new(dir.path());
    let guard = backend
        .lock("default", "apply", Duration::ZERO, &|_| {})
        .await
        .unwrap();
    let info = std::fs::read_to_string(dir.path().join(".terraform.tfstate.lock.info")).unwrap();
    for key in [
        "\"ID\"",
        "\"Operation\":\"apply\"",
        "\"Who\"",
        "\"Version\"",
        "\"Created\"",
        "\"Path\"",
        "\"Pid\"",
    ] {
        assert!(info.contains(key), "{key} in {info}");
    }
    let error = backend
        .lock("default", "plan", Duration::ZERO, &|_| {})
        .await
        .unwrap_err();
    match &error {
        StateError::Locked {
            id,
            holder,
            operation,
            created,
        } => {
            assert_eq!(id, &guard.info().id);
            assert_eq!(holder, &guard.info().who);
            assert_eq!(operation, "apply");
            assert_eq!(created, &guard.info().created);
        }
        other => panic!("expected Locked, got {other}"),
    }
    // Another workspace has its own lock.
    backend.create_workspace("dev").await.unwrap();
    let dev = backend
        .lock("dev", "apply", Duration::ZERO, &|_| {})
        .await
        .unwrap();
    dev.release().await.unwrap();
    guard.release().await.unwrap();
    assert!(!dir.path().join(".terraform.tfstate.lock.info").exists());
    backend
        .lock("default", "plan", Duration::ZERO, &|_| {})
        .await
        .unwrap();
}

#[tokio::test]
async fn waiters_are_told_who_holds_the_lock_and_get_it_in_arrival_order() {
    let dir = tempfile::tempdir().unwrap();
    let backend = Arc::new(LocalBackend::new(dir.path()));
    let first = backend
        .lock("default", "apply", Duration::ZERO, &|_| {})
        .await
        .unwrap();
    let order = Arc::new(Mutex::new(Vec::new()));
    let told = Arc::new(Mutex::new(Vec::new()));
    let mut tasks = Vec::new();
    for waiter in 0..4 {
        let backend = backend.clone();
        let order = order.clone();
        let told = told.clone();
        tasks.push(tokio::spawn(async move {
            let on_wait = move |holder: &strata::state::LockInfo| {
                told.lock()
                    .unwrap()
                    .push((waiter, holder.operation.clone()));
            };
            let guard = backend
                .lock(
                    "default",
                    &format!("apply {waiter}"),
                    Duration::from_secs(30),
                    &on_wait,
                )
                .await
                .unwrap();
            order.lock().unwrap().push(waiter);
            tokio::time::sleep(Duration::from_millis(30)).await;
            guard.release().await.unwrap();
        }));
        // Arrive one after the other.
        tokio::time::sleep(Duration::from_millis(40)).await;
    }
    tokio::time::sleep(Duration::from_millis(100)).await;
    first.release().await.unwrap();
    for task in tasks {
        task.await.unwrap();
    }
    assert_eq!(*order.lock().unwrap(), vec![0, 1, 2, 3]);
    let told = told.lock().unwrap();
    assert_eq!(told.len(), 4, "each waiter is told once: {told:?}");
    assert!(told
        .iter()
        .all(|(_, operation)| operation.starts_with("apply")));
}

#[tokio::test]
async fn waiting_times_out_with_the_holders_details() {
    let dir = tempfile::tempdir().unwrap();
    let backend = LocalBackend::new(dir.path());
    let _guard = backend
        .lock("default", "apply", Duration::ZERO, &|_| {})
        .await
        .unwrap();
    let started = std::time::Instant::now();
    let error = backend
        .lock("default", "plan", Duration::from_millis(300), &|_| {})
        .await
        .unwrap_err();
    assert!(started.elapsed() >= Duration::from_millis(300));
    assert!(
        matches!(error, StateError::Locked { ref operation, .. } if operation == "apply"),
        "{error}"
    );
    // The timed-out waiter left no ticket behind.
    let queue = dir.path().join(".terraform.tfstate.lock.queue");
    assert_eq!(std::fs::read_dir(queue).unwrap().count(), 0);
}

#[tokio::test]
async fn a_dead_holders_lock_is_taken_over_and_force_unlock_needs_the_id() {
    let dir = tempfile::tempdir().unwrap();
    let backend = LocalBackend::new(dir.path());
    let mut child = std::process::Command::new("true").spawn().unwrap();
    let dead_pid = child.id();
    child.wait().unwrap();
    let lock_file = dir.path().join(".terraform.tfstate.lock.info");
    for timeout in [Duration::ZERO, Duration::from_secs(5)] {
        // The record a killed run leaves: nobody holds its kernel lock.
        let mut dead = strata::state::LockInfo::new("apply", "terraform.tfstate");
        dead.pid = dead_pid;
        std::fs::write(&lock_file, serde_json::to_string(&dead).unwrap()).unwrap();
        let guard = backend
            .lock("default", "plan", timeout, &|_| {})
            .await
            .unwrap();
        assert_eq!(
            guard.taken_over().map(|h| h.id.as_str()),
            Some(dead.id.as_str())
        );
        let holder = backend.lock_holder("default").await.unwrap().unwrap();
        assert_eq!(holder.id, guard.info().id);
        // A live holder is never taken over.
        let error = backend
            .lock("default", "apply", Duration::ZERO, &|_| {})
            .await
            .unwrap_err();
        assert!(matches!(error, StateError::Locked { .. }), "{error}");
        assert!(backend.force_unlock("default", "wrong-id").await.is_err());
        guard.release().await.unwrap();
        assert!(backend.lock_holder("default").await.unwrap().is_none());
    }
    assert!(backend.force_unlock("default", "any-id").await.is_err());
}

#[tokio::test]
async fn a_record_without_a_kernel_lock_is_not_taken_over_while_terraform_holds_the_state() {
    // Terraform writes its lock record without a pid and holds a POSIX (fcntl) lock on the
    // state file while it runs; a process holding that kernel lock stands in for it here.
    let dir = tempfile::tempdir().unwrap();
    let state_file = dir.path().join("terraform.tfstate");
    std::fs::write(&state_file, "").unwrap();
    let record = serde_json::json!({"ID": "tf-lock", "Operation": "OperationTypeApply",
        "Info": "", "Who": "someone@elsewhere", "Version": "1.15.5",
        "Created": "2026-12-07T00:00:00Z", "Path": "terraform.tfstate"});
    std::fs::write(
        dir.path().join(".terraform.tfstate.lock.info"),
        record.to_string(),
    )
    .unwrap();
    let script = "import fcntl, sys, time\nf = open(sys.argv[1], 'r+')\nfcntl.lockf(f, fcntl.LOCK_EX)\nprint('locked', flush=True)\ntime.sleep(60)\n";
    let mut holder = std::process::Command::new("python3")
        .args(["-c", script])
        .arg(&state_file)
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    std::io::BufRead::read_line(
        &mut std::io::BufReader::new(holder.stdout.as_mut().unwrap()),
        &mut line,
    )
    .unwrap();
    assert_eq!(line.trim(), "locked");
    let backend = LocalBackend::new(dir.path());
    let error = backend
        .lock("default", "plan", Duration::ZERO, &|_| {})
        .await
        .unwrap_err();
    assert!(
        matches!(error, StateError::Locked { ref id, .. } if id == "tf-lock"),
        "{error}"
    );
    holder.kill().unwrap();
    holder.wait().unwrap();
    // Terraform's process is gone: its record is left over and taken over.
    let guard = backend
        .lock("default", "plan", Duration::ZERO, &|_| {})
        .await
        .unwrap();
    assert_eq!(guard.taken_over().map(|h| h.id.as_str()), Some("tf-lock"));
    guard.release().await.unwrap();
}

#[tokio::test]
async fn a_crashed_waiters_ticket_does_not_block_the_queue() {
    let dir = tempfile::tempdir().unwrap();
    let backend = LocalBackend::new(dir.path());
    let queue = dir.path().join(".terraform.tfstate.lock.queue");
    std::fs::create_dir_all(&queue).unwrap();
    let mut child = std::process::Command::new("true").spawn().unwrap();
    let dead_pid = child.id();
    child.wait().unwrap();
    std::fs::write(
        queue.join(format!("{:024}-{dead_pid:010}-deadbeef", 1)),
        format!(
            "{{\"pid\":{dead_pid},\"host\":\"{}\"}}",
            strata::state::backend::this_host()
        ),
    )
    .unwrap();
    let guard = backend
        .lock("default", "apply", Duration::from_secs(5), &|_| {})
        .await
        .unwrap();
    guard.release().await.unwrap();
    assert_eq!(std::fs::read_dir(queue).unwrap().count(), 0);
}

// ---------------------------------------------------------------------------------------------
// Workspaces

#[tokio::test]
async fn workspaces_are_listed_created_selected_and_deleted() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let backend = LocalBackend::new(root);
    let no_env = |_: &str| None;
    assert_eq!(backend.workspaces().await.unwrap(), vec!["default"]);
    assert_eq!(current_workspace_from(root, &no_env).unwrap(), "default");

    new_workspace(&backend, root, "dev").await.unwrap();
    backend.create_workspace("prod").await.unwrap();
    assert!(matches!(
        backend.create_workspace("dev").await,
        Err(StateError::WorkspaceExists(_))
    ));
    assert!(backend.create_workspace("a/b").await.is_err());
    assert_eq!(
        backend.workspaces().await.unwrap(),
        vec!["default", "dev", "prod"]
    );
    assert_eq!(
        std::fs::read_to_string(root.join(".terraform/environment")).unwrap(),
        "dev"
    );
    assert_eq!(current_workspace_from(root, &no_env).unwrap(), "dev");
    let env = |name: &str| (name == "TF_WORKSPACE").then(|| "prod".to_string());
    assert_eq!(current_workspace_from(root, &env).unwrap(), "prod");

    // Per-workspace state files, as Terraform lays them out.
    let mut state = State::new();
    state
        .resources
        .insert(address("terraform_data.a"), object("a", "1"));
    backend.write("dev", &state).await.unwrap();
    assert!(root
        .join("terraform.tfstate.d/dev/terraform.tfstate")
        .exists());
    assert!(backend.load("prod").await.unwrap().resources.is_empty());
    assert!(backend.load("default").await.unwrap().resources.is_empty());

    assert!(select_workspace(&backend, root, "nope").await.is_err());
    let error = delete_workspace(&backend, root, "dev", false)
        .await
        .unwrap_err();
    assert!(error.to_string().contains("current workspace"), "{error}");
    select_workspace(&backend, root, "prod").await.unwrap();
    let error = delete_workspace(&backend, root, "dev", false)
        .await
        .unwrap_err();
    assert!(
        matches!(error, StateError::WorkspaceNotEmpty { count: 1, .. }),
        "{error}"
    );
    assert!(delete_workspace(&backend, root, "default", true)
        .await
        .is_err());
    delete_workspace(&backend, root, "dev", true).await.unwrap();
    assert_eq!(backend.workspaces().await.unwrap(), vec!["default", "prod"]);
    select_workspace(&backend, root, "default").await.unwrap();
    delete_workspace(&backend, root, "prod", false)
        .await
        .unwrap();
    assert!(matches!(
        delete_workspace(&backend, root, "prod", false).await,
        Err(StateError::WorkspaceNotFound(_))
    ));
}

// ---------------------------------------------------------------------------------------------
// Pull and push

#[tokio::test]
async fn push_refuses_other_lineages_and_older_serials_unless_forced() {
    let dir = tempfile::tempdir().unwrap();
    let backend = LocalBackend::new(dir.path());
    assert_eq!(backend.pull("default").await.unwrap(), None);
    let text = fixture("terraform-1.15.tfstate");
    assert_eq!(backend.push("default", &text, false).await.unwrap(), 7);
    assert_eq!(backend.pull("default").await.unwrap().unwrap(), text);

    let stored = read_state(&text, "fixture").unwrap();
    let mut older = stored.clone();
    older.serial = 5;
    older.resources.clear();
    let older_text = write_state(&older).unwrap();
    assert!(matches!(
        backend.push("default", &older_text, false).await,
        Err(StateError::SerialBehind {
            stored: 7,
            new: 5,
            ..
        })
    ));
    let mut foreign = State::new();
    foreign.serial = 99;
    let foreign_text = write_state(&foreign).unwrap();
    assert!(matches!(
        backend.push("default", &foreign_text, false).await,
        Err(StateError::LineageMismatch { .. })
    ));
    let mut newer = stored.clone();
    newer.serial = 9;
    newer.resources.pop_first();
    assert_eq!(
        backend
            .push("default", &write_state(&newer).unwrap(), false)
            .await
            .unwrap(),
        9
    );
    assert_eq!(
        backend.push("default", &older_text, true).await.unwrap(),
        10
    );
    assert!(backend.load("default").await.unwrap().resources.is_empty());
    assert!(backend
        .push("default", "{\"version\": 4", false)
        .await
        .is_err());
}

// ---------------------------------------------------------------------------------------------
// Configuration and migration

#[tokio::test]
async fn backends_open_from_configuration_and_states_migrate() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    std::fs::write(root.join("backend.hcl"), "path = \"custom.tfstate\"\n").unwrap();
    let mut extra = strata::state::parse_backend_config_arg("backend.hcl", root).unwrap();
    assert_eq!(extra["path"], Value::string("custom.tfstate"));
    extra.extend(strata::state::parse_backend_config_arg("workspace_dir=spaces", root).unwrap());
    let configured = strata::state::open_backend(None, &extra, root)
        .await
        .unwrap();
    let mut state = State::new();
    state
        .resources
        .insert(address("terraform_data.a"), object("a", "1"));
    configured.write("default", &state).await.unwrap();
    configured.create_workspace("dev").await.unwrap();
    configured.write("dev", &state).await.unwrap();
    assert!(root.join("custom.tfstate").exists());
    assert!(root.join("spaces/dev/terraform.tfstate").exists());
    assert!(strata::state::open_backend(
        None,
        &[("nope".to_string(), Value::string("x"))].into(),
        root
    )
    .await
    .is_err());

    let target_dir = tempfile::tempdir().unwrap();
    let target = LocalBackend::new(target_dir.path());
    let copied = strata::state::migrate_states(configured.as_ref(), &target, false)
        .await
        .unwrap();
    assert_eq!(copied, vec!["default", "dev"]);
    let migrated = target.load("dev").await.unwrap();
    assert_eq!(migrated.lineage, state.lineage);
    assert_eq!(migrated.resources, state.resources);
    // A second migration over the same states changes nothing.
    strata::state::migrate_states(configured.as_ref(), &target, false)
        .await
        .unwrap();
}

// ---------------------------------------------------------------------------------------------
// S3 (against the emulator)

#[cfg(feature = "aws")]
pub(crate) mod s3 {
    use super::*;
    use std::collections::BTreeMap;
    use std::path::Path;
    use strata::state::s3::{S3Backend, S3Settings};
    use strata::state::store::ObjectStore;

    pub(crate) async fn s3_client(moto: &common::Moto) -> aws_sdk_s3::Client {
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

    async fn backend(
        moto: &common::Moto,
        bucket: &str,
        extra: &[(&str, Value)],
        dir: &Path,
    ) -> S3Backend {
        s3_client(moto)
            .await
            .create_bucket()
            .bucket(bucket)
            .send()
            .await
            .ok();
        let mut settings: BTreeMap<String, Value> = [
            ("bucket", Value::string(bucket)),
            ("key", Value::string("network/terraform.tfstate")),
            ("region", Value::string("us-east-1")),
            ("use_path_style", Value::Bool(true)),
            ("access_key", Value::string("test")),
            ("secret_key", Value::string("test")),
            (
                "endpoints",
                Value::object([
                    ("s3", Value::string(&moto.endpoint)),
                    ("dynamodb", Value::string(&moto.endpoint)),
                ]),
            ),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect();
        for (key, value) in extra {
            settings.insert(key.to_string(), value.clone());
        }
        let settings = S3Settings::from_settings(&settings).expect("settings");
        S3Backend::new(settings, dir).await.expect("backend")
    }

    /// A DynamoDB client on the emulator and Terraform's lock table `locks` (key `LockID`).
    async fn locks_table(moto: &common::Moto) -> aws_sdk_dynamodb::Client {
        let dynamodb = {
            let shared = aws_config::defaults(aws_config::BehaviorVersion::latest())
                .region(aws_config::Region::new("us-east-1"))
                .credentials_provider(aws_credential_types::Credentials::new(
                    "test", "test", None, None, "test",
                ))
                .load()
                .await;
            aws_sdk_dynamodb::Client::from_conf(
                aws_sdk_dynamodb::config::Builder::from(&shared)
                    .endpoint_url(&moto.endpoint)
                    .build(),
            )
        };
        dynamodb
            .create_table()
            .table_name("locks")
            .attribute_definitions(
                aws_sdk_dynamodb::types::AttributeDefinition::builder()
                    .attribute_name("LockID")
                    .attribute_type(aws_sdk_dynamodb::types::ScalarAttributeType::S)
                    .build()
                    .unwrap(),
            )
            .key_schema(
                aws_sdk_dynamodb::types::KeySchemaElement::builder()
                    .attribute_name("LockID")
                    .key_type(aws_sdk_dynamodb::types::KeyType::Hash)
                    .build()
                    .unwrap(),
            )
            .billing_mode(aws_sdk_dynamodb::types::BillingMode::PayPerRequest)
            .send()
            .await
            .unwrap();
        dynamodb
    }

    fn lockfile() -> (&'static str, Value) {
        ("use_lockfile", Value::Bool(true))
    }

    #[test]
    fn settings_are_read_with_defaults_and_aliases() {
        let settings: BTreeMap<String, Value> = [
            ("bucket", Value::string("b")),
            ("key", Value::string("k.tfstate")),
            ("force_path_style", Value::Bool(true)),
            ("endpoint", Value::string("http://old")),
            ("encrypt", Value::Bool(true)),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect();
        let parsed = S3Settings::from_settings(&settings).unwrap();
        assert_eq!(parsed.workspace_key_prefix, "env:");
        assert!(parsed.use_path_style && parsed.encrypt && !parsed.use_lockfile);
        assert_eq!(parsed.endpoint.as_deref(), Some("http://old"));
        let mut missing = settings.clone();
        missing.remove("key");
        let error = S3Settings::from_settings(&missing).unwrap_err().to_string();
        assert!(error.contains("`key` is required"), "{error}");
    }

    /// Writes `record` as the lock object of the state `network/terraform.tfstate` in `bucket`,
    /// as another run (or a person) would have left it.
    async fn put_lock_record(
        client: &aws_sdk_s3::Client,
        bucket: &str,
        record: &strata::state::LockInfo,
    ) {
        client
            .put_object()
            .bucket(bucket)
            .key("network/terraform.tfstate.tflock")
            .body(serde_json::to_vec(record).unwrap().into())
            .send()
            .await
            .unwrap();
    }

    /// A lock record a run on another machine left when it died, its lease long over.
    fn abandoned_record(path: &str) -> strata::state::LockInfo {
        let mut dead = strata::state::LockInfo::new("apply", path);
        dead.host = "a-runner-that-is-gone".into();
        dead.lease_expires = Some("2026-01-01T00:00:00.000Z".into());
        dead
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn leases_are_renewed_taken_over_when_over_and_lost_leases_stop_writes() {
        let moto = common::Moto::start();
        let dir = tempfile::tempdir().unwrap();
        // Long enough that a renewal (two requests, every third of it) is never late on a
        // loaded machine.
        let lease = Duration::from_secs(4);
        let store = backend(&moto, "leases", &[lockfile()], dir.path())
            .await
            .with_lease(lease);
        let client = s3_client(&moto).await;

        // Warm the emulator up: a first request can take seconds on a loaded machine.
        store
            .lock("default", "warm-up", Duration::ZERO, &|_| {})
            .await
            .unwrap()
            .release()
            .await
            .unwrap();
        // A live holder renews its lease: a waiter that waits three leases never gets in.
        let holder = store
            .lock("default", "apply", Duration::ZERO, &|_| {})
            .await
            .unwrap();
        let error = store
            .lock("default", "plan", lease * 3, &|_| {})
            .await
            .unwrap_err();
        assert!(matches!(error, StateError::Locked { .. }), "{error}");
        holder.release().await.unwrap();

        // A record whose lease is over is taken over, by exactly one of two racing waiters.
        let dead = abandoned_record("s3://leases/network/terraform.tfstate");
        put_lock_record(&client, "leases", &dead).await;
        let (first, second) = tokio::join!(
            store.lock("default", "apply", Duration::ZERO, &|_| {}),
            store.lock("default", "apply", Duration::ZERO, &|_| {}),
        );
        let (winner, loser) = match (first, second) {
            (Ok(winner), Err(loser)) | (Err(loser), Ok(winner)) => (winner, loser),
            (first, second) => panic!(
                "one waiter must win: {:?} / {:?}",
                first.is_ok(),
                second.is_ok()
            ),
        };
        assert!(matches!(loser, StateError::Locked { .. }), "{loser}");
        assert_eq!(
            winner.taken_over().map(|h| h.id.clone()),
            Some(dead.id.clone())
        );

        // Another run takes the lock over behind the winner's back (as if the winner had been
        // paused past its lease): its next renewal finds out, and it writes no state after.
        let usurper = abandoned_record("s3://leases/network/terraform.tfstate");
        put_lock_record(&client, "leases", &usurper).await;
        tokio::time::sleep(lease).await;
        let state = store.load("default").await.unwrap();
        let error = store.write("default", &state).await.unwrap_err();
        assert!(error.to_string().contains("took the lock over"), "{error}");
        drop(winner);

        // The DynamoDB lock item is taken over the same way.
        let dynamodb = locks_table(&moto).await;
        let legacy = backend(
            &moto,
            "leases-legacy",
            &[("dynamodb_table", Value::string("locks"))],
            dir.path(),
        )
        .await
        .with_lease(lease);
        let dead = abandoned_record("s3://leases-legacy/network/terraform.tfstate");
        dynamodb
            .put_item()
            .table_name("locks")
            .item(
                "LockID",
                aws_sdk_dynamodb::types::AttributeValue::S(
                    "leases-legacy/network/terraform.tfstate".into(),
                ),
            )
            .item(
                "Info",
                aws_sdk_dynamodb::types::AttributeValue::S(serde_json::to_string(&dead).unwrap()),
            )
            .send()
            .await
            .unwrap();
        let guard = legacy
            .lock("default", "apply", Duration::ZERO, &|_| {})
            .await
            .unwrap();
        assert_eq!(guard.taken_over().map(|h| h.id.clone()), Some(dead.id));
        guard.release().await.unwrap();
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn s3_backend_against_the_emulator() {
        let moto = common::Moto::start();
        let dir = tempfile::tempdir().unwrap();

        // State round trip per workspace, at Terraform's keys.
        let store = backend(
            &moto,
            "states",
            &[lockfile(), ("encrypt", Value::Bool(true))],
            dir.path(),
        )
        .await;
        assert_eq!(store.workspaces().await.unwrap(), vec!["default"]);
        let mut default_state = store.load("default").await.unwrap();
        default_state
            .resources
            .insert(address("terraform_data.a"), object("a", "default"));
        assert_eq!(store.write("default", &default_state).await.unwrap(), 1);
        store.create_workspace("dev").await.unwrap();
        assert!(matches!(
            store.create_workspace("dev").await,
            Err(StateError::WorkspaceExists(_))
        ));
        let mut dev_state = store.load("dev").await.unwrap();
        dev_state
            .resources
            .insert(address("terraform_data.b"), object("b", "dev"));
        store.write("dev", &dev_state).await.unwrap();
        assert_eq!(store.workspaces().await.unwrap(), vec!["default", "dev"]);
        let client = s3_client(&moto).await;
        let head = client
            .head_object()
            .bucket("states")
            .key("env:/dev/network/terraform.tfstate")
            .send()
            .await
            .expect("the dev state is at env:/dev/<key>");
        assert_eq!(
            head.server_side_encryption(),
            Some(&aws_sdk_s3::types::ServerSideEncryption::Aes256)
        );
        assert_eq!(
            store.load("default").await.unwrap().resources,
            default_state.resources
        );
        assert_eq!(
            store.load("dev").await.unwrap().resources,
            dev_state.resources
        );
        let pulled = store.pull("dev").await.unwrap().unwrap();
        assert_eq!(
            read_state(&pulled, "pulled").unwrap().resources,
            dev_state.resources
        );
        let foreign = write_state(&State::new()).unwrap();
        assert!(matches!(
            store.push("dev", &foreign, false).await,
            Err(StateError::LineageMismatch { .. })
        ));
        assert!(matches!(
            store.delete_workspace("dev", false).await,
            Err(StateError::WorkspaceNotEmpty { .. })
        ));

        // The journal: records go to small objects beside the state, in the bucket; the next
        // load, from another working directory (another machine), replays and uploads them.
        let base = store.load("default").await.unwrap();
        let mut writer = store.writer("default", &base).await.unwrap();
        for index in 0..20 {
            writer.record(&put(index, "journal")).await.unwrap();
        }
        let segments = store
            .objects()
            .list(&store.journal_prefix("default"))
            .await
            .unwrap();
        assert_eq!(segments.len(), 20, "one segment per record: {segments:?}");
        assert!(segments[0].starts_with("network/terraform.tfstate.journal/"));
        drop(writer);
        let elsewhere = tempfile::tempdir().unwrap();
        let other_machine = backend(&moto, "states", &[lockfile()], elsewhere.path()).await;
        let replayed = other_machine.load("default").await.unwrap();
        assert_eq!(
            replayed.resources.len(),
            21,
            "load replays the journal in the bucket"
        );
        assert!(
            store
                .objects()
                .list(&store.journal_prefix("default"))
                .await
                .unwrap()
                .is_empty(),
            "and uploads it"
        );
        let uploaded = store.pull("default").await.unwrap().unwrap();
        assert_eq!(
            read_state(&uploaded, "uploaded").unwrap().resources.len(),
            21
        );

        // A held lock with timeout 0 fails fast with the holder's details.
        let guard = store
            .lock("default", "apply", Duration::ZERO, &|_| {})
            .await
            .unwrap();
        let lock_object = client
            .get_object()
            .bucket("states")
            .key("network/terraform.tfstate.tflock")
            .send()
            .await
            .expect("the lock object exists");
        let lock_text = lock_object.body.collect().await.unwrap().into_bytes();
        assert!(String::from_utf8_lossy(&lock_text).contains(&guard.info().id));
        match store.lock("default", "plan", Duration::ZERO, &|_| {}).await {
            Err(StateError::Locked {
                id,
                holder,
                operation,
                created,
            }) => {
                assert_eq!(id, guard.info().id);
                assert_eq!(holder, guard.info().who);
                assert_eq!(operation, "apply");
                assert_eq!(created, guard.info().created);
            }
            other => panic!("expected Locked, got {other:?}"),
        }
        // Different workspaces lock independently.
        let dev_guard = store
            .lock("dev", "apply", Duration::ZERO, &|_| {})
            .await
            .unwrap();
        dev_guard.release().await.unwrap();
        assert!(store.force_unlock("default", "not-the-id").await.is_err());
        guard.release().await.unwrap();

        // Two writers at the same moment: both succeed, one after the other, nothing lost.
        let told = Arc::new(Mutex::new(0));
        let mut tasks = Vec::new();
        let before = store.load("default").await.unwrap().serial;
        for writer_index in 0..2 {
            let store = store.clone();
            let told = told.clone();
            tasks.push(tokio::spawn(async move {
                let on_wait = move |_: &strata::state::LockInfo| *told.lock().unwrap() += 1;
                let guard = store
                    .lock("default", "apply", Duration::from_secs(60), &on_wait)
                    .await
                    .unwrap();
                let mut state = store.load("default").await.unwrap();
                tokio::time::sleep(Duration::from_millis(300)).await;
                state.resources.insert(
                    address(&format!("terraform_data.writer[{writer_index}]")),
                    object("w", "w"),
                );
                store.write("default", &state).await.unwrap();
                guard.release().await.unwrap();
            }));
        }
        for task in tasks {
            task.await.unwrap();
        }
        let after = store.load("default").await.unwrap();
        assert_eq!(
            after.serial,
            before + 2,
            "the final serial counts both writes"
        );
        assert!(after
            .resources
            .contains_key(&address("terraform_data.writer[0]")));
        assert!(after
            .resources
            .contains_key(&address("terraform_data.writer[1]")));
        assert_eq!(
            *told.lock().unwrap(),
            1,
            "the second writer was told who holds the lock"
        );

        // Waiters take the lock in arrival order.
        let holder = store
            .lock("dev", "apply", Duration::ZERO, &|_| {})
            .await
            .unwrap();
        let order = Arc::new(Mutex::new(Vec::new()));
        let mut waiters = Vec::new();
        for waiter in 0..3 {
            let store = store.clone();
            let order = order.clone();
            waiters.push(tokio::spawn(async move {
                let guard = store
                    .lock("dev", "plan", Duration::from_secs(60), &|_| {})
                    .await
                    .unwrap();
                order.lock().unwrap().push(waiter);
                guard.release().await.unwrap();
            }));
            tokio::time::sleep(Duration::from_millis(300)).await;
        }
        holder.release().await.unwrap();
        for waiter in waiters {
            waiter.await.unwrap();
        }
        assert_eq!(*order.lock().unwrap(), vec![0, 1, 2]);

        // A holder that is gone (a dead process on this host) is taken over, and the record
        // says whose it was.
        let mut child = std::process::Command::new("true").spawn().unwrap();
        let dead_pid = child.id();
        child.wait().unwrap();
        let mut dead =
            strata::state::LockInfo::new("apply", "s3://states/network/terraform.tfstate");
        dead.pid = dead_pid;
        put_lock_record(&client, "states", &dead).await;
        let guard = store
            .lock("default", "plan", Duration::from_secs(5), &|_| {})
            .await
            .unwrap();
        assert_eq!(guard.taken_over().map(|h| h.id.clone()), Some(dead.id));
        guard.release().await.unwrap();
        // A record without a lease from a holder that cannot be checked (Terraform's, or
        // another host's) is left to a person: force-unlock needs its ID.
        let mut foreign =
            strata::state::LockInfo::new("apply", "s3://states/network/terraform.tfstate");
        foreign.host = "another-host".into();
        put_lock_record(&client, "states", &foreign).await;
        let error = store
            .lock("default", "plan", Duration::ZERO, &|_| {})
            .await
            .unwrap_err();
        assert!(matches!(error, StateError::Locked { .. }), "{error}");
        assert!(store.force_unlock("default", "wrong-id").await.is_err());
        store.force_unlock("default", &foreign.id).await.unwrap();
        assert!(store.lock_holder("default").await.unwrap().is_none());

        // DynamoDB locking for existing setups.
        let dynamodb = locks_table(&moto).await;
        let legacy = backend(
            &moto,
            "legacy",
            &[("dynamodb_table", Value::string("locks"))],
            dir.path(),
        )
        .await;
        let guard = legacy
            .lock("default", "apply", Duration::ZERO, &|_| {})
            .await
            .unwrap();
        let item = dynamodb
            .get_item()
            .table_name("locks")
            .key(
                "LockID",
                aws_sdk_dynamodb::types::AttributeValue::S(
                    "legacy/network/terraform.tfstate".into(),
                ),
            )
            .send()
            .await
            .unwrap();
        assert!(
            item.item().is_some(),
            "the lock item is keyed <bucket>/<key>"
        );
        assert!(matches!(
            legacy.lock("default", "plan", Duration::ZERO, &|_| {}).await,
            Err(StateError::Locked { ref operation, .. }) if operation == "apply"
        ));
        let mut state = legacy.load("default").await.unwrap();
        state
            .resources
            .insert(address("terraform_data.a"), object("a", "1"));
        legacy.write("default", &state).await.unwrap();
        let digest = dynamodb
            .get_item()
            .table_name("locks")
            .key(
                "LockID",
                aws_sdk_dynamodb::types::AttributeValue::S(
                    "legacy/network/terraform.tfstate-md5".into(),
                ),
            )
            .send()
            .await
            .unwrap();
        assert!(digest
            .item()
            .is_some_and(|item| item.contains_key("Digest")));
        guard.release().await.unwrap();
        legacy
            .lock("default", "plan", Duration::ZERO, &|_| {})
            .await
            .unwrap()
            .release()
            .await
            .unwrap();
    }
}

/// A Terraform 0.11 flatmap state (`attributes_flat`).
const FLATMAP_STATE: &str = r#"{
  "version": 4,
  "terraform_version": "0.12.31",
  "serial": 3,
  "lineage": "0f4b5c1e-7d2a-4c55-9a3e-1b2c3d4e5f60",
  "outputs": {},
  "resources": [
    {
      "mode": "managed",
      "type": "terraform_data",
      "name": "old",
      "provider": "provider[\"terraform.io/builtin/terraform\"]",
      "instances": [
        {
          "schema_version": 0,
          "attributes_flat": {
            "id": "legacy",
            "input": "a"
          }
        }
      ]
    }
  ]
}
"#;

/// Issue 10: an instance recorded as a pre-0.12 flatmap is read (its flatmap kept for the
/// provider's state upgrade, the value null until then) and written back as read; the built-in
/// provider, which cannot upgrade one, refuses it naming the instance and saying what to do.
#[test]
fn a_flatmap_instance_is_kept_until_upgraded_and_refused_by_the_builtin_provider() {
    let state = read_state(FLATMAP_STATE, "terraform.tfstate").expect("a flatmap state reads");
    let address = address("terraform_data.old");
    assert_eq!(state.resources[&address].value, Value::Null);
    let flatmap = state.extras[&address]
        .flatmap
        .as_ref()
        .expect("the flatmap is kept");
    assert_eq!(flatmap.get("input").map(String::as_str), Some("a"));
    let written = write_state(&state).expect("write");
    let reread = read_state(&written, "terraform.tfstate").expect("read again");
    assert_eq!(reread.extras, state.extras);
    assert!(written.contains("\"attributes_flat\": {"), "{written}");
    assert!(!written.contains("\"attributes\":"), "{written}");

    let dir = common::Workdir::new("resource \"terraform_data\" \"old\" {\n  input = \"a\"\n}\n");
    std::fs::write(dir.work.join("terraform.tfstate"), FLATMAP_STATE).expect("write the state");
    let output = dir.run(&["plan", "-no-color"]);
    let printed = String::from_utf8_lossy(&output.stderr).to_string()
        + &String::from_utf8_lossy(&output.stdout);
    assert!(!output.status.success(), "{printed}");
    assert!(
        printed.contains("Failed to upgrade the state of terraform_data.old"),
        "{printed}"
    );
    assert!(printed.contains("attributes_flat"), "{printed}");
    assert!(printed.contains("Terraform 0.12 or later"), "{printed}");
}
