//! `aws_subnet`: `vpc_id`, `cidr_block` and `availability_zone` replace;
//! `map_public_ip_on_launch` and the IPv6 flag change in place (ModifySubnetAttribute).
//! A CIDR that overlaps another subnet or lies outside the VPC is AWS's error, reported on
//! `cidr_block` so the engine points at that line. Refresh is one DescribeSubnets for all.

use super::ec2::{
    self, arn, batch_results, describe_by_ids, ids_of, remote_tags, tag_specification,
};
use super::support::{
    attrs, get_bool, get_str, non_empty, opt_str, retry_while, timeouts_block, with_tags, Attrs,
    FailureExt, SdkResultExt, DEPENDENCY_CODES,
};
use super::{AwsContext, Operation, ResourceType};
use crate::providers::schema::{Attribute, Block};
use crate::providers::ProviderError;
use crate::value::{Type, Value};
use async_trait::async_trait;
use aws_sdk_ec2::types::{AttributeBooleanValue, ResourceType as Ec2ResourceType};
use std::time::Duration;

pub struct Subnet;

const LABEL: &str = "EC2 Subnet";

async fn set_flag(
    aws: &AwsContext,
    id: &str,
    name: &str,
    value: bool,
) -> Result<(), ProviderError> {
    let flag = AttributeBooleanValue::builder().value(value).build();
    let request = aws.ec2.modify_subnet_attribute().subnet_id(id);
    let request = match name {
        "map_public_ip_on_launch" => request.map_public_ip_on_launch(flag),
        "enable_dns64" => request.enable_dns64(flag),
        _ => request.assign_ipv6_address_on_creation(flag),
    };
    request.send().await.api().or_fail_on(
        &format!("modifying {LABEL} ({id}) {name}"),
        &["InvalidParameterValue"],
        name,
    )?;
    Ok(())
}

