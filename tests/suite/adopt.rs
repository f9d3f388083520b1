//! Every create of the AWS provider can be found again (issue 12), against the moto emulator:
//! each of the 15 resource types is created with a known idempotency token, as a run killed
//! during the call would have left it, and then
//! - EC2 objects are found by the token's tag (`find_created`), and a token never sent finds
//!   nothing (the engine drops that intent);
//! - named objects (IAM role, EKS cluster and node group, DB subnet group and instance) are
//!   found by listing them for the tag, and adopted when the create is sent again with the same
//!   token; an object that merely has the name (another token) is refused with an error naming
//!   it;
//! - objects that are their own key are found by the mark their create left on the parent
//!   (associations, attachments) and by creating them again (those and rules);
//! - once recorded (`forget_intent`), the tag is gone: nothing shows to another tool.
//!
//! The engine half (plan says "Adopted", the intent is dropped when nothing was made) is tested
//! through the CLI in `chaos`, and the whole under `kill -9` there.

use crate::aws::{list, map, n, obj, s, set, Aws};
use strata::providers::{
    no_progress, ApplyRequest, FoundCreate, Provider, ProviderError, RefreshWave,
};
use strata::value::Value;

/// How a type's interrupted create is found (mirrors the provider's table).
#[derive(Clone, Copy, PartialEq)]
enum Way {
    Tag,
    Name,
    Key,
}

async fn create_with(
    aws: &Aws,
    type_name: &str,
    config: &Value,
    token: &str,
) -> Result<Value, ProviderError> {
    let plan = aws.plan(type_name, None, config).await;
    aws.provider
        .apply_resource(ApplyRequest {
            type_name: type_name.to_string(),
            prior: None,
            planned: Some(plan.planned),
            config: config.clone(),
            timeout: Some(std::time::Duration::from_secs(60)),
            idempotency_token: token.to_string(),
            progress: no_progress(),
            prior_private: Vec::new(),
            planned_private: Vec::new(),
        })
        .await
        .map(|state| state.expect("a created object has a state"))
}

fn id(value: &Value) -> String {
    value
        .get_attr("id")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string()
}

fn has_intent_tag(value: &Value) -> bool {
    ["tags", "tags_all"].iter().any(|name| {
        value
            .get_attr(name)
            .and_then(Value::as_entries)
            .is_some_and(|tags| tags.keys().any(|k| k.starts_with("strata:")))
    })
}

