//! The `aws_vpc` resource, as `internal/service/ec2/vpc_.go` of the Terraform AWS provider (the
//! data source, which reads through this module's describe, is [`super::vpc_data`]).
//!
//! `cidr_block`, the IPv4 IPAM arguments and `instance_tenancy` replace, except that a
//! tenancy going from `dedicated` to `default` changes in place (ModifyVpcTenancy), as the
//! provider's CustomizeDiff has it. The DNS and usage-metrics flags change in place with
//! ModifyVpcAttribute (one attribute per call, as the API demands); the IPv6 block
//! (`assign_generated_ipv6_cidr_block`, `ipv6_cidr_block`, `ipv6_ipam_pool_id`,
//! `ipv6_cidr_block_network_border_group`) changes in place by disassociating the old block
//! and associating the new one.
//!
//! A refresh of N VPCs makes one DescribeVpcs and one DescribeRouteTables (the main route
//! tables) for all of them, plus three DescribeVpcAttribute per VPC (the DNS and usage-metrics
//! flags are only available that way, one VPC and one attribute a call), all sent at once
//! since the state has the ids; the per-VPC calls run concurrently (sixteen VPCs at a time), so
//! a refresh takes about as long for a dozen VPCs as for one. The default security group and
//! network ACL cannot change while a VPC exists: they are looked up (one DescribeSecurityGroups
//! and one DescribeNetworkAcls) only for VPCs whose state does not record them yet.

use crate::providers::aws::ec2::{
    self, arn, batch_results, describe_by_ids, describe_ids, filter, ids_of, set_unknown,
    tag_specification, with_remote_tags,
};
use crate::providers::aws::support::{
    ask, attrs, computed_strings, done, get_bool, get_i64, get_str, non_empty, opt_str, with_tags,
    ApiFailure, Attrs, FailureExt, Poll, SdkResultExt,
};
use crate::providers::aws::{AwsContext, Operation, ResourceType};
use crate::providers::schema::{Attribute, Block};
use crate::providers::ProviderError;
use crate::value::{AttrPath, Type, Value};
use async_trait::async_trait;
use aws_sdk_ec2::types::{
    AttributeBooleanValue, ResourceType as Ec2ResourceType, Tenancy, Vpc as SdkVpc,
    VpcAttributeName, VpcIpv6CidrBlockAssociation, VpcTenancy,
};
use std::collections::BTreeMap;

pub struct Vpc;

const LABEL: &str = "EC2 VPC";

/// The `Ipv6Pool` of a block from Amazon's own pool.
const AMAZON_IPV6_POOL: &str = "Amazon";

/// The `Ipv6Pool` AWS reports for a block from an IPAM pool: the pool's id is not told.
const IPAM_MANAGED_IPV6_POOL: &str = "IPAM Managed";

/// The flags only DescribeVpcAttribute tells, in the order [`VpcFacts::flags`] holds them.
const FLAGS: [&str; 3] = [
    "enable_dns_support",
    "enable_dns_hostnames",
    "enable_network_address_usage_metrics",
];

fn vpc_block() -> Block {
    let block = computed_strings(&[
        "id",
        "arn",
        "ipv6_association_id",
        "main_route_table_id",
        "default_route_table_id",
        "default_security_group_id",
        "default_network_acl_id",
        "dhcp_options_id",
        "owner_id",
    ])
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
    .attr(
        "ipv6_cidr_block_network_border_group",
        Attribute::optional_computed(Type::String),
    )
    .attr("ipv6_ipam_pool_id", Attribute::optional(Type::String))
    .attr("ipv6_netmask_length", Attribute::optional(Type::Number));
    with_tags(block)
}

fn attribute_name(name: &str) -> VpcAttributeName {
    match name {
        "enable_dns_support" => VpcAttributeName::EnableDnsSupport,
        "enable_dns_hostnames" => VpcAttributeName::EnableDnsHostnames,
        _ => VpcAttributeName::EnableNetworkAddressUsageMetrics,
    }
}

async fn vpc_flag(
    ec2: &aws_sdk_ec2::Client,
    id: &str,
    name: &str,
) -> Result<Option<bool>, ApiFailure> {
    let out = ec2
        .describe_vpc_attribute()
        .vpc_id(id)
        .attribute(attribute_name(name))
        .send()
        .await
        .api()?;
    let value = match name {
        "enable_dns_support" => out.enable_dns_support(),
        "enable_dns_hostnames" => out.enable_dns_hostnames(),
        _ => out.enable_network_address_usage_metrics(),
    };
    Ok(value.and_then(|v| v.value()))
}

/// How many VPCs have their attributes asked for at once (three calls each): enough that a
/// refresh of a few dozen VPCs takes the time of one, few enough not to be throttled.
const CONCURRENT_VPCS: usize = 16;

