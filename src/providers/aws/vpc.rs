//! `aws_vpc` (resource and data source).
//!
//! `cidr_block` and `instance_tenancy` replace; the DNS flags change in place with
//! ModifyVpcAttribute (one attribute per call, as the API demands). A refresh of N VPCs makes
//! one DescribeVpcs, one DescribeRouteTables, one DescribeSecurityGroups and one
//! DescribeNetworkAcls for all of them, plus two DescribeVpcAttribute per VPC (the DNS flags
//! are only available that way).

use super::ec2::{
    self, arn, batch_results, describe_by_ids, filter, ids_of, remote_tags, tag_specification,
};
use super::support::{
    attrs, get_blocks, get_bool, get_str, get_string_map, get_strings, non_empty, opt_str,
    retry_while, timeouts_block, wait_for, with_tags, ApiFailure, Attrs, FailureExt, Poll,
    SdkResultExt, DEPENDENCY_CODES,
};
use super::{AwsContext, DataSourceType, Operation, ResourceType};
use crate::providers::schema::{Attribute, Block, Nesting};
use crate::providers::ProviderError;
use crate::value::{Type, Value};
use async_trait::async_trait;
use aws_sdk_ec2::types::{
    AttributeBooleanValue, ResourceType as Ec2ResourceType, Tenancy, VpcAttributeName,
};
use std::collections::BTreeMap;

pub struct Vpc;

const LABEL: &str = "EC2 VPC";

fn vpc_block() -> Block {
    let block = Block::new()
        .attr("id", Attribute::computed(Type::String))
        .attr("arn", Attribute::computed(Type::String))
        .attr(
            "cidr_block",
            Attribute::optional_computed(Type::String).force_new(),
        )
        .attr(
            "instance_tenancy",
            Attribute::optional(Type::String)
                .with_default("default")
                .force_new(),
        )
        .attr(
            "enable_dns_support",
            Attribute::optional(Type::Bool).with_default(true),
        )
        .attr(
            "enable_dns_hostnames",
            Attribute::optional_computed(Type::Bool),
        )
        .attr(
            "enable_network_address_usage_metrics",
            Attribute::optional_computed(Type::Bool),
        )
        .attr(
            "assign_generated_ipv6_cidr_block",
            Attribute::optional(Type::Bool).with_default(false),
        )
        .attr(
            "ipv4_ipam_pool_id",
            Attribute::optional(Type::String).force_new(),
        )
        .attr(
            "ipv4_netmask_length",
            Attribute::optional(Type::Number).force_new(),
        )
        .attr(
            "ipv6_cidr_block",
            Attribute::optional_computed(Type::String),
        )
        .attr("ipv6_association_id", Attribute::computed(Type::String))
        .attr("main_route_table_id", Attribute::computed(Type::String))
        .attr("default_route_table_id", Attribute::computed(Type::String))
        .attr(
            "default_security_group_id",
            Attribute::computed(Type::String),
        )
        .attr("default_network_acl_id", Attribute::computed(Type::String))
        .attr("dhcp_options_id", Attribute::computed(Type::String))
        .attr("owner_id", Attribute::computed(Type::String));
    with_tags(block)
}

async fn dns_attribute(
    aws: &AwsContext,
    id: &str,
    name: VpcAttributeName,
) -> Result<Option<bool>, ApiFailure> {
    let out = aws
        .ec2
        .describe_vpc_attribute()
        .vpc_id(id)
        .attribute(name.clone())
        .send()
        .await
        .api()?;
    let value = match name {
        VpcAttributeName::EnableDnsSupport => out.enable_dns_support(),
        VpcAttributeName::EnableDnsHostnames => out.enable_dns_hostnames(),
        _ => out.enable_network_address_usage_metrics(),
    };
    Ok(value.and_then(|v| v.value()))
}

async fn set_dns_attribute(
    aws: &AwsContext,
    id: &str,
    name: &str,
    value: bool,
) -> Result<(), ProviderError> {
    let flag = AttributeBooleanValue::builder().value(value).build();
    let request = aws.ec2.modify_vpc_attribute().vpc_id(id);
    let request = match name {
        "enable_dns_support" => request.enable_dns_support(flag),
        "enable_dns_hostnames" => request.enable_dns_hostnames(flag),
        _ => request.enable_network_address_usage_metrics(flag),
    };
    request.send().await.api().or_fail_on(
        &format!("modifying {LABEL} ({id}) {name}"),
        &["InvalidParameterValue"],
        name,
    )?;
    Ok(())
}

