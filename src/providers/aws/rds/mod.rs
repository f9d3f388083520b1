//! RDS: `aws_db_subnet_group` ([`db_subnet_group`]) and `aws_db_instance` ([`db_instance`]),
//! as the Terraform AWS provider's `internal/service/rds/subnet_group.go` and `instance.go`.
//!
//! This module has what the two share: reading tags.

mod db_instance;
mod db_subnet_group;

pub(crate) use db_instance::DbInstance;
pub(crate) use db_subnet_group::DbSubnetGroup;

use crate::providers::aws::tags::user_tags_of;
use aws_sdk_rds::types::Tag;
use std::collections::BTreeMap;

/// The user's tags among those RDS answered.
pub(super) fn tag_map(tags: &[Tag]) -> BTreeMap<String, String> {
    user_tags_of(tags.iter().map(|t| (t.key(), t.value())))
}
