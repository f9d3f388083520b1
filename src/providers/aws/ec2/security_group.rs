//! `aws_security_group` (with inline `ingress`/`egress` blocks), as
//! `internal/service/ec2/vpc_security_group.go` of the Terraform AWS provider, and the rule atoms
//! it shares with `aws_security_group_rule` ([`super::security_group_rule`]).
//!
//! As the Terraform AWS provider does, a new group's default allow-all egress rule is removed,
//! so the group has exactly the rules configured. Rules change in place: each rule block is
//! split into *atoms* (protocol, ports, description and one source) so that what AWS merges
//! into one permission and what the configuration writes as several blocks compare equal.
//! `name`, `description` and `vpc_id` replace. Refresh of many groups (and of many standalone
//! rules) is one DescribeSecurityGroups.

use crate::providers::aws::ec2::{
    self, arn, batch_results, describe_by_ids, describe_ids, ids_of, tag_specification,
    with_remote_tags,
};
use crate::providers::aws::support::{
    attrs, computed_set_block, computed_strings, done, get_bool, get_i64, get_str, get_strings,
    name_or_unique, opt_str, str_list, str_set, timeouts_block, with_name_and_prefix, with_tags,
    ApiFailure, Attrs, FailureExt, SdkResultExt,
};
use crate::providers::aws::{AwsContext, Operation, OperationKind, ResourceType};
use crate::providers::schema::{Attribute, Block};
use crate::providers::ProviderError;
use crate::value::{AttrPath, Type, Value};
use async_trait::async_trait;
use aws_sdk_ec2::types::{
    IpPermission, IpRange, Ipv6Range, PrefixListId, ResourceType as Ec2ResourceType,
    SecurityGroup as SdkSecurityGroup, UserIdGroupPair,
};
use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

pub struct SecurityGroup;

const LABEL: &str = "EC2 Security Group";

pub(super) fn rule_block() -> Block {
    Block::new()
        .attr("from_port", Attribute::required(Type::Number))
        .attr("to_port", Attribute::required(Type::Number))
        .attr("protocol", Attribute::required(Type::String))
        .attr("cidr_blocks", Attribute::optional(Type::list(Type::String)))
        .attr(
            "ipv6_cidr_blocks",
            Attribute::optional(Type::list(Type::String)),
        )
        .attr(
            "prefix_list_ids",
            Attribute::optional(Type::list(Type::String)),
        )
        .attr(
            "security_groups",
            Attribute::optional(Type::set(Type::String)),
        )
        .attr("self", Attribute::optional(Type::Bool).with_default(false))
        .attr("description", Attribute::optional(Type::String))
}

/// Protocol names as AWS reports them (`-1` for all, names for the common numbers).
fn normalize_protocol(protocol: &str) -> String {
    match protocol.to_ascii_lowercase().as_str() {
        "all" | "-1" => "-1".into(),
        "6" => "tcp".into(),
        "17" => "udp".into(),
        "1" => "icmp".into(),
        "58" => "icmpv6".into(),
        other => other.to_string(),
    }
}

/// One source of one rule: what AWS stores as a unit.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(super) struct Atom {
    pub(super) protocol: String,
    pub(super) from_port: i64,
    pub(super) to_port: i64,
    pub(super) description: String,
    /// `cidr:…`, `ipv6:…`, `prefix:…`, `group:…` or `self`.
    pub(super) source: String,
}

/// The atoms of a rule block (`own_id` recognises a group referring to itself).
pub(super) fn rule_atoms(rule: &Value, own_id: &str) -> Vec<Atom> {
    let protocol = normalize_protocol(&get_str(rule, "protocol").unwrap_or_default());
    let (from_port, to_port) = if protocol == "-1" {
        (0, 0)
    } else {
        (
            get_i64(rule, "from_port").unwrap_or(0),
            get_i64(rule, "to_port").unwrap_or(0),
        )
    };
    let description = get_str(rule, "description").unwrap_or_default();
    let mut sources: Vec<String> = Vec::new();
    sources.extend(
        get_strings(rule, "cidr_blocks")
            .into_iter()
            .map(|c| format!("cidr:{c}")),
    );
    sources.extend(
        get_strings(rule, "ipv6_cidr_blocks")
            .into_iter()
            .map(|c| format!("ipv6:{c}")),
    );
    sources.extend(
        get_strings(rule, "prefix_list_ids")
            .into_iter()
            .map(|c| format!("prefix:{c}")),
    );
    for group in get_strings(rule, "security_groups")
        .into_iter()
        .chain(get_str(rule, "source_security_group_id"))
    {
        if group == own_id {
            sources.push("self".into());
        } else {
            sources.push(format!("group:{group}"));
        }
    }
    if get_bool(rule, "self") == Some(true) {
        sources.push("self".into());
    }
    sources
        .into_iter()
        .map(|source| Atom {
            protocol: protocol.clone(),
            from_port,
            to_port,
            description: description.clone(),
            source,
        })
        .collect()
}

