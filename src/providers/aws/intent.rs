//! Finding again what an interrupted create made (issue 12): every create of a taggable type
//! carries the engine's idempotency token in a tag ([`INTENT_TAG`]) set *by the create call
//! itself* (`TagSpecifications`, `Tags`), so an object exists only with its tag.
//!
//! How each type is found ([`recovery`], the table in ARCHITECTURE.md):
//! - EC2 objects ([`Recovery::Ec2Tag`]): one `DescribeTags` filtered by the tag's key and value;
//! - objects with a unique name (IAM role, EKS cluster and node group, DB subnet group and
//!   instance, [`Recovery::Named`]): read by the planned name when the create is refused, and
//!   adopted only when they carry the tag with this token; one without is an error naming it;
//! - objects that are their own key (route table association, policy attachment,
//!   [`Recovery::NaturalKey`]): before the create, their parent (route table, role) gets a
//!   `strata:intent:<token>` tag holding the object's import id ([`mark_parent`]); a repeated
//!   create finds the same object (a security group rule: `InvalidPermission.Duplicate`).
//!
//! The tags never reach state or plans (the provider leaves `strata:intent*` out of
//! `tags`/`tags_all`) and are removed once the engine has recorded the object
//! ([`remove_intent_tag`]); a refresh that may write (an apply's, not a plan's: see
//! [`super::refresh`]) removes an object's own tag left behind by a run killed in between (a
//! parent's mark left that way stays, hidden, until that object is recorded again).
//!
//! A found object is finished on what its create asked for (the intent's planned value), so
//! what no read can see is what the create would have recorded.

use super::ec2::filter;
use super::support::{ask, attrs, get_str, named_ids, string_map_of, Attrs, FailureExt};
use super::tags::Tagged;
use super::{AwsContext, AwsProvider, Operation, OperationKind, ResourceType, REMOTE_TAGS};
use crate::providers::schema::Block;
use crate::providers::{FoundCreate, ObjectState, ProviderError};
use crate::value::Value;
use std::collections::BTreeMap;

/// The tag key that holds a create's idempotency token until the create is recorded.
pub(crate) const INTENT_TAG: &str = "strata:intent";

/// How objects of one resource type are found again.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Recovery {
    /// An EC2 object, by its tag; the id starts with this prefix.
    Ec2Tag(&'static str),
    /// By the unique name the configuration gives, checked against the tag.
    Named,
    /// The object is its own key: creating it again finds it.
    NaturalKey,
}

/// How `type_name`'s objects are found again.
pub(crate) fn recovery(type_name: &str) -> Recovery {
    match type_name {
        "aws_vpc" => Recovery::Ec2Tag("vpc-"),
        "aws_subnet" => Recovery::Ec2Tag("subnet-"),
        "aws_internet_gateway" => Recovery::Ec2Tag("igw-"),
        "aws_eip" => Recovery::Ec2Tag("eipalloc-"),
        "aws_nat_gateway" => Recovery::Ec2Tag("nat-"),
        "aws_route_table" => Recovery::Ec2Tag("rtb-"),
        "aws_security_group" => Recovery::Ec2Tag("sg-"),
        "aws_iam_role"
        | "aws_eks_cluster"
        | "aws_eks_node_group"
        | "aws_db_subnet_group"
        | "aws_db_instance" => Recovery::Named,
        _ => Recovery::NaturalKey,
    }
}

/// `planned` with the intent tag (holding `token`) added to `tags_all`: what the create sends.
pub(crate) fn with_intent_tag(planned: &Value, token: &str) -> Value {
    let mut out = planned.clone();
    if let Value::Object(items) = &mut out {
        let mut tags = match items.get("tags_all").map(Value::unmarked) {
            Some(Value::Map(tags) | Value::Object(tags)) => tags.clone(),
            _ => Default::default(),
        };
        tags.insert(INTENT_TAG.into(), Value::from(token));
        items.insert("tags_all".into(), Value::Map(tags));
    }
    out
}

