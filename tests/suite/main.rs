//! The integration test suite: one binary, so the crate and its dependencies link once.
//! Each area has its own module (and its data under `tests/fixtures/<area>/`).
// Tests and the test plugin print their own output (the handshake line, progress).
#![allow(clippy::print_stdout, clippy::print_stderr)]

#[cfg(feature = "aws")]
mod adopt;
mod apply_progress;
#[cfg(feature = "aws")]
mod aws;
#[cfg(feature = "aws")]
mod aws_ec2;
#[cfg(feature = "aws")]
mod aws_eks;
#[cfg(feature = "aws")]
mod aws_schema;
#[cfg(feature = "aws")]
mod aws_ssm;
mod bad_input;
#[cfg(feature = "aws")]
mod chaos;
#[cfg(feature = "aws")]
mod checkov;
mod cli;
mod common;
mod config;
mod config_peer;
mod console_terraform;
mod crash;
mod drift;
mod encryption;
mod environments;
#[cfg(feature = "aws")]
mod environments_e2e;
#[path = "../support/fault_proxy.rs"]
mod fault_proxy;
mod faults;
mod fmt;
mod functions;
#[cfg(feature = "aws")]
mod gitops;
mod install;
mod interop;
mod lang;
mod lang_specsuite;
mod modules_install;
mod perf;
mod plugin_aws;
mod plugin_identity;
mod plugin_nesting;
mod plugin_noop_apply;
mod plugin_provider;
mod plugin_wire;
mod provisioners;
mod secrets;
mod show_plan_json;
mod state;
mod state_conformance;
mod suggestions;
mod targeting;
mod tidy;
