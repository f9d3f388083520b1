//! `aws_route_table` (with inline `route` blocks); its association is
//! [`super::route_table_association`].
//!
//! Routes change in place: each is keyed by its destination; routes gone from the
//! configuration are deleted, new ones created, ones whose target changed replaced. The `local`
//! route and routes propagated from a virtual private gateway are AWS's, never shown. An
//! association's `route_table_id` changes in place (ReplaceRouteTableAssociation, which gives
//! the association a new id); `subnet_id`/`gateway_id` replace. Refresh of many tables or many
//! associations is one DescribeRouteTables each.

use crate::providers::aws::ec2::{
    self, arn, batch_results, describe_by_ids, describe_ids, ids_of, tag_specification,
    with_remote_tags, RouteTablesOfVpcs,
};
use crate::providers::aws::support::{
    attrs, client_token, computed_set_block, computed_strings, done, get_blocks, get_str,
    get_strings, non_empty, opt_str, str_set, timeouts_block, with_tags, ApiFailure, Attrs,
    FailureExt, NotFoundExt, SdkResultExt,
};
use crate::providers::aws::{AwsContext, Operation, OperationKind, ResourceType};
use crate::providers::schema::{Attribute, Block};
use crate::providers::ProviderError;
use crate::value::{AttrPath, Type, Value};
use async_trait::async_trait;
use aws_sdk_ec2::types::{ResourceType as Ec2ResourceType, Route, RouteTable as SdkRouteTable};
use std::collections::BTreeMap;

pub struct RouteTable;

/// Turns route propagation from virtual private gateway `gateway` on or off.
async fn set_propagation(
    aws: &AwsContext,
    table_id: &str,
    gateway: &str,
    enable: bool,
) -> Result<(), ProviderError> {
    let result = if enable {
        let call = aws
            .ec2
            .enable_vgw_route_propagation()
            .route_table_id(table_id);
        done(call.gateway_id(gateway).send()).await
    } else {
        let call = aws
            .ec2
            .disable_vgw_route_propagation()
            .route_table_id(table_id);
        done(call.gateway_id(gateway).send()).await
    };
    let verb = if enable { "enabling" } else { "disabling" };
    result.or_fail_on(
        &format!("{verb} route propagation from {gateway} in {LABEL} ({table_id})"),
        &["InvalidVpnGatewayID", "Gateway.NotAttached"],
        "propagating_vgws",
    )
}

const LABEL: &str = "EC2 Route Table";

/// The destinations of a route, in the order they are tried as its key.
const DESTINATIONS: &[&str] = &[
    "cidr_block",
    "ipv6_cidr_block",
    "destination_prefix_list_id",
];

/// The targets a route can have.
const TARGETS: &[&str] = &[
    "carrier_gateway_id",
    "core_network_arn",
    "egress_only_gateway_id",
    "gateway_id",
    "local_gateway_id",
    "nat_gateway_id",
    "network_interface_id",
    "transit_gateway_id",
    "vpc_endpoint_id",
    "vpc_peering_connection_id",
];

fn route_block() -> Block {
    let mut block = Block::new();
    for name in DESTINATIONS.iter().chain(TARGETS) {
        block = block.attr(name, Attribute::optional(Type::String));
    }
    block
}

/// A route's destination: (attribute, value).
fn destination(route: &Value) -> Option<(&'static str, String)> {
    DESTINATIONS
        .iter()
        .find_map(|name| get_str(route, name).map(|v| (*name, v)))
}

