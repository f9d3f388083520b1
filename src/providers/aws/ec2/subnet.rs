//! `aws_subnet`, as `internal/service/ec2/vpc_subnet.go` of the Terraform AWS provider:
//! `vpc_id`, `cidr_block`, the availability zone, `ipv6_native`, `outpost_arn` and the IPAM
//! arguments replace; the on-launch flags, `enable_lni_at_device_index`, the customer-owned
//! pool and `ipv6_cidr_block` change in place (ModifySubnetAttribute, one attribute a call;
//! the IPv6 block by DisassociateSubnetCidrBlock then AssociateSubnetCidrBlock).
//! A CIDR that overlaps another subnet or lies outside the VPC is AWS's error, reported on
//! `cidr_block` so the engine points at that line. Refresh is one DescribeSubnets for all.
//! As the provider's CustomizeDiff, a change of `ipv6_cidr_block` replaces the subnet when
//! `assign_ipv6_address_on_creation` was on.

use crate::providers::aws::ec2::{
    self, arn, association_state, describe_ids, set_unknown, tag_specification, with_remote_tags,
};
use crate::providers::aws::support::{
    attrs, computed_strings, done, get_bool, get_i64, get_str, non_empty, opt_str, timeouts_block,
    with_tags, Attrs, FailureExt, NotFoundExt, Poll, SdkResultExt,
};
use crate::providers::aws::{AwsContext, Operation, OperationKind, ResourceType};
use crate::providers::schema::{Attribute, Block};
use crate::providers::ProviderError;
use crate::value::{AttrPath, Type, Value};
use async_trait::async_trait;
use aws_sdk_ec2::types::{
    AttributeBooleanValue, HostnameType, ResourceType as Ec2ResourceType, Subnet as SdkSubnet,
};
use std::time::Duration;

pub struct Subnet;

const LABEL: &str = "EC2 Subnet";

/// The boolean flags ModifySubnetAttribute sets one at a time, each with AWS's value on a new
/// subnet when it does not say.
const FLAGS: [&str; 5] = [
    "map_public_ip_on_launch",
    "assign_ipv6_address_on_creation",
    "enable_dns64",
    "enable_resource_name_dns_a_record_on_launch",
    "enable_resource_name_dns_aaaa_record_on_launch",
];

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
        "enable_resource_name_dns_a_record_on_launch" => {
            request.enable_resource_name_dns_a_record_on_launch(flag)
        }
        "enable_resource_name_dns_aaaa_record_on_launch" => {
            request.enable_resource_name_dns_aaaa_record_on_launch(flag)
        }
        _ => request.assign_ipv6_address_on_creation(flag),
    };
    request.send().await.api().or_fail_on(
        &format!("modifying {LABEL} ({id}) {name}"),
        &["InvalidParameterValue"],
        name,
    )?;
    Ok(())
}

/// A flag as AWS reports it; absent is off (as the provider stores it).
fn flag_of(subnet: &SdkSubnet, name: &str) -> bool {
    let options = subnet.private_dns_name_options_on_launch();
    match name {
        "map_public_ip_on_launch" => subnet.map_public_ip_on_launch(),
        "assign_ipv6_address_on_creation" => subnet.assign_ipv6_address_on_creation(),
        "enable_dns64" => subnet.enable_dns64(),
        "enable_resource_name_dns_a_record_on_launch" => {
            options.and_then(|o| o.enable_resource_name_dns_a_record())
        }
        _ => options.and_then(|o| o.enable_resource_name_dns_aaaa_record()),
    }
    .unwrap_or(false)
}

/// The subnet's associated IPv6 block: (association id, block).
fn ipv6_block(subnet: &SdkSubnet) -> Option<(String, String)> {
    subnet
        .ipv6_cidr_block_association_set()
        .iter()
        .find(|a| {
            a.ipv6_cidr_block_state()
                .and_then(|s| s.state())
                .map(|s| association_state(s.as_str()))
                == Some("associated")
        })
        .map(|a| {
            (
                a.association_id().unwrap_or_default().to_string(),
                a.ipv6_cidr_block().unwrap_or_default().to_string(),
            )
        })
}

