//! Filesystem functions: abspath, basename, dirname, file, fileexists, filebase64.
//!
//! Paths are handled lexically the way Go's `path/filepath` does on Unix (`Clean`, `Base`,
//! `Dir`), so results match Terraform's byte for byte. `file` and `fileexists` resolve a
//! relative path against the calling module's directory and expand a leading `~`; `abspath`
//! resolves against the working directory, as Terraform's does.

use super::{
    arg_error, failed, returns, string_value, FunctionContext, FunctionError, FunctionSpec, Param,
};
use crate::value::{Type, Value};
use std::path::{Path, PathBuf};

pub(super) fn functions() -> Vec<FunctionSpec> {
    let path = || Param::new("path", Type::String);
    vec![
        FunctionSpec::new("abspath", vec![path()], returns::string, abspath),
        FunctionSpec::new("basename", vec![path()], returns::string, basename),
        FunctionSpec::new("dirname", vec![path()], returns::string, dirname),
        FunctionSpec::new("file", vec![path()], returns::string, file),
        FunctionSpec::new("fileexists", vec![path()], returns::bool, fileexists),
        FunctionSpec::new("filebase64", vec![path()], returns::string, filebase64),
    ]
}

/// Go's `filepath.Clean` for `/`-separated paths.
pub(crate) fn clean(path: &str) -> String {
    if path.is_empty() {
        return ".".to_string();
    }
    let rooted = path.starts_with('/');
    let mut parts: Vec<&str> = Vec::new();
    for part in path.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                if parts.last().is_some_and(|last| *last != "..") {
                    parts.pop();
                } else if !rooted {
                    parts.push("..");
                }
            }
            other => parts.push(other),
        }
    }
    let joined = parts.join("/");
    match (rooted, joined.is_empty()) {
        (true, _) => format!("/{joined}"),
        (false, true) => ".".to_string(),
        (false, false) => joined,
    }
}

fn abspath(args: Vec<Value>, _: &FunctionContext) -> Result<Value, FunctionError> {
    let path = string_value(&args[0]);
    if path.starts_with('/') {
        return Ok(Value::from(clean(path)));
    }
    let cwd = std::env::current_dir().map_err(|error| failed(error.to_string()))?;
    let joined = format!("{}/{path}", cwd.to_string_lossy());
    Ok(Value::from(clean(&joined)))
}

fn basename(args: Vec<Value>, _: &FunctionContext) -> Result<Value, FunctionError> {
    let path = string_value(&args[0]);
    if path.is_empty() {
        return Ok(Value::from("."));
    }
    let trimmed = path.trim_end_matches('/');
    if trimmed.is_empty() {
        return Ok(Value::from("/"));
    }
    Ok(Value::from(trimmed.rsplit('/').next().unwrap_or(trimmed)))
}

fn dirname(args: Vec<Value>, _: &FunctionContext) -> Result<Value, FunctionError> {
    let path = string_value(&args[0]);
    let directory = match path.rfind('/') {
        Some(position) => &path[..=position],
        None => "",
    };
    Ok(Value::from(clean(directory)))
}

/// Expands `~` and makes a relative path relative to the module directory.
fn resolve(path: &str, ctx: &FunctionContext) -> PathBuf {
    let expanded = if path == "~" || path.starts_with("~/") {
        match std::env::var_os("HOME") {
            Some(home) => format!("{}{}", home.to_string_lossy(), &path[1..]),
            None => path.to_string(),
        }
    } else {
        path.to_string()
    };
    if expanded.starts_with('/') {
        PathBuf::from(clean(&expanded))
    } else {
        let base = ctx.module_dir.to_string_lossy();
        PathBuf::from(clean(&format!("{base}/{expanded}")))
    }
}

/// Reads a file as `file` and its relatives do, with Terraform's errors.
pub(super) fn read_file(path: &str, ctx: &FunctionContext) -> Result<Vec<u8>, FunctionError> {
    let resolved = resolve(path, ctx);
    match std::fs::read(&resolved) {
        Ok(bytes) => Ok(bytes),
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => Err(arg_error(
            0,
            format!(
                "no file exists at {path:?}; this function works only with files that are distributed as part of the configuration source code, so if this file will be created by a resource in this configuration you must instead obtain this result from an attribute of that resource"
            ),
        )),
        Err(error) => Err(arg_error(
            0,
            format!(
                "failed to read file: read {}: {}",
                resolved.display(),
                io_reason(&error, &resolved)
            ),
        )),
    }
}

fn file(args: Vec<Value>, ctx: &FunctionContext) -> Result<Value, FunctionError> {
    let path = string_value(&args[0]);
    let bytes = read_file(path, ctx)?;
    let text = String::from_utf8(bytes).map_err(|_| {
        failed(format!(
            "contents of {path:?} are not valid UTF-8; use the filebase64 function to obtain the Base64 encoded contents or the other file functions (e.g. filemd5, filesha256) to obtain file hashing results instead"
        ))
    })?;
    Ok(Value::from(text))
}

fn filebase64(args: Vec<Value>, ctx: &FunctionContext) -> Result<Value, FunctionError> {
    use base64::Engine;
    let bytes = read_file(string_value(&args[0]), ctx)?;
    Ok(Value::from(
        base64::engine::general_purpose::STANDARD.encode(bytes),
    ))
}

fn io_reason(error: &std::io::Error, path: &Path) -> String {
    if path.is_dir() {
        "is a directory".to_string()
    } else {
        error.to_string()
    }
}

fn fileexists(args: Vec<Value>, ctx: &FunctionContext) -> Result<Value, FunctionError> {
    let path = string_value(&args[0]);
    let resolved = resolve(path, ctx);
    let metadata = match std::fs::metadata(&resolved) {
        Ok(metadata) => metadata,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
            return Ok(Value::Bool(false))
        }
        Err(_) => {
            return Err(failed(format!(
                "failed to stat {:?}",
                resolved.display().to_string()
            )))
        }
    };
    if metadata.is_file() {
        return Ok(Value::Bool(true));
    }
    let shown = format!("{:?}", resolved.display().to_string());
    let message = if metadata.is_dir() {
        format!("{shown} is a directory, not a file")
    } else {
        format!("{shown} is not a regular file")
    };
    Err(arg_error(0, message))
}

#[cfg(test)]
mod tests {
    use super::clean;

    #[test]
    fn cleans_like_go() {
        assert_eq!(clean(""), ".");
        assert_eq!(clean("a/b/../c/"), "a/c");
        assert_eq!(clean("/../a"), "/a");
        assert_eq!(clean("../../a"), "../../a");
        assert_eq!(clean("//a//b/./"), "/a/b");
    }
}
