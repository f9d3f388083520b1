//! What each command was asked to do, resolved from its flags before any work starts (as uv's
//! settings structs are): one value per command family, built by [`super::run`] from the
//! parsed [`super::args::Command`].

use super::args::{LockArgs, PlanArgs, VarArgs};
use super::init_providers::ProviderFlags;
use super::views::output::OutputFormat;
use super::views::show::ShowFormat;
use crate::plan::PlanMode;
use std::path::PathBuf;

/// `strata init`.
pub struct InitSettings {
    /// `-backend-config` values and files, in order.
    pub backend_config: Vec<String>,
    pub migrate_state: bool,
    pub reconfigure: bool,
    /// `-backend=false` leaves the backend alone.
    pub configure_backend: bool,
    /// `-get=false` leaves the modules alone.
    pub get_modules: bool,
    /// `-upgrade`, for modules (providers carry it in `providers`).
    pub upgrade: bool,
    pub providers: ProviderFlags,
}

/// `strata plan`.
pub struct PlanSettings {
    pub operation: OperationSettings,
    /// `-out=PATH`: save the plan.
    pub out: Option<PathBuf>,
    /// `-detailed-exitcode`: 2 when the plan has changes.
    pub detailed_exitcode: bool,
    /// `-markdown=PATH` (and its `-markdown-limit`): a Markdown summary written there.
    pub markdown: Option<(PathBuf, usize)>,
}

/// `strata apply`, `destroy` and `refresh`.
pub struct ApplySettings {
    pub operation: OperationSettings,
    /// `-auto-approve` (always, for `refresh`).
    pub auto_approve: bool,
    /// A saved plan to apply instead of planning again.
    pub plan_file: Option<PathBuf>,
}

/// What every planning command shares: the flags of [`PlanArgs`] and the plan's mode.
pub struct OperationSettings {
    pub args: PlanArgs,
    /// Normal, destroy, or refresh-only (`-refresh-only` wins).
    pub mode: PlanMode,
}

impl OperationSettings {
    pub fn new(args: PlanArgs, destroy: bool) -> OperationSettings {
        let mode = if args.refresh_only {
            PlanMode::RefreshOnly
        } else if destroy {
            PlanMode::Destroy
        } else {
            PlanMode::Normal
        };
        OperationSettings { args, mode }
    }

    pub fn destroy(&self) -> bool {
        self.mode == PlanMode::Destroy
    }

    /// The lock record's operation, as Terraform names it.
    pub fn lock_operation(&self, planning_only: bool) -> &'static str {
        match (planning_only, self.destroy()) {
            (true, _) => "OperationTypePlan",
            (false, true) => "OperationTypeDestroy",
            (false, false) => "OperationTypeApply",
        }
    }
}

/// `strata fmt`.
pub struct FmtSettings {
    pub options: crate::fmt::FmtOptions,
    /// The files and directories to format; the working directory when none.
    pub paths: Vec<PathBuf>,
}

/// `strata show`.
pub struct ShowSettings {
    pub format: ShowFormat,
    /// A saved plan; the workspace's state when none.
    pub plan_file: Option<PathBuf>,
}

/// `strata output`.
pub struct OutputSettings {
    pub format: OutputFormat,
    /// One output; every root output when none.
    pub name: Option<String>,
}

/// `strata import ADDRESS ID`.
pub struct ImportSettings {
    pub vars: VarArgs,
    pub lock: LockArgs,
    pub address: String,
    pub id: String,
}
