//! The integration test suite: one binary, so the crate and its dependencies link once.
//! Each area has its own module (and its data under `tests/fixtures/<area>/`).

#[cfg(feature = "aws")]
mod aws;
#[cfg(feature = "aws")]
mod aws_ec2;
#[cfg(feature = "aws")]
mod aws_eks;
#[cfg(feature = "aws")]
mod aws_schema;
mod cli;
mod common;
mod config;
mod crash;
mod environments;
#[cfg(feature = "aws")]
mod environments_e2e;
mod fmt;
mod functions;
mod lang;
mod lang_specsuite;
mod provisioners;
mod state;
