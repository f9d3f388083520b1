//! `aws_security_group_rule`, as `internal/service/ec2/vpc_security_group_rule.go` of the
//! Terraform AWS provider: one rule of a group, split into the same atoms as the group's inline
//! rules ([`super::security_group`]). Refresh of many rules is one DescribeSecurityGroups.

use super::security_group::{
    change_rules, describe_groups, permission, permission_atoms, rule_atoms, Atom,
};
use crate::providers::aws::support::{
    ask, attrs, computed_strings, get_str, opt_str, str_list, timeouts_block, Attrs, FailureExt,
    NotFoundExt,
};
use crate::providers::aws::{AwsContext, Operation, OperationKind, ResourceType};
use crate::providers::schema::{Attribute, Block};
use crate::providers::ProviderError;
use crate::value::{AttrPath, Type, Value};
use async_trait::async_trait;
use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

/// `aws_security_group_rule`: one rule of a group, managed on its own. Everything but
/// `description` replaces.
pub struct SecurityGroupRule;

const RULE_LABEL: &str = "EC2 Security Group Rule";

/// A stable id from the rule's content, as Terraform's `sgrule-<hash>`.
fn rule_id(rule: &Value) -> String {
    use sha2::Digest;
    let group = get_str(rule, "security_group_id").unwrap_or_default();
    let direction = get_str(rule, "type").unwrap_or_default();
    let mut atoms: Vec<String> = rule_atoms(rule, &group)
        .into_iter()
        .map(|a| format!("{}:{}:{}:{}", a.protocol, a.from_port, a.to_port, a.source))
        .collect();
    atoms.sort();
    let digest =
        sha2::Sha256::digest(format!("{group}|{direction}|{}", atoms.join(",")).as_bytes());
    let number = u32::from_be_bytes([digest[0], digest[1], digest[2], digest[3]]);
    format!("sgrule-{number}")
}

