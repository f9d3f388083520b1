//! `aws_eks_cluster` (and, in the paragraphs below, what [`super::node_group`] does too): both asynchronous (create waits for `ACTIVE`,
//! updates for DescribeUpdate to say `Successful`, delete for the object to be gone), polling
//! with backoff within the `timeouts` limits and reporting the status while waiting. Creates
//! carry the engine's idempotency token as `clientRequestToken`. Schemas follow the Terraform AWS
//! provider's `internal/service/eks/cluster.go` and `node_group.go` (v6).
//!
//! In place, each its own update as EKS takes one kind of change at a time: the cluster's
//! `version` (UpdateClusterVersion; AWS moves one minor version per update and says so),
//! `access_config.authentication_mode`, adding `encryption_config` (AssociateEncryptionConfig),
//! log types, `upgrade_policy`, endpoint access and public CIDRs, `subnet_ids`,
//! `security_group_ids`, `zonal_shift_config` and tags. Removing `encryption_config` replaces the
//! cluster (encryption cannot be switched off); changing its key is refused with an explanation
//! (EKS has no API for it; the provider plans an update that does nothing). The node group's
//! `scaling_config`, `labels`, `taint`, `update_config`, `node_repair_config`
//! (UpdateNodegroupConfig), `version`/`release_version`/`launch_template` version
//! (UpdateNodegroupVersion) and tags change in place. Everything else replaces.
//!
//! Not supported yet (left out of the schema, so a configuration using them is refused rather
//! than ignored): the cluster's `compute_config`, `storage_config`, `outpost_config`,
//! `remote_network_config` and `kubernetes_network_config.elastic_load_balancing` (EKS Auto
//! Mode, Outposts and hybrid nodes).

use super::{computed_list_block, object_type, opt_bool, wait_update};
use crate::providers::aws::support::{
    attrs, client_token, computed_strings, get_block, get_blocks, get_bool, get_str,
    get_string_map, get_strings, list_block, name_of, non_empty, opt_str, rfc3339_seconds, str_map,
    str_set, timeouts_block, user_tags, wait_until_gone, with_tags, ApiFailure, Attrs, FailureExt,
    NotFoundExt, Poll, SdkResultExt,
};
use crate::providers::aws::tags::{update_tags, Tagged};
use crate::providers::aws::{AwsContext, Operation, OperationKind, ResourceType, REMOTE_TAGS};
use crate::providers::schema::{Attribute, Block};
use crate::providers::ProviderError;
use crate::value::{AttrPath, Type, Value};
use async_trait::async_trait;
use aws_sdk_eks::types::{Cluster as SdkCluster, LogSetup, LogType, Logging, VpcConfigRequest};
use std::time::Duration;

pub struct Cluster;

const CLUSTER_LABEL: &str = "EKS Cluster";

const LOG_TYPES: &[&str] = &[
    "api",
    "audit",
    "authenticator",
    "controllerManager",
    "scheduler",
];

fn logging(enabled: &[String]) -> Logging {
    let (on, off): (Vec<&str>, Vec<&str>) = LOG_TYPES
        .iter()
        .partition(|t| enabled.iter().any(|e| e == *t));
    let setup = |types: Vec<&str>, enabled: bool| {
        LogSetup::builder()
            .set_types(Some(types.into_iter().map(LogType::from).collect()))
            .enabled(enabled)
            .build()
    };
    let mut setups = Vec::new();
    if !on.is_empty() {
        setups.push(setup(on, true));
    }
    if !off.is_empty() {
        setups.push(setup(off, false));
    }
    Logging::builder().set_cluster_logging(Some(setups)).build()
}

async fn describe_cluster(aws: &AwsContext, name: &str) -> Result<Option<SdkCluster>, ApiFailure> {
    let out = aws.eks.describe_cluster().name(name).send().await.api();
    Ok(out.found()?.and_then(|out| out.cluster))
}