/// The ids of the EC2 objects (with `prefix`) that carry the intent tag with `token`.
pub(crate) async fn ec2_ids_with_token(
    aws: &AwsContext,
    prefix: &str,
    token: &str,
) -> Result<Vec<String>, ProviderError> {
    let out = ask(
        aws.ec2
            .describe_tags()
            .filters(filter("key", [INTENT_TAG.to_string()]))
            .filters(filter("value", [token.to_string()]))
            .send(),
        "looking for the object an interrupted create made",
    )
    .await?;
    let mut ids: Vec<String> = out
        .tags()
        .iter()
        .filter_map(|t| t.resource_id())
        .filter(|id| id.starts_with(prefix))
        .map(str::to_string)
        .collect();
    ids.sort();
    ids.dedup();
    Ok(ids)
}

/// What identifies the named object of `type_name` that carries the intent tag with `token`,
/// found by listing the type's objects (IAM, EKS and RDS list calls take no tag filter): the
/// attributes its read needs, `None` when none carries it.
pub(crate) async fn named_with_token(
    aws: &AwsContext,
    type_name: &str,
    token: &str,
) -> Result<Option<Attrs>, ProviderError> {
    let summary = "looking for the object an interrupted create made";
    let ours =
        |key: Option<&str>, value: Option<&str>| key == Some(INTENT_TAG) && value == Some(token);
    let named = |name: &str| Some(named_ids(name));
    match type_name {
        "aws_iam_role" => {
            let found =
                find_role_tag(aws, summary, |t| ours(Some(t.key()), Some(t.value()))).await?;
            Ok(found.and_then(|(role, _)| named(&role)))
        }
        "aws_eks_cluster" | "aws_eks_node_group" => {
            let clusters = ask(aws.eks.list_clusters().send(), summary).await?;
            for cluster in clusters.clusters() {
                if type_name == "aws_eks_cluster" {
                    let out = ask(aws.eks.describe_cluster().name(cluster).send(), summary).await?;
                    let tags = out.cluster().and_then(|c| c.tags());
                    if tags.is_some_and(|t| t.get(INTENT_TAG).map(String::as_str) == Some(token)) {
                        return Ok(named(cluster));
                    }
                    continue;
                }
                let groups = ask(
                    aws.eks.list_nodegroups().cluster_name(cluster).send(),
                    summary,
                )
                .await?;
                for group in groups.nodegroups() {
                    let out = ask(
                        aws.eks
                            .describe_nodegroup()
                            .cluster_name(cluster)
                            .nodegroup_name(group)
                            .send(),
                        summary,
                    )
                    .await?;
                    let tags = out.nodegroup().and_then(|g| g.tags());
                    if tags.is_some_and(|t| t.get(INTENT_TAG).map(String::as_str) == Some(token)) {
                        return Ok(Some(attrs([(
                            "id",
                            Value::from(format!("{cluster}:{group}")),
                        )])));
                    }
                }
            }
            Ok(None)
        }
        "aws_db_instance" => {
            let out = ask(aws.rds.describe_db_instances().send(), summary).await?;
            Ok(out
                .db_instances()
                .iter()
                .find(|i| i.tag_list().iter().any(|t| ours(t.key(), t.value())))
                .and_then(|i| i.db_instance_identifier())
                .map(|identifier| attrs([("identifier", Value::from(identifier))])))
        }
        "aws_db_subnet_group" => {
            let out = ask(aws.rds.describe_db_subnet_groups().send(), summary).await?;
            for group in out.db_subnet_groups() {
                let Some(arn) = group.db_subnet_group_arn() else {
                    continue;
                };
                let tags = ask(
                    aws.rds.list_tags_for_resource().resource_name(arn).send(),
                    summary,
                )
                .await?;
                if tags.tag_list().iter().any(|t| ours(t.key(), t.value())) {
                    return Ok(group.db_subnet_group_name().and_then(named));
                }
            }
            Ok(None)
        }
        _ => Ok(None),
    }
}

