//! `local-exec`: runs `command` on this machine through an interpreter (`/bin/sh -c` unless
//! `interpreter` says otherwise), with `environment` added to Strata's own and in `working_dir`,
//! and streams what it prints, line by line, as Terraform's provisioner does
//! (`internal/builtin/provisioners/local-exec`): standard output and standard error share one
//! pipe, so their lines keep the order the command wrote them in, and the last 8 KiB of output
//! go into the error when the command fails.

use super::{string_arg, strings_arg, Output, ProvisionError};
use crate::value::Value;
use std::process::Stdio;
use tokio::io::AsyncBufReadExt;

/// How much of the output a failure's message keeps (the end of it), as Terraform.
const KEPT_OUTPUT: usize = 8 * 1024;

/// Runs the command; an error when it cannot start or exits unsuccessfully.
pub async fn run(config: &Value, output: Output) -> Result<(), ProvisionError> {
    let command = string_arg(config, "command").unwrap_or_default();
    if command.is_empty() {
        return Err(ProvisionError::new(
            "Invalid local-exec provisioner command",
            "The command must be a non-empty string.",
        ));
    }
    let mut arguments = strings_arg(config, "interpreter");
    if arguments.is_empty() {
        arguments = vec!["/bin/sh".into(), "-c".into()];
    }
    arguments.push(command.to_string());
    if config.get_attr("quiet").and_then(Value::as_bool) == Some(true) {
        output("local-exec: Executing: Suppressed by quiet=true");
    } else {
        output(&format!("Executing: {}", go_quote_list(&arguments)));
    }
    let failed = |error: String, kept: &[u8]| {
        ProvisionError::new(
            "local-exec provisioner error",
            format!(
                "Error running command '{command}': {error}. Output: {}",
                String::from_utf8_lossy(kept)
            ),
        )
    };
    let (status, kept) = execute(config, &arguments, &output)
        .await
        .map_err(|error| failed(error, &[]))?;
    if status.success() {
        return Ok(());
    }
    let reason = match (
        status.code(),
        std::os::unix::process::ExitStatusExt::signal(&status),
    ) {
        (Some(code), _) => format!("exit status {code}"),
        (None, Some(signal)) => format!("signal: {}", signal_name(signal)),
        (None, None) => status.to_string(),
    };
    Err(failed(reason, &kept))
}

/// Starts the process with both output streams on one pipe, sends each line to `output`, and
/// returns its exit status with the end of what it printed.
async fn execute(
    config: &Value,
    arguments: &[String],
    output: &Output,
) -> Result<(std::process::ExitStatus, Vec<u8>), String> {
    let (writer, reader) = tokio::net::unix::pipe::pipe().map_err(|e| e.to_string())?;
    let writer = writer.into_blocking_fd().map_err(|e| e.to_string())?;
    let writer_too = writer.try_clone().map_err(|e| e.to_string())?;
    let mut command = tokio::process::Command::new(&arguments[0]);
    command
        .args(&arguments[1..])
        .stdin(Stdio::null())
        .stdout(Stdio::from(writer))
        .stderr(Stdio::from(writer_too))
        .kill_on_drop(true);
    if let Some(Value::Map(environment) | Value::Object(environment)) =
        config.get_attr("environment").map(Value::unmarked)
    {
        for (name, value) in environment {
            if let Some(value) = value.as_str() {
                command.env(name, value);
            }
        }
    }
    if let Some(dir) = string_arg(config, "working_dir").filter(|d| !d.is_empty()) {
        command.current_dir(dir);
    }
    let spawned = command.spawn();
    // The command keeps its copies of the pipe's write end until it is dropped: without this
    // the reader below would never see the end of the output.
    drop(command);
    let mut child = spawned.map_err(|e| spawn_error(&arguments[0], &e))?;
    let mut lines = tokio::io::BufReader::new(reader);
    let mut kept: Vec<u8> = Vec::new();
    let mut line = Vec::new();
    loop {
        line.clear();
        match lines.read_until(b'\n', &mut line).await {
            Ok(0) | Err(_) => break,
            Ok(_) => {
                kept.extend_from_slice(&line);
                if kept.len() > KEPT_OUTPUT {
                    kept.drain(..kept.len() - KEPT_OUTPUT);
                }
                let text = String::from_utf8_lossy(&line);
                output(text.trim_end_matches('\n').trim_end_matches('\r'));
            }
        }
    }
    let status = child.wait().await.map_err(|e| e.to_string())?;
    Ok((status, kept))
}

/// A start failure worded as Go's `os/exec` words it.
fn spawn_error(program: &str, error: &std::io::Error) -> String {
    match error.kind() {
        std::io::ErrorKind::NotFound if !program.contains('/') => {
            format!("exec: \"{program}\": executable file not found in $PATH")
        }
        _ => format!("fork/exec {program}: {error}"),
    }
}

