//! The AWS provider's schema audited against the real Terraform AWS provider.
//!
//! `tests/fixtures/aws-schema/terraform-provider-aws-3.39.0.json` is what the real
//! terraform-provider-aws 3.39.0 binary declares (`terraform providers schema -json`, written by
//! `scripts/aws-schema-reference.sh`; 3.39.0 is the only real AWS provider installable offline
//! here). This test takes Strata's schema from `strata providers schema -json` and compares every
//! attribute (type, required / optional / computed / sensitive) and every nested block (nesting
//! mode, item bounds) of every resource type and data source Strata implements.
//!
//! Each difference must be listed, with its reason, in `tests/fixtures/aws-schema/differences.txt`
//! (`<path> <kind>  # why`, where kind is `missing` (the provider has it, Strata not), `extra`
//! (Strata has it, 3.39.0 not: usually added in a later provider version), or `differs: ...`). A
//! path ending in `.*` covers everything under it. The test fails on a difference not listed and
//! on a listed one that no longer exists, so the list stays the true record.
//!
//! What the JSON schema cannot show (which changes force replacement) is checked by the
//! per-resource lifecycle tests against the emulator.

use crate::common::{fixtures, strata};
use serde_json::Value as Json;
use std::collections::BTreeSet;
use std::process::Command;

/// The schema facts of one block, flattened: `aws_vpc.cidr_block` → `string optional`.
fn facts(prefix: &str, block: &Json, out: &mut Vec<(String, String)>) {
    if let Some(attributes) = block.get("attributes").and_then(Json::as_object) {
        for (name, attribute) in attributes {
            let mut flags = vec![attribute["type"].to_string()];
            for flag in ["required", "optional", "computed", "sensitive"] {
                if attribute.get(flag).and_then(Json::as_bool) == Some(true) {
                    flags.push(flag.to_string());
                }
            }
            out.push((format!("{prefix}.{name}"), flags.join(" ")));
        }
    }
    if let Some(blocks) = block.get("block_types").and_then(Json::as_object) {
        for (name, nested) in blocks {
            let path = format!("{prefix}.{name}");
            let mut shape = format!("block {}", nested["nesting_mode"].as_str().unwrap_or("?"));
            for bound in ["min_items", "max_items"] {
                if let Some(n) = nested.get(bound).and_then(Json::as_u64).filter(|n| *n > 0) {
                    shape.push_str(&format!(" {bound}={n}"));
                }
            }
            out.push((path.clone(), shape));
            facts(&path, &nested["block"], out);
        }
    }
}

/// Every schema of a provider entry, flattened, keyed `provider.…`, `aws_vpc.…` and
/// `data.aws_vpc.…`; only the types present in `only` (the reference's selection).
fn provider_facts(provider: &Json, only: &Json) -> Vec<(String, String)> {
    let mut out = Vec::new();
    facts("provider", &provider["provider"]["block"], &mut out);
    for (section, prefix) in [("resource_schemas", ""), ("data_source_schemas", "data.")] {
        let Some(wanted) = only[section].as_object() else {
            continue;
        };
        for name in wanted.keys() {
            if let Some(schema) = provider[section].get(name) {
                facts(&format!("{prefix}{name}"), &schema["block"], &mut out);
            }
        }
    }
    out
}

fn differences(reference: &Json, ours: &Json) -> BTreeSet<String> {
    let theirs: std::collections::BTreeMap<_, _> =
        provider_facts(reference, reference).into_iter().collect();
    let mine: std::collections::BTreeMap<_, _> =
        provider_facts(ours, reference).into_iter().collect();
    let mut out = BTreeSet::new();
    for (path, fact) in &theirs {
        match mine.get(path) {
            None => out.insert(format!("{path} missing")),
            Some(m) if m != fact => out.insert(format!("{path} differs: {m} vs {fact}")),
            Some(_) => false,
        };
    }
    for path in mine.keys().filter(|p| !theirs.contains_key(*p)) {
        out.insert(format!("{path} extra"));
    }
    for section in ["resource_schemas", "data_source_schemas"] {
        for name in reference[section]
            .as_object()
            .into_iter()
            .flatten()
            .map(|(k, _)| k)
        {
            if ours[section].get(name).is_none() {
                out.insert(format!("{section}.{name} not implemented"));
            }
        }
    }
    out
}

