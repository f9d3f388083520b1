//! `remote-exec`: runs commands on the machine the connection reaches, as Terraform's
//! remote-exec provisioner does (`internal/builtin/provisioners/remote-exec`): `inline` lines
//! become one script, `script`/`scripts` are local files; each script is copied to the
//! connection's `script_path` (a `#!/bin/sh` line added when it has none), made executable,
//! run with its output streamed, and then overwritten with an empty file.

use super::ssh::{shell_quote, ConnectionInfo, Session};
use super::{string_arg, strings_arg, Output, ProvisionError};
use crate::value::Value;

fn failed(detail: impl Into<String>) -> ProvisionError {
    ProvisionError::new("remote-exec provisioner error", detail)
}

/// Runs every script in order; the first that fails stops the rest.
pub async fn run(config: &Value, connection: &Value, output: Output) -> Result<(), ProvisionError> {
    let scripts = collect_scripts(config)?;
    let info = ConnectionInfo::from_value(connection)?;
    output(&info.connecting_message());
    let session = Session::connect(&info).await?;
    output("Connected!");
    let mut result = Ok(());
    for script in scripts {
        result = run_script(&session, &info, &script, &output).await;
        if result.is_err() {
            break;
        }
    }
    session.close().await;
    result
}

/// The scripts to run: `inline` joined into one, or the contents of `script` / `scripts`.
fn collect_scripts(config: &Value) -> Result<Vec<Vec<u8>>, ProvisionError> {
    let inline = strings_arg(config, "inline");
    if config.get_attr("inline").is_some_and(|v| !v.is_null()) {
        if inline.iter().any(String::is_empty) {
            return Err(failed("invalid empty string in 'inline'"));
        }
        let mut text = inline.join("\n");
        text.push('\n');
        return Ok(vec![text.into_bytes()]);
    }
    let mut paths: Vec<String> = string_arg(config, "script")
        .map(str::to_string)
        .into_iter()
        .collect();
    paths.extend(strings_arg(config, "scripts"));
    paths
        .iter()
        .map(|path| {
            if path.is_empty() {
                return Err(failed("invalid empty string in 'script'"));
            }
            std::fs::read(path).map_err(|e| failed(format!("Failed to open script '{path}': {e}")))
        })
        .collect()
}

async fn run_script(
    session: &Session,
    info: &ConnectionInfo,
    script: &[u8],
    output: &Output,
) -> Result<(), ProvisionError> {
    let path = info.script_path();
    let mut content = Vec::with_capacity(script.len() + 10);
    if !script.starts_with(b"#!") {
        content.extend_from_slice(b"#!/bin/sh\n");
    }
    content.extend_from_slice(script);
    session
        .upload(&path, &content)
        .await
        .map_err(|e| failed(format!("Failed to upload script: {}", e.detail)))?;
    let quiet: Output = std::sync::Arc::new(|_: &str| {});
    let chmod = session
        .run(&format!("chmod 0777 {}", shell_quote(&path)), &quiet)
        .await?;
    if chmod != 0 {
        return Err(failed(format!(
            "Error chmodding script file to 0777 in remote machine: exit status {chmod}"
        )));
    }
    let status = session.run(&shell_quote(&path), output).await?;
    if status != 0 {
        return Err(failed(format!(
            "error executing \"{path}\": Process exited with status {status}"
        )));
    }
    // Best effort, as Terraform: no script contents left behind.
    let _ = session.upload(&path, b"").await;
    Ok(())
}
