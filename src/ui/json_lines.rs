//! Terraform's machine-readable UI (`plan -json`, `apply -json`): one JSON object per line on
//! standard output, each with `@level`, `@message`, `@module` (`terraform.ui`), `@timestamp`
//! and a `type`: `version` first, then `refresh_start`, `apply_start`, `apply_progress`,
//! `apply_complete`, `apply_errored` as operations run, `planned_change` per change and a
//! `change_summary`, `outputs`, and `diagnostic` for every error and warning. A pipeline reads
//! it line by line (`jq -c 'select(.type == "change_summary")'`) as it reads Terraform's.
//!
//! Sensitive values never appear: output values marked sensitive are left out, as Terraform
//! does.

use crate::addrs::{InstanceKey, ResourceInstance};
use crate::diagnostics::{Diagnostic, Severity};
use crate::engine::{Event, Events, ObjectId};
use crate::plan::{Action, Plan, ResourceChange};
use crate::state::OutputValue;
use serde_json::{json, Map, Value as Json};
use std::collections::BTreeMap;
use std::io::Write;
use std::sync::Mutex;
use std::time::Duration;

/// Writes machine-readable UI lines; also receives the engine's progress events.
pub struct JsonLines {
    out: Mutex<Box<dyn Write + Send>>,
}

impl JsonLines {
    pub fn new(out: Box<dyn Write + Send>) -> JsonLines {
        JsonLines {
            out: Mutex::new(out),
        }
    }

    fn emit(&self, level: &str, message: &str, kind: &str, fields: Map<String, Json>) {
        let mut line = Map::new();
        line.insert("@level".into(), json!(level));
        line.insert("@message".into(), json!(message));
        line.insert("@module".into(), json!("terraform.ui"));
        line.insert(
            "@timestamp".into(),
            json!(chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Micros, true)),
        );
        line.extend(fields);
        line.insert("type".into(), json!(kind));
        let mut out = self.out.lock().unwrap_or_else(|e| e.into_inner());
        let _ = writeln!(out, "{}", Json::Object(line));
        let _ = out.flush();
    }

    /// The first line: which tool and UI version.
    pub fn version(&self) {
        let version = env!("CARGO_PKG_VERSION");
        let mut fields = Map::new();
        fields.insert("terraform".into(), json!(crate::TERRAFORM_VERSION_COMPAT));
        fields.insert("strata".into(), json!(version));
        fields.insert("ui".into(), json!("1.2"));
        self.emit("info", &format!("Strata {version}"), "version", fields);
    }

    /// One `planned_change` line per change, then the `change_summary`.
    pub fn plan(&self, plan: &Plan) {
        for change in plan.changes.iter().filter(|c| c.is_change()) {
            let action = action_name(change);
            let mut detail = Map::new();
            detail.insert("resource".into(), resource_json(&change.address));
            if let Some(previous) = &change.previous_address {
                detail.insert("previous_resource".into(), resource_json(previous));
            }
            detail.insert("action".into(), json!(action));
            if let Some(reason) = &change.reason {
                if let Ok(reason) = serde_json::to_value(reason) {
                    detail.insert("reason".into(), reason);
                }
            }
            if let Some(id) = &change.importing {
                detail.insert("importing".into(), json!({ "id": id }));
            }
            let mut fields = Map::new();
            fields.insert("change".into(), Json::Object(detail));
            self.emit(
                "info",
                &format!("{}: Plan to {action}", change.address),
                "planned_change",
                fields,
            );
        }
        self.summary(plan, "plan");
    }

    /// `change_summary`: how many instances are added, changed, removed, imported.
    pub fn summary(&self, plan: &Plan, operation: &str) {
        let (add, change, remove) = plan.counts();
        let import = plan.import_count();
        let forget = plan.forget_count();
        let message = match operation {
            "apply" => format!(
                "Apply complete! Resources: {import} imported, {add} added, {change} changed, {remove} destroyed."
            ),
            _ => format!(
                "Plan: {import} to import, {add} to add, {change} to change, {remove} to destroy."
            ),
        };
        let mut fields = Map::new();
        fields.insert(
            "changes".into(),
            json!({
                "add": add, "change": change, "import": import, "remove": remove,
                "forget": forget, "operation": operation,
            }),
        );
        self.emit("info", &message, "change_summary", fields);
    }

    /// The root outputs after an apply (values of sensitive ones left out).
    pub fn outputs(&self, outputs: &BTreeMap<String, OutputValue>) {
        let mut entries = Map::new();
        for (name, output) in outputs {
            let mut entry = Map::new();
            entry.insert("sensitive".into(), json!(output.sensitive));
            if !output.sensitive {
                let (plain, _) = output.value.clone().deep_unmark();
                if let Ok(value) = crate::value::value_to_json(&plain) {
                    entry.insert("value".into(), value);
                }
            }
            entries.insert(name.clone(), Json::Object(entry));
        }
        let mut fields = Map::new();
        fields.insert("outputs".into(), Json::Object(entries));
        self.emit("info", "Outputs: ", "outputs", fields);
    }

    /// One `diagnostic` line.
    pub fn diagnostic(&self, diagnostic: &Diagnostic) {
        let (level, severity, prefix) = match diagnostic.severity {
            Severity::Error => ("error", "error", "Error"),
            Severity::Warning => ("warn", "warning", "Warning"),
        };
        let mut detail = Map::new();
        detail.insert("severity".into(), json!(severity));
        detail.insert("summary".into(), json!(diagnostic.summary));
        detail.insert("detail".into(), json!(diagnostic.detail));
        if let Some(span) = &diagnostic.span {
            detail.insert(
                "range".into(),
                json!({
                    "filename": span.file.to_string(),
                    "start": {"line": span.start.line, "column": span.start.column},
                    "end": {"line": span.end.line, "column": span.end.column},
                }),
            );
        }
        let mut fields = Map::new();
        fields.insert("diagnostic".into(), Json::Object(detail));
        self.emit(
            level,
            &format!("{prefix}: {}", diagnostic.summary),
            "diagnostic",
            fields,
        );
    }
}