async fn describe_subnet(aws: &AwsContext, id: &str) -> Result<Option<SdkSubnet>, ProviderError> {
    let out = aws.ec2.describe_subnets().subnet_ids(id).send().await.api();
    let out = out.found().or_fail(&format!("reading {LABEL} ({id})"))?;
    Ok(out.and_then(|out| out.subnets().first().cloned()))
}

/// Waits until the subnet's IPv6 association `association_id` is in `target` (`associated`,
/// or `disassociated`, which also covers one no longer listed).
async fn wait_ipv6_association(
    aws: &AwsContext,
    operation: &Operation<'_>,
    id: &str,
    association_id: &str,
    target: &str,
) -> Result<(), ProviderError> {
    operation
        .wait_for(
            &format!("{LABEL} ({id}) IPv6 CIDR block ({association_id})"),
            target,
            || async {
                let subnet = describe_subnet(aws, id).await?;
                let state = subnet
                    .as_ref()
                    .into_iter()
                    .flat_map(|s| s.ipv6_cidr_block_association_set())
                    .find(|a| a.association_id() == Some(association_id))
                    .and_then(|a| a.ipv6_cidr_block_state())
                    .and_then(|s| s.state())
                    .map(|s| association_state(s.as_str()).to_string())
                    .unwrap_or_else(|| "disassociated".to_string());
                Ok(if state == target {
                    Poll::Done(())
                } else {
                    Poll::Pending(state)
                })
            },
        )
        .await
}

/// Swaps the subnet's IPv6 block: the old association ends, then `cidr_block` (if any) is
/// associated.
async fn replace_ipv6_block(
    aws: &AwsContext,
    operation: &Operation<'_>,
    id: &str,
    old_association: Option<String>,
    cidr_block: Option<String>,
) -> Result<(), ProviderError> {
    if let Some(old) = old_association.filter(|a| !a.is_empty()) {
        aws.ec2
            .disassociate_subnet_cidr_block()
            .association_id(&old)
            .send()
            .await
            .api()
            .or_fail(&format!(
                "disassociating {LABEL} ({id}) IPv6 CIDR block ({old})"
            ))?;
        wait_ipv6_association(aws, operation, id, &old, "disassociated").await?;
    }
    if let Some(cidr_block) = cidr_block.filter(|c| !c.is_empty()) {
        let out = aws
            .ec2
            .associate_subnet_cidr_block()
            .subnet_id(id)
            .ipv6_cidr_block(&cidr_block)
            .send()
            .await
            .api()
            .or_fail_on(
                &format!("associating IPv6 CIDR block {cidr_block} with {LABEL} ({id})"),
                &["InvalidSubnet", "InvalidParameterValue"],
                "ipv6_cidr_block",
            )?;
        let association_id = out
            .ipv6_cidr_block_association()
            .and_then(|a| a.association_id())
            .unwrap_or_default()
            .to_string();
        wait_ipv6_association(aws, operation, id, &association_id, "associated").await?;
    }
    Ok(())
}

async fn set_lni_device_index(aws: &AwsContext, id: &str, index: i64) -> Result<(), ProviderError> {
    aws.ec2
        .modify_subnet_attribute()
        .subnet_id(id)
        .enable_lni_at_device_index(i32::try_from(index).unwrap_or(i32::MAX))
        .send()
        .await
        .api()
        .or_fail_on(
            &format!("modifying {LABEL} ({id}) enable_lni_at_device_index"),
            &["InvalidParameterValue"],
            "enable_lni_at_device_index",
        )?;
    Ok(())
}

async fn set_hostname_type(aws: &AwsContext, id: &str, value: &str) -> Result<(), ProviderError> {
    aws.ec2
        .modify_subnet_attribute()
        .subnet_id(id)
        .private_dns_hostname_type_on_launch(HostnameType::from(value))
        .send()
        .await
        .api()
        .or_fail_on(
            &format!("modifying {LABEL} ({id}) private_dns_hostname_type_on_launch"),
            &["InvalidParameterValue"],
            "private_dns_hostname_type_on_launch",
        )?;
    Ok(())
}

