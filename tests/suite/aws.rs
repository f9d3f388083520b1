//! The AWS provider against the moto emulator, driven through the provider trait as the engine
//! drives it: plan from a configuration shaped by the schema, apply, read back, plan again
//! (no change), update in place, replace, delete, import. Then the EKS + RDS scenario of
//! issue 5, checked against the emulator's API with the SDK directly.
//!
//! The EKS version upgrade path, encryption and node repair are in `aws_eks` (moto gains the
//! update operations it lacks from `tests/support/moto_eks_updates.py`).

use crate::common::Moto;
use std::collections::BTreeMap;
use strata::providers::aws::AwsProvider;
use strata::providers::{
    no_progress, ApplyRequest, Block, Nesting, PlanRequest, PlannedChange, Provider, ProviderError,
};
use strata::value::{AttrPath, Value};

// ---------------------------------------------------------------------------------------------
// Helpers

pub(crate) fn s(text: &str) -> Value {
    Value::from(text)
}

pub(crate) fn n(number: i64) -> Value {
    Value::from(number)
}

pub(crate) fn list(items: &[&str]) -> Value {
    Value::List(items.iter().map(|i| s(i)).collect())
}

pub(crate) fn set(items: &[&str]) -> Value {
    Value::set(items.iter().map(|i| s(i)).collect())
}

pub(crate) fn map(items: &[(&str, &str)]) -> Value {
    Value::Map(items.iter().map(|(k, v)| (k.to_string(), s(v))).collect())
}

pub(crate) fn obj(items: Vec<(&str, Value)>) -> Value {
    Value::object(items)
}

/// A value shaped by `block`: every attribute present (null when not given), every nested
/// block present (empty when not given), nested objects shaped too.
pub(crate) fn shape(block: &Block, given: &Value) -> Value {
    let mut out = BTreeMap::new();
    for name in block.attributes.keys() {
        out.insert(
            name.clone(),
            given.get_attr(name).cloned().unwrap_or(Value::Null),
        );
    }
    for (name, nested) in &block.blocks {
        let value = match (nested.nesting, given.get_attr(name)) {
            // As the body evaluator leaves a block type with an attribute form that is not
            // written: null (the provider keeps what is there), not an empty set.
            (_, None) if nested.attribute_syntax => Value::Null,
            (Nesting::Single, Some(v)) if !v.is_null() => shape(&nested.block, v),
            (Nesting::Single, _) => Value::Null,
            (Nesting::List, Some(v)) => Value::List(
                v.as_seq()
                    .unwrap_or(&[])
                    .iter()
                    .map(|i| shape(&nested.block, i))
                    .collect(),
            ),
            (Nesting::List, None) => Value::List(Vec::new()),
            (Nesting::Set, Some(v)) => Value::set(
                v.as_seq()
                    .unwrap_or(&[])
                    .iter()
                    .map(|i| shape(&nested.block, i))
                    .collect(),
            ),
            (Nesting::Set, None) => Value::Set(Vec::new()),
            (Nesting::Map, Some(v)) => Value::Map(
                v.as_entries()
                    .into_iter()
                    .flatten()
                    .map(|(k, i)| (k.clone(), shape(&nested.block, i)))
                    .collect(),
            ),
            (Nesting::Map, None) => Value::Map(Default::default()),
        };
        out.insert(name.clone(), value);
    }
    Value::Object(out)
}

pub(crate) fn attr<'a>(value: &'a Value, name: &str) -> &'a Value {
    value
        .get_attr(name)
        .unwrap_or_else(|| panic!("no attribute `{name}` in {value:?}"))
}

pub(crate) fn text(value: &Value, name: &str) -> String {
    attr(value, name)
        .as_str()
        .unwrap_or_else(|| panic!("`{name}` is not a string: {value:?}"))
        .to_string()
}

/// The attributes where two states differ (for assertion messages).
pub(crate) fn differences(a: &Value, b: &Value) -> Vec<String> {
    let (Some(x), Some(y)) = (a.as_entries(), b.as_entries()) else {
        return vec![format!("{a:?} != {b:?}")];
    };
    x.keys()
        .chain(y.keys())
        .filter(|k| {
            x.get(*k)
                .zip(y.get(*k))
                .map(|(p, q)| p.equals(q) != Some(true))
                .unwrap_or(true)
        })
        .map(|k| format!("{k}: {:?} != {:?}", x.get(k), y.get(k)))
        .collect()
}

pub(crate) struct Aws {
    pub(crate) moto: Moto,
    pub(crate) provider: AwsProvider,
}

fn provider_config(
    provider: &AwsProvider,
    endpoint: &str,
    default_tags: &[(&str, &str)],
    extra: Vec<(&str, Value)>,
) -> Value {
    let endpoints = obj(vec![
        ("ec2", s(endpoint)),
        ("eks", s(endpoint)),
        ("iam", s(endpoint)),
        ("rds", s(endpoint)),
        ("sts", s(endpoint)),
    ]);
    let mut given = vec![
        ("region", s("us-east-1")),
        ("access_key", s("test")),
        ("secret_key", s("test").mark_sensitive()),
        ("max_retries", n(2)),
        ("endpoints", Value::Set(vec![endpoints])),
    ];
    if !default_tags.is_empty() {
        given.push((
            "default_tags",
            Value::List(vec![obj(vec![("tags", map(default_tags))])]),
        ));
    }
    given.extend(extra);
    shape(&provider.schema().provider, &obj(given))
}

impl Aws {
    pub(crate) async fn start(default_tags: &[(&str, &str)]) -> Aws {
        Aws::start_with(default_tags, Vec::new()).await
    }

    /// With more provider arguments (`ignore_tags`, ...).
    pub(crate) async fn start_with(
        default_tags: &[(&str, &str)],
        extra: Vec<(&str, Value)>,
    ) -> Aws {
        let moto = Moto::start();
        let provider = AwsProvider::new();
        let config = provider_config(&provider, &moto.endpoint, default_tags, extra);
        provider
            .configure(&config)
            .await
            .expect("configure the aws provider");
        Aws { moto, provider }
    }

    /// A configuration for `type_name` from the given attributes.
    pub(crate) fn config(&self, type_name: &str, given: Vec<(&str, Value)>) -> Value {
        let schema = self.provider.schema();
        let block = &schema
            .resources
            .get(type_name)
            .unwrap_or_else(|| panic!("no schema for {type_name}"))
            .block;
        shape(block, &obj(given))
    }

    pub(crate) async fn plan(
        &self,
        type_name: &str,
        prior: Option<&Value>,
        config: &Value,
    ) -> PlannedChange {
        self.provider
            .plan_resource(PlanRequest {
                type_name,
                prior,
                config,
                prior_private: &[],
            })
            .await
            .unwrap_or_else(|e| panic!("planning {type_name}: {e}"))
    }

    pub(crate) async fn apply(
        &self,
        type_name: &str,
        prior: Option<Value>,
        planned: Option<Value>,
        config: Value,
    ) -> Result<Option<Value>, ProviderError> {
        self.provider
            .apply_resource(ApplyRequest {
                type_name: type_name.to_string(),
                prior,
                planned,
                config,
                timeout: Some(std::time::Duration::from_secs(60)),
                idempotency_token: uuid::Uuid::new_v4().to_string(),
                progress: no_progress(),
                prior_private: Vec::new(),
                planned_private: Vec::new(),
            })
            .await
    }