/// The default objects every VPC has, looked up for many VPCs at once: (main route table,
/// default security group, default network ACL) by VPC id.
async fn default_objects(
    aws: &AwsContext,
    vpc_ids: &[String],
) -> Result<BTreeMap<String, [Option<String>; 3]>, ApiFailure> {
    let mut out: BTreeMap<String, [Option<String>; 3]> = BTreeMap::new();
    if vpc_ids.is_empty() {
        return Ok(out);
    }
    let tables = aws
        .ec2
        .describe_route_tables()
        .filters(filter("vpc-id", vpc_ids.iter().cloned()))
        .filters(filter("association.main", ["true".to_string()]))
        .send()
        .await
        .api()?;
    for table in tables.route_tables() {
        if let (Some(vpc), Some(id)) = (table.vpc_id(), table.route_table_id()) {
            out.entry(vpc.to_string()).or_default()[0] = Some(id.to_string());
        }
    }
    let groups = aws
        .ec2
        .describe_security_groups()
        .filters(filter("vpc-id", vpc_ids.iter().cloned()))
        .filters(filter("group-name", ["default".to_string()]))
        .send()
        .await
        .api()?;
    for group in groups.security_groups() {
        if let (Some(vpc), Some(id)) = (group.vpc_id(), group.group_id()) {
            out.entry(vpc.to_string()).or_default()[1] = Some(id.to_string());
        }
    }
    let acls = aws
        .ec2
        .describe_network_acls()
        .filters(filter("vpc-id", vpc_ids.iter().cloned()))
        .filters(filter("default", ["true".to_string()]))
        .send()
        .await
        .api()?;
    for acl in acls.network_acls() {
        if let (Some(vpc), Some(id)) = (acl.vpc_id(), acl.network_acl_id()) {
            out.entry(vpc.to_string()).or_default()[2] = Some(id.to_string());
        }
    }
    Ok(out)
}

/// Everything a read of the VPCs with `ids` needs, in as few calls as the API allows.
async fn describe_vpcs(
    aws: &AwsContext,
    ids: Vec<String>,
) -> Result<BTreeMap<String, Attrs>, ApiFailure> {
    let ids: Vec<String> = ids.into_iter().filter(|id| !id.is_empty()).collect();
    let found = describe_by_ids(
        ids,
        |ids| {
            let ec2 = aws.ec2.clone();
            async move {
                Ok(ec2
                    .describe_vpcs()
                    .set_vpc_ids(Some(ids))
                    .send()
                    .await
                    .api()?
                    .vpcs
                    .unwrap_or_default())
            }
        },
        |vpc| vpc.vpc_id().map(str::to_string),
    )
    .await?;
    let vpc_ids: Vec<String> = found.keys().cloned().collect();
    let defaults = default_objects(aws, &vpc_ids).await?;
    let mut out = BTreeMap::new();
    for (id, vpc) in found {
        let dns_support = dns_attribute(aws, &id, VpcAttributeName::EnableDnsSupport).await?;
        let dns_hostnames = dns_attribute(aws, &id, VpcAttributeName::EnableDnsHostnames).await?;
        let ipv6 = vpc.ipv6_cidr_block_association_set().iter().find(|a| {
            a.ipv6_cidr_block_state()
                .and_then(|s| s.state())
                .map(|s| s.as_str())
                != Some("disassociated")
        });
        let [main_route_table, default_security_group, default_network_acl] =
            defaults.get(&id).cloned().unwrap_or_default();
        let mut read = attrs([
            ("id", Value::from(id.as_str())),
            ("arn", arn(aws, vpc.owner_id(), "vpc", &id)),
            ("cidr_block", opt_str(vpc.cidr_block())),
            (
                "instance_tenancy",
                opt_str(vpc.instance_tenancy().map(|t| t.as_str())),
            ),
            (
                "enable_dns_support",
                dns_support.map(Value::Bool).unwrap_or(Value::Null),
            ),
            (
                "enable_dns_hostnames",
                dns_hostnames.map(Value::Bool).unwrap_or(Value::Null),
            ),
            (
                "assign_generated_ipv6_cidr_block",
                Value::Bool(ipv6.is_some()),
            ),
            (
                "ipv6_cidr_block",
                non_empty(ipv6.and_then(|a| a.ipv6_cidr_block())),
            ),
            (
                "ipv6_association_id",
                non_empty(ipv6.and_then(|a| a.association_id())),
            ),
            ("main_route_table_id", opt_str(main_route_table.clone())),
            ("default_route_table_id", opt_str(main_route_table)),
            ("default_security_group_id", opt_str(default_security_group)),
            ("default_network_acl_id", opt_str(default_network_acl)),
            ("dhcp_options_id", opt_str(vpc.dhcp_options_id())),
            ("owner_id", opt_str(vpc.owner_id())),
            ("state", opt_str(vpc.state().map(|s| s.as_str()))),
            ("default", Value::Bool(vpc.is_default().unwrap_or(false))),
        ]);
        let (key, tags) = remote_tags(vpc.tags());
        read.insert(key, tags);
        out.insert(id, read);
    }
    Ok(out)
}