/// The atoms of AWS's permissions.
pub(super) fn permission_atoms(permissions: &[IpPermission], own_id: &str) -> BTreeSet<Atom> {
    let mut atoms = BTreeSet::new();
    for permission in permissions {
        let protocol = normalize_protocol(permission.ip_protocol().unwrap_or("-1"));
        let (from_port, to_port) = if protocol == "-1" {
            (0, 0)
        } else {
            (
                i64::from(permission.from_port().unwrap_or(0)),
                i64::from(permission.to_port().unwrap_or(0)),
            )
        };
        let mut add = |description: Option<&str>, source: String| {
            atoms.insert(Atom {
                protocol: protocol.clone(),
                from_port,
                to_port,
                description: description.unwrap_or_default().to_string(),
                source,
            });
        };
        for range in permission.ip_ranges() {
            add(
                range.description(),
                format!("cidr:{}", range.cidr_ip().unwrap_or_default()),
            );
        }
        for range in permission.ipv6_ranges() {
            add(
                range.description(),
                format!("ipv6:{}", range.cidr_ipv6().unwrap_or_default()),
            );
        }
        for prefix in permission.prefix_list_ids() {
            add(
                prefix.description(),
                format!("prefix:{}", prefix.prefix_list_id().unwrap_or_default()),
            );
        }
        for pair in permission.user_id_group_pairs() {
            let group = pair.group_id().unwrap_or_default();
            let source = if group == own_id {
                "self".to_string()
            } else {
                format!("group:{group}")
            };
            add(pair.description(), source);
        }
    }
    atoms
}

/// Rule blocks for `remote` atoms: first the prior blocks whose atoms are all still there (in
/// their prior form), then the rest grouped by protocol, ports and description.
fn rules_from_atoms(mut remote: BTreeSet<Atom>, prior_rules: &[Value], own_id: &str) -> Vec<Value> {
    let mut rules = Vec::new();
    for rule in prior_rules {
        let atoms = rule_atoms(rule, own_id);
        if !atoms.is_empty() && atoms.iter().all(|a| remote.contains(a)) {
            for atom in &atoms {
                remote.remove(atom);
            }
            rules.push(rule.clone());
        }
    }
    let mut groups: BTreeMap<(String, i64, i64, String), Vec<String>> = BTreeMap::new();
    for atom in remote {
        groups
            .entry((
                atom.protocol,
                atom.from_port,
                atom.to_port,
                atom.description,
            ))
            .or_default()
            .push(atom.source);
    }
    for ((protocol, from_port, to_port, description), sources) in groups {
        let pick = |prefix: &str| -> Vec<String> {
            sources
                .iter()
                .filter_map(|s| s.strip_prefix(prefix).map(str::to_string))
                .collect()
        };
        let list_or_null = |items: Vec<String>| {
            if items.is_empty() {
                Value::Null
            } else {
                str_list(items)
            }
        };
        let groups = pick("group:");
        rules.push(Value::object([
            ("from_port", Value::from(from_port)),
            ("to_port", Value::from(to_port)),
            ("protocol", Value::from(protocol)),
            ("cidr_blocks", list_or_null(pick("cidr:"))),
            ("ipv6_cidr_blocks", list_or_null(pick("ipv6:"))),
            ("prefix_list_ids", list_or_null(pick("prefix:"))),
            (
                "security_groups",
                if groups.is_empty() {
                    Value::Null
                } else {
                    str_set(groups)
                },
            ),
            ("self", Value::Bool(sources.iter().any(|s| s == "self"))),
            (
                "description",
                if description.is_empty() {
                    Value::Null
                } else {
                    Value::from(description)
                },
            ),
        ]));
    }
    rules
}

