//! State and plan encryption at rest (OpenTofu's `encryption` block and envelope): round trips
//! through the CLI (local state, saved plans; with the `aws` feature the S3 backend and the
//! `aws_kms` key provider on the emulator), migration to and from plaintext, the journal sealed
//! line by line, a wrong key refused with the state untouched, no secret in what is written, and
//! configuration errors at `file:line:col`.

use crate::common;
use std::path::Path;
use std::process::{Command, Output};
use strata::config::encryption::{decode_env, validate};
use strata::encryption::Encryption;
use strata::state::{Backend, LocalBackend, StateChange};

const PASSPHRASE: &str = "tr0ub4dor-and-3-horses";
const PASSWORD: &str = "db-pa55w0rd-never-in-files";

/// The resources and outputs of every test: a secret in the state.
const RESOURCES: &str = r#"
resource "terraform_data" "db" {
  input = "PASSWORD"
}

output "password" {
  value     = terraform_data.db.output
  sensitive = true
}
"#;

/// An `encryption` block with a PBKDF2 key and the state block `state`.
fn encryption_block(passphrase: &str, state: &str, plan: &str) -> String {
    format!(
        r#"terraform {{
  encryption {{
    key_provider "pbkdf2" "main" {{
      passphrase = "{passphrase}"
      iterations = 200000
    }}
    method "aes_gcm" "main" {{
      keys = key_provider.pbkdf2.main
    }}
    method "unencrypted" "migrate" {{}}
    state {{
      {state}
    }}
    {plan}
  }}
}}
"#
    )
}

const ENCRYPTED: &str = "method = method.aes_gcm.main";
const MIGRATE_IN: &str =
    "method = method.aes_gcm.main\n      fallback {\n        method = method.unencrypted.migrate\n      }";
const MIGRATE_OUT: &str =
    "method = method.unencrypted.migrate\n      fallback {\n        method = method.aes_gcm.main\n      }";

fn write_config(dir: &Path, encryption: &str, extra: &str) {
    std::fs::write(
        dir.join("main.tf"),
        format!(
            "{encryption}{}{extra}",
            RESOURCES.replace("PASSWORD", PASSWORD)
        ),
    )
    .unwrap();
}

fn strata(dir: &Path, args: &[&str], env: &[(String, String)]) -> Output {
    Command::new(common::strata())
        .args(args)
        .current_dir(dir)
        .env_remove("TF_ENCRYPTION")
        .envs(env.iter().map(|(k, v)| (k, v)))
        .output()
        .expect("run strata")
}