/// The listed differences: (pattern, reason) per line.
fn listed() -> Vec<(String, String)> {
    let text = std::fs::read_to_string(fixtures("aws-schema").join("differences.txt"))
        .expect("read differences.txt");
    text.lines()
        .map(str::trim)
        .filter(|line| !line.is_empty() && !line.starts_with('#'))
        .map(|line| {
            let (entry, reason) = line.split_once('#').unwrap_or((line, ""));
            (entry.trim().to_string(), reason.trim().to_string())
        })
        .collect()
}

/// Whether a listed pattern covers a difference: equal, or with `*` path segments: a `*`
/// matches any one segment (`*.id differs`), a final `*` any rest (`provider.endpoints.* missing`).
/// The kind `differs` covers every `differs: ...`.
fn covers(pattern: &str, difference: &str) -> bool {
    if pattern == difference {
        return true;
    }
    let (Some((path, kind)), Some((found_path, found_kind))) =
        (pattern.split_once(' '), difference.split_once(' '))
    else {
        return false;
    };
    let kind_matches =
        kind == found_kind || (kind == "differs" && found_kind.starts_with("differs:"));
    let wanted: Vec<&str> = path.split('.').collect();
    let found: Vec<&str> = found_path.split('.').collect();
    let path_matches = match wanted.split_last() {
        Some((&"*", init)) => {
            found.len() > init.len() && init.iter().zip(&found).all(|(w, f)| *w == "*" || w == f)
        }
        _ => {
            wanted.len() == found.len()
                && wanted.iter().zip(&found).all(|(w, f)| *w == "*" || w == f)
        }
    };
    kind_matches && path_matches
}

#[test]
fn aws_schema_matches_the_real_provider_or_the_difference_is_explained() {
    let dir = tempfile::tempdir().expect("temporary directory");
    std::fs::write(dir.path().join("main.tf"), "provider \"aws\" {}\n").expect("write main.tf");
    let output = Command::new(strata())
        .args(["providers", "schema", "-json"])
        .current_dir(dir.path())
        .output()
        .expect("run strata providers schema -json");
    assert!(
        output.status.success(),
        "strata providers schema -json failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let document: Json = serde_json::from_slice(&output.stdout).expect("schema JSON");
    assert_eq!(document["format_version"], "1.0");
    let ours = &document["provider_schemas"]["registry.terraform.io/hashicorp/aws"];
    assert!(ours.is_object(), "no aws provider in the output");
    let reference: Json = serde_json::from_str(
        &std::fs::read_to_string(fixtures("aws-schema").join("terraform-provider-aws-3.39.0.json"))
            .expect("read the reference schema"),
    )
    .expect("reference JSON");

    let found = differences(&reference, ours);
    let listed = listed();
    let unexplained: Vec<&String> = found
        .iter()
        .filter(|d| !listed.iter().any(|(p, _)| covers(p, d)))
        .collect();
    let stale: Vec<&String> = listed
        .iter()
        .map(|(p, _)| p)
        .filter(|p| !found.iter().any(|d| covers(p, d)))
        .collect();
    let unreasoned: Vec<&String> = listed
        .iter()
        .filter(|(_, reason)| reason.is_empty())
        .map(|(p, _)| p)
        .collect();
    assert!(
        unexplained.is_empty() && stale.is_empty() && unreasoned.is_empty(),
        "schema audit against terraform-provider-aws 3.39.0:\n\
         differences not listed in differences.txt:\n  {}\n\
         listed but no longer found:\n  {}\n\
         listed without a reason:\n  {}",
        unexplained
            .iter()
            .map(|s| s.as_str())
            .collect::<Vec<_>>()
            .join("\n  "),
        stale
            .iter()
            .map(|s| s.as_str())
            .collect::<Vec<_>>()
            .join("\n  "),
        unreasoned
            .iter()
            .map(|s| s.as_str())
            .collect::<Vec<_>>()
            .join("\n  "),
    );
}

#[test]
fn listed_patterns_match_as_documented() {
    assert!(covers(
        "aws_vpc.cidr_block missing",
        "aws_vpc.cidr_block missing"
    ));
    assert!(covers(
        "provider.endpoints.* missing",
        "provider.endpoints.lambda missing"
    ));
    assert!(!covers(
        "provider.endpoints.* missing",
        "provider.endpoints.lambda extra"
    ));
    assert!(covers("aws_vpc.* differs", "aws_vpc.tags differs: a vs b"));
    assert!(!covers("aws_vpc.* missing", "aws_vpcx.tags missing"));
    assert!(covers("*.id differs", "aws_vpc.id differs: x vs y"));
    assert!(!covers("*.id differs", "data.aws_vpc.id differs: x vs y"));
    assert!(covers(
        "data.*.id differs",
        "data.aws_vpc.id differs: x vs y"
    ));
}