fn route_value(route: &Route) -> Value {
    Value::object([
        ("cidr_block", non_empty(route.destination_cidr_block())),
        (
            "ipv6_cidr_block",
            non_empty(route.destination_ipv6_cidr_block()),
        ),
        (
            "destination_prefix_list_id",
            non_empty(route.destination_prefix_list_id()),
        ),
        ("carrier_gateway_id", non_empty(route.carrier_gateway_id())),
        ("core_network_arn", non_empty(route.core_network_arn())),
        (
            "egress_only_gateway_id",
            non_empty(route.egress_only_internet_gateway_id()),
        ),
        // A gateway route to a VPC endpoint is written with `vpc_endpoint_id`.
        (
            "gateway_id",
            non_empty(route.gateway_id().filter(|g| !g.starts_with("vpce-"))),
        ),
        ("local_gateway_id", non_empty(route.local_gateway_id())),
        ("nat_gateway_id", non_empty(route.nat_gateway_id())),
        (
            "network_interface_id",
            non_empty(route.network_interface_id()),
        ),
        ("transit_gateway_id", non_empty(route.transit_gateway_id())),
        (
            "vpc_endpoint_id",
            non_empty(route.gateway_id().filter(|g| g.starts_with("vpce-"))),
        ),
        (
            "vpc_peering_connection_id",
            non_empty(route.vpc_peering_connection_id()),
        ),
    ])
}

/// The routes the user manages: not `local` or VPC Lattice's, not propagated, not the
/// prefix-list routes a VPC endpoint adds (those belong to `aws_vpc_endpoint`).
fn user_routes(table: &SdkRouteTable) -> Vec<Value> {
    table
        .routes()
        .iter()
        .filter(|r| !matches!(r.gateway_id(), Some("local" | "VpcLattice")))
        .filter(|r| r.origin().map(|o| o.as_str()) != Some("EnableVgwRoutePropagation"))
        .filter(|r| {
            !(r.destination_prefix_list_id().is_some()
                && r.gateway_id().is_some_and(|g| g.starts_with("vpce-")))
        })
        .map(route_value)
        .collect()
}

async fn create_route(
    aws: &AwsContext,
    table_id: &str,
    route: &Value,
    replace: bool,
) -> Result<(), ApiFailure> {
    let gateway = get_str(route, "gateway_id");
    macro_rules! fill {
        ($request:expr) => {
            $request
                .route_table_id(table_id)
                .set_destination_cidr_block(get_str(route, "cidr_block"))
                .set_destination_ipv6_cidr_block(get_str(route, "ipv6_cidr_block"))
                .set_destination_prefix_list_id(get_str(route, "destination_prefix_list_id"))
                .set_carrier_gateway_id(get_str(route, "carrier_gateway_id"))
                .set_core_network_arn(get_str(route, "core_network_arn"))
                .set_egress_only_internet_gateway_id(get_str(route, "egress_only_gateway_id"))
                .set_gateway_id(gateway.clone())
                .set_local_gateway_id(get_str(route, "local_gateway_id"))
                .set_nat_gateway_id(get_str(route, "nat_gateway_id"))
                .set_network_interface_id(get_str(route, "network_interface_id"))
                .set_transit_gateway_id(get_str(route, "transit_gateway_id"))
                .set_vpc_endpoint_id(get_str(route, "vpc_endpoint_id"))
                .set_vpc_peering_connection_id(get_str(route, "vpc_peering_connection_id"))
                .send()
                .await
                .api()
                .map(|_| ())
        };
    }
    if replace {
        return fill!(aws.ec2.replace_route());
    }
    match fill!(aws.ec2.create_route()) {
        Err(failure)
            if failure.code() == "RouteAlreadyExists"
                && route_already_made(aws, table_id, route).await =>
        {
            Ok(())
        }
        other => other,
    }
}

/// Whether `table_id` holds `route` as planned: the same destination and the same target.
/// A `CreateRoute` sent again after its first response was lost (a reset, a timeout) meets
/// its own route (`RouteAlreadyExists`), which is then kept; a route to another target is not.
async fn route_already_made(aws: &AwsContext, table_id: &str, route: &Value) -> bool {
    let Some(wanted) = destination(route) else {
        return false;
    };
    let Ok(tables) = describe_tables(aws, vec![table_id.to_string()]).await else {
        return false;
    };
    tables.get(table_id).is_some_and(|table| {
        user_routes(table).iter().any(|found| {
            destination(found).as_ref() == Some(&wanted)
                && TARGETS
                    .iter()
                    .all(|target| get_str(found, target) == get_str(route, target))
        })
    })
}