#[async_trait]
impl ResourceType for Cluster {
    fn label(&self) -> &'static str {
        CLUSTER_LABEL
    }

    fn schema(&self) -> Block {
        // Subnets and security groups change in place (UpdateClusterConfig), one kind of
        // change per call, as EKS allows since 2023 and the provider does since 5.x.
        let vpc_config = computed_strings(&["cluster_security_group_id", "vpc_id"])
            .attr("subnet_ids", Attribute::required(Type::set(Type::String)))
            .attr(
                "security_group_ids",
                Attribute::optional(Type::set(Type::String)),
            )
            .attr(
                "endpoint_private_access",
                Attribute::optional(Type::Bool).with_default(false),
            )
            .attr(
                "endpoint_public_access",
                Attribute::optional(Type::Bool).with_default(true),
            )
            .attr(
                "public_access_cidrs",
                Attribute::optional_computed(Type::set(Type::String)),
            );
        let network = Block::new()
            .attr(
                "service_ipv4_cidr",
                Attribute::optional_computed(Type::String).force_new(),
            )
            .attr(
                "ip_family",
                Attribute::optional_computed(Type::String).force_new(),
            )
            .attr("service_ipv6_cidr", Attribute::computed(Type::String));
        let access = Block::new()
            .attr(
                "authentication_mode",
                Attribute::optional_computed(Type::String),
            )
            .attr(
                "bootstrap_cluster_creator_admin_permissions",
                Attribute::optional(Type::Bool)
                    .with_default(true)
                    .force_new(),
            );
        let encryption = Block::new()
            .attr("resources", Attribute::required(Type::set(Type::String)))
            .nested(
                "provider",
                list_block(
                    Block::new().attr("key_arn", Attribute::required(Type::String)),
                    1,
                    1,
                ),
            );
        let upgrade_policy =
            Block::new().attr("support_type", Attribute::optional_computed(Type::String));
        let zonal_shift = Block::new().attr("enabled", Attribute::optional(Type::Bool));
        let block = computed_strings(&[
            "id",
            "arn",
            "cluster_id",
            "endpoint",
            "platform_version",
            "status",
            "created_at",
        ])
        .attr("name", Attribute::required(Type::String).force_new())
        .attr("role_arn", Attribute::required(Type::String).force_new())
        .attr("version", Attribute::optional_computed(Type::String))
        .attr(
            "enabled_cluster_log_types",
            Attribute::optional(Type::set(Type::String)),
        )
        .attr(
            "bootstrap_self_managed_addons",
            Attribute::optional(Type::Bool)
                .with_default(true)
                .force_new(),
        )
        .attr(
            "certificate_authority",
            Attribute::computed(Type::list(object_type(&[("data", Type::String)]))),
        )
        .attr(
            "identity",
            Attribute::computed(Type::list(object_type(&[(
                "oidc",
                Type::list(object_type(&[("issuer", Type::String)])),
            )]))),
        )
        .nested("vpc_config", list_block(vpc_config, 1, 1))
        .nested("kubernetes_network_config", computed_list_block(network, 1))
        .nested("access_config", computed_list_block(access, 1))
        .nested("encryption_config", list_block(encryption, 0, 1))
        .nested("upgrade_policy", computed_list_block(upgrade_policy, 1))
        .nested("zonal_shift_config", list_block(zonal_shift, 0, 1));
        timeouts_block(with_tags(block), &["create", "update", "delete"])
    }

    fn default_timeout(&self, operation: OperationKind) -> Duration {
        match operation {
            OperationKind::Create => Duration::from_secs(30 * 60),
            OperationKind::Update => Duration::from_secs(60 * 60),
            OperationKind::Delete => Duration::from_secs(15 * 60),
        }
    }

    async fn create(
        &self,
        aws: &AwsContext,
        operation: &Operation<'_>,
    ) -> Result<Attrs, ProviderError> {
        let planned = operation.planned;
        let name = get_str(planned, "name").unwrap_or_default();
        let vpc = get_block(planned, "vpc_config")
            .cloned()
            .unwrap_or(Value::Null);
        let vpc_config = VpcConfigRequest::builder()
            .set_subnet_ids(Some(get_strings(&vpc, "subnet_ids")))
            .set_security_group_ids(Some(get_strings(&vpc, "security_group_ids")))
            .set_endpoint_private_access(get_bool(&vpc, "endpoint_private_access"))
            .set_endpoint_public_access(get_bool(&vpc, "endpoint_public_access"))
            .set_public_access_cidrs(
                Some(get_strings(&vpc, "public_access_cidrs")).filter(|c| !c.is_empty()),
            )
            .build();
        let network = get_block(planned, "kubernetes_network_config").map(|n| {
            aws_sdk_eks::types::KubernetesNetworkConfigRequest::builder()
                .set_service_ipv4_cidr(get_str(n, "service_ipv4_cidr"))
                .set_ip_family(
                    get_str(n, "ip_family").map(|f| aws_sdk_eks::types::IpFamily::from(f.as_str())),
                )
                .build()
        });
        let access = get_block(planned, "access_config").map(|a| {
            aws_sdk_eks::types::CreateAccessConfigRequest::builder()
                .set_authentication_mode(
                    get_str(a, "authentication_mode")
                        .map(|m| aws_sdk_eks::types::AuthenticationMode::from(m.as_str())),
                )
                .set_bootstrap_cluster_creator_admin_permissions(get_bool(
                    a,
                    "bootstrap_cluster_creator_admin_permissions",
                ))
                .build()
        });
        let log_types = get_strings(planned, "enabled_cluster_log_types");
        let tags = get_string_map(planned, "tags_all");
        aws.eks
            .create_cluster()
            .name(&name)
            .client_request_token(client_token(operation.token))
            .set_role_arn(get_str(planned, "role_arn"))
            .set_version(get_str(planned, "version"))
            .resources_vpc_config(vpc_config)
            .set_kubernetes_network_config(network)
            .set_access_config(access)
            .set_encryption_config(encryption_configs(planned))
            .set_upgrade_policy(upgrade_policy(planned))
            .set_zonal_shift_config(zonal_shift(planned))
            .set_bootstrap_self_managed_addons(get_bool(planned, "bootstrap_self_managed_addons"))
            .set_logging((!log_types.is_empty()).then(|| logging(&log_types)))
            .set_tags((!tags.is_empty()).then(|| tags.into_iter().collect()))
            .send()
            .await
            .api()
            .map_err(|failure| {
                let attribute = if failure.message.to_lowercase().contains("subnet") {
                    Some("vpc_config")
                } else if failure.message.to_lowercase().contains("role") {
                    Some("role_arn")
                } else if failure.code() == "ResourceInUseException" {
                    Some("name")
                } else {
                    None
                };
                let error = failure.into_error(format!("creating {CLUSTER_LABEL} ({name})"));
                match attribute {
                    Some(attribute) => error.on_attribute(AttrPath::attr(attribute)),
                    None => error,
                }
            })?;
        Ok(attrs([("id", Value::from(name.as_str()))]))
    }

    async fn wait_created(
        &self,
        aws: &AwsContext,
        operation: &Operation<'_>,
        created: &Value,
    ) -> Result<(), ProviderError> {
        let name = get_str(created, "id").unwrap_or_default();
        wait_cluster(aws, operation, &name, "ACTIVE").await
    }

    async fn read(
        &self,
        aws: &AwsContext,
        current: &Value,
    ) -> Result<Option<Attrs>, ProviderError> {
        let name = name_of(current);
        let Some(cluster) = describe_cluster(aws, &name)
            .await
            .or_fail(&format!("reading {CLUSTER_LABEL} ({name})"))?
        else {
            return Ok(None);
        };
        Ok(Some(cluster_attrs(&cluster, current)))
    }

    /// Encryption cannot be switched off once on (as the provider's CustomizeDiff has it):
    /// removing `encryption_config` replaces the cluster.
    fn adjust_plan(
        &self,
        prior: Option<&Value>,
        planned: &mut Value,
        requires_replace: &mut Vec<AttrPath>,
    ) {
        let Some(prior) = prior else {
            return;
        };
        let had = !get_blocks(prior, "encryption_config").is_empty();
        let has = !get_blocks(planned, "encryption_config").is_empty()
            || planned
                .get_attr("encryption_config")
                .is_some_and(Value::is_unknown);
        if had && !has {
            requires_replace.push(AttrPath::attr("encryption_config"));
            // A new cluster: what only AWS sets is known after apply.
            for (name, attribute) in &self.schema().attributes {
                if attribute.computed && !attribute.optional && name != "tags_all" {
                    planned.set_at_path(
                        &AttrPath::attr(name).0,
                        Value::Unknown(attribute.ty.clone()),
                    );
                }
            }
        }
    }

    /// In the provider's order: the version first, then access, encryption, logging, upgrade
    /// policy, endpoint access, subnets, security groups, zonal shift and tags; each change is
    /// its own call (EKS takes one kind of change per update) and is waited for.
    async fn update(
        &self,
        aws: &AwsContext,
        operation: &Operation<'_>,
    ) -> Result<Attrs, ProviderError> {
        let name = operation.id();
        let planned = operation.planned;
        let prior = operation.prior.unwrap_or(&Value::Null);
        let summary = format!("updating {CLUSTER_LABEL} ({name})");
        if operation.changed("version") {
            if let Some(version) = get_str(planned, "version") {
                let out = aws
                    .eks
                    .update_cluster_version()
                    .name(&name)
                    .version(&version)
                    .send()
                    .await
                    .api()
                    .or_fail_on(
                        &format!("updating {CLUSTER_LABEL} ({name}) version"),
                        &["InvalidParameterException"],
                        "version",
                    )?;
                finish_cluster_update(aws, operation, &name, "version", out.update()).await?;
            }
        }
        if operation.changed("access_config") {
            if let Some(access) = get_block(planned, "access_config") {
                let request = aws.eks.update_cluster_config().name(&name).access_config(
                    aws_sdk_eks::types::UpdateAccessConfigRequest::builder()
                        .set_authentication_mode(
                            get_str(access, "authentication_mode")
                                .map(|m| aws_sdk_eks::types::AuthenticationMode::from(m.as_str())),
                        )
                        .build(),
                );
                update_cluster_config(aws, operation, &name, request, "access_config").await?;
            }
        }
        if operation.changed("encryption_config") {
            let before = get_blocks(prior, "encryption_config").len();
            let after = encryption_configs(planned);
            match (before, after) {
                (0, Some(configs)) => {
                    let out = aws
                        .eks
                        .associate_encryption_config()
                        .cluster_name(&name)
                        .set_encryption_config(Some(configs))
                        .send()
                        .await
                        .api()
                        .or_fail_on(
                            &format!("associating {CLUSTER_LABEL} ({name}) encryption config"),
                            &["InvalidParameterException", "InvalidRequestException"],
                            "encryption_config",
                        )?;
                    finish_cluster_update(aws, operation, &name, "encryption config", out.update())
                        .await?;
                }
                (0, None) => {}
                // Removal replaces (adjust_plan); a different key or resource list has no API.
                _ => {
                    return Err(ProviderError::new(
                        format!("updating {CLUSTER_LABEL} ({name}) encryption config"),
                        "EKS cannot change the KMS key or resources of a cluster's envelope encryption once set; keep the current encryption_config, or remove it (which replaces the cluster) and add the new one",
                    )
                    .on_attribute(AttrPath::attr("encryption_config")))
                }
            }
        }
        if operation.changed("enabled_cluster_log_types") {
            let request = aws
                .eks
                .update_cluster_config()
                .name(&name)
                .logging(logging(&get_strings(planned, "enabled_cluster_log_types")));
            update_cluster_config(aws, operation, &name, request, "enabled_cluster_log_types")
                .await?;
        }
        if operation.changed("upgrade_policy") {
            let request = aws
                .eks
                .update_cluster_config()
                .name(&name)
                .set_upgrade_policy(upgrade_policy(planned));
            update_cluster_config(aws, operation, &name, request, "upgrade_policy").await?;
        }
        let prior_vpc = get_block(prior, "vpc_config")
            .cloned()
            .unwrap_or(Value::Null);
        let vpc = get_block(planned, "vpc_config")
            .cloned()
            .unwrap_or(Value::Null);
        let vpc_changed = |names: &[&str]| {
            names.iter().any(|k| {
                vpc.get_attr(k)
                    .unwrap_or(&Value::Null)
                    .equals(prior_vpc.get_attr(k).unwrap_or(&Value::Null))
                    != Some(true)
            })
        };
        // Endpoint access, subnets and security groups: three separate updates, as EKS takes
        // one kind of change per call.
        let vpc_updates = [
            (
                vpc_changed(&[
                    "endpoint_private_access",
                    "endpoint_public_access",
                    "public_access_cidrs",
                ]),
                VpcConfigRequest::builder()
                    .set_endpoint_private_access(get_bool(&vpc, "endpoint_private_access"))
                    .set_endpoint_public_access(get_bool(&vpc, "endpoint_public_access"))
                    .set_public_access_cidrs(
                        Some(get_strings(&vpc, "public_access_cidrs")).filter(|c| !c.is_empty()),
                    )
                    .build(),
            ),
            (
                vpc_changed(&["subnet_ids"]),
                VpcConfigRequest::builder()
                    .set_subnet_ids(Some(get_strings(&vpc, "subnet_ids")))
                    .build(),
            ),
            (
                vpc_changed(&["security_group_ids"]),
                VpcConfigRequest::builder()
                    .set_security_group_ids(Some(get_strings(&vpc, "security_group_ids")))
                    .build(),
            ),
        ];
        for (changed, vpc_request) in vpc_updates {
            if changed {
                let request = aws
                    .eks
                    .update_cluster_config()
                    .name(&name)
                    .resources_vpc_config(vpc_request);
                update_cluster_config(aws, operation, &name, request, "vpc_config").await?;
            }
        }
        if operation.changed("zonal_shift_config") {
            let request = aws
                .eks
                .update_cluster_config()
                .name(&name)
                .set_zonal_shift_config(zonal_shift(planned));
            update_cluster_config(aws, operation, &name, request, "zonal_shift_config").await?;
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
        let name = operation.id();
        match aws.eks.delete_cluster().name(&name).send().await.api() {
            Ok(_) => {}
            Err(failure) if failure.is_not_found() => return Ok(()),
            Err(failure) => {
                return Err(failure.into_error(format!("deleting {CLUSTER_LABEL} ({name})")))
            }
        }
        wait_until_gone(
            &format!("{CLUSTER_LABEL} ({name})"),
            operation,
            || describe_cluster(aws, &name),
            |cluster| {
                cluster
                    .status()
                    .map(|s| s.as_str().to_string())
                    .unwrap_or_default()
            },
        )
        .await
    }
}