    /// Plans and applies a create, reads it back, and checks a second plan changes nothing.
    pub(crate) async fn create(&self, type_name: &str, config: &Value) -> Value {
        let plan = self.plan(type_name, None, config).await;
        assert!(plan.requires_replace.is_empty());
        let state = self
            .apply(type_name, None, Some(plan.planned.clone()), config.clone())
            .await
            .unwrap_or_else(|e| panic!("creating {type_name}: {e}"))
            .expect("a created object has a state");
        assert!(
            state.is_wholly_known(),
            "{type_name} state has unknowns: {state:?}"
        );
        for (name, value) in plan.planned.as_entries().unwrap() {
            if value.is_wholly_known() {
                assert_eq!(
                    value.equals(attr(&state, name)),
                    Some(true),
                    "{type_name}.{name} differs from the plan"
                );
            }
        }
        let read = self.read(type_name, &state).await.expect("just created");
        assert!(
            read.equals(&state) == Some(true),
            "{type_name} read differs: {:?}",
            differences(&read, &state)
        );
        self.assert_no_change(type_name, &read, config).await;
        read
    }

    pub(crate) async fn read(&self, type_name: &str, state: &Value) -> Option<Value> {
        self.provider
            .read_resource(type_name, state)
            .await
            .unwrap_or_else(|e| panic!("reading {type_name}: {e}"))
    }

    pub(crate) async fn assert_no_change(&self, type_name: &str, state: &Value, config: &Value) {
        let plan = self.plan(type_name, Some(state), config).await;
        assert!(
            plan.requires_replace.is_empty(),
            "{type_name} re-plan replaces: {:?}",
            plan.requires_replace
        );
        assert!(
            plan.planned.equals(state) == Some(true),
            "{type_name} re-plan changes: {:?}",
            differences(&plan.planned, state)
        );
    }

    /// Plans an in-place update, applies it and checks the result re-plans to no change.
    pub(crate) async fn update(&self, type_name: &str, state: &Value, config: &Value) -> Value {
        let plan = self.plan(type_name, Some(state), config).await;
        assert!(
            plan.requires_replace.is_empty(),
            "{type_name} update would replace: {:?}",
            plan.requires_replace
        );
        assert!(
            plan.planned.equals(state) != Some(true),
            "{type_name}: the update plans no change"
        );
        let updated = self
            .apply(
                type_name,
                Some(state.clone()),
                Some(plan.planned.clone()),
                config.clone(),
            )
            .await
            .unwrap_or_else(|e| panic!("updating {type_name}: {e}"))
            .expect("an updated object has a state");
        self.assert_no_change(type_name, &updated, config).await;
        updated
    }

    pub(crate) async fn assert_replaces(
        &self,
        type_name: &str,
        state: &Value,
        config: &Value,
        attribute: &str,
    ) {
        let plan = self.plan(type_name, Some(state), config).await;
        let path = AttrPath::parse(attribute).unwrap();
        assert!(
            plan.requires_replace
                .iter()
                .any(|p| p.starts_with(&path) || path.starts_with(p)),
            "{type_name}: changing {attribute} should replace, requires_replace = {:?}",
            plan.requires_replace
        );
    }

    pub(crate) async fn delete(&self, type_name: &str, state: &Value) {
        self.apply(type_name, Some(state.clone()), None, Value::Null)
            .await
            .unwrap_or_else(|e| panic!("deleting {type_name}: {e}"));
        assert_eq!(
            self.read(type_name, state).await,
            None,
            "{type_name} still there after delete"
        );
    }

    pub(crate) async fn import(&self, type_name: &str, id: &str) -> Value {
        self.provider
            .import_resource(type_name, id)
            .await
            .unwrap_or_else(|e| panic!("importing {type_name} {id}: {e}"))
    }

    pub(crate) async fn data(&self, type_name: &str, given: Vec<(&str, Value)>) -> Value {
        let schema = self.provider.schema();
        let config = shape(&schema.data_sources[type_name].block, &obj(given));
        self.provider
            .read_data_source(type_name, &config)
            .await
            .unwrap_or_else(|e| panic!("reading data {type_name}: {e}"))
    }

    pub(crate) async fn sdk(&self) -> aws_config::SdkConfig {
        aws_config::defaults(aws_config::BehaviorVersion::latest())
            .region(aws_config::Region::new("us-east-1"))
            .credentials_provider(aws_credential_types::Credentials::new(
                "test", "test", None, None, "test",
            ))
            .endpoint_url(&self.moto.endpoint)
            .load()
            .await
    }
}

const EKS_TRUST: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"eks.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#;
const EC2_TRUST: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#;

// ---------------------------------------------------------------------------------------------
// Per-resource lifecycles

#[tokio::test]
async fn vpc_lifecycle_with_default_tags_and_import() {
    let aws = Aws::start(&[("Team", "platform")]).await;
    let config = aws.config(
        "aws_vpc",
        vec![
            ("cidr_block", s("10.0.0.0/16")),
            ("tags", map(&[("Name", "main")])),
        ],
    );
    let plan = aws.plan("aws_vpc", None, &config).await;
    // default_tags show in the plan.
    assert_eq!(
        attr(&plan.planned, "tags_all"),
        &map(&[("Name", "main"), ("Team", "platform")])
    );
    let vpc = aws.create("aws_vpc", &config).await;
    assert!(text(&vpc, "id").starts_with("vpc-"));
    assert!(text(&vpc, "arn").starts_with("arn:aws:ec2:us-east-1:"));
    assert!(text(&vpc, "main_route_table_id").starts_with("rtb-"));
    assert!(text(&vpc, "default_security_group_id").starts_with("sg-"));
    assert_eq!(attr(&vpc, "enable_dns_support"), &Value::Bool(true));
    assert_eq!(attr(&vpc, "tags"), &map(&[("Name", "main")]));

    // In place: DNS hostnames and a tag.
    let changed = aws.config(
        "aws_vpc",
        vec![
            ("cidr_block", s("10.0.0.0/16")),
            ("enable_dns_hostnames", Value::Bool(true)),
            ("tags", map(&[("Name", "main"), ("Stage", "dev")])),
        ],
    );
    let vpc = aws.update("aws_vpc", &vpc, &changed).await;
    assert_eq!(attr(&vpc, "enable_dns_hostnames"), &Value::Bool(true));
    assert_eq!(
        attr(&vpc, "tags_all"),
        &map(&[("Name", "main"), ("Stage", "dev"), ("Team", "platform")])
    );

    // Import by id reads the same object, and plans against the configuration to no change.
    let imported = aws.import("aws_vpc", &text(&vpc, "id")).await;
    assert_eq!(
        imported.equals(&vpc),
        Some(true),
        "{:?}",
        differences(&imported, &vpc)
    );
    aws.assert_no_change("aws_vpc", &imported, &changed).await;

    let replaced = aws.config("aws_vpc", vec![("cidr_block", s("10.1.0.0/16"))]);
    aws.assert_replaces("aws_vpc", &vpc, &replaced, "cidr_block")
        .await;
    aws.delete("aws_vpc", &vpc).await;
    let missing = aws
        .provider
        .import_resource("aws_vpc", "vpc-00000000")
        .await
        .unwrap_err();
    assert_eq!(missing.summary, "Cannot import non-existent remote object");
}

