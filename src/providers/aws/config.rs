//! The `provider "aws" {}` block: its schema (the Terraform AWS provider's arguments) and how it
//! becomes SDK clients: region, profile, static keys or the SDK's standard credential chain,
//! `assume_role`, per-service `endpoints` (and `AWS_ENDPOINT_URL`, which the SDK reads itself),
//! `max_retries` and `retry_mode` (the SDK's standard retry: exponential backoff with jitter on
//! throttling, 5xx and dropped connections; `adaptive` adds client-side rate limiting),
//! `default_tags` and `ignore_tags`.
//!
//! Arguments Strata accepts but has no use for (`skip_metadata_api_check`, `s3_use_path_style`,
//! ...) are in the schema so configurations written for Terraform still load.

use super::support::{
    get_block, get_bool, get_i64, get_str, get_string_map, get_strings, list_block, CallCounter,
    CallStats, IgnoreTags, SdkResultExt,
};
use crate::providers::schema::{Attribute, Block, NestedBlock, Nesting};
use crate::providers::ProviderError;
use crate::value::{Type, Value};
use aws_config::{BehaviorVersion, SdkConfig};
use aws_credential_types::provider::SharedCredentialsProvider;
use aws_credential_types::Credentials;
use std::collections::BTreeMap;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

/// Services whose endpoint the `endpoints` block can set: every service name the Terraform AWS
/// provider accepts there (3.39.0's list, `tests/fixtures/aws-schema/`, plus the current names
/// `elbv2` and `logs`), so a configuration written for an emulator such as LocalStack loads
/// unchanged. Strata uses the URLs of the services it calls (ec2, eks, iam, rds, sts; s3 and
/// dynamodb for the backend) and ignores the rest.
const ENDPOINT_SERVICES: &[&str] = &[
    "accessanalyzer",
    "acm",
    "acmpca",
    "amplify",
    "apigateway",
    "appconfig",
    "applicationautoscaling",
    "applicationinsights",
    "appmesh",
    "appstream",
    "appsync",
    "athena",
    "auditmanager",
    "autoscaling",
    "autoscalingplans",
    "backup",
    "batch",
    "budgets",
    "cloud9",
    "cloudformation",
    "cloudfront",
    "cloudhsm",
    "cloudsearch",
    "cloudtrail",
    "cloudwatch",
    "cloudwatchevents",
    "cloudwatchlogs",
    "codeartifact",
    "codebuild",
    "codecommit",
    "codedeploy",
    "codepipeline",
    "codestarconnections",
    "cognitoidentity",
    "cognitoidp",
    "configservice",
    "connect",
    "cur",
    "dataexchange",
    "datapipeline",
    "datasync",
    "dax",
    "detective",
    "devicefarm",
    "directconnect",
    "dlm",
    "dms",
    "docdb",
    "ds",
    "dynamodb",
    "ec2",
    "ecr",
    "ecrpublic",
    "ecs",
    "efs",
    "eks",
    "elasticache",
    "elasticbeanstalk",
    "elastictranscoder",
    "elb",
    "elbv2",
    "emr",
    "emrcontainers",
    "es",
    "firehose",
    "fms",
    "forecast",
    "fsx",
    "gamelift",
    "glacier",
    "globalaccelerator",
    "glue",
    "greengrass",
    "guardduty",
    "iam",
    "identitystore",
    "imagebuilder",
    "inspector",
    "iot",
    "iotanalytics",
    "iotevents",
    "kafka",
    "kinesis",
    "kinesisanalytics",
    "kinesisanalyticsv2",
    "kinesisvideo",
    "kms",
    "lakeformation",
    "lambda",
    "lexmodels",
    "licensemanager",
    "lightsail",
    "logs",
    "macie",
    "macie2",
    "managedblockchain",
    "marketplacecatalog",
    "mediaconnect",
    "mediaconvert",
    "medialive",
    "mediapackage",
    "mediastore",
    "mediastoredata",
    "mq",
    "mwaa",
    "neptune",
    "networkfirewall",
    "networkmanager",
    "opsworks",
    "organizations",
    "outposts",
    "personalize",
    "pinpoint",
    "pricing",
    "qldb",
    "quicksight",
    "ram",
    "rds",
    "redshift",
    "resourcegroups",
    "resourcegroupstaggingapi",
    "route53",
    "route53domains",
    "route53resolver",
    "s3",
    "s3control",
    "s3outposts",
    "sagemaker",
    "sdb",
    "secretsmanager",
    "securityhub",
    "serverlessrepo",
    "servicecatalog",
    "servicediscovery",
    "servicequotas",
    "ses",
    "shield",
    "signer",
    "sns",
    "sqs",
    "ssm",
    "ssoadmin",
    "stepfunctions",
    "storagegateway",
    "sts",
    "swf",
    "synthetics",
    "timestreamwrite",
    "transfer",
    "waf",
    "wafregional",
    "wafv2",
    "worklink",
    "workmail",
    "workspaces",
    "xray",
];