/// Creates one object as an interrupted run would have, checks it is found again the type's
/// way, then that recording it removes the mark. Returns the object.
async fn check(aws: &Aws, type_name: &str, way: Way, config: Vec<(&str, Value)>) -> Value {
    let config = aws.config(type_name, config);
    let token = format!("intent-{type_name}");
    let made = create_with(aws, type_name, &config, &token)
        .await
        .unwrap_or_else(|e| panic!("creating {type_name}: {e}"));
    assert!(
        !has_intent_tag(&made),
        "{type_name}: the tag shows: {made:?}"
    );
    match way {
        Way::Tag => {
            match aws.provider.find_created(type_name, &token, &config).await {
                Ok(FoundCreate::Found(found)) => {
                    assert_eq!(id(&found.value), id(&made), "{type_name}");
                    assert!(!has_intent_tag(&found.value), "{type_name}");
                }
                other => panic!("{type_name}: the object was not found: {other:?}"),
            }
            let never = aws
                .provider
                .find_created(type_name, "never-sent", &Value::Null)
                .await;
            assert_eq!(never, Ok(FoundCreate::NotFound), "{type_name}");
        }
        Way::Name => {
            match aws.provider.find_created(type_name, &token, &config).await {
                Ok(FoundCreate::Found(found)) => {
                    assert_eq!(id(&found.value), id(&made), "{type_name}");
                    assert!(!has_intent_tag(&found.value), "{type_name}");
                    // What a read cannot see comes from what the create asked for.
                    for name in ["skip_final_snapshot", "password"] {
                        let unmarked = |v: &Value| v.clone().deep_unmark().0;
                        assert_eq!(
                            found.value.get_attr(name).map(unmarked),
                            config.get_attr(name).map(unmarked),
                            "{type_name}.{name}"
                        );
                    }
                }
                other => panic!("{type_name}: the object was not found: {other:?}"),
            }
            assert_eq!(
                aws.provider
                    .find_created(type_name, "never-sent", &Value::Null)
                    .await,
                Ok(FoundCreate::NotFound),
                "{type_name}"
            );
            let again = create_with(aws, type_name, &config, &token)
                .await
                .unwrap_or_else(|e| panic!("{type_name}: not adopted: {e}"));
            assert_eq!(id(&again), id(&made), "{type_name}");
            let other = create_with(aws, type_name, &config, "another-run")
                .await
                .expect_err("an object that only shares the name is never adopted");
            let message = other.to_string();
            assert!(
                message.contains("already exists")
                    && message.contains("lacks the tag `strata:intent`")
                    && message.contains("strata import"),
                "{type_name}: {message}"
            );
        }
        Way::Key => {
            let found = aws.provider.find_created(type_name, &token, &config).await;
            if type_name == "aws_security_group_rule" {
                assert_eq!(found, Ok(FoundCreate::Unsupported));
            } else {
                assert!(
                    matches!(found, Ok(FoundCreate::Found(_))),
                    "{type_name}: not found by its parent's mark: {found:?}"
                );
                assert_eq!(
                    aws.provider
                        .find_created(type_name, "never-sent", &Value::Null)
                        .await,
                    Ok(FoundCreate::NotFound),
                    "{type_name}"
                );
            }
            let again = create_with(aws, type_name, &config, &token)
                .await
                .unwrap_or_else(|e| panic!("{type_name}: a second create failed: {e}"));
            // A policy attachment's id is a label made up at each create (as Terraform's).
            if type_name != "aws_iam_role_policy_attachment" {
                assert_eq!(id(&again), id(&made), "{type_name}");
            }
        }
    }
    aws.provider
        .forget_intent(type_name, &made)
        .await
        .unwrap_or_else(|e| panic!("{type_name}: removing the tag: {e}"));
    match way {
        Way::Tag => assert_eq!(
            aws.provider.find_created(type_name, &token, &config).await,
            Ok(FoundCreate::NotFound),
            "{type_name}: the tag outlived the record"
        ),
        Way::Name => {
            let refused = create_with(aws, type_name, &config, &token).await;
            assert!(
                refused.is_err(),
                "{type_name}: adopted again after the tag was removed"
            );
        }
        Way::Key if type_name != "aws_security_group_rule" => assert_eq!(
            aws.provider.find_created(type_name, &token, &config).await,
            Ok(FoundCreate::NotFound),
            "{type_name}: the parent's mark outlived the record"
        ),
        Way::Key => {}
    }
    made
}

const ASSUME_EKS: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"eks.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#;

