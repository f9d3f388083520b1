//! Saved plan files (`strata plan -out=FILE`): the plan, the state it was made from, and a
//! fingerprint of the configuration, so `strata apply FILE` applies exactly what was reviewed
//! or refuses. With plan encryption configured (`encryption { plan { ... } }`) the file is
//! OpenTofu's encrypted envelope around that JSON.

use super::Plan;
use crate::encryption::Sealer;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::path::Path;

/// What a saved plan file holds.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct PlanFile {
    /// Always `"strata-plan"`, to recognise the file.
    pub kind: String,
    pub plan: Plan,
    /// The refreshed state the plan was made from, as a version-4 state file's text.
    pub prior_state: String,
    /// SHA-256 over the configuration files the plan was made from.
    pub config_fingerprint: String,
}

#[derive(Debug, thiserror::Error)]
pub enum PlanFileError {
    #[error("cannot read plan file `{path}`: {message}; check the path, or make the plan with `strata plan -out={path}`")]
    Read { path: String, message: String },
    #[error("`{path}` is not a Strata plan file: {message}\n  It is damaged, was edited, or was written by another tool or version: make a new plan with `strata plan -out={path}`.")]
    Invalid { path: String, message: String },
    #[error("cannot write plan file `{path}`: {message}")]
    Write { path: String, message: String },
}

impl PlanFile {
    pub const KIND: &'static str = "strata-plan";

    pub fn read(path: &Path) -> Result<PlanFile, PlanFileError> {
        PlanFile::read_sealed(path, &Sealer::plaintext("plan"))
    }

    /// Reads a plan file that `sealer` opens (plan encryption).
    pub fn read_sealed(path: &Path, sealer: &Sealer) -> Result<PlanFile, PlanFileError> {
        let read_error = |message: String| PlanFileError::Read {
            path: path.display().to_string(),
            message,
        };
        let bytes = std::fs::read(path).map_err(|e| read_error(e.to_string()))?;
        let text = sealer
            .open(&path.display().to_string(), &bytes)
            .map_err(|e| read_error(e.to_string()))?;
        let file: PlanFile = serde_json::from_slice(&text).map_err(|e| PlanFileError::Invalid {
            path: path.display().to_string(),
            message: e.to_string(),
        })?;
        if file.kind != PlanFile::KIND || file.plan.format_version != Plan::FORMAT_VERSION {
            return Err(PlanFileError::Invalid {
                path: path.display().to_string(),
                message: format!(
                    "unsupported kind `{}` or format version {}",
                    file.kind, file.plan.format_version
                ),
            });
        }
        Ok(file)
    }

    /// Writes the file, readable by its owner only: it holds sensitive values.
    pub fn write(&self, path: &Path) -> Result<(), PlanFileError> {
        self.write_sealed(path, &Sealer::plaintext("plan"))
    }

    /// Writes the file sealed by `sealer` (plan encryption).
    pub fn write_sealed(&self, path: &Path, sealer: &Sealer) -> Result<(), PlanFileError> {
        let _phase = crate::timings::phase("plan writing");
        let error = |e: &dyn std::fmt::Display| PlanFileError::Write {
            path: path.display().to_string(),
            message: e.to_string(),
        };
        let text = serde_json::to_vec(self).map_err(|e| error(&e))?;
        let text = sealer.seal(&text).map_err(|e| error(&e))?;
        let dir = path
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        let mut temporary = tempfile::NamedTempFile::new_in(dir).map_err(|e| error(&e))?;
        std::io::Write::write_all(&mut temporary, &text).map_err(|e| error(&e))?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(temporary.path(), std::fs::Permissions::from_mode(0o600))
                .map_err(|e| error(&e))?;
        }
        temporary.persist(path).map_err(|e| error(&e))?;
        Ok(())
    }
}

/// A fingerprint of every configuration file (`.tf`, `.tf.json`) of the given module
/// directories (sorted, with names).
pub fn config_fingerprint<'a>(dirs: impl IntoIterator<Item = &'a Path>) -> String {
    let mut files = Vec::new();
    for dir in dirs {
        if let Ok(entries) = std::fs::read_dir(dir) {
            for entry in entries.flatten() {
                let path = entry.path();
                let name = path.to_string_lossy();
                if name.ends_with(".tf") || name.ends_with(".tf.json") {
                    files.push(path);
                }
            }
        }
    }
    files.sort();
    files.dedup();
    let mut hasher = Sha256::new();
    for file in files {
        hasher.update(file.to_string_lossy().as_bytes());
        hasher.update([0]);
        hasher.update(std::fs::read(&file).unwrap_or_default());
        hasher.update([0]);
    }
    hasher
        .finalize()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}