/// The AWS permission of a rule block.
pub(super) fn permission(rule: &Value, own_id: &str) -> IpPermission {
    let protocol = normalize_protocol(&get_str(rule, "protocol").unwrap_or_default());
    let description = get_str(rule, "description");
    let mut groups: Vec<UserIdGroupPair> = get_strings(rule, "security_groups")
        .into_iter()
        .chain(get_str(rule, "source_security_group_id"))
        .map(|g| {
            UserIdGroupPair::builder()
                .group_id(g)
                .set_description(description.clone())
                .build()
        })
        .collect();
    if get_bool(rule, "self") == Some(true) {
        groups.push(
            UserIdGroupPair::builder()
                .group_id(own_id)
                .set_description(description.clone())
                .build(),
        );
    }
    let ports = protocol != "-1";
    IpPermission::builder()
        .ip_protocol(protocol)
        .set_from_port(
            ports
                .then(|| get_i64(rule, "from_port").and_then(|p| i32::try_from(p).ok()))
                .flatten(),
        )
        .set_to_port(
            ports
                .then(|| get_i64(rule, "to_port").and_then(|p| i32::try_from(p).ok()))
                .flatten(),
        )
        .set_ip_ranges(Some(
            get_strings(rule, "cidr_blocks")
                .into_iter()
                .map(|c| {
                    IpRange::builder()
                        .cidr_ip(c)
                        .set_description(description.clone())
                        .build()
                })
                .collect(),
        ))
        .set_ipv6_ranges(Some(
            get_strings(rule, "ipv6_cidr_blocks")
                .into_iter()
                .map(|c| {
                    Ipv6Range::builder()
                        .cidr_ipv6(c)
                        .set_description(description.clone())
                        .build()
                })
                .collect(),
        ))
        .set_prefix_list_ids(Some(
            get_strings(rule, "prefix_list_ids")
                .into_iter()
                .map(|p| {
                    PrefixListId::builder()
                        .prefix_list_id(p)
                        .set_description(description.clone())
                        .build()
                })
                .collect(),
        ))
        .set_user_id_group_pairs(Some(groups))
        .build()
}

/// Adds (`authorize`) or removes permissions of one direction.
pub(super) async fn change_rules(
    aws: &AwsContext,
    group_id: &str,
    direction: &str,
    authorize: bool,
    permissions: Vec<IpPermission>,
) -> Result<(), ApiFailure> {
    if permissions.is_empty() {
        return Ok(());
    }
    let permissions = Some(permissions);
    let result = match (direction, authorize) {
        ("ingress", true) => {
            let call = aws
                .ec2
                .authorize_security_group_ingress()
                .group_id(group_id);
            done(call.set_ip_permissions(permissions).send()).await
        }
        ("ingress", false) => {
            let call = aws.ec2.revoke_security_group_ingress().group_id(group_id);
            done(call.set_ip_permissions(permissions).send()).await
        }
        (_, true) => {
            let call = aws.ec2.authorize_security_group_egress().group_id(group_id);
            done(call.set_ip_permissions(permissions).send()).await
        }
        (_, false) => {
            let call = aws.ec2.revoke_security_group_egress().group_id(group_id);
            done(call.set_ip_permissions(permissions).send()).await
        }
    };
    match result {
        // Revoking what is already gone is done.
        Err(failure)
            if !authorize
                && (failure.is_not_found() || failure.code() == "InvalidPermission.NotFound") =>
        {
            Ok(())
        }
        other => other,
    }
}

fn rules_of<'a>(value: &'a Value, direction: &str) -> Vec<&'a Value> {
    value
        .get_attr(direction)
        .and_then(Value::as_seq)
        .map(|s| s.iter().collect())
        .unwrap_or_default()
}

pub(super) async fn describe_groups(
    aws: &AwsContext,
    ids: Vec<String>,
) -> Result<BTreeMap<String, SdkSecurityGroup>, ApiFailure> {
    describe_by_ids(
        ids,
        describe_ids!(
            aws,
            describe_security_groups,
            set_group_ids,
            security_groups
        ),
        |group| group.group_id().map(str::to_string),
    )
    .await
}