#[tokio::test]
async fn every_aws_type_finds_what_an_interrupted_create_made() {
    let aws = Aws::start(&[("ManagedBy", "strata")]).await;
    let vpc = check(
        &aws,
        "aws_vpc",
        Way::Tag,
        vec![
            ("cidr_block", s("10.0.0.0/16")),
            ("tags", map(&[("Name", "adopt")])),
        ],
    )
    .await;
    let subnet = |cidr: &str, zone: &str| {
        vec![
            ("vpc_id", s(&id(&vpc))),
            ("cidr_block", s(cidr)),
            ("availability_zone", s(zone)),
        ]
    };
    let a = check(
        &aws,
        "aws_subnet",
        Way::Tag,
        subnet("10.0.1.0/24", "us-east-1a"),
    )
    .await;
    let b = aws
        .create(
            "aws_subnet",
            &aws.config("aws_subnet", subnet("10.0.2.0/24", "us-east-1b")),
        )
        .await;
    let subnets = || set(&[&id(&a), &id(&b)]);
    check(
        &aws,
        "aws_internet_gateway",
        Way::Tag,
        vec![("vpc_id", s(&id(&vpc)))],
    )
    .await;
    let eip = check(&aws, "aws_eip", Way::Tag, vec![("domain", s("vpc"))]).await;
    check(
        &aws,
        "aws_nat_gateway",
        Way::Tag,
        vec![("allocation_id", s(&id(&eip))), ("subnet_id", s(&id(&a)))],
    )
    .await;
    let table = check(
        &aws,
        "aws_route_table",
        Way::Tag,
        vec![("vpc_id", s(&id(&vpc)))],
    )
    .await;
    check(
        &aws,
        "aws_route_table_association",
        Way::Key,
        vec![
            ("subnet_id", s(&id(&a))),
            ("route_table_id", s(&id(&table))),
        ],
    )
    .await;
    let group = check(
        &aws,
        "aws_security_group",
        Way::Tag,
        vec![
            ("name", s("adopt")),
            ("description", s("adoption")),
            ("vpc_id", s(&id(&vpc))),
        ],
    )
    .await;
    check(
        &aws,
        "aws_security_group_rule",
        Way::Key,
        vec![
            ("type", s("ingress")),
            ("from_port", n(443)),
            ("to_port", n(443)),
            ("protocol", s("tcp")),
            ("cidr_blocks", list(&["10.0.0.0/16"])),
            ("security_group_id", s(&id(&group))),
        ],
    )
    .await;
    let role = check(
        &aws,
        "aws_iam_role",
        Way::Name,
        vec![
            ("name", s("adopt-role")),
            ("assume_role_policy", s(ASSUME_EKS)),
        ],
    )
    .await;
    check(
        &aws,
        "aws_iam_role_policy_attachment",
        Way::Key,
        vec![
            ("role", s("adopt-role")),
            (
                "policy_arn",
                s("arn:aws:iam::aws:policy/AmazonEKSClusterPolicy"),
            ),
        ],
    )
    .await;
    let role_arn = role.get_attr("arn").cloned().unwrap_or(Value::Null);
    check(
        &aws,
        "aws_eks_cluster",
        Way::Name,
        vec![
            ("name", s("adopt")),
            ("role_arn", role_arn.clone()),
            (
                "vpc_config",
                Value::List(vec![obj(vec![("subnet_ids", subnets())])]),
            ),
        ],
    )
    .await;
    check(
        &aws,
        "aws_eks_node_group",
        Way::Name,
        vec![
            ("cluster_name", s("adopt")),
            ("node_group_name", s("general")),
            ("node_role_arn", role_arn),
            ("subnet_ids", subnets()),
            (
                "scaling_config",
                Value::List(vec![obj(vec![
                    ("desired_size", n(1)),
                    ("min_size", n(1)),
                    ("max_size", n(1)),
                ])]),
            ),
        ],
    )
    .await;
    check(
        &aws,
        "aws_db_subnet_group",
        Way::Name,
        vec![("name", s("adopt-db")), ("subnet_ids", subnets())],
    )
    .await;
    check(
        &aws,
        "aws_db_instance",
        Way::Name,
        vec![
            ("identifier", s("adopt-db")),
            ("engine", s("postgres")),
            ("instance_class", s("db.t3.micro")),
            ("allocated_storage", n(20)),
            ("username", s("app")),
            ("password", s("adopt-secret-pw").mark_sensitive()),
            ("db_subnet_group_name", s("adopt-db")),
            ("skip_final_snapshot", Value::Bool(true)),
        ],
    )
    .await;
}

/// A plan changes nothing outside: an object recorded by a run killed before it removed the
/// create's intent tag keeps the tag through a read-only refresh (`strata plan`) and loses it in
/// one that may write (an apply's).
#[tokio::test]
async fn only_a_refresh_that_may_write_removes_a_left_intent_tag() {
    let aws = Aws::start(&[]).await;
    let config = aws.config("aws_vpc", vec![("cidr_block", s("10.7.0.0/16"))]);
    let token = "left-by-a-killed-run";
    let recorded = create_with(&aws, "aws_vpc", &config, token).await.unwrap();
    let refresh = |read_only: bool| {
        let (aws, recorded) = (&aws, recorded.clone());
        async move {
            let mut wave = RefreshWave {
                read_only,
                ..RefreshWave::default()
            };
            wave.objects.insert("aws_vpc", vec![&recorded]);
            let before = aws.provider.api_calls();
            aws.provider.refresh_starting(&wave);
            let read = aws
                .provider
                .read_resources("aws_vpc", std::slice::from_ref(&recorded))
                .await;
            aws.provider.refresh_finished();
            let read = read
                .into_iter()
                .next()
                .unwrap()
                .unwrap()
                .expect("the VPC exists");
            assert!(!has_intent_tag(&read), "the tag shows: {read:?}");
            aws.provider.api_calls() - before
        }
    };
    let found = || aws.provider.find_created("aws_vpc", token, &Value::Null);

    let plan_calls = refresh(true).await;
    assert!(
        matches!(found().await, Ok(FoundCreate::Found(_))),
        "a read-only refresh removed the tag"
    );
    let apply_calls = refresh(false).await;
    assert_eq!(
        found().await,
        Ok(FoundCreate::NotFound),
        "the tag outlived an apply's refresh"
    );
    // The apply's refresh made one more call than the plan's: the DeleteTags.
    assert_eq!(apply_calls, plan_calls + 1, "{plan_calls} {apply_calls}");
    assert_eq!(refresh(false).await, plan_calls, "nothing left to remove");
}
