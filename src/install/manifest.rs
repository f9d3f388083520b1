//! `.terraform/modules/modules.json`: where each module of the configuration is installed, in
//! Terraform's format, so a directory initialised by either tool loads in the other.
//!
//! One record per module path (`Key`: call names joined by `.`, `""` for the root), with the
//! normalised `Source` it was installed from, the registry `Version` when there is one, and the
//! `Dir` relative to the working directory. Terraform writes the records sorted by key, as
//! compact JSON with Go's escaping of `<`, `>` and `&`, and no final newline; so do we.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Where the manifest lives, relative to the root module's directory.
pub const MODULES_DIR: &str = ".terraform/modules";
const MANIFEST_FILE: &str = "modules.json";

/// One installed module.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Record {
    #[serde(rename = "Key")]
    pub key: String,
    #[serde(rename = "Source")]
    pub source: String,
    #[serde(rename = "Version", default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    /// Relative to the working directory, with forward slashes.
    #[serde(rename = "Dir")]
    pub dir: String,
}

#[derive(Serialize, Deserialize)]
struct ManifestFile {
    #[serde(rename = "Modules", default)]
    modules: Vec<Record>,
}

/// Failure to read or write the manifest.
#[derive(Debug, thiserror::Error)]
pub enum ManifestError {
    #[error("cannot read `{path}`: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("`{path}` is not a valid modules manifest: {message}; run `strata init` to reinstall the modules")]
    Invalid { path: PathBuf, message: String },
    #[error("cannot write `{path}`: {source}")]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
}

/// The records by key.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Manifest {
    pub records: BTreeMap<String, Record>,
}

impl Manifest {
    /// The manifest of the working directory `root`; none yet is an empty one.
    pub fn read(root: &Path) -> Result<Manifest, ManifestError> {
        let path = root.join(MODULES_DIR).join(MANIFEST_FILE);
        let text = match std::fs::read_to_string(&path) {
            Ok(text) => text,
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
                return Ok(Manifest::default())
            }
            Err(source) => return Err(ManifestError::Read { path, source }),
        };
        if text.trim().is_empty() {
            return Ok(Manifest::default());
        }
        let file: ManifestFile =
            serde_json::from_str(&text).map_err(|error| ManifestError::Invalid {
                path: path.clone(),
                message: error.to_string(),
            })?;
        let mut records = BTreeMap::new();
        for record in file.modules {
            if records.contains_key(&record.key) {
                return Err(ManifestError::Invalid {
                    path,
                    message: format!("two records for the module \"{}\"", record.key),
                });
            }
            records.insert(record.key.clone(), record);
        }
        Ok(Manifest { records })
    }

    /// Writes the manifest into `root/.terraform/modules/`, creating the directory.
    pub fn write(&self, root: &Path) -> Result<(), ManifestError> {
        let dir = root.join(MODULES_DIR);
        let path = dir.join(MANIFEST_FILE);
        std::fs::create_dir_all(&dir).map_err(|source| ManifestError::Write {
            path: path.clone(),
            source,
        })?;
        std::fs::write(&path, self.to_json())
            .map_err(|source| ManifestError::Write { path, source })
    }

    /// The file's text, byte for byte as Terraform writes it.
    pub fn to_json(&self) -> String {
        let file = ManifestFile {
            modules: self.records.values().cloned().collect(),
        };
        let text = serde_json::to_string(&file).unwrap_or_default();
        go_json_escape(&text)
    }

    pub fn get(&self, key: &str) -> Option<&Record> {
        self.records.get(key)
    }

    pub fn insert(&mut self, record: Record) {
        self.records.insert(record.key.clone(), record);
    }

    /// Forgets `key` and every module below it (their installation is out of date with it).
    pub fn remove_with_descendants(&mut self, key: &str) {
        let prefix = format!("{key}.");
        self.records
            .retain(|existing, _| existing != key && !existing.starts_with(&prefix));
    }
}

/// Go's `encoding/json` escapes `<`, `>`, `&`, U+2028 and U+2029 in strings; those characters
/// appear in the serialised text only inside strings, so replacing them everywhere is exact.
fn go_json_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '<' => out.push_str("\\u003c"),
            '>' => out.push_str("\\u003e"),
            '&' => out.push_str("\\u0026"),
            '\u{2028}' => out.push_str("\\u2028"),
            '\u{2029}' => out.push_str("\\u2029"),
            other => out.push(other),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_terraforms_bytes_and_reads_them_back() {
        let mut manifest = Manifest::default();
        manifest.insert(Record {
            key: "sg".into(),
            source: "git::file:///r?ref=v1&depth=1".into(),
            version: None,
            dir: ".terraform/modules/sg".into(),
        });
        manifest.insert(Record {
            key: String::new(),
            source: String::new(),
            version: None,
            dir: ".".into(),
        });
        manifest.insert(Record {
            key: "reg".into(),
            source: "example.com/ns/name/aws".into(),
            version: Some("1.1.0".into()),
            dir: ".terraform/modules/reg".into(),
        });
        let text = manifest.to_json();
        assert_eq!(
            text,
            r#"{"Modules":[{"Key":"","Source":"","Dir":"."},{"Key":"reg","Source":"example.com/ns/name/aws","Version":"1.1.0","Dir":".terraform/modules/reg"},{"Key":"sg","Source":"git::file:///r?ref=v1\u0026depth=1","Dir":".terraform/modules/sg"}]}"#
        );
        let dir = tempfile::tempdir().unwrap();
        manifest.write(dir.path()).unwrap();
        assert_eq!(Manifest::read(dir.path()).unwrap(), manifest);
    }

    #[test]
    fn forgets_descendants() {
        let mut manifest = Manifest::default();
        for key in ["a", "a.b", "a.b.c", "ab"] {
            manifest.insert(Record {
                key: key.into(),
                source: "./x".into(),
                version: None,
                dir: "x".into(),
            });
        }
        manifest.remove_with_descendants("a");
        assert_eq!(manifest.records.keys().collect::<Vec<_>>(), vec!["ab"]);
    }
}
