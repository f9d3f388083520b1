//! `aws_ssm_parameter` and the SSM data sources against the moto emulator: the lifecycle through
//! the provider trait as the engine drives it (create, update in place, value and type changes,
//! what replaces, import, destroy), a SecureString under a KMS key made on the emulator, the
//! `strata` binary applying a parameter with the value in no output and no trace log, and the
//! actions planned for edits compared with Terraform 1.15.5 driving the real provider 3.39.0.

use crate::aws::{attr, map, n, obj, s, text, Aws};
use crate::common::{repo_root, strata, Moto};
use std::process::Command;
use strata::providers::Provider;
use strata::value::Value;

const TYPE: &str = "aws_ssm_parameter";

/// The provider with SSM (and KMS) pointed at the emulator too.
async fn start() -> Aws {
    let aws = Aws::start(&[("Team", "platform")]).await;
    let endpoint = aws.moto.endpoint.clone();
    let endpoints = obj(["ec2", "eks", "iam", "rds", "sts", "ssm", "kms"]
        .iter()
        .map(|service| (*service, s(&endpoint)))
        .collect());
    let provider = strata::providers::aws::AwsProvider::new();
    let config = crate::aws::shape(
        &provider.schema().provider,
        &obj(vec![
            ("region", s("us-east-1")),
            ("access_key", s("test")),
            ("secret_key", s("test").mark_sensitive()),
            ("max_retries", n(2)),
            ("endpoints", Value::Set(vec![endpoints])),
            (
                "default_tags",
                Value::List(vec![obj(vec![("tags", map(&[("Team", "platform")]))])]),
            ),
        ]),
    );
    provider
        .configure(&config)
        .await
        .expect("configure the aws provider");
    Aws {
        moto: aws.moto,
        provider,
    }
}