/// `customer_owned_ipv4_pool` and `map_customer_owned_ip_on_launch`, the two attributes AWS
/// takes in one call.
async fn set_customer_owned(
    aws: &AwsContext,
    id: &str,
    planned: &Value,
) -> Result<(), ProviderError> {
    let map = get_bool(planned, "map_customer_owned_ip_on_launch").unwrap_or(false);
    aws.ec2
        .modify_subnet_attribute()
        .subnet_id(id)
        .map_customer_owned_ip_on_launch(AttributeBooleanValue::builder().value(map).build())
        .set_customer_owned_ipv4_pool(
            get_str(planned, "customer_owned_ipv4_pool").filter(|p| !p.is_empty()),
        )
        .send()
        .await
        .api()
        .or_fail_on(
            &format!("modifying {LABEL} ({id}) customer-owned IP pool"),
            &["InvalidParameterValue"],
            "customer_owned_ipv4_pool",
        )?;
    Ok(())
}

#[async_trait]
impl ResourceType for Subnet {
    fn label(&self) -> &'static str {
        LABEL
    }

    fn schema_version(&self) -> u64 {
        1
    }

    fn schema(&self) -> Block {
        let mut block =
            computed_strings(&["id", "arn", "ipv6_cidr_block_association_id", "owner_id"])
                .attr("vpc_id", Attribute::required(Type::String).force_new())
                .attr(
                    "cidr_block",
                    Attribute::optional_computed(Type::String).force_new(),
                )
                .attr(
                    "availability_zone",
                    Attribute::optional_computed(Type::String).force_new(),
                )
                .attr(
                    "availability_zone_id",
                    Attribute::optional_computed(Type::String).force_new(),
                )
                .attr(
                    "ipv6_native",
                    Attribute::optional(Type::Bool)
                        .with_default(false)
                        .force_new(),
                )
                .attr(
                    "ipv6_cidr_block",
                    Attribute::optional_computed(Type::String),
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
                    "ipv6_ipam_pool_id",
                    Attribute::optional(Type::String).force_new(),
                )
                .attr(
                    "ipv6_netmask_length",
                    Attribute::optional(Type::Number).force_new(),
                )
                .attr("outpost_arn", Attribute::optional(Type::String).force_new())
                .attr(
                    "customer_owned_ipv4_pool",
                    Attribute::optional(Type::String),
                )
                .attr(
                    "map_customer_owned_ip_on_launch",
                    Attribute::optional(Type::Bool).with_default(false),
                )
                .attr(
                    "enable_lni_at_device_index",
                    Attribute::optional(Type::Number),
                )
                .attr(
                    "private_dns_hostname_type_on_launch",
                    Attribute::optional_computed(Type::String),
                );
        for name in FLAGS {
            block = block.attr(name, Attribute::optional(Type::Bool).with_default(false));
        }
        timeouts_block(with_tags(block), &["create", "delete"])
    }

    fn default_timeout(&self, operation: OperationKind) -> Duration {
        match operation {
            OperationKind::Create => Duration::from_secs(10 * 60),
            _ => Duration::from_secs(20 * 60),
        }
    }

    /// A subnet that gave new interfaces IPv6 addresses cannot swap its block in place: the
    /// change replaces it, and what AWS computes for the new subnet is unknown until then.
    fn adjust_plan(
        &self,
        prior: Option<&Value>,
        planned: &mut Value,
        requires_replace: &mut Vec<AttrPath>,
    ) {
        let Some(prior) = prior else {
            return;
        };
        let before = prior.get_attr("ipv6_cidr_block").unwrap_or(&Value::Null);
        let after = planned.get_attr("ipv6_cidr_block").unwrap_or(&Value::Null);
        let changed = !after.is_unknown() && before.equals(after) != Some(true);
        if !changed
            || !requires_replace.is_empty()
            || get_bool(prior, "assign_ipv6_address_on_creation") != Some(true)
        {
            return;
        }
        requires_replace.push(AttrPath::attr("ipv6_cidr_block"));
        for (name, attribute) in self.schema().attributes {
            if attribute.computed && !attribute.optional && name != "tags_all" {
                set_unknown(planned, &name, attribute.ty);
            }
        }
    }

    async fn create(
        &self,
        aws: &AwsContext,
        operation: &Operation<'_>,
    ) -> Result<Attrs, ProviderError> {
        let planned = operation.planned;
        let netmask = |name: &str| get_i64(planned, name).and_then(|n| i32::try_from(n).ok());
        let out = aws
            .ec2
            .create_subnet()
            .set_vpc_id(get_str(planned, "vpc_id"))
            .set_cidr_block(get_str(planned, "cidr_block"))
            .set_availability_zone(get_str(planned, "availability_zone"))
            .set_availability_zone_id(get_str(planned, "availability_zone_id"))
            .set_ipv6_cidr_block(get_str(planned, "ipv6_cidr_block"))
            .set_ipv6_native(get_bool(planned, "ipv6_native").filter(|b| *b))
            .set_ipv4_ipam_pool_id(get_str(planned, "ipv4_ipam_pool_id"))
            .set_ipv4_netmask_length(netmask("ipv4_netmask_length"))
            .set_ipv6_ipam_pool_id(get_str(planned, "ipv6_ipam_pool_id"))
            .set_ipv6_netmask_length(netmask("ipv6_netmask_length"))
            .set_outpost_arn(get_str(planned, "outpost_arn"))
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

    /// Waits for `available`, then sets what CreateSubnet cannot, comparing with what AWS
    /// gave the new subnet (as the provider's modifySubnetAttributesOnCreate).
    async fn wait_created(
        &self,
        aws: &AwsContext,
        operation: &Operation<'_>,
        created: &Value,
    ) -> Result<(), ProviderError> {
        let id = get_str(created, "id").unwrap_or_default();
        let planned = operation.planned;
        let subnet = operation
            .wait_for(LABEL, "available", || async {
                let subnet = describe_subnet(aws, &id).await?;
                let state = subnet
                    .as_ref()
                    .and_then(|s| s.state())
                    .map(|s| s.as_str().to_string());
                Ok(match (state.as_deref(), subnet) {
                    (Some("available"), Some(subnet)) => Poll::Done(subnet),
                    (Some(other), _) => Poll::Pending(other.to_string()),
                    (None, _) => Poll::Pending("not yet visible".into()),
                })
            })
            .await?;
        let wanted = |name: &str| get_bool(planned, name).unwrap_or(false);
        // IPv6 assignment and DNS64 go off before the IPv6 block changes, on after it.
        for name in ["assign_ipv6_address_on_creation", "enable_dns64"] {
            if flag_of(&subnet, name) && !wanted(name) {
                set_flag(aws, &id, name, false).await?;
            }
        }
        let computed_ipv6 = get_str(planned, "ipv6_cidr_block").is_none()
            && (wanted("ipv6_native") || get_str(planned, "ipv6_ipam_pool_id").is_some());
        if !computed_ipv6 {
            let (old_association, old_block) = ipv6_block(&subnet).unzip();
            let new_block = get_str(planned, "ipv6_cidr_block");
            if old_block.as_deref().unwrap_or_default() != new_block.as_deref().unwrap_or_default()
            {
                replace_ipv6_block(aws, operation, &id, old_association, new_block).await?;
            }
        }
        for name in ["assign_ipv6_address_on_creation", "enable_dns64"] {
            if !flag_of(&subnet, name) && wanted(name) {
                set_flag(aws, &id, name, true).await?;
            }
        }
        let pool = get_str(planned, "customer_owned_ipv4_pool").unwrap_or_default();
        if pool != subnet.customer_owned_ipv4_pool().unwrap_or_default()
            || wanted("map_customer_owned_ip_on_launch")
                != subnet.map_customer_owned_ip_on_launch().unwrap_or(false)
        {
            set_customer_owned(aws, &id, planned).await?;
        }
        if let Some(index) = get_i64(planned, "enable_lni_at_device_index").filter(|i| *i != 0) {
            if Some(index) != subnet.enable_lni_at_device_index().map(i64::from) {
                set_lni_device_index(aws, &id, index).await?;
            }
        }
        if let Some(options) = subnet.private_dns_name_options_on_launch() {
            for name in [
                "enable_resource_name_dns_aaaa_record_on_launch",
                "enable_resource_name_dns_a_record_on_launch",
            ] {
                if flag_of(&subnet, name) != wanted(name) {
                    set_flag(aws, &id, name, wanted(name)).await?;
                }
            }
            if let Some(hostname_type) = get_str(planned, "private_dns_hostname_type_on_launch") {
                if Some(hostname_type.as_str()) != options.hostname_type().map(|t| t.as_str()) {
                    set_hostname_type(aws, &id, &hostname_type).await?;
                }
            }
        }
        if flag_of(&subnet, "map_public_ip_on_launch") != wanted("map_public_ip_on_launch") {
            set_flag(
                aws,
                &id,
                "map_public_ip_on_launch",
                wanted("map_public_ip_on_launch"),
            )
            .await?;
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
            describe_ids!(aws, describe_subnets, set_subnet_ids, subnets),
            |subnet| subnet.subnet_id().map(str::to_string),
            |subnet, _| {
                let (association_id, block) = ipv6_block(subnet).unzip();
                let options = subnet.private_dns_name_options_on_launch();
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
                        "ipv6_native",
                        Value::Bool(subnet.ipv6_native().unwrap_or(false)),
                    ),
                    ("ipv6_cidr_block", non_empty(block.as_deref())),
                    (
                        "ipv6_cidr_block_association_id",
                        non_empty(association_id.as_deref()),
                    ),
                    ("outpost_arn", non_empty(subnet.outpost_arn())),
                    (
                        "customer_owned_ipv4_pool",
                        non_empty(subnet.customer_owned_ipv4_pool()),
                    ),
                    (
                        "map_customer_owned_ip_on_launch",
                        Value::Bool(subnet.map_customer_owned_ip_on_launch().unwrap_or(false)),
                    ),
                    (
                        "enable_lni_at_device_index",
                        subnet
                            .enable_lni_at_device_index()
                            .filter(|i| *i != 0)
                            .map(|i| Value::from(i64::from(i)))
                            .unwrap_or(Value::Null),
                    ),
                    (
                        "private_dns_hostname_type_on_launch",
                        opt_str(options.and_then(|o| o.hostname_type()).map(|t| t.as_str())),
                    ),
                    ("owner_id", opt_str(subnet.owner_id())),
                ]);
                for name in FLAGS {
                    read.insert(name.to_string(), Value::Bool(flag_of(subnet, name)));
                }
                with_remote_tags(read, subnet.tags())
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
        let wanted = |name: &str| get_bool(planned, name).unwrap_or(false);
        if operation.changed("customer_owned_ipv4_pool")
            || operation.changed("map_customer_owned_ip_on_launch")
        {
            set_customer_owned(aws, &id, planned).await?;
        }
        let assign = "assign_ipv6_address_on_creation";
        // IPv6 assignment goes off before the IPv6 block changes, on after it.
        if operation.changed(assign) && !wanted(assign) {
            set_flag(aws, &id, assign, false).await?;
        }
        let block_changed = operation.changed("ipv6_cidr_block")
            && planned
                .get_attr("ipv6_cidr_block")
                .is_some_and(|v| !v.is_unknown());
        if block_changed {
            let old = operation
                .prior
                .and_then(|p| get_str(p, "ipv6_cidr_block_association_id"));
            replace_ipv6_block(
                aws,
                operation,
                &id,
                old,
                get_str(planned, "ipv6_cidr_block"),
            )
            .await?;
        }
        for name in [
            "enable_dns64",
            "enable_resource_name_dns_aaaa_record_on_launch",
            "enable_resource_name_dns_a_record_on_launch",
            "map_public_ip_on_launch",
        ] {
            if operation.changed(name) {
                set_flag(aws, &id, name, wanted(name)).await?;
            }
        }
        if operation.changed("enable_lni_at_device_index") {
            if let Some(index) = get_i64(planned, "enable_lni_at_device_index") {
                set_lni_device_index(aws, &id, index).await?;
            }
        }
        if operation.changed("private_dns_hostname_type_on_launch") {
            if let Some(hostname_type) = get_str(planned, "private_dns_hostname_type_on_launch") {
                set_hostname_type(aws, &id, &hostname_type).await?;
            }
        }
        if operation.changed(assign) && wanted(assign) {
            set_flag(aws, &id, assign, true).await?;
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
            done(aws.ec2.delete_subnet().subnet_id(&id).send())
        })
        .await
    }
}
