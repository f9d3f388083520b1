//! `aws_eip` (VPC addresses), as `internal/service/ec2/ec2_eip.go` of the Terraform AWS
//! provider: `domain`, `address`, `public_ipv4_pool`, `ipam_pool_id` and
//! `network_border_group` replace; tags and the association (`instance`,
//! `network_interface`, `associate_with_private_ip`) change in place: AssociateAddress after
//! the allocation, DisassociateAddress then AssociateAddress on a change. Its `id` is the
//! allocation id. Release disassociates first and retries while a NAT gateway being deleted
//! still holds the address. Refresh is one DescribeAddresses for all.
//!
//! Not supported yet: `ptr_record` is left null (reading it takes a DescribeAddressesAttribute
//! call beside DescribeAddresses, a second call per refresh that the one-call-per-type
//! refresh does not make), and
//! `customer_owned_ipv4_pool` is sent on create but, as in the Terraform provider, a later
//! change to it is not applied.

use crate::providers::aws::ec2::{
    self, describe_ids, set_unknown, tag_specification, with_remote_tags,
};
use crate::providers::aws::support::{
    attrs, computed_strings, done, get_str, non_empty, opt_str, timeouts_block, with_tags, Attrs,
    FailureExt, NotFoundExt, SdkResultExt,
};
use crate::providers::aws::{AwsContext, Operation, OperationKind, ResourceType};
use crate::providers::schema::{Attribute, Block};
use crate::providers::ProviderError;
use crate::value::{AttrPath, Type, Value};
use async_trait::async_trait;
use aws_sdk_ec2::types::{DomainType, ResourceType as Ec2ResourceType};
use std::time::Duration;

pub struct Eip;

const LABEL: &str = "EC2 EIP";

/// What an address is associated with: the arguments that change in place.
const ASSOCIATION: [&str; 3] = ["instance", "network_interface", "associate_with_private_ip"];

/// Public IPv4 pools whose id starts so are IPAM pools (`ipam_pool_id`).
const IPAM_POOL_PREFIX: &str = "ipam-pool-";

/// Associates address `id` with an instance or a network interface (AWS takes one of them).
/// The allocation may not be visible yet right after AllocateAddress: retried while AWS says
/// it does not exist.
async fn associate(
    aws: &AwsContext,
    operation: &Operation<'_>,
    id: &str,
    instance: Option<String>,
    network_interface: Option<String>,
    private_ip: Option<String>,
) -> Result<(), ProviderError> {
    let target = instance
        .clone()
        .or_else(|| network_interface.clone())
        .unwrap_or_default();
    let attribute = if instance.is_some() {
        "instance"
    } else {
        "network_interface"
    };
    operation
        .retry_while(&["InvalidAllocationID.NotFound"], || {
            done(
                aws.ec2
                    .associate_address()
                    .allocation_id(id)
                    .set_instance_id(instance.clone())
                    .set_network_interface_id(network_interface.clone())
                    .set_private_ip_address(private_ip.clone())
                    .send(),
            )
        })
        .await
        .map_err(|failure| {
            let pointed = failure.code().starts_with("InvalidInstanceID")
                || failure.code().starts_with("InvalidNetworkInterfaceID");
            let error = failure.into_error(format!("associating {LABEL} ({id}) with {target}"));
            if pointed {
                error.on_attribute(AttrPath::attr(attribute))
            } else {
                error
            }
        })
}

/// Ends an association; one already gone is fine.
async fn disassociate(
    aws: &AwsContext,
    id: &str,
    association_id: &str,
) -> Result<(), ProviderError> {
    let call = aws
        .ec2
        .disassociate_address()
        .association_id(association_id);
    let summary = format!("disassociating {LABEL} ({id}) association {association_id}");
    done(call.send()).await.gone_ok().or_fail(&summary)
}

/// The prior association id, when there is one.
fn prior_association(operation: &Operation<'_>) -> Option<String> {
    operation
        .prior
        .and_then(|p| get_str(p, "association_id"))
        .filter(|a| !a.is_empty())
}

