//! `aws_nat_gateway`: asynchronous: create waits for `available`, delete for `deleted`,
//! polling with backoff within the `timeouts` limits. Creates carry the engine's idempotency
//! token as ClientToken, so a retried create finds the gateway the first attempt made.
//! `allocation_id`, `subnet_id`, `connectivity_type` and `private_ip` replace.

use super::ec2::{self, batch_results, describe_by_ids, ids_of, remote_tags, tag_specification};
use super::support::{
    attrs, client_token, get_str, non_empty, opt_str, timeouts_block, wait_for, with_tags, Attrs,
    Poll, SdkResultExt,
};
use super::{AwsContext, Operation, OperationKind, ResourceType};
use crate::providers::schema::{Attribute, Block};
use crate::providers::ProviderError;
use crate::value::{AttrPath, Type, Value};
use async_trait::async_trait;
use aws_sdk_ec2::types::{
    ConnectivityType, NatGateway as SdkNatGateway, ResourceType as Ec2ResourceType,
};
use std::time::Duration;

pub struct NatGateway;

const LABEL: &str = "EC2 NAT Gateway";

async fn describe_one(aws: &AwsContext, id: &str) -> Result<Option<SdkNatGateway>, ProviderError> {
    let out = aws
        .ec2
        .describe_nat_gateways()
        .nat_gateway_ids(id)
        .send()
        .await
        .api();
    match out {
        Ok(out) => Ok(out.nat_gateways().first().cloned()),
        Err(failure) if failure.is_not_found() => Ok(None),
        Err(failure) => Err(failure.into_error(format!("reading {LABEL} ({id})"))),
    }
}

fn state_of(gateway: &SdkNatGateway) -> String {
    gateway
        .state()
        .map(|s| s.as_str().to_string())
        .unwrap_or_else(|| "unknown".into())
}

