//! `kill -9` during applies and destroys of the dev environment on the moto emulator (issue
//! 12), on the local backend and on the S3 backend: after each kill the next run finishes the
//! job with no manual step, every object in the emulator is in state exactly once, every state
//! file loads, no object carries a create's `strata:intent` tag after a finished apply, the
//! plan after a finished apply is `No changes.`, and a finished destroy leaves
//! the emulator as it was. With S3, every run starts in a fresh working directory (a new copy of
//! the configuration, `init` again), as a new CI runner would: nothing a killed run left on its
//! machine helps the next one.
//!
//! The kill points are seeded (`STRATA_CHAOS_SEED`), their number is `STRATA_CHAOS_KILLS` (12
//! for the local backend and 6 for S3 in the suite; `scripts/chaos.sh` runs 200 on each and
//! writes the counts into RELIABILITY.md through `STRATA_CHAOS_REPORT`; `STRATA_CHAOS_BIN` runs
//! another `strata` binary than the one cargo built, so a long run is not disturbed by a
//! rebuild). Also here: the engine's half of adoption through the CLI (a pending intent adopted
//! before planning, dropped when nothing was made, refused for a name without its tag).

use crate::common::{copy_tree, ensure_installed, repo_root, strata, Moto};
use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

type Inventory = BTreeMap<String, BTreeSet<String>>;

/// A small seeded generator (xorshift): the same seed gives the same kill points.
struct Seeded(u64);

impl Seeded {
    fn below(&mut self, bound: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % bound.max(1)
    }
}

/// What the chaos run counts (the figures of RELIABILITY.md).
#[derive(Default, Debug)]
struct Counts {
    kills: u64,
    adoptions: u64,
    dropped_intents: u64,
    lock_takeovers: u64,
    runs: u64,
}

/// Where the dev environment keeps its state in a chaos run.
#[derive(Clone, Copy, PartialEq, Debug)]
enum Backend {
    /// `terraform.tfstate` in the working directory, which every run shares.
    Local,
    /// The environment's own `backend.tf` (S3, lock file), on a bucket in the emulator; every
    /// run in a fresh working directory.
    S3,
}

/// How long a run waits for a lock a killed run left (its S3 lease must end first).
const LOCK_TIMEOUT: &str = "-lock-timeout=120s";

/// The bucket the S3 chaos run keeps the state in.
const STATE_BUCKET: &str = "strata-chaos-state";

struct Env {
    moto: Moto,
    python: PathBuf,
    dir: PathBuf,
    backend: Backend,
    _temp: tempfile::TempDir,
}

impl Env {
    /// The dev environment in a fresh directory on `backend`, initialized, with its database
    /// password seeded (and, for S3, the state bucket made).
    fn dev(moto: Moto, backend: Backend) -> Env {
        let (dir, temp) = clone_dev(backend);
        let mut env = Env::at(moto, dir, temp);
        env.backend = backend;
        crate::environments_e2e::seed_db_password(&env.moto, "dev");
        if backend == Backend::S3 {
            env.aws(&["bucket", STATE_BUCKET]);
        }
        env.init();
        env
    }

    /// Moves to a new copy of the configuration and initializes it, as a new CI runner would
    /// (S3 only: the local backend's state lives in the working directory).
    fn new_runner(&mut self) {
        if self.backend == Backend::S3 {
            let (dir, temp) = clone_dev(self.backend);
            self.dir = dir;
            self._temp = temp;
            self.init();
        }
    }

    fn init(&mut self) {
        let endpoint = self.moto.endpoint.clone();
        let args: Vec<String> = match self.backend {
            Backend::Local => vec!["init".into()],
            Backend::S3 => vec![
                "init".into(),
                format!("-backend-config=bucket={STATE_BUCKET}"),
                format!("-backend-config=endpoint={endpoint}"),
                "-backend-config=use_path_style=true".into(),
            ],
        };
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        ok(&self.run(&args), "init");
    }

    fn at(moto: Moto, dir: PathBuf, temp: tempfile::TempDir) -> Env {
        let venv = ensure_installed("ensure-moto.sh");
        Env {
            moto,
            python: venv.join("bin/python"),
            dir,
            backend: Backend::Local,
            _temp: temp,
        }
    }

