//! `aws_db_instance`.
//!
//! The instance is asynchronous: create and modify wait for `available`, delete for the
//! instance to be gone. `instance_class`, storage, `engine_version`, `multi_az`, backups,
//! `deletion_protection`, the password and security groups change in place (ModifyDBInstance,
//! with `apply_immediately`); `identifier`, `engine`, `username`, `db_name`,
//! `storage_encrypted`, `kms_key_id` and `availability_zone` replace. The password is
//! sensitive: AWS never returns it, so the state keeps the configured one (marked), and it
//! appears in no message. The instance's `id` is its resource id (`db-…`), as in the
//! Terraform AWS provider 5.x; it is read and imported by `identifier`. Schemas follow the
//! provider's `internal/service/rds/subnet_group.go` and `instance.go`; where the provider has
//! an Optional boolean without a default that AWS always reports (`deletion_protection`,
//! `storage_encrypted`, `iam_database_authentication_enabled`, `apply_immediately`), ours
//! defaults to `false`, which plans the same as the provider's "unset equals false".
//!
//! Not supported yet (left out of the schema): `replicate_source_db`, `replica_mode`,
//! `snapshot_identifier`, `restore_to_point_in_time`, `s3_import`, `blue_green_update`,
//! `manage_master_user_password`/`master_user_secret`, `password_wo`, `domain*`,
//! `custom_iam_instance_profile`, `dedicated_log_volume`, `upgrade_storage_config`,
//! `engine_lifecycle_support`, `latest_restorable_time` (AWS moves it every few minutes, so it
//! would make every refresh differ) and `security_group_names` (EC2-Classic, retired).

use super::tag_map;
use crate::providers::aws::support::{
    attrs, computed_strings, get_bool, get_i64, get_str, get_string_map, get_strings,
    name_or_unique, non_empty, opt_str, str_list, str_map, str_set, timeouts_block,
    wait_until_gone, with_name_and_prefix, with_tags, ApiFailure, Attrs, NotFoundExt, Poll,
    SdkResultExt,
};
use crate::providers::aws::tags::{rds_tags, update_tags, Tagged};
use crate::providers::aws::{AwsContext, Operation, OperationKind, ResourceType, REMOTE_TAGS};
use crate::providers::schema::{Attribute, Block};
use crate::providers::ProviderError;
use crate::value::{AttrPath, Type, Value};
use async_trait::async_trait;
use aws_sdk_rds::types::DbInstance as SdkDbInstance;
use std::collections::BTreeMap;
use std::time::Duration;

/// `aws_db_instance`.
pub struct DbInstance;

const INSTANCE_LABEL: &str = "RDS DB Instance";

async fn describe_instances(
    aws: &AwsContext,
    identifiers: &[String],
) -> Result<BTreeMap<String, SdkDbInstance>, ApiFailure> {
    let mut found = BTreeMap::new();
    if identifiers.is_empty() {
        return Ok(found);
    }
    // A filter (unlike DBInstanceIdentifier) takes many identifiers and does not fail on a
    // missing one.
    let filter = aws_sdk_rds::types::Filter::builder()
        .name("db-instance-id")
        .set_values(Some(identifiers.to_vec()))
        .build();
    let out = match aws
        .rds
        .describe_db_instances()
        .filters(filter)
        .send()
        .await
        .api()
    {
        Ok(out) => out,
        Err(failure) if failure.is_not_found() => return Ok(found),
        Err(failure) => return Err(failure),
    };
    for instance in out.db_instances() {
        if let Some(identifier) = instance.db_instance_identifier() {
            found.insert(identifier.to_string(), instance.clone());
        }
    }
    Ok(found)
}

async fn describe_instance(
    aws: &AwsContext,
    identifier: &str,
) -> Result<Option<SdkDbInstance>, ApiFailure> {
    let call = aws
        .rds
        .describe_db_instances()
        .db_instance_identifier(identifier);
    let out = call.send().await.api().found()?;
    Ok(out.and_then(|out| out.db_instances().first().cloned()))
}

