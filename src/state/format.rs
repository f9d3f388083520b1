//! Terraform's state file format, version 4: reading it into a [`State`] and writing a
//! [`State`] back exactly as Terraform 1.15 writes it (same key order, same two-space indent,
//! same escaping of `<`, `>` and `&`, trailing newline), so that a state written by one tool can
//! be read by the other and a round trip changes no byte.
//!
//! Deposed objects (the old half of an unfinished `create_before_destroy` replacement) are
//! instances with a `deposed` key, written after the instance's current object as Terraform
//! writes them.
//!
//! What the model does not keep: `check_results` (transient; written as `null` as Terraform
//! writes it after a run). A pre-0.12 `attributes_flat` instance (Terraform 0.11's flatmap) is
//! read with a null value and its flatmap kept in [`State::extras`], for the provider's
//! UpgradeResourceState to turn into attributes (a deposed one is rejected with what to do).
//! A provider's `private` data and resource identities are carried in [`State::extras`] until
//! the instance changes.
//! Output types are not stored in the model: they are written as the value's own type.

use super::StateSchemas;
use super::{
    InstanceExtras, InstanceObject, ObjectStatus, OutputValue, PendingCreate, State, StateError,
};
use crate::addrs::{
    AbsResource, InstanceKey, ModuleInstance, Resource, ResourceInstance, ResourceMode, Target,
};
use crate::value::{
    value_from_cty_json, value_from_json, value_to_cty_json, value_to_json, AttrPath, PathStep,
    Type, Value,
};
use serde_json::{json, Map, Value as Json};
use std::collections::BTreeMap;
use std::io;
use std::sync::Arc;

/// The only state format version this module reads and writes.
pub const STATE_VERSION: u64 = 4;

/// Parses a version-4 state file. `source` names the file in error messages.
pub fn read_state(text: &str, source: &str) -> Result<State, StateError> {
    read_state_with(text, source, None)
}

/// [`read_state`] with the schemas of the resource types its instances may have: each
/// instance whose type `schemas` knows is decoded per its schema as it is read, and the state
/// comes back with the schemas attached (as if [`State::attach_schemas`] had run).
///
/// The layout Terraform and Strata write is decoded straight from the text
/// ([`super::stream`]); anything else (fields in another order, an attribute that does not
/// match its schema, a damaged file) is read through a JSON tree, which says what is wrong.
pub fn read_state_with(
    text: &str,
    source: &str,
    schemas: Option<Arc<StateSchemas>>,
) -> Result<State, StateError> {
    read_document(text, source, schemas, true)
}

/// [`read_state_with`] without the one-pass reader: what it is checked against.
#[cfg(test)]
pub(super) fn read_state_through_tree(
    text: &str,
    source: &str,
    schemas: Option<Arc<StateSchemas>>,
) -> Result<State, StateError> {
    read_document(text, source, schemas, false)
}

fn read_document(
    text: &str,
    source: &str,
    schemas: Option<Arc<StateSchemas>>,
    one_pass: bool,
) -> Result<State, StateError> {
    let _phase = crate::timings::phase("state decoding (JSON)");
    let fail = |message: String| StateError::Format {
        file: source.to_string(),
        message: format!("{message}\n{DAMAGED_STATE_HINT}"),
    };
    let streamed = one_pass
        .then(|| super::stream::read(text, schemas.as_deref()))
        .flatten();
    let (root, streamed) = match streamed {
        Some(streamed) => (streamed.root, Some(streamed.instances)),
        None => {
            let document: Json =
                serde_json::from_str(text).map_err(|e| fail(format!("not valid JSON: {e}")))?;
            let Json::Object(root) = document else {
                return Err(fail("the top level is not a JSON object".into()));
            };
            (root, None)
        }
    };
    match root.get("version").and_then(Json::as_u64) {
        Some(STATE_VERSION) => {}
        Some(other) => {
            return Err(StateError::Format {
                file: source.to_string(),
                message: format!(
                    "state format version {other} is not supported (only version 4, written by Terraform 0.12 and later); {}",
                    if other > STATE_VERSION {
                        "a newer tool wrote it: work with this state using that tool, or a Strata that reads its format"
                    } else {
                        "run `terraform apply` with Terraform 0.12 or later once to upgrade it"
                    }
                ),
            })
        }
        None => return Err(fail("missing or invalid `version`".into())),
    }
    let serial = match root.get("serial") {
        None => 0,
        Some(value) => value
            .as_u64()
            .ok_or_else(|| fail("`serial` is not a non-negative integer".into()))?,
    };
    let lineage = optional_str(&root, "lineage")
        .map_err(&fail)?
        .unwrap_or_default();
    let terraform_version = optional_str(&root, "terraform_version")
        .map_err(&fail)?
        .unwrap_or_default();
    check_terraform_version(&terraform_version, source)?;

    let mut outputs = BTreeMap::new();
    match root.get("outputs") {
        None | Some(Json::Null) => {}
        Some(Json::Object(entries)) => {
            for (name, entry) in entries {
                let output =
                    read_output(entry).map_err(|m| fail(format!("output `{name}`: {m}")))?;
                outputs.insert(name.clone(), output);
            }
        }
        Some(_) => return Err(fail("`outputs` is not an object".into())),
    }

    let instances = match streamed {
        Some(instances) => instances,
        None => read_resources(&root, schemas.as_deref()).map_err(fail)?,
    };

    let pending_creates = read_pending_creates(&root).map_err(fail)?;
    Ok(State {
        serial,
        lineage,
        terraform_version,
        outputs,
        resources: instances.resources,
        pending_creates,
        extras: instances.extras,
        deposed: instances.deposed,
        schemas: super::schemas::AttachedSchemas::read_with(schemas),
    })
}

