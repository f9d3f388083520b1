//! Filesystem functions: abspath, basename, dirname, file, fileexists, filebase64, fileset.
//!
//! Paths are handled lexically the way Go's `path/filepath` does on Unix (`Clean`, `Base`,
//! `Dir`), so results match Terraform's byte for byte. The file-reading functions expand a
//! leading `~` and resolve a relative path as described at [`resolve`]; `abspath` resolves
//! against the working directory, as Terraform's does.

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
        FunctionSpec::new(
            "fileset",
            vec![path(), Param::new("pattern", Type::String)],
            |_| Type::set(Type::String),
            fileset,
        ),
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

/// Expands `~` and decides what a relative path is relative to.
///
/// Terraform resolves relative paths against the working directory, and configurations rely
/// on it: `file("${path.module}/x.txt")` in a child module is `modules/app/x.txt`, already
/// relative to the working directory. So when `module_dir` is itself relative (it is
/// `path.module`, relative to the working directory), a relative path is used as it is;
/// joining it to `module_dir` would say `modules/app/modules/app/x.txt`. When `module_dir` is
/// absolute, relative paths resolve against it.
fn resolve(path: &str, ctx: &FunctionContext) -> PathBuf {
    let expanded = if path == "~" || path.starts_with("~/") {
        match std::env::var_os("HOME") {
            Some(home) => format!("{}{}", home.to_string_lossy(), &path[1..]),
            None => path.to_string(),
        }
    } else {
        path.to_string()
    };
    if expanded.starts_with('/') || ctx.module_dir.is_relative() {
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

/// `fileset(path, pattern)`: the regular files under `path` whose path relative to it matches
/// `pattern`, as a set of `/`-separated relative paths. Patterns are doublestar globs: `*`
/// and `?` within one path segment, `**` across segments, `[abc]`, `[^a-z]` and
/// `{alt1,alt2}`.
fn fileset(args: Vec<Value>, ctx: &FunctionContext) -> Result<Value, FunctionError> {
    let base = resolve(string_value(&args[0]), ctx);
    let pattern = string_value(&args[1]);
    let shown = format!("{}/{pattern}", base.display());
    let bad_pattern = || {
        failed(format!(
            "failed to glob pattern ({}): syntax error in pattern",
            clean(&shown)
        ))
    };
    let mut found = Vec::new();
    let mut budget = FILESET_BUDGET;
    for alternative in expand_braces(pattern).ok_or_else(bad_pattern)? {
        let cleaned = clean(&alternative);
        let segments: Vec<&str> = cleaned
            .split('/')
            .filter(|s| !s.is_empty() && *s != ".")
            .collect();
        for segment in &segments {
            if *segment != "**" && glob_segment_matches(segment, "").is_none() {
                return Err(bad_pattern());
            }
        }
        walk_glob(&base, "", &segments, &mut found, &mut budget, 0);
    }
    if budget == 0 {
        return Err(failed(format!(
            "failed to glob pattern ({}): too many files to search",
            clean(&shown)
        )));
    }
    Ok(Value::set(found.into_iter().map(Value::String).collect()))
}

/// How many directory entries one `fileset` call may look at.
const FILESET_BUDGET: usize = 200_000;

fn walk_glob(
    directory: &Path,
    relative: &str,
    segments: &[&str],
    found: &mut Vec<String>,
    budget: &mut usize,
    depth: usize,
) {
    if depth > 64 || *budget == 0 {
        return;
    }
    let join = |name: &str| {
        if relative.is_empty() {
            name.to_string()
        } else {
            format!("{relative}/{name}")
        }
    };
    let Some((first, rest)) = segments.split_first() else {
        return;
    };
    if *first == "**" {
        // Zero directories...
        walk_glob(directory, relative, rest, found, budget, depth + 1);
        // ...or one more, keeping the `**`.
        for (name, path, is_dir) in entries(directory, budget) {
            if is_dir {
                walk_glob(&path, &join(&name), segments, found, budget, depth + 1);
            } else if rest.is_empty() {
                found.push(join(&name));
            }
        }
        return;
    }
    for (name, path, is_dir) in entries(directory, budget) {
        if glob_segment_matches(first, &name) != Some(true) {
            continue;
        }
        if rest.is_empty() {
            if !is_dir && path.is_file() {
                found.push(join(&name));
            }
        } else if is_dir {
            walk_glob(&path, &join(&name), rest, found, budget, depth + 1);
        }
    }
}

/// The entries of a directory (name, path, whether a directory), sorted; nothing if it
/// cannot be read.
fn entries(directory: &Path, budget: &mut usize) -> Vec<(String, PathBuf, bool)> {
    let Ok(reader) = std::fs::read_dir(directory) else {
        return Vec::new();
    };
    let mut list = Vec::new();
    for entry in reader.flatten() {
        if *budget == 0 {
            break;
        }
        *budget -= 1;
        let path = entry.path();
        let is_dir = path.is_dir();
        list.push((
            entry.file_name().to_string_lossy().to_string(),
            path,
            is_dir,
        ));
    }
    list.sort();
    list
}

/// Expands `{a,b}` alternatives (nested too); None for unbalanced braces.
fn expand_braces(pattern: &str) -> Option<Vec<String>> {
    let Some(open) = pattern.find('{') else {
        return if pattern.contains('}') {
            None
        } else {
            Some(vec![pattern.to_string()])
        };
    };
    let mut depth = 0;
    let mut close = None;
    let mut splits = Vec::new();
    for (offset, ch) in pattern[open..].char_indices() {
        match ch {
            '{' => depth += 1,
            '}' => {
                depth -= 1;
                if depth == 0 {
                    close = Some(open + offset);
                    break;
                }
            }
            ',' if depth == 1 => splits.push(open + offset),
            _ => {}
        }
    }
    let close = close?;
    let (prefix, suffix) = (&pattern[..open], &pattern[close + 1..]);
    let mut bounds = vec![open];
    bounds.extend(splits);
    bounds.push(close);
    let mut out = Vec::new();
    for window in bounds.windows(2) {
        let alternative = &pattern[window[0] + 1..window[1]];
        for expanded in expand_braces(&format!("{prefix}{alternative}{suffix}"))? {
            out.push(expanded);
            if out.len() > 1024 {
                return None;
            }
        }
    }
    Some(out)
}

/// Whether `name` matches one glob segment (`*`, `?`, `[class]`, `\x`); None if the pattern
/// is malformed.
fn glob_segment_matches(pattern: &str, name: &str) -> Option<bool> {
    let pattern: Vec<char> = pattern.chars().collect();
    let name: Vec<char> = name.chars().collect();
    // Check the pattern's syntax once, independent of the name.
    let mut index = 0;
    while index < pattern.len() {
        match pattern[index] {
            '[' => index = class_end(&pattern, index)?,
            '\\' => index += 2,
            _ => index += 1,
        }
    }
    Some(match_from(&pattern, 0, &name, 0))
}

/// The index just past the class starting at `start`.
fn class_end(pattern: &[char], start: usize) -> Option<usize> {
    let mut index = start + 1;
    if matches!(pattern.get(index), Some('^') | Some('!')) {
        index += 1;
    }
    let first = index;
    while let Some(&ch) = pattern.get(index) {
        if ch == ']' && index > first {
            return Some(index + 1);
        }
        if ch == '\\' {
            index += 1;
        }
        index += 1;
    }
    None
}

fn class_matches(class: &[char], ch: char) -> bool {
    let (negated, body) = match class.first() {
        Some('^') | Some('!') => (true, &class[1..]),
        _ => (false, class),
    };
    let mut index = 0;
    let mut matched = false;
    while index < body.len() {
        let low = if body[index] == '\\' {
            index += 1;
            body.get(index).copied().unwrap_or('\\')
        } else {
            body[index]
        };
        if body.get(index + 1) == Some(&'-') && index + 2 < body.len() {
            let high = body[index + 2];
            matched |= low <= ch && ch <= high;
            index += 3;
        } else {
            matched |= low == ch;
            index += 1;
        }
    }
    matched != negated
}

/// Whether `pattern[p..]` matches `name[n..]`, memoised so that many `*`s stay polynomial.
fn match_from(pattern: &[char], p: usize, name: &[char], n: usize) -> bool {
    let mut memo = vec![None; (pattern.len() + 1) * (name.len() + 1)];
    match_memo(pattern, p, name, n, &mut memo)
}

fn match_memo(
    pattern: &[char],
    p: usize,
    name: &[char],
    n: usize,
    memo: &mut Vec<Option<bool>>,
) -> bool {
    let slot = p * (name.len() + 1) + n;
    if let Some(known) = memo.get(slot).copied().flatten() {
        return known;
    }
    let result = match pattern.get(p) {
        None => n == name.len(),
        Some('*') => (n..=name.len()).any(|skip| match_memo(pattern, p + 1, name, skip, memo)),
        Some('?') => n < name.len() && match_memo(pattern, p + 1, name, n + 1, memo),
        Some('[') => match class_end(pattern, p) {
            Some(end) => {
                n < name.len()
                    && class_matches(&pattern[p + 1..end - 1], name[n])
                    && match_memo(pattern, end, name, n + 1, memo)
            }
            None => false,
        },
        Some('\\') => {
            let literal = pattern.get(p + 1).copied().unwrap_or('\\');
            n < name.len() && name[n] == literal && match_memo(pattern, p + 2, name, n + 1, memo)
        }
        Some(&literal) => {
            n < name.len() && name[n] == literal && match_memo(pattern, p + 1, name, n + 1, memo)
        }
    };
    if let Some(entry) = memo.get_mut(slot) {
        *entry = Some(result);
    }
    result
}

#[cfg(test)]
mod tests {
    use super::{clean, resolve, FunctionContext};
    use std::path::PathBuf;

    #[test]
    fn relative_paths_resolve_like_terraform() {
        let child = FunctionContext {
            module_dir: PathBuf::from("modules/app"),
            plan_mode: false,
        };
        assert_eq!(
            resolve("modules/app/x.txt", &child),
            PathBuf::from("modules/app/x.txt")
        );
        assert_eq!(resolve("./a/../b", &child), PathBuf::from("b"));
        let absolute = FunctionContext {
            module_dir: PathBuf::from("/srv/config"),
            plan_mode: false,
        };
        assert_eq!(
            resolve("x.txt", &absolute),
            PathBuf::from("/srv/config/x.txt")
        );
        assert_eq!(
            resolve("/etc/hosts", &absolute),
            PathBuf::from("/etc/hosts")
        );
    }

    #[test]
    fn cleans_like_go() {
        assert_eq!(clean(""), ".");
        assert_eq!(clean("a/b/../c/"), "a/c");
        assert_eq!(clean("/../a"), "/a");
        assert_eq!(clean("../../a"), "../../a");
        assert_eq!(clean("//a//b/./"), "/a/b");
    }
}