#[tokio::test]
async fn ignore_tags_are_neither_drift_nor_removed() {
    let ignore = Value::List(vec![obj(vec![
        ("keys", set(&["kubernetes.io/cluster/demo"])),
        ("key_prefixes", set(&["autoscaler/"])),
    ])]);
    let aws = Aws::start_with(&[("Team", "platform")], vec![("ignore_tags", ignore)]).await;
    let config = aws.config(
        "aws_vpc",
        vec![
            ("cidr_block", s("10.0.0.0/16")),
            ("tags", map(&[("Name", "main")])),
        ],
    );
    let vpc = aws.create("aws_vpc", &config).await;
    let ec2 = aws_sdk_ec2::Client::new(&aws.sdk().await);
    let tag = |key: &str, value: &str| {
        aws_sdk_ec2::types::Tag::builder()
            .key(key)
            .value(value)
            .build()
    };
    ec2.create_tags()
        .resources(text(&vpc, "id"))
        .tags(tag("kubernetes.io/cluster/demo", "shared"))
        .tags(tag("autoscaler/enabled", "true"))
        .tags(tag("Owner", "someone-else"))
        .send()
        .await
        .expect("tag the VPC outside Strata");

    // Only the tag that is not ignored shows as drift.
    let refreshed = aws.read("aws_vpc", &vpc).await.expect("read the VPC");
    assert_eq!(
        attr(&refreshed, "tags"),
        &map(&[("Name", "main"), ("Owner", "someone-else")])
    );
    assert_eq!(
        attr(&refreshed, "tags_all"),
        &map(&[
            ("Name", "main"),
            ("Owner", "someone-else"),
            ("Team", "platform")
        ])
    );
    // Applying the configuration removes that one and leaves the ignored ones alone.
    let restored = aws.update("aws_vpc", &refreshed, &config).await;
    assert_eq!(attr(&restored, "tags"), &map(&[("Name", "main")]));
    let described = ec2
        .describe_vpcs()
        .vpc_ids(text(&vpc, "id"))
        .send()
        .await
        .expect("describe the VPC");
    let mut on_aws: Vec<String> = described.vpcs()[0]
        .tags()
        .iter()
        .filter_map(|t| t.key().map(str::to_string))
        .collect();
    on_aws.sort();
    assert_eq!(
        on_aws,
        [
            "Name",
            "Team",
            "autoscaler/enabled",
            "kubernetes.io/cluster/demo"
        ]
    );
    // A planned tags_all leaves ignored keys out even when the defaults carry one.
    let plan = aws.plan("aws_vpc", Some(&restored), &config).await;
    assert_eq!(
        attr(&plan.planned, "tags_all"),
        &map(&[("Name", "main"), ("Team", "platform")])
    );
}

#[tokio::test]
async fn subnet_lifecycle_and_an_overlapping_cidr_points_at_cidr_block() {
    let aws = Aws::start(&[]).await;
    let vpc = aws
        .create(
            "aws_vpc",
            &aws.config("aws_vpc", vec![("cidr_block", s("10.0.0.0/16"))]),
        )
        .await;
    let vpc_id = text(&vpc, "id");
    let config = aws.config(
        "aws_subnet",
        vec![
            ("vpc_id", s(&vpc_id)),
            ("cidr_block", s("10.0.1.0/24")),
            ("availability_zone", s("us-east-1a")),
        ],
    );
    let subnet = aws.create("aws_subnet", &config).await;
    assert_eq!(
        attr(&subnet, "map_public_ip_on_launch"),
        &Value::Bool(false)
    );
    assert_eq!(attr(&subnet, "tags"), &Value::Null);

    let overlapping = aws.config(
        "aws_subnet",
        vec![
            ("vpc_id", s(&vpc_id)),
            ("cidr_block", s("10.0.1.0/25")),
            ("availability_zone", s("us-east-1a")),
        ],
    );
    let plan = aws.plan("aws_subnet", None, &overlapping).await;
    let error = aws
        .apply("aws_subnet", None, Some(plan.planned), overlapping)
        .await
        .unwrap_err();
    assert_eq!(error.summary, "creating EC2 Subnet");
    assert!(
        error.detail.starts_with("InvalidSubnet.Conflict: "),
        "{}",
        error.detail
    );
    assert!(error.detail.contains("10.0.1.0/25"), "{}", error.detail);
    assert!(
        !error.detail.contains("HTTP"),
        "raw HTTP in {}",
        error.detail
    );
    assert_eq!(error.attribute, Some(AttrPath::attr("cidr_block")));

    let public = aws.config(
        "aws_subnet",
        vec![
            ("vpc_id", s(&vpc_id)),
            ("cidr_block", s("10.0.1.0/24")),
            ("availability_zone", s("us-east-1a")),
            ("map_public_ip_on_launch", Value::Bool(true)),
        ],
    );
    let subnet = aws.update("aws_subnet", &subnet, &public).await;
    assert_eq!(attr(&subnet, "map_public_ip_on_launch"), &Value::Bool(true));
    let moved = aws.config(
        "aws_subnet",
        vec![
            ("vpc_id", s(&vpc_id)),
            ("cidr_block", s("10.0.1.0/24")),
            ("availability_zone", s("us-east-1b")),
        ],
    );
    aws.assert_replaces("aws_subnet", &subnet, &moved, "availability_zone")
        .await;
    let imported = aws.import("aws_subnet", &text(&subnet, "id")).await;
    aws.assert_no_change("aws_subnet", &imported, &public).await;
    aws.delete("aws_subnet", &subnet).await;
    aws.delete("aws_vpc", &vpc).await;
}

#[tokio::test]
async fn gateways_addresses_and_routes_lifecycle() {
    let aws = Aws::start(&[]).await;
    let vpc = aws
        .create(
            "aws_vpc",
            &aws.config("aws_vpc", vec![("cidr_block", s("10.0.0.0/16"))]),
        )
        .await;
    let vpc_id = text(&vpc, "id");
    let subnet = aws
        .create(
            "aws_subnet",
            &aws.config(
                "aws_subnet",
                vec![("vpc_id", s(&vpc_id)), ("cidr_block", s("10.0.1.0/24"))],
            ),
        )
        .await;
    let subnet_id = text(&subnet, "id");

    let igw_config = aws.config("aws_internet_gateway", vec![("vpc_id", s(&vpc_id))]);
    let igw = aws.create("aws_internet_gateway", &igw_config).await;
    assert_eq!(attr(&igw, "vpc_id"), &s(&vpc_id));
    let igw = aws
        .update(
            "aws_internet_gateway",
            &igw,
            &aws.config(
                "aws_internet_gateway",
                vec![("vpc_id", s(&vpc_id)), ("tags", map(&[("Name", "igw")]))],
            ),
        )
        .await;
    let igw_id = text(&igw, "id");

    let eip = aws
        .create(
            "aws_eip",
            &aws.config("aws_eip", vec![("domain", s("vpc"))]),
        )
        .await;
    assert!(text(&eip, "allocation_id").starts_with("eipalloc-"));
    assert!(!text(&eip, "public_ip").is_empty());
    aws.assert_replaces(
        "aws_eip",
        &eip,
        &aws.config("aws_eip", vec![("domain", s("standard"))]),
        "domain",
    )
    .await;

    let nat_config = aws.config(
        "aws_nat_gateway",
        vec![
            ("allocation_id", s(&text(&eip, "id"))),
            ("subnet_id", s(&subnet_id)),
            ("tags", map(&[("Name", "nat")])),
        ],
    );
    let nat = aws.create("aws_nat_gateway", &nat_config).await;
    assert_eq!(attr(&nat, "public_ip"), attr(&eip, "public_ip"));
    assert_eq!(attr(&nat, "connectivity_type"), &s("public"));

    let route = |target: &str, id: &str| obj(vec![("cidr_block", s("0.0.0.0/0")), (target, s(id))]);
    let table_config = aws.config(
        "aws_route_table",
        vec![
            ("vpc_id", s(&vpc_id)),
            ("route", Value::Set(vec![route("gateway_id", &igw_id)])),
        ],
    );
    let table = aws.create("aws_route_table", &table_config).await;
    assert_eq!(attr(&table, "route").as_seq().unwrap().len(), 1);
    let via_nat = aws.config(
        "aws_route_table",
        vec![
            ("vpc_id", s(&vpc_id)),
            (
                "route",
                Value::Set(vec![route("nat_gateway_id", &text(&nat, "id"))]),
            ),
        ],
    );
    let table = aws.update("aws_route_table", &table, &via_nat).await;
    let routes = attr(&table, "route").as_seq().unwrap();
    assert_eq!(
        routes[0].get_attr("nat_gateway_id"),
        Some(&s(&text(&nat, "id")))
    );
    // Routes written nowhere: the table keeps what it has (the set is computed).
    let unmanaged = aws.config("aws_route_table", vec![("vpc_id", s(&vpc_id))]);
    aws.assert_no_change("aws_route_table", &table, &unmanaged)
        .await;

    let second = aws
        .create(
            "aws_route_table",
            &aws.config("aws_route_table", vec![("vpc_id", s(&vpc_id))]),
        )
        .await;
    let association_config = aws.config(
        "aws_route_table_association",
        vec![
            ("subnet_id", s(&subnet_id)),
            ("route_table_id", s(&text(&table, "id"))),
        ],
    );
    let association = aws
        .create("aws_route_table_association", &association_config)
        .await;
    assert!(text(&association, "id").starts_with("rtbassoc-"));
    let moved = aws.config(
        "aws_route_table_association",
        vec![
            ("subnet_id", s(&subnet_id)),
            ("route_table_id", s(&text(&second, "id"))),
        ],
    );
    let association = aws
        .update("aws_route_table_association", &association, &moved)
        .await;
    assert_eq!(
        attr(&association, "route_table_id"),
        &s(&text(&second, "id"))
    );
    let imported = aws
        .import(
            "aws_route_table_association",
            &format!("{subnet_id}/{}", text(&second, "id")),
        )
        .await;
    assert_eq!(attr(&imported, "id"), attr(&association, "id"));

    aws.delete("aws_route_table_association", &association)
        .await;
    aws.delete("aws_route_table", &second).await;
    aws.delete("aws_route_table", &table).await;
    aws.delete("aws_nat_gateway", &nat).await;
    aws.delete("aws_eip", &eip).await;
    aws.delete("aws_internet_gateway", &igw).await;
    aws.delete("aws_subnet", &subnet).await;
    aws.delete("aws_vpc", &vpc).await;
}

