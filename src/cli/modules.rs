//! `strata get` and the module step of `strata init`: install the modules the configuration
//! calls (see `install::modules`), printing what Terraform prints while it does.

use super::views::messages::InitView;
use super::{Context, Reported};
use crate::diagnostics::SourceMap;
use crate::install::modules::InstallReport;

/// Hands the installer's progress to `init`'s view.
struct Printer {
    view: InitView,
    upgrade: bool,
}

impl InstallReport for Printer {
    fn begin(&mut self) {
        self.view.modules_heading(self.upgrade);
    }

    fn downloading(&mut self, key: &str, source: &str, version: Option<&str>) {
        self.view.module_downloading(key, source, version);
    }

    fn installed(&mut self, key: &str, dir: &str) {
        self.view.module_installed(key, dir);
    }
}

/// Installs the modules (`upgrade`: every one again, at the newest allowed version).
pub async fn install(context: &Context, upgrade: bool) -> anyhow::Result<()> {
    let mut sources = SourceMap::new();
    let mut printer = Printer {
        view: InitView(context.style),
        upgrade,
    };
    match crate::install::modules::install(&context.dir, upgrade, &mut sources, &mut printer).await
    {
        Ok(warnings) => {
            context.print_diagnostics(&warnings, &sources);
            Ok(())
        }
        Err(diagnostics) => {
            context.print_diagnostics(&diagnostics, &sources);
            Err(Reported.into())
        }
    }
}

/// `strata get [-update]`.
pub async fn get(context: &Context, update: bool) -> anyhow::Result<u8> {
    install(context, update).await?;
    Ok(0)
}
