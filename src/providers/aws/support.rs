//! Shared plumbing of the AWS provider: reading attributes out of [`Value`]s and building them,
//! tags (with the provider's `default_tags`), AWS errors worded for the user, polling with
//! backoff, bounded retries of `DependencyViolation`, and the API call counter.

use crate::providers::schema::{Attribute, Block, NestedBlock, Nesting};
use crate::providers::{Progress, ProviderError};
use crate::value::{AttrPath, Type, Value};
use aws_sdk_ec2::error::ProvideErrorMetadata;
use std::collections::BTreeMap;
use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

// ---------------------------------------------------------------------------------------------
// Reading values

/// A string attribute, `None` when null, unknown or not a string.
pub fn get_str(value: &Value, name: &str) -> Option<String> {
    value
        .get_attr(name)
        .and_then(Value::as_str)
        .map(str::to_string)
}

pub fn get_bool(value: &Value, name: &str) -> Option<bool> {
    value.get_attr(name).and_then(Value::as_bool)
}

pub fn get_i64(value: &Value, name: &str) -> Option<i64> {
    value
        .get_attr(name)
        .and_then(Value::as_number)
        .and_then(|n| n.to_i64())
}

/// The strings of a list or set attribute (empty when null).
pub fn get_strings(value: &Value, name: &str) -> Vec<String> {
    value.get_attr(name).map(strings_of).unwrap_or_default()
}

pub fn strings_of(value: &Value) -> Vec<String> {
    value
        .as_seq()
        .map(|items| {
            items
                .iter()
                .filter_map(Value::as_str)
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default()
}

/// A map of strings (empty when null).
pub fn get_string_map(value: &Value, name: &str) -> BTreeMap<String, String> {
    value.get_attr(name).map(string_map_of).unwrap_or_default()
}

pub fn string_map_of(value: &Value) -> BTreeMap<String, String> {
    value
        .as_entries()
        .map(|entries| {
            entries
                .iter()
                .filter_map(|(k, v)| v.as_str().map(|s| (k.clone(), s.to_string())))
                .collect()
        })
        .unwrap_or_default()
}

/// The single object of a nested block written as a list (`vpc_config[0]`) or a single block.
pub fn get_block<'a>(value: &'a Value, name: &str) -> Option<&'a Value> {
    let inner = value.get_attr(name)?;
    match inner.unmarked() {
        Value::Object(_) | Value::Map(_) => Some(inner),
        _ => inner.as_seq().and_then(|items| items.first()),
    }
}

/// Every object of a repeated nested block.
pub fn get_blocks<'a>(value: &'a Value, name: &str) -> Vec<&'a Value> {
    value
        .get_attr(name)
        .and_then(Value::as_seq)
        .map(|items| items.iter().collect())
        .unwrap_or_default()
}

// ---------------------------------------------------------------------------------------------
// Building values

pub fn opt_str(value: Option<impl Into<String>>) -> Value {
    value
        .map(|s| Value::String(s.into()))
        .unwrap_or(Value::Null)
}

/// A string that AWS reports as empty when unset becomes null.
pub fn non_empty(value: Option<&str>) -> Value {
    match value {
        Some(s) if !s.is_empty() => Value::from(s),
        _ => Value::Null,
    }
}

pub fn str_list<S: Into<String>>(items: impl IntoIterator<Item = S>) -> Value {
    Value::List(items.into_iter().map(|s| Value::String(s.into())).collect())
}

pub fn str_set<S: Into<String>>(items: impl IntoIterator<Item = S>) -> Value {
    Value::set(items.into_iter().map(|s| Value::String(s.into())).collect())
}

pub fn str_map(items: &BTreeMap<String, String>) -> Value {
    Value::Map(
        items
            .iter()
            .map(|(k, v)| (k.clone(), Value::from(v.as_str())))
            .collect(),
    )
}