/// The attributes of a read: one `flatten_*` per nested block, as the provider's
/// `flatten*` helpers.
fn cluster_attrs(cluster: &SdkCluster, current: &Value) -> Attrs {
    attrs([
        ("id", opt_str(cluster.name())),
        ("name", opt_str(cluster.name())),
        ("arn", opt_str(cluster.arn())),
        ("cluster_id", non_empty(cluster.id())),
        ("role_arn", opt_str(cluster.role_arn())),
        ("version", opt_str(cluster.version())),
        ("endpoint", opt_str(cluster.endpoint())),
        ("platform_version", opt_str(cluster.platform_version())),
        ("status", opt_str(cluster.status().map(|s| s.as_str()))),
        (
            "created_at",
            cluster
                .created_at()
                .map(rfc3339_seconds)
                .unwrap_or(Value::Null),
        ),
        (
            "enabled_cluster_log_types",
            flatten_enabled_log_types(cluster),
        ),
        (
            "certificate_authority",
            flatten_certificate_authority(cluster),
        ),
        ("identity", flatten_identity(cluster)),
        ("vpc_config", flatten_vpc_config(cluster)),
        ("kubernetes_network_config", flatten_network_config(cluster)),
        ("access_config", flatten_access_config(cluster, current)),
        ("encryption_config", flatten_encryption_config(cluster)),
        ("upgrade_policy", flatten_upgrade_policy(cluster)),
        ("zonal_shift_config", flatten_zonal_shift_config(cluster)),
        (
            REMOTE_TAGS,
            str_map(&user_tags(cluster.tags().cloned().unwrap_or_default())),
        ),
    ])
}

