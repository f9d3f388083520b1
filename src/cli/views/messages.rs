//! The human-only messages of the commands that have no other form: `init` (and `get`'s
//! modules), `validate`,
//! `fmt`, `import`, the `state` / `workspace` family, and the error a failed command ends with.

use crate::addrs::ResourceInstance;
use crate::diagnostics::Diagnostics;
use crate::install::addr::ProviderAddr;
use crate::install::lockfile::LOCK_FILE_NAME;
use crate::install::providers::Event;
use crate::providers::selection::Selection;
use crate::ui::Style;

/// The error a command failed with, as the last thing it prints: its message, then each cause
/// in its source chain that the message does not already say.
pub fn error(error: &anyhow::Error) {
    eprintln!("Error: {}", render_error(error));
}

/// [`error`]'s text. thiserror messages often quote their source (`"{path}: {source}"`); a
/// cause already contained in what precedes it is not repeated.
pub fn render_error(error: &anyhow::Error) -> String {
    let mut text = String::new();
    for cause in error.chain() {
        let cause = cause.to_string();
        if text.is_empty() {
            text = cause;
        } else if !text.contains(&cause) {
            text.push_str(": ");
            text.push_str(&cause);
        }
    }
    text
}

/// `init`'s progress.
pub struct InitView(pub Style);

impl InitView {
    /// A step's heading (`Initializing the backend...`).
    pub fn heading(&self, text: &str) {
        println!("{}", self.0.bold(text));
    }

    pub fn state_copied(&self, workspace: &str, from: &str, to: &str) {
        println!("Copied the state of workspace \"{workspace}\" from \"{from}\" to \"{to}\".");
    }

    pub fn backend_configured(&self, backend_type: &str) {
        println!("Successfully configured the backend \"{backend_type}\"!\n");
    }

    /// The closing line.
    pub fn done(&self, text: &str) {
        println!("\n{}", self.0.green(&self.0.bold(text)));
    }

    /// The module step begins (`init`, `get`; `-upgrade` / `-update`: every one again).
    pub fn modules_heading(&self, upgrade: bool) {
        let heading = if upgrade {
            "Upgrading modules..."
        } else {
            "Initializing modules..."
        };
        self.heading(heading);
    }

    pub fn module_downloading(&self, key: &str, source: &str, version: Option<&str>) {
        match version {
            Some(version) => println!("Downloading {source} {version} for {key}..."),
            None => println!("Downloading {source} for {key}..."),
        }
    }

    pub fn module_installed(&self, key: &str, dir: &str) {
        println!("- {key} in {dir}");
    }

    /// A step of the provider installation.
    pub fn provider_event(&self, event: &Event) {
        println!("{}", describe_provider_event(event));
    }

    /// A built-in provider serves `name` (no plugin was installed for it).
    pub fn builtin_used(&self, name: &str, address: &ProviderAddr) {
        println!("- Using built-in provider {name} ({address})");
    }

    /// Which provider (plugin, or none available) the commands will run for a name.
    pub fn selection(&self, selection: &Selection) {
        println!("{}", selection.describe());
    }

    /// The lock file was written: `existed` when it was there before (changed), else created.
    pub fn lock_file_written(&self, existed: bool) {
        if existed {
            println!("\nStrata has made some changes to the provider dependency selections recorded\nin the {LOCK_FILE_NAME} file. Review those changes and commit them to your\nversion control system if they represent changes you intended to make.");
        } else {
            println!("\nStrata has created a lock file {LOCK_FILE_NAME} to record the provider\nselections it made above. Include this file in your version control repository\nso that Strata and Terraform can guarantee to make the same selections by default when\nyou run \"strata init\" or \"terraform init\" in the future.");
        }
    }
}