fn rule(from: i64, to: i64, protocol: &str, cidrs: &[&str]) -> Value {
    obj(vec![
        ("from_port", n(from)),
        ("to_port", n(to)),
        ("protocol", s(protocol)),
        ("cidr_blocks", list(cidrs)),
    ])
}

#[tokio::test]
async fn security_groups_and_rules_lifecycle() {
    let aws = Aws::start(&[]).await;
    let vpc = aws
        .create(
            "aws_vpc",
            &aws.config("aws_vpc", vec![("cidr_block", s("10.0.0.0/16"))]),
        )
        .await;
    let vpc_id = text(&vpc, "id");
    let schema = aws.provider.schema();
    let rule_block = &schema.resources["aws_security_group"].block.blocks["ingress"].block;
    let rules =
        |items: Vec<Value>| Value::set(items.iter().map(|r| shape(rule_block, r)).collect());
    let config = aws.config(
        "aws_security_group",
        vec![
            ("name", s("web")),
            ("vpc_id", s(&vpc_id)),
            (
                "ingress",
                rules(vec![
                    rule(443, 443, "tcp", &["10.0.0.0/16"]),
                    rule(80, 80, "tcp", &["10.0.0.0/16"]),
                ]),
            ),
            ("egress", rules(vec![rule(0, 0, "-1", &["0.0.0.0/0"])])),
        ],
    );
    let group = aws.create("aws_security_group", &config).await;
    assert_eq!(attr(&group, "description"), &s("Managed by Terraform"));
    assert_eq!(attr(&group, "ingress").as_seq().unwrap().len(), 2);
    let group_id = text(&group, "id");

    // A group whose configuration writes no egress has none: the default rule is removed.
    let bare_config = aws.config(
        "aws_security_group",
        vec![("name", s("bare")), ("vpc_id", s(&vpc_id))],
    );
    let bare = aws.create("aws_security_group", &bare_config).await;
    assert_eq!(attr(&bare, "egress").as_seq().map(<[Value]>::len), Some(0));

    // Rules change in place.
    let changed = aws.config(
        "aws_security_group",
        vec![
            ("name", s("web")),
            ("vpc_id", s(&vpc_id)),
            (
                "ingress",
                rules(vec![rule(443, 443, "tcp", &["10.0.0.0/16", "10.1.0.0/16"])]),
            ),
            ("egress", rules(vec![rule(0, 0, "-1", &["0.0.0.0/0"])])),
        ],
    );
    let group = aws.update("aws_security_group", &group, &changed).await;
    assert_eq!(attr(&group, "ingress").as_seq().unwrap().len(), 1);
    let renamed = aws.config(
        "aws_security_group",
        vec![("name", s("web2")), ("vpc_id", s(&vpc_id))],
    );
    aws.assert_replaces("aws_security_group", &group, &renamed, "name")
        .await;

    // A standalone rule on the bare group.
    let rule_config = aws.config(
        "aws_security_group_rule",
        vec![
            ("type", s("ingress")),
            ("security_group_id", s(&text(&bare, "id"))),
            ("from_port", n(5432)),
            ("to_port", n(5432)),
            ("protocol", s("tcp")),
            ("source_security_group_id", s(&group_id)),
            ("description", s("database")),
        ],
    );
    let standalone = aws.create("aws_security_group_rule", &rule_config).await;
    assert!(text(&standalone, "id").starts_with("sgrule-"));
    let imported = aws
        .import(
            "aws_security_group_rule",
            &format!("{}_ingress_tcp_5432_5432_{group_id}", text(&bare, "id")),
        )
        .await;
    assert_eq!(attr(&imported, "id"), attr(&standalone, "id"));
    let wider = aws.config(
        "aws_security_group_rule",
        vec![
            ("type", s("ingress")),
            ("security_group_id", s(&text(&bare, "id"))),
            ("from_port", n(5432)),
            ("to_port", n(5433)),
            ("protocol", s("tcp")),
            ("source_security_group_id", s(&group_id)),
        ],
    );
    aws.assert_replaces("aws_security_group_rule", &standalone, &wider, "to_port")
        .await;
    aws.delete("aws_security_group_rule", &standalone).await;
    aws.delete("aws_security_group", &bare).await;
    aws.delete("aws_security_group", &group).await;
    aws.delete("aws_vpc", &vpc).await;
}

#[tokio::test]
async fn iam_role_and_policy_attachment_lifecycle() {
    let aws = Aws::start(&[]).await;
    let config = aws.config(
        "aws_iam_role",
        vec![("name", s("cluster")), ("assume_role_policy", s(EKS_TRUST))],
    );
    let role = aws.create("aws_iam_role", &config).await;
    assert_eq!(attr(&role, "id"), &s("cluster"));
    assert!(text(&role, "arn").ends_with(":role/cluster"));
    // The same document formatted differently is no change.
    let pretty = serde_json::to_string_pretty(
        &serde_json::from_str::<serde_json::Value>(EKS_TRUST).unwrap(),
    )
    .unwrap();
    let reformatted = aws.config(
        "aws_iam_role",
        vec![("name", s("cluster")), ("assume_role_policy", s(&pretty))],
    );
    aws.assert_no_change("aws_iam_role", &role, &reformatted)
        .await;
    let described = aws.config(
        "aws_iam_role",
        vec![
            ("name", s("cluster")),
            ("assume_role_policy", s(EC2_TRUST)),
            ("description", s("EKS control plane")),
        ],
    );
    let role = aws.update("aws_iam_role", &role, &described).await;
    assert_eq!(attr(&role, "description"), &s("EKS control plane"));
    aws.assert_replaces(
        "aws_iam_role",
        &role,
        &aws.config(
            "aws_iam_role",
            vec![("name", s("other")), ("assume_role_policy", s(EC2_TRUST))],
        ),
        "name",
    )
    .await;

    let policy = "arn:aws:iam::aws:policy/AmazonEKSClusterPolicy";
    let attachment_config = aws.config(
        "aws_iam_role_policy_attachment",
        vec![("role", s("cluster")), ("policy_arn", s(policy))],
    );
    let attachment = aws
        .create("aws_iam_role_policy_attachment", &attachment_config)
        .await;
    let imported = aws
        .import(
            "aws_iam_role_policy_attachment",
            &format!("cluster/{policy}"),
        )
        .await;
    assert_eq!(attr(&imported, "policy_arn"), &s(policy));
    let missing_policy = aws.config(
        "aws_iam_role_policy_attachment",
        vec![
            ("role", s("cluster")),
            ("policy_arn", s("arn:aws:iam::aws:policy/NoSuchPolicy")),
        ],
    );
    let plan = aws
        .plan("aws_iam_role_policy_attachment", None, &missing_policy)
        .await;
    let error = aws
        .apply(
            "aws_iam_role_policy_attachment",
            None,
            Some(plan.planned),
            missing_policy,
        )
        .await
        .unwrap_err();
    assert!(error.detail.starts_with("NoSuchEntity"), "{}", error.detail);
    assert_eq!(error.attribute, Some(AttrPath::attr("policy_arn")));
    aws.delete("aws_iam_role_policy_attachment", &attachment)
        .await;
    aws.delete("aws_iam_role", &role).await;
}