/// Runs Python with boto3 (the moto venv) against the emulator; what it prints.
fn boto3(moto: &Moto, script: &str) -> String {
    let venv = Command::new("bash")
        .arg(repo_root().join("scripts/ensure-moto.sh"))
        .output()
        .expect("run ensure-moto.sh");
    let venv = String::from_utf8_lossy(&venv.stdout).trim().to_string();
    let prelude = format!(
        "import boto3\nclient = lambda name: boto3.client(name, endpoint_url='{}', region_name='us-east-1', aws_access_key_id='test', aws_secret_access_key='test')\n",
        moto.endpoint
    );
    let output = Command::new(format!("{venv}/bin/python"))
        .arg("-c")
        .arg(prelude + script)
        .output()
        .expect("run python");
    assert!(
        output.status.success(),
        "boto3 script failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).trim().to_string()
}

fn is_sensitive(value: &Value) -> bool {
    matches!(value, Value::Sensitive(_))
}

#[tokio::test]
async fn parameter_lifecycle_update_value_and_type_in_place_import_destroy() {
    let aws = start().await;
    let given = |description: &str, kind: &str, value: &str, tags: &[(&str, &str)]| {
        aws.config(
            TYPE,
            vec![
                ("name", s("/strata-test/app/endpoints")),
                ("type", s(kind)),
                ("value", s(value)),
                ("description", s(description)),
                ("tags", map(tags)),
            ],
        )
    };
    let config = given("first", "String", "a.example", &[("Name", "endpoints")]);
    let created = aws.create(TYPE, &config).await;
    assert_eq!(text(&created, "id"), "/strata-test/app/endpoints");
    assert_eq!(text(&created, "tier"), "Standard");
    assert_eq!(text(&created, "data_type"), "text");
    assert_eq!(attr(&created, "version"), &n(1));
    assert!(text(&created, "arn").ends_with(":parameter/strata-test/app/endpoints"));
    assert!(is_sensitive(attr(&created, "value")), "value is marked");
    assert_eq!(
        attr(&created, "tags_all").equals(&map(&[("Name", "endpoints"), ("Team", "platform")])),
        Some(true)
    );

    // Description and tags in place; the description write is a new version.
    let config = given("second", "String", "a.example", &[("Owner", "web")]);
    let updated = aws.update(TYPE, &created, &config).await;
    assert_eq!(text(&updated, "description"), "second");
    assert_eq!(attr(&updated, "version"), &n(2));
    assert_eq!(
        attr(&updated, "tags").equals(&map(&[("Owner", "web")])),
        Some(true)
    );

    // A new value: in place, version known after apply.
    let config = given("second", "String", "b.example", &[("Owner", "web")]);
    let plan = aws.plan(TYPE, Some(&updated), &config).await;
    assert!(plan.requires_replace.is_empty());
    assert!(attr(&plan.planned, "version").is_unknown());
    let updated = aws.update(TYPE, &updated, &config).await;
    assert_eq!(attr(&updated, "value").unmarked(), &s("b.example"));

    // A new type: in place, as the Terraform AWS provider (3.39 and current) does it.
    let config = given(
        "second",
        "StringList",
        "b.example,c.example",
        &[("Owner", "web")],
    );
    let updated = aws.update(TYPE, &updated, &config).await;
    assert_eq!(text(&updated, "type"), "StringList");
    assert_eq!(attr(&updated, "version"), &n(4));
    let remote = boto3(
        &aws.moto,
        "p = client('ssm').get_parameter(Name='/strata-test/app/endpoints')['Parameter']; print(p['Type'], p['Value'])",
    );
    assert_eq!(remote, "StringList b.example,c.example");

    // What replaces: the name, and a tier downgrade from Advanced (AWS refuses it in place).
    let renamed = aws.config(
        TYPE,
        vec![
            ("name", s("/strata-test/app/other")),
            ("type", s("StringList")),
            ("value", s("b.example,c.example")),
        ],
    );
    aws.assert_replaces(TYPE, &updated, &renamed, "name").await;
    let mut advanced = updated.clone();
    advanced.set_at_path(&strata::value::AttrPath::attr("tier").0, s("Advanced"));
    aws.assert_replaces(TYPE, &advanced, &config, "tier").await;

    // Import by name reads back the same state (tags as AWS holds them).
    let imported = aws.import(TYPE, "/strata-test/app/endpoints").await;
    for name in [
        "id", "arn", "name", "type", "value", "version", "tier", "tags_all",
    ] {
        assert_eq!(
            attr(&imported, name).equals(attr(&updated, name)),
            Some(true),
            "imported {name}"
        );
    }
    aws.delete(TYPE, &updated).await;
    // Deleting what is already gone is not an error.
    aws.delete(TYPE, &updated).await;
}

#[tokio::test]
async fn secure_string_under_a_kms_key_and_the_data_sources() {
    let aws = start().await;
    let key_id = boto3(
        &aws.moto,
        "print(client('kms').create_key(Description='strata ssm test')['KeyMetadata']['KeyId'])",
    );
    let secret = "Tr0ub4dor-and-3";
    let config = aws.config(
        TYPE,
        vec![
            ("name", s("/strata/dev/db/password")),
            ("type", s("SecureString")),
            ("value", s(secret)),
            ("key_id", s(&key_id)),
        ],
    );
    let created = aws.create(TYPE, &config).await;
    assert_eq!(text(&created, "key_id"), key_id);
    assert_eq!(attr(&created, "value").unmarked(), &s(secret));
    let stored = boto3(
        &aws.moto,
        "p = client('ssm').get_parameter(Name='/strata/dev/db/password', WithDecryption=False)['Parameter']; print(p['Value'])",
    );
    assert_ne!(stored, secret, "AWS keeps a SecureString encrypted");

    // Two more under the path, one of them deeper.
    for (name, value) in [
        ("/strata/dev/db/user", "app"),
        ("/strata/dev/cache/deep/url", "redis"),
    ] {
        let config = aws.config(
            TYPE,
            vec![
                ("name", s(name)),
                ("type", s("String")),
                ("value", s(value)),
            ],
        );
        aws.create(TYPE, &config).await;
    }

    let read = aws
        .data(
            "aws_ssm_parameter",
            vec![("name", s("/strata/dev/db/password"))],
        )
        .await;
    assert_eq!(attr(&read, "value"), &s(secret).mark_sensitive());
    assert_eq!(text(&read, "type"), "SecureString");
    assert_eq!(text(&read, "id"), "/strata/dev/db/password");
    let encrypted = aws
        .data(
            "aws_ssm_parameter",
            vec![
                ("name", s("/strata/dev/db/password")),
                ("with_decryption", Value::Bool(false)),
            ],
        )
        .await;
    assert_ne!(attr(&encrypted, "value").unmarked(), &s(secret));

    let shallow = aws
        .data(
            "aws_ssm_parameters_by_path",
            vec![("path", s("/strata/dev/db"))],
        )
        .await;
    let names = attr(&shallow, "names").clone();
    assert_eq!(
        names.equals(&crate::aws::list(&[
            "/strata/dev/db/password",
            "/strata/dev/db/user"
        ])),
        Some(true),
        "{names:?}"
    );
    assert!(is_sensitive(attr(&shallow, "values")));
    let deep = aws
        .data(
            "aws_ssm_parameters_by_path",
            vec![("path", s("/strata/dev")), ("recursive", Value::Bool(true))],
        )
        .await;
    assert_eq!(attr(&deep, "names").as_seq().map(<[Value]>::len), Some(3));

    let missing = aws
        .provider
        .read_data_source(
            "aws_ssm_parameter",
            &crate::aws::shape(
                &aws.provider.schema().data_sources["aws_ssm_parameter"].block,
                &obj(vec![("name", s("/strata/dev/none"))]),
            ),
        )
        .await
        .unwrap_err();
    assert!(missing.detail.contains("ParameterNotFound"), "{missing:?}");
}

/// A parameter that exists already (made outside the configuration): without `overwrite` the
/// create fails on `name`, without the value in the message; with `overwrite = true` it is
/// taken over, and its tags then go through AddTagsToResource (AWS refuses tags with Overwrite).
#[tokio::test]
async fn an_existing_parameter_needs_overwrite() {
    let aws = start().await;
    boto3(
        &aws.moto,
        "client('ssm').put_parameter(Name='/strata-test/taken', Type='String', Value='old')",
    );
    let secret = "new-Secret-value-42";
    let config = |overwrite: Option<bool>| {
        let mut given = vec![
            ("name", s("/strata-test/taken")),
            ("type", s("String")),
            ("value", s(secret)),
            ("tags", map(&[("Owner", "web")])),
        ];
        if let Some(overwrite) = overwrite {
            given.push(("overwrite", Value::Bool(overwrite)));
        }
        aws.config(TYPE, given)
    };
    let refused = config(None);
    let plan = aws.plan(TYPE, None, &refused).await;
    let error = aws
        .apply(TYPE, None, Some(plan.planned), refused)
        .await
        .unwrap_err();
    let shown = format!("{error} {error:?}");
    assert!(!shown.contains(secret), "the value leaked: {shown}");
    assert!(shown.contains("ParameterAlreadyExists"), "{shown}");
    assert_eq!(
        error.attribute,
        Some(strata::value::AttrPath::attr("name")),
        "{shown}"
    );

    let taken = aws.create(TYPE, &config(Some(true))).await;
    assert_eq!(attr(&taken, "value").unmarked(), &s(secret));
    assert_eq!(attr(&taken, "version"), &n(2));
    assert_eq!(
        attr(&taken, "tags_all").equals(&map(&[("Owner", "web"), ("Team", "platform")])),
        Some(true)
    );
}

/// Through the binary: the plan shows `(sensitive value)`, a trace log and the output never
/// hold the value, the state does (as Terraform keeps it), and a second plan has no changes.
#[test]
fn the_cli_never_prints_or_logs_a_parameter_value() {
    let moto = Moto::start();
    let secret = "s3cr3t-in-the-config-only";
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("main.tf"),
        format!(
            r#"provider "aws" {{
  region                      = "us-east-1"
  access_key                  = "test"
  secret_key                  = "test"
  skip_credentials_validation = true
  skip_requesting_account_id  = true
  endpoints {{
    ssm = "{endpoint}"
    sts = "{endpoint}"
  }}
}}

resource "aws_ssm_parameter" "token" {{
  name  = "/strata-test/cli/token"
  type  = "SecureString"
  value = "{secret}"
}}

data "aws_ssm_parameter" "token" {{
  name       = aws_ssm_parameter.token.name
  depends_on = [aws_ssm_parameter.token]
}}

output "version" {{
  value = data.aws_ssm_parameter.token.version
}}
"#,
            endpoint = moto.endpoint
        ),
    )
    .unwrap();
    let log = dir.path().join("trace.log");
    let run = |args: &[&str]| {
        Command::new(strata())
            .args(args)
            .current_dir(dir.path())
            .env("NO_COLOR", "1")
            .env("TF_LOG", "trace")
            .env("TF_LOG_PATH", &log)
            .output()
            .expect("run strata")
    };
    let init = run(&["init"]);
    assert!(init.status.success(), "{init:?}");
    let applied = run(&["apply", "-auto-approve"]);
    let stdout = String::from_utf8_lossy(&applied.stdout);
    let stderr = String::from_utf8_lossy(&applied.stderr);
    assert!(applied.status.success(), "{stdout}\n{stderr}");
    assert!(
        stdout
            .lines()
            .any(|line| line.trim_start().starts_with("+ value ")
                && line.ends_with("= (sensitive value)")),
        "{stdout}"
    );
    assert!(
        stdout.contains("Apply complete! Resources: 1 added"),
        "{stdout}"
    );
    let replanned = run(&["plan", "-detailed-exitcode"]);
    assert_eq!(replanned.status.code(), Some(0), "{replanned:?}");
    let shown = run(&["show"]);
    let logged = std::fs::read_to_string(&log).expect("a trace log");
    assert!(logged.len() > 1000, "trace logging is on");
    for (what, text) in [
        ("apply stdout", stdout.to_string()),
        ("apply stderr", stderr.to_string()),
        (
            "plan",
            String::from_utf8_lossy(&replanned.stdout).to_string(),
        ),
        ("show", String::from_utf8_lossy(&shown.stdout).to_string()),
        ("trace log", logged),
    ] {
        assert!(!text.contains(secret), "the value is in the {what}");
    }
    let state = std::fs::read_to_string(dir.path().join("terraform.tfstate")).unwrap();
    assert!(
        state.contains(secret),
        "the state keeps the value, as Terraform's does"
    );
    assert!(state.contains("\"sensitive_attributes\""), "{state}");
}