/// The tag an object that is its own key leaves on its parent (the role of a policy
/// attachment, the route table of an association) before it is created: its key is
/// `strata:intent:<token>`, its value the object's import id, so an interrupted create is found
/// by the token alone.
fn parent_mark(type_name: &str, planned: &Value) -> Option<(String, String)> {
    match type_name {
        "aws_iam_role_policy_attachment" => {
            let role = get_str(planned, "role")?;
            Some((
                role.clone(),
                format!("{role}/{}", get_str(planned, "policy_arn")?),
            ))
        }
        "aws_route_table_association" => {
            let table = get_str(planned, "route_table_id")?;
            let target =
                get_str(planned, "subnet_id").or_else(|| get_str(planned, "gateway_id"))?;
            Some((table.clone(), format!("{target}/{table}")))
        }
        _ => None,
    }
}

fn parent_key(token: &str) -> String {
    format!("{INTENT_TAG}:{token}")
}

/// The parent [`parent_mark`] names, as its service tags it: a policy attachment's role, a route
/// table association's route table.
fn parent_tagged<'a>(type_name: &str, parent: &'a str) -> Tagged<'a> {
    if type_name == "aws_iam_role_policy_attachment" {
        Tagged::IamRole(parent)
    } else {
        Tagged::Ec2(parent)
    }
}

/// Tags the parent of an object that is its own key before the object is created (see
/// [`parent_mark`]). A failure leaves the object findable only by creating it again.
pub(crate) async fn mark_parent(aws: &AwsContext, type_name: &str, planned: &Value, token: &str) {
    let Some((parent, import_id)) = parent_mark(type_name, planned) else {
        return;
    };
    let mark = BTreeMap::from([(parent_key(token), import_id)]);
    let result = parent_tagged(type_name, &parent).tag(aws, &mark).await;
    if let Err(failure) = result {
        tracing::warn!(%parent, message = %failure.message, "could not mark the parent of a create");
    }
}

/// The import id an interrupted create of an object that is its own key left on its parent.
async fn parent_marked(
    aws: &AwsContext,
    type_name: &str,
    token: &str,
) -> Result<Option<String>, ProviderError> {
    let summary = "looking for the object an interrupted create made";
    let key = parent_key(token);
    if type_name == "aws_route_table_association" {
        let out = ask(
            aws.ec2.describe_tags().filters(filter("key", [key])).send(),
            summary,
        )
        .await?;
        return Ok(out
            .tags()
            .iter()
            .find_map(|t| t.value().map(str::to_string)));
    }
    let found = find_role_tag(aws, summary, |t| t.key() == key).await?;
    Ok(found.map(|(_, value)| value))
}

/// The first IAM role with a tag `pick` chooses, and that tag's value. Roles are listed page by
/// page and their tags read one call per role: paid only while an intent on a role is pending.
async fn find_role_tag(
    aws: &AwsContext,
    summary: &str,
    pick: impl Fn(&aws_sdk_iam::types::Tag) -> bool,
) -> Result<Option<(String, String)>, ProviderError> {
    let mut marker = None;
    loop {
        let out = ask(aws.iam.list_roles().set_marker(marker).send(), summary).await?;
        for role in out.roles() {
            let tags = ask(
                aws.iam.list_role_tags().role_name(role.role_name()).send(),
                summary,
            )
            .await?;
            if let Some(tag) = tags.tags().iter().find(|t| pick(t)) {
                return Ok(Some((
                    role.role_name().to_string(),
                    tag.value().to_string(),
                )));
            }
        }
        marker = out.marker().map(str::to_string);
        if !out.is_truncated() || marker.is_none() {
            return Ok(None);
        }
    }
}

