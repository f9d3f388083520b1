//! STS: the `aws_caller_identity` data source, as
//! `internal/service/sts/caller_identity_data_source.go` of the Terraform AWS provider.

use super::support::{attrs, Attrs, FailureExt, SdkResultExt};
use super::{AwsContext, DataSourceType};
use crate::providers::schema::{Attribute, Block};
use crate::providers::ProviderError;
use crate::value::{Type, Value};
use async_trait::async_trait;

/// `aws_caller_identity`: who the provider's credentials are.
pub struct CallerIdentity;

#[async_trait]
impl DataSourceType for CallerIdentity {
    fn schema(&self) -> Block {
        Block::new()
            .attr("id", Attribute::computed(Type::String))
            .attr("account_id", Attribute::computed(Type::String))
            .attr("arn", Attribute::computed(Type::String))
            .attr("user_id", Attribute::computed(Type::String))
    }

    async fn read(&self, aws: &AwsContext, _config: &Value) -> Result<Attrs, ProviderError> {
        let out = aws
            .sts
            .get_caller_identity()
            .send()
            .await
            .api()
            .or_fail("reading STS Caller Identity")?;
        let account = out.account().unwrap_or_default();
        Ok(attrs([
            ("id", Value::from(account)),
            ("account_id", Value::from(account)),
            ("arn", Value::from(out.arn().unwrap_or_default())),
            ("user_id", Value::from(out.user_id().unwrap_or_default())),
        ]))
    }
}
