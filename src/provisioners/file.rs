//! `file`: copies a local file or directory (`source`), or a string (`content`), to
//! `destination` on the machine the connection reaches, as Terraform's file provisioner does
//! (`internal/builtin/provisioners/file`): a directory `source` ending in `/` copies its
//! contents, otherwise the directory itself; `~` in `source` is the home directory.

use super::ssh::{ConnectionInfo, Session};
use super::{string_arg, Output, ProvisionError};
use crate::value::Value;

/// What the provisioner copies.
enum Source {
    Content(Vec<u8>),
    Path(String),
}

fn failed(detail: impl Into<String>) -> ProvisionError {
    ProvisionError::new("file provisioner error", detail)
}

/// Copies the source to the destination.
pub async fn run(
    config: &Value,
    connection: &Value,
    _output: Output,
) -> Result<(), ProvisionError> {
    // `validate` made sure exactly one of them is set.
    let source = match string_arg(config, "content") {
        Some(content) => Source::Content(content.as_bytes().to_vec()),
        None => Source::Path(expand_home(
            string_arg(config, "source").unwrap_or_default(),
        )),
    };
    let destination = string_arg(config, "destination").unwrap_or_default();
    let info = ConnectionInfo::from_value(connection)?;
    // Terraform connects without printing anything for the file provisioner.
    let session = Session::connect(&info).await?;
    let result = copy(&session, source, destination).await;
    session.close().await;
    result
}

async fn copy(session: &Session, source: Source, destination: &str) -> Result<(), ProvisionError> {
    match source {
        Source::Content(bytes) => session.upload(destination, &bytes).await,
        Source::Path(path) => {
            let metadata =
                std::fs::metadata(&path).map_err(|e| failed(format!("stat {path}: {e}")))?;
            if metadata.is_dir() {
                session.upload_dir(destination, &path).await
            } else {
                let bytes =
                    std::fs::read(&path).map_err(|e| failed(format!("open {path}: {e}")))?;
                session.upload(destination, &bytes).await
            }
        }
    }
}

/// `~/x` → `$HOME/x` (Terraform expands the source with `homedir.Expand`).
fn expand_home(path: &str) -> String {
    match (path.strip_prefix("~/"), std::env::var("HOME")) {
        (Some(rest), Ok(home)) => format!("{}/{rest}", home.trim_end_matches('/')),
        _ if path == "~" => std::env::var("HOME").unwrap_or_else(|_| path.to_string()),
        _ => path.to_string(),
    }
}