/// Removes the marks a recorded object that is its own key left on its parent (every
/// `strata:intent:*` tag there holding its import id).
async fn unmark_parent(
    aws: &AwsContext,
    type_name: &str,
    value: &Value,
) -> Result<(), ProviderError> {
    let Some((parent, import_id)) = parent_mark(type_name, value) else {
        return Ok(());
    };
    let summary = format!("removing the marks of a create from {parent}");
    let prefix = parent_key("");
    if type_name == "aws_iam_role_policy_attachment" {
        let tags = ask(aws.iam.list_role_tags().role_name(&parent).send(), &summary).await?;
        let keys: Vec<String> = tags
            .tags()
            .iter()
            .filter(|t| t.key().starts_with(&prefix) && t.value() == import_id)
            .map(|t| t.key().to_string())
            .collect();
        return untag_parent(aws, type_name, &parent, keys, &summary).await;
    }
    let out = ask(
        aws.ec2
            .describe_tags()
            .filters(filter("resource-id", [parent.clone()]))
            .send(),
        &summary,
    )
    .await?;
    let keys: Vec<String> = out
        .tags()
        .iter()
        .filter(|t| {
            t.key().is_some_and(|k| k.starts_with(&prefix)) && t.value() == Some(import_id.as_str())
        })
        .filter_map(|t| t.key().map(str::to_string))
        .collect();
    untag_parent(aws, type_name, &parent, keys, &summary).await
}

/// Removes the marks `keys` from a parent (nothing when there are none).
async fn untag_parent(
    aws: &AwsContext,
    type_name: &str,
    parent: &str,
    keys: Vec<String>,
    summary: &str,
) -> Result<(), ProviderError> {
    if keys.is_empty() {
        return Ok(());
    }
    parent_tagged(type_name, parent)
        .untag(aws, keys)
        .await
        .or_fail(summary)
}

/// What a read of a named object is given: `planned` with the id the name makes (`None` when
/// the name is not known).
pub(crate) fn named_lookup(type_name: &str, planned: &Value) -> Option<Value> {
    let id = match type_name {
        "aws_iam_role" | "aws_eks_cluster" | "aws_db_subnet_group" => get_str(planned, "name")?,
        "aws_db_instance" => get_str(planned, "identifier")?,
        "aws_eks_node_group" => format!(
            "{}:{}",
            get_str(planned, "cluster_name")?,
            get_str(planned, "node_group_name")?
        ),
        _ => return None,
    };
    let mut out = planned.clone();
    if let Value::Object(items) = &mut out {
        items.insert("id".into(), Value::from(id.as_str()));
    }
    Some(out)
}

/// The name shown in messages about a named object.
pub(crate) fn display_name(value: &Value) -> String {
    ["identifier", "node_group_name", "name", "id"]
        .iter()
        .find_map(|name| get_str(value, name))
        .unwrap_or_default()
}

/// Removes the intent tag from a recorded object (nothing when it carries none).
pub(crate) async fn remove_intent_tag(
    aws: &AwsContext,
    type_name: &str,
    value: &Value,
) -> Result<(), ProviderError> {
    let summary = format!("removing the tag `{INTENT_TAG}` from {type_name}");
    let id = get_str(value, "id").unwrap_or_default();
    let arn = get_str(value, "arn").unwrap_or_default();
    let name = get_str(value, "name").unwrap_or_else(|| id.clone());
    let object = match (recovery(type_name), type_name) {
        (Recovery::Ec2Tag(_), _) => Tagged::Ec2(&id),
        (_, "aws_iam_role") => Tagged::IamRole(&name),
        (_, "aws_eks_cluster" | "aws_eks_node_group") => Tagged::Eks(&arn),
        (Recovery::NaturalKey, _) => return unmark_parent(aws, type_name, value).await,
        (_, "aws_db_subnet_group" | "aws_db_instance") => Tagged::Rds(&arn),
        _ => return Ok(()),
    };
    object
        .untag(aws, vec![INTENT_TAG.to_string()])
        .await
        .or_fail(&summary)
}