async fn delete_route(aws: &AwsContext, table_id: &str, route: &Value) -> Result<(), ApiFailure> {
    let result = aws
        .ec2
        .delete_route()
        .route_table_id(table_id)
        .set_destination_cidr_block(get_str(route, "cidr_block"))
        .set_destination_ipv6_cidr_block(get_str(route, "ipv6_cidr_block"))
        .set_destination_prefix_list_id(get_str(route, "destination_prefix_list_id"))
        .send()
        .await
        .api();
    result.gone_ok()
}

fn route_error(failure: ApiFailure, table_id: &str, route: &Value) -> ProviderError {
    let target = destination(route).map(|(_, v)| v).unwrap_or_default();
    failure
        .into_error(format!(
            "creating route to {target} in {LABEL} ({table_id})"
        ))
        .on_attribute(AttrPath::attr("route"))
}

/// Routes keyed by destination.
fn routes_by_destination(routes: Vec<&Value>) -> BTreeMap<String, &Value> {
    routes
        .into_iter()
        .filter_map(|r| destination(r).map(|(name, value)| (format!("{name}={value}"), r)))
        .collect()
}

async fn describe_tables(
    aws: &AwsContext,
    ids: Vec<String>,
) -> Result<BTreeMap<String, SdkRouteTable>, ApiFailure> {
    describe_by_ids(
        ids,
        describe_ids!(
            aws,
            describe_route_tables,
            set_route_table_ids,
            route_tables
        ),
        |table| table.route_table_id().map(str::to_string),
    )
    .await
}

/// The tables with `ids` from the refresh's list of its VPCs' tables; the ones it does not hold
/// (gone, since a table cannot leave its VPC) are asked for by id, so that AWS says they are.
async fn tables_in_refresh(
    aws: &AwsContext,
    shared: &RouteTablesOfVpcs,
    ids: Vec<String>,
) -> Result<BTreeMap<String, SdkRouteTable>, ApiFailure> {
    let mut found: BTreeMap<String, SdkRouteTable> = shared
        .tables(aws)
        .await?
        .iter()
        .filter_map(|table| {
            let id = table.route_table_id()?;
            ids.iter()
                .any(|wanted| wanted == id)
                .then(|| (id.to_string(), table.clone()))
        })
        .collect();
    let missing: Vec<String> = ids
        .into_iter()
        .filter(|id| !found.contains_key(id))
        .collect();
    if missing.iter().any(|id| !id.is_empty()) {
        found.extend(describe_tables(aws, missing).await?);
    }
    Ok(found)
}