#[tokio::test]
async fn data_sources() {
    let aws = Aws::start(&[]).await;
    let zones = aws
        .data("aws_availability_zones", vec![("state", s("available"))])
        .await;
    let names = attr(&zones, "names").as_seq().unwrap();
    assert!(names.len() >= 2);
    assert_eq!(names[0], s("us-east-1a"));
    let identity = aws.data("aws_caller_identity", vec![]).await;
    assert_eq!(text(&identity, "account_id").len(), 12);
    let vpc = aws
        .create(
            "aws_vpc",
            &aws.config(
                "aws_vpc",
                vec![
                    ("cidr_block", s("10.7.0.0/16")),
                    ("tags", map(&[("Name", "lookup")])),
                ],
            ),
        )
        .await;
    let by_tags = aws
        .data("aws_vpc", vec![("tags", map(&[("Name", "lookup")]))])
        .await;
    assert_eq!(attr(&by_tags, "id"), attr(&vpc, "id"));
    assert_eq!(attr(&by_tags, "cidr_block"), &s("10.7.0.0/16"));
    let schema = aws.provider.schema();
    let statement_block =
        &schema.data_sources["aws_iam_policy_document"].block.blocks["statement"].block;
    let statement = shape(
        statement_block,
        &obj(vec![
            ("actions", set(&["sts:AssumeRole"])),
            (
                "principals",
                Value::set(vec![obj(vec![
                    ("type", s("Service")),
                    ("identifiers", set(&["eks.amazonaws.com"])),
                ])]),
            ),
        ]),
    );
    let document = aws
        .data(
            "aws_iam_policy_document",
            vec![("statement", Value::List(vec![statement]))],
        )
        .await;
    let generated: serde_json::Value = serde_json::from_str(&text(&document, "json")).unwrap();
    assert_eq!(
        generated,
        serde_json::from_str::<serde_json::Value>(EKS_TRUST).unwrap()
    );
    let by_id = aws
        .data("aws_vpc", vec![("id", attr(&vpc, "id").clone())])
        .await;
    assert_eq!(
        attr(&by_id, "main_route_table_id"),
        attr(&vpc, "main_route_table_id")
    );
}

#[tokio::test]
async fn a_create_that_fails_after_the_object_exists_returns_its_partial_state() {
    let aws = Aws::start(&[]).await;
    // The gateway is created, then attaching it to a VPC that does not exist fails.
    let config = aws.config(
        "aws_internet_gateway",
        vec![("vpc_id", s("vpc-0000000000000000f"))],
    );
    let plan = aws.plan("aws_internet_gateway", None, &config).await;
    let error = aws
        .apply("aws_internet_gateway", None, Some(plan.planned), config)
        .await
        .unwrap_err();
    assert!(
        error.summary.starts_with("attaching EC2 Internet Gateway"),
        "{}",
        error.summary
    );
    assert!(
        error.detail.starts_with("InvalidVpcID.NotFound"),
        "{}",
        error.detail
    );
    assert_eq!(error.attribute, Some(AttrPath::attr("vpc_id")));
    let partial = error
        .partial_state
        .expect("the gateway exists: its state comes back");
    assert!(text(&partial, "id").starts_with("igw-"));
    assert!(partial.is_wholly_known());
    // The engine records it; a later read finds it and delete removes it.
    assert!(aws.read("aws_internet_gateway", &partial).await.is_some());
    aws.delete("aws_internet_gateway", &partial).await;
}

// ---------------------------------------------------------------------------------------------
// Refresh cost

#[tokio::test]
async fn refreshing_many_resources_takes_one_call_per_type() {
    let aws = Aws::start(&[]).await;
    let vpc = aws
        .create(
            "aws_vpc",
            &aws.config("aws_vpc", vec![("cidr_block", s("10.0.0.0/16"))]),
        )
        .await;
    let vpc_id = text(&vpc, "id");
    let mut by_type: BTreeMap<&str, Vec<Value>> = BTreeMap::new();
    for i in 0..4 {
        let subnet = aws.config(
            "aws_subnet",
            vec![
                ("vpc_id", s(&vpc_id)),
                ("cidr_block", s(&format!("10.0.{i}.0/24"))),
            ],
        );
        by_type
            .entry("aws_subnet")
            .or_default()
            .push(aws.create("aws_subnet", &subnet).await);
        let group = aws.config(
            "aws_security_group",
            vec![("name", s(&format!("g{i}"))), ("vpc_id", s(&vpc_id))],
        );
        by_type
            .entry("aws_security_group")
            .or_default()
            .push(aws.create("aws_security_group", &group).await);
        let table = aws.config("aws_route_table", vec![("vpc_id", s(&vpc_id))]);
        by_type
            .entry("aws_route_table")
            .or_default()
            .push(aws.create("aws_route_table", &table).await);
        let eip = aws.config("aws_eip", vec![("domain", s("vpc"))]);
        by_type
            .entry("aws_eip")
            .or_default()
            .push(aws.create("aws_eip", &eip).await);
    }
    let igw = aws.config("aws_internet_gateway", vec![]);
    for _ in 0..3 {
        by_type
            .entry("aws_internet_gateway")
            .or_default()
            .push(aws.create("aws_internet_gateway", &igw).await);
    }
    // One of them deleted behind our back: the batch still answers for the others.
    let gone = by_type["aws_subnet"][3].clone();
    aws.apply("aws_subnet", Some(gone.clone()), None, Value::Null)
        .await
        .unwrap();

    let before = aws.provider.api_calls();
    let mut read = 0;
    for (type_name, states) in &by_type {
        let results = aws.provider.read_resources(type_name, states).await;
        for (result, state) in results.into_iter().zip(states) {
            let found = result.unwrap();
            if state == &gone {
                assert_eq!(found, None);
            } else {
                assert_eq!(found.unwrap().equals(state), Some(true), "{type_name}");
            }
            read += 1;
        }
    }
    let calls = aws.provider.api_calls() - before;
    assert_eq!(read, 19);
    // 5 types; the subnet batch that names a deleted id is retried one id at a time (4 more).
    assert_eq!(
        calls,
        5 + 4,
        "refreshing {read} resources of 5 types took {calls} calls"
    );

    let before = aws.provider.api_calls();
    let live: Vec<Value> = by_type["aws_subnet"][..3].to_vec();
    aws.provider.read_resources("aws_subnet", &live).await;
    assert_eq!(aws.provider.api_calls() - before, 1);
}