fn ok(output: &Output, what: &str) -> String {
    assert!(
        output.status.success(),
        "{what} failed:\n{}\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn failed(output: &Output, what: &str) -> String {
    assert!(!output.status.success(), "{what} should fail");
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// The file parsed as OpenTofu's envelope, checked to hide every secret.
fn assert_encrypted(bytes: &[u8], provider: &str) -> serde_json::Value {
    let text = String::from_utf8_lossy(bytes);
    for secret in [PASSWORD, PASSPHRASE, "terraform_data"] {
        assert!(!text.contains(secret), "`{secret}` in {text}");
    }
    let envelope: serde_json::Value = serde_json::from_slice(bytes).expect("JSON envelope");
    assert_eq!(envelope["encryption_version"], "v0", "{text}");
    assert!(envelope["meta"][provider].is_string(), "{text}");
    assert!(envelope["encrypted_data"].is_string(), "{text}");
    envelope
}

fn assert_plaintext(bytes: &[u8]) {
    let state: serde_json::Value = serde_json::from_slice(bytes).expect("JSON state");
    assert_eq!(state["version"], 4, "{state}");
    assert!(state.get("encryption_version").is_none());
}

#[test]
fn local_state_round_trips_encrypted_and_a_wrong_key_changes_nothing() {
    let temp = tempfile::tempdir().unwrap();
    let dir = temp.path();
    write_config(dir, &encryption_block(PASSPHRASE, ENCRYPTED, ""), "");
    ok(&strata(dir, &["apply", "-auto-approve"], &[]), "apply");
    let state = std::fs::read(dir.join("terraform.tfstate")).unwrap();
    let envelope = assert_encrypted(&state, "key_provider.pbkdf2.main");
    assert_eq!(
        envelope["serial"], 1,
        "serial and lineage stay readable, as OpenTofu writes them"
    );
    assert!(envelope["lineage"].is_string());

    let plan = ok(&strata(dir, &["plan"], &[]), "plan");
    assert!(plan.contains("No changes."), "{plan}");
    let output = ok(&strata(dir, &["output", "-raw", "password"], &[]), "output");
    assert_eq!(output, PASSWORD);
    let pulled = ok(&strata(dir, &["state", "pull"], &[]), "state pull");
    assert_plaintext(pulled.as_bytes());

    // TF_ENCRYPTION overrides the passphrase: the wrong one.
    let wrong = [(
        "TF_ENCRYPTION".to_string(),
        "key_provider \"pbkdf2\" \"main\" {\n  passphrase = \"not-the-right-passphrase\"\n}\n"
            .to_string(),
    )];
    for args in [
        &["plan"][..],
        &["apply", "-auto-approve"],
        &["state", "list"],
    ] {
        let error = failed(&strata(dir, args, &wrong), "a wrong passphrase");
        assert!(
            error.contains("cannot decrypt the state in `") && error.contains("terraform.tfstate`"),
            "{error}"
        );
        assert!(error.contains("method.aes_gcm.main: wrong key"), "{error}");
        assert!(error.contains("Nothing was written"), "{error}");
        assert!(!error.contains("not-the-right-passphrase") && !error.contains(PASSPHRASE));
        assert_eq!(std::fs::read(dir.join("terraform.tfstate")).unwrap(), state);
        assert!(!dir.join("terraform.tfstate.backup").exists());
    }

    // Without any encryption configuration, the message says what the file is.
    write_config(dir, "", "");
    let error = failed(&strata(dir, &["plan"], &[]), "no configuration");
    assert!(
        error.contains("no encryption is configured for the state"),
        "{error}"
    );
    assert_eq!(std::fs::read(dir.join("terraform.tfstate")).unwrap(), state);
}

#[test]
fn migrates_plaintext_state_to_encrypted_and_back() {
    let temp = tempfile::tempdir().unwrap();
    let dir = temp.path();
    write_config(dir, "", "");
    ok(
        &strata(dir, &["apply", "-auto-approve"], &[]),
        "plaintext apply",
    );
    assert_plaintext(&std::fs::read(dir.join("terraform.tfstate")).unwrap());

    // Encryption without a fallback refuses the plaintext state and writes nothing.
    write_config(dir, &encryption_block(PASSPHRASE, ENCRYPTED, ""), "");
    let before = std::fs::read(dir.join("terraform.tfstate")).unwrap();
    let error = failed(&strata(dir, &["plan"], &[]), "plaintext without fallback");
    assert!(
        error.contains("fallback { method = method.unencrypted.migrate }"),
        "{error}"
    );
    assert_eq!(
        std::fs::read(dir.join("terraform.tfstate")).unwrap(),
        before
    );

    // With the unencrypted fallback, the next write encrypts.
    let second = "\nresource \"terraform_data\" \"second\" {\n  input = \"2\"\n}\n";
    write_config(dir, &encryption_block(PASSPHRASE, MIGRATE_IN, ""), second);
    ok(
        &strata(dir, &["apply", "-auto-approve"], &[]),
        "migrating apply",
    );
    assert_encrypted(
        &std::fs::read(dir.join("terraform.tfstate")).unwrap(),
        "key_provider.pbkdf2.main",
    );
    write_config(dir, &encryption_block(PASSPHRASE, ENCRYPTED, ""), second);
    let plan = ok(&strata(dir, &["plan"], &[]), "plan after migration");
    assert!(plan.contains("No changes."), "{plan}");

    // And back: unencrypted first, the old method to read.
    let third =
        format!("{second}\nresource \"terraform_data\" \"third\" {{\n  input = \"3\"\n}}\n");
    write_config(dir, &encryption_block(PASSPHRASE, MIGRATE_OUT, ""), &third);
    ok(
        &strata(dir, &["apply", "-auto-approve"], &[]),
        "apply back to plaintext",
    );
    assert_plaintext(&std::fs::read(dir.join("terraform.tfstate")).unwrap());
    write_config(dir, "", &third);
    let plan = ok(&strata(dir, &["plan"], &[]), "plaintext plan");
    assert!(plan.contains("No changes."), "{plan}");
}

#[test]
fn saved_plans_are_encrypted() {
    let temp = tempfile::tempdir().unwrap();
    let dir = temp.path();
    let plan_block = "plan {\n      method = method.aes_gcm.main\n    }";
    write_config(
        dir,
        &encryption_block(PASSPHRASE, ENCRYPTED, plan_block),
        "",
    );
    ok(&strata(dir, &["plan", "-out=tfplan"], &[]), "plan -out");
    let saved = std::fs::read(dir.join("tfplan")).unwrap();
    assert_encrypted(&saved, "key_provider.pbkdf2.main");
    let shown = ok(&strata(dir, &["show", "tfplan"], &[]), "show tfplan");
    assert!(shown.contains("terraform_data.db"), "{shown}");

    let wrong = [(
        "TF_ENCRYPTION".to_string(),
        r#"{"key_provider": {"pbkdf2": {"main": {"passphrase": "not-the-right-passphrase"}}}}"#
            .to_string(),
    )];
    let error = failed(
        &strata(dir, &["apply", "tfplan"], &wrong),
        "apply with a wrong key",
    );
    assert!(
        error.contains("cannot decrypt the plan in `tfplan`"),
        "{error}"
    );
    assert!(!dir.join("terraform.tfstate").exists());

    ok(&strata(dir, &["apply", "tfplan"], &[]), "apply tfplan");
    assert_encrypted(
        &std::fs::read(dir.join("terraform.tfstate")).unwrap(),
        "key_provider.pbkdf2.main",
    );
    // `drift` reads back the refresh-only plan the environment's run saved: sealed too.
    let drift = strata(dir, &["drift"], &[]);
    let report = String::from_utf8_lossy(&drift.stdout);
    assert_eq!(
        drift.status.code(),
        Some(0),
        "{report}{}",
        String::from_utf8_lossy(&drift.stderr)
    );
    assert!(report.contains("(default): no drift"), "{report}");
}

#[test]
fn configuration_errors_point_at_the_line() {
    let temp = tempfile::tempdir().unwrap();
    let dir = temp.path();
    let broken = encryption_block("short", ENCRYPTED, "").replace(
        "keys = key_provider.pbkdf2.main",
        "keys = key_provider.pbkdf2.other",
    );
    write_config(dir, &broken, "");
    let error = failed(&strata(dir, &["plan"], &[]), "invalid encryption");
    assert!(error.contains("main.tf:4:20"), "{error}");
    assert!(error.contains("Passphrase too short"), "{error}");
    assert!(error.contains("main.tf:8:14"), "{error}");
    assert!(error.contains("Undeclared key provider"), "{error}");
    assert!(!dir.join("terraform.tfstate").exists());

    write_config(dir, "", "");
    let env = [(
        "TF_ENCRYPTION".to_string(),
        "method \"aes_gcm\" {\n}\n".to_string(),
    )];
    let error = failed(&strata(dir, &["plan"], &env), "invalid TF_ENCRYPTION");
    assert!(error.contains("TF_ENCRYPTION:1:1"), "{error}");
    assert!(error.contains("Invalid block labels"), "{error}");
}

#[test]
fn terraform_remote_state_reads_an_encrypted_state() {
    let temp = tempfile::tempdir().unwrap();
    let producer = temp.path().join("producer");
    let consumer = temp.path().join("consumer");
    std::fs::create_dir_all(&producer).unwrap();
    std::fs::create_dir_all(&consumer).unwrap();
    write_config(&producer, &encryption_block(PASSPHRASE, ENCRYPTED, ""), "");
    ok(
        &strata(&producer, &["apply", "-auto-approve"], &[]),
        "producer apply",
    );

    let reader = r#"
data "terraform_remote_state" "producer" {
  backend = "local"
  config = {
    path = "../producer/terraform.tfstate"
  }
}

output "password" {
  value     = data.terraform_remote_state.producer.outputs.password
  sensitive = true
}
"#;
    std::fs::write(consumer.join("main.tf"), reader).unwrap();
    let error = failed(
        &strata(&consumer, &["apply", "-auto-approve"], &[]),
        "no key",
    );
    assert!(
        error.contains("no encryption is configured for the state"),
        "{error}"
    );

    let keys = format!(
        "terraform {{\n  encryption {{\n    key_provider \"pbkdf2\" \"main\" {{\n      passphrase = \"{PASSPHRASE}\"\n    }}\n    method \"aes_gcm\" \"main\" {{\n      keys = key_provider.pbkdf2.main\n    }}\n    remote_state_data_sources {{\n      default {{\n        method = method.aes_gcm.main\n      }}\n    }}\n  }}\n}}\n"
    );
    std::fs::write(consumer.join("main.tf"), format!("{keys}{reader}")).unwrap();
    ok(
        &strata(&consumer, &["apply", "-auto-approve"], &[]),
        "consumer apply",
    );
    let output = ok(
        &strata(&consumer, &["output", "-raw", "password"], &[]),
        "output",
    );
    assert_eq!(output, PASSWORD);
    // The consumer's own state has no `state` block: it stays plaintext.
    assert_plaintext(&std::fs::read(consumer.join("terraform.tfstate")).unwrap());
}

/// The journal of an interrupted apply: one sealed envelope per line, replayed by the next load
/// with the key, refused without it.
#[tokio::test]
async fn journal_lines_are_sealed_one_by_one() {
    let config = decode_env(&format!(
        "key_provider \"pbkdf2\" \"main\" {{\n passphrase = \"{PASSPHRASE}\"\n iterations = 200000\n}}\nmethod \"aes_gcm\" \"main\" {{\n keys = key_provider.pbkdf2.main\n}}\nstate {{\n method = method.aes_gcm.main\n}}\n"
    ))
    .unwrap();
    assert!(validate(&config).is_empty());
    let encryption = Encryption::new(Some(&config)).unwrap();
    let temp = tempfile::tempdir().unwrap();
    let backend = LocalBackend::new(temp.path()).with_encryption(encryption.state.clone());
    let base = backend.load("default").await.unwrap();
    let mut writer = backend.writer("default", &base).await.unwrap();
    let change = StateChange::Put {
        address: strata::addrs::ResourceInstance::parse("terraform_data.db").unwrap(),
        object: strata::state::InstanceObject {
            value: strata::value::Value::object([(
                "input",
                strata::value::Value::string(PASSWORD),
            )]),
            provider: "provider[\"terraform.io/builtin/terraform\"]".into(),
            schema_version: 0,
            dependencies: Vec::new(),
            create_before_destroy: false,
            status: strata::state::ObjectStatus::Ready,
            private: None,
        },
    };
    writer.record(&change).await.unwrap();
    drop(writer); // killed before `finish`
    let journal = std::fs::read(backend.journal_file("default")).unwrap();
    let lines: Vec<&[u8]> = journal
        .split(|b| *b == b'\n')
        .filter(|l| !l.is_empty())
        .collect();
    assert_eq!(lines.len(), 2, "header and one change");
    for line in lines {
        assert_encrypted(line, "key_provider.pbkdf2.main");
    }
    let plaintext = LocalBackend::new(temp.path());
    let error = plaintext.load("default").await.unwrap_err().to_string();
    assert!(
        error.contains("no encryption is configured for the state"),
        "{error}"
    );
    let state = backend.load("default").await.unwrap();
    assert_eq!(state.resources.len(), 1);
    assert_encrypted(
        &std::fs::read(temp.path().join("terraform.tfstate")).unwrap(),
        "key_provider.pbkdf2.main",
    );
}

#[cfg(feature = "aws")]
mod on_the_emulator {
    use super::*;

    async fn create_kms_key(moto: &common::Moto) -> String {
        let shared = aws_config::defaults(aws_config::BehaviorVersion::latest())
            .region(aws_config::Region::new("us-east-1"))
            .credentials_provider(aws_credential_types::Credentials::new(
                "test", "test", None, None, "test",
            ))
            .endpoint_url(&moto.endpoint)
            .load()
            .await;
        let client = aws_sdk_kms::Client::new(&shared);
        let key = client.create_key().send().await.expect("CreateKey");
        key.key_metadata()
            .expect("key metadata")
            .key_id()
            .to_string()
    }

    fn kms_block(key_id: &str) -> String {
        format!(
            r#"terraform {{
  encryption {{
    key_provider "aws_kms" "main" {{
      kms_key_id = "{key_id}"
      region     = "us-east-1"
      key_spec   = "AES_256"
    }}
    method "aes_gcm" "main" {{
      keys = key_provider.aws_kms.main
    }}
    state {{
      method = method.aes_gcm.main
    }}
  }}
}}
"#
        )
    }

    #[tokio::test(flavor = "multi_thread")]
    async fn aws_kms_round_trip_on_the_emulator() {
        let moto = common::Moto::start();
        let key_id = create_kms_key(&moto).await;
        let temp = tempfile::tempdir().unwrap();
        let dir = temp.path();
        write_config(dir, &kms_block(&key_id), "");
        let env = moto.env();
        ok(&strata(dir, &["apply", "-auto-approve"], &env), "apply");
        let state = std::fs::read(dir.join("terraform.tfstate")).unwrap();
        assert_encrypted(&state, "key_provider.aws_kms.main");
        let plan = ok(&strata(dir, &["plan"], &env), "plan");
        assert!(plan.contains("No changes."), "{plan}");

        // Another key cannot unwrap the data key.
        let other = create_kms_key(&moto).await;
        write_config(dir, &kms_block(&other), "");
        let error = failed(&strata(dir, &["plan"], &env), "another KMS key");
        assert!(error.contains("cannot decrypt the state"), "{error}");
        assert_eq!(std::fs::read(dir.join("terraform.tfstate")).unwrap(), state);
    }

    #[tokio::test(flavor = "multi_thread")]
    async fn s3_backend_state_is_encrypted() {
        let moto = common::Moto::start();
        let s3 = crate::state::s3::s3_client(&moto).await;
        s3.create_bucket()
            .bucket("sealed-states")
            .send()
            .await
            .expect("CreateBucket");
        let temp = tempfile::tempdir().unwrap();
        let dir = temp.path();
        let backend = "terraform {\n  backend \"s3\" {\n    bucket = \"sealed-states\"\n    key    = \"app/terraform.tfstate\"\n    region = \"us-east-1\"\n    use_path_style = true\n  }\n}\n";
        write_config(dir, &encryption_block(PASSPHRASE, ENCRYPTED, ""), backend);
        let env = moto.env();
        ok(&strata(dir, &["init"], &env), "init");
        ok(&strata(dir, &["apply", "-auto-approve"], &env), "apply");
        let object = s3
            .get_object()
            .bucket("sealed-states")
            .key("app/terraform.tfstate")
            .send()
            .await
            .expect("GetObject");
        let body = object
            .body
            .collect()
            .await
            .expect("the object's body")
            .into_bytes();
        assert_encrypted(&body, "key_provider.pbkdf2.main");
        let plan = ok(&strata(dir, &["plan"], &env), "plan");
        assert!(plan.contains("No changes."), "{plan}");
        let output = ok(
            &strata(dir, &["output", "-raw", "password"], &env),
            "output",
        );
        assert_eq!(output, PASSWORD);
    }
}