/// A timestamp as the Terraform AWS provider writes one (`create_date`, `created_at`): RFC 3339
/// to the second, in UTC.
pub fn rfc3339_seconds(time: &aws_smithy_types::DateTime) -> Value {
    aws_smithy_types::DateTime::from_secs(time.secs())
        .fmt(aws_smithy_types::date_time::Format::DateTime)
        .map(Value::String)
        .unwrap_or(Value::Null)
}

/// Attributes read from AWS, later merged into a full state by the provider.
pub type Attrs = BTreeMap<String, Value>;

pub fn attrs<const N: usize>(items: [(&str, Value); N]) -> Attrs {
    items.into_iter().map(|(k, v)| (k.to_string(), v)).collect()
}

// ---------------------------------------------------------------------------------------------
// Schemas

/// A block that starts with attributes only AWS sets, all strings (`id`, `arn`, `owner_id`, ...:
/// the provider's `Computed: true` strings).
pub fn computed_strings(names: &[&str]) -> Block {
    let computed = |block: Block, name: &&str| block.attr(name, Attribute::computed(Type::String));
    names.iter().fold(Block::new(), computed)
}

/// `tags` (optional) and `tags_all` (computed: `tags` merged over the provider's `default_tags`).
pub fn with_tags(block: Block) -> Block {
    block
        .attr("tags", Attribute::optional(Type::map(Type::String)))
        .attr(
            "tags_all",
            Attribute::optional_computed(Type::map(Type::String)),
        )
}

/// A name the configuration gives whole (`name`) or as the prefix of a unique one
/// (`name_prefix`), as the provider's `create.Name` attributes: either replaces the object.
pub fn with_name_and_prefix(block: Block, name: &str) -> Block {
    let attribute = || Attribute::optional_computed(Type::String).force_new();
    block
        .attr(name, attribute())
        .attr(&format!("{name}_prefix"), attribute())
}

/// The `timeouts` block with the given operations (`create`, `update`, `delete`, ...).
pub fn timeouts_block(block: Block, operations: &[&str]) -> Block {
    let mut inner = Block::new();
    for operation in operations {
        inner = inner.attr(operation, Attribute::optional(Type::String));
    }
    block.nested(
        "timeouts",
        NestedBlock {
            nesting: Nesting::Single,
            block: inner,
            min_items: 0,
            max_items: 0,
            force_new: false,
            computed: false,
            attribute_syntax: false,
        },
    )
}

/// A nested block seen as a list of at most `max_items` objects.
pub fn list_block(block: Block, min_items: usize, max_items: usize) -> NestedBlock {
    NestedBlock {
        nesting: Nesting::List,
        block,
        min_items,
        max_items,
        force_new: false,
        computed: false,
        attribute_syntax: false,
    }
}

/// A set of blocks the provider fills in when the configuration writes none, which may also be
/// written as an attribute (Terraform's "attributes as blocks": `ingress`, `route`;
/// `ingress = []` removes every rule).
pub fn computed_set_block(block: Block) -> NestedBlock {
    NestedBlock {
        nesting: Nesting::Set,
        block,
        min_items: 0,
        max_items: 0,
        force_new: false,
        computed: true,
        attribute_syntax: true,
    }
}

// ---------------------------------------------------------------------------------------------
// Tags

/// AWS-reserved tags (`aws:*`) are not the user's and never shown.
pub fn user_tags(tags: impl IntoIterator<Item = (String, String)>) -> BTreeMap<String, String> {
    tags.into_iter()
        .filter(|(k, _)| !k.starts_with("aws:"))
        .collect()
}

/// The provider's `ignore_tags`: tag keys (exact, or by prefix) that Strata neither reads nor
/// manages, because something else owns them (Kubernetes, the cluster autoscaler, AWS
/// services). They are left out of `tags` and `tags_all` as read and as planned, so they never
/// show as drift and an update never removes them.
#[derive(Clone, Debug, Default)]
pub struct IgnoreTags {
    pub keys: std::collections::BTreeSet<String>,
    pub key_prefixes: Vec<String>,
}