/// The instances of a state file's `resources` read from its JSON tree.
fn read_resources(
    root: &Map<String, Json>,
    schemas: Option<&StateSchemas>,
) -> Result<Instances, String> {
    let mut instances = Instances::default();
    match root.get("resources") {
        None | Some(Json::Null) => {}
        Some(Json::Array(items)) => {
            for (position, item) in items.iter().enumerate() {
                read_resource(item, &mut instances, schemas)
                    .map_err(|m| format!("resources[{position}]: {m}"))?;
            }
        }
        Some(_) => return Err("`resources` is not a list".into()),
    }
    Ok(instances)
}

/// What to do about a state file that cannot be read: Strata changed nothing.
const DAMAGED_STATE_HINT: &str = "  The file is damaged or was edited by hand, and Strata left it as it is: restore its previous version (the local backend keeps one beside it as `.backup`; an S3 bucket with versioning keeps them all) or correct the file, then run the command again.";

/// The error for a state file that exists but cannot be read as text: binary content, or a
/// directory where the file should be; other I/O errors as they are.
pub(crate) fn unreadable_state(path: &std::path::Path, error: io::Error) -> StateError {
    let file = path.display().to_string();
    match error.kind() {
        io::ErrorKind::InvalidData => StateError::Format {
            file,
            message: format!("not a state file: it is not UTF-8 text (a state file is JSON)\n{DAMAGED_STATE_HINT}"),
        },
        io::ErrorKind::IsADirectory => StateError::Format {
            file,
            message: "is a directory, not a state file: move it away, or point the backend's `path` at the state file".into(),
        },
        _ => StateError::io(path, error),
    }
}

/// Refuses a state written by a newer Terraform than the one Strata is compatible with, as
/// Terraform refuses one from a newer version than itself.
fn check_terraform_version(version: &str, source: &str) -> Result<(), StateError> {
    if version.is_empty() {
        return Ok(());
    }
    let fail = |message: String| StateError::Format {
        file: source.to_string(),
        message,
    };
    match crate::config::version::compare(version, crate::TERRAFORM_VERSION_COMPAT) {
        Ok(std::cmp::Ordering::Greater) => Err(fail(format!(
            "the state was written by Terraform v{version}, which is newer than v{} that Strata is compatible with; work with this state using Terraform v{version} or later, or restore a state written by an earlier version",
            crate::TERRAFORM_VERSION_COMPAT
        ))),
        Ok(_) => Ok(()),
        Err(error) => Err(fail(format!(
            "`terraform_version` is `{version}`, which is not a version number ({error})\n{DAMAGED_STATE_HINT}"
        ))),
    }
}

/// Writes a state as Terraform writes `terraform.tfstate`. Fails only if the state holds an
/// unknown value, which no recorded state may.
pub fn write_state(state: &State) -> Result<String, StateError> {
    write_state_as(state, state.serial, &state.terraform_version)
}

/// [`write_state`] with another serial and tool version (what a backend stores), without
/// copying the state.
pub fn write_state_as(
    state: &State,
    serial: u64,
    terraform_version: &str,
) -> Result<String, StateError> {
    let _phase = crate::timings::phase("state encoding");
    let mut root = Map::new();
    root.insert("version".into(), json!(STATE_VERSION));
    root.insert("terraform_version".into(), json!(terraform_version));
    root.insert("serial".into(), json!(serial));
    root.insert("lineage".into(), json!(state.lineage));

    let mut outputs = Map::new();
    for (name, output) in &state.outputs {
        // An output not known yet (its apply failed) is not recorded, as Terraform does: failing
        // the whole write over it would lose the resources' progress instead.
        if !output.value.is_wholly_known() {
            tracing::debug!("output `{name}` is not known; not recorded in the state");
            continue;
        }
        let (value, _) = output.value.clone().deep_unmark();
        let mut entry = Map::new();
        entry.insert(
            "value".into(),
            to_json(&value, &format!("output `{name}`"))?,
        );
        entry.insert("type".into(), type_to_json(&value.type_of()));
        if output.sensitive || output.value.contains_sensitive() {
            entry.insert("sensitive".into(), Json::Bool(true));
        }
        outputs.insert(name.clone(), Json::Object(entry));
    }
    root.insert("outputs".into(), Json::Object(outputs));

    let mut resources = Vec::new();
    for (resource, instances) in group_resources(state) {
        resources.push(write_resource(
            &resource,
            &instances,
            &state.extras,
            state.schemas(),
        )?);
    }
    root.insert("resources".into(), Json::Array(resources));
    root.insert("check_results".into(), Json::Null);
    write_pending_creates(&state.pending_creates, &mut root)?;

    let mut text = to_go_json(&Json::Object(root))
        .map_err(|e| StateError::Other(format!("cannot encode state: {e}")))?;
    text.push('\n');
    Ok(text)
}

/// One object of a resource as written: its instance key, the deposed key for a deposed
/// object, the object.
type WrittenObject<'a> = (&'a InstanceKey, Option<&'a String>, &'a InstanceObject);

