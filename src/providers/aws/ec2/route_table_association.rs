//! `aws_route_table_association`, as `internal/service/ec2/vpc_route_table_association.go` of
//! the Terraform AWS provider. Its `route_table_id` changes in place
//! (ReplaceRouteTableAssociation, which gives the association a new id); `subnet_id`/`gateway_id`
//! replace. Refresh of many associations is one DescribeRouteTables.

use crate::providers::aws::ec2::{filter, ids_of};
use crate::providers::aws::support::{
    attrs, done, get_str, non_empty, opt_str, timeouts_block, ApiFailure, Attrs, FailureExt,
    NotFoundExt, SdkResultExt,
};
use crate::providers::aws::{AwsContext, Operation, ResourceType};
use crate::providers::schema::{Attribute, Block};
use crate::providers::ProviderError;
use crate::value::{AttrPath, Type, Value};
use async_trait::async_trait;
use aws_sdk_ec2::types::RouteTable as SdkRouteTable;

/// `aws_route_table_association`: a subnet's (or gateway's) link to a route table.
pub struct RouteTableAssociation;

const ASSOCIATION_LABEL: &str = "EC2 Route Table Association";

/// The id of the association of `target` (a subnet or gateway) with `table`, if AWS has one.
async fn existing_association(aws: &AwsContext, table: &str, target: &str) -> Option<String> {
    let out = aws
        .ec2
        .describe_route_tables()
        .route_table_ids(table)
        .send()
        .await
        .ok()?;
    out.route_tables()
        .first()?
        .associations()
        .iter()
        .find(|a| a.subnet_id() == Some(target) || a.gateway_id() == Some(target))
        .and_then(|a| a.route_table_association_id())
        .map(str::to_string)
}

/// The route tables that hold the associations in `current`: one DescribeRouteTables filtered
/// by their ids, or, when some have none (an import), by their tables' ids.
async fn describe_associated(
    aws: &AwsContext,
    current: &[Value],
) -> Result<Vec<SdkRouteTable>, ApiFailure> {
    if current.is_empty() {
        return Ok(Vec::new());
    }
    let ids: Vec<String> = ids_of(current)
        .into_iter()
        .filter(|id| !id.is_empty())
        .collect();
    let mut request = aws.ec2.describe_route_tables();
    if ids.len() == current.len() {
        request = request.filters(filter("association.route-table-association-id", ids));
    } else {
        let tables: Vec<String> = current
            .iter()
            .filter_map(|c| get_str(c, "route_table_id"))
            .collect();
        request = request.filters(filter("route-table-id", tables));
    }
    request
        .send()
        .await
        .api()
        .map(|out| out.route_tables.unwrap_or_default())
}

/// Reads the associations in `current` with a describe of their own.
async fn read_described(
    aws: &AwsContext,
    current: &[Value],
) -> Vec<Result<Option<Attrs>, ProviderError>> {
    match describe_associated(aws, current).await {
        Ok(tables) => find_associations(&tables, current)
            .into_iter()
            .map(Ok)
            .collect(),
        Err(failure) => {
            let summary = format!("reading {ASSOCIATION_LABEL}");
            current
                .iter()
                .map(|_| Err(failure.clone().into_error(&summary)))
                .collect()
        }
    }
}

/// Each association of `current` as `tables` hold it (by its id, or by its table and subnet or
/// gateway when it has none), `None` where they do not.
fn find_associations(tables: &[SdkRouteTable], current: &[Value]) -> Vec<Option<Attrs>> {
    let associations: Vec<_> = tables
        .iter()
        .flat_map(|t| t.associations().iter())
        .filter(|a| {
            a.association_state()
                .and_then(|s| s.state())
                .map(|s| s.as_str())
                != Some("disassociated")
        })
        .collect();
    current
        .iter()
        .map(|value| {
            let id = get_str(value, "id");
            let subnet = get_str(value, "subnet_id");
            let gateway = get_str(value, "gateway_id");
            let table = get_str(value, "route_table_id");
            let found = associations.iter().find(|a| match &id {
                Some(id) => a.route_table_association_id() == Some(id.as_str()),
                None => {
                    a.route_table_id() == table.as_deref()
                        && (subnet.is_some() && a.subnet_id() == subnet.as_deref()
                            || gateway.is_some() && a.gateway_id() == gateway.as_deref())
                }
            });
            found.map(|a| {
                attrs([
                    ("id", opt_str(a.route_table_association_id())),
                    ("subnet_id", non_empty(a.subnet_id())),
                    ("gateway_id", non_empty(a.gateway_id())),
                    ("route_table_id", opt_str(a.route_table_id())),
                ])
            })
        })
        .collect()
}

