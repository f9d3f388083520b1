//! Installation of what a configuration needs from elsewhere, as `terraform init` does it.
//!
//! - [`cliconfig`]: Terraform's CLI configuration (`TF_CLI_CONFIG_FILE`, `~/.terraformrc`,
//!   `~/.terraform.d/*.tfrc`): provider installation methods, the plugin cache, credentials,
//!   service discovery overrides.
//! - [`discovery`]: remote service discovery (`/.well-known/terraform.json`), with credentials.
//! - [`addr`]: provider source addresses and host names, normalised as Terraform does.
//! - [`http`]: the HTTPS client (rustls; the OS roots or `SSL_CERT_FILE`).
//! - [`requirements`]: what the configuration requires of providers, merged across modules.
//! - [`source`]: filesystem mirrors, network mirrors and registries, each with its protocol.
//! - [`hash`]: the `h1:` and `zh:` package hashes; [`lockfile`]: `.terraform.lock.hcl`.
//! - [`providers`]: the installer `init` runs (version selection, sources in Terraform's order,
//!   the lock), [`package`]: one package verified and put in place; [`lock_mirror`]: the
//!   `providers lock` and `providers mirror` commands; [`signature`]: the OpenPGP check of a
//!   registry's signed `SHA256SUMS`.
//! - [`modules`]: module installation into `.terraform/modules` (`init`, `get`) and the lookup
//!   loading uses; [`module_source`] parses module source addresses, [`manifest`] is
//!   `modules.json`, [`fetch`] fetches one module package ([`git`], [`archive`]), [`registry`]
//!   is the module registry protocol.
//!
//! Architecture invariant: nothing here prints or logs a credential; tokens live in
//! [`cliconfig::Secret`]s, which cannot be displayed.

pub mod addr;
pub mod archive;
pub mod cliconfig;
mod cliconfig_json;
pub mod credentials_helper;
pub mod discovery;
pub mod fetch;
pub mod git;
pub mod hash;
pub mod http;
pub mod lock_mirror;
pub mod lockfile;
pub mod manifest;
pub mod module_source;
pub mod modules;
pub mod package;
pub mod providers;
pub mod registry;
pub mod requirements;
pub mod signature;
pub mod source;

pub use cliconfig::{CliConfig, Secret};
pub use discovery::{Discovery, DiscoveryError, Services};