/// Removes the intent tag from recorded objects a refresh found still carrying it (a run was
/// killed between recording a create and removing the tag).
pub(crate) async fn remove_left_tags(
    aws: &AwsContext,
    type_name: &str,
    reads: &[Result<Option<Attrs>, ProviderError>],
    current: &[Value],
) {
    for (read, value) in reads.iter().zip(current) {
        let Ok(Some(read)) = read else { continue };
        let tagged = read
            .get(REMOTE_TAGS)
            .is_some_and(|tags| string_map_of(tags).contains_key(INTENT_TAG));
        if tagged {
            let mut value = value.clone();
            if let Value::Object(items) = &mut value {
                for name in ["id", "arn", "name"] {
                    if let Some(found) = read.get(name) {
                        items.insert(name.into(), found.clone());
                    }
                }
            }
            if let Err(error) = remove_intent_tag(aws, type_name, &value).await {
                tracing::warn!(%error, "could not remove a create's intent tag");
            }
        }
    }
}

/// The error for an object that has the planned name but was not made by this create.
pub(crate) fn not_ours(label: &str, name: &str, token: &str) -> ProviderError {
    ProviderError::new(
        format!("creating {label} ({name}): an object with this name already exists"),
        format!(
            "{label} `{name}` exists but was not made by this configuration's interrupted run (it lacks the tag `{INTENT_TAG}` = `{token}` such a run gives it), so Strata does not take it over. Import it to manage it here (`strata import <address> {name}`), or delete it or choose another name."
        ),
    )
    .on_attribute(crate::value::AttrPath::attr(
        if label.contains("Instance") && !label.contains("Subnet") {
            "identifier"
        } else {
            "name"
        },
    ))
}

impl AwsProvider {
    /// Sends a create; where the call may have made the object although it failed (a reset,
    /// a timeout, a 5xx after the request was processed, or a name taken by the interrupted
    /// run itself), finds it by its tag instead of failing or making a second one. An EC2
    /// create that the SDK's retries sent twice leaves one object: the others are deleted.
    pub(super) async fn create_or_find(
        &self,
        resource: &dyn ResourceType,
        type_name: &str,
        block: &Block,
        aws: &AwsContext,
        operation: &Operation<'_>,
    ) -> Result<Attrs, ProviderError> {
        let named = recovery(type_name) == Recovery::Named && resource.taggable();
        if named {
            // The name is checked first: an emulator (or an API) that lets a second create
            // take an existing name must not make us adopt or overwrite someone else's object.
            if let Some(existing) = self
                .named_existing(resource, type_name, aws, operation)
                .await
            {
                return existing;
            }
        }
        if recovery(type_name) == Recovery::NaturalKey {
            mark_parent(aws, type_name, operation.planned, operation.token).await;
        }
        let result = resource.create(aws, operation).await;
        match (recovery(type_name), result) {
            (Recovery::Ec2Tag(prefix), Ok(created)) => {
                let id = created
                    .get("id")
                    .and_then(Value::as_str)
                    .unwrap_or_default();
                if let Ok(ids) = ec2_ids_with_token(aws, prefix, operation.token).await {
                    for extra in ids.iter().filter(|extra| extra.as_str() != id) {
                        self.delete_duplicate(resource, block, aws, extra, operation)
                            .await;
                    }
                }
                Ok(created)
            }
            (Recovery::Ec2Tag(prefix), Err(error)) => {
                match ec2_ids_with_token(aws, prefix, operation.token).await {
                    Ok(ids) if !ids.is_empty() => {
                        (operation.progress)(&format!(
                            "the create call failed ({error}) but made the object [id={}]",
                            ids[0]
                        ));
                        Ok(attrs([("id", Value::from(ids[0].as_str()))]))
                    }
                    _ => Err(error),
                }
            }
            (Recovery::Named, Err(error)) if named => self
                .named_existing_with_backoff(resource, type_name, aws, operation)
                .await
                .unwrap_or(Err(error)),
            (_, result) => result,
        }
    }