    fn command(&self, args: &[&str]) -> Command {
        let mut command = Command::new(chaos_strata());
        command
            .args(args)
            .current_dir(&self.dir)
            .env("NO_COLOR", "1");
        for (key, value) in self.moto.env() {
            command.env(key, value);
        }
        if self.backend == Backend::S3 {
            // A killed run's S3 lock is taken over once its lease ends: a short one keeps the
            // test quick (the runs wait for it with `-lock-timeout`).
            command.env("STRATA_LOCK_LEASE", "6s");
        }
        command
    }

    fn run(&self, args: &[&str]) -> Output {
        self.command(args).output().unwrap()
    }

    fn aws(&self, args: &[&str]) -> String {
        let output = Command::new(&self.python)
            .arg(repo_root().join("tests/support/aws_inventory.py"))
            .arg(&self.moto.endpoint)
            .args(args)
            .output()
            .unwrap();
        ok(&output, "aws_inventory.py")
    }

    fn inventory(&self) -> Inventory {
        serde_json::from_str(&self.aws(&["inventory"])).unwrap()
    }

    /// What the state file records, keyed as the inventory is; panics on an object recorded
    /// twice or a create still pending.
    fn recorded(&self) -> Inventory {
        let listed = self.run(&["state", "list"]);
        let text = ok(&listed, "state list: the state loads");
        assert!(
            !text.contains("was interrupted") && !stderr(&listed).contains("was interrupted"),
            "a create is still pending after a finished run: {}",
            stderr(&listed)
        );
        let mut out = Inventory::new();
        let pulled = self.run(&["state", "pull"]);
        let bytes = ok(&pulled, "state pull: the state loads");
        if bytes.trim().is_empty() {
            return out;
        }
        let state: serde_json::Value = serde_json::from_str(&bytes).unwrap();
        for resource in state["resources"].as_array().into_iter().flatten() {
            if resource["mode"] != "managed" {
                continue;
            }
            let type_name = resource["type"].as_str().unwrap().to_string();
            for instance in resource["instances"].as_array().into_iter().flatten() {
                let a = &instance["attributes"];
                let key = match type_name.as_str() {
                    "aws_iam_role_policy_attachment" => format!(
                        "{}|{}",
                        a["role"].as_str().unwrap_or_default(),
                        a["policy_arn"].as_str().unwrap_or_default()
                    ),
                    "aws_db_instance" => a["identifier"].as_str().unwrap_or_default().into(),
                    _ => a["id"].as_str().unwrap_or_default().into(),
                };
                let fresh = out.entry(type_name.clone()).or_default().insert(key);
                assert!(fresh, "{type_name}: one object recorded twice");
            }
        }
        out
    }
}

/// A copy of the environments and modules in a new temporary directory: the dev environment's
/// folder in it, and the directory to keep. The local backend's copy has no `backend.tf`.
fn clone_dev(backend: Backend) -> (PathBuf, tempfile::TempDir) {
    let temp = tempfile::tempdir().unwrap();
    copy_tree(
        &repo_root().join("environments"),
        &temp.path().join("environments"),
    );
    copy_tree(&repo_root().join("modules"), &temp.path().join("modules"));
    let dir = temp.path().join("environments/dev");
    if backend == Backend::Local {
        std::fs::remove_file(dir.join("backend.tf")).unwrap();
    }
    (dir, temp)
}

/// The `strata` binary the chaos runs start: `STRATA_CHAOS_BIN`, else the one cargo built.
fn chaos_strata() -> PathBuf {
    std::env::var_os("STRATA_CHAOS_BIN")
        .map(PathBuf::from)
        .unwrap_or_else(strata)
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).to_string()
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).to_string()
}

fn ok(output: &Output, what: &str) -> String {
    assert!(
        output.status.success(),
        "{what} failed:\n{}\n{}",
        stdout(output),
        stderr(output)
    );
    stdout(output)
}

/// `now` minus what the emulator held at the start; empty types left out.
fn minus(now: &Inventory, baseline: &Inventory) -> Inventory {
    now.iter()
        .map(|(t, keys)| {
            let empty = BTreeSet::new();
            let before = baseline.get(t).unwrap_or(&empty);
            (t.clone(), keys.difference(before).cloned().collect())
        })
        .filter(|(_, keys): &(String, BTreeSet<String>)| !keys.is_empty())
        .collect()
}