/// `vpc_config`, from the cluster's `resourcesVpcConfig`.
fn flatten_vpc_config(cluster: &SdkCluster) -> Value {
    let vpc = cluster.resources_vpc_config();
    Value::List(vec![Value::object([
        (
            "subnet_ids",
            str_set(vpc.map(|v| v.subnet_ids().to_vec()).unwrap_or_default()),
        ),
        (
            "security_group_ids",
            str_set(
                vpc.map(|v| v.security_group_ids().to_vec())
                    .unwrap_or_default(),
            ),
        ),
        (
            "endpoint_private_access",
            Value::Bool(vpc.map(|v| v.endpoint_private_access()).unwrap_or(false)),
        ),
        (
            "endpoint_public_access",
            Value::Bool(vpc.map(|v| v.endpoint_public_access()).unwrap_or(true)),
        ),
        (
            "public_access_cidrs",
            str_set(
                vpc.map(|v| v.public_access_cidrs().to_vec())
                    .unwrap_or_default(),
            ),
        ),
        (
            "cluster_security_group_id",
            non_empty(vpc.and_then(|v| v.cluster_security_group_id())),
        ),
        ("vpc_id", non_empty(vpc.and_then(|v| v.vpc_id()))),
    ])])
}

/// `kubernetes_network_config`.
fn flatten_network_config(cluster: &SdkCluster) -> Value {
    match cluster.kubernetes_network_config() {
        Some(n) => Value::List(vec![Value::object([
            ("service_ipv4_cidr", non_empty(n.service_ipv4_cidr())),
            ("ip_family", opt_str(n.ip_family().map(|f| f.as_str()))),
            ("service_ipv6_cidr", non_empty(n.service_ipv6_cidr())),
        ])]),
        None => Value::List(Vec::new()),
    }
}

