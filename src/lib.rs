//! Strata: an infrastructure-as-code provisioner that reads the Terraform language.
//!
//! How one `strata plan` flows through the modules:
//!
//! 1. [`config`] reads the `.tf` files of the root module and every module it calls into a
//!    [`config::ModuleTree`]; expressions stay unevaluated. Variable values are gathered from
//!    files, flags and the environment ([`config::variables`]).
//! 2. [`state`] loads the workspace's state (Terraform's format, version 4) from its backend.
//! 3. [`graph`] expands the configuration into a dependency graph of resource instances,
//!    variables, locals, outputs and module calls, with edges from references.
//! 4. [`engine`] walks the graph: it evaluates each node with [`lang`] (expressions and
//!    functions over [`value::Value`]s, unknowns and sensitive marks included), refreshes and
//!    plans each resource instance through its [`providers::Provider`], and produces a
//!    [`plan::Plan`], a plain serializable value.
//! 5. [`ui`] renders the plan for a terminal (or as JSON / Markdown).
//!
//! `apply` walks the same graph again, now calling the providers to make each change, persisting
//! state after every operation.
//!
//! The binary (`src/main.rs`, [`cli`]) only parses flags into settings and calls these modules.
//! With `STRATA_TIMINGS=1`, [`timings`] records how long each of these steps took and the CLI
//! prints the breakdown to stderr.

pub mod addrs;
pub mod cli;
pub mod config;
pub mod diagnostics;
pub mod encryption;
pub mod engine;
pub mod fmt;
pub mod graph;
pub mod install;
pub mod lang;
pub mod plan;
pub mod providers;
pub mod provisioners;
pub mod state;
pub mod timings;
pub mod ui;
pub mod value;

/// The Terraform version Strata's files claim compatibility with (`terraform_version` in state
/// and plan JSON).
pub const TERRAFORM_VERSION_COMPAT: &str = "1.15.5";