    /// The object with the planned name, when there is one: adopted when it carries this
    /// create's intent tag, a clear error when it lacks it.
    async fn named_existing(
        &self,
        resource: &dyn ResourceType,
        type_name: &str,
        aws: &AwsContext,
        operation: &Operation<'_>,
    ) -> Option<Result<Attrs, ProviderError>> {
        let lookup = named_lookup(type_name, operation.planned)?;
        let Ok(Some(mut read)) = resource.read(aws, &lookup).await else {
            return None;
        };
        let tags = read.get(REMOTE_TAGS).map(string_map_of).unwrap_or_default();
        let name = display_name(&lookup);
        if tags.get(INTENT_TAG).map(String::as_str) != Some(operation.token) {
            return Some(Err(not_ours(resource.label(), &name, operation.token)));
        }
        (operation.progress)(&format!(
            "Adopted the object an interrupted run created [id={name}]"
        ));
        read.remove(REMOTE_TAGS);
        read.entry("id".into())
            .or_insert_with(|| lookup.get_attr("id").cloned().unwrap_or(Value::Null));
        Some(Ok(read))
    }

    /// [`Self::named_existing`] after a failed create, asked again with growing pauses (0.25 s
    /// doubling, four times) while nothing is found: the create may have made the object
    /// although its response was lost, and the read that finds it may fail or lag behind the
    /// create (IAM and RDS reads are eventually consistent). A create that made nothing is
    /// reported a few seconds later than it failed.
    async fn named_existing_with_backoff(
        &self,
        resource: &dyn ResourceType,
        type_name: &str,
        aws: &AwsContext,
        operation: &Operation<'_>,
    ) -> Option<Result<Attrs, ProviderError>> {
        let mut pause = std::time::Duration::from_millis(250);
        for _ in 0..4 {
            if let Some(found) = self
                .named_existing(resource, type_name, aws, operation)
                .await
            {
                return Some(found);
            }
            tokio::time::sleep(pause).await;
            pause *= 2;
        }
        self.named_existing(resource, type_name, aws, operation)
            .await
    }

    /// Deletes an object that carries a create's intent tag but is not the one recorded (a
    /// second copy from a create sent twice).
    async fn delete_duplicate(
        &self,
        resource: &dyn ResourceType,
        block: &Block,
        aws: &AwsContext,
        id: &str,
        operation: &Operation<'_>,
    ) {
        let skeleton = Self::skeleton(block, &attrs([("id", Value::from(id))]));
        let Ok(Some(read)) = resource.read(aws, &skeleton).await else {
            return;
        };
        let value = self.finish_state(block, resource.taggable(), &skeleton, read);
        let delete = Operation {
            prior: Some(&value),
            planned: &value,
            timeout: operation.timeout,
            token: operation.token,
            progress: operation.progress,
        };
        (operation.progress)(&format!(
            "deleting a second copy [id={id}] of the same create"
        ));
        if let Err(error) = resource.delete(aws, &delete).await {
            tracing::warn!(%id, %error, "could not delete a duplicate object");
        }
    }

    /// The object that is its own key an interrupted create made, by the mark it left on its
    /// parent before the create was sent; no mark, no create.
    async fn find_keyed(
        &self,
        resource: &dyn ResourceType,
        block: &Block,
        type_name: &str,
        token: &str,
        planned: &Value,
    ) -> Result<FoundCreate, ProviderError> {
        if !matches!(
            type_name,
            "aws_iam_role_policy_attachment" | "aws_route_table_association"
        ) {
            // A security group rule goes with its group; sent again, it is found.
            return Ok(FoundCreate::Unsupported);
        }
        let aws = self.context()?;
        let Some(import_id) = parent_marked(aws, type_name, token).await? else {
            return Ok(FoundCreate::NotFound);
        };
        let skeleton = Self::planned_skeleton(block, planned, &resource.import_attrs(&import_id)?);
        let found = match resource.read(aws, &skeleton).await? {
            Some(read) => self.finish_state(block, false, &skeleton, read),
            None => {
                // The mark was left, the create never made it: the mark goes too.
                let _ = unmark_parent(aws, type_name, &skeleton).await;
                return Ok(FoundCreate::NotFound);
            }
        };
        Ok(FoundCreate::Found(ObjectState::new(found)))
    }

