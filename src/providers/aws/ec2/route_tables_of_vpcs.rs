//! One DescribeRouteTables for a whole refresh (issue 16): the refresh of `aws_vpc` asks for
//! each VPC's main route table, `aws_route_table` for its tables by id and
//! `aws_route_table_association` for the tables holding its associations: three questions about
//! the same tables. When a refresh reads at least two of these types, the route tables of every
//! VPC it knows of (the VPCs' ids and the tables' `vpc_id`) are described once, by a `vpc-id`
//! filter, and each read takes its answer from that list:
//! - a VPC's main route table is the table of that VPC with a main association, as the filter
//!   `association.main = true` would have found it;
//! - a route table cannot move to another VPC, so one recorded in a VPC of the list is in it
//!   unless it is gone; one not in it is asked for by id as before, so "gone" stays AWS's word
//!   on the id;
//! - an association's id is its table's for life (ReplaceRouteTableAssociation makes a new one),
//!   so one found in the list is found; one not found is asked for as before.
//!
//! The list lives from [`crate::providers::Provider::refresh_starting`] to
//! [`crate::providers::Provider::refresh_finished`] (see [`crate::providers::aws::refresh`]);
//! outside a refresh every read asks AWS itself.

use crate::providers::aws::ec2::filter;
use crate::providers::aws::support::{get_str, ApiFailure, SdkResultExt};
use crate::providers::aws::AwsContext;
use crate::value::Value;
use aws_sdk_ec2::types::RouteTable as SdkRouteTable;
use std::collections::{BTreeMap, BTreeSet};
use tokio::sync::OnceCell;

/// The route tables of some VPCs, described once when first asked for.
pub(crate) struct RouteTablesOfVpcs {
    vpcs: BTreeSet<String>,
    answer: OnceCell<Result<Vec<SdkRouteTable>, ApiFailure>>,
}

impl RouteTablesOfVpcs {
    /// The shared describe for a refresh of `objects` (recorded values by resource type), when
    /// at least two of the three types that ask about route tables are read in it.
    pub(crate) fn for_refresh(objects: &BTreeMap<&str, Vec<&Value>>) -> Option<Self> {
        let of = |type_name: &str| objects.get(type_name).map(Vec::as_slice).unwrap_or(&[]);
        let (vpcs, tables) = (of("aws_vpc"), of("aws_route_table"));
        let askers = [vpcs, tables, of("aws_route_table_association")]
            .iter()
            .filter(|objects| !objects.is_empty())
            .count();
        let ids: BTreeSet<String> = vpcs
            .iter()
            .filter_map(|vpc| get_str(vpc, "id"))
            .chain(tables.iter().filter_map(|table| get_str(table, "vpc_id")))
            .filter(|id| !id.is_empty())
            .collect();
        (askers >= 2 && !ids.is_empty()).then(|| RouteTablesOfVpcs {
            vpcs: ids,
            answer: OnceCell::new(),
        })
    }

    /// Whether the list holds every table of each of `vpc_ids` (none may be empty).
    pub(crate) fn covers<'a>(&self, mut vpc_ids: impl Iterator<Item = Option<&'a str>>) -> bool {
        vpc_ids.all(|id| id.is_some_and(|id| self.vpcs.contains(id)))
    }

    /// The tables, described on the first call; later calls (and calls made meanwhile) wait for
    /// and share that answer, failure included.
    pub(crate) async fn tables(&self, aws: &AwsContext) -> Result<&[SdkRouteTable], ApiFailure> {
        let answer = self
            .answer
            .get_or_init(|| describe_of_vpcs(aws, &self.vpcs))
            .await;
        answer.as_deref().map_err(Clone::clone)
    }
}

/// Every route table of `vpcs`, all pages.
async fn describe_of_vpcs(
    aws: &AwsContext,
    vpcs: &BTreeSet<String>,
) -> Result<Vec<SdkRouteTable>, ApiFailure> {
    let mut tables = Vec::new();
    let mut token = None;
    loop {
        let out = aws
            .ec2
            .describe_route_tables()
            .filters(filter("vpc-id", vpcs.iter().cloned()))
            .set_next_token(token)
            .send()
            .await
            .api()?;
        tables.extend(out.route_tables.unwrap_or_default());
        match out.next_token {
            Some(next) if !next.is_empty() => token = Some(next),
            _ => return Ok(tables),
        }
    }
}