/// `access_config`; the creator's admin permission is only known from the state.
fn flatten_access_config(cluster: &SdkCluster, current: &Value) -> Value {
    match cluster.access_config() {
        Some(a) => Value::List(vec![Value::object([
            (
                "authentication_mode",
                opt_str(a.authentication_mode().map(|m| m.as_str())),
            ),
            (
                "bootstrap_cluster_creator_admin_permissions",
                current_bootstrap(current),
            ),
        ])]),
        None => Value::List(Vec::new()),
    }
}

/// `encryption_config`. `resources` is deprecated in the API (EKS now encrypts everything) but
/// still a required argument of the provider's `encryption_config`.
#[allow(deprecated)]
fn flatten_encryption_config(cluster: &SdkCluster) -> Value {
    Value::List(
        cluster
            .encryption_config()
            .iter()
            .map(|config| {
                Value::object([
                    ("resources", str_set(config.resources().to_vec())),
                    (
                        "provider",
                        Value::List(
                            config
                                .provider()
                                .map(|p| Value::object([("key_arn", opt_str(p.key_arn()))]))
                                .into_iter()
                                .collect(),
                        ),
                    ),
                ])
            })
            .collect(),
    )
}

/// `upgrade_policy`.
fn flatten_upgrade_policy(cluster: &SdkCluster) -> Value {
    Value::List(
        cluster
            .upgrade_policy()
            .map(|policy| {
                Value::object([(
                    "support_type",
                    opt_str(policy.support_type().map(|t| t.as_str())),
                )])
            })
            .into_iter()
            .collect(),
    )
}

