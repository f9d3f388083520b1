//! `strata get` and the module step of `strata init`: install the modules the configuration
//! calls (see `install::modules`), printing what Terraform prints while it does.

use super::{Context, Reported};
use crate::diagnostics::SourceMap;
use crate::install::modules::InstallReport;

/// Prints the installer's progress as Terraform does.
struct Printer<'c> {
    context: &'c Context,
    upgrade: bool,
}

impl InstallReport for Printer<'_> {
    fn begin(&mut self) {
        let heading = if self.upgrade {
            "Upgrading modules..."
        } else {
            "Initializing modules..."
        };
        super::views::out_line(&self.context.style.bold(heading));
    }

    fn downloading(&mut self, key: &str, source: &str, version: Option<&str>) {
        match version {
            Some(version) => {
                super::views::out_line(&format!("Downloading {source} {version} for {key}..."))
            }
            None => super::views::out_line(&format!("Downloading {source} for {key}...")),
        }
    }

    fn installed(&mut self, key: &str, dir: &str) {
        super::views::out_line(&format!("- {key} in {dir}"));
    }
}

/// Installs the modules (`upgrade`: every one again, at the newest allowed version).
pub async fn install(context: &Context, upgrade: bool) -> anyhow::Result<()> {
    let mut sources = SourceMap::new();
    let mut printer = Printer { context, upgrade };
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