impl IgnoreTags {
    pub fn ignores(&self, key: &str) -> bool {
        self.keys.contains(key)
            || self
                .key_prefixes
                .iter()
                .any(|p| key.starts_with(p.as_str()))
    }

    /// The map without the ignored keys.
    pub fn retain(&self, tags: &BTreeMap<String, String>) -> BTreeMap<String, String> {
        tags.iter()
            .filter(|(key, _)| !self.ignores(key))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect()
    }

    /// A known map value without the ignored keys (an unknown or null one as it is).
    pub fn retain_value(&self, tags: Value) -> Value {
        match tags {
            Value::Map(entries) => Value::Map(
                entries
                    .into_iter()
                    .filter(|(key, _)| !self.ignores(key))
                    .collect(),
            ),
            other => other,
        }
    }
}

/// The planned `tags_all`: the provider's default tags with the resource's own over them.
pub fn planned_tags_all(default_tags: &BTreeMap<String, String>, tags: &Value) -> Value {
    if !tags.is_wholly_known() {
        return Value::Unknown(Type::map(Type::String));
    }
    let mut all = default_tags.clone();
    all.extend(string_map_of(tags));
    str_map(&all)
}

/// `tags` and `tags_all` from the tags AWS reports: `tags` leaves out the default tags that
/// the resource does not set itself, so a default tag never shows as the resource's own.
pub fn read_tags(
    default_tags: &BTreeMap<String, String>,
    remote: &BTreeMap<String, String>,
    prior_tags: &Value,
) -> (Value, Value) {
    let prior = string_map_of(prior_tags);
    let own: BTreeMap<String, String> = remote
        .iter()
        .filter(|(k, v)| prior.contains_key(*k) || default_tags.get(*k) != Some(v))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    let tags = if own.is_empty() && prior_tags.is_null() {
        Value::Null
    } else {
        str_map(&own)
    };
    (tags, str_map(remote))
}

/// What to change to go from one set of tags to another: (tags to set, keys to remove).
pub fn tag_changes(prior: &Value, planned: &Value) -> (BTreeMap<String, String>, Vec<String>) {
    let before = string_map_of(prior);
    let after = string_map_of(planned);
    let set = after
        .iter()
        .filter(|(k, v)| before.get(*k) != Some(v))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    let remove = before
        .keys()
        .filter(|k| !after.contains_key(*k))
        .cloned()
        .collect();
    (set, remove)
}

/// What an update changes of `tags_all`: (tags to set, keys to remove).
pub fn planned_tag_changes(
    operation: &super::Operation<'_>,
) -> (BTreeMap<String, String>, Vec<String>) {
    let prior = operation
        .prior
        .and_then(|p| p.get_attr("tags_all"))
        .unwrap_or(&Value::Null);
    let planned = operation
        .planned
        .get_attr("tags_all")
        .unwrap_or(&Value::Null);
    tag_changes(prior, planned)
}

// ---------------------------------------------------------------------------------------------
// Errors

/// An AWS API error reduced to what a user needs: AWS's code and message.
#[derive(Clone, Debug, PartialEq)]
pub struct ApiFailure {
    pub code: Option<String>,
    pub message: String,
}

impl ApiFailure {
    pub fn code(&self) -> &str {
        self.code.as_deref().unwrap_or("")
    }

    /// Whether AWS says the object does not exist.
    pub fn is_not_found(&self) -> bool {
        let code = self.code();
        code.ends_with(".NotFound")
            || code.ends_with("NotFound")
            || code.ends_with("NotFoundFault")
            || matches!(
                code,
                "NoSuchEntity" | "ResourceNotFoundException" | "NotFoundException"
            )
    }

    /// Whether the endpoint does not implement the operation at all (an emulator may not).
    pub fn is_unsupported(&self) -> bool {
        self.code.is_none() && self.message.contains("HTTP 404")
    }

