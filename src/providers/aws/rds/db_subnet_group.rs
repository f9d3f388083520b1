//! `aws_db_subnet_group`, as `internal/service/rds/subnet_group.go` of the Terraform AWS
//! provider: its `id` is its name.

use super::tag_map;
use crate::providers::aws::support::{
    ask, attrs, computed_strings, done, get_str, get_string_map, get_strings, name_of,
    name_or_unique, named_ids, opt_str, str_map, str_set, with_name_and_prefix, with_tags, Attrs,
    FailureExt, NotFoundExt, SdkResultExt, DEPENDENCY_CODES,
};
use crate::providers::aws::tags::{rds_tags, update_tags, Tagged};
use crate::providers::aws::{AwsContext, Operation, ResourceType, REMOTE_TAGS};
use crate::providers::schema::{Attribute, Block};
use crate::providers::ProviderError;
use crate::value::{AttrPath, Type, Value};
use async_trait::async_trait;
use std::collections::BTreeMap;

/// `aws_db_subnet_group`: its `id` is its name.
pub struct DbSubnetGroup;

const SUBNET_GROUP_LABEL: &str = "RDS DB Subnet Group";

#[async_trait]
impl ResourceType for DbSubnetGroup {
    fn label(&self) -> &'static str {
        SUBNET_GROUP_LABEL
    }

    fn schema(&self) -> Block {
        let block = computed_strings(&["id", "arn", "vpc_id"])
            .attr(
                "description",
                Attribute::optional(Type::String).with_default("Managed by Terraform"),
            )
            .attr("subnet_ids", Attribute::required(Type::set(Type::String)))
            .attr(
                "supported_network_types",
                Attribute::computed(Type::set(Type::String)),
            );
        with_tags(with_name_and_prefix(block, "name"))
    }

    async fn create(
        &self,
        aws: &AwsContext,
        operation: &Operation<'_>,
    ) -> Result<Attrs, ProviderError> {
        let planned = operation.planned;
        let name = name_or_unique(planned, "name");
        let tags = get_string_map(planned, "tags_all");
        aws.rds
            .create_db_subnet_group()
            .db_subnet_group_name(&name)
            .db_subnet_group_description(
                get_str(planned, "description").unwrap_or_else(|| "Managed by Terraform".into()),
            )
            .set_subnet_ids(Some(get_strings(planned, "subnet_ids")))
            .set_tags((!tags.is_empty()).then(|| rds_tags(&tags)))
            .send()
            .await
            .api()
            .map_err(|failure| {
                let attribute = if failure.code().contains("AlreadyExists") {
                    "name"
                } else {
                    "subnet_ids"
                };
                failure
                    .into_error(format!("creating {SUBNET_GROUP_LABEL} ({name})"))
                    .on_attribute(AttrPath::attr(attribute))
            })?;
        Ok(named_ids(&name))
    }

    async fn read(
        &self,
        aws: &AwsContext,
        current: &Value,
    ) -> Result<Option<Attrs>, ProviderError> {
        let name = name_of(current);
        let summary = format!("reading {SUBNET_GROUP_LABEL} ({name})");
        // DescribeDBSubnetGroups has no tags: they are listed by ARN. A refresh knows the ARN
        // from the state, so both calls go out together; the early answer is kept only when
        // the group found has that ARN.
        let recorded_arn = get_str(current, "arn").filter(|arn| !arn.is_empty());
        let list_tags = |arn: String| {
            let rds = aws.rds.clone();
            async move { rds.list_tags_for_resource().resource_name(arn).send().await }
        };
        let (described, early_tags) = tokio::join!(
            aws.rds
                .describe_db_subnet_groups()
                .db_subnet_group_name(&name)
                .send(),
            async {
                match recorded_arn.clone() {
                    Some(arn) => Some(list_tags(arn).await),
                    None => None,
                }
            }
        );
        let out = match described.api() {
            Ok(out) => out,
            Err(failure) if failure.is_not_found() => return Ok(None),
            Err(failure) => return Err(failure.into_error(summary)),
        };
        let Some(group) = out.db_subnet_groups().first() else {
            return Ok(None);
        };
        let arn = group.db_subnet_group_arn().unwrap_or_default().to_string();
        let tags = match early_tags {
            _ if arn.is_empty() => BTreeMap::new(),
            Some(Ok(listed)) if recorded_arn.as_deref() == Some(arn.as_str()) => {
                tag_map(listed.tag_list())
            }
            _ => tag_map(ask(list_tags(arn.clone()), &summary).await?.tag_list()),
        };
        let network_types = group.supported_network_types().to_vec();
        Ok(Some(attrs([
            ("id", opt_str(group.db_subnet_group_name())),
            ("name", opt_str(group.db_subnet_group_name())),
            ("arn", Value::String(arn)),
            ("description", opt_str(group.db_subnet_group_description())),
            (
                "subnet_ids",
                str_set(group.subnets().iter().filter_map(|s| s.subnet_identifier())),
            ),
            (
                "supported_network_types",
                str_set(if network_types.is_empty() {
                    vec!["IPV4".to_string()]
                } else {
                    network_types
                }),
            ),
            ("vpc_id", opt_str(group.vpc_id())),
            (REMOTE_TAGS, str_map(&tags)),
        ])))
    }

    async fn update(
        &self,
        aws: &AwsContext,
        operation: &Operation<'_>,
    ) -> Result<Attrs, ProviderError> {
        let name = operation.id();
        let summary = format!("updating {SUBNET_GROUP_LABEL} ({name})");
        if operation.changed("description") || operation.changed("subnet_ids") {
            aws.rds
                .modify_db_subnet_group()
                .db_subnet_group_name(&name)
                .set_db_subnet_group_description(get_str(operation.planned, "description"))
                .set_subnet_ids(Some(get_strings(operation.planned, "subnet_ids")))
                .send()
                .await
                .api()
                .or_fail_on(
                    &summary,
                    &[
                        "InvalidSubnet",
                        "SubnetAlreadyInUse",
                        "DBSubnetGroupDoesNotCoverEnoughAZs",
                    ],
                    "subnet_ids",
                )?;
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
        let name = operation.id();
        let result = operation
            .retry_while(DEPENDENCY_CODES, || {
                done(
                    aws.rds
                        .delete_db_subnet_group()
                        .db_subnet_group_name(&name)
                        .send(),
                )
            })
            .await;
        result
            .gone_ok()
            .or_fail(&format!("deleting {SUBNET_GROUP_LABEL} ({name})"))
    }
}
