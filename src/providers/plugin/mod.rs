//! The provider plugin wire layer: launching a Terraform provider plugin as Terraform does
//! (HashiCorp go-plugin's handshake, AutoMTLS, gRPC over a Unix socket) and calling it with
//! Terraform's plugin protocol, version 5 or 6.
//!
//! - [`proto`]: our own prost definitions of `tfplugin5`/`tfplugin6` (and go-plugin's two
//!   internal services), one message set for both versions where they agree.
//! - [`launch`]: the process, its handshake, its logs, the connection.
//! - [`tls`]: AutoMTLS certificates and the pinned-certificate trust both sides use.
//! - [`client`]: [`PluginClient`], typed calls with errors that name the provider.
//! - [`schema`], [`provider`]: the plugin as a [`super::Provider`] (`PluginProvider`): its
//!   schema in Strata's form, values in cty's msgpack encoding, Terraform's proposed new object
//!   (`objchange`) for plans.
//!
//! Architecture invariant: the wire layer (`launch`, `client`, `proto`, `tls`) knows bytes, not
//! values: [`proto::DynamicValue`] stays msgpack/JSON bytes and schema types stay JSON bytes.
//! Values, schemas and Terraform's planning rules live in `provider`, `schema` and `objchange`,
//! the plugin provider that implements [`super::Provider`].

pub mod client;
mod consistency;
pub mod launch;
mod objchange;
pub mod proto;
pub mod provider;
pub mod schema;
pub mod tls;

pub use client::{PluginClient, PluginError};
pub use launch::LaunchSpec;
pub use proto::{Diagnostic, DynamicValue};
