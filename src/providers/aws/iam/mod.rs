//! IAM: `aws_iam_role` ([`role`]), `aws_iam_role_policy_attachment`
//! ([`role_policy_attachment`]) and the local `aws_iam_policy_document` data source
//! ([`policy_document`]), as the Terraform AWS provider's `internal/service/iam/`.

mod policy_document;
mod role;
mod role_policy_attachment;

pub(crate) use policy_document::IamPolicyDocument;
pub(crate) use role::Role;
pub(crate) use role_policy_attachment::RolePolicyAttachment;