#[async_trait]
impl ResourceType for NatGateway {
    fn label(&self) -> &'static str {
        LABEL
    }

    fn schema(&self) -> Block {
        let block = Block::new()
            .attr("id", Attribute::computed(Type::String))
            .attr(
                "allocation_id",
                Attribute::optional(Type::String).force_new(),
            )
            .attr("subnet_id", Attribute::required(Type::String).force_new())
            .attr(
                "connectivity_type",
                Attribute::optional(Type::String)
                    .with_default("public")
                    .force_new(),
            )
            .attr(
                "private_ip",
                Attribute::optional_computed(Type::String).force_new(),
            )
            .attr("association_id", Attribute::computed(Type::String))
            .attr("network_interface_id", Attribute::computed(Type::String))
            .attr("public_ip", Attribute::computed(Type::String));
        timeouts_block(with_tags(block), &["create", "update", "delete"])
    }

    fn default_timeout(&self, operation: OperationKind) -> Duration {
        match operation {
            OperationKind::Delete => Duration::from_secs(30 * 60),
            _ => Duration::from_secs(10 * 60),
        }
    }

    async fn create(
        &self,
        aws: &AwsContext,
        operation: &Operation<'_>,
    ) -> Result<Attrs, ProviderError> {
        let planned = operation.planned;
        let connectivity = get_str(planned, "connectivity_type").unwrap_or_else(|| "public".into());
        let out = aws
            .ec2
            .create_nat_gateway()
            .client_token(client_token(operation.token))
            .set_allocation_id(get_str(planned, "allocation_id"))
            .set_subnet_id(get_str(planned, "subnet_id"))
            .connectivity_type(ConnectivityType::from(connectivity.as_str()))
            .set_private_ip_address(get_str(planned, "private_ip"))
            .set_tag_specifications(tag_specification(Ec2ResourceType::Natgateway, planned))
            .send()
            .await
            .api()
            .map_err(|failure| {
                let attribute = if failure.code().contains("Allocation") {
                    "allocation_id"
                } else {
                    "subnet_id"
                };
                let pointed =
                    failure.code().contains("Allocation") || failure.code().contains("Subnet");
                let error = failure.into_error(format!("creating {LABEL}"));
                if pointed {
                    error.on_attribute(AttrPath::attr(attribute))
                } else {
                    error
                }
            })?;
        Ok(attrs([(
            "id",
            opt_str(out.nat_gateway().and_then(|g| g.nat_gateway_id())),
        )]))
    }

    async fn wait_created(
        &self,
        aws: &AwsContext,
        operation: &Operation<'_>,
        created: &Value,
    ) -> Result<(), ProviderError> {
        let id = get_str(created, "id").unwrap_or_default();
        wait_for(
            &format!("{LABEL} ({id})"),
            "available",
            operation.timeout,
            operation.progress,
            || async {
                match describe_one(aws, &id).await? {
                    None => Ok(Poll::Pending("not yet visible".into())),
                    Some(gateway) => match state_of(&gateway).as_str() {
                        "available" => Ok(Poll::Done(())),
                        "failed" | "deleting" | "deleted" => Err(ProviderError::new(
                            format!("creating {LABEL} ({id})"),
                            format!(
                                "the gateway went to state {}: {}: {}",
                                state_of(&gateway),
                                gateway.failure_code().unwrap_or_default(),
                                gateway.failure_message().unwrap_or_default()
                            ),
                        )),
                        other => Ok(Poll::Pending(other.to_string())),
                    },
                }
            },
        )
        .await
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
                        .describe_nat_gateways()
                        .set_nat_gateway_ids(Some(ids))
                        .send()
                        .await
                        .api()?
                        .nat_gateways
                        .unwrap_or_default())
                }
            },
            // A deleted gateway stays visible for a while: it is gone all the same.
            |gateway| {
                let state = state_of(gateway);
                (state != "deleted" && state != "deleting")
                    .then(|| gateway.nat_gateway_id().map(str::to_string))
                    .flatten()
            },
        )
        .await;
        batch_results(
            current,
            described,
            &format!("reading {LABEL}"),
            |gateway, _| {
                let address = gateway
                    .nat_gateway_addresses()
                    .iter()
                    .find(|a| a.is_primary().unwrap_or(true))
                    .or_else(|| gateway.nat_gateway_addresses().first());
                let mut read = attrs([
                    ("id", opt_str(gateway.nat_gateway_id())),
                    (
                        "allocation_id",
                        non_empty(address.and_then(|a| a.allocation_id())),
                    ),
                    ("subnet_id", opt_str(gateway.subnet_id())),
                    (
                        "connectivity_type",
                        opt_str(gateway.connectivity_type().map(|c| c.as_str())),
                    ),
                    (
                        "private_ip",
                        non_empty(address.and_then(|a| a.private_ip())),
                    ),
                    (
                        "association_id",
                        non_empty(address.and_then(|a| a.association_id())),
                    ),
                    (
                        "network_interface_id",
                        non_empty(address.and_then(|a| a.network_interface_id())),
                    ),
                    ("public_ip", non_empty(address.and_then(|a| a.public_ip()))),
                ]);
                let (key, tags) = remote_tags(gateway.tags());
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
        match aws
            .ec2
            .delete_nat_gateway()
            .nat_gateway_id(&id)
            .send()
            .await
            .api()
        {
            Ok(_) => {}
            Err(failure) if failure.is_not_found() => return Ok(()),
            Err(failure) => return Err(failure.into_error(format!("deleting {LABEL} ({id})"))),
        }
        wait_for(
            &format!("{LABEL} ({id})"),
            "deleted",
            operation.timeout,
            operation.progress,
            || async {
                match describe_one(aws, &id).await? {
                    None => Ok(Poll::Done(())),
                    Some(gateway) => match state_of(&gateway).as_str() {
                        "deleted" => Ok(Poll::Done(())),
                        other => Ok(Poll::Pending(other.to_string())),
                    },
                }
            },
        )
        .await
    }
}