/// `zonal_shift_config`.
fn flatten_zonal_shift_config(cluster: &SdkCluster) -> Value {
    Value::List(
        cluster
            .zonal_shift_config()
            .map(|config| Value::object([("enabled", opt_bool(config.enabled()))]))
            .into_iter()
            .collect(),
    )
}

/// `enabled_cluster_log_types`: null when none is on.
fn flatten_enabled_log_types(cluster: &SdkCluster) -> Value {
    let enabled_logs: Vec<String> = cluster
        .logging()
        .map(|l| {
            l.cluster_logging()
                .iter()
                .filter(|s| s.enabled() == Some(true))
                .flat_map(|s| s.types().iter().map(|t| t.as_str().to_string()))
                .collect()
        })
        .unwrap_or_default();
    if enabled_logs.is_empty() {
        Value::Null
    } else {
        str_set(enabled_logs)
    }
}

/// `certificate_authority`.
fn flatten_certificate_authority(cluster: &SdkCluster) -> Value {
    cluster
        .certificate_authority()
        .map(|c| Value::List(vec![Value::object([("data", opt_str(c.data()))])]))
        .unwrap_or(Value::List(Vec::new()))
}

/// `identity` (the OIDC issuer).
fn flatten_identity(cluster: &SdkCluster) -> Value {
    cluster
        .identity()
        .and_then(|i| i.oidc())
        .map(|o| {
            Value::List(vec![Value::object([(
                "oidc",
                Value::List(vec![Value::object([("issuer", opt_str(o.issuer()))])]),
            )])])
        })
        .unwrap_or(Value::List(Vec::new()))
}

