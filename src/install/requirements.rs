//! What a configuration requires of providers: every module's `required_providers` (source
//! addresses normalised, `version` constraints) and the providers it uses without declaring
//! them (`provider` blocks and resource type prefixes, which imply `hashicorp/<name>`), merged
//! across modules as Terraform merges them: all constraints on one provider must hold.

use super::addr::ProviderAddr;
use crate::config::ModuleTree;
use crate::diagnostics::{Diagnostic, Diagnostics};
use std::collections::BTreeMap;

/// Provider → the constraints written for it (one entry per module that constrains it).
pub type Requirements = BTreeMap<ProviderAddr, Vec<String>>;

/// The requirements of every module of `tree`. A provider used without a `source` is the
/// built-in provider of that local name when Strata has one (`builtin`), else `hashicorp/<name>`.
pub fn collect(
    tree: &ModuleTree,
    builtin: &BTreeMap<String, ProviderAddr>,
) -> Result<Requirements, Diagnostics> {
    let mut requirements = Requirements::new();
    let mut diagnostics = Diagnostics::new();
    let implied = |name: &str| {
        builtin
            .get(name)
            .cloned()
            .unwrap_or_else(|| ProviderAddr::implied(name))
    };
    collect_module(tree, &implied, &mut requirements, &mut diagnostics);
    diagnostics.into_result(requirements)
}

fn collect_module(
    tree: &ModuleTree,
    implied: &dyn Fn(&str) -> ProviderAddr,
    requirements: &mut Requirements,
    diagnostics: &mut Diagnostics,
) {
    let module = &tree.module;
    let where_ = module.dir.display().to_string();
    for (name, requirement) in &module.terraform.required_providers {
        let addr = match requirement.source.as_deref() {
            Some(source) => match ProviderAddr::parse(source) {
                Ok(addr) => addr,
                Err(message) => {
                    diagnostics.push(
                        Diagnostic::error("Invalid provider source address").with_detail(format!(
                            "In the required_providers of {where_}, provider \"{name}\": {message}"
                        )),
                    );
                    continue;
                }
            },
            None => implied(name),
        };
        let constraints = requirements.entry(addr).or_default();
        if let Some(version) = &requirement.version {
            match crate::config::version::canonical(&[version.as_str()]) {
                Ok(_) => constraints.push(version.clone()),
                Err(message) => diagnostics.push(
                    Diagnostic::error("Invalid provider version constraint").with_detail(format!(
                        "In the required_providers of {where_}, provider \"{name}\": `{version}`: {message}."
                    )),
                ),
            }
        }
    }
    let used = module
        .providers
        .iter()
        .map(|p| &p.name)
        .chain(module.resources.values().map(|r| &r.provider.name));
    for name in used {
        if !module.terraform.required_providers.contains_key(name) {
            requirements.entry(implied(name)).or_default();
        }
    }
    for child in tree.children.values() {
        collect_module(child, implied, requirements, diagnostics);
    }
}

/// The constraints of one provider in the canonical form of the lock file (`None` without
/// any).
pub fn canonical_constraints(constraints: &[String]) -> Option<String> {
    if constraints.is_empty() {
        return None;
    }
    let written: Vec<&str> = constraints.iter().map(String::as_str).collect();
    crate::config::version::canonical(&written).ok()
}

/// Whether `version` meets every constraint (no constraint: any release, no pre-release).
pub fn accepts(constraints: &[String], version: &str) -> bool {
    if constraints.is_empty() {
        return !crate::config::version::is_prerelease(version)
            && crate::config::version::compare(version, version).is_ok();
    }
    constraints
        .iter()
        .all(|c| crate::config::version::satisfies(c, version).unwrap_or(false))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn merges_modules_and_implies_hashicorp() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("child")).unwrap();
        std::fs::write(
            dir.path().join("main.tf"),
            r#"
terraform {
  required_providers {
    aws = { source = "hashicorp/aws", version = "~> 3.39" }
  }
}
resource "random_id" "x" { byte_length = 2 }
resource "terraform_data" "y" {}
resource "fake_thing" "z" {}
module "child" { source = "./child" }
"#,
        )
        .unwrap();
        std::fs::write(
            dir.path().join("child/main.tf"),
            r#"
terraform {
  required_providers {
    aws = { source = "HashiCorp/AWS", version = ">= 3.0" }
    thing = { source = "example.com/acme/thing" }
  }
}
"#,
        )
        .unwrap();
        let tree = crate::config::load_tree(dir.path(), &mut Default::default()).unwrap();
        let builtin = BTreeMap::from([(
            "fake".to_string(),
            ProviderAddr::parse("registry.strata.dev/strata/fake").unwrap(),
        )]);
        let requirements = collect(&tree, &builtin).unwrap();
        let listed: Vec<String> = requirements
            .iter()
            .map(|(addr, constraints)| format!("{addr} {constraints:?}"))
            .collect();
        assert_eq!(
            listed,
            [
                "example.com/acme/thing []",
                "registry.strata.dev/strata/fake []",
                "registry.terraform.io/hashicorp/aws [\"~> 3.39\", \">= 3.0\"]",
                "registry.terraform.io/hashicorp/random []",
                "terraform.io/builtin/terraform []",
            ]
        );
        let aws = &requirements[&ProviderAddr::parse("hashicorp/aws").unwrap()];
        assert_eq!(canonical_constraints(aws).unwrap(), ">= 3.0.0, ~> 3.39");
        assert!(accepts(aws, "3.40.0") && !accepts(aws, "4.0.0"));
        assert!(accepts(&[], "1.0.0") && !accepts(&[], "1.0.0-beta"));
    }
}