/// The three flags of every VPC in `ids`, keyed by VPC id. DescribeVpcAttribute takes one VPC
/// and one attribute, so this is 3 × N calls: they are sent concurrently (one task per VPC,
/// its three calls joined, up to [`CONCURRENT_VPCS`] VPCs at a time) so that the time taken
/// does not grow with N.
async fn vpc_flags(
    aws: &AwsContext,
    ids: &[String],
) -> Result<BTreeMap<String, [Option<bool>; 3]>, ApiFailure> {
    let permits = std::sync::Arc::new(tokio::sync::Semaphore::new(CONCURRENT_VPCS));
    let mut tasks = tokio::task::JoinSet::new();
    for id in ids {
        let ec2 = aws.ec2.clone();
        let id = id.clone();
        let permits = permits.clone();
        tasks.spawn(async move {
            // The semaphore is never closed, so a permit always comes.
            let _permit = permits.acquire_owned().await.ok();
            let (support, hostnames, metrics) = tokio::join!(
                vpc_flag(&ec2, &id, FLAGS[0]),
                vpc_flag(&ec2, &id, FLAGS[1]),
                vpc_flag(&ec2, &id, FLAGS[2]),
            );
            (id, support, hostnames, metrics)
        });
    }
    let mut out = BTreeMap::new();
    while let Some(joined) = tasks.join_next().await {
        let (id, support, hostnames, metrics) = joined.map_err(|error| ApiFailure {
            code: None,
            message: format!("a DescribeVpcAttribute task failed: {error}"),
        })?;
        out.insert(id, [support?, hostnames?, metrics?]);
    }
    Ok(out)
}

async fn set_vpc_flag(
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

/// The state of the IPv6 association `association_id` of VPC `id` (`None` when gone).
async fn ipv6_association_state(
    aws: &AwsContext,
    id: &str,
    association_id: &str,
) -> Result<Option<String>, ProviderError> {
    let out = ask(
        aws.ec2.describe_vpcs().vpc_ids(id).send(),
        &format!("reading {LABEL} ({id}) IPv6 CIDR blocks"),
    )
    .await?;
    Ok(out
        .vpcs()
        .first()
        .into_iter()
        .flat_map(|vpc| vpc.ipv6_cidr_block_association_set())
        .find(|a| a.association_id() == Some(association_id))
        .and_then(|a| a.ipv6_cidr_block_state())
        .and_then(|s| s.state())
        .map(|s| s.as_str().to_string()))
}

/// Waits until IPv6 association `association_id` is `associated` (`want_gone` false) or has
/// left (`want_gone` true).
async fn wait_ipv6_association(
    aws: &AwsContext,
    operation: &Operation<'_>,
    id: &str,
    association_id: &str,
    want_gone: bool,
) -> Result<(), ProviderError> {
    let target = if want_gone {
        "disassociated"
    } else {
        "associated"
    };
    operation
        .wait_for(
            &format!("{LABEL} ({id}) IPv6 CIDR block ({association_id})"),
            target,
            || async {
                let state = ipv6_association_state(aws, id, association_id).await?;
                Ok(match (state.as_deref(), want_gone) {
                    (Some("associated"), false) | (None | Some("disassociated"), true) => {
                        Poll::Done(())
                    }
                    (Some(other), _) => Poll::Pending(other.to_string()),
                    (None, false) => Poll::Pending("not yet visible".into()),
                })
            },
        )
        .await
}

/// What an IPv6 block is to be associated from.
struct Ipv6Request {
    amazon_provided: bool,
    cidr_block: Option<String>,
    ipam_pool_id: Option<String>,
    netmask_length: Option<i32>,
    network_border_group: Option<String>,
}

/// Replaces the VPC's IPv6 block: the old association (if any) ends, then a new one is made
/// when the request names a block; returns the new association's id.
async fn replace_ipv6_block(
    aws: &AwsContext,
    operation: &Operation<'_>,
    id: &str,
    old_association: Option<String>,
    request: Ipv6Request,
) -> Result<Option<String>, ProviderError> {
    if let Some(old) = old_association.filter(|a| !a.is_empty()) {
        aws.ec2
            .disassociate_vpc_cidr_block()
            .association_id(&old)
            .send()
            .await
            .api()
            .or_fail(&format!(
                "disassociating {LABEL} ({id}) IPv6 CIDR block ({old})"
            ))?;
        wait_ipv6_association(aws, operation, id, &old, true).await?;
    }
    if !request.amazon_provided && request.cidr_block.is_none() && request.ipam_pool_id.is_none() {
        return Ok(None);
    }
    let out = aws
        .ec2
        .associate_vpc_cidr_block()
        .vpc_id(id)
        .set_amazon_provided_ipv6_cidr_block(request.amazon_provided.then_some(true))
        .set_ipv6_cidr_block(request.cidr_block)
        .set_ipv6_ipam_pool_id(request.ipam_pool_id)
        .set_ipv6_netmask_length(request.netmask_length)
        .set_ipv6_cidr_block_network_border_group(request.network_border_group)
        .send()
        .await
        .api()
        .or_fail_on(
            &format!("associating an IPv6 CIDR block with {LABEL} ({id})"),
            &["InvalidParameterValue", "InvalidParameterCombination"],
            "ipv6_cidr_block",
        )?;
    let association_id = out
        .ipv6_cidr_block_association()
        .and_then(|a| a.association_id())
        .unwrap_or_default()
        .to_string();
    wait_ipv6_association(aws, operation, id, &association_id, false).await?;
    Ok(Some(association_id))
}

/// The VPC's IPv6 block as the provider picks it: the association the state names if it is
/// still associated, otherwise the last associated one.
fn ipv6_association<'a>(
    vpc: &'a SdkVpc,
    known_association: Option<&str>,
) -> Option<&'a VpcIpv6CidrBlockAssociation> {
    let associated = |a: &&VpcIpv6CidrBlockAssociation| {
        a.ipv6_cidr_block_state()
            .and_then(|s| s.state())
            .map(|s| s.as_str())
            == Some("associated")
    };
    let blocks = vpc.ipv6_cidr_block_association_set();
    known_association
        .filter(|a| !a.is_empty())
        .and_then(|known| {
            blocks
                .iter()
                .filter(associated)
                .find(|a| a.association_id() == Some(known))
        })
        .or_else(|| blocks.iter().rev().find(associated))
}