#[test]
fn the_encryption_block_in_a_tf_json_file() {
    let temp = tempfile::tempdir().unwrap();
    let dir = temp.path();
    write_config(dir, "", "");
    let block = |keys: &str| {
        serde_json::json!({"terraform": {"encryption": {
            "key_provider": {"pbkdf2": {"main": {"passphrase": PASSPHRASE, "iterations": 200000}}},
            "method": {"aes_gcm": {"main": {"keys": keys}}},
            "state": {"method": "method.aes_gcm.main"},
            "plan": {"method": "method.aes_gcm.main"},
        }}})
        .to_string()
    };
    std::fs::write(
        dir.join("encryption.tf.json"),
        block("key_provider.pbkdf2.main"),
    )
    .unwrap();
    ok(&strata(dir, &["apply", "-auto-approve"], &[]), "apply");
    let state = std::fs::read(dir.join("terraform.tfstate")).unwrap();
    assert_encrypted(&state, "key_provider.pbkdf2.main");
    ok(&strata(dir, &["plan", "-out=tfplan"], &[]), "plan -out");
    assert_encrypted(
        &std::fs::read(dir.join("tfplan")).unwrap(),
        "key_provider.pbkdf2.main",
    );
    // A mistake in the JSON file is reported at its place in that file.
    std::fs::write(
        dir.join("encryption.tf.json"),
        block("key_provider.pbkdf2.other"),
    )
    .unwrap();
    let error = failed(&strata(dir, &["plan"], &[]), "an undeclared key provider");
    assert!(error.contains("Undeclared key provider"), "{error}");
    assert!(error.contains("encryption.tf.json:1:"), "{error}");
    assert_eq!(std::fs::read(dir.join("terraform.tfstate")).unwrap(), state);
}