struct Chaos {
    env: Env,
    baseline: Inventory,
    seeded: Seeded,
    counts: Counts,
    /// How long an uninterrupted apply and destroy took: kills fall within those spans.
    spans: BTreeMap<&'static str, Duration>,
    /// The output of the last finished run, for a failed check to show.
    last: String,
}

impl Chaos {
    /// Runs `op` to the end, checks it succeeded and counts what it reports.
    fn finish(&mut self, op: &'static str) -> String {
        self.env.new_runner();
        let started = Instant::now();
        let output = self.env.run(&[op, "-auto-approve", LOCK_TIMEOUT]);
        self.counts.runs += 1;
        let text = format!("{}{}", stdout(&output), stderr(&output));
        assert!(
            output.status.success(),
            "the {op} after a kill needed a person:\n{text}"
        );
        self.spans
            .entry(op)
            .or_insert_with(|| started.elapsed().max(Duration::from_millis(500)));
        self.count(&text);
        self.last = text.clone();
        text
    }

    fn count(&mut self, text: &str) {
        self.counts.adoptions += text.matches("Adopted the object").count() as u64;
        self.counts.dropped_intents += text.matches("its intent is dropped").count() as u64;
        self.counts.lock_takeovers += text.matches("Took over the state lock").count() as u64;
    }

    /// Starts `op` and kills it with SIGKILL at a seeded point of its usual span.
    fn kill_during(&mut self, op: &'static str) {
        let span = self.spans[op].as_millis() as u64;
        let delay = Duration::from_millis(self.seeded.below(span));
        self.env.new_runner();
        let mut child = self
            .env
            .command(&[op, "-auto-approve", LOCK_TIMEOUT])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        std::thread::sleep(delay);
        let _ = child.kill();
        let output = child.wait_with_output().unwrap();
        self.counts.kills += 1;
        self.counts.runs += 1;
        self.count(&format!("{}{}", stdout(&output), stderr(&output)));
    }

    /// Everything the emulator holds beyond its start is in state exactly once.
    fn check_recorded(&self, when: &str) {
        let held = minus(&self.env.inventory(), &self.baseline);
        let recorded = self.env.recorded();
        assert_eq!(
            held, recorded,
            "{when}: the emulator (left) and the state (right) differ"
        );
    }

    fn check_applied(&mut self) {
        self.check_recorded("after apply");
        // Nothing of a create's intent shows to another tool once the apply is finished: the
        // tags of what it created or adopted are removed, and its refresh removed those a
        // killed run left on what it had recorded.
        let tagged = self.env.aws(&["intent-tagged"]);
        let plan = self.env.run(&["plan", "-detailed-exitcode", LOCK_TIMEOUT]);
        let text = format!("{}{}", stdout(&plan), stderr(&plan));
        self.count(&text);
        let after_plan = self.env.aws(&["intent-tagged"]);
        assert_eq!(
            (tagged.trim(), after_plan.trim()),
            ("[]", "[]"),
            "after apply (left: before the plan, right: after it): objects still carry a create's intent tag; the apply said:\n{}\nthe plan said:\n{text}",
            self.last
        );
        assert_eq!(plan.status.code(), Some(0), "plan after apply:\n{text}");
        assert!(text.contains("No changes."), "{text}");
    }

    fn check_destroyed(&self) {
        self.check_recorded("after destroy");
        let held = minus(&self.env.inventory(), &self.baseline);
        assert!(held.is_empty(), "destroy left objects behind: {held:?}");
    }
}

