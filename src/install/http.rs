//! The one HTTP client of provider and module installation: reqwest over rustls, trusting the
//! operating system's certificate authorities, or the file `SSL_CERT_FILE` names instead, as Go
//! (and so Terraform) does on Linux; the tests trust their own self-signed certificate that way.
//! Bodies are read with a size limit, so a misbehaving server cannot exhaust memory.

use std::time::Duration;

/// Strata's `User-Agent`, in the form Terraform sends its own.
pub fn user_agent() -> String {
    format!(
        "Strata/{} (terraform-compatible {})",
        env!("CARGO_PKG_VERSION"),
        crate::TERRAFORM_VERSION_COMPAT
    )
}

/// A client for one command: connection reuse across requests, redirects followed (at most 10),
/// a connect timeout (downloads of large archives may take long, so there is no overall one).
pub fn client() -> Result<reqwest::Client, String> {
    reqwest::Client::builder()
        .use_rustls_tls()
        .user_agent(user_agent())
        .connect_timeout(Duration::from_secs(30))
        .redirect(reqwest::redirect::Policy::limited(10))
        .build()
        .map_err(|error| format!("cannot set up the HTTPS client: {}", describe(&error)))
}

pub use crate::diagnostics::error_chain as describe;

/// Reads a response body of at most `limit` bytes.
pub async fn read_limited(
    mut response: reqwest::Response,
    limit: usize,
) -> Result<Vec<u8>, String> {
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(|error| describe(&error))? {
        if body.len() + chunk.len() > limit {
            return Err(format!("the response is larger than {limit} bytes"));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}