/// Two pbkdf2 providers, the second taking the first's key as its passphrase (`chain`).
fn chained_block(chain_of_base: &str) -> String {
    format!(
        r#"terraform {{
  encryption {{
    key_provider "pbkdf2" "base" {{
      passphrase = "{PASSPHRASE}"
      iterations = 200000
      {chain_of_base}
    }}
    key_provider "pbkdf2" "derived" {{
      chain      = key_provider.pbkdf2.base
      iterations = 200000
    }}
    method "aes_gcm" "main" {{
      keys = key_provider.pbkdf2.derived
    }}
    state {{
      method = method.aes_gcm.main
    }}
  }}
}}
"#
    )
}

#[test]
fn a_chained_key_provider_takes_its_passphrase_from_another() {
    let temp = tempfile::tempdir().unwrap();
    let dir = temp.path();
    write_config(dir, &chained_block(""), "");
    ok(&strata(dir, &["apply", "-auto-approve"], &[]), "apply");
    let state = std::fs::read(dir.join("terraform.tfstate")).unwrap();
    let envelope = assert_encrypted(&state, "key_provider.pbkdf2.derived");
    assert!(!String::from_utf8_lossy(&state).contains(PASSPHRASE));
    assert!(envelope["meta"].get("key_provider.pbkdf2.base").is_none());
    let again = strata(dir, &["plan", "-detailed-exitcode"], &[]);
    assert_eq!(again.status.code(), Some(0), "{}", failed_text(&again));

    // The chained key comes from the first provider's passphrase: another one opens nothing.
    let wrong = [(
        "TF_ENCRYPTION".to_string(),
        r#"{"key_provider": {"pbkdf2": {"base": {"passphrase": "not-the-right-passphrase"}}}}"#
            .to_string(),
    )];
    let error = failed(
        &strata(dir, &["plan"], &wrong),
        "plan with a wrong base key",
    );
    assert!(error.contains("wrong key"), "{error}");
    assert_eq!(std::fs::read(dir.join("terraform.tfstate")).unwrap(), state);

    // A chain that comes back to where it started is refused where it is written.
    write_config(
        dir,
        &chained_block("chain = key_provider.pbkdf2.derived"),
        "",
    );
    let error = failed(&strata(dir, &["plan"], &[]), "a chain cycle");
    assert!(error.contains("Key provider chain cycle"), "{error}");
    assert!(error.contains("main.tf:"), "{error}");
}