    pub fn detail(&self) -> String {
        match &self.code {
            Some(code) if self.message.is_empty() => code.clone(),
            Some(code) => format!("{code}: {}", self.message),
            None => self.message.clone(),
        }
    }

    /// The user-facing error: `summary` says what was being done.
    pub fn into_error(self, summary: impl Into<String>) -> ProviderError {
        ProviderError::new(summary, self.detail())
    }
}

/// Converts an SDK error, taking AWS's code and message from the error metadata (the
/// `Display` of the SDK error would be "service error", its debug form the raw HTTP response).
pub fn api_failure<E, R>(error: aws_sdk_ec2::error::SdkError<E, R>) -> ApiFailure
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
    R: std::fmt::Debug,
{
    use aws_sdk_ec2::error::SdkError;
    let code = error.code().map(str::to_string);
    let message = error.message().map(str::to_string);
    match (code, message) {
        (Some(code), message) => ApiFailure {
            code: Some(code),
            message: message.unwrap_or_default(),
        },
        (None, Some(message)) => ApiFailure {
            code: None,
            message,
        },
        (None, None) => {
            let message = match &error {
                SdkError::ServiceError(service) => {
                    // Only the status: the response's debug form is the raw HTTP exchange.
                    let raw = format!("{:?}", service.raw());
                    let status: String = raw
                        .split_once("StatusCode(")
                        .map(|(_, rest)| rest.chars().take_while(char::is_ascii_digit).collect())
                        .unwrap_or_default();
                    format!("the service answered HTTP {status} without an error code")
                }
                other => error_chain(other),
            };
            ApiFailure {
                code: None,
                message,
            }
        }
    }
}

/// An error and its sources, joined (a connection refused shows why, not just "dispatch failure").
fn error_chain(error: &dyn std::error::Error) -> String {
    let mut parts = vec![error.to_string()];
    let mut source = error.source();
    while let Some(inner) = source {
        let text = inner.to_string();
        if !parts.contains(&text) {
            parts.push(text);
        }
        source = inner.source();
    }
    parts.join(": ")
}

/// `result.map_err(api_failure)` as a method.
pub trait SdkResultExt<T> {
    fn api(self) -> Result<T, ApiFailure>;
}

impl<T, E, R> SdkResultExt<T> for Result<T, aws_sdk_ec2::error::SdkError<E, R>>
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
    R: std::fmt::Debug,
{
    fn api(self) -> Result<T, ApiFailure> {
        self.map_err(api_failure)
    }
}

/// Awaits an SDK call whose answer is not needed (`call` is the builder's `send()`).
pub async fn done<T, E, R>(
    call: impl Future<Output = Result<T, aws_sdk_ec2::error::SdkError<E, R>>>,
) -> Result<(), ApiFailure>
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
    R: std::fmt::Debug,
{
    call.await.api().map(|_| ())
}

/// Awaits an SDK call (`call` is the builder's `send()`) and gives its answer, or the user-facing
/// error `summary` names.
pub async fn ask<T, E, R>(
    call: impl Future<Output = Result<T, aws_sdk_ec2::error::SdkError<E, R>>>,
    summary: &str,
) -> Result<T, ProviderError>
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
    R: std::fmt::Debug,
{
    call.await.api().or_fail(summary)
}

/// Answers of calls about an object that may be gone.
pub trait NotFoundExt<T> {
    /// The answer, or `None` where AWS says the object does not exist (a finder, as the
    /// provider's `tfresource.NotFound` checks).
    fn found(self) -> Result<Option<T>, ApiFailure>;
    /// A delete's answer: deleting what is already gone is done.
    fn gone_ok(self) -> Result<(), ApiFailure>;
}

impl<T> NotFoundExt<T> for Result<T, ApiFailure> {
    fn found(self) -> Result<Option<T>, ApiFailure> {
        match self {
            Ok(answer) => Ok(Some(answer)),
            Err(failure) if failure.is_not_found() => Ok(None),
            Err(failure) => Err(failure),
        }
    }