#[async_trait]
impl ResourceType for Vpc {
    fn label(&self) -> &'static str {
        LABEL
    }

    fn schema(&self) -> Block {
        vpc_block()
    }

    async fn create(
        &self,
        aws: &AwsContext,
        operation: &Operation<'_>,
    ) -> Result<Attrs, ProviderError> {
        let planned = operation.planned;
        let tenancy = get_str(planned, "instance_tenancy").unwrap_or_else(|| "default".into());
        let out = aws
            .ec2
            .create_vpc()
            .set_cidr_block(get_str(planned, "cidr_block"))
            .instance_tenancy(Tenancy::from(tenancy.as_str()))
            .set_amazon_provided_ipv6_cidr_block(get_bool(
                planned,
                "assign_generated_ipv6_cidr_block",
            ))
            .set_ipv4_ipam_pool_id(get_str(planned, "ipv4_ipam_pool_id"))
            .set_tag_specifications(tag_specification(Ec2ResourceType::Vpc, planned))
            .send()
            .await
            .api()
            .or_fail_on(
                &format!("creating {LABEL}"),
                &["InvalidVpc", "InvalidParameterValue"],
                "cidr_block",
            )?;
        let id = out.vpc().and_then(|v| v.vpc_id()).unwrap_or_default();
        Ok(attrs([("id", Value::from(id))]))
    }

    async fn wait_created(
        &self,
        aws: &AwsContext,
        operation: &Operation<'_>,
        created: &Value,
    ) -> Result<(), ProviderError> {
        let id = get_str(created, "id").unwrap_or_default();
        wait_for(
            LABEL,
            "available",
            operation.timeout,
            operation.progress,
            || async {
                let out = aws.ec2.describe_vpcs().vpc_ids(&id).send().await.api();
                match out {
                    Ok(out) => {
                        let state = out
                            .vpcs()
                            .first()
                            .and_then(|v| v.state())
                            .map(|s| s.as_str().to_string());
                        match state.as_deref() {
                            Some("available") => Ok(Poll::Done(())),
                            Some(other) => Ok(Poll::Pending(other.to_string())),
                            None => Ok(Poll::Pending("not yet visible".into())),
                        }
                    }
                    Err(failure) if failure.is_not_found() => {
                        Ok(Poll::Pending("not yet visible".into()))
                    }
                    Err(failure) => Err(failure.into_error(format!("waiting for {LABEL} ({id})"))),
                }
            },
        )
        .await?;
        // AWS's defaults are DNS support on, hostnames off: change only what differs.
        if get_bool(operation.planned, "enable_dns_support") == Some(false) {
            set_dns_attribute(aws, &id, "enable_dns_support", false).await?;
        }
        if get_bool(operation.planned, "enable_dns_hostnames") == Some(true) {
            set_dns_attribute(aws, &id, "enable_dns_hostnames", true).await?;
        }
        if let Some(metrics) = get_bool(operation.planned, "enable_network_address_usage_metrics") {
            if metrics {
                set_dns_attribute(aws, &id, "enable_network_address_usage_metrics", true).await?;
            }
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
        let described = describe_vpcs(aws, ids_of(current)).await;
        batch_results(
            current,
            described,
            &format!("reading {LABEL}"),
            |read, _| {
                let mut read = read.clone();
                read.remove("state");
                read.remove("default");
                read
            },
        )
    }

    async fn update(
        &self,
        aws: &AwsContext,
        operation: &Operation<'_>,
    ) -> Result<Attrs, ProviderError> {
        let id = operation.id();
        for name in [
            "enable_dns_support",
            "enable_dns_hostnames",
            "enable_network_address_usage_metrics",
        ] {
            if operation.changed(name) {
                if let Some(value) = get_bool(operation.planned, name) {
                    set_dns_attribute(aws, &id, name, value).await?;
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
        let result = retry_while(
            DEPENDENCY_CODES,
            operation.timeout,
            operation.progress,
            || async {
                aws.ec2
                    .delete_vpc()
                    .vpc_id(&id)
                    .send()
                    .await
                    .api()
                    .map(|_| ())
            },
        )
        .await;
        match result {
            Err(failure) if failure.is_not_found() => Ok(()),
            other => other.or_fail(&format!("deleting {LABEL} ({id})")),
        }
    }
}

/// The `aws_vpc` data source: one VPC by id, CIDR, `default`, tags or filters.
pub struct VpcData;

#[async_trait]
impl DataSourceType for VpcData {
    fn schema(&self) -> Block {
        let block = Block::new()
            .attr("id", Attribute::optional_computed(Type::String))
            .attr("arn", Attribute::computed(Type::String))
            .attr("cidr_block", Attribute::optional_computed(Type::String))
            .attr("default", Attribute::optional_computed(Type::Bool))
            .attr("state", Attribute::optional_computed(Type::String))
            .attr(
                "dhcp_options_id",
                Attribute::optional_computed(Type::String),
            )
            .attr(
                "tags",
                Attribute::optional_computed(Type::map(Type::String)),
            )
            .attr("enable_dns_support", Attribute::computed(Type::Bool))
            .attr("enable_dns_hostnames", Attribute::computed(Type::Bool))
            .attr("instance_tenancy", Attribute::computed(Type::String))
            .attr("ipv6_association_id", Attribute::computed(Type::String))
            .attr("ipv6_cidr_block", Attribute::computed(Type::String))
            .attr("main_route_table_id", Attribute::computed(Type::String))
            .attr("owner_id", Attribute::computed(Type::String))
            .block(
                "filter",
                Nesting::Set,
                Block::new()
                    .attr("name", Attribute::required(Type::String))
                    .attr("values", Attribute::required(Type::set(Type::String))),
            );
        timeouts_block(block, &["read"])
    }

    async fn read(&self, aws: &AwsContext, config: &Value) -> Result<Attrs, ProviderError> {
        let summary = "reading EC2 VPC data source";
        let mut request = aws.ec2.describe_vpcs();
        if let Some(id) = get_str(config, "id") {
            request = request.vpc_ids(id);
        }
        if let Some(cidr) = get_str(config, "cidr_block") {
            request = request.filters(filter("cidr", [cidr]));
        }
        if let Some(default) = get_bool(config, "default") {
            request = request.filters(filter("is-default", [default.to_string()]));
        }
        if let Some(state) = get_str(config, "state") {
            request = request.filters(filter("state", [state]));
        }
        if let Some(dhcp) = get_str(config, "dhcp_options_id") {
            request = request.filters(filter("dhcp-options-id", [dhcp]));
        }
        for (key, value) in get_string_map(config, "tags") {
            request = request.filters(filter(&format!("tag:{key}"), [value]));
        }
        for block in get_blocks(config, "filter") {
            if let Some(name) = get_str(block, "name") {
                request = request.filters(filter(&name, get_strings(block, "values")));
            }
        }
        let out = request.send().await.api().or_fail(summary)?;
        let vpcs = out.vpcs();
        let vpc = match vpcs {
            [one] => one,
            [] => return Err(ProviderError::new(
                "no matching EC2 VPC found",
                "the aws_vpc data source's arguments match no VPC; check the id, tags or filters",
            )),
            _ => {
                return Err(ProviderError::new(
                    "multiple EC2 VPCs matched",
                    format!(
                    "{} VPCs match; use additional constraints to reduce matches to a single VPC",
                    vpcs.len()
                ),
                ))
            }
        };
        let id = vpc.vpc_id().unwrap_or_default().to_string();
        let mut read = describe_vpcs(aws, vec![id.clone()])
            .await
            .or_fail(summary)?
            .remove(&id)
            .ok_or_else(|| {
                ProviderError::new(summary, format!("VPC {id} disappeared while being read"))
            })?;
        let tags = read.remove(super::REMOTE_TAGS).unwrap_or(Value::Null);
        read.insert("tags".into(), tags);
        for name in [
            "assign_generated_ipv6_cidr_block",
            "default_route_table_id",
            "default_security_group_id",
            "default_network_acl_id",
        ] {
            read.remove(name);
        }
        Ok(read)
    }
}