/// What one refresh of `states` costs: the API calls, and the most of them under way at once.
async fn refresh_cost(aws: &Aws, type_name: &str, states: &[Value]) -> (u64, u64) {
    let before = aws.provider.api_calls();
    aws.provider.reset_api_calls_at_once();
    let results = aws.provider.read_resources(type_name, states).await;
    for (result, state) in results.into_iter().zip(states) {
        let read = result.unwrap().unwrap();
        assert_eq!(read.equals(state), Some(true), "{type_name}");
    }
    (
        aws.provider.api_calls() - before,
        aws.provider.api_calls_at_once(),
    )
}

/// Issue 16: a refresh of N objects costs about its slowest call chain, not the sum of N
/// chains. The call count is what the batched describes and the per-object follow-ups add up
/// to; the most calls under way at once shows whether the follow-ups of different objects
/// overlap (a refresh that made them one after another would never have more than one
/// object's worth in flight).
#[tokio::test]
async fn a_refresh_of_n_objects_overlaps_their_follow_up_calls() {
    let aws = Aws::start(&[]).await;
    let mut costs = Vec::new();
    for n in [1usize, 5] {
        let (mut vpcs, mut subnets, mut groups, mut roles) = (vec![], vec![], vec![], vec![]);
        let mut attachments = vec![];
        for i in 0..n {
            let cidr = format!("10.{}.0.0/16", n * 10 + i);
            let vpc = aws
                .create(
                    "aws_vpc",
                    &aws.config("aws_vpc", vec![("cidr_block", s(&cidr))]),
                )
                .await;
            let vpc_id = text(&vpc, "id");
            let subnet = aws.config(
                "aws_subnet",
                vec![
                    ("vpc_id", s(&vpc_id)),
                    ("cidr_block", s(&cidr.replace(".0.0/16", ".1.0/24"))),
                ],
            );
            subnets.push(aws.create("aws_subnet", &subnet).await);
            let group = aws.config(
                "aws_security_group",
                vec![("name", s(&format!("g{n}-{i}"))), ("vpc_id", s(&vpc_id))],
            );
            groups.push(aws.create("aws_security_group", &group).await);
            let role = aws.config(
                "aws_iam_role",
                vec![
                    ("name", s(&format!("r{n}-{i}"))),
                    ("assume_role_policy", s(EKS_TRUST)),
                ],
            );
            roles.push(aws.create("aws_iam_role", &role).await);
            let attachment = aws.config(
                "aws_iam_role_policy_attachment",
                vec![
                    ("role", s(&format!("r{n}-{i}"))),
                    (
                        "policy_arn",
                        s("arn:aws:iam::aws:policy/AmazonEKSClusterPolicy"),
                    ),
                ],
            );
            attachments.push(
                aws.create("aws_iam_role_policy_attachment", &attachment)
                    .await,
            );
            vpcs.push(vpc);
        }
        let vpc = refresh_cost(&aws, "aws_vpc", &vpcs).await;
        let subnet = refresh_cost(&aws, "aws_subnet", &subnets).await;
        let group = refresh_cost(&aws, "aws_security_group", &groups).await;
        let role = refresh_cost(&aws, "aws_iam_role", &roles).await;
        let attached = refresh_cost(&aws, "aws_iam_role_policy_attachment", &attachments).await;
        eprintln!(
            "N={n}: (calls, most at once) vpc {vpc:?} subnet {subnet:?} sg {group:?} role {role:?} attachment {attached:?}"
        );
        // DescribeVpcs, the main route tables' describe and three DescribeVpcAttribute a VPC
        // (the API takes one VPC and one attribute a call); the default security group and
        // network ACL, which cannot change while a VPC exists, are the state's.
        assert_eq!(vpc.0, 1 + 1 + 3 * n as u64);
        // One DescribeSubnets, one DescribeSecurityGroups, whatever N.
        assert_eq!((subnet.0, group.0), (1, 1));
        // IAM has no batched read: one GetRole a role, one ListAttachedRolePolicies a role
        // for its attachments.
        assert_eq!((role.0, attached.0), (n as u64, n as u64));
        costs.push((vpc, role, attached));
    }
    // One VPC: DescribeVpcs and its follow-ups (the main route table, three attributes) all
    // under way at once: the state has the VPC's id, so they need not wait for DescribeVpcs.
    assert_eq!(
        costs[0].0 .1,
        1 + 1 + 3,
        "one VPC's calls: {:?}",
        costs[0].0
    );
    let (vpc, role, attached) = costs[1];
    // Five VPCs' attribute calls overlap: more in flight than one VPC's three, DescribeVpcs
    // and the main route tables' describe; five roles, and their attachments, are read at once, not one
    // after another.
    assert!(
        vpc.1 > 1 + 1 + 3,
        "VPC follow-ups ran one VPC at a time: {vpc:?}"
    );
    assert!(role.1 > 1, "roles were read one at a time: {role:?}");
    assert!(
        attached.1 > 1,
        "roles' attachments were listed one role at a time: {attached:?}"
    );
}

/// A DB subnet group's tags are listed by its ARN (its describe has none), which a refresh has
/// from the state: the describe and the listing go out together, one round trip.
#[tokio::test]
async fn a_db_subnet_group_refresh_lists_its_tags_beside_the_describe() {
    let aws = Aws::start(&[("Environment", "test")]).await;
    let vpc = aws
        .create(
            "aws_vpc",
            &aws.config("aws_vpc", vec![("cidr_block", s("10.70.0.0/16"))]),
        )
        .await;
    let mut subnets = Vec::new();
    for (i, zone) in ["us-east-1a", "us-east-1b"].iter().enumerate() {
        let config = aws.config(
            "aws_subnet",
            vec![
                ("vpc_id", s(&text(&vpc, "id"))),
                ("cidr_block", s(&format!("10.70.{i}.0/24"))),
                ("availability_zone", s(zone)),
            ],
        );
        subnets.push(text(&aws.create("aws_subnet", &config).await, "id"));
    }
    let subnets: Vec<&str> = subnets.iter().map(String::as_str).collect();
    let config = aws.config(
        "aws_db_subnet_group",
        vec![
            ("name", s("tagged-db")),
            ("subnet_ids", set(&subnets)),
            ("tags", map(&[("Team", "data")])),
        ],
    );
    let group = aws.create("aws_db_subnet_group", &config).await;
    assert_eq!(
        attr(&group, "tags_all"),
        &map(&[("Environment", "test"), ("Team", "data")])
    );
    // `refresh_cost` also checks the read equals the state, tags included.
    let (calls, at_once) = refresh_cost(&aws, "aws_db_subnet_group", &[group]).await;
    assert_eq!((calls, at_once), (2, 2));
}

// ---------------------------------------------------------------------------------------------
// Sensitive values

#[tokio::test]
async fn the_database_password_never_appears_in_errors_or_state_text() {
    let aws = Aws::start(&[]).await;
    let password = "hunter2-very-secret";
    let config = aws.config(
        "aws_db_instance",
        vec![
            ("identifier", s("broken")),
            ("engine", s("postgres")),
            ("instance_class", s("db.t3.micro")),
            ("allocated_storage", n(20)),
            ("username", s("app")),
            ("password", s(password).mark_sensitive()),
            ("db_subnet_group_name", s(password)),
            ("skip_final_snapshot", Value::Bool(true)),
        ],
    );
    let plan = aws.plan("aws_db_instance", None, &config).await;
    assert!(matches!(
        attr(&plan.planned, "password"),
        Value::Sensitive(_)
    ));
    let error = aws
        .apply("aws_db_instance", None, Some(plan.planned), config)
        .await
        .unwrap_err();
    let shown = format!("{error} {error:?}");
    assert!(!shown.contains(password), "the password leaked: {shown}");
    assert!(
        error.summary.starts_with("creating RDS DB Instance"),
        "{}",
        error.summary
    );
}