impl Events for JsonLines {
    fn event(&self, event: Event) {
        let mut fields = Map::new();
        let (kind, message, hook) = match event {
            Event::Refreshing { address, id } => {
                let mut hook = hook_for(&address);
                let message = match &id {
                    Some(id) => {
                        hook.insert("id_key".into(), json!("id"));
                        hook.insert("id_value".into(), json!(id));
                        format!("{address}: Refreshing state... [id={id}]")
                    }
                    None => format!("{address}: Refreshing state..."),
                };
                ("refresh_start", message, hook)
            }
            Event::Importing { address, id } => {
                let mut hook = hook_for(&address);
                hook.insert("id".into(), json!(id));
                (
                    "import_start",
                    format!("{address}: Preparing import... [id={id}]"),
                    hook,
                )
            }
            Event::Reading { address } => {
                let mut hook = hook_for(&address);
                hook.insert("action".into(), json!("read"));
                ("apply_start", format!("{address}: Reading..."), hook)
            }
            Event::ApplyStarting {
                address,
                action,
                deposed,
                id,
            } => {
                let mut hook = hook_for(&address);
                hook.insert("action".into(), json!(verb(action)));
                if let Some(key) = deposed {
                    hook.insert("deposed".into(), json!(key));
                }
                insert_id(&mut hook, id.as_ref());
                (
                    "apply_start",
                    format!(
                        "{address}: {}{}",
                        super::verbs(action).0,
                        super::id_suffix(id.as_ref())
                    ),
                    hook,
                )
            }
            Event::StillApplying {
                address,
                action,
                elapsed,
                ..
            } => {
                let mut hook = hook_for(&address);
                hook.insert("action".into(), json!(verb(action)));
                hook.insert("elapsed_seconds".into(), json!(seconds(elapsed)));
                (
                    "apply_progress",
                    format!(
                        "{address}: {} [{}s elapsed]",
                        super::verbs(action).1,
                        seconds(elapsed)
                    ),
                    hook,
                )
            }
            Event::Message { address, message } => {
                let hook = hook_for(&address);
                ("log", format!("{address}: {message}"), hook)
            }
            Event::ApplyDone {
                address,
                action,
                elapsed,
                id,
            } => {
                let mut hook = hook_for(&address);
                hook.insert("action".into(), json!(verb(action)));
                insert_id(&mut hook, id.as_ref());
                hook.insert("elapsed_seconds".into(), json!(seconds(elapsed)));
                (
                    "apply_complete",
                    format!(
                        "{address}: {} after {}s{}",
                        super::verbs(action).2,
                        seconds(elapsed),
                        super::id_suffix(id.as_ref())
                    ),
                    hook,
                )
            }
            Event::ApplyFailed { address, action } => {
                let mut hook = hook_for(&address);
                hook.insert("action".into(), json!(verb(action)));
                ("apply_errored", format!("{address}: failed"), hook)
            }
            Event::ProvisionStarting {
                address,
                provisioner,
            } => {
                let mut hook = hook_for(&address);
                hook.insert("provisioner".into(), json!(provisioner));
                (
                    "provision_start",
                    format!("{address}: Provisioning with '{provisioner}'..."),
                    hook,
                )
            }
            Event::ProvisionOutput {
                address,
                provisioner,
                output,
            } => {
                let mut hook = hook_for(&address);
                hook.insert("provisioner".into(), json!(provisioner));
                hook.insert("output".into(), json!(output));
                (
                    "provision_progress",
                    format!("{address}: ({provisioner}): {output}"),
                    hook,
                )
            }
            Event::ProvisionDone {
                address,
                provisioner,
                failed,
            } => {
                let mut hook = hook_for(&address);
                hook.insert("provisioner".into(), json!(provisioner));
                let (kind, what) = if failed {
                    ("provision_errored", "Provisioning errored")
                } else {
                    ("provision_complete", "Provisioning complete")
                };
                (kind, format!("{address}: ({provisioner}) {what}"), hook)
            }
        };
        fields.insert("hook".into(), Json::Object(hook));
        let level = if kind == "apply_errored" {
            "error"
        } else {
            "info"
        };
        self.emit(level, &message, kind, fields);
    }
}

