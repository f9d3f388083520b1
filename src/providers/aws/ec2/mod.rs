//! EC2 and VPC networking: one module per resource type ([`vpc`], [`subnet`],
//! [`internet_gateway`], [`eip`], [`nat_gateway`], [`route_table`], [`route_table_association`],
//! [`security_group`], [`security_group_rule`]) and per data source ([`vpc_data`],
//! [`availability_zones`]), as the Terraform AWS provider's `internal/service/ec2/`.
//!
//! This module has what they share: tags (on create through `TagSpecifications`, on update with
//! CreateTags/DeleteTags through [`super::tags`]), and batched describes (many ids in one call, falling back to one call
//! per id when AWS rejects the batch because one of them is gone).

mod availability_zones;
mod eip;
mod internet_gateway;
mod nat_gateway;
mod route_table;
mod route_table_association;
mod route_tables_of_vpcs;
mod security_group;
mod security_group_rule;
mod subnet;
mod vpc;
mod vpc_data;

pub(crate) use availability_zones::AvailabilityZones;
pub(crate) use eip::Eip;
pub(crate) use internet_gateway::InternetGateway;
pub(crate) use nat_gateway::NatGateway;
pub(crate) use route_table::RouteTable;
pub(crate) use route_table_association::RouteTableAssociation;
pub(crate) use route_tables_of_vpcs::RouteTablesOfVpcs;
pub(crate) use security_group::SecurityGroup;
pub(crate) use security_group_rule::SecurityGroupRule;
pub(crate) use subnet::Subnet;
pub(crate) use vpc::Vpc;
pub(crate) use vpc_data::VpcData;

use super::support::{
    str_map, string_map_of, ApiFailure, Attrs, FailureExt, NotFoundExt, DEPENDENCY_CODES,
};
use super::tags::{self, ec2_tags, user_tags_of, Tagged};
use super::{AwsContext, Operation, REMOTE_TAGS};
use crate::providers::ProviderError;
use crate::value::Value;
use aws_sdk_ec2::types::{Filter, ResourceType, Tag, TagSpecification};
use std::collections::BTreeMap;
use std::future::Future;

/// The `TagSpecifications` of a create call, from the planned `tags_all`.
pub fn tag_specification(
    resource_type: ResourceType,
    planned: &Value,
) -> Option<Vec<TagSpecification>> {
    let tags = string_map_of(planned.get_attr("tags_all").unwrap_or(&Value::Null));
    if tags.is_empty() {
        return None;
    }
    Some(vec![TagSpecification::builder()
        .resource_type(resource_type)
        .set_tags(Some(ec2_tags(&tags)))
        .build()])
}

/// A read with the tags AWS holds (under [`REMOTE_TAGS`]).
pub fn with_remote_tags(mut read: Attrs, tags: &[Tag]) -> Attrs {
    let map = user_tags_of(tags.iter().map(|t| (t.key(), t.value())));
    read.insert(REMOTE_TAGS.to_string(), str_map(&map));
    read
}

/// Applies a change of `tags_all` to an EC2 object.
pub async fn update_tags(
    aws: &AwsContext,
    id: &str,
    operation: &Operation<'_>,
    label: &str,
) -> Result<(), ProviderError> {
    let summary = format!("updating tags of {label} ({id})");
    tags::update_tags(aws, Tagged::Ec2(id), operation, &summary).await
}

pub fn filter(name: &str, values: impl IntoIterator<Item = String>) -> Filter {
    Filter::builder()
        .name(name)
        .set_values(Some(values.into_iter().collect()))
        .build()
}

/// Describes the objects with `ids` in one call (`describe` gets the ids), keyed by id; empty ids
/// (states without one) are left out. When the batch fails because an id does not exist, asks
/// for each id alone and leaves out the missing.
pub async fn describe_by_ids<T, F, Fut>(
    ids: Vec<String>,
    describe: F,
    id_of: impl Fn(&T) -> Option<String>,
) -> Result<BTreeMap<String, T>, ApiFailure>
where
    F: Fn(Vec<String>) -> Fut,
    Fut: Future<Output = Result<Vec<T>, ApiFailure>>,
{
    let ids: Vec<String> = ids.into_iter().filter(|id| !id.is_empty()).collect();
    let mut found = BTreeMap::new();
    if ids.is_empty() {
        return Ok(found);
    }
    let mut keep = |items: Vec<T>| {
        found.extend(
            items
                .into_iter()
                .filter_map(|item| Some((id_of(&item)?, item))),
        );
    };
    match describe(ids.clone()).await {
        Ok(items) => keep(items),
        Err(failure) if failure.is_not_found() && ids.len() > 1 => {
            for id in ids {
                match describe(vec![id]).await {
                    Ok(items) => keep(items),
                    Err(failure) if failure.is_not_found() => {}
                    Err(failure) => return Err(failure),
                }
            }
        }
        Err(failure) if failure.is_not_found() => {}
        Err(failure) => return Err(failure),
    }
    Ok(found)
}

