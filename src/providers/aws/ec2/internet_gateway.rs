//! `aws_internet_gateway`, as `internal/service/ec2/vpc_internet_gateway.go` of the Terraform
//! AWS provider: `vpc_id` (optional, and computed: an attachment made elsewhere, e.g. by
//! `aws_internet_gateway_attachment`, shows no diff) changes in place (detach from the old VPC, attach to the
//! new). Delete detaches first, retrying while the VPC still has public addresses mapped.
//! Refresh is one DescribeInternetGateways for all.

use crate::providers::aws::ec2::{self, arn, describe_ids, tag_specification, with_remote_tags};
use crate::providers::aws::support::{
    attrs, computed_strings, done, get_str, opt_str, timeouts_block, with_tags, Attrs, FailureExt,
    SdkResultExt, DEPENDENCY_CODES,
};
use crate::providers::aws::{AwsContext, Operation, ResourceType};
use crate::providers::schema::{Attribute, Block};
use crate::providers::ProviderError;
use crate::value::{AttrPath, Type, Value};
use async_trait::async_trait;
use aws_sdk_ec2::types::ResourceType as Ec2ResourceType;

pub struct InternetGateway;

const LABEL: &str = "EC2 Internet Gateway";

/// Attaches the gateway to `vpc_id`. A gateway just made may not be visible yet: retried
/// while AWS says it does not exist, as the provider does.
async fn attach(
    aws: &AwsContext,
    operation: &Operation<'_>,
    id: &str,
    vpc_id: &str,
) -> Result<(), ProviderError> {
    let result = operation
        .retry_while(&["InvalidInternetGatewayID.NotFound"], || {
            done(
                aws.ec2
                    .attach_internet_gateway()
                    .internet_gateway_id(id)
                    .vpc_id(vpc_id)
                    .send(),
            )
        })
        .await;
    match result {
        // The SDK retried an attach whose response was lost: AWS made the attachment.
        Err(failure)
            if failure.code() == "Resource.AlreadyAssociated"
                && attached_vpc(aws, id).await.as_deref() == Some(vpc_id) =>
        {
            Ok(())
        }
        other => other.map_err(|f| {
            f.into_error(format!("attaching {LABEL} ({id}) to VPC {vpc_id}"))
                .on_attribute(AttrPath::attr("vpc_id"))
        }),
    }
}

/// The VPC the gateway is attached to, if AWS says it is (`None` also when it cannot tell).
async fn attached_vpc(aws: &AwsContext, id: &str) -> Option<String> {
    let out = aws
        .ec2
        .describe_internet_gateways()
        .internet_gateway_ids(id)
        .send()
        .await
        .ok()?;
    let gateway = out.internet_gateways().first()?;
    gateway
        .attachments()
        .iter()
        .find(|a| a.state().map(|s| s.as_str()) != Some("detached"))
        .and_then(|a| a.vpc_id())
        .map(str::to_string)
}

async fn detach(
    aws: &AwsContext,
    operation: &Operation<'_>,
    id: &str,
    vpc_id: &str,
) -> Result<(), ProviderError> {
    let result = operation
        .retry_while(DEPENDENCY_CODES, || {
            done(
                aws.ec2
                    .detach_internet_gateway()
                    .internet_gateway_id(id)
                    .vpc_id(vpc_id)
                    .send(),
            )
        })
        .await;
    match result {
        Err(failure) if failure.is_not_found() || failure.code() == "Gateway.NotAttached" => Ok(()),
        other => other.or_fail(&format!("detaching {LABEL} ({id}) from VPC {vpc_id}")),
    }
}

#[async_trait]
impl ResourceType for InternetGateway {
    fn label(&self) -> &'static str {
        LABEL
    }

    fn schema(&self) -> Block {
        let block = computed_strings(&["id", "arn", "owner_id"])
            .attr("vpc_id", Attribute::optional_computed(Type::String));
        timeouts_block(with_tags(block), &["create", "update", "delete"])
    }

    async fn create(
        &self,
        aws: &AwsContext,
        operation: &Operation<'_>,
    ) -> Result<Attrs, ProviderError> {
        let out = aws
            .ec2
            .create_internet_gateway()
            .set_tag_specifications(tag_specification(
                Ec2ResourceType::InternetGateway,
                operation.planned,
            ))
            .send()
            .await
            .api()
            .or_fail(&format!("creating {LABEL}"))?;
        let id = out
            .internet_gateway()
            .and_then(|g| g.internet_gateway_id())
            .unwrap_or_default();
        Ok(attrs([("id", Value::from(id))]))
    }

    async fn wait_created(
        &self,
        aws: &AwsContext,
        operation: &Operation<'_>,
        created: &Value,
    ) -> Result<(), ProviderError> {
        if let (Some(id), Some(vpc_id)) =
            (get_str(created, "id"), get_str(operation.planned, "vpc_id"))
        {
            attach(aws, operation, &id, &vpc_id).await?;
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
        ec2::read_batch(
            current,
            LABEL,
            describe_ids!(
                aws,
                describe_internet_gateways,
                set_internet_gateway_ids,
                internet_gateways
            ),
            |gateway| gateway.internet_gateway_id().map(str::to_string),
            |gateway, _| {
                let id = gateway.internet_gateway_id().unwrap_or_default();
                let vpc_id = gateway
                    .attachments()
                    .iter()
                    .find(|a| a.state().map(|s| s.as_str()) != Some("detached"))
                    .and_then(|a| a.vpc_id());
                let read = attrs([
                    ("id", Value::from(id)),
                    ("arn", arn(aws, gateway.owner_id(), "internet-gateway", id)),
                    ("vpc_id", opt_str(vpc_id)),
                    ("owner_id", opt_str(gateway.owner_id())),
                ]);
                with_remote_tags(read, gateway.tags())
            },
        )
        .await
    }

    async fn update(
        &self,
        aws: &AwsContext,
        operation: &Operation<'_>,
    ) -> Result<Attrs, ProviderError> {
        let id = operation.id();
        if operation.changed("vpc_id") {
            if let Some(old) = operation.prior.and_then(|p| get_str(p, "vpc_id")) {
                detach(aws, operation, &id, &old).await?;
            }
            if let Some(new) = get_str(operation.planned, "vpc_id") {
                attach(aws, operation, &id, &new).await?;
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
        if let Some(vpc_id) = get_str(operation.planned, "vpc_id") {
            detach(aws, operation, &id, &vpc_id).await?;
        }
        ec2::delete_retrying(operation, LABEL, || {
            done(
                aws.ec2
                    .delete_internet_gateway()
                    .internet_gateway_id(&id)
                    .send(),
            )
        })
        .await
    }
}