fn failed_text(output: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

/// An `encryption` block whose PBKDF2 passphrase is the expression `passphrase`, and `extra`
/// (variables, locals) after it.
fn block_over(passphrase: &str, extra: &str) -> String {
    format!(
        r#"terraform {{
  encryption {{
    key_provider "pbkdf2" "main" {{
      passphrase = {passphrase}
      iterations = 200000
    }}
    method "aes_gcm" "main" {{
      keys = key_provider.pbkdf2.main
    }}
    state {{
      method = method.aes_gcm.main
    }}
  }}
}}
{extra}"#
    )
}

fn var_env(name: &str, value: &str) -> Vec<(String, String)> {
    vec![(format!("TF_VAR_{name}"), value.to_string())]
}

#[test]
fn the_passphrase_from_an_input_variable() {
    let temp = tempfile::tempdir().unwrap();
    let dir = temp.path();
    let variables = "variable \"passphrase\" {\n  type      = string\n  sensitive = true\n}\n\nvariable \"unrelated\" {}\n";
    write_config(dir, &block_over("var.passphrase", variables), "");
    let mut outputs = Vec::new();
    let flag = format!("passphrase={PASSPHRASE}");
    let apply = strata(
        dir,
        &["apply", "-auto-approve", "-var", &flag, "-var=unrelated=x"],
        &[],
    );
    ok(&apply, "apply with -var");
    outputs.push(apply);
    let state = std::fs::read(dir.join("terraform.tfstate")).unwrap();
    assert_encrypted(&state, "key_provider.pbkdf2.main");

    // TF_VAR_: the same key, for commands that take no -var (and `unrelated` is not asked for).
    let env = var_env("passphrase", PASSPHRASE);
    let listed = strata(dir, &["state", "list"], &env);
    assert_eq!(ok(&listed, "state list"), "terraform_data.db\n");
    outputs.push(listed);
    let plan = strata(dir, &["plan", "-var=unrelated=x"], &env);
    assert!(ok(&plan, "plan").contains("No changes."));
    outputs.push(plan);

    // terraform.tfvars.
    std::fs::write(
        dir.join("terraform.tfvars"),
        format!("passphrase = \"{PASSPHRASE}\"\n"),
    )
    .unwrap();
    let output = strata(dir, &["output", "-raw", "password"], &[]);
    assert_eq!(ok(&output, "output"), PASSWORD);
    outputs.push(output);
    let shown = strata(dir, &["show", "-json"], &[]);
    assert!(ok(&shown, "show").contains("terraform_data.db"));
    outputs.push(shown);
    std::fs::remove_file(dir.join("terraform.tfvars")).unwrap();

    // A wrong value is the wrong-key error, the state untouched; no value is a missing variable.
    let wrong = strata(
        dir,
        &[
            "plan",
            "-var",
            "passphrase=not-the-right-passphrase",
            "-var=unrelated=x",
        ],
        &[],
    );
    let error = failed(&wrong, "a wrong passphrase");
    assert!(error.contains("cannot decrypt the state in `"), "{error}");
    assert!(!error.contains("not-the-right-passphrase"), "{error}");
    let error = failed(&strata(dir, &["state", "list"], &[]), "no passphrase");
    assert!(error.contains("passphrase"), "{error}");
    assert_eq!(std::fs::read(dir.join("terraform.tfstate")).unwrap(), state);

    for output in &outputs {
        let text = failed_text(output);
        assert!(
            !text.contains(PASSPHRASE),
            "the passphrase in output:\n{text}"
        );
    }
}