/// The IPv6 attributes of a read. `ipv6_ipam_pool_id` is left out (the state keeps its own)
/// when AWS only says the block came from some IPAM pool.
fn ipv6_attrs(association: Option<&VpcIpv6CidrBlockAssociation>) -> Attrs {
    let Some(association) = association else {
        return attrs([
            ("assign_generated_ipv6_cidr_block", Value::Bool(false)),
            ("ipv6_association_id", Value::Null),
            ("ipv6_cidr_block", Value::Null),
            ("ipv6_cidr_block_network_border_group", Value::Null),
            ("ipv6_ipam_pool_id", Value::Null),
            ("ipv6_netmask_length", Value::Null),
        ]);
    };
    let cidr = association.ipv6_cidr_block().unwrap_or_default();
    let pool = association.ipv6_pool().unwrap_or_default();
    let amazon = pool == AMAZON_IPV6_POOL;
    let mut read = attrs([
        ("assign_generated_ipv6_cidr_block", Value::Bool(amazon)),
        (
            "ipv6_association_id",
            non_empty(association.association_id()),
        ),
        ("ipv6_cidr_block", non_empty(Some(cidr))),
    ]);
    // Left as the state has it when AWS does not say (the emulator never does).
    if let Some(group) = association.network_border_group().filter(|g| !g.is_empty()) {
        read.insert(
            "ipv6_cidr_block_network_border_group".into(),
            Value::from(group),
        );
    }
    if amazon {
        read.insert("ipv6_ipam_pool_id".into(), Value::Null);
    } else if pool != IPAM_MANAGED_IPV6_POOL {
        read.insert("ipv6_ipam_pool_id".into(), non_empty(Some(pool)));
    }
    // The netmask is only an argument for blocks from a pool of the user's own.
    let netmask = (!pool.is_empty() && !amazon)
        .then(|| cidr.split_once('/'))
        .flatten()
        .and_then(|(_, bits)| bits.parse::<i64>().ok());
    read.insert(
        "ipv6_netmask_length".into(),
        netmask.map(Value::from).unwrap_or(Value::Null),
    );
    read
}

/// The main route table of each VPC in `vpc_ids` (one DescribeRouteTables for all), by VPC id.
/// It can change (ReplaceRouteTableAssociation on the main association), so every read asks
/// (in a refresh that shares its VPCs' route tables, that list answers: [`RouteTablesOfVpcs`]).
///
/// [`RouteTablesOfVpcs`]: super::RouteTablesOfVpcs
async fn main_route_tables(
    aws: &AwsContext,
    vpc_ids: &[String],
) -> Result<BTreeMap<String, String>, ApiFailure> {
    if vpc_ids.is_empty() {
        return Ok(BTreeMap::new());
    }
    let shared = aws.refresh.route_tables();
    if let Some(shared) = shared.filter(|s| s.covers(vpc_ids.iter().map(|id| Some(id.as_str())))) {
        // The refresh's list of its VPCs' tables holds every table of these VPCs.
        let tables = shared.tables(aws).await?;
        return Ok(tables
            .iter()
            .filter(|t| {
                t.vpc_id()
                    .is_some_and(|vpc| vpc_ids.iter().any(|id| id == vpc))
            })
            .filter(|t| t.associations().iter().any(|a| a.main() == Some(true)))
            .filter_map(|t| Some((t.vpc_id()?.to_string(), t.route_table_id()?.to_string())))
            .collect());
    }
    let tables = aws
        .ec2
        .describe_route_tables()
        .filters(filter("vpc-id", vpc_ids.iter().cloned()))
        .filters(filter("association.main", ["true".to_string()]))
        .send()
        .await
        .api()?;
    Ok(tables
        .route_tables()
        .iter()
        .filter_map(|t| Some((t.vpc_id()?.to_string(), t.route_table_id()?.to_string())))
        .collect())
}