/// The provider block's schema.
pub fn provider_block() -> Block {
    let mut endpoints = Block::new();
    for service in ENDPOINT_SERVICES {
        endpoints = endpoints.attr(service, Attribute::optional(Type::String));
    }
    Block::new()
        .attr("region", Attribute::optional(Type::String))
        .attr("profile", Attribute::optional(Type::String))
        .attr("access_key", Attribute::optional(Type::String).sensitive())
        .attr("secret_key", Attribute::optional(Type::String).sensitive())
        .attr("token", Attribute::optional(Type::String).sensitive())
        .attr("max_retries", Attribute::optional(Type::Number))
        .attr("retry_mode", Attribute::optional(Type::String))
        .attr(
            "shared_config_files",
            Attribute::optional(Type::list(Type::String)),
        )
        .attr(
            "shared_credentials_files",
            Attribute::optional(Type::list(Type::String)),
        )
        .attr(
            "skip_credentials_validation",
            Attribute::optional(Type::Bool),
        )
        .attr("skip_metadata_api_check", Attribute::optional(Type::String))
        .attr("skip_region_validation", Attribute::optional(Type::Bool))
        .attr(
            "skip_requesting_account_id",
            Attribute::optional(Type::Bool),
        )
        .attr("s3_use_path_style", Attribute::optional(Type::Bool))
        .attr("insecure", Attribute::optional(Type::Bool))
        .attr("use_fips_endpoint", Attribute::optional(Type::Bool))
        .attr("use_dualstack_endpoint", Attribute::optional(Type::Bool))
        .attr("sts_region", Attribute::optional(Type::String))
        .attr("http_proxy", Attribute::optional(Type::String))
        .attr("custom_ca_bundle", Attribute::optional(Type::String))
        .attr(
            "ec2_metadata_service_endpoint",
            Attribute::optional(Type::String),
        )
        .attr(
            "allowed_account_ids",
            Attribute::optional(Type::set(Type::String)),
        )
        .attr(
            "forbidden_account_ids",
            Attribute::optional(Type::set(Type::String)),
        )
        .nested(
            "endpoints",
            NestedBlock {
                nesting: Nesting::Set,
                block: endpoints,
                min_items: 0,
                max_items: 0,
                force_new: false,
                computed: false,
                attribute_syntax: false,
            },
        )
        .nested(
            "default_tags",
            list_block(
                Block::new().attr("tags", Attribute::optional(Type::map(Type::String))),
                0,
                1,
            ),
        )
        .nested(
            "ignore_tags",
            list_block(
                Block::new()
                    .attr("keys", Attribute::optional(Type::set(Type::String)))
                    .attr("key_prefixes", Attribute::optional(Type::set(Type::String))),
                0,
                1,
            ),
        )
        .nested(
            "assume_role",
            list_block(
                Block::new()
                    .attr("role_arn", Attribute::optional(Type::String))
                    .attr("session_name", Attribute::optional(Type::String))
                    .attr("external_id", Attribute::optional(Type::String))
                    .attr("duration", Attribute::optional(Type::String))
                    .attr("policy", Attribute::optional(Type::String))
                    .attr("policy_arns", Attribute::optional(Type::set(Type::String)))
                    .attr("source_identity", Attribute::optional(Type::String))
                    .attr("tags", Attribute::optional(Type::map(Type::String)))
                    .attr(
                        "transitive_tag_keys",
                        Attribute::optional(Type::set(Type::String)),
                    ),
                0,
                1,
            ),
        )
}