/// AWS does not report `bootstrap_cluster_creator_admin_permissions` back: keep what was set,
/// and `true` (the default, as the provider reads it) when nothing was.
fn current_bootstrap(current: &Value) -> Value {
    get_block(current, "access_config")
        .and_then(|a| a.get_attr("bootstrap_cluster_creator_admin_permissions"))
        .cloned()
        .filter(|v| !v.is_unknown() && !v.is_null())
        .unwrap_or(Value::Bool(true))
}

// `resources` is deprecated in the API but still a required argument of the provider's block.
#[allow(deprecated)]
fn encryption_configs(planned: &Value) -> Option<Vec<aws_sdk_eks::types::EncryptionConfig>> {
    let configs: Vec<_> = get_blocks(planned, "encryption_config")
        .into_iter()
        .map(|config| {
            aws_sdk_eks::types::EncryptionConfig::builder()
                .set_resources(Some(get_strings(config, "resources")))
                .set_provider(get_block(config, "provider").map(|p| {
                    aws_sdk_eks::types::Provider::builder()
                        .set_key_arn(get_str(p, "key_arn"))
                        .build()
                }))
                .build()
        })
        .collect();
    (!configs.is_empty()).then_some(configs)
}

fn upgrade_policy(planned: &Value) -> Option<aws_sdk_eks::types::UpgradePolicyRequest> {
    get_block(planned, "upgrade_policy").map(|policy| {
        aws_sdk_eks::types::UpgradePolicyRequest::builder()
            .set_support_type(
                get_str(policy, "support_type")
                    .map(|t| aws_sdk_eks::types::SupportType::from(t.as_str())),
            )
            .build()
    })
}

fn zonal_shift(planned: &Value) -> Option<aws_sdk_eks::types::ZonalShiftConfigRequest> {
    get_block(planned, "zonal_shift_config").map(|config| {
        aws_sdk_eks::types::ZonalShiftConfigRequest::builder()
            .set_enabled(get_bool(config, "enabled"))
            .build()
    })
}

/// Sends one UpdateClusterConfig and waits for it; an InvalidParameterException points at
/// `attribute`.
async fn update_cluster_config(
    aws: &AwsContext,
    operation: &Operation<'_>,
    name: &str,
    request: aws_sdk_eks::operation::update_cluster_config::builders::UpdateClusterConfigFluentBuilder,
    attribute: &str,
) -> Result<(), ProviderError> {
    let what = attribute.replace('_', " ");
    let out = request.send().await.api().or_fail_on(
        &format!("updating {CLUSTER_LABEL} ({name}) {what}"),
        &["InvalidParameterException"],
        attribute,
    )?;
    finish_cluster_update(aws, operation, name, &what, out.update()).await
}