fn status_of(instance: &SdkDbInstance) -> String {
    instance
        .db_instance_status()
        .unwrap_or("unknown")
        .to_string()
}

async fn wait_available(
    aws: &AwsContext,
    operation: &Operation<'_>,
    identifier: &str,
) -> Result<(), ProviderError> {
    operation
        .wait_for(
            &format!("{INSTANCE_LABEL} ({identifier})"),
            "available",
            || async {
                match describe_instance(aws, identifier).await {
                Ok(Some(instance)) => match status_of(&instance).as_str() {
                    "available" | "storage-optimization" => Ok(Poll::Done(())),
                    failed @ ("failed"
                    | "incompatible-parameters"
                    | "incompatible-network"
                    | "incompatible-restore"
                    | "storage-full") => Err(ProviderError::new(
                        format!("{INSTANCE_LABEL} ({identifier}) is {failed}"),
                        "the instance cannot become available; see its events in the RDS console",
                    )),
                    other => Ok(Poll::Pending(other.to_string())),
                },
                Ok(None) => Ok(Poll::Pending("not yet visible".into())),
                Err(failure) => {
                    Err(failure.into_error(format!("waiting for {INSTANCE_LABEL} ({identifier})")))
                }
            }
            },
        )
        .await
}

fn instance_attrs(instance: &SdkDbInstance) -> Attrs {
    let int = |n: Option<i32>| n.map(|n| Value::from(i64::from(n))).unwrap_or(Value::Null);
    let endpoint = instance.endpoint();
    let address = endpoint.and_then(|e| e.address());
    let port = endpoint.and_then(|e| e.port());
    let security_groups: Vec<String> = instance
        .vpc_security_groups()
        .iter()
        .filter(|g| g.status() != Some("removing"))
        .filter_map(|g| g.vpc_security_group_id().map(str::to_string))
        .collect();
    let parameter_group = instance
        .db_parameter_groups()
        .first()
        .and_then(|g| g.db_parameter_group_name());
    let option_group = instance
        .option_group_memberships()
        .first()
        .and_then(|g| g.option_group_name());
    attrs([
        ("id", opt_str(instance.dbi_resource_id())),
        ("resource_id", opt_str(instance.dbi_resource_id())),
        ("identifier", opt_str(instance.db_instance_identifier())),
        ("arn", opt_str(instance.db_instance_arn())),
        ("engine", opt_str(instance.engine())),
        ("engine_version_actual", opt_str(instance.engine_version())),
        ("instance_class", opt_str(instance.db_instance_class())),
        ("allocated_storage", int(instance.allocated_storage())),
        (
            "max_allocated_storage",
            int(instance.max_allocated_storage()),
        ),
        ("storage_type", opt_str(instance.storage_type())),
        (
            "storage_encrypted",
            Value::Bool(instance.storage_encrypted().unwrap_or(false)),
        ),
        ("kms_key_id", non_empty(instance.kms_key_id())),
        ("iops", int(instance.iops())),
        ("storage_throughput", int(instance.storage_throughput())),
        ("username", opt_str(instance.master_username())),
        ("db_name", opt_str(instance.db_name())),
        (
            "db_subnet_group_name",
            opt_str(
                instance
                    .db_subnet_group()
                    .and_then(|g| g.db_subnet_group_name()),
            ),
        ),
        ("vpc_security_group_ids", str_set(security_groups)),
        (
            "multi_az",
            Value::Bool(instance.multi_az().unwrap_or(false)),
        ),
        ("availability_zone", opt_str(instance.availability_zone())),
        (
            "backup_retention_period",
            int(instance.backup_retention_period()),
        ),
        ("backup_window", opt_str(instance.preferred_backup_window())),
        (
            "maintenance_window",
            opt_str(instance.preferred_maintenance_window()),
        ),
        (
            "deletion_protection",
            Value::Bool(instance.deletion_protection().unwrap_or(false)),
        ),
        (
            "publicly_accessible",
            Value::Bool(instance.publicly_accessible().unwrap_or(false)),
        ),
        ("port", int(port.or(instance.db_instance_port()))),
        ("address", opt_str(address)),
        (
            "endpoint",
            match (address, port) {
                (Some(address), Some(port)) => Value::String(format!("{address}:{port}")),
                _ => Value::Null,
            },
        ),
        (
            "hosted_zone_id",
            opt_str(endpoint.and_then(|e| e.hosted_zone_id())),
        ),
        ("parameter_group_name", opt_str(parameter_group)),
        ("option_group_name", opt_str(option_group)),
        (
            "auto_minor_version_upgrade",
            Value::Bool(instance.auto_minor_version_upgrade().unwrap_or(true)),
        ),
        (
            "copy_tags_to_snapshot",
            Value::Bool(instance.copy_tags_to_snapshot().unwrap_or(false)),
        ),
        (
            "performance_insights_enabled",
            Value::Bool(instance.performance_insights_enabled().unwrap_or(false)),
        ),
        (
            "monitoring_interval",
            Value::from(i64::from(instance.monitoring_interval().unwrap_or(0))),
        ),
        (
            "iam_database_authentication_enabled",
            Value::Bool(
                instance
                    .iam_database_authentication_enabled()
                    .unwrap_or(false),
            ),
        ),
        ("license_model", opt_str(instance.license_model())),
        (
            "ca_cert_identifier",
            opt_str(instance.ca_certificate_identifier()),
        ),
        ("network_type", opt_str(instance.network_type())),
        ("character_set_name", opt_str(instance.character_set_name())),
        (
            "nchar_character_set_name",
            opt_str(instance.nchar_character_set_name()),
        ),
        ("timezone", opt_str(instance.timezone())),
        (
            "enabled_cloudwatch_logs_exports",
            str_set(instance.enabled_cloudwatch_logs_exports().to_vec()),
        ),
        (
            "monitoring_role_arn",
            non_empty(instance.monitoring_role_arn()),
        ),
        (
            "performance_insights_kms_key_id",
            non_empty(instance.performance_insights_kms_key_id()),
        ),
        (
            "performance_insights_retention_period",
            int(instance.performance_insights_retention_period()),
        ),
        (
            "customer_owned_ip_enabled",
            instance
                .customer_owned_ip_enabled()
                .map(Value::Bool)
                .unwrap_or(Value::Null),
        ),
        (
            "replicas",
            str_list(instance.read_replica_db_instance_identifiers().to_vec()),
        ),
        ("status", opt_str(instance.db_instance_status())),
        (REMOTE_TAGS, str_map(&tag_map(instance.tag_list()))),
    ])
}

