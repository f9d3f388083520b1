//! `aws_nat_gateway`: asynchronous: create waits for `available`, delete for `deleted`,
//! polling with backoff within the `timeouts` limits. Creates carry the engine's idempotency
//! token as ClientToken, so a retried create finds the gateway the first attempt made.
//! `allocation_id`, `subnet_id`, `connectivity_type`, `private_ip` and
//! `secondary_private_ip_address_count` replace; the secondary addresses change in place
//! (AssociateNatGatewayAddress / DisassociateNatGatewayAddress for a public gateway,
//! AssignPrivateNatGatewayAddress / UnassignPrivateNatGatewayAddress for a private one), as
//! `internal/service/ec2/vpc_nat_gateway.go` of the Terraform AWS provider has it.

use crate::providers::aws::ec2::{
    self, describe_ids, set_unknown, tag_specification, with_remote_tags,
};
use crate::providers::aws::support::{
    attrs, client_token, computed_strings, get_i64, get_str, get_strings, non_empty, opt_str,
    str_set, timeouts_block, with_tags, Attrs, FailureExt, NotFoundExt, Poll, SdkResultExt,
};
use crate::providers::aws::{AwsContext, Operation, OperationKind, ResourceType};
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
    let call = aws.ec2.describe_nat_gateways().nat_gateway_ids(id);
    let out = call.send().await.api().found();
    let out = out.or_fail(&format!("reading {LABEL} ({id})"))?;
    Ok(out.and_then(|out| out.nat_gateways().first().cloned()))
}

fn non_empty_list(items: Vec<String>) -> Option<Vec<String>> {
    (!items.is_empty()).then_some(items)
}