    /// The named object an interrupted create made, by listing the type's objects for the
    /// intent's tag (none: the create made nothing, as for EC2 objects).
    async fn find_named(
        &self,
        resource: &dyn ResourceType,
        block: &Block,
        type_name: &str,
        token: &str,
        planned: &Value,
    ) -> Result<FoundCreate, ProviderError> {
        let aws = self.context()?;
        let Some(seed) = named_with_token(aws, type_name, token).await? else {
            return Ok(FoundCreate::NotFound);
        };
        let skeleton = Self::planned_skeleton(block, planned, &seed);
        Ok(match resource.read(aws, &skeleton).await? {
            Some(read) => FoundCreate::Found(ObjectState::new(self.finish_state(
                block,
                resource.taggable(),
                &skeleton,
                read,
            ))),
            None => FoundCreate::NotFound,
        })
    }

    /// The object an interrupted create of `type_name` with `token` made: EC2 objects by
    /// their tag, named ones by listing them; objects that are their own key are found when
    /// the create is sent again.
    pub(super) async fn find_by_token(
        &self,
        type_name: &str,
        token: &str,
        planned: &Value,
    ) -> Result<FoundCreate, ProviderError> {
        let (resource, block) = self.resource(type_name)?;
        let aws = self.context()?;
        let prefix = match recovery(type_name) {
            Recovery::Ec2Tag(prefix) => prefix,
            Recovery::Named => {
                return self
                    .find_named(resource.as_ref(), block, type_name, token, planned)
                    .await
            }
            Recovery::NaturalKey => {
                return self
                    .find_keyed(resource.as_ref(), block, type_name, token, planned)
                    .await
            }
        };
        let progress = crate::providers::no_progress();
        let operation = Operation {
            prior: None,
            planned: &Value::Null,
            timeout: resource.default_timeout(OperationKind::Delete),
            token,
            progress: &progress,
        };
        let mut found = None;
        for id in ec2_ids_with_token(aws, prefix, token).await? {
            if found.is_some() {
                self.delete_duplicate(resource.as_ref(), block, aws, &id, &operation)
                    .await;
                continue;
            }
            let seed = attrs([("id", Value::from(id.as_str()))]);
            let skeleton = Self::planned_skeleton(block, planned, &seed);
            if let Some(read) = resource.read(aws, &skeleton).await? {
                let value = self.finish_state(block, resource.taggable(), &skeleton, read);
                found = Some(ObjectState::new(value));
            }
        }
        Ok(found.map_or(FoundCreate::NotFound, FoundCreate::Found))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_type_has_a_way_back() {
        assert_eq!(recovery("aws_vpc"), Recovery::Ec2Tag("vpc-"));
        assert_eq!(recovery("aws_db_instance"), Recovery::Named);
        assert_eq!(
            recovery("aws_route_table_association"),
            Recovery::NaturalKey
        );
    }

    #[test]
    fn the_tag_joins_tags_all() {
        let planned = Value::object([(
            "tags_all",
            Value::Map([("Name".to_string(), Value::from("x"))].into()),
        )]);
        let tagged = with_intent_tag(&planned, "tok");
        let tags = super::super::support::get_string_map(&tagged, "tags_all");
        assert_eq!(tags.get(INTENT_TAG).map(String::as_str), Some("tok"));
        assert_eq!(tags.get("Name").map(String::as_str), Some("x"));
        let lookup = named_lookup(
            "aws_eks_node_group",
            &Value::object([
                ("cluster_name", Value::from("c")),
                ("node_group_name", Value::from("n")),
            ]),
        )
        .unwrap();
        assert_eq!(get_str(&lookup, "id").as_deref(), Some("c:n"));
    }
}
