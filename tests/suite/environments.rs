//! The repository's environments (`environments/<env>`) and the modules they call load as a
//! configuration without a diagnostic, and have the shape the environments promise: the same
//! three module calls, the same resources, an S3 backend with a key of their own, and the sizes
//! of their own `terraform.tfvars`.

use crate::common::repo_root;
use std::collections::BTreeSet;
use strata::config::load::load_tree;
use strata::config::ModuleTree;
use strata::diagnostics::SourceMap;

const ENVIRONMENTS: [&str; 3] = ["dev", "stage", "prod"];

fn load(environment: &str) -> ModuleTree {
    let mut sources = SourceMap::new();
    let directory = repo_root().join("environments").join(environment);
    load_tree(&directory, &mut sources)
        .unwrap_or_else(|diagnostics| panic!("environments/{environment}: {diagnostics}"))
}

fn resource_names(tree: &ModuleTree) -> BTreeSet<String> {
    let mut names = BTreeSet::new();
    for (call, child) in &tree.children {
        for resource in child.module.resources.keys() {
            names.insert(format!(
                "module.{call}.{}.{}",
                resource.type_name, resource.name
            ));
        }
    }
    names
}

#[test]
fn every_environment_loads_and_calls_the_same_modules() {
    let trees: Vec<ModuleTree> = ENVIRONMENTS.iter().map(|name| load(name)).collect();
    for (name, tree) in ENVIRONMENTS.iter().zip(&trees) {
        let calls: Vec<&String> = tree.module.module_calls.keys().collect();
        assert_eq!(calls, ["vpc", "eks", "rds"], "environments/{name}");
        let backend = tree.module.terraform.backend.as_ref().expect("a backend");
        assert_eq!(backend.backend_type, "s3", "environments/{name}");
        let key = format!("{:?}", backend.settings.get("key"));
        assert!(
            key.contains(&format!("{name}/terraform.tfstate")),
            "{name}: {key}"
        );
    }
    let expected = resource_names(&trees[0]);
    assert!(expected.len() >= 15, "{expected:?}");
    for (name, tree) in ENVIRONMENTS.iter().zip(&trees) {
        assert_eq!(resource_names(tree), expected, "environments/{name}");
    }
}

/// The environments differ only in their variable values: every `.tf` file but the backend's
/// is the same in the three.
#[test]
fn environments_differ_only_in_their_values_and_state_key() {
    for file in ["main.tf", "providers.tf", "variables.tf", "outputs.tf"] {
        let texts: Vec<String> = ENVIRONMENTS
            .iter()
            .map(|name| {
                std::fs::read_to_string(repo_root().join("environments").join(name).join(file))
                    .unwrap()
            })
            .collect();
        assert!(
            texts.iter().all(|text| text == &texts[0]),
            "{file} differs between environments"
        );
    }
    for name in ENVIRONMENTS {
        let values = std::fs::read_to_string(
            repo_root()
                .join("environments")
                .join(name)
                .join("terraform.tfvars"),
        )
        .unwrap();
        assert!(
            values.contains(&format!("environment = \"{name}\"")),
            "{name}"
        );
        assert!(
            !values
                .lines()
                .any(|line| line.trim_start().starts_with("db_password")),
            "{name}: the password is not set in terraform.tfvars"
        );
    }
}
