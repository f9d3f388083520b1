//! The plugin wire layer against real plugins: the real terraform-provider-aws 3.39.0 binary
//! (protocol 5, installed by `scripts/ensure-terraform-peer.sh`) and the protocol-6 test
//! provider `terraform-provider-stratatest` (tests/support/plugin6), each with AutoMTLS on and
//! off; and the ways a plugin can fail to be one (garbage, early exit, hang, crash mid-call).
//! Values are built with rmpv in cty's msgpack shape, since the wire layer carries bytes.

use crate::common::repo_root;
use rmpv::Value;
use std::path::{Path, PathBuf};
use std::time::Duration;
use strata::providers::plugin::proto::{
    self, attribute_path::step::Selector, diagnostic::Severity, schema, DynamicValue,
};
use strata::providers::plugin::{LaunchSpec, PluginClient, PluginError};

const AWS: &str = "registry.terraform.io/hashicorp/aws";
const STRATATEST: &str = "registry.terraform.io/strata/stratatest";

/// The real AWS provider plugin, installed on first use like the other peers (once per test
/// process: concurrent tests wait for the one installation instead of racing pip).
fn aws_plugin() -> PathBuf {
    static PEER: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();
    let peer = PEER.get_or_init(|| {
        let output = std::process::Command::new("bash")
            .arg(repo_root().join("scripts/ensure-terraform-peer.sh"))
            .stderr(std::process::Stdio::inherit())
            .output()
            .expect("run scripts/ensure-terraform-peer.sh");
        assert!(
            output.status.success(),
            "installing the Terraform peers failed"
        );
        PathBuf::from(String::from_utf8_lossy(&output.stdout).trim())
    });
    peer.join("providers/registry.terraform.io/hashicorp/aws/3.39.0/linux_amd64/terraform-provider-aws_v3.39.0_x5")
}

fn stratatest() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_terraform-provider-stratatest"))
}

fn spec(provider: &str, executable: PathBuf, auto_mtls: bool) -> LaunchSpec {
    LaunchSpec {
        auto_mtls,
        ..LaunchSpec::new(provider, executable)
    }
}

fn alive(pid: u32) -> bool {
    Path::new(&format!("/proc/{pid}")).exists()
}

/// Waits (up to 10 s) for a process to be gone: killing is asynchronous after a drop.
async fn gone(pid: u32) -> bool {
    for _ in 0..100 {
        if !alive(pid) {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    false
}

fn msgpack(value: &Value) -> DynamicValue {
    let mut bytes = Vec::new();
    rmpv::encode::write_value(&mut bytes, value).unwrap();
    DynamicValue::msgpack(bytes)
}

fn decode(value: Option<&DynamicValue>) -> Value {
    let value = value.expect("a value");
    rmpv::decode::read_value(&mut value.msgpack.as_slice()).expect("msgpack")
}

fn object(fields: &[(&str, Value)]) -> Value {
    Value::Map(
        fields
            .iter()
            .map(|(key, value)| (Value::from(*key), value.clone()))
            .collect(),
    )
}

fn field<'a>(object: &'a Value, key: &str) -> &'a Value {
    object
        .as_map()
        .and_then(|fields| fields.iter().find(|(name, _)| name.as_str() == Some(key)))
        .map(|(_, value)| value)
        .unwrap_or_else(|| panic!("no `{key}` in {object}"))
}

fn path_names(path: Option<&proto::AttributePath>) -> Vec<String> {
    path.expect("an attribute path")
        .steps
        .iter()
        .map(|step| match &step.selector {
            Some(Selector::AttributeName(name)) => name.clone(),
            other => panic!("unexpected step {other:?}"),
        })
        .collect()
}

fn attribute_names(schema: &proto::Schema) -> Vec<&str> {
    let block = schema.block.as_ref().expect("a block");
    block.attributes.iter().map(|a| a.name.as_str()).collect()
}

