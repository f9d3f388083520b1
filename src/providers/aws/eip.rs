//! `aws_eip` (VPC addresses): `domain`, `address`, `public_ipv4_pool` and
//! `network_border_group` replace; tags change in place. Its `id` is the allocation id.
//! Release retries while a NAT gateway being deleted still holds the address. Refresh is one
//! DescribeAddresses for all. (Associating with an instance or interface is not implemented:
//! the EKS configurations this provider serves give addresses to NAT gateways.)

use super::ec2::{self, batch_results, describe_by_ids, ids_of, remote_tags, tag_specification};
use super::support::{
    attrs, get_str, non_empty, opt_str, retry_while, timeouts_block, with_tags, Attrs, FailureExt,
    SdkResultExt, DEPENDENCY_CODES,
};
use super::{AwsContext, Operation, ResourceType};
use crate::providers::schema::{Attribute, Block};
use crate::providers::ProviderError;
use crate::value::{Type, Value};
use async_trait::async_trait;
use aws_sdk_ec2::types::{DomainType, ResourceType as Ec2ResourceType};

pub struct Eip;

const LABEL: &str = "EC2 EIP";

#[async_trait]
impl ResourceType for Eip {
    fn label(&self) -> &'static str {
        LABEL
    }

    fn schema(&self) -> Block {
        let block = Block::new()
            .attr("id", Attribute::computed(Type::String))
            .attr("arn", Attribute::computed(Type::String))
            .attr("allocation_id", Attribute::computed(Type::String))
            .attr("association_id", Attribute::computed(Type::String))
            .attr(
                "domain",
                Attribute::optional_computed(Type::String).force_new(),
            )
            .attr("address", Attribute::optional(Type::String).force_new())
            .attr(
                "public_ipv4_pool",
                Attribute::optional_computed(Type::String).force_new(),
            )
            .attr(
                "network_border_group",
                Attribute::optional_computed(Type::String).force_new(),
            )
            .attr(
                "customer_owned_ipv4_pool",
                Attribute::optional(Type::String).force_new(),
            )
            .attr("public_ip", Attribute::computed(Type::String))
            .attr("public_dns", Attribute::computed(Type::String))
            .attr("private_ip", Attribute::computed(Type::String))
            .attr("private_dns", Attribute::computed(Type::String))
            .attr("carrier_ip", Attribute::computed(Type::String))
            .attr("customer_owned_ip", Attribute::computed(Type::String))
            .attr("ptr_record", Attribute::computed(Type::String));
        timeouts_block(with_tags(block), &["read", "update", "delete"])
    }

    async fn create(
        &self,
        aws: &AwsContext,
        operation: &Operation<'_>,
    ) -> Result<Attrs, ProviderError> {
        let planned = operation.planned;
        let domain = get_str(planned, "domain").unwrap_or_else(|| "vpc".into());
        let out = aws
            .ec2
            .allocate_address()
            .domain(DomainType::from(domain.as_str()))
            .set_address(get_str(planned, "address"))
            .set_public_ipv4_pool(get_str(planned, "public_ipv4_pool"))
            .set_network_border_group(get_str(planned, "network_border_group"))
            .set_customer_owned_ipv4_pool(get_str(planned, "customer_owned_ipv4_pool"))
            .set_tag_specifications(tag_specification(Ec2ResourceType::ElasticIp, planned))
            .send()
            .await
            .api()
            .or_fail_on(
                &format!("creating {LABEL}"),
                &["InvalidParameterValue"],
                "domain",
            )?;
        Ok(attrs([("id", opt_str(out.allocation_id()))]))
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
                        .describe_addresses()
                        .set_allocation_ids(Some(ids))
                        .send()
                        .await
                        .api()?
                        .addresses
                        .unwrap_or_default())
                }
            },
            |address| address.allocation_id().map(str::to_string),
        )
        .await;
        batch_results(
            current,
            described,
            &format!("reading {LABEL}"),
            |address, _| {
                let id = address.allocation_id().unwrap_or_default();
                let public_ip = address.public_ip();
                let public_dns = public_ip.map(|ip| {
                    let dashed = ip.replace('.', "-");
                    if aws.region == "us-east-1" {
                        format!("ec2-{dashed}.compute-1.amazonaws.com")
                    } else {
                        format!("ec2-{dashed}.{}.compute.amazonaws.com", aws.region)
                    }
                });
                let mut read = attrs([
                    ("id", Value::from(id)),
                    (
                        "arn",
                        Value::String(format!(
                            "arn:aws:ec2:{}:{}:elastic-ip/{id}",
                            aws.region, aws.account_id
                        )),
                    ),
                    ("allocation_id", Value::from(id)),
                    ("association_id", non_empty(address.association_id())),
                    ("domain", opt_str(address.domain().map(|d| d.as_str()))),
                    ("public_ipv4_pool", non_empty(address.public_ipv4_pool())),
                    (
                        "network_border_group",
                        non_empty(address.network_border_group()),
                    ),
                    ("public_ip", non_empty(public_ip)),
                    ("public_dns", opt_str(public_dns)),
                    ("private_ip", non_empty(address.private_ip_address())),
                    ("carrier_ip", non_empty(address.carrier_ip())),
                    ("customer_owned_ip", non_empty(address.customer_owned_ip())),
                ]);
                let (key, tags) = remote_tags(address.tags());
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
        ec2::update_tags(aws, &operation.id(), operation, LABEL).await?;
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
                    .release_address()
                    .allocation_id(&id)
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
