//! `strata drift DIR... [-workspace=NAME]...`: a refresh-only plan per environment (each
//! directory, in each named workspace or its current one), one report.
//!
//! Each check is `strata plan -refresh-only` run as its own process in the environment's
//! directory (as `-chdir` would), so each uses its own backend, variables and lock exactly as a
//! plan there would; the refresh-only plan is saved to a temporary file and read back (opened
//! with the environment's plan encryption, when it has one).

use super::args::LockArgs;
use super::views::drift::DriftView;
use super::Context;
use crate::plan::file::PlanFile;
use crate::ui::drift::{render_drift_markdown, DriftReport, EnvironmentDrift};
use anyhow::Context as _;
use std::path::{Path, PathBuf};
use std::process::Command;

/// What `strata drift` was asked to do.
pub struct DriftSettings {
    /// The environments' directories (relative to the working directory).
    pub dirs: Vec<PathBuf>,
    /// Workspaces to check in every directory; empty: each directory's current one.
    pub workspaces: Vec<String>,
    pub markdown: Option<PathBuf>,
    pub json: Option<PathBuf>,
    pub lock: LockArgs,
}

pub async fn drift(context: &Context, settings: &DriftSettings) -> anyhow::Result<u8> {
    let exe = std::env::current_exe().context("cannot find the strata binary")?;
    let scratch = tempfile::tempdir().context("cannot make a temporary directory")?;
    let dirs = if settings.dirs.is_empty() {
        vec![PathBuf::from(".")]
    } else {
        settings.dirs.clone()
    };
    let workspaces: Vec<Option<&str>> = if settings.workspaces.is_empty() {
        vec![None]
    } else {
        settings
            .workspaces
            .iter()
            .map(|w| Some(w.as_str()))
            .collect()
    };
    let mut environments = Vec::new();
    for dir in &dirs {
        for workspace in &workspaces {
            let plan_path = scratch.path().join(format!("{}.plan", environments.len()));
            environments.push(check(
                &exe,
                &context.dir.join(dir),
                dir,
                *workspace,
                &plan_path,
                &settings.lock,
            ));
        }
    }
    let report = DriftReport::new(environments);
    DriftView.report(&report);
    if let Some(path) = &settings.markdown {
        std::fs::write(path, render_drift_markdown(&report))
            .with_context(|| format!("writing {}", path.display()))?;
    }
    if let Some(path) = &settings.json {
        let text = serde_json::to_string_pretty(&report)?;
        std::fs::write(path, text + "\n").with_context(|| format!("writing {}", path.display()))?;
    }
    Ok(report.exit_code())
}

/// One environment's refresh-only plan.
fn check(
    exe: &Path,
    dir: &Path,
    shown: &Path,
    workspace: Option<&str>,
    plan_path: &Path,
    lock: &LockArgs,
) -> EnvironmentDrift {
    let shown = shown.display().to_string();
    let named = workspace.unwrap_or("(current)").to_string();
    let mut command = Command::new(exe);
    command
        .current_dir(dir)
        .args(["plan", "-refresh-only", "-input=false", "-no-color"])
        .arg(format!("-lock={}", lock.lock))
        .arg(format!("-lock-timeout={}", lock.lock_timeout))
        .arg(format!("-out={}", plan_path.display()))
        .env_remove("TF_CLI_ARGS")
        .env_remove("TF_CLI_ARGS_plan");
    if let Some(workspace) = workspace {
        command
            .env("STRATA_WORKSPACE", workspace)
            .env("TF_WORKSPACE", workspace);
    }
    let output = match command.output() {
        Ok(output) => output,
        Err(error) => {
            return EnvironmentDrift::failed(shown, named, format!("cannot run strata: {error}"))
        }
    };
    let stderr = String::from_utf8_lossy(&output.stderr).trim().to_string();
    if !output.status.success() {
        return EnvironmentDrift::failed(shown, named, stderr);
    }
    // Warnings, and the wait for a lock another run holds, stay visible.
    if !stderr.is_empty() {
        DriftView.check_said(&shown, &stderr);
    }
    // Sealed with the environment's own plan encryption, if it has one.
    let read = super::backend::plan_sealer_of(dir)
        .and_then(|sealer| Ok(PlanFile::read_sealed(plan_path, &sealer)?));
    match read {
        Ok(file) => EnvironmentDrift::from_drift(shown, file.plan.workspace, file.plan.drift),
        Err(error) => EnvironmentDrift::failed(shown, named, error.to_string()),
    }
}