fn seconds(elapsed: Duration) -> u64 {
    elapsed.as_secs()
}

/// `id_key` and `id_value`, when something names the object.
fn insert_id(hook: &mut Map<String, Json>, id: Option<&ObjectId>) {
    if let Some(id) = id {
        hook.insert("id_key".into(), json!(id.key));
        hook.insert("id_value".into(), json!(id.value));
    }
}

fn hook_for(address: &ResourceInstance) -> Map<String, Json> {
    let mut hook = Map::new();
    hook.insert("resource".into(), resource_json(address));
    hook
}

/// A resource instance as Terraform's machine-readable UI describes it.
fn resource_json(address: &ResourceInstance) -> Json {
    let module = address.module.to_string();
    let resource = ResourceInstance {
        module: crate::addrs::ModuleInstance::root(),
        ..address.clone()
    };
    let key = match &address.key {
        InstanceKey::None => Json::Null,
        InstanceKey::Int(i) => json!(i),
        InstanceKey::Str(s) => json!(s),
    };
    let implied_provider = address
        .resource
        .type_name
        .split('_')
        .next()
        .unwrap_or_default()
        .to_string();
    json!({
        "addr": address.to_string(),
        "module": module,
        "resource": resource.to_string(),
        "implied_provider": implied_provider,
        "resource_type": address.resource.type_name,
        "resource_name": address.resource.name,
        "resource_key": key,
    })
}

/// Terraform's action words in hooks.
fn verb(action: Action) -> &'static str {
    match action {
        Action::Create => "create",
        Action::Update => "update",
        Action::Delete => "delete",
        Action::Read => "read",
        Action::DeleteThenCreate | Action::CreateThenDelete => "replace",
        Action::NoOp => "noop",
        Action::Forget => "remove",
    }
}

/// Terraform's action words in `planned_change` (a move or import without other change is
/// `move` / `import`).
fn action_name(change: &ResourceChange) -> &'static str {
    match (change.action, &change.previous_address, &change.importing) {
        (Action::NoOp, _, Some(_)) => "import",
        (Action::NoOp, Some(_), None) => "move",
        (action, _, _) => verb(action),
    }
}