/// The `describe` argument of [`describe_by_ids`] and [`read_batch`] for an EC2 Describe*
/// operation that takes a list of ids: `describe_ids!(aws, describe_subnets, set_subnet_ids,
/// subnets)` asks `describe_subnets` with the ids and answers its `subnets`.
macro_rules! describe_ids {
    ($aws:expr, $operation:ident, $set_ids:ident, $items:ident) => {
        |ids: Vec<String>| {
            let ec2 = $aws.ec2.clone();
            async move {
                Ok(ec2
                    .$operation()
                    .$set_ids(Some(ids))
                    .send()
                    .await
                    .api()?
                    .$items
                    .unwrap_or_default())
            }
        }
    };
}
pub(crate) use describe_ids;

/// The ids of the current states (an empty string for one without an id).
pub fn ids_of(current: &[Value]) -> Vec<String> {
    current
        .iter()
        .map(|c| {
            c.get_attr("id")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_string()
        })
        .collect()
}

/// Turns a batch of described objects into one read result per current state.
pub fn batch_results<T>(
    current: &[Value],
    described: Result<BTreeMap<String, T>, ApiFailure>,
    summary: &str,
    mut to_attrs: impl FnMut(&T, &Value) -> Attrs,
) -> Vec<Result<Option<Attrs>, ProviderError>> {
    match described {
        Ok(found) => current
            .iter()
            .zip(ids_of(current))
            .map(|(value, id)| Ok(found.get(&id).map(|item| to_attrs(item, value))))
            .collect(),
        Err(failure) => current
            .iter()
            .map(|_| Err(failure.clone().into_error(summary)))
            .collect(),
    }
}

/// The ARN of an EC2 object.
pub fn arn(aws: &AwsContext, owner: Option<&str>, kind: &str, id: &str) -> Value {
    Value::String(format!(
        "arn:aws:ec2:{}:{}:{kind}/{id}",
        aws.region,
        owner.unwrap_or_default()
    ))
}

/// Marks a planned attribute as known only after the apply (what AWS will say once a change
/// is made: an association id, the other end of an association).
pub fn set_unknown(planned: &mut Value, name: &str, ty: crate::value::Type) {
    planned.set_at_path(&crate::value::AttrPath::attr(name).0, Value::Unknown(ty));
}

/// The state of a CIDR block association (`associated`, `disassociating`, ...). The emulator
/// (moto 5) writes a subnet's as the text of a Python dict, `{'State': 'associated'}`: the
/// word inside is taken then.
pub fn association_state(raw: &str) -> &str {
    match raw.split_once("'State': '") {
        Some((_, rest)) => rest.split('\'').next().unwrap_or(raw),
        None => raw,
    }
}

/// Deletes with `call`, retrying while something still depends on the object (an ENI, a
/// NAT gateway being deleted) for at most the operation's timeout; an object already gone is
/// fine.
pub async fn delete_retrying<F, Fut>(
    operation: &Operation<'_>,
    label: &str,
    call: F,
) -> Result<(), ProviderError>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<(), ApiFailure>>,
{
    let id = operation.id();
    let result = operation.retry_while(DEPENDENCY_CODES, call).await;
    result
        .gone_ok()
        .or_fail(&format!("deleting {label} ({id})"))
}

/// The batched read of a resource type: one `describe` call for every current state with an
/// id (see [`describe_by_ids`]), turned into one result per state by `to_attrs`.
pub async fn read_batch<T, F, Fut>(
    current: &[Value],
    label: &str,
    describe: F,
    id_of: impl Fn(&T) -> Option<String>,
    to_attrs: impl FnMut(&T, &Value) -> Attrs,
) -> Vec<Result<Option<Attrs>, ProviderError>>
where
    F: Fn(Vec<String>) -> Fut,
    Fut: Future<Output = Result<Vec<T>, ApiFailure>>,
{
    let described = describe_by_ids(ids_of(current), describe, id_of).await;
    batch_results(current, described, &format!("reading {label}"), to_attrs)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn association_states_are_read_plain_or_from_the_emulator_s_dict_text() {
        assert_eq!(association_state("associated"), "associated");
        assert_eq!(association_state("{'State': 'associated'}"), "associated");
        assert_eq!(
            association_state("{'State': 'disassociating', 'StatusMessage': None}"),
            "disassociating"
        );
    }
}
