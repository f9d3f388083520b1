//! STS: the `aws_caller_identity` data source, as
//! `internal/service/sts/caller_identity_data_source.go` of the Terraform AWS provider.

use super::support::{ask, attrs, computed_strings, Attrs};
use super::{AwsContext, DataSourceType};
use crate::providers::schema::Block;
use crate::providers::ProviderError;
use crate::value::Value;
use async_trait::async_trait;

/// `aws_caller_identity`: who the provider's credentials are.
pub struct CallerIdentity;

#[async_trait]
impl DataSourceType for CallerIdentity {
    fn schema(&self) -> Block {
        computed_strings(&["id", "account_id", "arn", "user_id"])
    }

    async fn read(&self, aws: &AwsContext, _config: &Value) -> Result<Attrs, ProviderError> {
        let out = ask(
            aws.sts.get_caller_identity().send(),
            "reading STS Caller Identity",
        )
        .await?;
        let account = out.account().unwrap_or_default();
        Ok(attrs([
            ("id", Value::from(account)),
            ("account_id", Value::from(account)),
            ("arn", Value::from(out.arn().unwrap_or_default())),
            ("user_id", Value::from(out.user_id().unwrap_or_default())),
        ]))
    }
}
