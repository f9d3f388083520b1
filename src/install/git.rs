//! Fetching a module package from a git repository with the system `git` command, as Terraform's
//! installer does: `?ref=` selects a tag, branch or commit, `?depth=` makes a shallow clone of a
//! named ref, `?sshkey=` (base64 private key) is handed to ssh, and `GIT_SSH_COMMAND` from the
//! environment is kept. Submodules are fetched too.

use std::io::Write;
use std::path::Path;
use std::process::Command;

/// Why a git fetch failed; the message carries git's own words.
#[derive(Debug, thiserror::Error)]
pub enum GitError {
    #[error(
        "the `git` command is not available: {0}; install git and make sure it is on the PATH"
    )]
    Missing(std::io::Error),
    #[error("invalid port number \"{0}\"; if using the scp-like address form `git@host:path`, remove the ssh:// prefix")]
    InvalidPort(String),
    #[error("invalid sshkey parameter: {0}")]
    SshKey(String),
    #[error("`git {command}` failed: {output}")]
    Failed { command: String, output: String },
    #[error("ref \"{reference}\" was not found in {url}: {output}; check that a tag, branch or commit of that name exists")]
    UnknownRef {
        reference: String,
        url: String,
        output: String,
    },
}

/// What a git package address asks for.
struct GitRequest {
    /// The repository URL without the parameters Strata consumes.
    url: String,
    reference: Option<String>,
    depth: Option<u32>,
    ssh_key: Option<Vec<u8>>,
}

fn parse_request(address: &str) -> Result<GitRequest, GitError> {
    let (base, query) = match address.split_once('?') {
        Some((base, query)) => (base, query),
        None => (address, ""),
    };
    let mut reference = None;
    let mut depth = None;
    let mut ssh_key = None;
    let mut rest = Vec::new();
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
        let value = percent_decode(value);
        match key {
            "ref" => reference = Some(value).filter(|v| !v.is_empty()),
            "depth" => depth = value.parse().ok().filter(|d| *d > 0),
            "sshkey" => {
                use base64::Engine as _;
                let key = base64::engine::general_purpose::STANDARD
                    .decode(value.as_bytes())
                    .map_err(|error| GitError::SshKey(error.to_string()))?;
                ssh_key = Some(key);
            }
            _ => rest.push(pair),
        }
    }
    if let Some(port) = port_of(base) {
        if port.parse::<u16>().is_err() {
            return Err(GitError::InvalidPort(port));
        }
    }
    rest.sort_by_key(|pair| pair.split('=').next().unwrap_or("").to_string());
    let url = if rest.is_empty() {
        base.to_string()
    } else {
        format!("{base}?{}", rest.join("&"))
    };
    Ok(GitRequest {
        url,
        reference,
        depth,
        ssh_key,
    })
}

/// The port of `scheme://[user@]host:port/path`, when one is written.
fn port_of(url: &str) -> Option<String> {
    let rest = url.split_once("://")?.1;
    let authority = rest.split('/').next()?;
    let host = authority
        .rsplit_once('@')
        .map_or(authority, |(_, host)| host);
    if host.starts_with('[') {
        return host.rsplit_once("]:").map(|(_, port)| port.to_string());
    }
    host.split_once(':').map(|(_, port)| port.to_string())
}

fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut index = 0;
    while index < bytes.len() {
        match bytes[index] {
            b'%' if index + 2 < bytes.len() => {
                match u8::from_str_radix(&text[index + 1..index + 3], 16) {
                    Ok(byte) => {
                        out.push(byte);
                        index += 3;
                        continue;
                    }
                    Err(_) => out.push(b'%'),
                }
            }
            b'+' => out.push(b' '),
            other => out.push(other),
        }
        index += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Clones the repository `address` (without the `git::` prefix) into `destination`, which must
/// not exist, and checks out the requested ref.
pub fn fetch(address: &str, destination: &Path) -> Result<(), GitError> {
    let request = parse_request(address)?;
    let key_file = match &request.ssh_key {
        Some(key) => Some(write_key(key)?),
        None => None,
    };
    let key_path = key_file.as_ref().map(|file| file.path());
    let auto_branch = request.reference.is_none();
    let reference = match &request.reference {
        Some(reference) => reference.clone(),
        None => remote_default_branch(&request.url, key_path),
    };
    let mut args: Vec<String> = vec!["clone".into()];
    if let Some(depth) = request.depth {
        args.extend(["--depth".into(), depth.to_string()]);
        args.extend(["--branch".into(), reference.clone()]);
    }
    args.push(request.url.clone());
    args.push(destination.display().to_string());
    if let Err(error) = run(&args, None, key_path) {
        return Err(match error {
            GitError::Failed { output, .. } if request.depth.is_some() && !auto_branch => {
                let mut output = output;
                if looks_like_commit(&reference) {
                    output.push_str(
                        " (note that setting 'depth' requires 'ref' to be a branch or tag name)",
                    );
                }
                GitError::UnknownRef {
                    reference,
                    url: request.url,
                    output,
                }
            }
            other => other,
        });
    }
    if request.depth.is_none() && !auto_branch {
        let checkout = vec!["checkout".to_string(), reference.clone()];
        if let Err(error) = run(&checkout, Some(destination), key_path) {
            return Err(match error {
                GitError::Failed { output, .. } => GitError::UnknownRef {
                    reference,
                    url: request.url,
                    output,
                },
                other => other,
            });
        }
    }
    let mut submodules: Vec<String> = ["submodule", "update", "--init", "--recursive"]
        .map(String::from)
        .to_vec();
    if let Some(depth) = request.depth {
        submodules.extend(["--depth".into(), depth.to_string()]);
    }
    run(&submodules, Some(destination), key_path)
}

/// At least 7 hexadecimal digits: likely a commit id rather than a ref name.
fn looks_like_commit(reference: &str) -> bool {
    (7..=40).contains(&reference.len()) && reference.chars().all(|c| c.is_ascii_hexdigit())
}

/// The branch the remote's HEAD points at (`master` when it cannot be told, as in Terraform).
fn remote_default_branch(url: &str, key_path: Option<&Path>) -> String {
    let args = ["ls-remote", "--symref", url, "HEAD"].map(String::from);
    let mut command = git_command(&args, None, key_path);
    let output = command.output().ok().filter(|o| o.status.success());
    output
        .and_then(|output| {
            let text = String::from_utf8_lossy(&output.stdout).into_owned();
            text.lines().find_map(|line| {
                let rest = line.strip_prefix("ref: refs/heads/")?;
                rest.split_whitespace().next().map(str::to_string)
            })
        })
        .unwrap_or_else(|| "master".to_string())
}

fn write_key(key: &[u8]) -> Result<tempfile::NamedTempFile, GitError> {
    let mut file = tempfile::NamedTempFile::new().map_err(|e| GitError::SshKey(e.to_string()))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(file.path(), std::fs::Permissions::from_mode(0o600))
            .map_err(|e| GitError::SshKey(e.to_string()))?;
    }
    file.write_all(key)
        .map_err(|e| GitError::SshKey(e.to_string()))?;
    Ok(file)
}

fn git_command(args: &[String], dir: Option<&Path>, key_path: Option<&Path>) -> Command {
    let mut command = Command::new("git");
    command.args(args);
    if let Some(dir) = dir {
        command.current_dir(dir);
    }
    // Never wait for a password prompt: a CLI run in a pipeline would hang.
    command.env("GIT_TERMINAL_PROMPT", "0");
    if let Some(key_path) = key_path {
        let ssh = std::env::var("GIT_SSH_COMMAND")
            .ok()
            .filter(|v| !v.is_empty())
            .unwrap_or_else(|| "ssh".to_string());
        command.env(
            "GIT_SSH_COMMAND",
            format!("{ssh} -i {}", key_path.display()),
        );
    }
    command
}

fn run(args: &[String], dir: Option<&Path>, key_path: Option<&Path>) -> Result<(), GitError> {
    let output = git_command(args, dir, key_path)
        .output()
        .map_err(GitError::Missing)?;
    if output.status.success() {
        return Ok(());
    }
    let mut text = String::from_utf8_lossy(&output.stderr).trim().to_string();
    let stdout = String::from_utf8_lossy(&output.stdout);
    if !stdout.trim().is_empty() {
        text.push('\n');
        text.push_str(stdout.trim());
    }
    Err(GitError::Failed {
        command: redact_command(args),
        output: text,
    })
}

/// The command as shown in errors: the clone URL may carry a password (`https://user:pw@…`).
fn redact_command(args: &[String]) -> String {
    args.iter()
        .map(|arg| match arg.split_once("://") {
            Some((scheme, rest))
                if rest
                    .split('/')
                    .next()
                    .is_some_and(|a| a.contains(':') && a.contains('@')) =>
            {
                let (_, host) = rest.split_once('@').unwrap_or(("", rest));
                format!("{scheme}://***@{host}")
            }
            _ => arg.clone(),
        })
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_parameters_it_consumes() {
        let request = parse_request("file:///r?ref=v1.2&depth=1&x=y").unwrap();
        assert_eq!(request.url, "file:///r?x=y");
        assert_eq!(request.reference.as_deref(), Some("v1.2"));
        assert_eq!(request.depth, Some(1));
        assert!(matches!(
            parse_request("ssh://git@host:org/repo.git"),
            Err(GitError::InvalidPort(_))
        ));
        assert_eq!(
            parse_request("ssh://git@127.0.0.1:2222/srv/r.git")
                .unwrap()
                .url,
            "ssh://git@127.0.0.1:2222/srv/r.git"
        );
    }

    #[test]
    fn hides_passwords() {
        assert_eq!(
            redact_command(&["clone".into(), "https://u:secret@e.com/r".into()]),
            "clone https://***@e.com/r"
        );
    }
}
