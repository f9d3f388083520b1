//! `aws_eks_node_group`, as `internal/service/eks/node_group.go` of the Terraform AWS provider
//! (v6): create waits for `ACTIVE`; `scaling_config`, `labels`, `taint`, `update_config`,
//! `node_repair_config` (UpdateNodegroupConfig), `version`/`release_version`/`launch_template`
//! version (UpdateNodegroupVersion) and tags change in place. Everything else replaces.

use super::{computed_list_block, object_type, opt_bool, wait_update};
use crate::providers::aws::support::{
    attrs, client_token, computed_strings, get_block, get_blocks, get_bool, get_i64, get_str,
    get_string_map, get_strings, list_block, name_or_unique, non_empty, opt_str, str_list, str_map,
    str_set, timeouts_block, user_tags, wait_until_gone, with_name_and_prefix, with_tags,
    ApiFailure, Attrs, FailureExt, NotFoundExt, Poll, SdkResultExt,
};
use crate::providers::aws::tags::{update_tags, Tagged};
use crate::providers::aws::{AwsContext, Operation, OperationKind, ResourceType, REMOTE_TAGS};
use crate::providers::schema::{Attribute, Block, NestedBlock, Nesting};
use crate::providers::ProviderError;
use crate::value::{AttrPath, Type, Value};
use async_trait::async_trait;
use aws_sdk_eks::types::{
    Nodegroup, NodegroupScalingConfig, NodegroupUpdateConfig, RemoteAccessConfig, Taint,
    TaintEffect, UpdateLabelsPayload, UpdateTaintsPayload,
};
use std::collections::BTreeMap;
use std::time::Duration;

const NODE_GROUP_LABEL: &str = "EKS Node Group";

/// `aws_eks_node_group`: a managed node group. Its `id` is `cluster_name:node_group_name`.
pub struct NodeGroup;

fn split_node_group_id(id: &str) -> Option<(&str, &str)> {
    id.split_once(':')
        .filter(|(c, n)| !c.is_empty() && !n.is_empty())
}

async fn describe_node_group(
    aws: &AwsContext,
    cluster: &str,
    name: &str,
) -> Result<Option<Nodegroup>, ApiFailure> {
    let call = aws.eks.describe_nodegroup().cluster_name(cluster);
    let out = call.nodegroup_name(name).send().await.api().found()?;
    Ok(out.and_then(|out| out.nodegroup))
}

async fn wait_node_group(
    aws: &AwsContext,
    operation: &Operation<'_>,
    cluster: &str,
    name: &str,
) -> Result<(), ProviderError> {
    operation
        .wait_for(
            &format!("{NODE_GROUP_LABEL} ({cluster}:{name})"),
            "ACTIVE",
            || async {
                match describe_node_group(aws, cluster, name).await {
                    Ok(Some(group)) => {
                        let status = group
                            .status()
                            .map(|s| s.as_str().to_string())
                            .unwrap_or_default();
                        match status.as_str() {
                            "ACTIVE" => Ok(Poll::Done(())),
                            "CREATE_FAILED" | "DEGRADED" | "DELETE_FAILED" => {
                                let issues: Vec<String> = group
                                    .health()
                                    .map(|h| {
                                        h.issues()
                                            .iter()
                                            .map(|i| {
                                                format!(
                                                    "{}: {}",
                                                    i.code()
                                                        .map(|c| c.as_str())
                                                        .unwrap_or_default(),
                                                    i.message().unwrap_or_default()
                                                )
                                            })
                                            .collect()
                                    })
                                    .unwrap_or_default();
                                Err(ProviderError::new(
                                    format!("{NODE_GROUP_LABEL} ({cluster}:{name}) is {status}"),
                                    issues.join("; "),
                                ))
                            }
                            other => Ok(Poll::Pending(other.to_string())),
                        }
                    }
                    Ok(None) => Ok(Poll::Pending("not yet visible".into())),
                    Err(failure) => Err(failure
                        .into_error(format!("waiting for {NODE_GROUP_LABEL} ({cluster}:{name})"))),
                }
            },
        )
        .await
}

