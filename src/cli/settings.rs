//! What each command was asked to do, resolved from its flags before any work starts (as uv's
//! settings structs are): one value per command family, resolved from its flags
//! ([`super::args`]) by a `From` impl here, so [`super::dispatch`] holds one line per command.

use super::args::{
    ApplyArgs, DestroyArgs, DriftArgs, FmtArgs, ImportArgs, InitArgs, LockArgs, OperationArgs,
    OutputArgs, PlanArgs, ShowArgs,
};
use super::drift::DriftSettings;
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

/// What every planning command shares: the flags of [`OperationArgs`] and the plan's mode.
pub struct OperationSettings {
    pub args: OperationArgs,
    /// Normal, destroy, or refresh-only (`-refresh-only` wins).
    pub mode: PlanMode,
}

impl OperationSettings {
    pub fn new(args: OperationArgs, destroy: bool) -> OperationSettings {
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
    pub lock: LockArgs,
    pub address: String,
    pub id: String,
}

impl From<InitArgs> for InitSettings {
    fn from(args: InitArgs) -> InitSettings {
        InitSettings {
            backend_config: args.backend_config,
            migrate_state: args.migrate_state,
            reconfigure: args.reconfigure,
            configure_backend: args.backend,
            get_modules: args.get,
            upgrade: args.upgrade,
            providers: ProviderFlags {
                upgrade: args.upgrade,
                plugin_dirs: args.plugin_dir,
                lockfile: args.lockfile,
            },
        }
    }
}

impl From<FmtArgs> for FmtSettings {
    fn from(args: FmtArgs) -> FmtSettings {
        let options = crate::fmt::FmtOptions {
            check: args.check,
            diff: args.diff,
            recursive: args.recursive,
            list: args.list,
            write: args.write && !args.check,
        };
        FmtSettings {
            options,
            paths: args.paths,
        }
    }
}

impl From<PlanArgs> for PlanSettings {
    fn from(args: PlanArgs) -> PlanSettings {
        PlanSettings {
            operation: OperationSettings::new(args.operation, args.destroy),
            out: args.out,
            detailed_exitcode: args.detailed_exitcode,
            markdown: args.markdown.map(|path| (path, args.markdown_limit)),
        }
    }
}

impl From<ApplyArgs> for ApplySettings {
    fn from(args: ApplyArgs) -> ApplySettings {
        ApplySettings {
            operation: OperationSettings::new(args.operation, args.destroy),
            auto_approve: args.auto_approve,
            plan_file: args.plan_file,
        }
    }
}

impl From<DestroyArgs> for ApplySettings {
    fn from(args: DestroyArgs) -> ApplySettings {
        ApplySettings {
            operation: OperationSettings::new(args.operation, true),
            auto_approve: args.auto_approve,
            plan_file: None,
        }
    }
}

impl ApplySettings {
    /// `strata refresh`: `apply -refresh-only -auto-approve`.
    pub fn refresh(mut args: OperationArgs) -> ApplySettings {
        args.refresh_only = true;
        ApplySettings {
            operation: OperationSettings::new(args, false),
            auto_approve: true,
            plan_file: None,
        }
    }
}

impl From<ShowArgs> for ShowSettings {
    fn from(args: ShowArgs) -> ShowSettings {
        let format = match (args.json, args.markdown) {
            (true, _) => ShowFormat::Json,
            (_, true) => ShowFormat::Markdown(args.markdown_limit),
            _ => ShowFormat::Human,
        };
        ShowSettings {
            format,
            plan_file: args.path,
        }
    }
}

impl From<OutputArgs> for OutputSettings {
    fn from(args: OutputArgs) -> OutputSettings {
        // `-raw` is for one named output; every output prints as text or JSON.
        let format = match (args.raw && args.name.is_some(), args.json) {
            (true, _) => OutputFormat::Raw,
            (_, true) => OutputFormat::Json,
            _ => OutputFormat::Human,
        };
        OutputSettings {
            format,
            name: args.name,
        }
    }
}

impl From<ImportArgs> for ImportSettings {
    fn from(args: ImportArgs) -> ImportSettings {
        ImportSettings {
            lock: args.lock,
            address: args.address,
            id: args.id,
        }
    }
}

impl From<DriftArgs> for DriftSettings {
    fn from(args: DriftArgs) -> DriftSettings {
        DriftSettings {
            dirs: args.dirs,
            workspaces: args.workspaces,
            markdown: args.markdown,
            json: args.json_report,
            lock: args.lock,
        }
    }
}