#[async_trait]
impl ResourceType for RouteTableAssociation {
    fn label(&self) -> &'static str {
        ASSOCIATION_LABEL
    }

    fn taggable(&self) -> bool {
        false
    }

    fn schema(&self) -> Block {
        let block = Block::new()
            .attr("id", Attribute::computed(Type::String))
            .attr("subnet_id", Attribute::optional(Type::String).force_new())
            .attr("gateway_id", Attribute::optional(Type::String).force_new())
            .attr("route_table_id", Attribute::required(Type::String));
        timeouts_block(block, &["create", "update", "delete"])
    }

    async fn create(
        &self,
        aws: &AwsContext,
        operation: &Operation<'_>,
    ) -> Result<Attrs, ProviderError> {
        let table = get_str(operation.planned, "route_table_id");
        let subnet = get_str(operation.planned, "subnet_id");
        let gateway = get_str(operation.planned, "gateway_id");
        let result = aws
            .ec2
            .associate_route_table()
            .set_route_table_id(table.clone())
            .set_subnet_id(subnet.clone())
            .set_gateway_id(gateway.clone())
            .send()
            .await
            .api();
        if let Err(failure) = &result {
            // The SDK retried an associate whose response was lost: the association exists.
            if failure.code() == "Resource.AlreadyAssociated" {
                let target = subnet.as_deref().or(gateway.as_deref()).unwrap_or_default();
                let table = table.as_deref().unwrap_or_default();
                if let Some(id) = existing_association(aws, table, target).await {
                    return Ok(attrs([("id", Value::String(id))]));
                }
            }
        }
        let out = result.map_err(|failure| {
            let attribute = if failure.code().starts_with("InvalidRouteTable") {
                "route_table_id"
            } else {
                "subnet_id"
            };
            failure
                .into_error(format!("creating {ASSOCIATION_LABEL}"))
                .on_attribute(AttrPath::attr(attribute))
        })?;
        Ok(attrs([("id", opt_str(out.association_id()))]))
    }

    async fn read(
        &self,
        aws: &AwsContext,
        current: &Value,
    ) -> Result<Option<Attrs>, ProviderError> {
        self.read_one_of_many(aws, current).await
    }

    /// One DescribeRouteTables filtered by all the association ids (an import, which knows only
    /// the subnet and table, filters by those). In a refresh that shares its VPCs' route tables,
    /// that list answers for the associations it holds, and only the others are asked for.
    async fn read_many(
        &self,
        aws: &AwsContext,
        current: &[Value],
    ) -> Vec<Result<Option<Attrs>, ProviderError>> {
        let shared = match aws.refresh.route_tables() {
            Some(shared) if !current.is_empty() => shared,
            _ => return read_described(aws, current).await,
        };
        let Ok(tables) = shared.tables(aws).await else {
            return read_described(aws, current).await;
        };
        let found = find_associations(tables, current);
        let missing: Vec<Value> = current
            .iter()
            .zip(&found)
            .filter(|(_, found)| found.is_none())
            .map(|(value, _)| value.clone())
            .collect();
        let mut asked = read_described(aws, &missing).await.into_iter();
        found
            .into_iter()
            .map(|found| match found {
                Some(read) => Ok(Some(read)),
                None => asked.next().unwrap_or(Ok(None)),
            })
            .collect()
    }

    async fn update(
        &self,
        aws: &AwsContext,
        operation: &Operation<'_>,
    ) -> Result<Attrs, ProviderError> {
        let id = operation.id();
        if !operation.changed("route_table_id") {
            return Ok(Attrs::new());
        }
        let out = aws
            .ec2
            .replace_route_table_association()
            .association_id(&id)
            .set_route_table_id(get_str(operation.planned, "route_table_id"))
            .send()
            .await
            .api()
            .or_fail_on(
                &format!("updating {ASSOCIATION_LABEL} ({id})"),
                &["InvalidRouteTableID"],
                "route_table_id",
            )?;
        Ok(attrs([("id", opt_str(out.new_association_id()))]))
    }

    async fn delete(
        &self,
        aws: &AwsContext,
        operation: &Operation<'_>,
    ) -> Result<(), ProviderError> {
        let id = operation.id();
        let call = aws.ec2.disassociate_route_table().association_id(&id);
        let summary = format!("deleting {ASSOCIATION_LABEL} ({id})");
        done(call.send()).await.gone_ok().or_fail(&summary)
    }

    /// Import ids are `subnet-id/route-table-id` (or `gateway-id/route-table-id`).
    fn import_attrs(&self, id: &str) -> Result<Attrs, ProviderError> {
        let Some((target, table)) = id.split_once('/') else {
            return Err(ProviderError::new(
                "invalid import id for aws_route_table_association",
                format!("`{id}`: expected SUBNET_ID/ROUTE_TABLE_ID or GATEWAY_ID/ROUTE_TABLE_ID"),
            ));
        };
        let key = if target.starts_with("subnet-") {
            "subnet_id"
        } else {
            "gateway_id"
        };
        Ok(attrs([
            ("id", Value::Null),
            (key, Value::from(target)),
            ("route_table_id", Value::from(table)),
        ]))
    }
}