/// A configuration object for a schema block as Terraform sends it: every attribute present
/// (null unless given), absent nested blocks as empty collections or null.
fn config_for(block: &schema::Block, given: &[(&str, Value)]) -> Value {
    use schema::nested_block::NestingMode;
    let mut fields: Vec<(&str, Value)> = Vec::new();
    for attribute in &block.attributes {
        let value = given
            .iter()
            .find(|(name, _)| *name == attribute.name)
            .map_or(Value::Nil, |(_, value)| value.clone());
        fields.push((attribute.name.as_str(), value));
    }
    for nested in &block.block_types {
        let empty = match NestingMode::try_from(nested.nesting) {
            Ok(NestingMode::List | NestingMode::Set) => Value::Array(Vec::new()),
            Ok(NestingMode::Map) => Value::Map(Vec::new()),
            _ => Value::Nil,
        };
        fields.push((nested.type_name.as_str(), empty));
    }
    fields.sort_by(|a, b| a.0.cmp(b.0));
    object(&fields)
}

async fn aws_schema_and_config(auto_mtls: bool) {
    let executable = aws_plugin();
    let client = PluginClient::launch(spec(AWS, executable, auto_mtls))
        .await
        .expect("launch the AWS provider");
    assert_eq!(client.protocol_version(), 5);
    assert_eq!(client.mutual_tls(), auto_mtls);
    let pid = client.pid();
    assert!(alive(pid));

    // The 3.39 SDK predates GetMetadata: an Unimplemented answer is no error.
    assert_eq!(client.get_metadata().await.unwrap(), None);

    let schema = client.get_provider_schema().await.expect("GetSchema");
    assert!(schema.diagnostics.is_empty(), "{:?}", schema.diagnostics);
    let vpc = &schema.resource_schemas["aws_vpc"];
    assert!(attribute_names(vpc).contains(&"cidr_block"));
    let cidr = vpc
        .block
        .as_ref()
        .unwrap()
        .attributes
        .iter()
        .find(|a| a.name == "cidr_block")
        .unwrap();
    assert_eq!(cidr.r#type, b"\"string\"");
    assert!(cidr.required);
    assert!(schema.data_source_schemas.contains_key("aws_vpc"));
    let provider = schema.provider.as_ref().expect("a provider schema");
    assert!(attribute_names(provider).contains(&"region"));

    // PrepareProviderConfig: the SDK answers the configuration, defaults applied.
    let config = config_for(
        provider.block.as_ref().unwrap(),
        &[
            ("region", Value::from("eu-west-3")),
            ("max_retries", Value::from(3)),
        ],
    );
    let (prepared, diagnostics) = client
        .validate_provider_config(msgpack(&config))
        .await
        .expect("PrepareProviderConfig");
    assert!(
        diagnostics.iter().all(|d| d.severity() != Severity::Error),
        "{diagnostics:?}"
    );
    let prepared = decode(prepared.as_ref());
    assert_eq!(field(&prepared, "region").as_str(), Some("eu-west-3"));
    assert_eq!(field(&prepared, "max_retries").as_i64(), Some(3));

    client.close().await.expect("close");
    assert!(
        !alive(pid),
        "the plugin process {pid} is still there after close"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn aws_plugin_over_automtls() {
    aws_schema_and_config(true).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn aws_plugin_in_plain_grpc() {
    aws_schema_and_config(false).await;
}

/// The protocol-5 method names (`Configure`, `ValidateResourceTypeConfig`,
/// `ValidateDataSourceConfig`, `Stop`...) and messages against the real provider, offline: the
/// credentials are given and every AWS call at configure time is skipped.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn aws_plugin_protocol5_calls() {
    let client = PluginClient::launch(spec(AWS, aws_plugin(), true))
        .await
        .expect("launch the AWS provider");
    let schema = client.get_provider_schema().await.unwrap();
    let block = |schema: &proto::Schema| schema.block.clone().unwrap();
    let vpc_block = block(&schema.resource_schemas["aws_vpc"]);

    // ValidateResourceTypeConfig: the SDK's CIDR check, reported at the attribute.
    let invalid = config_for(&vpc_block, &[("cidr_block", Value::from("not-a-cidr"))]);
    let answer = client
        .validate_resource_config(proto::ValidateResourceConfigRequest {
            type_name: "aws_vpc".into(),
            config: Some(msgpack(&invalid)),
            client_capabilities: None,
        })
        .await
        .unwrap();
    let error = answer
        .diagnostics
        .iter()
        .find(|d| d.severity() == Severity::Error);
    let error = error.unwrap_or_else(|| panic!("no error in {:?}", answer.diagnostics));
    assert_eq!(path_names(error.attribute.as_ref()), ["cidr_block"]);
    let vpc_config = config_for(&vpc_block, &[("cidr_block", Value::from("10.0.0.0/16"))]);
    let answer = client
        .validate_resource_config(proto::ValidateResourceConfigRequest {
            type_name: "aws_vpc".into(),
            config: Some(msgpack(&vpc_config)),
            client_capabilities: None,
        })
        .await
        .unwrap();
    assert!(answer.diagnostics.is_empty(), "{:?}", answer.diagnostics);

    // ValidateDataSourceConfig.
    let data_block = block(&schema.data_source_schemas["aws_vpc"]);
    let answer = client
        .validate_data_resource_config(proto::ValidateDataResourceConfigRequest {
            type_name: "aws_vpc".into(),
            config: Some(msgpack(&config_for(&data_block, &[]))),
        })
        .await
        .unwrap();
    assert!(answer.diagnostics.is_empty(), "{:?}", answer.diagnostics);

    // PrepareProviderConfig, then Configure with the prepared configuration.
    let provider_block = block(schema.provider.as_ref().unwrap());
    let settings = [
        ("region", Value::from("eu-west-3")),
        ("access_key", Value::from("test")),
        ("secret_key", Value::from("test")),
        ("skip_credentials_validation", Value::from(true)),
        ("skip_requesting_account_id", Value::from(true)),
        ("skip_metadata_api_check", Value::from(true)),
        ("skip_region_validation", Value::from(true)),
        ("skip_get_ec2_platforms", Value::from(true)),
    ];
    let config = msgpack(&config_for(&provider_block, &settings));
    let (prepared, diagnostics) = client.validate_provider_config(config).await.unwrap();
    assert!(diagnostics.is_empty(), "{diagnostics:?}");
    let diagnostics = client
        .configure_provider("1.15.5", prepared.expect("a prepared config"))
        .await
        .unwrap();
    assert!(
        diagnostics.iter().all(|d| d.severity() != Severity::Error),
        "{diagnostics:?}"
    );

    // PlanResourceChange for a create: unknown id, the SDK's private data, legacy type system.
    let planned = client
        .plan_resource_change(proto::PlanResourceChangeRequest {
            type_name: "aws_vpc".into(),
            prior_state: Some(msgpack(&Value::Nil)),
            proposed_new_state: Some(msgpack(&vpc_config)),
            config: Some(msgpack(&vpc_config)),
            ..Default::default()
        })
        .await
        .unwrap();
    assert!(planned.diagnostics.is_empty(), "{:?}", planned.diagnostics);
    let planned_state = decode(planned.planned_state.as_ref());
    assert!(
        matches!(field(&planned_state, "id"), Value::Ext(0, _)),
        "{planned_state}"
    );
    assert_eq!(
        field(&planned_state, "cidr_block").as_str(),
        Some("10.0.0.0/16")
    );
    assert!(planned.legacy_type_system);
    // The legacy SDK lists its ForceNew attributes even for a create (Terraform ignores them
    // then); what matters here is that the paths arrive.
    let forcing: Vec<Vec<String>> = planned
        .requires_replace
        .iter()
        .map(|path| path_names(Some(path)))
        .collect();
    assert!(
        forcing.contains(&vec!["cidr_block".to_string()]),
        "{forcing:?}"
    );
    assert!(!planned.planned_private.is_empty());

    // UpgradeResourceState from a JSON state of the current schema version.
    let upgraded = client
        .upgrade_resource_state(proto::UpgradeResourceStateRequest {
            type_name: "aws_vpc".into(),
            version: schema.resource_schemas["aws_vpc"].version,
            raw_state: Some(proto::RawState {
                json: br#"{"id":"vpc-0123","cidr_block":"10.1.0.0/16","tags":{"Name":"a"}}"#
                    .to_vec(),
                ..Default::default()
            }),
        })
        .await
        .unwrap();
    assert!(
        upgraded.diagnostics.is_empty(),
        "{:?}",
        upgraded.diagnostics
    );
    let state = decode(upgraded.upgraded_state.as_ref());
    assert_eq!(field(&state, "id").as_str(), Some("vpc-0123"));
    assert_eq!(field(&state, "cidr_block").as_str(), Some("10.1.0.0/16"));

    // UpgradeResourceState from a Terraform 0.11 flatmap state of schema version 0.
    let flatmap = [
        ("id", "vpc-0456"),
        ("cidr_block", "10.2.0.0/16"),
        ("tags.%", "1"),
        ("tags.Name", "b"),
    ];
    let upgraded = client
        .upgrade_resource_state(proto::UpgradeResourceStateRequest {
            type_name: "aws_vpc".into(),
            version: 0,
            raw_state: Some(proto::RawState {
                flatmap: flatmap
                    .iter()
                    .map(|(key, value)| (key.to_string(), value.to_string()))
                    .collect(),
                ..Default::default()
            }),
        })
        .await
        .unwrap();
    assert!(
        upgraded.diagnostics.is_empty(),
        "{:?}",
        upgraded.diagnostics
    );
    let state = decode(upgraded.upgraded_state.as_ref());
    assert_eq!(field(&state, "cidr_block").as_str(), Some("10.2.0.0/16"));
    assert_eq!(field(field(&state, "tags"), "Name").as_str(), Some("b"));

    // ImportResourceState (aws_vpc's importer makes no API call).
    let imported = client
        .import_resource_state(proto::ImportResourceStateRequest {
            type_name: "aws_vpc".into(),
            id: "vpc-0123".into(),
            ..Default::default()
        })
        .await
        .unwrap();
    assert!(
        imported.diagnostics.is_empty(),
        "{:?}",
        imported.diagnostics
    );
    assert_eq!(imported.imported_resources[0].type_name, "aws_vpc");
    let state = decode(imported.imported_resources[0].state.as_ref());
    assert_eq!(field(&state, "id").as_str(), Some("vpc-0123"));

    assert_eq!(client.stop_provider().await.unwrap(), None);
    client.close().await.unwrap();
}

fn thing(name: &str, label: &str) -> Value {
    object(&[
        ("id", Value::Nil),
        ("name", Value::from(name)),
        (
            "rule",
            Value::Array(vec![object(&[("port", Value::from(443))])]),
        ),
        (
            "settings",
            object(&[("label", Value::from(label)), ("size", Value::from(2))]),
        ),
        ("tags", Value::Nil),
    ])
}

async fn protocol6_round_trip(auto_mtls: bool) {
    let client = PluginClient::launch(spec(STRATATEST, stratatest(), auto_mtls))
        .await
        .expect("launch stratatest");
    assert_eq!(client.protocol_version(), 6);
    assert_eq!(client.mutual_tls(), auto_mtls);
    let pid = client.pid();

    let metadata = client.get_metadata().await.unwrap().expect("GetMetadata");
    assert_eq!(metadata.resources.len(), 3);

    let schema = client
        .get_provider_schema()
        .await
        .expect("GetProviderSchema");
    let thing_schema = &schema.resource_schemas["stratatest_thing"];
    assert_eq!(thing_schema.version, 1);
    let settings = thing_schema
        .block
        .as_ref()
        .unwrap()
        .attributes
        .iter()
        .find(|a| a.name == "settings")
        .unwrap();
    let nested = settings.nested_type.as_ref().expect("a nested attribute");
    assert_eq!(nested.nesting(), schema::object::NestingMode::Single);
    let nested_names: Vec<&str> = nested.attributes.iter().map(|a| a.name.as_str()).collect();
    assert_eq!(nested_names, ["size", "label"]);

    // Diagnostics with attribute paths.
    let (prepared, diagnostics) = client
        .validate_provider_config(msgpack(&object(&[
            ("endpoint", Value::from("invalid")),
            ("token", Value::Nil),
        ])))
        .await
        .unwrap();
    assert_eq!(prepared, None, "protocol 6 has no prepared config");
    assert_eq!(diagnostics.len(), 1);
    assert_eq!(diagnostics[0].severity(), Severity::Error);
    assert_eq!(diagnostics[0].summary, "Invalid endpoint");
    assert_eq!(path_names(diagnostics[0].attribute.as_ref()), ["endpoint"]);
    let config = object(&[("endpoint", Value::Nil), ("token", Value::Nil)]);
    let warnings = client
        .configure_provider("1.15.5", msgpack(&config))
        .await
        .unwrap();
    assert_eq!(warnings[0].severity(), Severity::Warning);
    let invalid = client
        .validate_resource_config(proto::ValidateResourceConfigRequest {
            type_name: "stratatest_thing".into(),
            config: Some(msgpack(&thing("a", "invalid"))),
            client_capabilities: None,
        })
        .await
        .unwrap();
    assert_eq!(
        path_names(invalid.diagnostics[0].attribute.as_ref()),
        ["settings", "label"]
    );

    // Create: planned id unknown, private data carried from plan to apply.
    let null = msgpack(&Value::Nil);
    let planned = client
        .plan_resource_change(proto::PlanResourceChangeRequest {
            type_name: "stratatest_thing".into(),
            prior_state: Some(null.clone()),
            proposed_new_state: Some(msgpack(&thing("a", "first"))),
            config: Some(msgpack(&thing("a", "first"))),
            ..Default::default()
        })
        .await
        .unwrap();
    let planned_state = decode(planned.planned_state.as_ref());
    assert!(
        matches!(field(&planned_state, "id"), Value::Ext(0, _)),
        "{planned_state}"
    );
    assert_eq!(planned.planned_private, b"planned:");
    let applied = client
        .apply_resource_change(proto::ApplyResourceChangeRequest {
            type_name: "stratatest_thing".into(),
            prior_state: Some(null.clone()),
            planned_state: planned.planned_state.clone(),
            config: Some(msgpack(&thing("a", "first"))),
            planned_private: planned.planned_private.clone(),
            ..Default::default()
        })
        .await
        .unwrap();
    let state = decode(applied.new_state.as_ref());
    assert_eq!(field(&state, "id").as_str(), Some("thing-1"));
    assert_eq!(
        field(field(&state, "settings"), "label").as_str(),
        Some("first")
    );
    assert_eq!(applied.private, b"planned:|applied");

    // Renaming forces replacement; the prior private bytes reach the provider.
    let replan = client
        .plan_resource_change(proto::PlanResourceChangeRequest {
            type_name: "stratatest_thing".into(),
            prior_state: applied.new_state.clone(),
            proposed_new_state: Some(msgpack(&thing("b", "first"))),
            config: Some(msgpack(&thing("b", "first"))),
            prior_private: applied.private.clone(),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(replan.requires_replace.len(), 1);
    assert_eq!(path_names(replan.requires_replace.first()), ["name"]);
    assert_eq!(replan.planned_private, b"planned:planned:|applied");

    let read = client
        .read_resource(proto::ReadResourceRequest {
            type_name: "stratatest_thing".into(),
            current_state: applied.new_state.clone(),
            private: applied.private.clone(),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(read.new_state, applied.new_state);
    assert_eq!(read.private, applied.private);

    let upgraded = client
        .upgrade_resource_state(proto::UpgradeResourceStateRequest {
            type_name: "stratatest_thing".into(),
            version: 0,
            raw_state: Some(proto::RawState {
                json: br#"{"id":"thing-9","title":"old"}"#.to_vec(),
                ..Default::default()
            }),
        })
        .await
        .unwrap();
    assert_eq!(
        field(&decode(upgraded.upgraded_state.as_ref()), "name").as_str(),
        Some("old")
    );

    let imported = client
        .import_resource_state(proto::ImportResourceStateRequest {
            type_name: "stratatest_thing".into(),
            id: "thing-42".into(),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(imported.imported_resources[0].private, b"imported");

    let echo = client
        .read_data_source(proto::ReadDataSourceRequest {
            type_name: "stratatest_echo".into(),
            config: Some(msgpack(&object(&[
                ("input", Value::from("hi")),
                ("output", Value::Nil),
            ]))),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(
        field(&decode(echo.state.as_ref()), "output").as_str(),
        Some("echo: hi")
    );

    assert_eq!(client.stop_provider().await.unwrap(), None);
    client.close().await.expect("close");
    assert!(
        !alive(pid),
        "the plugin process {pid} is still there after close"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn protocol6_provider_over_automtls() {
    protocol6_round_trip(true).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn protocol6_provider_in_plain_grpc() {
    protocol6_round_trip(false).await;
}

/// go-plugin's TCP transport (its choice on Windows), with AutoMTLS: the test provider listens
/// on TCP when started through a name ending in `-tcp`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_plugin_listening_on_tcp() {
    let dir = tempfile::tempdir().unwrap();
    let link = dir.path().join("terraform-provider-stratatest-tcp");
    std::os::unix::fs::symlink(stratatest(), &link).unwrap();
    let client = PluginClient::launch(spec(STRATATEST, link, true))
        .await
        .unwrap();
    assert_eq!(client.unix_socket(), None);
    let schema = client.get_provider_schema().await.unwrap();
    assert!(schema.resource_schemas.contains_key("stratatest_thing"));
    let pid = client.pid();
    client.close().await.unwrap();
    assert!(!alive(pid));
}

/// A plugin killed from outside between calls: the next call says it crashed, and how.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_plugin_killed_between_calls() {
    let client = PluginClient::launch(spec(STRATATEST, stratatest(), true))
        .await
        .unwrap();
    client.get_provider_schema().await.unwrap();
    let killed = std::process::Command::new("kill")
        .args(["-KILL", &client.pid().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let error = client.get_provider_schema().await.unwrap_err();
    let message = error.to_string();
    assert!(matches!(error, PluginError::Crashed { .. }), "{error:?}");
    assert!(
        message.contains(
            "crashed during GetProviderSchema (signal: 9 (SIGKILL)); it was killed by a signal"
        ),
        "{message}"
    );
    // Its log so far is quoted.
    assert!(message.contains("stratatest serving"), "{message}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn calls_run_concurrently_on_one_connection() {
    let client = std::sync::Arc::new(
        PluginClient::launch(spec(STRATATEST, stratatest(), true))
            .await
            .unwrap(),
    );
    let calls = (0..16).map(|index| {
        let client = client.clone();
        tokio::spawn(async move {
            let config = object(&[("input", Value::from(index)), ("output", Value::Nil)]);
            client
                .read_data_source(proto::ReadDataSourceRequest {
                    type_name: "stratatest_echo".into(),
                    config: Some(msgpack(&config)),
                    ..Default::default()
                })
                .await
        })
    });
    for call in calls {
        let answer = call.await.unwrap().expect("ReadDataSource");
        assert!(answer.state.is_some());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dropping_the_client_kills_the_plugin() {
    let client = PluginClient::launch(spec(STRATATEST, stratatest(), true))
        .await
        .unwrap();
    let pid = client.pid();
    assert!(alive(pid));
    drop(client);
    assert!(
        gone(pid).await,
        "the plugin process {pid} outlived its client"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_crash_mid_apply_names_the_provider_and_quotes_the_panic() {
    let client = PluginClient::launch(spec(STRATATEST, stratatest(), true))
        .await
        .unwrap();
    let config = msgpack(&thing("a", "x"));
    let error = client
        .apply_resource_change(proto::ApplyResourceChangeRequest {
            type_name: "stratatest_crash".into(),
            prior_state: Some(msgpack(&Value::Nil)),
            planned_state: Some(config.clone()),
            config: Some(config),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert!(matches!(error, PluginError::Crashed { .. }), "{error:?}");
    let message = error.to_string();
    for expected in [
        STRATATEST,
        "terraform-provider-stratatest",
        "crashed during ApplyResourceChange",
        "exit status: 2); this is a bug in the provider",
        "panic: stratatest_crash was asked to crash",
    ] {
        assert!(
            message.contains(expected),
            "`{expected}` missing from: {message}"
        );
    }
    // Later calls say the same, not a bare transport error.
    let again = client.get_provider_schema().await.unwrap_err();
    assert!(matches!(again, PluginError::Crashed { .. }), "{again:?}");
    client.close().await.expect("close after a crash");
}

/// A `tracing` writer into a shared buffer, to see what the plugin's log became.
#[derive(Clone, Default)]
struct Captured(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);

impl std::io::Write for Captured {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// The suite's process-wide subscriber (a scoped one misses events: tracing caches each
/// callsite's interest across threads, and other tests log concurrently), capturing the
/// plugin log target only.
fn captured_log() -> &'static Captured {
    static CAPTURED: std::sync::OnceLock<Captured> = std::sync::OnceLock::new();
    CAPTURED.get_or_init(|| {
        let captured = Captured::default();
        let writer = captured.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_env_filter(tracing_subscriber::EnvFilter::new("strata::plugin=trace"))
            .with_ansi(false)
            .with_writer(move || writer.clone())
            .finish();
        tracing::subscriber::set_global_default(subscriber).expect("no other global subscriber");
        captured
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hclog_lines_become_tracing_events_with_the_provider_name() {
    let captured = captured_log();
    let client = PluginClient::launch(spec(STRATATEST, stratatest(), true))
        .await
        .unwrap();
    client.get_provider_schema().await.unwrap();
    client.close().await.unwrap();
    let log = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
    let line = |needle: &str| {
        log.lines()
            .find(|line| line.contains(needle))
            .unwrap_or_else(|| panic!("no `{needle}` in the log:\n{log}"))
            .to_string()
    };
    let serving = line("stratatest serving");
    assert!(serving.contains(" INFO "), "{serving}");
    assert!(
        serving.contains("@module=stratatest protocol=6"),
        "{serving}"
    );
    assert!(
        serving.contains(&format!("provider=\"{STRATATEST}\"")),
        "{serving}"
    );
    let call = line("rpc=GetProviderSchema");
    assert!(call.contains(" DEBUG "), "{call}");
}

/// A shell script standing in for a broken plugin.
fn script(dir: &Path, body: &str) -> PathBuf {
    use std::os::unix::fs::PermissionsExt;
    let path = dir.join("terraform-provider-broken");
    std::fs::write(&path, format!("#!/bin/sh\n{body}\n")).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    path
}

async fn launch_error(executable: PathBuf, timeout: Duration) -> String {
    let spec = LaunchSpec {
        handshake_timeout: timeout,
        ..LaunchSpec::new("example.com/test/broken", executable.clone())
    };
    let error = PluginClient::launch(spec).await.unwrap_err();
    let message = error.to_string();
    assert_eq!(error.provider(), "example.com/test/broken");
    assert!(message.contains("`example.com/test/broken`"), "{message}");
    assert!(
        message.contains(&executable.display().to_string()),
        "{message}"
    );
    message
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn garbage_instead_of_a_handshake() {
    let dir = tempfile::tempdir().unwrap();
    let executable = script(
        dir.path(),
        "echo 'Hello! I am a shell script.'\nexec sleep 30",
    );
    let message = launch_error(executable, Duration::from_secs(20)).await;
    assert!(
        message
            .contains("printed `Hello! I am a shell script.` instead of the plugin handshake line"),
        "{message}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_plugin_that_exits_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let executable = script(dir.path(), "echo 'missing configuration file' >&2\nexit 3");
    let message = launch_error(executable, Duration::from_secs(20)).await;
    assert!(
        message.contains("exited before the handshake (exit status: 3)"),
        "{message}"
    );
    assert!(message.contains("missing configuration file"), "{message}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_plugin_that_hangs_is_killed_after_the_handshake_timeout() {
    let dir = tempfile::tempdir().unwrap();
    let pid_file = dir.path().join("pid");
    let executable = script(
        dir.path(),
        &format!("echo $$ > '{}'\nexec sleep 60", pid_file.display()),
    );
    let message = launch_error(executable, Duration::from_secs(1)).await;
    assert!(
        message.contains("printed no handshake line within 1 s"),
        "{message}"
    );
    let pid: u32 = std::fs::read_to_string(&pid_file)
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    assert!(gone(pid).await, "the hanging plugin {pid} was not killed");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_missing_plugin_binary() {
    let dir = tempfile::tempdir().unwrap();
    let message = launch_error(
        dir.path().join("terraform-provider-none"),
        Duration::from_secs(5),
    )
    .await;
    assert!(message.contains("could not start the plugin"), "{message}");
}

#[test]
fn the_test_provider_refuses_to_run_without_the_magic_cookie() {
    let output = std::process::Command::new(stratatest())
        .env_remove("TF_PLUGIN_MAGIC_COOKIE")
        .output()
        .unwrap();
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("This binary is a plugin"));
}