fn env_number(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

#[test]
fn chaos_kill_9_during_apply_and_destroy_of_dev_local_backend() {
    chaos_run(Backend::Local, 12);
}

#[test]
fn chaos_kill_9_during_apply_and_destroy_of_dev_s3_backend_fresh_runner_each_time() {
    chaos_run(Backend::S3, 6);
}

/// Rounds of killed and finished applies and destroys on `backend` until the kills reach
/// `STRATA_CHAOS_KILLS` (else `default_kills`), checking after every finished run.
fn chaos_run(backend: Backend, default_kills: u64) {
    let kills = env_number("STRATA_CHAOS_KILLS", default_kills);
    let seed = env_number("STRATA_CHAOS_SEED", 12);
    let env = Env::dev(Moto::start(), backend);
    let baseline = env.inventory();
    let mut chaos = Chaos {
        env,
        baseline,
        seeded: Seeded(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1),
        counts: Counts::default(),
        spans: BTreeMap::new(),
        last: String::new(),
    };
    // One uninterrupted round first: it must work, and it measures the spans kills fall in.
    chaos.finish("apply");
    chaos.check_applied();
    chaos.finish("destroy");
    chaos.check_destroyed();
    while chaos.counts.kills < kills {
        chaos.round(kills);
    }
    eprintln!("chaos ({backend:?}, seed {seed}): {:?}", chaos.counts);
    if let Ok(path) = std::env::var("STRATA_CHAOS_REPORT") {
        let c = &chaos.counts;
        let backend = format!("{backend:?}").to_lowercase();
        std::fs::write(
            path,
            format!(
                "{{\"backend\": \"{backend}\", \"seed\": {seed}, \"kills\": {}, \"runs\": {}, \"adoptions\": {}, \"dropped_intents\": {}, \"lock_takeovers\": {}}}\n",
                c.kills, c.runs, c.adoptions, c.dropped_intents, c.lock_takeovers
            ),
        )
        .unwrap();
    }
}

impl Chaos {
    /// One round: one or two killed applies, then (mostly) a finished apply and one or two
    /// killed destroys, then a finished destroy; no more than `kills` kills in all.
    fn round(&mut self, kills: u64) {
        // One or two kills in a row (the second may land in the recovery itself).
        for _ in 0..=self.seeded.below(2) {
            if self.counts.kills < kills {
                self.kill_during("apply");
            }
        }
        // Now and then straight to destroy after a killed apply: what it made goes too.
        if self.seeded.below(3) > 0 {
            self.finish("apply");
            self.check_applied();
            for _ in 0..=self.seeded.below(2) {
                if self.counts.kills < kills {
                    self.kill_during("destroy");
                }
            }
        }
        self.finish("destroy");
        self.check_destroyed();
    }
}

/// A configuration of one VPC and two roles, with its state written by hand.
fn small(moto: Moto, pending: &[(&str, &str)]) -> Env {
    let pending: serde_json::Map<String, serde_json::Value> = pending
        .iter()
        .map(|(a, t)| (a.to_string(), serde_json::Value::from(*t)))
        .collect();
    written(
        moto,
        r#"provider "aws" {
  region = "us-east-1"
}

resource "aws_vpc" "main" {
  cidr_block = "10.42.0.0/16"
}

resource "aws_iam_role" "app" {
  name = "adopt-app"
  assume_role_policy = jsonencode({
    Version   = "2012-10-17"
    Statement = [{ Effect = "Allow", Principal = { Service = "ec2.amazonaws.com" }, Action = "sts:AssumeRole" }]
  })
}
"#,
        serde_json::json!({ "strata_pending_creates": pending }),
    )
}

/// A working directory of `main_tf` and an empty state with `extra` (pending creates) in it,
/// initialised.
fn written(moto: Moto, main_tf: &str, extra: serde_json::Value) -> Env {
    let temp = tempfile::tempdir().unwrap();
    let dir = temp.path().to_path_buf();
    std::fs::write(dir.join("main.tf"), main_tf).unwrap();
    let mut state = serde_json::json!({
        "version": 4, "terraform_version": "1.15.5", "serial": 3,
        "lineage": "5a1e0c3e-0000-4000-8000-000000000012",
        "outputs": {}, "resources": [],
    });
    if let (Some(state), serde_json::Value::Object(extra)) = (state.as_object_mut(), extra) {
        state.extend(extra);
    }
    std::fs::write(
        dir.join("terraform.tfstate"),
        serde_json::to_string_pretty(&state).unwrap(),
    )
    .unwrap();
    let env = Env::at(moto, dir, temp);
    ok(&env.run(&["init"]), "init");
    env
}