/// The default security group and default network ACL of each VPC in `vpc_ids` (one
/// DescribeSecurityGroups and one DescribeNetworkAcls for all, sent together), by VPC id.
async fn default_groups_and_acls(
    aws: &AwsContext,
    vpc_ids: &[String],
) -> Result<BTreeMap<String, [Option<String>; 2]>, ApiFailure> {
    let mut out: BTreeMap<String, [Option<String>; 2]> = BTreeMap::new();
    if vpc_ids.is_empty() {
        return Ok(out);
    }
    let (groups, acls) = tokio::try_join!(
        async {
            aws.ec2
                .describe_security_groups()
                .filters(filter("vpc-id", vpc_ids.iter().cloned()))
                .filters(filter("group-name", ["default".to_string()]))
                .send()
                .await
                .api()
        },
        async {
            aws.ec2
                .describe_network_acls()
                .filters(filter("vpc-id", vpc_ids.iter().cloned()))
                .filters(filter("default", ["true".to_string()]))
                .send()
                .await
                .api()
        },
    )?;
    for group in groups.security_groups() {
        if let (Some(vpc), Some(id)) = (group.vpc_id(), group.group_id()) {
            out.entry(vpc.to_string()).or_default()[0] = Some(id.to_string());
        }
    }
    for acl in acls.network_acls() {
        if let (Some(vpc), Some(id)) = (acl.vpc_id(), acl.network_acl_id()) {
            out.entry(vpc.to_string()).or_default()[1] = Some(id.to_string());
        }
    }
    Ok(out)
}

/// The default objects every VPC has, looked up for many VPCs at once: (main route table,
/// default security group, default network ACL) by VPC id. The three describes are independent
/// and sent together, so they cost one round trip after DescribeVpcs rather than three.
async fn default_objects(
    aws: &AwsContext,
    vpc_ids: &[String],
) -> Result<BTreeMap<String, [Option<String>; 3]>, ApiFailure> {
    let (mains, others) = tokio::try_join!(
        main_route_tables(aws, vpc_ids),
        default_groups_and_acls(aws, vpc_ids)
    )?;
    Ok(join_defaults(vpc_ids, mains, others))
}

/// (main route table, default security group, default network ACL) of each VPC in `vpc_ids`.
fn join_defaults(
    vpc_ids: &[String],
    mut mains: BTreeMap<String, String>,
    mut others: BTreeMap<String, [Option<String>; 2]>,
) -> BTreeMap<String, [Option<String>; 3]> {
    vpc_ids
        .iter()
        .map(|id| {
            let [group, acl] = others.remove(id).unwrap_or_default();
            (id.clone(), [mains.remove(id), group, acl])
        })
        .collect()
}

/// The default security group and network ACL the state records for each VPC that has both.
/// AWS creates them with the VPC and lets no one delete or replace them, so while the VPC
/// exists they are the ones recorded: a refresh need not look them up again.
fn recorded_defaults(current: &[Value]) -> BTreeMap<String, [Option<String>; 2]> {
    current
        .iter()
        .filter_map(|value| {
            let id = get_str(value, "id").filter(|id| !id.is_empty())?;
            let group = get_str(value, "default_security_group_id").filter(|g| !g.is_empty())?;
            let acl = get_str(value, "default_network_acl_id").filter(|a| !a.is_empty())?;
            Some((id, [Some(group), Some(acl)]))
        })
        .collect()
}