    fn gone_ok(self) -> Result<(), ApiFailure> {
        self.found().map(|_| ())
    }
}

/// Attaching the operation's summary to an [`ApiFailure`].
pub trait FailureExt<T> {
    fn or_fail(self, summary: &str) -> Result<T, ProviderError>;
    /// Like `or_fail`, pointing at `attribute` when AWS answers one of `codes`.
    fn or_fail_on(self, summary: &str, codes: &[&str], attribute: &str)
        -> Result<T, ProviderError>;
}

impl<T> FailureExt<T> for Result<T, ApiFailure> {
    fn or_fail(self, summary: &str) -> Result<T, ProviderError> {
        self.map_err(|failure| failure.into_error(summary))
    }

    fn or_fail_on(
        self,
        summary: &str,
        codes: &[&str],
        attribute: &str,
    ) -> Result<T, ProviderError> {
        self.map_err(|failure| {
            let matches = codes
                .iter()
                .any(|c| failure.code() == *c || failure.code().starts_with(&format!("{c}.")));
            let error = failure.into_error(summary);
            if matches {
                error.on_attribute(AttrPath::attr(attribute))
            } else {
                error
            }
        })
    }
}

/// Replaces every secret in an error's text with `(sensitive value)`.
pub fn scrub_error(mut error: ProviderError, secrets: &[String]) -> ProviderError {
    for secret in secrets.iter().filter(|s| !s.is_empty()) {
        error.summary = error.summary.replace(secret.as_str(), "(sensitive value)");
        error.detail = error.detail.replace(secret.as_str(), "(sensitive value)");
    }
    error
}

/// Every string under a sensitive mark in `value`.
pub fn sensitive_strings(value: &Value, inside: bool, out: &mut Vec<String>) {
    match value {
        Value::Sensitive(inner) => sensitive_strings(inner, true, out),
        Value::String(s) if inside => out.push(s.clone()),
        Value::List(items) | Value::Tuple(items) | Value::Set(items) => {
            items.iter().for_each(|v| sensitive_strings(v, inside, out));
        }
        Value::Map(items) | Value::Object(items) => {
            items
                .values()
                .for_each(|v| sensitive_strings(v, inside, out));
        }
        _ => {}
    }
}

// ---------------------------------------------------------------------------------------------
// Waiting

/// The delay between polls: starts fast, doubles, and stays at most `max`.
#[derive(Clone, Debug)]
pub struct Backoff {
    next: Duration,
    max: Duration,
}

impl Backoff {
    pub fn new(first: Duration, max: Duration) -> Backoff {
        Backoff { next: first, max }
    }

    /// The standard polling backoff: 200 ms doubling to 10 s.
    pub fn polling() -> Backoff {
        Backoff::new(Duration::from_millis(200), Duration::from_secs(10))
    }

    pub fn next_delay(&mut self) -> Duration {
        let delay = self.next;
        self.next = (self.next * 2).min(self.max);
        delay
    }
}

/// One look at an asynchronous object.
pub enum Poll<T> {
    Done(T),
    /// Not there yet; the state it is in now.
    Pending(String),
}