/// Waits for a node group update to be `Successful`, then for the group to be `ACTIVE`.
async fn finish_node_group_update(
    aws: &AwsContext,
    operation: &Operation<'_>,
    cluster: &str,
    name: &str,
    what: &str,
    update: Option<&aws_sdk_eks::types::Update>,
) -> Result<(), ProviderError> {
    wait_update(
        aws,
        operation,
        cluster,
        Some(name),
        update.and_then(|u| u.id()),
        &format!("{NODE_GROUP_LABEL} ({cluster}:{name}) {what} update"),
    )
    .await?;
    wait_node_group(aws, operation, cluster, name).await
}

fn scaling(planned: &Value) -> Option<NodegroupScalingConfig> {
    let scaling = get_block(planned, "scaling_config")?;
    let int = |name: &str| get_i64(scaling, name).and_then(|n| i32::try_from(n).ok());
    Some(
        NodegroupScalingConfig::builder()
            .set_desired_size(int("desired_size"))
            .set_min_size(int("min_size"))
            .set_max_size(int("max_size"))
            .build(),
    )
}

fn update_config(planned: &Value) -> Option<NodegroupUpdateConfig> {
    let config = get_block(planned, "update_config")?;
    let int = |name: &str| {
        get_i64(config, name)
            .and_then(|n| i32::try_from(n).ok())
            .filter(|n| *n > 0)
    };
    Some(
        NodegroupUpdateConfig::builder()
            .set_max_unavailable(int("max_unavailable"))
            .set_max_unavailable_percentage(int("max_unavailable_percentage"))
            .build(),
    )
}

fn node_repair_config(planned: &Value) -> Option<aws_sdk_eks::types::NodeRepairConfig> {
    get_block(planned, "node_repair_config").map(|config| {
        aws_sdk_eks::types::NodeRepairConfig::builder()
            .set_enabled(get_bool(config, "enabled"))
            .build()
    })
}

fn taints(value: &Value) -> Vec<Taint> {
    get_blocks(value, "taint")
        .into_iter()
        .map(|t| {
            Taint::builder()
                .set_key(get_str(t, "key"))
                .set_value(get_str(t, "value"))
                .set_effect(get_str(t, "effect").map(|e| TaintEffect::from(e.as_str())))
                .build()
        })
        .collect()
}