/// A refresh's read of the VPCs in `current`. Their ids are the state's, so DescribeVpcs, the
/// flags and the main route tables go out at once instead of the follow-ups waiting for
/// DescribeVpcs; the default security group and network ACL come from the state where it has
/// them ([`recorded_defaults`]) and are looked up, in the same wave, for the VPCs where it has
/// not. Facts about a VPC that turns out to be gone are dropped with it.
async fn refresh_vpcs(
    aws: &AwsContext,
    current: &[Value],
) -> Result<BTreeMap<String, VpcFacts>, ApiFailure> {
    let ids: Vec<String> = ids_of(current)
        .into_iter()
        .filter(|id| !id.is_empty())
        .collect();
    let mut recorded = recorded_defaults(current);
    let unrecorded: Vec<String> = ids
        .iter()
        .filter(|id| !recorded.contains_key(*id))
        .cloned()
        .collect();
    let (found, flags, mains, looked_up) = tokio::join!(
        describe_by_ids(
            ids.clone(),
            describe_ids!(aws, describe_vpcs, set_vpc_ids, vpcs),
            |vpc| vpc.vpc_id().map(str::to_string),
        ),
        vpc_flags(aws, &ids),
        main_route_tables(aws, &ids),
        default_groups_and_acls(aws, &unrecorded),
    );
    let found = found?;
    let found_ids: Vec<String> = found.keys().cloned().collect();
    // A VPC deleted since the last run fails its DescribeVpcAttribute: ask again for the rest.
    let flags = match flags {
        Err(failure) if failure.is_not_found() => vpc_flags(aws, &found_ids).await?,
        flags => flags?,
    };
    recorded.extend(looked_up?);
    let defaults = join_defaults(&found_ids, mains?, recorded);
    Ok(gather_facts(found, flags, defaults))
}

/// What AWS tells of one VPC across the calls a read makes.
pub(super) struct VpcFacts {
    vpc: SdkVpc,
    /// In the order of [`FLAGS`].
    flags: [Option<bool>; 3],
    /// Main route table, default security group, default network ACL.
    defaults: [Option<String>; 3],
}

/// Everything a read of the VPCs with `ids` needs, in as few calls as the API allows.
pub(super) async fn describe_vpcs(
    aws: &AwsContext,
    ids: Vec<String>,
) -> Result<BTreeMap<String, VpcFacts>, ApiFailure> {
    let found = describe_by_ids(
        ids,
        describe_ids!(aws, describe_vpcs, set_vpc_ids, vpcs),
        |vpc| vpc.vpc_id().map(str::to_string),
    )
    .await?;
    let vpc_ids: Vec<String> = found.keys().cloned().collect();
    let (defaults, flags) = tokio::join!(default_objects(aws, &vpc_ids), vpc_flags(aws, &vpc_ids));
    Ok(gather_facts(found, flags?, defaults?))
}

/// Each found VPC with its flags and default objects.
fn gather_facts(
    found: BTreeMap<String, SdkVpc>,
    mut flags: BTreeMap<String, [Option<bool>; 3]>,
    mut defaults: BTreeMap<String, [Option<String>; 3]>,
) -> BTreeMap<String, VpcFacts> {
    found
        .into_iter()
        .map(|(id, vpc)| {
            let facts = VpcFacts {
                vpc,
                flags: flags.remove(&id).unwrap_or_default(),
                defaults: defaults.remove(&id).unwrap_or_default(),
            };
            (id, facts)
        })
        .collect()
}

/// The attributes of a read (the resource's; the data source takes what it has of them).
pub(super) fn vpc_attrs(
    aws: &AwsContext,
    facts: &VpcFacts,
    known_association: Option<&str>,
) -> Attrs {
    let vpc = &facts.vpc;
    let id = vpc.vpc_id().unwrap_or_default();
    let [main_route_table, default_security_group, default_network_acl] = facts.defaults.clone();
    let flag = |value: Option<bool>| value.map(Value::Bool).unwrap_or(Value::Null);
    let mut read = attrs([
        ("id", Value::from(id)),
        ("arn", arn(aws, vpc.owner_id(), "vpc", id)),
        ("cidr_block", opt_str(vpc.cidr_block())),
        (
            "instance_tenancy",
            opt_str(vpc.instance_tenancy().map(|t| t.as_str())),
        ),
        (FLAGS[0], flag(facts.flags[0])),
        (FLAGS[1], flag(facts.flags[1])),
        (FLAGS[2], flag(facts.flags[2])),
        ("main_route_table_id", opt_str(main_route_table.clone())),
        ("default_route_table_id", opt_str(main_route_table)),
        ("default_security_group_id", opt_str(default_security_group)),
        ("default_network_acl_id", opt_str(default_network_acl)),
        ("dhcp_options_id", opt_str(vpc.dhcp_options_id())),
        ("owner_id", opt_str(vpc.owner_id())),
    ]);
    read.extend(ipv6_attrs(ipv6_association(vpc, known_association)));
    with_remote_tags(read, vpc.tags())
}

/// The IPv6 block the plan asks for.
fn ipv6_request(planned: &Value, amazon_provided: bool) -> Ipv6Request {
    Ipv6Request {
        amazon_provided,
        cidr_block: if amazon_provided {
            None
        } else {
            get_str(planned, "ipv6_cidr_block")
        },
        ipam_pool_id: if amazon_provided {
            None
        } else {
            get_str(planned, "ipv6_ipam_pool_id")
        },
        netmask_length: if amazon_provided {
            None
        } else {
            get_i64(planned, "ipv6_netmask_length").and_then(|n| i32::try_from(n).ok())
        },
        network_border_group: if amazon_provided {
            get_str(planned, "ipv6_cidr_block_network_border_group")
        } else {
            None
        },
    }
}