/// The configured provider: SDK clients and settings every resource needs.
pub struct AwsContext {
    pub ec2: LazyClient<aws_sdk_ec2::Client>,
    pub eks: LazyClient<aws_sdk_eks::Client>,
    pub iam: LazyClient<aws_sdk_iam::Client>,
    pub rds: LazyClient<aws_sdk_rds::Client>,
    pub sts: aws_sdk_sts::Client,
    pub ssm: LazyClient<aws_sdk_ssm::Client>,
    pub region: String,
    /// The account the credentials are for (empty with `skip_requesting_account_id`).
    pub account_id: String,
    pub default_tags: BTreeMap<String, String>,
    pub ignore_tags: IgnoreTags,
    /// The answers the reads of the refresh under way share.
    pub refresh: super::refresh::RefreshScope,
}

/// What a service's client is built from when first used.
struct LazySetup {
    sdk_config: SdkConfig,
    endpoint: Option<String>,
    counter: CallCounter,
}

impl LazySetup {
    /// A client `build` makes from this setup at its first use.
    fn client<C: Send + Sync + 'static>(self, build: fn(&LazySetup) -> C) -> LazyClient<C> {
        LazyClient {
            client: OnceLock::new(),
            build: Box::new(move || build(&self)),
        }
    }
}

/// A [`LazyClient`] of the SDK crate `$sdk` on `$setup` (a [`LazySetup`]).
macro_rules! lazy_client {
    ($setup:expr, $sdk:ident) => {
        $setup.client(|setup: &LazySetup| {
            let mut builder =
                $sdk::config::Builder::from(&setup.sdk_config).interceptor(setup.counter.clone());
            if let Some(url) = &setup.endpoint {
                // (An unset one keeps the shared configuration's, AWS_ENDPOINT_URL.)
                builder.set_endpoint_url(Some(url.clone()));
            }
            $sdk::Client::from_conf(builder.build())
        })
    };
}

/// An AWS service client built at its first use (it dereferences to the client).
pub struct LazyClient<C> {
    client: OnceLock<C>,
    build: Box<dyn Fn() -> C + Send + Sync>,
}

impl<C> std::ops::Deref for LazyClient<C> {
    type Target = C;
    fn deref(&self) -> &C {
        self.client.get_or_init(|| (self.build)())
    }
}

/// Terraform's default for `max_retries`.
const DEFAULT_MAX_RETRIES: i64 = 25;

/// The `endpoints` block's URLs by service (it may be written as a set or a single object).
fn endpoints(config: &Value) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    let Some(value) = config.get_attr("endpoints") else {
        return out;
    };
    let blocks: Vec<&Value> = match value.as_seq() {
        Some(items) => items.iter().collect(),
        None => vec![value],
    };
    for block in blocks {
        for service in ENDPOINT_SERVICES {
            if let Some(url) = get_str(block, service).filter(|u| !u.is_empty()) {
                out.insert(service.to_string(), url);
            }
        }
    }
    out
}

/// The SDK's retry settings: `max_retries` attempts after the first, in `retry_mode`
/// (`standard`: exponential backoff with jitter on throttling, 5xx and dropped connections;
/// `adaptive`: the same plus a client-side rate limiter that slows down while AWS throttles), as
/// the Terraform AWS provider reads them; the mode falls back to `AWS_RETRY_MODE`, as the SDKs do.
fn retry_config(
    config: &Value,
    max_retries: i64,
) -> Result<aws_config::retry::RetryConfig, ProviderError> {
    let mode = get_str(config, "retry_mode")
        .or_else(|| std::env::var("AWS_RETRY_MODE").ok())
        .filter(|mode| !mode.is_empty());
    let retry = match mode.as_deref() {
        None | Some("standard") => aws_config::retry::RetryConfig::standard(),
        Some("adaptive") => aws_config::retry::RetryConfig::adaptive(),
        Some(other) => {
            return Err(ProviderError::new(
                "invalid aws provider configuration",
                format!(
                    "`retry_mode` is `{other}`: set it to `standard` or `adaptive` (in the provider \"aws\" block or AWS_RETRY_MODE)"
                ),
            ))
        }
    };
    Ok(retry
        .with_max_attempts(u32::try_from(max_retries + 1).unwrap_or(1))
        .with_max_backoff(Duration::from_secs(20)))
}