/// One progress line, worded as Terraform's `init` words it.
fn describe_provider_event(event: &Event) -> String {
    match event {
        Event::Reusing { provider } => format!(
            "- Reusing previous version of {} from the dependency lock file",
            provider.for_display()
        ),
        Event::Finding {
            provider,
            constraints: Some(constraints),
        } => format!(
            "- Finding {} versions matching \"{constraints}\"...",
            provider.for_display()
        ),
        Event::Finding {
            provider,
            constraints: None,
        } => format!("- Finding latest version of {}...", provider.for_display()),
        Event::AlreadyInstalled { provider, version } => format!(
            "- Using previously-installed {} v{version}",
            provider.for_display()
        ),
        Event::FromCache { provider, version } => format!(
            "- Using {} v{version} from the shared cache directory",
            provider.for_display()
        ),
        Event::Installing { provider, version } => {
            format!("- Installing {} v{version}...", provider.for_display())
        }
        Event::Installed {
            provider,
            version,
            verified,
        } => format!(
            "- Installed {} v{version} ({verified})",
            provider.for_display()
        ),
        Event::BuiltIn { provider } => format!("- Using built-in provider {provider}"),
        Event::DevOverride { provider, dir } => format!(
            "- Using {} from the development override {}",
            provider.for_display(),
            dir.display()
        ),
    }
}

/// `validate -json`: Terraform's validation document.
pub fn validated_json(diagnostics: &Diagnostics) -> serde_json::Result<()> {
    let errors = diagnostics.iter().filter(|d| d.is_error()).count();
    let value = serde_json::json!({
        "format_version": "1.0",
        "valid": errors == 0,
        "error_count": errors,
        "warning_count": diagnostics.len() - errors,
        "diagnostics": diagnostics,
    });
    println!("{}", serde_json::to_string_pretty(&value)?);
    Ok(())
}

/// `validate` found no error.
pub fn validated(style: Style) {
    println!(
        "{}",
        style.green(&style.bold("Success! The configuration is valid."))
    );
}

/// `fmt`'s report: what it prints on standard output, and each file it could not format.
pub fn formatted(style: Style, output: &str, errors: &[crate::fmt::FormatError]) {
    print!("{output}");
    for error in errors {
        eprintln!("{}", style.red(&format!("Error: {error}")));
    }
}

/// `import`'s progress.
pub struct ImportView(pub Style);

impl ImportView {
    pub fn importing(&self, address: &ResourceInstance, id: &str) {
        println!(
            "{}: Importing from ID \"{id}\"...",
            self.0.bold(&address.to_string())
        );
    }

    pub fn imported(&self, address: &ResourceInstance) {
        println!(
            "{}: Import prepared!\n\n{}",
            self.0.bold(&address.to_string()),
            self.0.green(&self.0.bold("Import successful!"))
        );
        println!("\nThe resources that were imported are shown above. These resources are now in\nyour Strata state and will henceforth be managed by Strata.");
    }
}

/// The question for a required root variable no source sets (on a terminal): its value as
/// typed, `None` when standard input cannot be read.
pub fn ask_variable(name: &str, description: Option<&str>) -> Option<String> {
    let mut question = vec![format!("var.{name}")];
    if let Some(description) = description {
        question.push(format!("  {description}"));
    }
    super::ask_on_stderr(&question, "\n  Enter a value: ")
}

/// `STRATA_TIMINGS=1`'s report, at the end of the command.
pub fn timings(report: &str) {
    eprint!("{report}");
}

/// A warning on standard error, in yellow where it is one line.
pub fn warning(text: &str) {
    eprintln!("{text}");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, thiserror::Error)]
    #[error("{path}: {source}")]
    struct Quoting {
        path: String,
        #[source]
        source: std::io::Error,
    }

    #[test]
    fn a_cause_the_message_quotes_is_not_repeated() {
        let io = std::io::Error::new(std::io::ErrorKind::NotFound, "no such file");
        let error = anyhow::Error::new(Quoting {
            path: "main.tf".into(),
            source: io,
        });
        assert_eq!(render_error(&error), "main.tf: no such file");
    }

    #[test]
    fn a_cause_the_message_does_not_say_is_added() {
        let io = std::io::Error::new(std::io::ErrorKind::PermissionDenied, "permission denied");
        let error = anyhow::Error::new(io).context("writing plan.md");
        assert_eq!(render_error(&error), "writing plan.md: permission denied");
    }
}