#[test]
fn a_pending_create_is_adopted_before_planning_or_dropped_when_nothing_was_made() {
    let env = small(
        Moto::start(),
        &[
            ("aws_vpc.main", "tok-vpc"),
            ("aws_iam_role.app", "tok-role"),
        ],
    );
    // The killed run's objects, made with the intent's tag as its create calls made them.
    let vpc = env
        .aws(&["vpc", "10.42.0.0/16", "tok-vpc"])
        .trim()
        .to_string();
    env.aws(&["role", "adopt-app", "tok-role"]);
    let plan = env.run(&["plan"]);
    let text = ok(&plan, "plan");
    assert!(
        text.contains(&format!(
            "aws_vpc.main: Adopted the object an interrupted run created [id={vpc}]"
        )),
        "{text}"
    );
    assert!(
        text.contains(
            "aws_iam_role.app: Adopted the object an interrupted run created [id=adopt-app]"
        ),
        "{text}"
    );
    let applied = ok(&env.run(&["apply", "-auto-approve"]), "apply");
    assert!(applied.contains("Adopted the object"), "{applied}");
    let held = env.inventory();
    let vpcs: Vec<&String> = held["aws_vpc"].iter().filter(|v| **v != vpc).collect();
    assert!(
        vpcs.len() == 1,
        "only the default VPC besides ours: {vpcs:?}"
    );
    assert!(held["aws_iam_role"].contains("adopt-app"));
    let recorded = env.recorded();
    assert!(recorded["aws_vpc"].contains(&vpc), "{recorded:?}");
    assert!(recorded["aws_iam_role"].contains("adopt-app"));
    // Recorded: the tag is gone, and nothing is left to do.
    assert_eq!(env.aws(&["tags", &vpc]).trim(), "{}");
    let again = env.run(&["plan", "-detailed-exitcode"]);
    assert_eq!(again.status.code(), Some(0), "{}", stdout(&again));

    // Nothing made: the intent is dropped and the instance created anew.
    let env = small(Moto::start(), &[("aws_vpc.main", "tok-none")]);
    let text = ok(&env.run(&["plan"]), "plan");
    assert!(
        text.contains("aws_vpc.main: An interrupted create made nothing; its intent is dropped"),
        "{text}"
    );
    assert!(text.contains("Plan: 2 to add"), "{text}");
}

#[test]
fn an_object_that_only_shares_the_name_is_never_adopted() {
    let env = small(Moto::start(), &[("aws_iam_role.app", "tok-role")]);
    env.aws(&["role", "adopt-app"]);
    let output = env.run(&["apply", "-auto-approve"]);
    assert!(!output.status.success());
    let text = stderr(&output);
    assert!(
        text.contains(
            "IAM Role `adopt-app` exists but was not made by this configuration's interrupted run"
        ) && text.contains("strata import")
            && text.contains("main.tf:"),
        "{text}"
    );
    assert!(!env.recorded().contains_key("aws_iam_role"));
}

/// A killed apply's RDS instance, adopted by a `destroy` run next: the intent kept what the
/// create asked for, so the adopted object has `skip_final_snapshot = true` (no read can see
/// it) and the destroy deletes it without asking for a final snapshot.
#[test]
fn a_destroy_right_after_a_killed_create_deletes_the_adopted_database_as_configured() {
    let planned = serde_json::json!({
        "identifier": "adopt-db", "engine": "postgres", "instance_class": "db.t3.micro",
        "allocated_storage": 20, "username": "app", "password": "adopt-secret-pw-1",
        "skip_final_snapshot": true, "id": null, "arn": null,
    });
    let env = written(
        Moto::start(),
        r#"provider "aws" {
  region = "us-east-1"
}

resource "aws_db_instance" "db" {
  identifier          = "adopt-db"
  engine              = "postgres"
  instance_class      = "db.t3.micro"
  allocated_storage   = 20
  username            = "app"
  password            = "adopt-secret-pw-1"
  skip_final_snapshot = true
}
"#,
        serde_json::json!({
            "strata_pending_creates": { "aws_db_instance.db": "tok-db" },
            "strata_pending_planned": { "aws_db_instance.db": planned },
        }),
    );
    env.aws(&["db", "adopt-db", "tok-db"]);
    let destroyed = env.run(&["destroy", "-auto-approve"]);
    let text = ok(&destroyed, "destroy");
    assert!(
        text.contains("aws_db_instance.db: Adopted the object an interrupted run created")
            && text.contains("Destroy complete! Resources: 1 destroyed."),
        "{text}"
    );
    assert!(!text.contains("adopt-secret-pw-1"), "{text}");
    assert_eq!(env.inventory()["aws_db_instance"], BTreeSet::new());
    assert_eq!(env.recorded().get("aws_db_instance"), None);
}