#[async_trait]
impl ResourceType for NodeGroup {
    fn label(&self) -> &'static str {
        NODE_GROUP_LABEL
    }

    fn schema(&self) -> Block {
        let scaling = Block::new()
            .attr("desired_size", Attribute::required(Type::Number))
            .attr("min_size", Attribute::required(Type::Number))
            .attr("max_size", Attribute::required(Type::Number));
        let update = Block::new()
            .attr("max_unavailable", Attribute::optional(Type::Number))
            .attr(
                "max_unavailable_percentage",
                Attribute::optional(Type::Number),
            );
        let remote = Block::new()
            .attr("ec2_ssh_key", Attribute::optional(Type::String))
            .attr(
                "source_security_group_ids",
                Attribute::optional(Type::set(Type::String)),
            );
        let taint = Block::new()
            .attr("key", Attribute::required(Type::String))
            .attr("value", Attribute::optional(Type::String))
            .attr("effect", Attribute::required(Type::String));
        let launch_template = Block::new()
            .attr("id", Attribute::optional_computed(Type::String).force_new())
            .attr(
                "name",
                Attribute::optional_computed(Type::String).force_new(),
            )
            .attr("version", Attribute::required(Type::String));
        let block = computed_strings(&["id", "arn", "status"])
            .attr(
                "cluster_name",
                Attribute::required(Type::String).force_new(),
            )
            .attr(
                "node_role_arn",
                Attribute::required(Type::String).force_new(),
            )
            .attr(
                "subnet_ids",
                Attribute::required(Type::set(Type::String)).force_new(),
            )
            .attr(
                "ami_type",
                Attribute::optional_computed(Type::String).force_new(),
            )
            .attr(
                "capacity_type",
                Attribute::optional_computed(Type::String).force_new(),
            )
            .attr(
                "disk_size",
                Attribute::optional_computed(Type::Number).force_new(),
            )
            .attr(
                "instance_types",
                Attribute::optional_computed(Type::list(Type::String)).force_new(),
            )
            .attr("labels", Attribute::optional(Type::map(Type::String)))
            .attr(
                "release_version",
                Attribute::optional_computed(Type::String),
            )
            .attr("version", Attribute::optional_computed(Type::String))
            .attr("force_update_version", Attribute::optional(Type::Bool))
            .attr(
                "resources",
                Attribute::computed(Type::list(object_type(&[
                    (
                        "autoscaling_groups",
                        Type::list(object_type(&[("name", Type::String)])),
                    ),
                    ("remote_access_security_group_id", Type::String),
                ]))),
            )
            .nested("scaling_config", list_block(scaling, 1, 1))
            .nested("update_config", computed_list_block(update, 1))
            .nested(
                "node_repair_config",
                computed_list_block(
                    Block::new().attr(
                        "enabled",
                        Attribute::optional(Type::Bool).with_default(false),
                    ),
                    1,
                ),
            )
            .nested(
                "remote_access",
                NestedBlock {
                    force_new: true,
                    ..list_block(remote, 0, 1)
                },
            )
            .nested("launch_template", list_block(launch_template, 0, 1))
            .nested(
                "taint",
                NestedBlock {
                    max_items: 50,
                    ..NestedBlock {
                        nesting: Nesting::Set,
                        block: taint,
                        min_items: 0,
                        max_items: 0,
                        force_new: false,
                        computed: false,
                        attribute_syntax: false,
                    }
                },
            );
        let block = with_name_and_prefix(block, "node_group_name");
        timeouts_block(with_tags(block), &["create", "update", "delete"])
    }

    fn default_timeout(&self, _operation: OperationKind) -> Duration {
        Duration::from_secs(60 * 60)
    }

    async fn create(
        &self,
        aws: &AwsContext,
        operation: &Operation<'_>,
    ) -> Result<Attrs, ProviderError> {
        let planned = operation.planned;
        let cluster = get_str(planned, "cluster_name").unwrap_or_default();
        let name = name_or_unique(planned, "node_group_name");
        let remote = get_block(planned, "remote_access").map(|r| {
            RemoteAccessConfig::builder()
                .set_ec2_ssh_key(get_str(r, "ec2_ssh_key"))
                .set_source_security_groups(
                    Some(get_strings(r, "source_security_group_ids")).filter(|s| !s.is_empty()),
                )
                .build()
        });
        let launch_template = get_block(planned, "launch_template").map(|t| {
            aws_sdk_eks::types::LaunchTemplateSpecification::builder()
                .set_id(get_str(t, "id"))
                .set_name(get_str(t, "name"))
                .set_version(get_str(t, "version"))
                .build()
        });
        let labels = get_string_map(planned, "labels");
        let tags = get_string_map(planned, "tags_all");
        let instance_types = get_strings(planned, "instance_types");
        let taints = taints(planned);
        aws.eks
            .create_nodegroup()
            .cluster_name(&cluster)
            .nodegroup_name(&name)
            .client_request_token(client_token(operation.token))
            .set_node_role(get_str(planned, "node_role_arn"))
            .set_subnets(Some(get_strings(planned, "subnet_ids")))
            .set_scaling_config(scaling(planned))
            .set_update_config(update_config(planned))
            .set_node_repair_config(node_repair_config(planned))
            .set_ami_type(
                get_str(planned, "ami_type")
                    .map(|a| aws_sdk_eks::types::AmiTypes::from(a.as_str())),
            )
            .set_capacity_type(
                get_str(planned, "capacity_type")
                    .map(|c| aws_sdk_eks::types::CapacityTypes::from(c.as_str())),
            )
            .set_disk_size(get_i64(planned, "disk_size").and_then(|n| i32::try_from(n).ok()))
            .set_instance_types((!instance_types.is_empty()).then_some(instance_types))
            .set_labels((!labels.is_empty()).then(|| labels.into_iter().collect()))
            .set_taints((!taints.is_empty()).then_some(taints))
            .set_release_version(get_str(planned, "release_version"))
            .set_version(get_str(planned, "version"))
            .set_remote_access(remote)
            .set_launch_template(launch_template)
            .set_tags((!tags.is_empty()).then(|| tags.into_iter().collect()))
            .send()
            .await
            .api()
            .map_err(|failure| {
                let lower = failure.message.to_lowercase();
                let attribute = if lower.contains("scaling") || lower.contains("size") {
                    Some("scaling_config")
                } else if lower.contains("subnet") {
                    Some("subnet_ids")
                } else if lower.contains("cluster") && failure.is_not_found() {
                    Some("cluster_name")
                } else if lower.contains("instance type") {
                    Some("instance_types")
                } else {
                    None
                };
                let error =
                    failure.into_error(format!("creating {NODE_GROUP_LABEL} ({cluster}:{name})"));
                match attribute {
                    Some(attribute) => error.on_attribute(AttrPath::attr(attribute)),
                    None => error,
                }
            })?;
        Ok(attrs([
            ("id", Value::String(format!("{cluster}:{name}"))),
            ("node_group_name", Value::String(name)),
        ]))
    }

    async fn wait_created(
        &self,
        aws: &AwsContext,
        operation: &Operation<'_>,
        created: &Value,
    ) -> Result<(), ProviderError> {
        let id = get_str(created, "id").unwrap_or_default();
        let (cluster, name) = split_node_group_id(&id).unwrap_or_default();
        wait_node_group(aws, operation, cluster, name).await
    }

    async fn read(
        &self,
        aws: &AwsContext,
        current: &Value,
    ) -> Result<Option<Attrs>, ProviderError> {
        let id = get_str(current, "id").unwrap_or_default();
        let Some((cluster, name)) = split_node_group_id(&id) else {
            return Ok(None);
        };
        let Some(group) = describe_node_group(aws, cluster, name)
            .await
            .or_fail(&format!("reading {NODE_GROUP_LABEL} ({id})"))?
        else {
            return Ok(None);
        };
        let scaling = group
            .scaling_config()
            .map(|s| {
                Value::List(vec![Value::object([
                    (
                        "desired_size",
                        Value::from(i64::from(s.desired_size().unwrap_or(0))),
                    ),
                    (
                        "min_size",
                        Value::from(i64::from(s.min_size().unwrap_or(0))),
                    ),
                    (
                        "max_size",
                        Value::from(i64::from(s.max_size().unwrap_or(0))),
                    ),
                ])])
            })
            .unwrap_or(Value::List(Vec::new()));
        let update = group
            .update_config()
            .map(|u| {
                Value::List(vec![Value::object([
                    (
                        "max_unavailable",
                        u.max_unavailable()
                            .map(|n| Value::from(i64::from(n)))
                            .unwrap_or(Value::Null),
                    ),
                    (
                        "max_unavailable_percentage",
                        u.max_unavailable_percentage()
                            .map(|n| Value::from(i64::from(n)))
                            .unwrap_or(Value::Null),
                    ),
                ])])
            })
            .unwrap_or(Value::List(Vec::new()));
        let repair = Value::List(
            group
                .node_repair_config()
                .map(|r| Value::object([("enabled", opt_bool(r.enabled()))]))
                .into_iter()
                .collect(),
        );
        let remote = group
            .remote_access()
            .map(|r| {
                Value::List(vec![Value::object([
                    ("ec2_ssh_key", non_empty(r.ec2_ssh_key())),
                    (
                        "source_security_group_ids",
                        str_set(r.source_security_groups().to_vec()),
                    ),
                ])])
            })
            .unwrap_or(Value::List(Vec::new()));
        let launch_template = group
            .launch_template()
            .map(|t| {
                Value::List(vec![Value::object([
                    ("id", opt_str(t.id())),
                    ("name", opt_str(t.name())),
                    ("version", opt_str(t.version())),
                ])])
            })
            .unwrap_or(Value::List(Vec::new()));
        let taints: Vec<Value> = group
            .taints()
            .iter()
            .map(|t| {
                Value::object([
                    ("key", opt_str(t.key())),
                    ("value", non_empty(t.value())),
                    ("effect", opt_str(t.effect().map(|e| e.as_str()))),
                ])
            })
            .collect();
        let resources = group
            .resources()
            .map(|r| {
                Value::List(vec![Value::object([
                    (
                        "autoscaling_groups",
                        Value::List(
                            r.auto_scaling_groups()
                                .iter()
                                .map(|g| Value::object([("name", opt_str(g.name()))]))
                                .collect(),
                        ),
                    ),
                    (
                        "remote_access_security_group_id",
                        non_empty(r.remote_access_security_group()),
                    ),
                ])])
            })
            .unwrap_or(Value::List(Vec::new()));
        let labels: BTreeMap<String, String> = group
            .labels()
            .cloned()
            .unwrap_or_default()
            .into_iter()
            .collect();
        let tags = user_tags(group.tags().cloned().unwrap_or_default());
        Ok(Some(attrs([
            ("id", Value::String(id.clone())),
            ("arn", opt_str(group.nodegroup_arn())),
            ("status", opt_str(group.status().map(|s| s.as_str()))),
            ("cluster_name", opt_str(group.cluster_name())),
            ("node_group_name", opt_str(group.nodegroup_name())),
            ("node_role_arn", opt_str(group.node_role())),
            ("subnet_ids", str_set(group.subnets().to_vec())),
            ("ami_type", opt_str(group.ami_type().map(|a| a.as_str()))),
            (
                "capacity_type",
                opt_str(group.capacity_type().map(|c| c.as_str())),
            ),
            (
                "disk_size",
                group
                    .disk_size()
                    .map(|n| Value::from(i64::from(n)))
                    .unwrap_or(Value::Null),
            ),
            ("instance_types", str_list(group.instance_types().to_vec())),
            (
                "labels",
                if labels.is_empty() {
                    Value::Null
                } else {
                    str_map(&labels)
                },
            ),
            ("release_version", opt_str(group.release_version())),
            ("version", opt_str(group.version())),
            ("resources", resources),
            ("scaling_config", scaling),
            ("update_config", update),
            ("node_repair_config", repair),
            ("remote_access", remote),
            ("launch_template", launch_template),
            ("taint", Value::set(taints)),
            (REMOTE_TAGS, str_map(&tags)),
        ])))
    }

    async fn update(
        &self,
        aws: &AwsContext,
        operation: &Operation<'_>,
    ) -> Result<Attrs, ProviderError> {
        let id = operation.id();
        let (cluster, name) = split_node_group_id(&id).unwrap_or_default();
        let planned = operation.planned;
        let prior = operation.prior.unwrap_or(&Value::Null);
        let summary = format!("updating {NODE_GROUP_LABEL} ({id})");
        if operation.changed("version")
            || operation.changed("release_version")
            || operation.changed("launch_template")
        {
            // A new launch template version rolls the nodes like a version update does.
            let launch_template = get_block(planned, "launch_template")
                .filter(|_| operation.changed("launch_template"))
                .map(|t| {
                    aws_sdk_eks::types::LaunchTemplateSpecification::builder()
                        .set_id(get_str(t, "id"))
                        .set_name(get_str(t, "name").filter(|_| get_str(t, "id").is_none()))
                        .set_version(get_str(t, "version"))
                        .build()
                });
            let out = aws
                .eks
                .update_nodegroup_version()
                .cluster_name(cluster)
                .nodegroup_name(name)
                .set_version(get_str(planned, "version").filter(|_| operation.changed("version")))
                .set_release_version(
                    get_str(planned, "release_version")
                        .filter(|_| operation.changed("release_version")),
                )
                .set_force(get_bool(planned, "force_update_version"))
                .set_launch_template(launch_template)
                .send()
                .await
                .api()
                .or_fail_on(&summary, &["InvalidParameterException"], "version")?;
            finish_node_group_update(aws, operation, cluster, name, "version", out.update())
                .await?;
        }
        let config_changed = [
            "scaling_config",
            "update_config",
            "node_repair_config",
            "labels",
            "taint",
        ]
        .iter()
        .any(|k| operation.changed(k));
        if config_changed {
            let mut request = aws
                .eks
                .update_nodegroup_config()
                .cluster_name(cluster)
                .nodegroup_name(name);
            if operation.changed("scaling_config") {
                request = request.set_scaling_config(scaling(planned));
            }
            if operation.changed("update_config") {
                request = request.set_update_config(update_config(planned));
            }
            if operation.changed("node_repair_config") {
                request = request.set_node_repair_config(node_repair_config(planned));
            }
            if operation.changed("labels") {
                let before = get_string_map(prior, "labels");
                let after = get_string_map(planned, "labels");
                let add: std::collections::HashMap<String, String> = after
                    .iter()
                    .filter(|(k, v)| before.get(*k) != Some(v))
                    .map(|(k, v)| (k.clone(), v.clone()))
                    .collect();
                let remove: Vec<String> = before
                    .keys()
                    .filter(|k| !after.contains_key(*k))
                    .cloned()
                    .collect();
                request = request.labels(
                    UpdateLabelsPayload::builder()
                        .set_add_or_update_labels((!add.is_empty()).then_some(add))
                        .set_remove_labels((!remove.is_empty()).then_some(remove))
                        .build(),
                );
            }
            if operation.changed("taint") {
                let before = taints(prior);
                let after = taints(planned);
                let add: Vec<Taint> = after
                    .iter()
                    .filter(|t| !before.contains(t))
                    .cloned()
                    .collect();
                let remove: Vec<Taint> = before
                    .iter()
                    .filter(|t| !after.iter().any(|a| a.key() == t.key()))
                    .cloned()
                    .collect();
                request = request.taints(
                    UpdateTaintsPayload::builder()
                        .set_add_or_update_taints((!add.is_empty()).then_some(add))
                        .set_remove_taints((!remove.is_empty()).then_some(remove))
                        .build(),
                );
            }
            let out = request.send().await.api().map_err(|failure| {
                let error = failure.into_error(&summary);
                if operation.changed("scaling_config") {
                    error.on_attribute(AttrPath::attr("scaling_config"))
                } else {
                    error
                }
            })?;
            finish_node_group_update(aws, operation, cluster, name, "config", out.update()).await?;
        }
        let arn = get_str(prior, "arn").unwrap_or_default();
        update_tags(aws, Tagged::Eks(&arn), operation, &summary).await?;
        Ok(Attrs::new())
    }

    async fn delete(
        &self,
        aws: &AwsContext,
        operation: &Operation<'_>,
    ) -> Result<(), ProviderError> {
        let id = operation.id();
        let (cluster, name) = split_node_group_id(&id).unwrap_or_default();
        match aws
            .eks
            .delete_nodegroup()
            .cluster_name(cluster)
            .nodegroup_name(name)
            .send()
            .await
            .api()
        {
            Ok(_) => {}
            Err(failure) if failure.is_not_found() => return Ok(()),
            Err(failure) => {
                return Err(failure.into_error(format!("deleting {NODE_GROUP_LABEL} ({id})")))
            }
        }
        wait_until_gone(
            &format!("{NODE_GROUP_LABEL} ({id})"),
            operation,
            || describe_node_group(aws, cluster, name),
            |group| {
                group
                    .status()
                    .map(|s| s.as_str().to_string())
                    .unwrap_or_default()
            },
        )
        .await
    }

    /// Import ids are `cluster_name:node_group_name`.
    fn import_attrs(&self, id: &str) -> Result<Attrs, ProviderError> {
        match split_node_group_id(id) {
            Some(_) => Ok(attrs([("id", Value::from(id))])),
            None => Err(ProviderError::new(
                "invalid import id for aws_eks_node_group",
                format!("`{id}`: expected CLUSTER_NAME:NODE_GROUP_NAME"),
            )),
        }
    }
}
