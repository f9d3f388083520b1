//! What `strata providers` prints: the providers the configuration requires as a tree of
//! modules, their schemas as Terraform's JSON (`providers schema -json`), and the progress of
//! `providers lock` and `providers mirror`, worded as Terraform's.

use crate::install::addr::ProviderAddr;
use crate::install::lock_mirror::Step;

/// One module's requirements, then its child modules: what `strata providers` found.
pub struct ModuleRequirements {
    /// `(source address, version constraint)`, sorted by source.
    pub providers: Vec<(String, Option<String>)>,
    /// `(call name, its requirements)`, sorted by name.
    pub children: Vec<(String, ModuleRequirements)>,
}

/// `strata providers …`.
pub struct ProvidersView;

impl ProvidersView {
    /// `strata providers`: the tree of requirements.
    pub fn requirements(&self, root: &ModuleRequirements) {
        println!("\nProviders required by configuration:\n.");
        print_tree(root, "");
        println!();
    }

    /// `strata providers schema -json`.
    pub fn schemas_json(&self, document: &serde_json::Value) -> serde_json::Result<()> {
        super::show::json(document)
    }

    /// A step of `providers lock` (`indent` empty) or of one provider's `providers mirror`.
    pub fn step(&self, indent: &str, step: &Step) {
        println!("{indent}{}", describe(step));
    }

    /// `providers mirror` starts on a provider.
    pub fn mirroring(&self, provider: &ProviderAddr) {
        println!("- Mirroring {}...", provider.for_display());
    }

    /// `providers lock`'s closing words: whether the lock file changed.
    pub fn locked(&self, changed: bool) {
        if changed {
            println!("\nSuccess! Strata has updated the lock file.\n\nReview the changes in .terraform.lock.hcl and then commit to your\nversion control system to retain the new checksums.");
        } else {
            println!(
                "\nSuccess! Strata has validated the lock file and found no need for changes."
            );
        }
    }
}

/// One module's lines (`provider[source] constraint`, `module.name`), drawn as a tree.
fn print_tree(module: &ModuleRequirements, indent: &str) {
    let providers = module.providers.iter().map(|(source, version)| {
        let line = match version {
            Some(version) => format!("provider[{source}] {version}"),
            None => format!("provider[{source}]"),
        };
        (line, None)
    });
    let children = module
        .children
        .iter()
        .map(|(name, child)| (format!("module.{name}"), Some(child)));
    let lines: Vec<(String, Option<&ModuleRequirements>)> = providers.chain(children).collect();
    let count = lines.len();
    for (index, (line, child)) in lines.into_iter().enumerate() {
        let last = index + 1 == count;
        println!("{indent}{}{line}", if last { "└── " } else { "├── " });
        if let Some(child) = child {
            print_tree(
                child,
                &format!("{indent}{}", if last { "    " } else { "│   " }),
            );
        }
    }
}

fn describe(step: &Step) -> String {
    match step {
        Step::Fetching {
            provider,
            version,
            platform,
        } => format!(
            "- Fetching {} {version} for {platform}...",
            provider.for_display()
        ),
        Step::Retrieved {
            provider,
            version,
            platform,
            verified,
        } => format!(
            "- Retrieved {} {version} for {platform} ({verified})",
            provider.for_display()
        ),
        Step::BuiltIn { provider } => format!(
            "- Skipped {}: Strata has it built in and no source offers a package",
            provider.for_display()
        ),
    }
}