#[test]
fn the_passphrase_from_a_local_over_a_variable() {
    let temp = tempfile::tempdir().unwrap();
    let dir = temp.path();
    let (head, tail) = PASSPHRASE.split_at(9);
    let extra = format!(
        "variable \"head\" {{\n  default = \"{head}\"\n}}\n\nlocals {{\n  passphrase = \"${{var.head}}{tail}\"\n}}\n"
    );
    write_config(dir, &block_over("local.passphrase", &extra), "");
    ok(&strata(dir, &["apply", "-auto-approve"], &[]), "apply");
    let state = std::fs::read(dir.join("terraform.tfstate")).unwrap();
    assert_encrypted(&state, "key_provider.pbkdf2.main");
    // The local evaluated to PASSPHRASE: the literal in TF_ENCRYPTION opens the state too.
    let literal = [(
        "TF_ENCRYPTION".to_string(),
        format!("key_provider \"pbkdf2\" \"main\" {{\n  passphrase = \"{PASSPHRASE}\"\n}}\n"),
    )];
    let listed = strata(dir, &["state", "list"], &literal);
    assert_eq!(ok(&listed, "state list"), "terraform_data.db\n");
    // Another value of the variable behind the local is the wrong key.
    let error = failed(
        &strata(dir, &["state", "list"], &var_env("head", "something-else")),
        "a wrong variable behind the local",
    );
    assert!(error.contains("cannot decrypt the state in `"), "{error}");
    assert_eq!(std::fs::read(dir.join("terraform.tfstate")).unwrap(), state);
}