/// Adds and removes secondary addresses (allocation ids of a public gateway, private
/// addresses of a private one), then waits until the gateway shows the change.
async fn change_secondary(
    aws: &AwsContext,
    operation: &Operation<'_>,
    id: &str,
    private: bool,
    add: Vec<String>,
    remove: Vec<String>,
) -> Result<(), ProviderError> {
    let attribute = if private {
        "secondary_private_ip_addresses"
    } else {
        "secondary_allocation_ids"
    };
    let summary = format!("changing {LABEL} ({id}) {attribute}");
    let fail = |failure: crate::providers::aws::support::ApiFailure| {
        failure
            .into_error(summary.clone())
            .on_attribute(AttrPath::attr(attribute))
    };
    if !add.is_empty() {
        if private {
            aws.ec2
                .assign_private_nat_gateway_address()
                .nat_gateway_id(id)
                .set_private_ip_addresses(Some(add.clone()))
                .send()
                .await
                .api()
                .map_err(fail)?;
        } else {
            aws.ec2
                .associate_nat_gateway_address()
                .nat_gateway_id(id)
                .set_allocation_ids(Some(add.clone()))
                .send()
                .await
                .api()
                .map_err(fail)?;
        }
    }
    if !remove.is_empty() {
        if private {
            aws.ec2
                .unassign_private_nat_gateway_address()
                .nat_gateway_id(id)
                .set_private_ip_addresses(Some(remove.clone()))
                .send()
                .await
                .api()
                .map_err(fail)?;
        } else {
            // AWS disassociates by association id: looked up from the allocation ids.
            let gateway = describe_one(aws, id).await?;
            let associations: Vec<String> = gateway
                .iter()
                .flat_map(|g| g.nat_gateway_addresses())
                .filter(|a| {
                    a.allocation_id()
                        .is_some_and(|x| remove.iter().any(|r| r == x))
                })
                .filter_map(|a| a.association_id().map(str::to_string))
                .collect();
            aws.ec2
                .disassociate_nat_gateway_address()
                .nat_gateway_id(id)
                .set_association_ids(Some(associations))
                .send()
                .await
                .api()
                .map_err(fail)?;
        }
    }
    let key = |address: &aws_sdk_ec2::types::NatGatewayAddress| {
        if private {
            address.private_ip().map(str::to_string)
        } else {
            address.allocation_id().map(str::to_string)
        }
    };
    operation
        .wait_for(
            &format!("{LABEL} ({id}) {attribute}"),
            "changed",
            || async {
                let gateway = describe_one(aws, id).await?;
                let addresses = gateway
                    .as_ref()
                    .map(|g| g.nat_gateway_addresses())
                    .unwrap_or_default();
                let settled = |wanted: &String| {
                    addresses.iter().any(|a| {
                        key(a).as_ref() == Some(wanted)
                            && a.status().map(|s| s.as_str()) == Some("succeeded")
                    })
                };
                let gone =
                    |unwanted: &String| addresses.iter().all(|a| key(a).as_ref() != Some(unwanted));
                Ok(if add.iter().all(settled) && remove.iter().all(gone) {
                    Poll::Done(())
                } else {
                    Poll::Pending("associating".into())
                })
            },
        )
        .await
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
        let block =
            computed_strings(&["id", "association_id", "network_interface_id", "public_ip"])
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
                .attr(
                    "secondary_allocation_ids",
                    Attribute::optional(Type::set(Type::String)),
                )
                .attr(
                    "secondary_private_ip_address_count",
                    Attribute::optional_computed(Type::Number).force_new(),
                )
                .attr(
                    "secondary_private_ip_addresses",
                    Attribute::optional_computed(Type::set(Type::String)),
                );
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
            .set_secondary_allocation_ids(non_empty_list(get_strings(
                planned,
                "secondary_allocation_ids",
            )))
            .set_secondary_private_ip_address_count(
                get_i64(planned, "secondary_private_ip_address_count")
                    .and_then(|n| i32::try_from(n).ok()),
            )
            .set_secondary_private_ip_addresses(non_empty_list(get_strings(
                planned,
                "secondary_private_ip_addresses",
            )))
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
        operation
            .wait_for(&format!("{LABEL} ({id})"), "available", || async {
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
            })
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
        ec2::read_batch(
            current,
            LABEL,
            describe_ids!(
                aws,
                describe_nat_gateways,
                set_nat_gateway_ids,
                nat_gateways
            ),
            // A deleted gateway stays visible for a while: it is gone all the same.
            |gateway| {
                let state = state_of(gateway);
                (state != "deleted" && state != "deleting")
                    .then(|| gateway.nat_gateway_id().map(str::to_string))
                    .flatten()
            },
            |gateway, _| {
                let addresses = gateway.nat_gateway_addresses();
                let address = addresses
                    .iter()
                    .find(|a| a.is_primary().unwrap_or(true))
                    .or_else(|| addresses.first());
                // The others are the secondary addresses (one alone is always the primary).
                let secondary: Vec<_> = addresses
                    .iter()
                    .filter(|a| addresses.len() > 1 && a.is_primary() == Some(false))
                    .collect();
                let secondary_ips: Vec<&str> =
                    secondary.iter().filter_map(|a| a.private_ip()).collect();
                let read = attrs([
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
                    (
                        "secondary_allocation_ids",
                        str_set(secondary.iter().filter_map(|a| a.allocation_id())),
                    ),
                    (
                        "secondary_private_ip_address_count",
                        Value::from(secondary_ips.len() as i64),
                    ),
                    ("secondary_private_ip_addresses", str_set(secondary_ips)),
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
        let planned = operation.planned;
        let (name, private) = match get_str(planned, "connectivity_type").as_deref() {
            Some("private") => ("secondary_private_ip_addresses", true),
            _ => ("secondary_allocation_ids", false),
        };
        if operation.changed(name) {
            let before = operation
                .prior
                .map(|p| get_strings(p, name))
                .unwrap_or_default();
            let after = get_strings(planned, name);
            let add: Vec<String> = after
                .iter()
                .filter(|a| !before.contains(a))
                .cloned()
                .collect();
            let remove: Vec<String> = before
                .iter()
                .filter(|b| !after.contains(b))
                .cloned()
                .collect();
            change_secondary(aws, operation, &id, private, add, remove).await?;
        }
        ec2::update_tags(aws, &id, operation, LABEL).await?;
        Ok(Attrs::new())
    }

    /// As the provider's CustomizeDiff: which secondary arguments a connectivity type takes.
    fn validate_config(&self, config: &Value) -> Vec<ProviderError> {
        let private = get_str(config, "connectivity_type").as_deref() == Some("private");
        let mut errors = Vec::new();
        let mut refuse = |name: &str, kind: &str| {
            errors.push(
                ProviderError::new(
                    format!("{name} is not supported with connectivity_type = \"{kind}\""),
                    "remove the argument or change connectivity_type",
                )
                .on_attribute(AttrPath::attr(name)),
            );
        };
        let set = |name: &str| config.get_attr(name).is_some_and(|v| !v.is_null());
        if private {
            if set("allocation_id") {
                refuse("allocation_id", "private");
            }
            if !get_strings(config, "secondary_allocation_ids").is_empty() {
                refuse("secondary_allocation_ids", "private");
            }
        } else if set("secondary_private_ip_address_count") {
            refuse("secondary_private_ip_address_count", "public");
        }
        errors
    }

    /// A change of a public gateway's secondary allocations changes its secondary private
    /// addresses as AWS picks them.
    fn adjust_plan(
        &self,
        prior: Option<&Value>,
        planned: &mut Value,
        requires_replace: &mut Vec<AttrPath>,
    ) {
        let Some(prior) = prior else {
            return;
        };
        let same = |name: &str, planned: &Value| {
            prior
                .get_attr(name)
                .unwrap_or(&Value::Null)
                .equals(planned.get_attr(name).unwrap_or(&Value::Null))
                == Some(true)
        };
        let public = get_str(planned, "connectivity_type").as_deref() != Some("private");
        if public && requires_replace.is_empty() && !same("secondary_allocation_ids", planned) {
            set_unknown(planned, "secondary_private_ip_address_count", Type::Number);
            if same("secondary_private_ip_addresses", planned) {
                set_unknown(
                    planned,
                    "secondary_private_ip_addresses",
                    Type::set(Type::String),
                );
            }
        }
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
        operation
            .wait_for(&format!("{LABEL} ({id})"), "deleted", || async {
                match describe_one(aws, &id).await? {
                    None => Ok(Poll::Done(())),
                    Some(gateway) => match state_of(&gateway).as_str() {
                        "deleted" => Ok(Poll::Done(())),
                        other => Ok(Poll::Pending(other.to_string())),
                    },
                }
            })
            .await
    }
}