/// The objects of one resource, grouped and sorted as Terraform's `normalize` sorts them:
/// resources by module address text, mode text (`data` before `managed`), type and name;
/// instances by key, each instance's current object before its deposed ones (by key).
fn group_resources(state: &State) -> Vec<(AbsResource, Vec<WrittenObject<'_>>)> {
    let mut groups: BTreeMap<
        (String, &'static str, String, String),
        (AbsResource, Vec<WrittenObject<'_>>),
    > = BTreeMap::new();
    let current = state
        .resources
        .iter()
        .map(|(address, object)| (address, None, object));
    let deposed = state.deposed.iter().flat_map(|(address, objects)| {
        objects
            .iter()
            .map(move |(key, object)| (address, Some(key), object))
    });
    for (address, deposed_key, object) in current.chain(deposed) {
        let sort_key = (
            address.module.to_string(),
            address.resource.mode.as_state_str(),
            address.resource.type_name.clone(),
            address.resource.name.clone(),
        );
        groups
            .entry(sort_key)
            .or_insert_with(|| (address.abs_resource(), Vec::new()))
            .1
            .push((&address.key, deposed_key, object));
    }
    // Instance keys sort as Terraform sorts them (integers numerically, strings by bytes);
    // `None` (current) sorts before any deposed key.
    for (_, objects) in groups.values_mut() {
        objects.sort_by(|a, b| (a.0, a.1).cmp(&(b.0, b.1)));
    }
    groups.into_values().collect()
}

fn write_resource(
    resource: &AbsResource,
    instances: &[WrittenObject<'_>],
    extras: &BTreeMap<ResourceInstance, InstanceExtras>,
    schemas: Option<&StateSchemas>,
) -> Result<Json, StateError> {
    let mut entry = Map::new();
    if !resource.module.is_root() {
        entry.insert("module".into(), json!(resource.module.to_string()));
    }
    entry.insert("mode".into(), json!(resource.resource.mode.as_state_str()));
    entry.insert("type".into(), json!(resource.resource.type_name));
    entry.insert("name".into(), json!(resource.resource.name));
    // No `each`: Terraform 1.15 leaves it out (its reader ignores it), so neither does Strata.
    let provider = instances
        .first()
        .map(|(_, _, object)| object.provider.clone())
        .unwrap_or_default();
    entry.insert("provider".into(), json!(provider));

    let mut written = Vec::with_capacity(instances.len());
    for (key, deposed, object) in instances {
        let address = resource.instance((*key).clone());
        let mut instance = Map::new();
        if let Some(index_key) = key.to_json() {
            instance.insert("index_key".into(), index_key);
        }
        if object.status == ObjectStatus::Tainted {
            instance.insert("status".into(), json!("tainted"));
        }
        if let Some(deposed) = deposed {
            instance.insert("deposed".into(), json!(deposed));
        }
        instance.insert("schema_version".into(), json!(object.schema_version));
        let object_type = schemas.and_then(|schemas| {
            schemas.object_type(
                &object.provider,
                resource.resource.mode,
                &resource.resource.type_name,
            )
        });
        let extra = extras.get(&address).filter(|_| deposed.is_none());
        if let Some(flatmap) = extra.and_then(|e| e.flatmap.as_ref()) {
            instance.insert("attributes_flat".into(), json!(flatmap));
            instance.insert("sensitive_attributes".into(), json!([]));
        } else {
            let (attributes_json, sensitive_paths) =
                attributes_to_json(object, object_type, &address)?;
            instance.insert("attributes".into(), attributes_json);
            instance.insert(
                "sensitive_attributes".into(),
                Json::Array(sensitive_paths.iter().map(path_to_json).collect()),
            );
        }
        instance.insert(
            "identity_schema_version".into(),
            json!(extra.map_or(0, |e| e.identity_schema_version)),
        );
        if let Some(identity) = extra.and_then(|e| e.identity.as_ref()) {
            instance.insert("identity".into(), identity.clone());
        }
        if let Some(private) = &object.private {
            instance.insert("private".into(), json!(private));
        }
        let mut dependencies: Vec<String> = object
            .dependencies
            .iter()
            .map(ToString::to_string)
            .collect();
        dependencies.sort();
        dependencies.dedup();
        if !dependencies.is_empty() {
            instance.insert("dependencies".into(), json!(dependencies));
        }
        if object.create_before_destroy {
            instance.insert("create_before_destroy".into(), Json::Bool(true));
        }
        written.push(Json::Object(instance));
    }
    entry.insert("instances".into(), Json::Array(written));
    Ok(Json::Object(entry))
}

/// An instance's attributes as written, and the paths of its sensitive values in Terraform's
/// form. With the resource type's object type (the state's schemas attached), the model's value
/// is encoded per the schema; without one, the value is written as read from the file.
fn attributes_to_json(
    object: &InstanceObject,
    object_type: Option<&Type>,
    address: &ResourceInstance,
) -> Result<(Json, Vec<AttrPath>), StateError> {
    let (attributes, sensitive_paths) = object.value.clone().deep_unmark();
    if let Some(ty) = object_type {
        match value_to_cty_json(&attributes, ty) {
            Ok(json) => return Ok((json, sensitive_paths)),
            Err(error) => tracing::warn!(
                "{address}: the attributes do not match the resource type's schema ({error}); recorded as they are"
            ),
        }
    }
    let mut json = to_json(&attributes, &address.to_string())?;
    order_dynamic_wrappers(&mut json);
    let paths = sensitive_paths
        .iter()
        .map(|path| to_terraform_path(&attributes, &path.0))
        .collect();
    Ok((json, paths))
}

/// A value as read from a state file without its schema, unmarked, and the paths of its
/// sensitive values as the file wrote them (without the steps into dynamic values' wrappers).
/// A value without marks is not copied.
pub(super) fn decode_raw_paths(raw: &Value) -> (std::borrow::Cow<'_, Value>, Vec<AttrPath>) {
    if !raw.contains_sensitive() {
        return (std::borrow::Cow::Borrowed(raw), Vec::new());
    }
    let (plain, paths) = raw.clone().deep_unmark();
    let paths = paths
        .iter()
        .map(|path| to_terraform_path(&plain, &path.0))
        .collect();
    (std::borrow::Cow::Owned(plain), paths)
}

/// Terraform writes a dynamic value's wrapper as `{"value": .., "type": ..}`, value first
/// (not sorted like an object's attributes); the model keeps it as an object, so restore the
/// order here.
fn order_dynamic_wrappers(json: &mut Json) {
    match json {
        Json::Object(entries) => {
            for value in entries.values_mut() {
                order_dynamic_wrappers(value);
            }
            let is_wrapper = entries.len() == 2
                && entries.contains_key("value")
                && entries
                    .get("type")
                    .is_some_and(|ty| type_from_json(ty).is_ok());
            if is_wrapper {
                if let Some(ty) = entries.shift_remove("type") {
                    entries.insert("type".into(), ty);
                }
            }
        }
        Json::Array(items) => items.iter_mut().for_each(order_dynamic_wrappers),
        _ => {}
    }
}

/// `strata_pending_creates` (address → token) and `strata_pending_planned` (address → the
/// planned value, unknowns as null) of a state with creates pending; Terraform ignores keys it
/// does not know, and Strata reads them back after a crash.
fn write_pending_creates(
    pending: &BTreeMap<ResourceInstance, PendingCreate>,
    root: &mut Map<String, Json>,
) -> Result<(), StateError> {
    if pending.is_empty() {
        return Ok(());
    }
    let mut tokens = Map::new();
    let mut planned = Map::new();
    for (address, create) in pending {
        let what = format!("the planned value of {address}'s pending create");
        tokens.insert(address.to_string(), json!(create.token));
        let value = create.planned.clone().without_unknowns();
        if !value.is_null() {
            planned.insert(address.to_string(), to_json(&value, &what)?);
        }
    }
    root.insert("strata_pending_creates".into(), Json::Object(tokens));
    if !planned.is_empty() {
        root.insert("strata_pending_planned".into(), Json::Object(planned));
    }
    Ok(())
}

/// The pending creates [`write_pending_creates`] wrote (a state without planned values, from
/// before they were kept, reads with null ones).
fn read_pending_creates(
    root: &Map<String, Json>,
) -> Result<BTreeMap<ResourceInstance, PendingCreate>, String> {
    let mut pending = BTreeMap::new();
    let Some(Json::Object(entries)) = root.get("strata_pending_creates") else {
        return Ok(pending);
    };
    let planned = match root.get("strata_pending_planned") {
        Some(Json::Object(planned)) => Some(planned),
        _ => None,
    };
    for (address, token) in entries {
        let parsed = ResourceInstance::parse(address)
            .map_err(|e| format!("`strata_pending_creates`: {e}"))?;
        let token = token
            .as_str()
            .ok_or("`strata_pending_creates` values must be strings")?;
        let planned = match planned.and_then(|planned| planned.get(address)) {
            Some(json) => value_from_json(json, None)
                .map_err(|e| format!("`strata_pending_planned` of {address}: {e}"))?,
            None => Value::Null,
        };
        let create = PendingCreate {
            token: token.to_string(),
            planned,
        };
        pending.insert(parsed, create);
    }
    Ok(pending)
}

fn to_json(value: &Value, what: &str) -> Result<Json, StateError> {
    value_to_json(value)
        .map_err(|e| StateError::Other(format!("cannot record {what} in the state: {e}")))
}

fn optional_str(object: &Map<String, Json>, key: &str) -> Result<Option<String>, String> {
    match object.get(key) {
        None | Some(Json::Null) => Ok(None),
        Some(Json::String(text)) => Ok(Some(text.clone())),
        Some(_) => Err(format!("`{key}` is not a string")),
    }
}

fn read_output(entry: &Json) -> Result<OutputValue, String> {
    let entry = entry.as_object().ok_or("not an object")?;
    let raw = entry.get("value").ok_or("missing `value`")?;
    let ty = match entry.get("type") {
        None | Some(Json::Null) => None,
        Some(ty) => Some(type_from_json(ty)?),
    };
    // A value that does not conform to its declared type is kept as plain JSON rather than
    // refused: the value itself is what matters to later runs.
    let value = value_from_json(raw, ty.as_ref())
        .or_else(|_| value_from_json(raw, None))
        .map_err(|e| e.to_string())?;
    let sensitive = entry
        .get("sensitive")
        .and_then(Json::as_bool)
        .unwrap_or(false);
    Ok(OutputValue {
        value: value.mark_if(sensitive),
        sensitive,
    })
}

/// The instances a state file records, as [`State`] keeps them.
#[derive(Default)]
pub(super) struct Instances {
    pub resources: BTreeMap<ResourceInstance, InstanceObject>,
    pub extras: BTreeMap<ResourceInstance, InstanceExtras>,
    pub deposed: BTreeMap<ResourceInstance, BTreeMap<String, InstanceObject>>,
}

/// One instance object as read, before it is filed under its resource's address.
pub(super) struct ReadInstance {
    pub key: InstanceKey,
    pub object: InstanceObject,
    pub extras: InstanceExtras,
    /// The deposed key of a deposed object.
    pub deposed: Option<String>,
}

/// An instance's `attributes` as read: a JSON tree, or already a value (read from the text by
/// [`super::stream`]: per the resource type's schema, or without a type where none is known).
pub(super) enum Attributes<'a> {
    Json(&'a Json),
    Typed(Value),
    Untyped(Value),
}

/// Reads one entry of `resources`; with `schemas`, its instances' attributes are decoded per
/// their resource type's schema where it is known.
fn read_resource(
    item: &Json,
    into: &mut Instances,
    schemas: Option<&StateSchemas>,
) -> Result<(), String> {
    let item = item.as_object().ok_or("not an object")?;
    let (resource, provider) = read_resource_header(|key| item.get(key))?;
    let instances = match item.get("instances") {
        None | Some(Json::Null) => return Ok(()),
        Some(Json::Array(instances)) => instances,
        Some(_) => return Err(format!("{resource}: `instances` is not a list")),
    };
    for instance in instances {
        let typed = |schema_version| {
            schemas.and_then(|schemas| {
                let names = &resource.resource;
                schemas.for_recorded(&provider, names.mode, &names.type_name, schema_version)
            })
        };
        let instance = instance
            .as_object()
            .ok_or_else(|| format!("{resource}: an instance is not an object"))?;
        let attributes = Attributes::Json(instance.get("attributes").unwrap_or(&Json::Null));
        let read = read_instance(|key| instance.get(key), attributes, &provider, typed)
            .map_err(|m| format!("{resource}: {m}"))?;
        file_instance(&resource, read, into)?;
    }
    Ok(())
}

/// A resource's address and provider address from its fields (`field` gives each by name).
pub(super) fn read_resource_header<'j>(
    field: impl Fn(&str) -> Option<&'j Json>,
) -> Result<(AbsResource, String), String> {
    let string = |key: &str| -> Result<Option<String>, String> {
        match field(key) {
            None | Some(Json::Null) => Ok(None),
            Some(Json::String(text)) => Ok(Some(text.clone())),
            Some(_) => Err(format!("`{key}` is not a string")),
        }
    };
    let required = |key: &str| -> Result<String, String> {
        string(key)?.ok_or_else(|| format!("missing `{key}`"))
    };
    let module = match string("module")? {
        None => ModuleInstance::root(),
        Some(text) if text.is_empty() => ModuleInstance::root(),
        Some(text) => match Target::parse(&text) {
            Ok(Target::Module(module)) => module,
            _ => return Err(format!("invalid module address `{text}`")),
        },
    };
    let mode = match required("mode")?.as_str() {
        "managed" => ResourceMode::Managed,
        "data" => ResourceMode::Data,
        other => {
            return Err(format!(
                "invalid mode `{other}` (expected `managed` or `data`)"
            ))
        }
    };
    let resource = AbsResource {
        module,
        resource: Resource {
            mode,
            type_name: required("type")?,
            name: required("name")?,
        },
    };
    let provider = required("provider")?;
    if !(provider.contains("provider[\"") && provider.contains("\"]")) {
        return Err(format!(
            "{resource}: `provider` is `{provider}`, not a provider configuration address like `provider[\"registry.terraform.io/hashicorp/aws\"]`"
        ));
    }
    Ok((resource, provider))
}

/// Files an instance object read from `resource`'s entry: current or deposed, each only once.
pub(super) fn file_instance(
    resource: &AbsResource,
    read: ReadInstance,
    into: &mut Instances,
) -> Result<(), String> {
    let address = resource.instance(read.key);
    if let Some(deposed_key) = read.deposed {
        if read.extras.flatmap.is_some() {
            return Err(format!(
                "deposed object {address} `{deposed_key}` uses the legacy `attributes_flat` form; run `terraform apply` with Terraform 0.12 or later once to upgrade it"
            ));
        }
        let objects = into.deposed.entry(address.clone()).or_default();
        if objects.contains_key(&deposed_key) {
            return Err(format!(
                "deposed object {address} `{deposed_key}` appears twice"
            ));
        }
        objects.insert(deposed_key, read.object);
        return Ok(());
    }
    if read.extras != InstanceExtras::default() {
        into.extras.insert(address.clone(), read.extras);
    }
    match into.resources.entry(address) {
        std::collections::btree_map::Entry::Occupied(entry) => {
            Err(format!("instance {} appears twice", entry.key()))
        }
        std::collections::btree_map::Entry::Vacant(entry) => {
            entry.insert(read.object);
            Ok(())
        }
    }
}

/// Reads one instance: `field` gives its fields by name (all but `attributes`, which come as
/// `attributes`). `typed` gives the object type JSON attributes are decoded with, from the
/// instance's schema version, when the state is read with schemas: `None` keeps them as the
/// file has them.
pub(super) fn read_instance<'t, 'j>(
    field: impl Fn(&str) -> Option<&'j Json>,
    attributes: Attributes<'_>,
    provider: &str,
    typed: impl Fn(u64) -> Option<&'t Type>,
) -> Result<ReadInstance, String> {
    let key = match field("index_key") {
        None | Some(Json::Null) => InstanceKey::None,
        Some(Json::Number(n)) => {
            InstanceKey::Int(n.as_i64().ok_or_else(|| format!("invalid index_key {n}"))?)
        }
        Some(Json::String(s)) => InstanceKey::Str(s.clone()),
        Some(other) => return Err(format!("invalid index_key {other}")),
    };
    let has_attributes = match &attributes {
        Attributes::Json(json) => !json.is_null(),
        Attributes::Typed(value) | Attributes::Untyped(value) => !value.is_null(),
    };
    let flatmap = read_flatmap(field("attributes_flat"), has_attributes)
        .map_err(|m| format!("instance{key}: {m}"))?;
    let is_object = match &attributes {
        Attributes::Json(json) => matches!(json, Json::Object(_) | Json::Null),
        Attributes::Typed(_) => true,
        Attributes::Untyped(value) => matches!(value, Value::Object(_) | Value::Null),
    };
    if !is_object {
        return Err(format!("instance{key}: `attributes` is not an object"));
    }
    let schema_version = field("schema_version").and_then(Json::as_u64).unwrap_or(0);
    let sensitive_paths = match field("sensitive_attributes") {
        None | Some(Json::Null) => Vec::new(),
        Some(Json::Array(paths)) => paths
            .iter()
            .map(path_from_json)
            .collect::<Result<Vec<_>, _>>()
            .map_err(|m| format!("instance{key}: sensitive_attributes: {m}"))?,
        Some(_) => {
            return Err(format!(
                "instance{key}: `sensitive_attributes` is not a list"
            ))
        }
    };
    let value = match attributes {
        Attributes::Json(json) => read_attributes(json, &sensitive_paths, typed(schema_version))
            .map_err(|e| format!("instance{key}: {e}"))?,
        Attributes::Typed(value) => value.mark_paths(&sensitive_paths),
        Attributes::Untyped(value) => untyped_attributes(value, &sensitive_paths),
    };
    let status = match field("status").and_then(Json::as_str) {
        None | Some("") => ObjectStatus::Ready,
        Some("tainted") => ObjectStatus::Tainted,
        Some(other) => return Err(format!("instance{key}: unknown status `{other}`")),
    };
    let mut dependencies = Vec::new();
    if let Some(list) = field("dependencies").and_then(Json::as_array) {
        for dependency in list {
            let text = dependency.as_str().ok_or("a dependency is not a string")?;
            let parsed = ResourceInstance::parse(text)
                .map_err(|e| format!("instance{key}: invalid dependency `{text}`: {e}"))?;
            dependencies.push(parsed.abs_resource());
        }
    }
    let create_before_destroy = field("create_before_destroy")
        .and_then(Json::as_bool)
        .unwrap_or(false);
    let private = field("private").and_then(Json::as_str).map(str::to_string);
    let extras = InstanceExtras {
        identity: field("identity")
            .filter(|identity| !identity.is_null())
            .cloned(),
        identity_schema_version: field("identity_schema_version")
            .and_then(Json::as_u64)
            .unwrap_or(0),
        flatmap,
    };
    let deposed = field("deposed").and_then(Json::as_str).map(str::to_string);
    Ok(ReadInstance {
        key,
        object: InstanceObject {
            value,
            provider: provider.to_string(),
            schema_version,
            dependencies,
            create_before_destroy,
            status,
            private,
        },
        extras,
        deposed,
    })
}

/// An instance's attributes and their sensitive marks (`paths` as the file has them, over
/// values). With the resource type's object type, decoded straight from the JSON per the type;
/// without one, or when the JSON does not match it, read without a type (the model's JSON-shaped
/// value, marks moved into dynamic wrappers), then decoded per the type as
/// [`State::attach_schemas`] does.
fn read_attributes(
    attributes: &Json,
    paths: &[AttrPath],
    ty: Option<&Type>,
) -> Result<Value, crate::value::JsonValueError> {
    if let Some(typed) = ty.and_then(|ty| value_from_cty_json(attributes, ty).ok()) {
        return Ok(typed.mark_paths(paths));
    }
    let raw = untyped_attributes(value_from_json(attributes, None)?, paths);
    Ok(match ty {
        Some(ty) => super::schemas::decode_object(&raw, ty),
        None => raw,
    })
}

/// Attributes read without a type, with their sensitive marks (`paths` as the file has them):
/// the marks moved into dynamic values' wrappers, an object indexed by key turned into a map.
fn untyped_attributes(mut value: Value, paths: &[AttrPath]) -> Value {
    if paths.is_empty() {
        return value;
    }
    let model_paths: Vec<AttrPath> = paths
        .iter()
        .map(|path| {
            let mut model_path = Vec::with_capacity(path.0.len());
            to_model_path(&mut value, &path.0, &mut model_path);
            AttrPath(model_path)
        })
        .collect();
    value.mark_paths(&model_paths)
}

/// The pre-0.12 `attributes_flat` of an instance that has no `attributes` (`None` when it has
/// them): every value a string, as Terraform 0.11 wrote them.
fn read_flatmap(
    flat: Option<&Json>,
    has_attributes: bool,
) -> Result<Option<BTreeMap<String, String>>, String> {
    let Some(flat) = flat.filter(|f| !f.is_null()) else {
        return Ok(None);
    };
    if has_attributes {
        return Ok(None);
    }
    let flat = flat
        .as_object()
        .ok_or("`attributes_flat` is not an object")?;
    flat.iter()
        .map(|(key, value)| match value {
            Json::String(text) => Ok((key.clone(), text.clone())),
            _ => Err(format!("`attributes_flat.{key}` is not a string")),
        })
        .collect::<Result<BTreeMap<_, _>, _>>()
        .map(Some)
}

/// Whether an object is the JSON encoding of a dynamically typed value (`{"value": ..,
/// "type": ..}`), which Terraform writes for attributes of type `any` such as
/// `terraform_data.input`. Without a schema this is a guess, but only paths and key order
/// depend on it.
fn is_dynamic_wrapper(entries: &BTreeMap<String, Value>) -> bool {
    entries.len() == 2
        && entries.contains_key("value")
        && entries
            .get("type")
            .and_then(|ty| value_to_json(ty).ok())
            .is_some_and(|ty| type_from_json(&ty).is_ok())
}

/// Turns a path as Terraform writes it (over values) into a path over the model's JSON-shaped
/// value: a step through a dynamic value's wrapper gains the `value` step; an object indexed
/// with a string is a map, and becomes one (so it is written back with the same path).
fn to_model_path(value: &mut Value, steps: &[PathStep], out: &mut Vec<PathStep>) {
    let Some((first, rest)) = steps.split_first() else {
        return;
    };
    if let Value::Object(entries) | Value::Map(entries) = &*value {
        let present = matches!(first, PathStep::Attr(name) | PathStep::Key(name) if entries.contains_key(name));
        if !present && is_dynamic_wrapper(entries) {
            out.push(PathStep::Attr("value".into()));
            if let Value::Object(entries) | Value::Map(entries) = value {
                if let Some(inner) = entries.get_mut("value") {
                    to_model_path(inner, steps, out);
                }
            }
            return;
        }
    }
    if let (PathStep::Key(_), Value::Object(_)) = (first, &*value) {
        if let Value::Object(entries) = std::mem::replace(value, Value::Null) {
            *value = Value::Map(entries);
        }
    }
    out.push(first.clone());
    let next = match (first, value) {
        (
            PathStep::Attr(name) | PathStep::Key(name),
            Value::Object(entries) | Value::Map(entries),
        ) => entries.get_mut(name),
        (PathStep::Index(index), Value::Tuple(items) | Value::List(items) | Value::Set(items)) => {
            usize::try_from(*index).ok().and_then(|i| items.get_mut(i))
        }
        _ => None,
    };
    match next {
        Some(next) => to_model_path(next, rest, out),
        None => out.extend(rest.iter().cloned()),
    }
}

/// The inverse of [`to_model_path`]: drops the steps into dynamic values' wrappers.
fn to_terraform_path(value: &Value, steps: &[PathStep]) -> AttrPath {
    let mut out = Vec::with_capacity(steps.len());
    let mut current = Some(value);
    for step in steps {
        let node = current.map(Value::unmarked);
        let through_wrapper = matches!(
            (step, node),
            (PathStep::Attr(name), Some(Value::Object(entries))) if name == "value" && is_dynamic_wrapper(entries)
        );
        if !through_wrapper {
            out.push(step.clone());
        }
        current = node.and_then(|node| match (step, node) {
            (
                PathStep::Attr(name) | PathStep::Key(name),
                Value::Object(entries) | Value::Map(entries),
            ) => entries.get(name),
            (
                PathStep::Index(index),
                Value::Tuple(items) | Value::List(items) | Value::Set(items),
            ) => usize::try_from(*index).ok().and_then(|i| items.get(i)),
            _ => None,
        });
    }
    AttrPath(out)
}

/// A path as cty's JSON path encoding writes it: a list of `get_attr` / `index` steps.
fn path_to_json(path: &AttrPath) -> Json {
    Json::Array(
        path.0
            .iter()
            .map(|step| match step {
                PathStep::Attr(name) => json!({"type": "get_attr", "value": name}),
                PathStep::Index(index) => {
                    json!({"type": "index", "value": {"value": index, "type": "number"}})
                }
                PathStep::Key(key) => {
                    json!({"type": "index", "value": {"value": key, "type": "string"}})
                }
            })
            .collect(),
    )
}

fn path_from_json(path: &Json) -> Result<AttrPath, String> {
    let steps = path.as_array().ok_or("a path is not a list")?;
    let mut result = Vec::with_capacity(steps.len());
    for step in steps {
        let kind = step.get("type").and_then(Json::as_str).unwrap_or_default();
        let value = step.get("value").ok_or("a path step has no `value`")?;
        result.push(match (kind, value) {
            ("get_attr", Json::String(name)) => PathStep::Attr(name.clone()),
            ("index", Json::Object(key)) => {
                match (key.get("type").and_then(Json::as_str), key.get("value")) {
                    (Some("number"), Some(Json::Number(n))) => {
                        PathStep::Index(n.as_i64().ok_or_else(|| format!("invalid index {n}"))?)
                    }
                    (Some("string"), Some(Json::String(s))) => PathStep::Key(s.clone()),
                    _ => return Err(format!("invalid index step {step}")),
                }
            }
            _ => return Err(format!("invalid path step {step}")),
        });
    }
    Ok(AttrPath(result))
}

/// A type in cty's JSON type syntax: `"string"`, `["list","string"]`, `["object",{...}]`.
pub fn type_to_json(ty: &Type) -> Json {
    match ty {
        Type::Any => json!("dynamic"),
        Type::Bool => json!("bool"),
        Type::Number => json!("number"),
        Type::String => json!("string"),
        Type::List(element) => json!(["list", type_to_json(element)]),
        Type::Set(element) => json!(["set", type_to_json(element)]),
        Type::Map(element) => json!(["map", type_to_json(element)]),
        Type::Tuple(elements) => json!([
            "tuple",
            elements.iter().map(type_to_json).collect::<Vec<_>>()
        ]),
        Type::Object(object) => {
            let attributes: Map<String, Json> = object
                .attributes
                .iter()
                .map(|(name, ty)| (name.clone(), type_to_json(ty)))
                .collect();
            json!(["object", attributes])
        }
    }
}

/// Reads cty's JSON type syntax.
pub fn type_from_json(json: &Json) -> Result<Type, String> {
    Type::from_cty_json(json)
}

/// Serializes JSON as Go's `json.MarshalIndent(v, "", "  ")` does: two-space indent, and
/// `<`, `>`, `&`, U+2028 and U+2029 escaped as `\u003c` and so on.
pub fn to_go_json(value: &Json) -> Result<String, serde_json::Error> {
    let mut out = Vec::new();
    let mut serializer = serde_json::Serializer::with_formatter(&mut out, GoFormatter::default());
    serde::Serialize::serialize(value, &mut serializer)?;
    // serde_json only writes valid UTF-8.
    Ok(String::from_utf8_lossy(&out).into_owned())
}

#[derive(Default)]
struct GoFormatter {
    pretty: serde_json::ser::PrettyFormatter<'static>,
}

impl serde_json::ser::Formatter for GoFormatter {
    fn begin_array<W: ?Sized + io::Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.pretty.begin_array(w)
    }
    fn end_array<W: ?Sized + io::Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.pretty.end_array(w)
    }
    fn begin_array_value<W: ?Sized + io::Write>(
        &mut self,
        w: &mut W,
        first: bool,
    ) -> io::Result<()> {
        self.pretty.begin_array_value(w, first)
    }
    fn end_array_value<W: ?Sized + io::Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.pretty.end_array_value(w)
    }
    fn begin_object<W: ?Sized + io::Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.pretty.begin_object(w)
    }
    fn end_object<W: ?Sized + io::Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.pretty.end_object(w)
    }
    fn begin_object_key<W: ?Sized + io::Write>(
        &mut self,
        w: &mut W,
        first: bool,
    ) -> io::Result<()> {
        self.pretty.begin_object_key(w, first)
    }
    fn begin_object_value<W: ?Sized + io::Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.pretty.begin_object_value(w)
    }
    fn end_object_value<W: ?Sized + io::Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.pretty.end_object_value(w)
    }
    fn write_string_fragment<W: ?Sized + io::Write>(
        &mut self,
        w: &mut W,
        fragment: &str,
    ) -> io::Result<()> {
        let mut start = 0;
        for (position, character) in fragment.char_indices() {
            let escape = match character {
                '<' => "\\u003c",
                '>' => "\\u003e",
                '&' => "\\u0026",
                '\u{2028}' => "\\u2028",
                '\u{2029}' => "\\u2029",
                _ => continue,
            };
            w.write_all(&fragment.as_bytes()[start..position])?;
            w.write_all(escape.as_bytes())?;
            start = position + character.len_utf8();
        }
        w.write_all(&fragment.as_bytes()[start..])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn instance(value: Value) -> InstanceObject {
        InstanceObject {
            value,
            provider: "provider[\"terraform.io/builtin/terraform\"]".into(),
            schema_version: 0,
            dependencies: Vec::new(),
            create_before_destroy: false,
            status: ObjectStatus::Ready,
            private: None,
        }
    }

    #[test]
    fn escapes_like_go() {
        let text = to_go_json(&json!({"a": "<b> & \u{2028}\n\"q\""})).unwrap();
        assert_eq!(
            text,
            "{\n  \"a\": \"\\u003cb\\u003e \\u0026 \\u2028\\n\\\"q\\\"\"\n}"
        );
    }

    #[test]
    fn types_round_trip() {
        for text in [
            r#""string""#,
            r#"["list","string"]"#,
            r#"["map",["set","number"]]"#,
            r#"["tuple",["bool","dynamic"]]"#,
            r#"["object",{"a":"string","b":["list","number"]}]"#,
        ] {
            let json: Json = serde_json::from_str(text).unwrap();
            let ty = type_from_json(&json).unwrap();
            assert_eq!(type_to_json(&ty), json, "{text}");
        }
        assert!(type_from_json(&json!("strin")).is_err());
        assert!(type_from_json(&json!(["list"])).is_err());
    }

    #[test]
    fn sensitive_paths_survive_a_round_trip() {
        let mut state = State::new();
        let value = Value::object([
            ("id", Value::string("x")),
            ("password", Value::string("hunter2").mark_sensitive()),
            (
                "tags",
                Value::Map([("k".to_string(), Value::string("v").mark_sensitive())].into()),
            ),
            (
                "list",
                Value::Tuple(vec![
                    Value::string("a"),
                    Value::string("b").mark_sensitive(),
                ]),
            ),
        ]);
        let address = ResourceInstance::parse("terraform_data.a").unwrap();
        state
            .resources
            .insert(address.clone(), instance(value.clone()));
        let text = write_state(&state).unwrap();
        assert!(text.contains(r#""value": "password""#), "{text}");
        let read = read_state(&text, "test").unwrap();
        assert_eq!(read.resources[&address].value, value);
        assert_eq!(write_state(&read).unwrap(), text);
    }

    #[test]
    fn rejects_other_versions_and_garbage() {
        let error = read_state(r#"{"version": 3}"#, "old.tfstate")
            .unwrap_err()
            .to_string();
        assert!(
            error.contains("old.tfstate") && error.contains("version 3"),
            "{error}"
        );
        let error = read_state("{", "bad.tfstate").unwrap_err().to_string();
        assert!(
            error.contains("bad.tfstate") && error.contains("not valid JSON"),
            "{error}"
        );
        let error = read_state(
            r#"{"version": 4, "resources": [{"mode": "x"}]}"#,
            "r.tfstate",
        )
        .unwrap_err()
        .to_string();
        assert!(error.contains("mode"), "{error}");
    }

    #[test]
    fn unknown_outputs_are_left_out() {
        let mut state = State::new();
        state.outputs.insert(
            "later".into(),
            OutputValue {
                value: Value::unknown(),
                sensitive: false,
            },
        );
        let text = write_state(&state).unwrap();
        assert!(text.contains("\"outputs\": {}"), "{text}");
    }

    #[test]
    fn unknown_values_are_refused() {
        let mut state = State::new();
        state.resources.insert(
            ResourceInstance::parse("terraform_data.a").unwrap(),
            instance(Value::object([("id", Value::unknown())])),
        );
        assert!(write_state(&state).is_err());
    }
}
