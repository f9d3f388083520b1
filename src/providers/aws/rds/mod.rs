//! RDS: `aws_db_subnet_group` ([`db_subnet_group`]) and `aws_db_instance` ([`db_instance`]),
//! as the Terraform AWS provider's `internal/service/rds/subnet_group.go` and `instance.go`.
//!
//! This module has what the two share: tags.

mod db_instance;
mod db_subnet_group;

pub(crate) use db_instance::DbInstance;
pub(crate) use db_subnet_group::DbSubnetGroup;

use crate::providers::aws::support::{update_tags, user_tags, SdkResultExt};
use crate::providers::aws::{AwsContext, Operation};
use crate::providers::ProviderError;
use aws_sdk_rds::types::Tag;
use std::collections::BTreeMap;

pub(super) fn rds_tags(tags: &BTreeMap<String, String>) -> Vec<Tag> {
    tags.iter()
        .map(|(k, v)| Tag::builder().key(k).value(v).build())
        .collect()
}

pub(super) fn tag_map(tags: &[Tag]) -> BTreeMap<String, String> {
    user_tags(tags.iter().filter_map(|t| {
        Some((
            t.key()?.to_string(),
            t.value().unwrap_or_default().to_string(),
        ))
    }))
}

pub(super) async fn update_rds_tags(
    aws: &AwsContext,
    arn: &str,
    operation: &Operation<'_>,
    summary: &str,
) -> Result<(), ProviderError> {
    update_tags(
        operation,
        summary,
        |keys| async move {
            aws.rds
                .remove_tags_from_resource()
                .resource_name(arn)
                .set_tag_keys(Some(keys))
                .send()
                .await
                .api()
                .map(|_| ())
        },
        |tags| async move {
            aws.rds
                .add_tags_to_resource()
                .resource_name(arn)
                .set_tags(Some(rds_tags(&tags)))
                .send()
                .await
                .api()
                .map(|_| ())
        },
    )
    .await
}