fn signal_name(signal: i32) -> String {
    match signal {
        libc::SIGKILL => "killed".into(),
        libc::SIGTERM => "terminated".into(),
        libc::SIGINT => "interrupt".into(),
        libc::SIGHUP => "hangup".into(),
        libc::SIGSEGV => "segmentation fault".into(),
        libc::SIGABRT => "aborted".into(),
        libc::SIGPIPE => "broken pipe".into(),
        other => format!("signal {other}"),
    }
}

/// A list of strings as Go's `%q` prints a `[]string`: `["/bin/sh" "-c" "echo hi"]`.
pub fn go_quote_list(items: &[String]) -> String {
    let quoted: Vec<String> = items.iter().map(|item| go_quote(item)).collect();
    format!("[{}]", quoted.join(" "))
}

/// A string as Go's `strconv.Quote` writes it.
pub fn go_quote(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\u{7}' => out.push_str("\\a"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{b}' => out.push_str("\\v"),
            c if (c as u32) < 0x20 || c == '\u{7f}' => {
                out.push_str(&format!("\\x{:02x}", c as u32));
            }
            c if c.is_control() => {
                if (c as u32) < 0x10000 {
                    out.push_str(&format!("\\u{:04x}", c as u32));
                } else {
                    out.push_str(&format!("\\U{:08x}", c as u32));
                }
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::{Arc, Mutex};

    fn collect() -> (Output, Arc<Mutex<Vec<String>>>) {
        let lines = Arc::new(Mutex::new(Vec::new()));
        let sink = lines.clone();
        (
            Arc::new(move |line: &str| sink.lock().unwrap().push(line.to_string())),
            lines,
        )
    }

    fn config(pairs: &[(&str, Value)]) -> Value {
        Value::object(pairs.iter().map(|(k, v)| (k.to_string(), v.clone())))
    }

    #[test]
    fn quotes_as_go_does() {
        let args = vec![
            "/bin/sh".to_string(),
            "-c".into(),
            "echo \"hi\"\n\tx".into(),
        ];
        assert_eq!(
            go_quote_list(&args),
            r#"["/bin/sh" "-c" "echo \"hi\"\n\tx"]"#
        );
        assert_eq!(go_quote("é\u{1}"), "\"é\\x01\"");
    }

    #[tokio::test]
    async fn streams_both_streams_in_order_and_reports_failures_with_output() {
        let (output, lines) = collect();
        let command = "echo one; echo two >&2; printf three; exit 3";
        let error = run(&config(&[("command", Value::from(command))]), output)
            .await
            .unwrap_err();
        assert_eq!(
            *lines.lock().unwrap(),
            vec![
                format!("Executing: [\"/bin/sh\" \"-c\" \"{command}\"]"),
                "one".to_string(),
                "two".to_string(),
                "three".to_string(),
            ]
        );
        assert_eq!(error.summary, "local-exec provisioner error");
        assert_eq!(
            error.detail,
            format!("Error running command '{command}': exit status 3. Output: one\ntwo\nthree")
        );
    }

    #[tokio::test]
    async fn interpreter_environment_working_dir_and_quiet() {
        let dir = tempfile::tempdir().unwrap();
        let (output, lines) = collect();
        let environment = Value::Map(
            [("GREETING".to_string(), Value::from("hello"))]
                .into_iter()
                .collect(),
        );
        let result = run(
            &config(&[
                (
                    "command",
                    Value::from(
                        "print(__import__('os').environ['GREETING'], __import__('os').getcwd())",
                    ),
                ),
                (
                    "interpreter",
                    Value::List(vec![Value::from("python3"), Value::from("-c")]),
                ),
                ("environment", environment),
                ("working_dir", Value::from(dir.path().to_str().unwrap())),
                ("quiet", Value::Bool(true)),
            ]),
            output,
        )
        .await;
        assert_eq!(result, Ok(()));
        let dir = dir.path().canonicalize().unwrap();
        assert_eq!(
            *lines.lock().unwrap(),
            vec![
                "local-exec: Executing: Suppressed by quiet=true".to_string(),
                format!("hello {}", dir.display()),
            ]
        );
    }

    #[tokio::test]
    async fn a_missing_interpreter_is_an_error_worded_as_terraforms() {
        let (output, _) = collect();
        let error = run(
            &config(&[
                ("command", Value::from("x")),
                (
                    "interpreter",
                    Value::List(vec![Value::from("no-such-shell-here")]),
                ),
            ]),
            output,
        )
        .await
        .unwrap_err();
        assert_eq!(
            error.detail,
            "Error running command 'x': exec: \"no-such-shell-here\": executable file not found in $PATH. Output: "
        );
    }
}