#[async_trait]
impl ResourceType for SecurityGroupRule {
    fn label(&self) -> &'static str {
        RULE_LABEL
    }

    fn schema_version(&self) -> u64 {
        2
    }

    fn taggable(&self) -> bool {
        false
    }

    fn schema(&self) -> Block {
        let block = computed_strings(&["id", "security_group_rule_id"])
            .attr("type", Attribute::required(Type::String).force_new())
            .attr(
                "security_group_id",
                Attribute::required(Type::String).force_new(),
            )
            .attr("from_port", Attribute::required(Type::Number).force_new())
            .attr("to_port", Attribute::required(Type::Number).force_new())
            .attr("protocol", Attribute::required(Type::String).force_new())
            .attr(
                "cidr_blocks",
                Attribute::optional(Type::list(Type::String)).force_new(),
            )
            .attr(
                "ipv6_cidr_blocks",
                Attribute::optional(Type::list(Type::String)).force_new(),
            )
            .attr(
                "prefix_list_ids",
                Attribute::optional(Type::list(Type::String)).force_new(),
            )
            .attr(
                "source_security_group_id",
                Attribute::optional_computed(Type::String).force_new(),
            )
            .attr(
                "self",
                Attribute::optional(Type::Bool)
                    .with_default(false)
                    .force_new(),
            )
            .attr("description", Attribute::optional(Type::String));
        timeouts_block(block, &["create"])
    }

    /// The provider's only timeout for a rule is 5 minutes to create.
    fn default_timeout(&self, operation: OperationKind) -> Duration {
        match operation {
            OperationKind::Create => Duration::from_secs(5 * 60),
            _ => Duration::from_secs(20 * 60),
        }
    }

    fn validate_config(&self, config: &Value) -> Vec<ProviderError> {
        let direction = get_str(config, "type");
        match direction.as_deref() {
            None | Some("ingress") | Some("egress") => Vec::new(),
            Some(other) => vec![ProviderError::new(
                "invalid security group rule type",
                format!("`{other}`: expected \"ingress\" or \"egress\""),
            )
            .on_attribute(AttrPath::attr("type"))],
        }
    }

    async fn create(
        &self,
        aws: &AwsContext,
        operation: &Operation<'_>,
    ) -> Result<Attrs, ProviderError> {
        let planned = operation.planned;
        let group = get_str(planned, "security_group_id").unwrap_or_default();
        let direction = get_str(planned, "type").unwrap_or_else(|| "ingress".into());
        let created = change_rules(
            aws,
            &group,
            &direction,
            true,
            vec![permission(planned, &group)],
        )
        .await;
        // A rule is its own key: the one an interrupted (or retried) create made is this one.
        let created = match created {
            Err(failure) if failure.code() == "InvalidPermission.Duplicate" => Ok(()),
            other => other,
        };
        created.map_err(|failure| {
            let attribute = if failure.code() == "InvalidPermission.Duplicate" {
                "from_port"
            } else {
                "security_group_id"
            };
            failure
                .into_error(format!("creating {RULE_LABEL} in {group}"))
                .on_attribute(AttrPath::attr(attribute))
        })?;
        Ok(attrs([("id", Value::String(rule_id(planned)))]))
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
        let groups: BTreeSet<String> = current
            .iter()
            .filter_map(|c| get_str(c, "security_group_id"))
            .collect();
        let described = describe_groups(aws, groups.into_iter().collect()).await;
        let summary = format!("reading {RULE_LABEL}");
        let groups = match described {
            Ok(groups) => groups,
            Err(failure) => {
                return current
                    .iter()
                    .map(|_| Err(failure.clone().into_error(&summary)))
                    .collect()
            }
        };
        current
            .iter()
            .map(|rule| {
                let group_id = get_str(rule, "security_group_id").unwrap_or_default();
                let Some(group) = groups.get(&group_id) else {
                    return Ok(None);
                };
                let direction = get_str(rule, "type").unwrap_or_default();
                let permissions = if direction == "egress" {
                    group.ip_permissions_egress()
                } else {
                    group.ip_permissions()
                };
                let remote = permission_atoms(permissions, &group_id);
                let wanted = rule_atoms(rule, &group_id);
                if wanted.is_empty() || !wanted.iter().all(|a| remote.contains(a)) {
                    // The description may have changed outside: match without it.
                    let loose =
                        |a: &Atom| (a.protocol.clone(), a.from_port, a.to_port, a.source.clone());
                    let remote_loose: BTreeMap<_, _> = remote
                        .iter()
                        .map(|a| (loose(a), a.description.clone()))
                        .collect();
                    if wanted.is_empty()
                        || !wanted.iter().all(|a| remote_loose.contains_key(&loose(a)))
                    {
                        return Ok(None);
                    }
                    let description = wanted
                        .first()
                        .and_then(|a| remote_loose.get(&loose(a)))
                        .cloned()
                        .unwrap_or_default();
                    return Ok(Some(attrs([
                        ("id", Value::String(rule_id(rule))),
                        (
                            "description",
                            if description.is_empty() {
                                Value::Null
                            } else {
                                Value::from(description)
                            },
                        ),
                    ])));
                }
                Ok(Some(attrs([("id", Value::String(rule_id(rule)))])))
            })
            .collect()
    }

    async fn update(
        &self,
        aws: &AwsContext,
        operation: &Operation<'_>,
    ) -> Result<Attrs, ProviderError> {
        let planned = operation.planned;
        let group = get_str(planned, "security_group_id").unwrap_or_default();
        let permissions = vec![permission(planned, &group)];
        let summary = format!("updating the description of {RULE_LABEL} in {group}");
        if get_str(planned, "type").as_deref() == Some("egress") {
            ask(
                aws.ec2
                    .update_security_group_rule_descriptions_egress()
                    .group_id(&group)
                    .set_ip_permissions(Some(permissions))
                    .send(),
                &summary,
            )
            .await?;
        } else {
            ask(
                aws.ec2
                    .update_security_group_rule_descriptions_ingress()
                    .group_id(&group)
                    .set_ip_permissions(Some(permissions))
                    .send(),
                &summary,
            )
            .await?;
        }
        Ok(Attrs::new())
    }

    async fn delete(
        &self,
        aws: &AwsContext,
        operation: &Operation<'_>,
    ) -> Result<(), ProviderError> {
        let prior = operation.planned;
        let group = get_str(prior, "security_group_id").unwrap_or_default();
        let direction = get_str(prior, "type").unwrap_or_else(|| "ingress".into());
        let permissions = vec![permission(prior, &group)];
        let result = change_rules(aws, &group, &direction, false, permissions).await;
        result
            .gone_ok()
            .or_fail(&format!("deleting {RULE_LABEL} from {group}"))
    }

    /// Import ids as Terraform has them: `sg-id_ingress_tcp_443_443_10.0.0.0/16[_source...]`,
    /// sources being CIDRs, security group ids, prefix list ids or `self`.
    fn import_attrs(&self, id: &str) -> Result<Attrs, ProviderError> {
        let parts: Vec<&str> = id.split('_').collect();
        let invalid = || {
            ProviderError::new(
                "invalid import id for aws_security_group_rule",
                format!("`{id}`: expected SECURITYGROUPID_TYPE_PROTOCOL_FROMPORT_TOPORT_SOURCE[_SOURCE]..."),
            )
        };
        if parts.len() < 6 || !matches!(parts[1], "ingress" | "egress") {
            return Err(invalid());
        }
        let from_port: i64 = parts[3].parse().map_err(|_| invalid())?;
        let to_port: i64 = parts[4].parse().map_err(|_| invalid())?;
        let (mut cidrs, mut ipv6, mut prefixes, mut source, mut own) =
            (Vec::new(), Vec::new(), Vec::new(), None, false);
        for part in &parts[5..] {
            if *part == "self" {
                own = true;
            } else if part.starts_with("sg-") {
                source = Some(part.to_string());
            } else if part.starts_with("pl-") {
                prefixes.push(part.to_string());
            } else if part.contains(':') {
                ipv6.push(part.to_string());
            } else {
                cidrs.push(part.to_string());
            }
        }
        let list_or_null = |items: Vec<String>| {
            if items.is_empty() {
                Value::Null
            } else {
                str_list(items)
            }
        };
        let mut value = attrs([
            ("security_group_id", Value::from(parts[0])),
            ("type", Value::from(parts[1])),
            ("protocol", Value::from(parts[2])),
            ("from_port", Value::from(from_port)),
            ("to_port", Value::from(to_port)),
            ("cidr_blocks", list_or_null(cidrs)),
            ("ipv6_cidr_blocks", list_or_null(ipv6)),
            ("prefix_list_ids", list_or_null(prefixes)),
            ("source_security_group_id", opt_str(source)),
            ("self", Value::Bool(own)),
        ]);
        let id = rule_id(&Value::Object(value.clone()));
        value.insert("id".into(), Value::String(id));
        Ok(value)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::providers::aws::support::str_list;

    #[test]
    fn import_ids_parse() {
        let attrs = SecurityGroupRule
            .import_attrs("sg-123_ingress_tcp_8000_8000_10.0.3.0/24_sg-456")
            .unwrap();
        assert_eq!(attrs["cidr_blocks"], str_list(["10.0.3.0/24"]));
        assert_eq!(attrs["source_security_group_id"], Value::from("sg-456"));
        assert!(SecurityGroupRule
            .import_attrs("sg-123_sideways_tcp_1_1_x")
            .is_err());
    }
}