/// Polls until `poll` says done, with [`Backoff::polling`], for at most `timeout`; reports the
/// state through `progress` whenever it changes and every ~10 s.
pub async fn wait_for<T, F, Fut>(
    what: &str,
    target: &str,
    timeout: Duration,
    progress: &Progress,
    mut poll: F,
) -> Result<T, ProviderError>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<Poll<T>, ProviderError>>,
{
    let started = Instant::now();
    let mut backoff = Backoff::polling();
    let mut last_state = String::new();
    let mut last_report = Instant::now();
    loop {
        match poll().await? {
            Poll::Done(value) => return Ok(value),
            Poll::Pending(state) => {
                let elapsed = started.elapsed();
                if state != last_state || last_report.elapsed() >= Duration::from_secs(10) {
                    progress(&format!(
                        "waiting for {what} to be {target} (now {state}, {}s elapsed)",
                        elapsed.as_secs()
                    ));
                    last_report = Instant::now();
                    last_state = state.clone();
                }
                if elapsed >= timeout {
                    return Err(ProviderError::new(
                        format!("timeout while waiting for {what} to be {target}"),
                        format!(
                            "still {state} after {}s; raise the limit in the resource's `timeouts` block if it needs longer",
                            elapsed.as_secs()
                        ),
                    ));
                }
                let delay = backoff
                    .next_delay()
                    .min(timeout.saturating_sub(elapsed))
                    .max(Duration::from_millis(10));
                tokio::time::sleep(delay).await;
            }
        }
    }
}

/// Waits until `describe` finds the object no more (a delete's wait), reporting the status
/// `status` reads from it meanwhile, within the operation's timeout.
pub async fn wait_until_gone<T, F, Fut>(
    what: &str,
    operation: &super::Operation<'_>,
    mut describe: F,
    status: impl Fn(&T) -> String,
) -> Result<(), ProviderError>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<Option<T>, ApiFailure>>,
{
    wait_for(
        what,
        "deleted",
        operation.timeout,
        operation.progress,
        || {
            let described = describe();
            let status = &status;
            async move {
                match described.await {
                    Ok(None) => Ok(Poll::Done(())),
                    Ok(Some(object)) => Ok(Poll::Pending(status(&object))),
                    Err(failure) => {
                        Err(failure.into_error(format!("waiting for {what} to be deleted")))
                    }
                }
            }
        },
    )
    .await
}

/// Runs `call` again while AWS answers with one of `codes` (an ENI or NAT gateway still holding
/// on to what is being deleted), for at most `timeout`.
pub async fn retry_while<T, F, Fut>(
    codes: &[&str],
    timeout: Duration,
    progress: &Progress,
    mut call: F,
) -> Result<T, ApiFailure>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, ApiFailure>>,
{
    let started = Instant::now();
    let mut backoff = Backoff::new(Duration::from_millis(200), Duration::from_secs(10));
    loop {
        match call().await {
            Err(failure) if codes.contains(&failure.code()) && started.elapsed() < timeout => {
                progress(&format!(
                    "retrying: {} ({}s elapsed)",
                    failure.detail(),
                    started.elapsed().as_secs()
                ));
                let delay = backoff
                    .next_delay()
                    .min(timeout.saturating_sub(started.elapsed()));
                tokio::time::sleep(delay.max(Duration::from_millis(10))).await;
            }
            other => return other,
        }
    }
}

/// Retries of a delete that something else still depends on.
pub const DEPENDENCY_CODES: &[&str] = &[
    "DependencyViolation",
    "InvalidIPAddress.InUse",
    "InvalidDBSubnetGroupStateFault",
    "ResourceInUseException",
];

// ---------------------------------------------------------------------------------------------
// Call counting

/// What the clients' [`CallCounter`] saw: every AWS API operation (not attempts) started, and
/// how many were under way at once, so that a test can tell a refresh whose calls overlap from
/// one that makes them one after another.
#[derive(Debug, Default)]
pub struct CallStats {
    started: AtomicU64,
    in_flight: AtomicU64,
    most_in_flight: AtomicU64,
}

impl CallStats {
    /// Operations started so far.
    pub fn started(&self) -> u64 {
        self.started.load(Ordering::Relaxed)
    }

    /// The most operations under way at once since the last [`CallStats::reset_most_in_flight`].
    pub fn most_in_flight(&self) -> u64 {
        self.most_in_flight.load(Ordering::Relaxed)
    }

    pub fn reset_most_in_flight(&self) {
        self.most_in_flight
            .store(self.in_flight.load(Ordering::Relaxed), Ordering::Relaxed);
    }
}