#[async_trait]
impl ResourceType for Subnet {
    fn label(&self) -> &'static str {
        LABEL
    }

    fn schema(&self) -> Block {
        let block = Block::new()
            .attr("id", Attribute::computed(Type::String))
            .attr("arn", Attribute::computed(Type::String))
            .attr("vpc_id", Attribute::required(Type::String).force_new())
            .attr("cidr_block", Attribute::optional(Type::String).force_new())
            .attr(
                "availability_zone",
                Attribute::optional_computed(Type::String).force_new(),
            )
            .attr(
                "availability_zone_id",
                Attribute::optional_computed(Type::String).force_new(),
            )
            .attr(
                "map_public_ip_on_launch",
                Attribute::optional(Type::Bool).with_default(false),
            )
            .attr(
                "assign_ipv6_address_on_creation",
                Attribute::optional(Type::Bool).with_default(false),
            )
            .attr(
                "enable_dns64",
                Attribute::optional(Type::Bool).with_default(false),
            )
            .attr(
                "ipv6_native",
                Attribute::optional(Type::Bool)
                    .with_default(false)
                    .force_new(),
            )
            .attr("ipv6_cidr_block", Attribute::optional(Type::String))
            .attr(
                "ipv6_cidr_block_association_id",
                Attribute::computed(Type::String),
            )
            .attr("owner_id", Attribute::computed(Type::String));
        timeouts_block(with_tags(block), &["create", "delete"])
    }

    fn default_timeout(&self, _operation: super::OperationKind) -> Duration {
        Duration::from_secs(10 * 60)
    }

    async fn create(
        &self,
        aws: &AwsContext,
        operation: &Operation<'_>,
    ) -> Result<Attrs, ProviderError> {
        let planned = operation.planned;
        let out = aws
            .ec2
            .create_subnet()
            .set_vpc_id(get_str(planned, "vpc_id"))
            .set_cidr_block(get_str(planned, "cidr_block"))
            .set_availability_zone(get_str(planned, "availability_zone"))
            .set_availability_zone_id(get_str(planned, "availability_zone_id"))
            .set_ipv6_cidr_block(get_str(planned, "ipv6_cidr_block"))
            .set_ipv6_native(get_bool(planned, "ipv6_native").filter(|b| *b))
            .set_tag_specifications(tag_specification(Ec2ResourceType::Subnet, planned))
            .send()
            .await
            .api();
        let summary = format!("creating {LABEL}");
        let out = out.map_err(|failure| {
            let code = failure.code().to_string();
            let attribute = if code.starts_with("InvalidVpcID") {
                "vpc_id"
            } else if code.contains("AvailabilityZone")
                || failure.message.to_lowercase().contains("availability zone")
            {
                "availability_zone"
            } else {
                "cidr_block"
            };
            let error = failure.into_error(&summary);
            if code.starts_with("InvalidSubnet")
                || code.starts_with("InvalidParameter")
                || code.starts_with("InvalidVpcID")
                || code.contains("AvailabilityZone")
            {
                error.on_attribute(crate::value::AttrPath::attr(attribute))
            } else {
                error
            }
        })?;
        let id = out.subnet().and_then(|s| s.subnet_id()).unwrap_or_default();
        Ok(attrs([("id", Value::from(id))]))
    }

    async fn wait_created(
        &self,
        aws: &AwsContext,
        operation: &Operation<'_>,
        created: &Value,
    ) -> Result<(), ProviderError> {
        let id = get_str(created, "id").unwrap_or_default();
        for name in [
            "map_public_ip_on_launch",
            "assign_ipv6_address_on_creation",
            "enable_dns64",
        ] {
            if get_bool(operation.planned, name) == Some(true) {
                set_flag(aws, &id, name, true).await?;
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
        let ids = ids_of(current)
            .into_iter()
            .filter(|id| !id.is_empty())
            .collect();
        let described = describe_by_ids(
            ids,
            |ids| {
                let ec2 = aws.ec2.clone();
                async move {
                    Ok(ec2
                        .describe_subnets()
                        .set_subnet_ids(Some(ids))
                        .send()
                        .await
                        .api()?
                        .subnets
                        .unwrap_or_default())
                }
            },
            |subnet| subnet.subnet_id().map(str::to_string),
        )
        .await;
        batch_results(
            current,
            described,
            &format!("reading {LABEL}"),
            |subnet, _| {
                let ipv6 = subnet.ipv6_cidr_block_association_set().iter().find(|a| {
                    a.ipv6_cidr_block_state()
                        .and_then(|s| s.state())
                        .map(|s| s.as_str())
                        != Some("disassociated")
                });
                let mut read = attrs([
                    ("id", opt_str(subnet.subnet_id())),
                    (
                        "arn",
                        match subnet.subnet_arn() {
                            Some(arn) => Value::from(arn),
                            None => arn(
                                aws,
                                subnet.owner_id(),
                                "subnet",
                                subnet.subnet_id().unwrap_or_default(),
                            ),
                        },
                    ),
                    ("vpc_id", opt_str(subnet.vpc_id())),
                    ("cidr_block", opt_str(subnet.cidr_block())),
                    ("availability_zone", opt_str(subnet.availability_zone())),
                    (
                        "availability_zone_id",
                        opt_str(subnet.availability_zone_id()),
                    ),
                    (
                        "map_public_ip_on_launch",
                        Value::Bool(subnet.map_public_ip_on_launch().unwrap_or(false)),
                    ),
                    (
                        "assign_ipv6_address_on_creation",
                        Value::Bool(subnet.assign_ipv6_address_on_creation().unwrap_or(false)),
                    ),
                    (
                        "enable_dns64",
                        Value::Bool(subnet.enable_dns64().unwrap_or(false)),
                    ),
                    (
                        "ipv6_native",
                        Value::Bool(subnet.ipv6_native().unwrap_or(false)),
                    ),
                    (
                        "ipv6_cidr_block",
                        non_empty(ipv6.and_then(|a| a.ipv6_cidr_block())),
                    ),
                    (
                        "ipv6_cidr_block_association_id",
                        non_empty(ipv6.and_then(|a| a.association_id())),
                    ),
                    ("owner_id", opt_str(subnet.owner_id())),
                ]);
                let (key, tags) = remote_tags(subnet.tags());
                read.insert(key, tags);
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
            "map_public_ip_on_launch",
            "assign_ipv6_address_on_creation",
            "enable_dns64",
        ] {
            if operation.changed(name) {
                set_flag(
                    aws,
                    &id,
                    name,
                    get_bool(operation.planned, name).unwrap_or(false),
                )
                .await?;
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
                    .delete_subnet()
                    .subnet_id(&id)
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