/// What Terraform 1.15.5 with the real terraform-provider-aws 3.39.0 plans for edits of an
/// applied parameter, and what Strata plans for the same edits, both against the emulator: the
/// actions must agree (a new type is an in-place update in the provider, a new name replaces).
#[test]
fn edits_plan_the_same_actions_as_terraform_with_the_real_provider() {
    let moto = Moto::start();
    let peer = crate::common::ensure_installed("ensure-terraform-peer.sh");
    let provider = format!(
        r#"provider "aws" {{
  region                      = "us-east-1"
  access_key                  = "test"
  secret_key                  = "test"
  skip_credentials_validation = true
  skip_requesting_account_id  = true
  skip_metadata_api_check     = true
  endpoints {{
    ssm = "{0}"
    sts = "{0}"
  }}
}}

variable "name" {{
  type = string
}}

variable "type" {{
  type = string
}}

variable "value" {{
  type = string
}}

resource "aws_ssm_parameter" "p" {{
  name        = var.name
  type        = var.type
  value       = var.value
  description = "oracle"
}}
"#,
        moto.endpoint
    );
    let pinned = "terraform {\n  required_providers {\n    aws = {\n      source  = \"hashicorp/aws\"\n      version = \"3.39.0\"\n    }\n  }\n}\n";
    let tf_dir = tempfile::tempdir().unwrap();
    std::fs::write(
        tf_dir.path().join("main.tf"),
        format!("{pinned}\n{provider}"),
    )
    .unwrap();
    let rc = format!(
        "provider_installation {{\n  filesystem_mirror {{\n    path    = \"{}\"\n    include = [\"registry.terraform.io/hashicorp/aws\"]\n  }}\n}}\n",
        peer.join("providers").display()
    );
    std::fs::write(tf_dir.path().join("cli.tfrc"), rc).unwrap();
    let strata_dir = tempfile::tempdir().unwrap();
    std::fs::write(strata_dir.path().join("main.tf"), &provider).unwrap();

    let terraform = |args: &[&str]| {
        Command::new(peer.join("bin/python3"))
            .arg(repo_root().join("scripts/terraform.py"))
            .args(args)
            .current_dir(tf_dir.path())
            .env("TF_CLI_CONFIG_FILE", tf_dir.path().join("cli.tfrc"))
            .env("CHECKPOINT_DISABLE", "1")
            .env("TF_IN_AUTOMATION", "1")
            .output()
            .expect("run terraform")
    };
    let ours = |args: &[&str]| {
        Command::new(strata())
            .args(args)
            .current_dir(strata_dir.path())
            .env("NO_COLOR", "1")
            .output()
            .expect("run strata")
    };
    type Tool<'a> = &'a dyn Fn(&[&str]) -> std::process::Output;
    let ok = |tool: Tool, args: &[&str]| {
        let output = tool(args);
        assert!(
            output.status.success(),
            "{args:?}: {}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
        String::from_utf8_lossy(&output.stdout).to_string()
    };
    // The actions each tool plans for (type, value, name) against what `prefix` applied.
    let actions = |tool: Tool, prefix: &str, edit: [&str; 3]| {
        let vars = [
            format!("-var=type={}", edit[0]),
            format!("-var=value={}", edit[1]),
            format!("-var=name=/oracle/{prefix}/{}", edit[2]),
        ];
        let mut args = vec!["plan", "-input=false", "-out=edit.plan"];
        args.extend(vars.iter().map(String::as_str));
        ok(tool, &args);
        let shown: serde_json::Value =
            serde_json::from_str(&ok(tool, &["show", "-json", "edit.plan"])).unwrap();
        // Strata's JSON plan leaves an unchanged resource out where Terraform lists it as
        // `no-op` (a plan-format difference outside this test's subject): both read as no-op.
        match &shown["resource_changes"][0]["change"]["actions"] {
            serde_json::Value::Null => serde_json::json!(["no-op"]),
            actions => actions.clone(),
        }
    };
    let mut results = Vec::new();
    for (tool, prefix) in [(&terraform as Tool, "terraform"), (&ours as Tool, "strata")] {
        ok(tool, &["init", "-input=false"]);
        let name = format!("-var=name=/oracle/{prefix}/p");
        ok(
            tool,
            &[
                "apply",
                "-input=false",
                "-auto-approve",
                "-var=type=String",
                "-var=value=one",
                &name,
            ],
        );
        let edits = [
            ["String", "one", "p"],
            ["StringList", "one,two", "p"],
            ["String", "two", "p"],
            ["String", "one", "q"],
        ];
        let planned: Vec<serde_json::Value> = edits
            .iter()
            .map(|edit| actions(tool, prefix, *edit))
            .collect();
        results.push(planned);
    }
    assert_eq!(
        results[1], results[0],
        "Strata's actions (left) differ from Terraform's with provider 3.39.0 (right)"
    );
    assert_eq!(
        results[0][1],
        serde_json::json!(["update"]),
        "type change in place"
    );
    assert_eq!(
        results[0][3],
        serde_json::json!(["delete", "create"]),
        "a new name replaces"
    );
}