/// Builds the SDK clients from the provider block.
pub async fn build_context(
    config: &Value,
    calls: Arc<CallStats>,
) -> Result<AwsContext, ProviderError> {
    let mut loader = aws_config::defaults(BehaviorVersion::latest());
    if let Some(region) = get_str(config, "region") {
        loader = loader.region(aws_config::Region::new(region));
    }
    if let Some(profile) = get_str(config, "profile") {
        loader = loader.profile_name(profile);
    }
    match (get_str(config, "access_key"), get_str(config, "secret_key")) {
        (Some(access_key), Some(secret_key)) => {
            let credentials = Credentials::new(
                access_key,
                secret_key,
                get_str(config, "token"),
                None,
                "provider-block",
            );
            loader = loader.credentials_provider(credentials);
        }
        (None, None) => {}
        _ => {
            return Err(ProviderError::new(
                "invalid aws provider configuration",
                "`access_key` and `secret_key` must be set together",
            ))
        }
    }
    let max_retries = get_i64(config, "max_retries")
        .unwrap_or(DEFAULT_MAX_RETRIES)
        .clamp(0, 100);
    let retry = retry_config(config, max_retries)?;
    loader = loader.retry_config(retry);
    let mut sdk_config = loader.load().await;
    let Some(region) = sdk_config.region().map(|r| r.to_string()) else {
        return Err(ProviderError::new(
            "no AWS region is configured",
            "set `region` in the provider \"aws\" block, or the AWS_REGION environment variable",
        ));
    };
    if let Some(assume_role) = get_block(config, "assume_role") {
        if let Some(role_arn) = get_str(assume_role, "role_arn") {
            let mut builder = aws_config::sts::AssumeRoleProvider::builder(role_arn).session_name(
                get_str(assume_role, "session_name").unwrap_or_else(|| "strata".to_string()),
            );
            if let Some(external_id) = get_str(assume_role, "external_id") {
                builder = builder.external_id(external_id);
            }
            if let Some(policy) = get_str(assume_role, "policy") {
                builder = builder.policy(policy);
            }
            let policy_arns = get_strings(assume_role, "policy_arns");
            if !policy_arns.is_empty() {
                builder = builder.policy_arns(policy_arns);
            }
            if let Some(seconds) = get_str(assume_role, "duration")
                .as_deref()
                .and_then(parse_duration)
            {
                builder = builder.session_length(seconds);
            }
            let provider = builder.configure(&sdk_config).build().await;
            sdk_config = sdk_config
                .into_builder()
                .credentials_provider(SharedCredentialsProvider::new(provider))
                .build();
        }
    }
    let endpoints = endpoints(config);
    let counter = CallCounter(calls);
    let sts = {
        let mut builder =
            aws_sdk_sts::config::Builder::from(&sdk_config).interceptor(counter.clone());
        if let Some(url) = endpoints.get("sts") {
            builder = builder.endpoint_url(url);
        }
        aws_sdk_sts::Client::from_conf(builder.build())
    };
    // The credentials check goes out first, on a task of its own.
    let validate = get_bool(config, "skip_credentials_validation") != Some(true);
    let want_account = get_bool(config, "skip_requesting_account_id") != Some(true);
    let identity = (validate || want_account).then(|| {
        let sts = sts.clone();
        tokio::spawn(async move { sts.get_caller_identity().send().await.api() })
    });
    // The other clients are built at their first call (their endpoint rules and settings are
    // a millisecond or two of CPU each, in the SDK crates built without optimisation): a
    // refresh's first reads build them on the worker threads in parallel, and a run that needs
    // no EKS never builds that client.
    let lazy = |service: &'static str| LazySetup {
        sdk_config: sdk_config.clone(),
        endpoint: endpoints.get(service).cloned(),
        counter: counter.clone(),
    };
    let ec2 = lazy_client!(lazy("ec2"), aws_sdk_ec2);
    let eks = lazy_client!(lazy("eks"), aws_sdk_eks);
    let iam = lazy_client!(lazy("iam"), aws_sdk_iam);
    let rds = lazy_client!(lazy("rds"), aws_sdk_rds);
    let ssm = lazy_client!(lazy("ssm"), aws_sdk_ssm);
    let default_tags = get_block(config, "default_tags")
        .map(|block| get_string_map(block, "tags"))
        .unwrap_or_default();
    let ignore_tags = get_block(config, "ignore_tags")
        .map(|block| IgnoreTags {
            keys: get_strings(block, "keys").into_iter().collect(),
            key_prefixes: get_strings(block, "key_prefixes"),
        })
        .unwrap_or_default();
    let mut context = AwsContext {
        ec2,
        eks,
        iam,
        rds,
        sts,
        ssm,
        region,
        account_id: String::new(),
        default_tags,
        ignore_tags,
        refresh: Default::default(),
    };
    if let Some(identity) = identity {
        let identity = identity.await.map_err(|error| {
            ProviderError::new(
                "validating the aws provider's credentials failed",
                format!("the GetCallerIdentity task ended: {error}"),
            )
        })?;
        let identity = match identity {
            Ok(identity) => identity,
            Err(failure) if validate => {
                return Err(failure.into_error(
                    "validating the aws provider's credentials (set skip_credentials_validation = true to skip)",
                ))
            }
            Err(_) => return Ok(context),
        };
        let account = identity.account().unwrap_or_default().to_string();
        context.account_id = account.clone();
        let allowed = get_strings(config, "allowed_account_ids");
        let forbidden = get_strings(config, "forbidden_account_ids");
        if (!allowed.is_empty() && !allowed.contains(&account)) || forbidden.contains(&account) {
            return Err(ProviderError::new(
                "AWS account not allowed",
                format!("the credentials are for account {account}, which `allowed_account_ids`/`forbidden_account_ids` exclude"),
            ));
        }
    }
    Ok(context)
}