/// `engine_version` as configured ("16") stays when AWS runs a more precise one ("16.3").
fn reconcile_engine_version(read: &mut Attrs, current: &Value) {
    let actual = read
        .get("engine_version_actual")
        .and_then(Value::as_str)
        .map(str::to_string);
    let configured = get_str(current, "engine_version");
    let value = match (configured, actual) {
        (Some(configured), Some(actual))
            if actual == configured || actual.starts_with(&format!("{configured}.")) =>
        {
            Value::String(configured)
        }
        (_, actual) => opt_str(actual),
    };
    read.insert("engine_version".into(), value);
}

#[async_trait]
impl ResourceType for DbInstance {
    fn label(&self) -> &'static str {
        INSTANCE_LABEL
    }

    fn schema_version(&self) -> u64 {
        1
    }

    fn schema(&self) -> Block {
        let block = computed_strings(&[
            "id",
            "resource_id",
            "arn",
            "engine_version_actual",
            "address",
            "endpoint",
            "hosted_zone_id",
            "status",
        ])
        .attr(
            "engine",
            Attribute::optional_computed(Type::String).force_new(),
        )
        .attr("engine_version", Attribute::optional_computed(Type::String))
        .attr("instance_class", Attribute::required(Type::String))
        .attr(
            "allocated_storage",
            Attribute::optional_computed(Type::Number),
        )
        .attr("max_allocated_storage", Attribute::optional(Type::Number))
        .attr("storage_type", Attribute::optional_computed(Type::String))
        .attr(
            "storage_encrypted",
            Attribute::optional(Type::Bool)
                .with_default(false)
                .force_new(),
        )
        .attr(
            "kms_key_id",
            Attribute::optional_computed(Type::String).force_new(),
        )
        .attr("iops", Attribute::optional_computed(Type::Number))
        .attr(
            "storage_throughput",
            Attribute::optional_computed(Type::Number),
        )
        .attr(
            "username",
            Attribute::optional_computed(Type::String).force_new(),
        )
        .attr("password", Attribute::optional(Type::String).sensitive())
        .attr(
            "db_name",
            Attribute::optional_computed(Type::String).force_new(),
        )
        .attr(
            "db_subnet_group_name",
            Attribute::optional_computed(Type::String),
        )
        .attr(
            "vpc_security_group_ids",
            Attribute::optional_computed(Type::set(Type::String)),
        )
        .attr("multi_az", Attribute::optional_computed(Type::Bool))
        .attr(
            "availability_zone",
            Attribute::optional_computed(Type::String).force_new(),
        )
        .attr(
            "backup_retention_period",
            Attribute::optional_computed(Type::Number),
        )
        .attr("backup_window", Attribute::optional_computed(Type::String))
        .attr(
            "maintenance_window",
            Attribute::optional_computed(Type::String),
        )
        .attr(
            "deletion_protection",
            Attribute::optional(Type::Bool).with_default(false),
        )
        .attr(
            "skip_final_snapshot",
            Attribute::optional(Type::Bool).with_default(false),
        )
        .attr(
            "final_snapshot_identifier",
            Attribute::optional(Type::String),
        )
        .attr(
            "delete_automated_backups",
            Attribute::optional(Type::Bool).with_default(true),
        )
        .attr(
            "apply_immediately",
            Attribute::optional(Type::Bool).with_default(false),
        )
        .attr(
            "publicly_accessible",
            Attribute::optional(Type::Bool).with_default(false),
        )
        .attr("port", Attribute::optional_computed(Type::Number))
        .attr(
            "parameter_group_name",
            Attribute::optional_computed(Type::String),
        )
        .attr(
            "option_group_name",
            Attribute::optional_computed(Type::String),
        )
        .attr(
            "auto_minor_version_upgrade",
            Attribute::optional(Type::Bool).with_default(true),
        )
        .attr(
            "allow_major_version_upgrade",
            Attribute::optional(Type::Bool),
        )
        .attr(
            "copy_tags_to_snapshot",
            Attribute::optional(Type::Bool).with_default(false),
        )
        .attr(
            "performance_insights_enabled",
            Attribute::optional(Type::Bool).with_default(false),
        )
        .attr(
            "monitoring_interval",
            Attribute::optional(Type::Number).with_default(0),
        )
        .attr(
            "iam_database_authentication_enabled",
            Attribute::optional(Type::Bool).with_default(false),
        )
        .attr("license_model", Attribute::optional_computed(Type::String))
        .attr(
            "ca_cert_identifier",
            Attribute::optional_computed(Type::String),
        )
        .attr("network_type", Attribute::optional_computed(Type::String))
        .attr(
            "character_set_name",
            Attribute::optional_computed(Type::String).force_new(),
        )
        .attr(
            "nchar_character_set_name",
            Attribute::optional_computed(Type::String).force_new(),
        )
        .attr(
            "timezone",
            Attribute::optional_computed(Type::String).force_new(),
        )
        .attr(
            "enabled_cloudwatch_logs_exports",
            Attribute::optional(Type::set(Type::String)),
        )
        .attr(
            "monitoring_role_arn",
            Attribute::optional_computed(Type::String),
        )
        .attr(
            "performance_insights_kms_key_id",
            Attribute::optional_computed(Type::String),
        )
        .attr(
            "performance_insights_retention_period",
            Attribute::optional_computed(Type::Number),
        )
        .attr("customer_owned_ip_enabled", Attribute::optional(Type::Bool))
        .attr("replicas", Attribute::computed(Type::list(Type::String)));
        let block = with_name_and_prefix(block, "identifier");
        timeouts_block(with_tags(block), &["create", "update", "delete"])
    }

    fn default_timeout(&self, operation: OperationKind) -> Duration {
        match operation {
            OperationKind::Create => Duration::from_secs(40 * 60),
            OperationKind::Update => Duration::from_secs(80 * 60),
            OperationKind::Delete => Duration::from_secs(60 * 60),
        }
    }

    fn validate_config(&self, config: &Value) -> Vec<ProviderError> {
        let mut errors = Vec::new();
        if let Some(password) = config.get_attr("password").and_then(Value::as_str) {
            if password.len() < 8 {
                errors.push(
                    ProviderError::new(
                        "invalid password",
                        "the master password must have at least 8 characters",
                    )
                    .on_attribute(AttrPath::attr("password")),
                );
            }
        }
        errors
    }

    async fn create(
        &self,
        aws: &AwsContext,
        operation: &Operation<'_>,
    ) -> Result<Attrs, ProviderError> {
        let planned = operation.planned;
        let identifier = name_or_unique(planned, "identifier");
        let int = |name: &str| get_i64(planned, name).and_then(|n| i32::try_from(n).ok());
        let security_groups = get_strings(planned, "vpc_security_group_ids");
        let tags = get_string_map(planned, "tags_all");
        aws.rds
            .create_db_instance()
            .db_instance_identifier(&identifier)
            .set_engine(get_str(planned, "engine"))
            .set_engine_version(get_str(planned, "engine_version"))
            .set_db_instance_class(get_str(planned, "instance_class"))
            .set_allocated_storage(int("allocated_storage"))
            .set_max_allocated_storage(int("max_allocated_storage"))
            .set_storage_type(get_str(planned, "storage_type"))
            .set_storage_encrypted(get_bool(planned, "storage_encrypted"))
            .set_kms_key_id(get_str(planned, "kms_key_id"))
            .set_iops(int("iops"))
            .set_storage_throughput(int("storage_throughput"))
            .set_master_username(get_str(planned, "username"))
            .set_master_user_password(get_str(planned, "password"))
            .set_db_name(get_str(planned, "db_name"))
            .set_db_subnet_group_name(get_str(planned, "db_subnet_group_name"))
            .set_vpc_security_group_ids((!security_groups.is_empty()).then_some(security_groups))
            .set_multi_az(get_bool(planned, "multi_az"))
            .set_availability_zone(get_str(planned, "availability_zone"))
            .set_backup_retention_period(int("backup_retention_period"))
            .set_preferred_backup_window(get_str(planned, "backup_window"))
            .set_preferred_maintenance_window(get_str(planned, "maintenance_window"))
            .set_deletion_protection(get_bool(planned, "deletion_protection"))
            .set_publicly_accessible(get_bool(planned, "publicly_accessible"))
            .set_port(int("port"))
            .set_db_parameter_group_name(get_str(planned, "parameter_group_name"))
            .set_option_group_name(get_str(planned, "option_group_name"))
            .set_auto_minor_version_upgrade(get_bool(planned, "auto_minor_version_upgrade"))
            .set_copy_tags_to_snapshot(get_bool(planned, "copy_tags_to_snapshot"))
            .set_enable_performance_insights(get_bool(planned, "performance_insights_enabled"))
            .set_monitoring_interval(int("monitoring_interval"))
            .set_enable_iam_database_authentication(get_bool(
                planned,
                "iam_database_authentication_enabled",
            ))
            .set_license_model(get_str(planned, "license_model"))
            .set_ca_certificate_identifier(get_str(planned, "ca_cert_identifier"))
            .set_network_type(get_str(planned, "network_type"))
            .set_character_set_name(get_str(planned, "character_set_name"))
            .set_nchar_character_set_name(get_str(planned, "nchar_character_set_name"))
            .set_timezone(get_str(planned, "timezone"))
            .set_enable_cloudwatch_logs_exports(
                Some(get_strings(planned, "enabled_cloudwatch_logs_exports"))
                    .filter(|l| !l.is_empty()),
            )
            .set_monitoring_role_arn(get_str(planned, "monitoring_role_arn"))
            .set_performance_insights_kms_key_id(get_str(
                planned,
                "performance_insights_kms_key_id",
            ))
            .set_performance_insights_retention_period(int("performance_insights_retention_period"))
            .set_enable_customer_owned_ip(get_bool(planned, "customer_owned_ip_enabled"))
            .set_tags((!tags.is_empty()).then(|| rds_tags(&tags)))
            .send()
            .await
            .api()
            .map_err(|failure| {
                let lower = failure.message.to_lowercase();
                let attribute = if failure.code().contains("AlreadyExists") {
                    Some("identifier")
                } else if failure.code().contains("DBSubnetGroup") {
                    Some("db_subnet_group_name")
                } else if lower.contains("instance class")
                    || failure.code().contains("InstanceClass")
                {
                    Some("instance_class")
                } else if lower.contains("engine version") {
                    Some("engine_version")
                } else if lower.contains("password") {
                    Some("password")
                } else if lower.contains("storage") {
                    Some("allocated_storage")
                } else {
                    None
                };
                let error = failure.into_error(format!("creating {INSTANCE_LABEL} ({identifier})"));
                match attribute {
                    Some(attribute) => error.on_attribute(AttrPath::attr(attribute)),
                    None => error,
                }
            })?;
        Ok(attrs([("identifier", Value::String(identifier))]))
    }

    async fn wait_created(
        &self,
        aws: &AwsContext,
        operation: &Operation<'_>,
        created: &Value,
    ) -> Result<(), ProviderError> {
        let identifier = get_str(created, "identifier").unwrap_or_default();
        wait_available(aws, operation, &identifier).await
    }

    async fn read(
        &self,
        aws: &AwsContext,
        current: &Value,
    ) -> Result<Option<Attrs>, ProviderError> {
        self.read_one_of_many(aws, current).await
    }

    /// One DescribeDBInstances (filtered by every identifier) for all instances.
    async fn read_many(
        &self,
        aws: &AwsContext,
        current: &[Value],
    ) -> Vec<Result<Option<Attrs>, ProviderError>> {
        let identifiers: Vec<String> = current
            .iter()
            .filter_map(|c| get_str(c, "identifier"))
            .collect();
        match describe_instances(aws, &identifiers).await {
            Ok(found) => current
                .iter()
                .map(|value| {
                    let identifier = get_str(value, "identifier").unwrap_or_default();
                    Ok(found.get(&identifier).map(|instance| {
                        let mut read = instance_attrs(instance);
                        reconcile_engine_version(&mut read, value);
                        read
                    }))
                })
                .collect(),
            Err(failure) => current
                .iter()
                .map(|_| {
                    Err(failure
                        .clone()
                        .into_error(format!("reading {INSTANCE_LABEL}")))
                })
                .collect(),
        }
    }

    async fn update(
        &self,
        aws: &AwsContext,
        operation: &Operation<'_>,
    ) -> Result<Attrs, ProviderError> {
        let planned = operation.planned;
        let identifier = operation
            .prior
            .and_then(|p| get_str(p, "identifier"))
            .unwrap_or_default();
        let summary = format!("updating {INSTANCE_LABEL} ({identifier})");
        let int = |name: &str| get_i64(planned, name).and_then(|n| i32::try_from(n).ok());
        let mut request = aws
            .rds
            .modify_db_instance()
            .db_instance_identifier(&identifier)
            .apply_immediately(get_bool(planned, "apply_immediately").unwrap_or(false));
        let mut any = false;
        macro_rules! when_changed {
            ($name:expr, $apply:expr) => {
                if operation.changed($name) {
                    any = true;
                    request = $apply(request);
                }
            };
        }
        type Modify =
            aws_sdk_rds::operation::modify_db_instance::builders::ModifyDBInstanceFluentBuilder;
        when_changed!("instance_class", |r: Modify| r
            .set_db_instance_class(get_str(planned, "instance_class")));
        when_changed!("allocated_storage", |r: Modify| r
            .set_allocated_storage(int("allocated_storage")));
        when_changed!("max_allocated_storage", |r: Modify| r
            .set_max_allocated_storage(int("max_allocated_storage")));
        when_changed!("storage_type", |r: Modify| r
            .set_storage_type(get_str(planned, "storage_type")));
        when_changed!("iops", |r: Modify| r.set_iops(int("iops")));
        when_changed!("storage_throughput", |r: Modify| r
            .set_storage_throughput(int("storage_throughput")));
        when_changed!("engine_version", |r: Modify| r
            .set_engine_version(get_str(planned, "engine_version"))
            .set_allow_major_version_upgrade(get_bool(
                planned,
                "allow_major_version_upgrade"
            )));
        when_changed!("password", |r: Modify| r
            .set_master_user_password(get_str(planned, "password")));
        when_changed!("db_subnet_group_name", |r: Modify| r
            .set_db_subnet_group_name(get_str(planned, "db_subnet_group_name")));
        when_changed!("vpc_security_group_ids", |r: Modify| r
            .set_vpc_security_group_ids(Some(get_strings(
                planned,
                "vpc_security_group_ids"
            ))));
        when_changed!("multi_az", |r: Modify| r
            .set_multi_az(get_bool(planned, "multi_az")));
        when_changed!("backup_retention_period", |r: Modify| r
            .set_backup_retention_period(int("backup_retention_period")));
        when_changed!("backup_window", |r: Modify| r
            .set_preferred_backup_window(get_str(planned, "backup_window")));
        when_changed!("maintenance_window", |r: Modify| r
            .set_preferred_maintenance_window(get_str(
                planned,
                "maintenance_window"
            )));
        when_changed!("deletion_protection", |r: Modify| r
            .set_deletion_protection(get_bool(planned, "deletion_protection")));
        when_changed!("publicly_accessible", |r: Modify| r
            .set_publicly_accessible(get_bool(planned, "publicly_accessible")));
        when_changed!("port", |r: Modify| r.set_db_port_number(int("port")));
        when_changed!("parameter_group_name", |r: Modify| r
            .set_db_parameter_group_name(get_str(planned, "parameter_group_name")));
        when_changed!("option_group_name", |r: Modify| r
            .set_option_group_name(get_str(planned, "option_group_name")));
        when_changed!("auto_minor_version_upgrade", |r: Modify| r
            .set_auto_minor_version_upgrade(get_bool(
                planned,
                "auto_minor_version_upgrade"
            )));
        when_changed!("copy_tags_to_snapshot", |r: Modify| r
            .set_copy_tags_to_snapshot(get_bool(planned, "copy_tags_to_snapshot")));
        when_changed!("performance_insights_enabled", |r: Modify| r
            .set_enable_performance_insights(get_bool(
                planned,
                "performance_insights_enabled"
            )));
        when_changed!("monitoring_interval", |r: Modify| r
            .set_monitoring_interval(int("monitoring_interval")));
        when_changed!("iam_database_authentication_enabled", |r: Modify| r
            .set_enable_iam_database_authentication(get_bool(
                planned,
                "iam_database_authentication_enabled"
            )));
        when_changed!("ca_cert_identifier", |r: Modify| r
            .set_ca_certificate_identifier(get_str(planned, "ca_cert_identifier")));
        when_changed!("network_type", |r: Modify| r
            .set_network_type(get_str(planned, "network_type")));
        when_changed!("license_model", |r: Modify| r
            .set_license_model(get_str(planned, "license_model")));
        when_changed!("monitoring_role_arn", |r: Modify| r
            .set_monitoring_role_arn(get_str(planned, "monitoring_role_arn")));
        when_changed!("performance_insights_kms_key_id", |r: Modify| r
            .set_performance_insights_kms_key_id(get_str(
                planned,
                "performance_insights_kms_key_id"
            )));
        when_changed!("performance_insights_retention_period", |r: Modify| r
            .set_performance_insights_retention_period(int(
                "performance_insights_retention_period"
            )));
        when_changed!("customer_owned_ip_enabled", |r: Modify| r
            .set_enable_customer_owned_ip(get_bool(
                planned,
                "customer_owned_ip_enabled"
            )));
        when_changed!("enabled_cloudwatch_logs_exports", |r: Modify| {
            let before: std::collections::BTreeSet<String> = operation
                .prior
                .map(|p| get_strings(p, "enabled_cloudwatch_logs_exports"))
                .unwrap_or_default()
                .into_iter()
                .collect();
            let after: std::collections::BTreeSet<String> =
                get_strings(planned, "enabled_cloudwatch_logs_exports")
                    .into_iter()
                    .collect();
            r.cloudwatch_logs_export_configuration(
                aws_sdk_rds::types::CloudwatchLogsExportConfiguration::builder()
                    .set_enable_log_types(Some(after.difference(&before).cloned().collect()))
                    .set_disable_log_types(Some(before.difference(&after).cloned().collect()))
                    .build(),
            )
        });
        if any {
            request.send().await.api().map_err(|failure| {
                let lower = failure.message.to_lowercase();
                let error = failure.into_error(&summary);
                let attribute = [
                    ("instance class", "instance_class"),
                    ("storage", "allocated_storage"),
                    ("engine version", "engine_version"),
                    ("password", "password"),
                    ("security group", "vpc_security_group_ids"),
                ]
                .iter()
                .find(|(needle, _)| lower.contains(needle))
                .map(|(_, attribute)| *attribute);
                match attribute {
                    Some(attribute) => error.on_attribute(AttrPath::attr(attribute)),
                    None => error,
                }
            })?;
            wait_available(aws, operation, &identifier).await?;
        }
        let arn = operation
            .prior
            .and_then(|p| get_str(p, "arn"))
            .unwrap_or_default();
        update_tags(aws, Tagged::Rds(&arn), operation, &summary).await?;
        Ok(Attrs::new())
    }

    async fn delete(
        &self,
        aws: &AwsContext,
        operation: &Operation<'_>,
    ) -> Result<(), ProviderError> {
        let prior = operation.planned;
        let identifier = get_str(prior, "identifier").unwrap_or_default();
        let summary = format!("deleting {INSTANCE_LABEL} ({identifier})");
        let skip_final_snapshot = get_bool(prior, "skip_final_snapshot").unwrap_or(false);
        let final_snapshot = get_str(prior, "final_snapshot_identifier");
        if !skip_final_snapshot && final_snapshot.is_none() {
            return Err(ProviderError::new(
                summary,
                "final_snapshot_identifier is required when skip_final_snapshot is false: set one, or set skip_final_snapshot = true, and apply before destroying",
            )
            .on_attribute(AttrPath::attr("skip_final_snapshot")));
        }
        let result = aws
            .rds
            .delete_db_instance()
            .db_instance_identifier(&identifier)
            .skip_final_snapshot(skip_final_snapshot)
            .set_final_db_snapshot_identifier(if skip_final_snapshot {
                None
            } else {
                final_snapshot
            })
            .set_delete_automated_backups(get_bool(prior, "delete_automated_backups"))
            .send()
            .await
            .api();
        match result {
            Ok(_) => {}
            Err(failure) if failure.is_not_found() => return Ok(()),
            Err(failure) => {
                let protection = failure
                    .message
                    .to_lowercase()
                    .contains("deletion protection");
                let error = failure.into_error(&summary);
                return Err(if protection {
                    error.on_attribute(AttrPath::attr("deletion_protection"))
                } else {
                    error
                });
            }
        }
        wait_until_gone(
            &format!("{INSTANCE_LABEL} ({identifier})"),
            operation,
            || describe_instance(aws, &identifier),
            status_of,
        )
        .await
    }

    /// Import ids are the instance's identifier (as in the Terraform AWS provider).
    fn import_attrs(&self, id: &str) -> Result<Attrs, ProviderError> {
        Ok(attrs([
            ("identifier", Value::from(id)),
            ("id", Value::Null),
        ]))
    }
}