/// Waits for a cluster update to be `Successful`, then for the cluster to be `ACTIVE`.
async fn finish_cluster_update(
    aws: &AwsContext,
    operation: &Operation<'_>,
    name: &str,
    what: &str,
    update: Option<&aws_sdk_eks::types::Update>,
) -> Result<(), ProviderError> {
    wait_update(
        aws,
        operation,
        name,
        None,
        update.and_then(|u| u.id()),
        &format!("{CLUSTER_LABEL} ({name}) {what} update"),
    )
    .await?;
    wait_cluster(aws, operation, name, "ACTIVE").await
}

async fn wait_cluster(
    aws: &AwsContext,
    operation: &Operation<'_>,
    name: &str,
    target: &str,
) -> Result<(), ProviderError> {
    operation
        .wait_for(&format!("{CLUSTER_LABEL} ({name})"), target, || async {
            match describe_cluster(aws, name).await {
                Ok(Some(cluster)) => {
                    let status = cluster
                        .status()
                        .map(|s| s.as_str().to_string())
                        .unwrap_or_default();
                    if status == target {
                        Ok(Poll::Done(()))
                    } else if status == "FAILED" {
                        Err(ProviderError::new(
                            format!("{CLUSTER_LABEL} ({name}) failed"),
                            "the cluster went to status FAILED; see its health in the EKS console",
                        ))
                    } else {
                        Ok(Poll::Pending(status))
                    }
                }
                Ok(None) => Ok(Poll::Pending("not yet visible".into())),
                Err(failure) => {
                    Err(failure.into_error(format!("waiting for {CLUSTER_LABEL} ({name})")))
                }
            }
        })
        .await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn encryption(key_arn: &str) -> Value {
        Value::List(vec![Value::object([
            ("resources", str_set(["secrets"])),
            (
                "provider",
                Value::List(vec![Value::object([("key_arn", Value::from(key_arn))])]),
            ),
        ])])
    }

    fn cluster_state(encryption_config: Value) -> Value {
        Value::object([
            ("id", Value::from("demo")),
            ("arn", Value::from("arn:aws:eks:us-east-1:1:cluster/demo")),
            ("endpoint", Value::from("https://demo.example")),
            ("version", Value::from("1.30")),
            ("encryption_config", encryption_config),
        ])
    }

    #[test]
    fn removing_encryption_replaces_the_cluster_and_adding_it_does_not() {
        let encrypted = cluster_state(encryption("arn:aws:kms:us-east-1:1:key/a"));
        let plain = cluster_state(Value::List(Vec::new()));

        let mut planned = plain.clone();
        let mut requires_replace = Vec::new();
        Cluster.adjust_plan(Some(&encrypted), &mut planned, &mut requires_replace);
        assert_eq!(requires_replace, vec![AttrPath::attr("encryption_config")]);
        // What only AWS sets is new on the replacement; what the configuration sets is not.
        assert!(planned.get_attr("endpoint").is_some_and(Value::is_unknown));
        assert!(planned.get_attr("arn").is_some_and(Value::is_unknown));
        assert_eq!(planned.get_attr("version"), Some(&Value::from("1.30")));

        let mut planned = encrypted.clone();
        let mut requires_replace = Vec::new();
        Cluster.adjust_plan(Some(&plain), &mut planned, &mut requires_replace);
        assert!(
            requires_replace.is_empty(),
            "adding is an association in place"
        );
        assert_eq!(planned, encrypted);
    }

    #[test]
    fn the_creator_admin_permission_reads_as_configured_or_true() {
        let configured = Value::object([(
            "access_config",
            Value::List(vec![Value::object([(
                "bootstrap_cluster_creator_admin_permissions",
                Value::Bool(false),
            )])]),
        )]);
        assert_eq!(current_bootstrap(&configured), Value::Bool(false));
        assert_eq!(current_bootstrap(&Value::Null), Value::Bool(true));
    }
}