/// A Go-style duration (`1h`, `15m`, `900s`, `1h30m`).
pub fn parse_duration(text: &str) -> Option<Duration> {
    crate::lang::functions::parse_go_duration(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(parse_duration("1h30m"), Some(Duration::from_secs(5400)));
        assert_eq!(parse_duration("900s"), Some(Duration::from_secs(900)));
        assert_eq!(parse_duration("15"), None);
        assert_eq!(parse_duration("x"), None);
    }

    #[test]
    fn endpoints_as_set_or_object() {
        let set = Value::object([(
            "endpoints",
            Value::Set(vec![Value::object([
                ("ec2", Value::from("http://a")),
                ("eks", Value::Null),
            ])]),
        )]);
        assert_eq!(
            endpoints(&set).get("ec2").map(String::as_str),
            Some("http://a")
        );
        let object = Value::object([(
            "endpoints",
            Value::object([("iam", Value::from("http://b"))]),
        )]);
        assert_eq!(
            endpoints(&object).get("iam").map(String::as_str),
            Some("http://b")
        );
    }

    #[test]
    fn retry_mode_standard_adaptive_or_an_error() {
        use aws_config::retry::RetryMode;
        let with_mode = |mode: &str| Value::object([("retry_mode", Value::from(mode))]);
        let adaptive = retry_config(&with_mode("adaptive"), 5).unwrap();
        assert_eq!(adaptive.mode(), RetryMode::Adaptive);
        assert_eq!(adaptive.max_attempts(), 6);
        let standard = retry_config(&with_mode("standard"), 25).unwrap();
        assert_eq!(standard.mode(), RetryMode::Standard);
        let error = retry_config(&with_mode("eager"), 1).unwrap_err();
        assert!(error.detail.contains("`eager`"), "{}", error.detail);
    }
}