#[async_trait]
impl ResourceType for Eip {
    fn label(&self) -> &'static str {
        LABEL
    }

    fn schema(&self) -> Block {
        let block = computed_strings(&[
            "id",
            "arn",
            "allocation_id",
            "association_id",
            "public_ip",
            "public_dns",
            "private_ip",
            "private_dns",
            "carrier_ip",
            "customer_owned_ip",
            "ptr_record",
        ])
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
            "ipam_pool_id",
            Attribute::optional_computed(Type::String).force_new(),
        )
        .attr(
            "network_border_group",
            Attribute::optional_computed(Type::String).force_new(),
        )
        .attr(
            "customer_owned_ipv4_pool",
            Attribute::optional(Type::String),
        )
        .attr("instance", Attribute::optional_computed(Type::String))
        .attr(
            "network_interface",
            Attribute::optional_computed(Type::String),
        )
        .attr(
            "associate_with_private_ip",
            Attribute::optional(Type::String),
        );
        timeouts_block(with_tags(block), &["read", "update", "delete"])
    }

    fn default_timeout(&self, operation: OperationKind) -> Duration {
        match operation {
            OperationKind::Create => Duration::from_secs(20 * 60),
            OperationKind::Update => Duration::from_secs(5 * 60),
            OperationKind::Delete => Duration::from_secs(3 * 60),
        }
    }

    /// A change of association makes what AWS reports about it unknown until applied; of
    /// `instance` and `network_interface`, the one the change does not name is AWS's to say.
    fn adjust_plan(
        &self,
        prior: Option<&Value>,
        planned: &mut Value,
        _requires_replace: &mut Vec<AttrPath>,
    ) {
        let Some(prior) = prior else {
            return;
        };
        let changed = |name: &str| {
            let before = prior.get_attr(name).unwrap_or(&Value::Null);
            let after = planned.get_attr(name).unwrap_or(&Value::Null);
            before.equals(after) != Some(true)
        };
        let instance_changed = changed("instance");
        let interface_changed = changed("network_interface");
        if !ASSOCIATION.iter().any(|name| changed(name)) {
            return;
        }
        if instance_changed && !interface_changed {
            set_unknown(planned, "network_interface", Type::String);
        }
        if interface_changed && !instance_changed {
            set_unknown(planned, "instance", Type::String);
        }
        for name in ["association_id", "private_ip", "private_dns"] {
            set_unknown(planned, name, Type::String);
        }
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
            .set_ipam_pool_id(get_str(planned, "ipam_pool_id"))
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

    /// Associates the new address when the configuration names an instance or interface.
    async fn wait_created(
        &self,
        aws: &AwsContext,
        operation: &Operation<'_>,
        created: &Value,
    ) -> Result<(), ProviderError> {
        let planned = operation.planned;
        let instance = get_str(planned, "instance").filter(|i| !i.is_empty());
        let network_interface = get_str(planned, "network_interface").filter(|i| !i.is_empty());
        if instance.is_none() && network_interface.is_none() {
            return Ok(());
        }
        let id = get_str(created, "id").unwrap_or_default();
        associate(
            aws,
            operation,
            &id,
            instance,
            network_interface,
            get_str(planned, "associate_with_private_ip").filter(|i| !i.is_empty()),
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
        ec2::read_batch(
            current,
            LABEL,
            describe_ids!(aws, describe_addresses, set_allocation_ids, addresses),
            |address| address.allocation_id().map(str::to_string),
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
                    (
                        "customer_owned_ipv4_pool",
                        non_empty(address.customer_owned_ipv4_pool()),
                    ),
                    ("instance", non_empty(address.instance_id())),
                    (
                        "network_interface",
                        non_empty(address.network_interface_id()),
                    ),
                ]);
                // `ipam_pool_id` is only known from the pool's name; otherwise it keeps what
                // the state had.
                if let Some(pool) = address
                    .public_ipv4_pool()
                    .filter(|p| p.starts_with(IPAM_POOL_PREFIX))
                {
                    read.insert("ipam_pool_id".into(), Value::from(pool));
                }
                with_remote_tags(read, address.tags())
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
        if ASSOCIATION.iter().any(|name| operation.changed(name)) {
            if let Some(association_id) = prior_association(operation) {
                disassociate(aws, &id, &association_id).await?;
            }
            let planned = operation.planned;
            let instance = get_str(planned, "instance").filter(|i| !i.is_empty());
            let network_interface = get_str(planned, "network_interface").filter(|i| !i.is_empty());
            // AWS takes an instance or an interface, not both: the one the change names, and
            // otherwise the interface, which also says where a private address lives.
            let (instance, network_interface) =
                if operation.changed("instance") && instance.is_some() {
                    (instance, None)
                } else if network_interface.is_some() {
                    (None, network_interface)
                } else {
                    (instance, None)
                };
            if instance.is_some() || network_interface.is_some() {
                associate(
                    aws,
                    operation,
                    &id,
                    instance,
                    network_interface,
                    get_str(planned, "associate_with_private_ip").filter(|i| !i.is_empty()),
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
        if let Some(association_id) = prior_association(operation) {
            disassociate(aws, &id, &association_id).await?;
        }
        ec2::delete_retrying(operation, LABEL, || {
            done(aws.ec2.release_address().allocation_id(&id).send())
        })
        .await
    }
}