/// Counts every AWS API operation (not attempts) made through the clients it is installed on.
#[derive(Clone, Debug, Default)]
pub struct CallCounter(pub Arc<CallStats>);

impl aws_sdk_ec2::config::Intercept for CallCounter {
    fn name(&self) -> &'static str {
        "StrataCallCounter"
    }

    fn read_before_execution(
        &self,
        _context: &aws_sdk_ec2::config::interceptors::BeforeSerializationInterceptorContextRef<'_>,
        _config: &mut aws_sdk_ec2::config::ConfigBag,
    ) -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
        self.0.started.fetch_add(1, Ordering::Relaxed);
        let now = self.0.in_flight.fetch_add(1, Ordering::Relaxed) + 1;
        self.0.most_in_flight.fetch_max(now, Ordering::Relaxed);
        Ok(())
    }

    // Called once an operation is over, whether it succeeded or not.
    fn read_after_execution(
        &self,
        _context: &aws_sdk_ec2::config::interceptors::FinalizerInterceptorContextRef<'_>,
        _components: &aws_sdk_ec2::config::RuntimeComponents,
        _config: &mut aws_sdk_ec2::config::ConfigBag,
    ) -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
        self.0.in_flight.fetch_sub(1, Ordering::Relaxed);
        Ok(())
    }
}

/// A client token of at most 64 characters derived from the engine's idempotency token.
pub fn client_token(token: &str) -> String {
    if token.len() <= 64 && token.chars().all(|c| c.is_ascii_graphic()) {
        token.to_string()
    } else {
        use sha2::Digest;
        let digest = sha2::Sha256::digest(token.as_bytes());
        digest.iter().map(|b| format!("{b:02x}")).collect()
    }
}

/// The name a create gives (see [`with_name_and_prefix`]): the configured `name`, or a unique
/// one after `{name}_prefix` (by default `terraform-`).
pub fn name_or_unique(planned: &Value, name: &str) -> String {
    get_str(planned, name).unwrap_or_else(|| {
        let prefix = get_str(planned, &format!("{name}_prefix"));
        unique_name(prefix.as_deref().unwrap_or("terraform-"))
    })
}

/// The name of an object whose `id` is its name (an IAM role, an EKS cluster, a DB subnet
/// group, an SSM parameter): the id, or the name when the id is not known yet.
pub fn name_of(current: &Value) -> String {
    get_str(current, "id")
        .or_else(|| get_str(current, "name"))
        .unwrap_or_default()
}

/// What a create of an object whose `id` is its name returns.
pub fn named_ids(name: &str) -> Attrs {
    attrs([("id", Value::from(name)), ("name", Value::from(name))])
}