#[test]
fn a_resource_in_the_encryption_block_is_a_static_only_error() {
    let temp = tempfile::tempdir().unwrap();
    let dir = temp.path();
    write_config(dir, &block_over("terraform_data.db.output", ""), "");
    let error = failed(&strata(dir, &["plan"], &[]), "a resource reference");
    assert!(error.contains("Static value required"), "{error}");
    assert!(error.contains("main.tf:4:20"), "{error}");
    assert!(error.contains("not a resource or data source"), "{error}");

    // Through a local: the error is where the local refers to the resource.
    let extra = "locals {\n  passphrase = terraform_data.db.id\n}\n";
    write_config(dir, &block_over("local.passphrase", extra), "");
    let error = failed(
        &strata(dir, &["state", "list"], &[]),
        "a local over a resource",
    );
    assert!(error.contains("Static value required"), "{error}");
    assert!(error.contains("main.tf:16:16"), "{error}");
    assert!(!dir.join("terraform.tfstate").exists());
}

#[test]
fn saved_plans_and_init_migrate_state_see_the_variable() {
    let temp = tempfile::tempdir().unwrap();
    let dir = temp.path();
    let variables = "variable \"passphrase\" {\n  sensitive = true\n}\n";
    let block = block_over("var.passphrase", variables).replace(
        "    state {",
        "    plan {\n      method = method.aes_gcm.main\n    }\n    state {",
    );
    write_config(dir, &block, "");
    let env = var_env("passphrase", PASSPHRASE);
    ok(&strata(dir, &["apply", "-auto-approve"], &env), "apply");
    let flag = format!("passphrase={PASSPHRASE}");
    ok(
        &strata(
            dir,
            &["plan", "-refresh=false", "-out=saved.tfplan", "-var", &flag],
            &[],
        ),
        "plan -out with -var",
    );
    let plan = std::fs::read(dir.join("saved.tfplan")).unwrap();
    assert_encrypted(&plan, "key_provider.pbkdf2.main");
    let shown = strata(dir, &["show", "saved.tfplan"], &env);
    assert!(ok(&shown, "show the saved plan").contains("No changes."));

    std::fs::write(
        dir.join("backend.tf"),
        "terraform {\n  backend \"local\" {\n    path = \"moved.tfstate\"\n  }\n}\n",
    )
    .unwrap();
    ok(
        &strata(dir, &["init", "-migrate-state"], &env),
        "init -migrate-state",
    );
    let moved = std::fs::read(dir.join("moved.tfstate")).unwrap();
    assert_encrypted(&moved, "key_provider.pbkdf2.main");
    let listed = strata(dir, &["state", "list"], &env);
    assert_eq!(ok(&listed, "state list"), "terraform_data.db\n");
}
