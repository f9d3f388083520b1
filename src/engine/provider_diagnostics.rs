//! What the engine makes of a provider's answers beyond values: its errors and warnings as
//! diagnostics pointing at the configuration line of the attribute they are about, and its
//! private data in the form state files keep it (base64).

use crate::addrs::ResourceInstance;
use crate::config::ResourceConfig;
use crate::diagnostics::{Diagnostic, Diagnostics, Span};
use crate::providers::ProviderError;
use crate::value::{AttrPath, PathStep};
use base64::Engine as _;

/// Every error (and warning) a provider reported about one instance, each pointing at the
/// attribute it names when the configuration sets it, else at the resource block.
pub(super) fn located(
    address: &ResourceInstance,
    error: &ProviderError,
    config: Option<&ResourceConfig>,
) -> Diagnostics {
    let mut diagnostics = Diagnostics::new();
    for one in error.all() {
        diagnostics.push(diagnostic(address, &one, config));
    }
    diagnostics
}

/// A list of errors and warnings (what validation returns) as diagnostics.
pub(super) fn located_list(
    address: &ResourceInstance,
    list: &[ProviderError],
    config: Option<&ResourceConfig>,
) -> Diagnostics {
    let mut diagnostics = Diagnostics::new();
    for one in list {
        diagnostics.extend(located(address, one, config));
    }
    diagnostics
}

fn diagnostic(
    address: &ResourceInstance,
    error: &ProviderError,
    config: Option<&ResourceConfig>,
) -> Diagnostic {
    let summary = format!("{address}: {}", error.summary);
    let diagnostic = if error.warning {
        Diagnostic::warning(summary)
    } else {
        Diagnostic::error(summary)
    };
    let span = config.and_then(|config| {
        error
            .attribute
            .as_ref()
            .and_then(|path| attribute_span(config, path))
            .or_else(|| Some(config.span.clone()))
    });
    diagnostic
        .with_detail(error.detail.clone())
        .with_span_opt(span)
}

/// Where in the resource block an attribute (or nested block) is set, for errors about it.
pub(super) fn attribute_span(config: &ResourceConfig, path: &AttrPath) -> Option<Span> {
    use hcl_edit::Span as _;
    let PathStep::Attr(name) = path.0.first()? else {
        return None;
    };
    let body = &config.body.body;
    let range = match body.get_attribute(name) {
        Some(attribute) => attribute.span(),
        None => body.get_blocks(name).next().and_then(|block| block.span()),
    }?;
    Some(config.body.file.span(range))
}

/// Private data as a state file writes it (`None` when there is none).
pub(super) fn encode_private(private: &[u8]) -> Option<String> {
    (!private.is_empty()).then(|| base64::engine::general_purpose::STANDARD.encode(private))
}

/// Private data from a state file (empty when there is none or it does not decode: a
/// provider treats missing private data as none).
pub(super) fn decode_private(private: Option<&str>) -> Vec<u8> {
    private
        .and_then(|text| base64::engine::general_purpose::STANDARD.decode(text).ok())
        .unwrap_or_default()
}