#[async_trait]
impl ResourceType for RouteTable {
    fn label(&self) -> &'static str {
        LABEL
    }

    fn schema(&self) -> Block {
        let block = computed_strings(&["id", "arn", "owner_id"])
            .attr("vpc_id", Attribute::required(Type::String).force_new())
            .attr(
                "propagating_vgws",
                Attribute::optional_computed(Type::set(Type::String)),
            )
            .nested("route", computed_set_block(route_block()));
        timeouts_block(with_tags(block), &["create", "update", "delete"])
    }

    fn default_timeout(&self, operation: OperationKind) -> std::time::Duration {
        match operation {
            OperationKind::Update => std::time::Duration::from_secs(2 * 60),
            _ => std::time::Duration::from_secs(5 * 60),
        }
    }

    async fn create(
        &self,
        aws: &AwsContext,
        operation: &Operation<'_>,
    ) -> Result<Attrs, ProviderError> {
        let out = aws
            .ec2
            .create_route_table()
            .client_token(client_token(operation.token))
            .set_vpc_id(get_str(operation.planned, "vpc_id"))
            .set_tag_specifications(tag_specification(
                Ec2ResourceType::RouteTable,
                operation.planned,
            ))
            .send()
            .await
            .api()
            .or_fail_on(&format!("creating {LABEL}"), &["InvalidVpcID"], "vpc_id")?;
        Ok(attrs([(
            "id",
            opt_str(out.route_table().and_then(|t| t.route_table_id())),
        )]))
    }

    async fn wait_created(
        &self,
        aws: &AwsContext,
        operation: &Operation<'_>,
        created: &Value,
    ) -> Result<(), ProviderError> {
        let id = get_str(created, "id").unwrap_or_default();
        for route in get_blocks(operation.planned, "route") {
            create_route(aws, &id, route, false)
                .await
                .map_err(|f| route_error(f, &id, route))?;
        }
        for gateway in get_strings(operation.planned, "propagating_vgws") {
            set_propagation(aws, &id, &gateway, true).await?;
        }
        Ok(())
    }

    async fn read(
        &self,
        aws: &AwsContext,
        current: &Value,
    ) -> Result<Option<Attrs>, ProviderError> {
        self.read_one_of_many(aws, current).await
    }

    async fn read_many(
        &self,
        aws: &AwsContext,
        current: &[Value],
    ) -> Vec<Result<Option<Attrs>, ProviderError>> {
        let shared = aws.refresh.route_tables();
        let vpc_ids = current
            .iter()
            .map(|c| c.get_attr("vpc_id").and_then(Value::as_str));
        let shared = shared.filter(|s| !current.is_empty() && s.covers(vpc_ids));
        let described = match shared {
            Some(shared) => tables_in_refresh(aws, &shared, ids_of(current)).await,
            None => describe_tables(aws, ids_of(current)).await,
        };
        batch_results(
            current,
            described,
            &format!("reading {LABEL}"),
            |table, _| {
                let id = table.route_table_id().unwrap_or_default();
                let read = attrs([
                    ("id", Value::from(id)),
                    ("arn", arn(aws, table.owner_id(), "route-table", id)),
                    ("vpc_id", opt_str(table.vpc_id())),
                    ("owner_id", opt_str(table.owner_id())),
                    ("route", Value::set(user_routes(table))),
                    (
                        "propagating_vgws",
                        str_set(
                            table
                                .propagating_vgws()
                                .iter()
                                .filter_map(|p| p.gateway_id()),
                        ),
                    ),
                ]);
                with_remote_tags(read, table.tags())
            },
        )
    }

    async fn update(
        &self,
        aws: &AwsContext,
        operation: &Operation<'_>,
    ) -> Result<Attrs, ProviderError> {
        let id = operation.id();
        if operation.changed("propagating_vgws") {
            let before = operation
                .prior
                .map(|p| get_strings(p, "propagating_vgws"))
                .unwrap_or_default();
            let after = get_strings(operation.planned, "propagating_vgws");
            for gateway in before.iter().filter(|g| !after.contains(g)) {
                set_propagation(aws, &id, gateway, false).await?;
            }
            for gateway in after.iter().filter(|g| !before.contains(g)) {
                set_propagation(aws, &id, gateway, true).await?;
            }
        }
        if operation.changed("route") {
            let before = routes_by_destination(
                operation
                    .prior
                    .map(|p| get_blocks(p, "route"))
                    .unwrap_or_default(),
            );
            let after = routes_by_destination(get_blocks(operation.planned, "route"));
            for (key, route) in &before {
                if !after.contains_key(key) {
                    delete_route(aws, &id, route)
                        .await
                        .or_fail(&format!("deleting route {key} from {LABEL} ({id})"))?;
                }
            }
            for (key, route) in &after {
                match before.get(key) {
                    Some(old) if old.equals(route) == Some(true) => {}
                    Some(_) => create_route(aws, &id, route, true)
                        .await
                        .map_err(|f| route_error(f, &id, route))?,
                    None => create_route(aws, &id, route, false)
                        .await
                        .map_err(|f| route_error(f, &id, route))?,
                }
            }
        }
        ec2::update_tags(aws, &id, operation, LABEL).await?;
        Ok(Attrs::new())
    }

    async fn delete(
        &self,
        aws: &AwsContext,
        operation: &Operation<'_>,
    ) -> Result<(), ProviderError> {
        let id = operation.id();
        ec2::delete_retrying(operation, LABEL, || {
            done(aws.ec2.delete_route_table().route_table_id(&id).send())
        })
        .await
    }
}