/// A name like Terraform's generated ones: `terraform-` and a unique suffix.
pub fn unique_name(prefix: &str) -> String {
    let stamp = chrono::Utc::now().format("%Y%m%d%H%M%S%f");
    let random = &uuid::Uuid::new_v4().simple().to_string()[..8];
    format!("{prefix}{stamp}{random}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_to_the_limit() {
        let mut backoff = Backoff::polling();
        let delays: Vec<u64> = (0..9)
            .map(|_| backoff.next_delay().as_millis() as u64)
            .collect();
        assert_eq!(
            delays,
            vec![200, 400, 800, 1600, 3200, 6400, 10000, 10000, 10000]
        );
    }

    #[test]
    fn default_tags_are_not_the_resource_s_own() {
        let defaults: BTreeMap<String, String> = [("Team".to_string(), "core".to_string())].into();
        let remote: BTreeMap<String, String> = [
            ("Team".to_string(), "core".to_string()),
            ("Name".to_string(), "a".to_string()),
        ]
        .into();
        let prior = Value::Map([("Name".to_string(), Value::from("a"))].into());
        let (tags, all) = read_tags(&defaults, &remote, &prior);
        assert_eq!(tags, prior);
        assert_eq!(string_map_of(&all), remote);
        let (none, _) = read_tags(
            &defaults,
            &[("Team".to_string(), "core".to_string())].into(),
            &Value::Null,
        );
        assert_eq!(none, Value::Null);
    }

    #[test]
    fn tag_changes_set_and_remove() {
        let before = Value::Map(
            [
                ("a".to_string(), Value::from("1")),
                ("b".to_string(), Value::from("2")),
            ]
            .into(),
        );
        let after = Value::Map(
            [
                ("a".to_string(), Value::from("1")),
                ("c".to_string(), Value::from("3")),
            ]
            .into(),
        );
        let (set, remove) = tag_changes(&before, &after);
        assert_eq!(set, [("c".to_string(), "3".to_string())].into());
        assert_eq!(remove, vec!["b".to_string()]);
    }

    #[test]
    fn secrets_are_scrubbed() {
        let error = ProviderError::new(
            "creating RDS DB Instance",
            "InvalidParameterValue: bad password hunter22",
        );
        let scrubbed = scrub_error(error, &["hunter22".to_string()]);
        assert!(!scrubbed.detail.contains("hunter22"));
        let mut found = Vec::new();
        sensitive_strings(
            &Value::object([
                ("p", Value::from("x").mark_sensitive()),
                ("q", Value::from("y")),
            ]),
            false,
            &mut found,
        );
        assert_eq!(found, vec!["x".to_string()]);
    }

    #[tokio::test]
    async fn waiting_gives_up_at_the_timeout_and_reports_progress() {
        let messages = Arc::new(std::sync::Mutex::new(Vec::new()));
        let sink = messages.clone();
        let progress: Progress = Arc::new(move |m: &str| sink.lock().unwrap().push(m.to_string()));
        let started = Instant::now();
        let result: Result<(), ProviderError> = wait_for(
            "EKS Cluster (demo)",
            "ACTIVE",
            Duration::from_millis(500),
            &progress,
            || async { Ok(Poll::Pending("CREATING".to_string())) },
        )
        .await;
        let error = result.unwrap_err();
        assert_eq!(
            error.summary,
            "timeout while waiting for EKS Cluster (demo) to be ACTIVE"
        );
        assert!(started.elapsed() < Duration::from_secs(2));
        assert!(messages.lock().unwrap()[0].contains("now CREATING"));
        let mut polls = 0;
        let done = wait_for("x", "ready", Duration::from_secs(5), &progress, || {
            polls += 1;
            let ready = polls >= 3;
            async move {
                Ok(if ready {
                    Poll::Done(7)
                } else {
                    Poll::Pending("busy".into())
                })
            }
        })
        .await;
        assert_eq!(done, Ok(7));
    }

    #[tokio::test]
    async fn dependency_violations_are_retried_for_a_bounded_time() {
        let progress: Progress = Arc::new(|_: &str| {});
        let mut calls = 0;
        let result = retry_while(DEPENDENCY_CODES, Duration::from_secs(5), &progress, || {
            calls += 1;
            let fail = calls < 3;
            async move {
                if fail {
                    Err(ApiFailure {
                        code: Some("DependencyViolation".into()),
                        message: "in use".into(),
                    })
                } else {
                    Ok(())
                }
            }
        })
        .await;
        assert_eq!(result, Ok(()));
        assert_eq!(calls, 3);
        let always = retry_while(
            DEPENDENCY_CODES,
            Duration::from_millis(300),
            &progress,
            || async {
                Err::<(), _>(ApiFailure {
                    code: Some("DependencyViolation".into()),
                    message: "in use".into(),
                })
            },
        )
        .await;
        assert_eq!(always.unwrap_err().code(), "DependencyViolation");
    }

    #[test]
    fn long_tokens_are_hashed() {
        assert_eq!(client_token("abc"), "abc");
        assert_eq!(client_token(&"x".repeat(100)).len(), 64);
    }
}