#[async_trait]
impl ResourceType for SecurityGroup {
    fn label(&self) -> &'static str {
        LABEL
    }

    fn schema_version(&self) -> u64 {
        1
    }

    fn schema(&self) -> Block {
        let block = computed_strings(&["id", "arn", "owner_id"])
            .attr(
                "description",
                Attribute::optional(Type::String)
                    .with_default("Managed by Terraform")
                    .force_new(),
            )
            .attr(
                "vpc_id",
                Attribute::optional_computed(Type::String).force_new(),
            )
            .attr(
                "revoke_rules_on_delete",
                Attribute::optional(Type::Bool).with_default(false),
            )
            .nested("ingress", computed_set_block(rule_block()))
            .nested("egress", computed_set_block(rule_block()));
        let block = with_name_and_prefix(block, "name");
        timeouts_block(with_tags(block), &["create", "delete"])
    }

    fn default_timeout(&self, operation: OperationKind) -> Duration {
        match operation {
            OperationKind::Delete => Duration::from_secs(15 * 60),
            _ => Duration::from_secs(10 * 60),
        }
    }

    async fn create(
        &self,
        aws: &AwsContext,
        operation: &Operation<'_>,
    ) -> Result<Attrs, ProviderError> {
        let planned = operation.planned;
        let name = name_or_unique(planned, "name");
        let out = aws
            .ec2
            .create_security_group()
            .group_name(&name)
            .description(
                get_str(planned, "description").unwrap_or_else(|| "Managed by Terraform".into()),
            )
            .set_vpc_id(get_str(planned, "vpc_id"))
            .set_tag_specifications(tag_specification(Ec2ResourceType::SecurityGroup, planned))
            .send()
            .await
            .api()
            .map_err(|failure| {
                let attribute = match failure.code() {
                    "InvalidGroup.Duplicate" => Some("name"),
                    code if code.starts_with("InvalidVpcID") => Some("vpc_id"),
                    _ => None,
                };
                let error = failure.into_error(format!("creating {LABEL} ({name})"));
                match attribute {
                    Some(attribute) => error.on_attribute(AttrPath::attr(attribute)),
                    None => error,
                }
            })?;
        Ok(attrs([
            ("id", opt_str(out.group_id())),
            ("name", Value::from(name.as_str())),
        ]))
    }

    async fn wait_created(
        &self,
        aws: &AwsContext,
        operation: &Operation<'_>,
        created: &Value,
    ) -> Result<(), ProviderError> {
        let id = get_str(created, "id").unwrap_or_default();
        let summary = format!("setting the rules of {LABEL} ({id})");
        // A VPC group starts with an allow-all egress rule: remove it, the configuration says
        // which egress it wants.
        let groups = describe_groups(aws, vec![id.clone()])
            .await
            .or_fail(&summary)?;
        if let Some(group) = groups.get(&id) {
            if group.vpc_id().is_some() && !group.ip_permissions_egress().is_empty() {
                change_rules(
                    aws,
                    &id,
                    "egress",
                    false,
                    group.ip_permissions_egress().to_vec(),
                )
                .await
                .or_fail(&summary)?;
            }
        }
        for direction in ["ingress", "egress"] {
            let permissions = rules_of(operation.planned, direction)
                .into_iter()
                .map(|r| permission(r, &id))
                .collect();
            change_rules(aws, &id, direction, true, permissions)
                .await
                .map_err(|f| {
                    f.into_error(&summary)
                        .on_attribute(AttrPath::attr(direction))
                })?;
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
        let described = describe_groups(aws, ids_of(current)).await;
        batch_results(
            current,
            described,
            &format!("reading {LABEL}"),
            |group, prior| {
                let id = group.group_id().unwrap_or_default();
                let prior_ingress: Vec<Value> =
                    rules_of(prior, "ingress").into_iter().cloned().collect();
                let prior_egress: Vec<Value> =
                    rules_of(prior, "egress").into_iter().cloned().collect();
                let ingress = rules_from_atoms(
                    permission_atoms(group.ip_permissions(), id),
                    &prior_ingress,
                    id,
                );
                let egress = rules_from_atoms(
                    permission_atoms(group.ip_permissions_egress(), id),
                    &prior_egress,
                    id,
                );
                let read = attrs([
                    ("id", Value::from(id)),
                    ("arn", arn(aws, group.owner_id(), "security-group", id)),
                    ("name", opt_str(group.group_name())),
                    ("description", opt_str(group.description())),
                    ("vpc_id", opt_str(group.vpc_id())),
                    ("owner_id", opt_str(group.owner_id())),
                    ("ingress", Value::set(ingress)),
                    ("egress", Value::set(egress)),
                ]);
                with_remote_tags(read, group.tags())
            },
        )
    }

    async fn update(
        &self,
        aws: &AwsContext,
        operation: &Operation<'_>,
    ) -> Result<Attrs, ProviderError> {
        let id = operation.id();
        let prior = operation.prior.unwrap_or(&Value::Null);
        for direction in ["ingress", "egress"] {
            if !operation.changed(direction) {
                continue;
            }
            let before = rules_of(prior, direction);
            let after = rules_of(operation.planned, direction);
            let removed: Vec<IpPermission> = before
                .iter()
                .filter(|r| !after.iter().any(|a| a.equals(r) == Some(true)))
                .map(|r| permission(r, &id))
                .collect();
            let added: Vec<IpPermission> = after
                .iter()
                .filter(|r| !before.iter().any(|b| b.equals(r) == Some(true)))
                .map(|r| permission(r, &id))
                .collect();
            let summary = format!("updating the {direction} rules of {LABEL} ({id})");
            change_rules(aws, &id, direction, false, removed)
                .await
                .or_fail(&summary)?;
            change_rules(aws, &id, direction, true, added)
                .await
                .map_err(|f| {
                    f.into_error(&summary)
                        .on_attribute(AttrPath::attr(direction))
                })?;
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
        if get_bool(operation.planned, "revoke_rules_on_delete") == Some(true) {
            if let Ok(groups) = describe_groups(aws, vec![id.clone()]).await {
                if let Some(group) = groups.get(&id) {
                    let summary = format!("revoking the rules of {LABEL} ({id})");
                    change_rules(aws, &id, "ingress", false, group.ip_permissions().to_vec())
                        .await
                        .or_fail(&summary)?;
                    change_rules(
                        aws,
                        &id,
                        "egress",
                        false,
                        group.ip_permissions_egress().to_vec(),
                    )
                    .await
                    .or_fail(&summary)?;
                }
            }
        }
        ec2::delete_retrying(operation, LABEL, || {
            done(aws.ec2.delete_security_group().group_id(&id).send())
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(cidrs: &[&str], description: Option<&str>) -> Value {
        Value::object([
            ("from_port", Value::from(443)),
            ("to_port", Value::from(443)),
            ("protocol", Value::from("tcp")),
            ("cidr_blocks", str_list(cidrs.iter().copied())),
            ("ipv6_cidr_blocks", Value::Null),
            ("prefix_list_ids", Value::Null),
            ("security_groups", Value::Null),
            ("self", Value::Bool(false)),
            ("description", opt_str(description)),
        ])
    }

    #[test]
    fn merged_permissions_split_back_into_the_configured_blocks() {
        let prior = vec![rule(&["10.0.0.0/16"], None), rule(&["10.1.0.0/16"], None)];
        let permission = IpPermission::builder()
            .ip_protocol("tcp")
            .from_port(443)
            .to_port(443)
            .ip_ranges(IpRange::builder().cidr_ip("10.0.0.0/16").build())
            .ip_ranges(IpRange::builder().cidr_ip("10.1.0.0/16").build())
            .build();
        let rules = rules_from_atoms(permission_atoms(&[permission], "sg-1"), &prior, "sg-1");
        assert_eq!(Value::set(rules), Value::set(prior));
    }

    #[test]
    fn rules_added_outside_show_as_new_blocks() {
        let permission = IpPermission::builder()
            .ip_protocol("-1")
            .ip_ranges(IpRange::builder().cidr_ip("0.0.0.0/0").build())
            .build();
        let rules = rules_from_atoms(permission_atoms(&[permission], "sg-1"), &[], "sg-1");
        assert_eq!(rules.len(), 1);
        assert_eq!(rules[0].get_attr("protocol"), Some(&Value::from("-1")));
        assert_eq!(rules[0].get_attr("from_port"), Some(&Value::from(0)));
    }
}