// ---------------------------------------------------------------------------------------------
// The scenario of issue 5

struct Cluster {
    states: Vec<(&'static str, Value, Value)>,
}

impl Cluster {
    fn get(&self, type_name: &str, index: usize) -> &Value {
        &self
            .states
            .iter()
            .filter(|(t, _, _)| *t == type_name)
            .nth(index)
            .unwrap()
            .1
    }

    fn id(&self, type_name: &str, index: usize) -> String {
        text(self.get(type_name, index), "id")
    }
}

async fn add(
    aws: &Aws,
    cluster: &mut Cluster,
    type_name: &'static str,
    given: Vec<(&str, Value)>,
) -> Value {
    let config = aws.config(type_name, given);
    let state = aws.create(type_name, &config).await;
    cluster.states.push((type_name, state.clone(), config));
    state
}

#[tokio::test]
async fn eks_cluster_with_rds_scenario() {
    let aws = Aws::start(&[("Environment", "test"), ("ManagedBy", "strata")]).await;
    let sdk = aws.sdk().await;
    let ec2 = aws_sdk_ec2::Client::new(&sdk);
    let eks = aws_sdk_eks::Client::new(&sdk);
    let rds = aws_sdk_rds::Client::new(&sdk);
    let iam = aws_sdk_iam::Client::new(&sdk);
    let mut cluster = Cluster { states: Vec::new() };

    let zones = aws
        .data("aws_availability_zones", vec![("state", s("available"))])
        .await;
    let zone = |i: usize| attr(&zones, "names").as_seq().unwrap()[i].clone();

    let vpc = add(
        &aws,
        &mut cluster,
        "aws_vpc",
        vec![
            ("cidr_block", s("10.0.0.0/16")),
            ("enable_dns_hostnames", Value::Bool(true)),
            ("tags", map(&[("Name", "demo")])),
        ],
    )
    .await;
    let vpc_id = text(&vpc, "id");
    for (i, (cidr, public)) in [
        ("10.0.1.0/24", true),
        ("10.0.2.0/24", true),
        ("10.0.11.0/24", false),
        ("10.0.12.0/24", false),
    ]
    .into_iter()
    .enumerate()
    {
        let name = format!(
            "demo-{}-{}",
            if public { "public" } else { "private" },
            i % 2
        );
        add(
            &aws,
            &mut cluster,
            "aws_subnet",
            vec![
                ("vpc_id", s(&vpc_id)),
                ("cidr_block", s(cidr)),
                ("availability_zone", zone(i % 2)),
                ("map_public_ip_on_launch", Value::Bool(public)),
                ("tags", map(&[("Name", &name)])),
            ],
        )
        .await;
    }
    let public_subnets = [cluster.id("aws_subnet", 0), cluster.id("aws_subnet", 1)];
    let private_subnets = [cluster.id("aws_subnet", 2), cluster.id("aws_subnet", 3)];
    let igw = add(
        &aws,
        &mut cluster,
        "aws_internet_gateway",
        vec![("vpc_id", s(&vpc_id))],
    )
    .await;
    let eip = add(&aws, &mut cluster, "aws_eip", vec![("domain", s("vpc"))]).await;
    let nat = add(
        &aws,
        &mut cluster,
        "aws_nat_gateway",
        vec![
            ("allocation_id", s(&text(&eip, "id"))),
            ("subnet_id", s(&public_subnets[0])),
        ],
    )
    .await;
    let route = |target: &str, id: String| {
        Value::Set(vec![obj(vec![
            ("cidr_block", s("0.0.0.0/0")),
            (target, s(&id)),
        ])])
    };
    let public_table = add(
        &aws,
        &mut cluster,
        "aws_route_table",
        vec![
            ("vpc_id", s(&vpc_id)),
            ("route", route("gateway_id", text(&igw, "id"))),
        ],
    )
    .await;
    let private_table = add(
        &aws,
        &mut cluster,
        "aws_route_table",
        vec![
            ("vpc_id", s(&vpc_id)),
            ("route", route("nat_gateway_id", text(&nat, "id"))),
        ],
    )
    .await;
    for (subnet, table) in [
        (&public_subnets[0], &public_table),
        (&public_subnets[1], &public_table),
        (&private_subnets[0], &private_table),
        (&private_subnets[1], &private_table),
    ] {
        add(
            &aws,
            &mut cluster,
            "aws_route_table_association",
            vec![
                ("subnet_id", s(subnet)),
                ("route_table_id", s(&text(table, "id"))),
            ],
        )
        .await;
    }
    let schema = aws.provider.schema();
    let rule_block = &schema.resources["aws_security_group"].block.blocks["ingress"].block;
    let cluster_sg = add(
        &aws,
        &mut cluster,
        "aws_security_group",
        vec![
            ("name", s("demo-cluster")),
            ("description", s("EKS control plane")),
            ("vpc_id", s(&vpc_id)),
            (
                "ingress",
                Value::set(vec![shape(
                    rule_block,
                    &rule(443, 443, "tcp", &["10.0.0.0/16"]),
                )]),
            ),
            (
                "egress",
                Value::set(vec![shape(rule_block, &rule(0, 0, "-1", &["0.0.0.0/0"]))]),
            ),
        ],
    )
    .await;
    let db_rule = obj(vec![
        ("from_port", n(5432)),
        ("to_port", n(5432)),
        ("protocol", s("tcp")),
        ("security_groups", set(&[&text(&cluster_sg, "id")])),
    ]);
    let db_sg = add(
        &aws,
        &mut cluster,
        "aws_security_group",
        vec![
            ("name", s("demo-db")),
            ("vpc_id", s(&vpc_id)),
            ("ingress", Value::set(vec![shape(rule_block, &db_rule)])),
        ],
    )
    .await;

    let cluster_role = add(
        &aws,
        &mut cluster,
        "aws_iam_role",
        vec![
            ("name", s("demo-cluster")),
            ("assume_role_policy", s(EKS_TRUST)),
        ],
    )
    .await;
    let node_role = add(
        &aws,
        &mut cluster,
        "aws_iam_role",
        vec![
            ("name", s("demo-node")),
            ("assume_role_policy", s(EC2_TRUST)),
        ],
    )
    .await;
    for (role, policy) in [
        ("demo-cluster", "AmazonEKSClusterPolicy"),
        ("demo-node", "AmazonEKSWorkerNodePolicy"),
        ("demo-node", "AmazonEKS_CNI_Policy"),
        ("demo-node", "AmazonEC2ContainerRegistryReadOnly"),
    ] {
        add(
            &aws,
            &mut cluster,
            "aws_iam_role_policy_attachment",
            vec![
                ("role", s(role)),
                (
                    "policy_arn",
                    s(&format!("arn:aws:iam::aws:policy/{policy}")),
                ),
            ],
        )
        .await;
    }

    let all_subnets: Vec<&str> = public_subnets
        .iter()
        .chain(&private_subnets)
        .map(String::as_str)
        .collect();
    let eks_cluster = add(
        &aws,
        &mut cluster,
        "aws_eks_cluster",
        vec![
            ("name", s("demo")),
            ("role_arn", s(&text(&cluster_role, "arn"))),
            ("version", s("1.29")),
            (
                "vpc_config",
                Value::List(vec![obj(vec![
                    ("subnet_ids", set(&all_subnets)),
                    ("security_group_ids", set(&[&text(&cluster_sg, "id")])),
                ])]),
            ),
        ],
    )
    .await;
    assert_eq!(attr(&eks_cluster, "status"), &s("ACTIVE"));
    assert!(!text(&eks_cluster, "endpoint").is_empty());

    let private: Vec<&str> = private_subnets.iter().map(String::as_str).collect();
    let node_group_config = |min: i64, max: i64, instance_type: &str| {
        vec![
            ("cluster_name", s("demo")),
            ("node_group_name", s("default")),
            ("node_role_arn", s(&text(&node_role, "arn"))),
            ("subnet_ids", set(&private)),
            ("instance_types", list(&[instance_type])),
            (
                "scaling_config",
                Value::List(vec![obj(vec![
                    ("desired_size", n(2)),
                    ("min_size", n(min)),
                    ("max_size", n(max)),
                ])]),
            ),
        ]
    };
    let node_group = add(
        &aws,
        &mut cluster,
        "aws_eks_node_group",
        node_group_config(1, 3, "t3.medium"),
    )
    .await;
    assert_eq!(attr(&node_group, "id"), &s("demo:default"));

    add(
        &aws,
        &mut cluster,
        "aws_db_subnet_group",
        vec![("name", s("demo-db")), ("subnet_ids", set(&private))],
    )
    .await;
    let database_config = |class: &str| {
        vec![
            ("identifier", s("demo-db")),
            ("engine", s("postgres")),
            ("engine_version", s("16.3")),
            ("instance_class", s(class)),
            ("allocated_storage", n(20)),
            ("db_name", s("app")),
            ("username", s("app")),
            ("password", s("correct-horse-battery").mark_sensitive()),
            ("db_subnet_group_name", s("demo-db")),
            ("vpc_security_group_ids", set(&[&text(&db_sg, "id")])),
            ("skip_final_snapshot", Value::Bool(true)),
            ("apply_immediately", Value::Bool(true)),
        ]
    };
    let database = add(
        &aws,
        &mut cluster,
        "aws_db_instance",
        database_config("db.t3.micro"),
    )
    .await;
    assert!(matches!(attr(&database, "password"), Value::Sensitive(_)));
    assert!(text(&database, "endpoint").contains(":5432"));

    // Everything exists, as the emulator's own API says.
    let vpcs = ec2.describe_vpcs().vpc_ids(&vpc_id).send().await.unwrap();
    let tags: BTreeMap<_, _> = vpcs.vpcs()[0]
        .tags()
        .iter()
        .map(|t| (t.key().unwrap(), t.value().unwrap()))
        .collect();
    assert_eq!(
        tags.get("Environment"),
        Some(&"test"),
        "default_tags reach AWS"
    );
    let subnets = ec2
        .describe_subnets()
        .filters(
            aws_sdk_ec2::types::Filter::builder()
                .name("vpc-id")
                .values(&vpc_id)
                .build(),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(subnets.subnets().len(), 4);
    let nats = ec2
        .describe_nat_gateways()
        .nat_gateway_ids(text(&nat, "id"))
        .send()
        .await
        .unwrap();
    assert_eq!(
        nats.nat_gateways()[0].state().map(|s| s.as_str()),
        Some("available")
    );
    let described = eks.describe_cluster().name("demo").send().await.unwrap();
    assert_eq!(
        described.cluster().unwrap().status().map(|s| s.as_str()),
        Some("ACTIVE")
    );
    let instance = rds
        .describe_db_instances()
        .db_instance_identifier("demo-db")
        .send()
        .await
        .unwrap();
    assert_eq!(instance.db_instances()[0].engine(), Some("postgres"));
    let attached = iam
        .list_attached_role_policies()
        .role_name("demo-node")
        .send()
        .await
        .unwrap();
    assert_eq!(attached.attached_policies().len(), 3);

    // Node group min/max: in place.
    let resized = aws.config("aws_eks_node_group", node_group_config(2, 5, "t3.medium"));
    let node_group = aws
        .update("aws_eks_node_group", &node_group, &resized)
        .await;
    let group = eks
        .describe_nodegroup()
        .cluster_name("demo")
        .nodegroup_name("default")
        .send()
        .await
        .unwrap();
    let scaling = group.nodegroup().unwrap().scaling_config().unwrap();
    assert_eq!((scaling.min_size(), scaling.max_size()), (Some(2), Some(5)));
    // Instance types: replace.
    let bigger = aws.config("aws_eks_node_group", node_group_config(2, 5, "m5.large"));
    aws.assert_replaces("aws_eks_node_group", &node_group, &bigger, "instance_types")
        .await;
    // The autoscaler changes desired_size: the read shows it (the engine's ignore_changes on
    // scaling_config[0].desired_size keeps it from becoming a diff).
    eks.update_nodegroup_config()
        .cluster_name("demo")
        .nodegroup_name("default")
        .scaling_config(
            aws_sdk_eks::types::NodegroupScalingConfig::builder()
                .desired_size(4)
                .min_size(2)
                .max_size(5)
                .build(),
        )
        .send()
        .await
        .unwrap();
    let refreshed = aws.read("aws_eks_node_group", &node_group).await.unwrap();
    let desired = refreshed
        .at_path(&AttrPath::parse("scaling_config[0].desired_size").unwrap())
        .unwrap();
    assert_eq!(desired, &n(4));

    // RDS instance class: in place.
    let database = aws
        .update(
            "aws_db_instance",
            &database,
            &aws.config("aws_db_instance", database_config("db.t3.small")),
        )
        .await;
    let instance = rds
        .describe_db_instances()
        .db_instance_identifier("demo-db")
        .send()
        .await
        .unwrap();
    assert_eq!(
        instance.db_instances()[0].db_instance_class(),
        Some("db.t3.small")
    );
    assert_eq!(attr(&database, "instance_class"), &s("db.t3.small"));

    // A tag removed outside shows as drift, and applying the configuration restores it.
    ec2.delete_tags()
        .resources(&vpc_id)
        .tags(aws_sdk_ec2::types::Tag::builder().key("Name").build())
        .send()
        .await
        .unwrap();
    let drifted = aws.read("aws_vpc", &vpc).await.unwrap();
    assert_eq!(attr(&drifted, "tags"), &Value::Map(BTreeMap::new()));
    let vpc_config = &cluster
        .states
        .iter()
        .find(|(t, _, _)| *t == "aws_vpc")
        .unwrap()
        .2
        .clone();
    let restored = aws.update("aws_vpc", &drifted, vpc_config).await;
    assert_eq!(attr(&restored, "tags"), &map(&[("Name", "demo")]));

    // Destroy in reverse order leaves nothing.
    let mut latest: BTreeMap<String, Value> = BTreeMap::new();
    latest.insert(text(&node_group, "id"), node_group.clone());
    latest.insert(text(&database, "id"), database.clone());
    latest.insert(text(&restored, "id"), restored.clone());
    for (type_name, state, _) in cluster.states.iter().rev() {
        let state = latest.get(&text(state, "id")).unwrap_or(state);
        aws.delete(type_name, state).await;
    }
    assert!(ec2.describe_vpcs().vpc_ids(&vpc_id).send().await.is_err());
    let left = ec2
        .describe_subnets()
        .filters(
            aws_sdk_ec2::types::Filter::builder()
                .name("vpc-id")
                .values(&vpc_id)
                .build(),
        )
        .send()
        .await
        .unwrap();
    assert!(left.subnets().is_empty());
    assert!(eks
        .list_clusters()
        .send()
        .await
        .unwrap()
        .clusters()
        .is_empty());
    assert!(rds
        .describe_db_instances()
        .send()
        .await
        .unwrap()
        .db_instances()
        .is_empty());
    assert!(rds
        .describe_db_subnet_groups()
        .send()
        .await
        .unwrap()
        .db_subnet_groups()
        .iter()
        .all(|g| g.db_subnet_group_name() != Some("demo-db")));
    let roles = iam.list_roles().send().await.unwrap();
    assert!(roles
        .roles()
        .iter()
        .all(|r| !r.role_name().starts_with("demo-")));
    let addresses = ec2.describe_addresses().send().await.unwrap();
    assert!(addresses.addresses().is_empty());
}
