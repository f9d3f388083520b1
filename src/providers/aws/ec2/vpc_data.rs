//! The `aws_vpc` data source, as `internal/service/ec2/vpc_data_source.go` of the Terraform AWS
//! provider: it reads through the same describe and attribute calls as the `aws_vpc` resource
//! ([`super::vpc`]).

use super::vpc::{describe_vpcs, vpc_attrs};
use crate::providers::aws::ec2::filter;
use crate::providers::aws::support::{
    computed_strings, get_blocks, get_bool, get_str, get_string_map, get_strings, non_empty,
    opt_str, timeouts_block, Attrs, FailureExt, SdkResultExt,
};
use crate::providers::aws::{AwsContext, DataSourceType};
use crate::providers::schema::{Attribute, Block, Nesting};
use crate::providers::ProviderError;
use crate::value::{ObjectType, Type, Value};
use async_trait::async_trait;

/// The `aws_vpc` data source: one VPC by id, CIDR, `default`, tags or filters.
pub struct VpcData;

#[async_trait]
impl DataSourceType for VpcData {
    fn schema(&self) -> Block {
        let association = Type::Object(ObjectType::new([
            ("association_id".to_string(), Type::String),
            ("cidr_block".to_string(), Type::String),
            ("state".to_string(), Type::String),
        ]));
        let block = computed_strings(&[
            "arn",
            "instance_tenancy",
            "ipv6_association_id",
            "ipv6_cidr_block",
            "main_route_table_id",
            "owner_id",
        ])
        .attr("id", Attribute::optional_computed(Type::String))
        .attr("cidr_block", Attribute::optional_computed(Type::String))
        .attr(
            "cidr_block_associations",
            Attribute::computed(Type::list(association)),
        )
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
        .attr(
            "enable_network_address_usage_metrics",
            Attribute::computed(Type::Bool),
        )
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
        // As the provider: `default = false` cannot be told from unset, so it filters nothing.
        if get_bool(config, "default") == Some(true) {
            request = request.filters(filter("is-default", ["true".to_string()]));
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
        let facts = describe_vpcs(aws, vec![id.clone()])
            .await
            .or_fail(summary)?
            .remove(&id)
            .ok_or_else(|| {
                ProviderError::new(summary, format!("VPC {id} disappeared while being read"))
            })?;
        let mut read = vpc_attrs(aws, &facts, None);
        let tags = read
            .remove(crate::providers::aws::REMOTE_TAGS)
            .unwrap_or(Value::Null);
        read.insert("tags".into(), tags);
        read.insert("state".into(), opt_str(vpc.state().map(|s| s.as_str())));
        read.insert(
            "default".into(),
            Value::Bool(vpc.is_default().unwrap_or(false)),
        );
        read.insert(
            "cidr_block_associations".into(),
            Value::List(
                vpc.cidr_block_association_set()
                    .iter()
                    .map(|a| {
                        Value::object([
                            ("association_id", opt_str(a.association_id())),
                            ("cidr_block", opt_str(a.cidr_block())),
                            (
                                "state",
                                opt_str(
                                    a.cidr_block_state()
                                        .and_then(|s| s.state())
                                        .map(|s| s.as_str()),
                                ),
                            ),
                        ])
                    })
                    .collect(),
            ),
        );
        // The data source takes the first IPv6 block, whatever its state.
        let first = vpc.ipv6_cidr_block_association_set().first();
        read.insert(
            "ipv6_association_id".into(),
            non_empty(first.and_then(|a| a.association_id())),
        );
        read.insert(
            "ipv6_cidr_block".into(),
            non_empty(first.and_then(|a| a.ipv6_cidr_block())),
        );
        for name in [
            "assign_generated_ipv6_cidr_block",
            "default_route_table_id",
            "default_security_group_id",
            "default_network_acl_id",
            "ipv6_cidr_block_network_border_group",
            "ipv6_ipam_pool_id",
            "ipv6_netmask_length",
        ] {
            read.remove(name);
        }
        Ok(read)
    }
}
