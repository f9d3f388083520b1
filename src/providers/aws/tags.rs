//! Tags on every service, as the Terraform AWS provider's generated `tags` packages (one
//! `UpdateTags(ctx, conn, id, old, new)` per service behind one interface): a [`Tagged`] names an
//! object and how its service tags it, [`update_tags`] applies a plan's change of `tags_all` to
//! any of them, and the `*_tags` functions build each SDK's own tag lists.
//!
//! What is not per service stays in [`super::support`]: the tag diff, `default_tags`,
//! `ignore_tags`.

use super::support::{done, planned_tag_changes, user_tags, ApiFailure, FailureExt};
use super::{AwsContext, Operation};
use crate::providers::ProviderError;
use aws_sdk_ssm::types::ResourceTypeForTagging;
use std::collections::BTreeMap;

/// An object that carries tags, named as its service's tagging calls name it.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Tagged<'a> {
    /// An EC2 object, by id (CreateTags, DeleteTags).
    Ec2(&'a str),
    /// An IAM role, by name (TagRole, UntagRole).
    IamRole(&'a str),
    /// An EKS cluster or node group, by ARN (TagResource, UntagResource).
    Eks(&'a str),
    /// An RDS object, by ARN (AddTagsToResource, RemoveTagsFromResource).
    Rds(&'a str),
    /// An SSM parameter, by name (AddTagsToResource, RemoveTagsFromResource).
    SsmParameter(&'a str),
}

impl Tagged<'_> {
    /// Removes the tags with these keys.
    pub async fn untag(self, aws: &AwsContext, keys: Vec<String>) -> Result<(), ApiFailure> {
        match self {
            Tagged::Ec2(id) => {
                let tag = |key| aws_sdk_ec2::types::Tag::builder().key(key).build();
                let keys = keys.into_iter().map(tag).collect();
                let call = aws.ec2.delete_tags().resources(id);
                done(call.set_tags(Some(keys)).send()).await
            }
            Tagged::IamRole(name) => {
                let call = aws.iam.untag_role().role_name(name);
                done(call.set_tag_keys(Some(keys)).send()).await
            }
            Tagged::Eks(arn) => {
                let call = aws.eks.untag_resource().resource_arn(arn);
                done(call.set_tag_keys(Some(keys)).send()).await
            }
            Tagged::Rds(arn) => {
                let call = aws.rds.remove_tags_from_resource().resource_name(arn);
                done(call.set_tag_keys(Some(keys)).send()).await
            }
            Tagged::SsmParameter(name) => {
                let call = aws.ssm.remove_tags_from_resource().resource_id(name);
                let call = call.resource_type(ResourceTypeForTagging::Parameter);
                done(call.set_tag_keys(Some(keys)).send()).await
            }
        }
    }

    /// Sets these tags (adding them or changing their values).
    pub async fn tag(
        self,
        aws: &AwsContext,
        tags: &BTreeMap<String, String>,
    ) -> Result<(), ApiFailure> {
        match self {
            Tagged::Ec2(id) => {
                let call = aws.ec2.create_tags().resources(id);
                done(call.set_tags(Some(ec2_tags(tags))).send()).await
            }
            Tagged::IamRole(name) => {
                let call = aws.iam.tag_role().role_name(name);
                done(call.set_tags(Some(iam_tags(tags))).send()).await
            }
            Tagged::Eks(arn) => {
                let call = aws.eks.tag_resource().resource_arn(arn);
                let tags = tags.clone().into_iter().collect();
                done(call.set_tags(Some(tags)).send()).await
            }
            Tagged::Rds(arn) => {
                let call = aws.rds.add_tags_to_resource().resource_name(arn);
                done(call.set_tags(Some(rds_tags(tags))).send()).await
            }
            Tagged::SsmParameter(name) => {
                let call = aws.ssm.add_tags_to_resource().resource_id(name);
                let call = call.resource_type(ResourceTypeForTagging::Parameter);
                done(call.set_tags(Some(ssm_tags(tags))).send()).await
            }
        }
    }
}

/// Applies the plan's change of `tags_all` to `object`: the keys to remove first, then the tags
/// to set (each call only when there is something to do).
pub(crate) async fn update_tags(
    aws: &AwsContext,
    object: Tagged<'_>,
    operation: &Operation<'_>,
    summary: &str,
) -> Result<(), ProviderError> {
    let (set, remove) = planned_tag_changes(operation);
    if !remove.is_empty() {
        object.untag(aws, remove).await.or_fail(summary)?;
    }
    if !set.is_empty() {
        object.tag(aws, &set).await.or_fail(summary)?;
    }
    Ok(())
}

/// The user's tags among what a service answered as (key, value) pairs (EC2 and RDS tags have
/// optional keys and values).
pub(crate) fn user_tags_of<'a>(
    pairs: impl IntoIterator<Item = (Option<&'a str>, Option<&'a str>)>,
) -> BTreeMap<String, String> {
    user_tags(
        pairs.into_iter().filter_map(|(key, value)| {
            Some((key?.to_string(), value.unwrap_or_default().to_string()))
        }),
    )
}

pub(crate) fn ec2_tags(tags: &BTreeMap<String, String>) -> Vec<aws_sdk_ec2::types::Tag> {
    let tag = |(k, v)| aws_sdk_ec2::types::Tag::builder().key(k).value(v).build();
    tags.iter().map(tag).collect()
}

pub(crate) fn rds_tags(tags: &BTreeMap<String, String>) -> Vec<aws_sdk_rds::types::Tag> {
    let tag = |(k, v)| aws_sdk_rds::types::Tag::builder().key(k).value(v).build();
    tags.iter().map(tag).collect()
}

/// IAM and SSM tags need a key and a value: every entry of a map has both, so none is left out.
pub(crate) fn iam_tags(tags: &BTreeMap<String, String>) -> Vec<aws_sdk_iam::types::Tag> {
    let tag = |(k, v)| {
        aws_sdk_iam::types::Tag::builder()
            .key(k)
            .value(v)
            .build()
            .ok()
    };
    tags.iter().filter_map(tag).collect()
}

pub(crate) fn ssm_tags(tags: &BTreeMap<String, String>) -> Vec<aws_sdk_ssm::types::Tag> {
    let tag = |(k, v)| {
        aws_sdk_ssm::types::Tag::builder()
            .key(k)
            .value(v)
            .build()
            .ok()
    };
    tags.iter().filter_map(tag).collect()
}