#[async_trait]
impl ResourceType for Vpc {
    fn label(&self) -> &'static str {
        LABEL
    }

    fn schema_version(&self) -> u64 {
        1
    }

    fn schema(&self) -> Block {
        vpc_block()
    }

    /// As the provider's CustomizeDiff: a tenancy going from `dedicated` to `default` is an
    /// in-place change (the schema's force-new covers every other change), a CIDR block from
    /// IPAM does not diff, and a change of `assign_generated_ipv6_cidr_block` makes the IPv6
    /// block unknown until applied.
    fn adjust_plan(
        &self,
        prior: Option<&Value>,
        planned: &mut Value,
        requires_replace: &mut Vec<AttrPath>,
    ) {
        let Some(prior) = prior else {
            return;
        };
        let mut in_place = Vec::new();
        if get_str(prior, "instance_tenancy").as_deref() == Some("dedicated")
            && get_str(planned, "instance_tenancy").as_deref() == Some("default")
        {
            in_place.push(AttrPath::attr("instance_tenancy"));
        }
        // A CIDR block that IPAM picked (`ipv4_netmask_length` set) is not the configuration's
        // to change: the difference is ignored.
        if get_i64(planned, "ipv4_netmask_length").is_some_and(|n| n != 0) {
            let cidr = AttrPath::attr("cidr_block");
            if requires_replace.contains(&cidr) {
                let prior_cidr = prior.get_attr("cidr_block").cloned().unwrap_or(Value::Null);
                planned.set_at_path(&cidr.0, prior_cidr);
                in_place.push(cidr);
            }
        }
        let replacing = !requires_replace.is_empty();
        requires_replace.retain(|path| !in_place.contains(path));
        if replacing && requires_replace.is_empty() {
            // The replacement plan made what AWS computes unknown; in place, it stays.
            for (name, attribute) in vpc_block().attributes {
                let unknown = planned.get_attr(&name).is_some_and(Value::is_unknown);
                if attribute.computed && unknown {
                    let value = prior.get_attr(&name).cloned().unwrap_or(Value::Null);
                    planned.set_at_path(&AttrPath::attr(&name).0, value);
                }
            }
        }
        let assign = "assign_generated_ipv6_cidr_block";
        if requires_replace.is_empty()
            && prior
                .get_attr(assign)
                .unwrap_or(&Value::Null)
                .equals(planned.get_attr(assign).unwrap_or(&Value::Null))
                != Some(true)
        {
            set_unknown(planned, "ipv6_association_id", Type::String);
            set_unknown(planned, "ipv6_cidr_block", Type::String);
        }
    }

    async fn create(
        &self,
        aws: &AwsContext,
        operation: &Operation<'_>,
    ) -> Result<Attrs, ProviderError> {
        let planned = operation.planned;
        let tenancy = get_str(planned, "instance_tenancy").unwrap_or_else(|| "default".into());
        let netmask = |name: &str| get_i64(planned, name).and_then(|n| i32::try_from(n).ok());
        let out = aws
            .ec2
            .create_vpc()
            .set_cidr_block(get_str(planned, "cidr_block"))
            .instance_tenancy(Tenancy::from(tenancy.as_str()))
            .amazon_provided_ipv6_cidr_block(
                get_bool(planned, "assign_generated_ipv6_cidr_block").unwrap_or(false),
            )
            .set_ipv4_ipam_pool_id(get_str(planned, "ipv4_ipam_pool_id"))
            .set_ipv4_netmask_length(netmask("ipv4_netmask_length"))
            .set_ipv6_cidr_block(get_str(planned, "ipv6_cidr_block"))
            .set_ipv6_cidr_block_network_border_group(get_str(
                planned,
                "ipv6_cidr_block_network_border_group",
            ))
            .set_ipv6_ipam_pool_id(get_str(planned, "ipv6_ipam_pool_id"))
            .set_ipv6_netmask_length(netmask("ipv6_netmask_length"))
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
        let vpc = operation
            .wait_for(LABEL, "available", || async {
                let out = aws.ec2.describe_vpcs().vpc_ids(&id).send().await.api();
                match out {
                    Ok(out) => {
                        let vpc = out.vpcs().first().cloned();
                        let state = vpc
                            .as_ref()
                            .and_then(|v| v.state())
                            .map(|s| s.as_str().to_string());
                        match (state.as_deref(), vpc) {
                            (Some("available"), Some(vpc)) => Ok(Poll::Done(vpc)),
                            (Some(other), _) => Ok(Poll::Pending(other.to_string())),
                            (None, _) => Ok(Poll::Pending("not yet visible".into())),
                        }
                    }
                    Err(failure) if failure.is_not_found() => {
                        Ok(Poll::Pending("not yet visible".into()))
                    }
                    Err(failure) => Err(failure.into_error(format!("waiting for {LABEL} ({id})"))),
                }
            })
            .await?;
        if let Some(association_id) = vpc
            .ipv6_cidr_block_association_set()
            .first()
            .and_then(|a| a.association_id())
        {
            wait_ipv6_association(aws, operation, &id, association_id, false).await?;
        }
        // AWS's defaults are DNS support on, hostnames and usage metrics off: change only
        // what differs.
        let defaults = [true, false, false];
        for (name, default) in FLAGS.into_iter().zip(defaults) {
            if let Some(wanted) = get_bool(operation.planned, name) {
                if wanted != default {
                    set_vpc_flag(aws, &id, name, wanted).await?;
                }
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
        let described = refresh_vpcs(aws, current).await;
        batch_results(
            current,
            described,
            &format!("reading {LABEL}"),
            |facts, current| {
                let known = get_str(current, "ipv6_association_id");
                vpc_attrs(aws, facts, known.as_deref())
            },
        )
    }

    async fn update(
        &self,
        aws: &AwsContext,
        operation: &Operation<'_>,
    ) -> Result<Attrs, ProviderError> {
        let id = operation.id();
        let planned = operation.planned;
        for name in FLAGS {
            if operation.changed(name) {
                if let Some(value) = get_bool(planned, name) {
                    set_vpc_flag(aws, &id, name, value).await?;
                }
            }
        }
        if operation.changed("instance_tenancy") {
            // Only `dedicated` to `default` is planned in place (see `adjust_plan`).
            aws.ec2
                .modify_vpc_tenancy()
                .vpc_id(&id)
                .instance_tenancy(VpcTenancy::Default)
                .send()
                .await
                .api()
                .or_fail_on(
                    &format!("modifying {LABEL} ({id}) tenancy"),
                    &["InvalidParameterValue"],
                    "instance_tenancy",
                )?;
        }
        let mut changed = Attrs::new();
        let old_association = operation
            .prior
            .and_then(|p| get_str(p, "ipv6_association_id"));
        let assign = get_bool(planned, "assign_generated_ipv6_cidr_block").unwrap_or(false);
        // A block AWS is yet to pick is unknown in the plan, not a change of its own.
        let cidr_changed = operation.changed("ipv6_cidr_block")
            && planned
                .get_attr("ipv6_cidr_block")
                .is_some_and(|v| !v.is_unknown());
        // Which block to associate instead: Amazon's (or none) when the flag or the border
        // group changes, the configured one when the block or its pool does.
        let amazon_provided = if operation.changed("assign_generated_ipv6_cidr_block")
            || operation.changed("ipv6_cidr_block_network_border_group")
        {
            Some(assign)
        } else if cidr_changed || operation.changed("ipv6_ipam_pool_id") {
            Some(false)
        } else {
            None
        };
        let association = match amazon_provided {
            Some(amazon) => Some(
                replace_ipv6_block(
                    aws,
                    operation,
                    &id,
                    old_association,
                    ipv6_request(planned, amazon),
                )
                .await?,
            ),
            None => None,
        };
        if let Some(association) = association {
            changed.insert("ipv6_association_id".into(), opt_str(association));
        }
        ec2::update_tags(aws, &id, operation, LABEL).await?;
        Ok(changed)
    }

    async fn delete(
        &self,
        aws: &AwsContext,
        operation: &Operation<'_>,
    ) -> Result<(), ProviderError> {
        let id = operation.id();
        ec2::delete_retrying(operation, LABEL, || {
            done(aws.ec2.delete_vpc().vpc_id(&id).send())
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_ec2::types::{VpcCidrBlockState, VpcCidrBlockStateCode};

    fn block(
        id: &str,
        cidr: &str,
        pool: &str,
        state: VpcCidrBlockStateCode,
    ) -> VpcIpv6CidrBlockAssociation {
        VpcIpv6CidrBlockAssociation::builder()
            .association_id(id)
            .ipv6_cidr_block(cidr)
            .ipv6_pool(pool)
            .ipv6_cidr_block_state(VpcCidrBlockState::builder().state(state).build())
            .build()
    }

    #[test]
    fn the_ipv6_block_read_is_the_known_one_if_still_associated() {
        let vpc = SdkVpc::builder()
            .ipv6_cidr_block_association_set(block(
                "a",
                "2600::/56",
                AMAZON_IPV6_POOL,
                VpcCidrBlockStateCode::Associated,
            ))
            .ipv6_cidr_block_association_set(block(
                "b",
                "2601::/56",
                AMAZON_IPV6_POOL,
                VpcCidrBlockStateCode::Associated,
            ))
            .ipv6_cidr_block_association_set(block(
                "c",
                "2602::/56",
                AMAZON_IPV6_POOL,
                VpcCidrBlockStateCode::Disassociated,
            ))
            .build();
        let picked = |known| ipv6_association(&vpc, known).and_then(|a| a.association_id());
        assert_eq!(picked(Some("a")), Some("a"));
        assert_eq!(
            picked(Some("c")),
            Some("b"),
            "a disassociated block is not read"
        );
        assert_eq!(picked(None), Some("b"));
    }

    #[test]
    fn ipv6_pool_attributes_follow_the_provider() {
        let amazon = ipv6_attrs(Some(&block(
            "a",
            "2600::/56",
            AMAZON_IPV6_POOL,
            VpcCidrBlockStateCode::Associated,
        )));
        assert_eq!(
            amazon["assign_generated_ipv6_cidr_block"],
            Value::Bool(true)
        );
        assert_eq!(amazon["ipv6_ipam_pool_id"], Value::Null);
        assert_eq!(amazon["ipv6_netmask_length"], Value::Null);
        // From an IPAM pool AWS does not name: the state keeps its pool id.
        let ipam = ipv6_attrs(Some(&block(
            "a",
            "2600::/52",
            IPAM_MANAGED_IPV6_POOL,
            VpcCidrBlockStateCode::Associated,
        )));
        assert_eq!(ipam["assign_generated_ipv6_cidr_block"], Value::Bool(false));
        assert!(!ipam.contains_key("ipv6_ipam_pool_id"));
        assert_eq!(ipam["ipv6_netmask_length"], Value::from(52));
        let own = ipv6_attrs(Some(&block(
            "a",
            "2600::/56",
            "ipv6pool-ec2-1",
            VpcCidrBlockStateCode::Associated,
        )));
        assert_eq!(own["ipv6_ipam_pool_id"], Value::from("ipv6pool-ec2-1"));
        let none = ipv6_attrs(None);
        assert_eq!(none["assign_generated_ipv6_cidr_block"], Value::Bool(false));
        assert_eq!(none["ipv6_cidr_block"], Value::Null);
    }

    #[test]
    fn only_dedicated_to_default_tenancy_is_in_place() {
        let prior = Value::object([
            ("id", Value::from("vpc-1")),
            ("arn", Value::from("arn:aws:ec2:us-east-1:1:vpc/vpc-1")),
            ("instance_tenancy", Value::from("dedicated")),
            ("assign_generated_ipv6_cidr_block", Value::Bool(false)),
        ]);
        let mut planned = Value::object([
            ("id", Value::Unknown(Type::String)),
            ("arn", Value::Unknown(Type::String)),
            ("instance_tenancy", Value::from("default")),
            ("assign_generated_ipv6_cidr_block", Value::Bool(false)),
        ]);
        let mut replace = vec![AttrPath::attr("instance_tenancy")];
        Vpc.adjust_plan(Some(&prior), &mut planned, &mut replace);
        assert!(replace.is_empty());
        assert_eq!(planned.get_attr("id"), Some(&Value::from("vpc-1")));
        let mut back = Value::object([
            ("id", Value::Unknown(Type::String)),
            ("instance_tenancy", Value::from("dedicated")),
        ]);
        let mut replace = vec![AttrPath::attr("instance_tenancy")];
        let default_prior = Value::object([
            ("id", Value::from("vpc-1")),
            ("instance_tenancy", Value::from("default")),
        ]);
        Vpc.adjust_plan(Some(&default_prior), &mut back, &mut replace);
        assert_eq!(replace, vec![AttrPath::attr("instance_tenancy")]);
        // An IPAM-picked CIDR block that differs from the configuration is left alone.
        let ipam_prior = Value::object([
            ("id", Value::from("vpc-1")),
            ("cidr_block", Value::from("10.4.0.0/16")),
            ("ipv4_netmask_length", Value::from(16)),
        ]);
        let mut ipam = Value::object([
            ("id", Value::Unknown(Type::String)),
            ("cidr_block", Value::from("10.9.0.0/16")),
            ("ipv4_netmask_length", Value::from(16)),
        ]);
        let mut replace = vec![AttrPath::attr("cidr_block")];
        Vpc.adjust_plan(Some(&ipam_prior), &mut ipam, &mut replace);
        assert!(replace.is_empty());
        assert_eq!(
            ipam.get_attr("cidr_block"),
            Some(&Value::from("10.4.0.0/16"))
        );
        assert_eq!(ipam.get_attr("id"), Some(&Value::from("vpc-1")));
    }
}
