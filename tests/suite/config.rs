//! Configuration loading and root variable values, driven by the folders under
//! `tests/fixtures/config/`:
//!
//! - `load/<case>/`: `*.tf` files of one module. A case without `# ERROR:` comments must load;
//!   its decoded module is summarised and compared with an `insta` snapshot. A case with them
//!   must fail with exactly those errors, each on the line carrying its comment (`# WARNING:`
//!   likewise for warnings). The text after the marker is one or more `|`-separated pieces,
//!   each of which the diagnostic's summary, detail or help must contain.
//! - `tree/<case>/`: a root module and the modules it calls, loaded with `load_tree`.
//! - `variables/<case>/`: a root module, variables files and a `case.json` giving the
//!   environment, the command-line sources and the expected errors that have no location.
//!
//! A last test feeds truncated and mutated versions of every fixture to the loader: no input
//! may make it panic.

use crate::common::fixtures;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use strata::config::load::{decode_file_text, load_module, load_tree};
use strata::config::provisioner::Provisioning;
use strata::config::type_constraint::type_expression;
use strata::config::variables::{
    missing_required, resolve_root_variables_with_warnings, VarSource,
};
use strata::config::{Body, Expr, IgnoreChanges, Module, ModuleTree, ResourceConfig};
use strata::diagnostics::{Diagnostic, Diagnostics, Severity, SourceMap};
use strata::value::{value_to_json, Value};

/// The case folders of `tests/fixtures/config/<group>`, sorted.
fn cases(group: &str) -> Vec<PathBuf> {
    let mut cases: Vec<PathBuf> = std::fs::read_dir(fixtures("config").join(group))
        .expect("fixture group exists")
        .map(|entry| entry.expect("readable entry").path())
        .filter(|path| path.is_dir())
        .collect();
    cases.sort();
    assert!(!cases.is_empty(), "no cases under {group}");
    cases
}

fn case_name(case: &Path) -> String {
    case.file_name().unwrap().to_string_lossy().to_string()
}

/// Every file below `dir`, recursively, sorted.
fn files_below(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(current) = pending.pop() {
        for entry in std::fs::read_dir(&current).expect("readable dir") {
            let path = entry.expect("entry").path();
            if path.is_dir() {
                pending.push(path);
            } else {
                out.push(path);
            }
        }
    }
    out.sort();
    out
}

/// An expected diagnostic: `# ERROR: text` or `# WARNING: text` on a line of a fixture file.
#[derive(Debug, Clone)]
struct Expected {
    severity: Severity,
    /// The path relative to the case folder.
    file: String,
    line: usize,
    text: String,
}

fn expectations(case: &Path) -> Vec<Expected> {
    let mut out = Vec::new();
    for path in files_below(case) {
        let Ok(text) = std::fs::read_to_string(&path) else {
            continue;
        };
        let relative = path
            .strip_prefix(case)
            .unwrap()
            .to_string_lossy()
            .to_string();
        for (index, line) in text.lines().enumerate() {
            for (marker, severity) in [
                ("# ERROR:", Severity::Error),
                ("# WARNING:", Severity::Warning),
            ] {
                if let Some(position) = line.find(marker) {
                    out.push(Expected {
                        severity,
                        file: relative.clone(),
                        line: index + 1,
                        text: line[position + marker.len()..].trim().to_string(),
                    });
                }
            }
        }
    }
    out
}

fn describe(diagnostic: &Diagnostic) -> String {
    format!(
        "{:?} {} | {} | {}",
        diagnostic.severity,
        diagnostic
            .span
            .as_ref()
            .map(|s| s.to_string())
            .unwrap_or_else(|| "(no location)".into()),
        diagnostic.summary,
        diagnostic.detail
    )
}

/// Checks that `diagnostics` are exactly the expected ones: each expectation met by a
/// diagnostic of its severity on its line whose summary, detail or help contains its text;
/// every other diagnostic unexpected. `unlocated` lists texts of expected errors wherever they
/// are (no location, or in a file that cannot hold a comment, like JSON).
fn check_diagnostics(case: &Path, diagnostics: &Diagnostics, unlocated: &[(Severity, String)]) {
    let expected = expectations(case);
    let mut problems = Vec::new();
    let full_text = |d: &Diagnostic| {
        format!(
            "{} {} {}",
            d.summary,
            d.detail,
            d.help.clone().unwrap_or_default()
        )
    };
    let at = |d: &Diagnostic, e: &Expected| {
        d.severity == e.severity
            && d.span.as_ref().is_some_and(|span| {
                Path::new(&*span.file).ends_with(&e.file) && span.start.line == e.line
            })
    };
    for e in &expected {
        let matches = |d: &Diagnostic| {
            e.text
                .split('|')
                .all(|part| full_text(d).contains(part.trim()))
        };
        if !diagnostics.iter().any(|d| at(d, e) && matches(d)) {
            problems.push(format!(
                "expected {:?} at {}:{}: {}",
                e.severity, e.file, e.line, e.text
            ));
        }
    }
    for (severity, text) in unlocated {
        if !diagnostics
            .iter()
            .any(|d| d.severity == *severity && full_text(d).contains(text.as_str()))
        {
            problems.push(format!("expected {severity:?} containing: {text}"));
        }
    }
    for d in diagnostics.iter() {
        let matched = expected.iter().any(|e| at(d, e))
            || unlocated.iter().any(|(severity, text)| {
                d.severity == *severity && full_text(d).contains(text.as_str())
            });
        if !matched {
            problems.push(format!("unexpected: {}", describe(d)));
        }
    }
    assert!(
        problems.is_empty(),
        "case {}:\n  {}\nall diagnostics:\n  {}",
        case_name(case),
        problems.join("\n  "),
        diagnostics
            .iter()
            .map(describe)
            .collect::<Vec<_>>()
            .join("\n  ")
    );
}

fn has_expected_errors(case: &Path) -> bool {
    expectations(case)
        .iter()
        .any(|e| e.severity == Severity::Error)
}

// --- A readable summary of a decoded module ---------------------------------------------

fn text_of(expr: &Expr) -> String {
    expr.span()
        .and_then(|span| {
            expr.file
                .text
                .get(span.start.byte..span.end.byte)
                .map(|t| t.trim().to_string())
        })
        .unwrap_or_else(|| "?".into())
}

/// `main.tf:3`: the file's name without its directory, and the line.
fn short_location(span: &strata::diagnostics::Span) -> String {
    let name = Path::new(&*span.file)
        .file_name()
        .map(|n| n.to_string_lossy().to_string())
        .unwrap_or_default();
    format!("{name}:{}", span.start.line)
}

fn json(value: &Value) -> String {
    let sensitive = value.contains_sensitive();
    let text = value_to_json(value)
        .map(|j| j.to_string())
        .unwrap_or_else(|e| format!("<{e}>"));
    if sensitive {
        format!("(sensitive) {text}")
    } else {
        text
    }
}

fn body_summary(body: &Body) -> String {
    let mut parts = Vec::new();
    for structure in body.body.iter() {
        match structure {
            hcl_edit::structure::Structure::Attribute(attribute) => {
                parts.push(attribute.key.as_str().to_string())
            }
            hcl_edit::structure::Structure::Block(block) => {
                let labels: Vec<&str> = block.labels.iter().map(|l| l.as_str()).collect();
                let inner = body_summary(&Body {
                    file: body.file.clone(),
                    body: block.body.clone(),
                });
                if labels.is_empty() {
                    parts.push(format!("{} {{{inner}}}", block.ident.as_str()));
                } else {
                    parts.push(format!(
                        "{} {} {{{inner}}}",
                        block.ident.as_str(),
                        labels.join(" ")
                    ));
                }
            }
        }
    }
    parts.join(", ")
}

fn conditions(out: &mut String, kind: &str, list: &[strata::config::Condition]) {
    for condition in list {
        let _ = writeln!(
            out,
            "    {kind}: {} / {}",
            text_of(&condition.condition),
            text_of(&condition.error_message)
        );
    }
}

fn resource_summary(out: &mut String, indent: &str, config: &ResourceConfig) {
    let _ = writeln!(
        out,
        "{indent}{} ({}) provider={}{}",
        config.addr,
        short_location(&config.span),
        config.provider,
        if config.provider_explicit {
            " (explicit)"
        } else {
            ""
        }
    );
    if let Some(count) = &config.count {
        let _ = writeln!(out, "{indent}  count = {}", text_of(count));
    }
    if let Some(for_each) = &config.for_each {
        let _ = writeln!(out, "{indent}  for_each = {}", text_of(for_each));
    }
    if !config.depends_on.is_empty() {
        let list: Vec<String> = config.depends_on.iter().map(text_of).collect();
        let _ = writeln!(out, "{indent}  depends_on = [{}]", list.join(", "));
    }
    let lifecycle = &config.lifecycle;
    if lifecycle.create_before_destroy {
        let _ = writeln!(out, "{indent}  create_before_destroy");
    }
    if lifecycle.prevent_destroy {
        let _ = writeln!(out, "{indent}  prevent_destroy");
    }
    match &lifecycle.ignore_changes {
        IgnoreChanges::None => {}
        IgnoreChanges::All => {
            let _ = writeln!(out, "{indent}  ignore_changes = all");
        }
        IgnoreChanges::Paths(paths) => {
            let list: Vec<String> = paths.iter().map(|p| format!("{p} {:?}", p.0)).collect();
            let _ = writeln!(out, "{indent}  ignore_changes = [{}]", list.join(", "));
        }
    }
    if !lifecycle.replace_triggered_by.is_empty() {
        let list: Vec<String> = lifecycle.replace_triggered_by.iter().map(text_of).collect();
        let _ = writeln!(
            out,
            "{indent}  replace_triggered_by = [{}]",
            list.join(", ")
        );
    }
    conditions(out, "precondition", &lifecycle.preconditions);
    conditions(out, "postcondition", &lifecycle.postconditions);
    for (operation, duration) in &config.timeouts {
        let _ = writeln!(out, "{indent}  timeout {operation} = {}", text_of(duration));
    }
    provisioning_summary(out, indent, &config.provisioning);
    let _ = writeln!(out, "{indent}  body: {}", body_summary(&config.body));
}

fn provisioning_summary(out: &mut String, indent: &str, provisioning: &Provisioning) {
    if let Some(connection) = &provisioning.connection {
        let _ = writeln!(
            out,
            "{indent}  connection ({}): {}",
            short_location(&connection.span),
            body_summary(&connection.body)
        );
    }
    for provisioner in &provisioning.provisioners {
        let _ = writeln!(
            out,
            "{indent}  provisioner {} ({}) when={:?} on_failure={:?}: {}",
            provisioner.type_name,
            short_location(&provisioner.span),
            provisioner.when,
            provisioner.on_failure,
            body_summary(&provisioner.body)
        );
        if let Some(connection) = &provisioner.connection {
            let _ = writeln!(
                out,
                "{indent}    connection ({}): {}",
                short_location(&connection.span),
                body_summary(&connection.body)
            );
        }
    }
}

fn summarize(module: &Module) -> String {
    let mut out = String::new();
    let terraform = &module.terraform;
    if let Some(version) = &terraform.required_version {
        let _ = writeln!(out, "required_version {version:?}");
    }
    for (name, requirement) in &terraform.required_providers {
        let _ = writeln!(
            out,
            "required_provider {name}: source={:?} version={:?} configuration_aliases=[{}]",
            requirement.source,
            requirement.version,
            requirement
                .configuration_aliases
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join(", ")
        );
    }
    if let Some(backend) = &terraform.backend {
        let settings: Vec<String> = backend
            .settings
            .iter()
            .map(|(k, v)| format!("{k}={}", json(v)))
            .collect();
        let _ = writeln!(
            out,
            "backend {} {{{}}}",
            backend.backend_type,
            settings.join(", ")
        );
    }
    for provider in &module.providers {
        let _ = writeln!(
            out,
            "provider {}{} (line {}): {}",
            provider.name,
            provider
                .alias
                .as_ref()
                .map(|a| format!(" alias={a}"))
                .unwrap_or_default(),
            provider.span.start.line,
            body_summary(&provider.body)
        );
    }
    for variable in module.variables.values() {
        let _ = writeln!(
            out,
            "variable {} (line {}): type={} default={} sensitive={} nullable={}{}",
            variable.name,
            variable.span.start.line,
            variable
                .ty
                .as_ref()
                .map(type_expression)
                .unwrap_or_else(|| "(none)".into()),
            variable
                .default
                .as_ref()
                .map(json)
                .unwrap_or_else(|| "(required)".into()),
            variable.sensitive,
            variable.nullable,
            variable
                .description
                .as_ref()
                .map(|d| format!(" description={d:?}"))
                .unwrap_or_default()
        );
        conditions(&mut out, "validation", &variable.validations);
    }
    for local in module.locals.values() {
        let _ = writeln!(out, "local {} = {}", local.name, text_of(&local.expr));
    }
    for config in module.resources.values() {
        resource_summary(&mut out, "", config);
    }
    for output in module.outputs.values() {
        let _ = writeln!(
            out,
            "output {} = {} sensitive={}{}{}",
            output.name,
            text_of(&output.expr),
            output.sensitive,
            output
                .description
                .as_ref()
                .map(|d| format!(" description={d:?}"))
                .unwrap_or_default(),
            if output.depends_on.is_empty() {
                String::new()
            } else {
                format!(
                    " depends_on=[{}]",
                    output
                        .depends_on
                        .iter()
                        .map(text_of)
                        .collect::<Vec<_>>()
                        .join(", ")
                )
            }
        );
        conditions(&mut out, "precondition", &output.preconditions);
    }
    for call in module.module_calls.values() {
        // Relative to the fixtures, so the snapshot does not depend on where the tree is.
        let dir = call
            .source_dir
            .strip_prefix(fixtures("config"))
            .map(|p| p.display().to_string())
            .unwrap_or_else(|_| call.source_dir.display().to_string());
        let _ = writeln!(
            out,
            "module {} source={:?} dir={dir}",
            call.name, call.source
        );
        for (name, input) in &call.inputs {
            let _ = writeln!(out, "  input {name} = {}", text_of(input));
        }
        if let Some(count) = &call.count {
            let _ = writeln!(out, "  count = {}", text_of(count));
        }
        if let Some(for_each) = &call.for_each {
            let _ = writeln!(out, "  for_each = {}", text_of(for_each));
        }
        if !call.depends_on.is_empty() {
            let list: Vec<String> = call.depends_on.iter().map(text_of).collect();
            let _ = writeln!(out, "  depends_on = [{}]", list.join(", "));
        }
        for (child, parent) in &call.providers {
            let _ = writeln!(out, "  provider {child} = {parent}");
        }
    }
    for moved in &module.moved {
        let _ = writeln!(out, "moved {} -> {}", moved.from, moved.to);
    }
    for import in &module.imports {
        let _ = writeln!(
            out,
            "import {} id={}{}",
            import.to,
            text_of(&import.id),
            import
                .provider
                .as_ref()
                .map(|p| format!(" provider={p}"))
                .unwrap_or_default()
        );
    }
    for removed in &module.removed {
        let _ = writeln!(out, "removed {} destroy={}", removed.from, removed.destroy);
    }
    for check in &module.checks {
        let _ = writeln!(out, "check {}", check.name);
        if let Some(data) = &check.data {
            resource_summary(&mut out, "  ", data);
        }
        conditions(&mut out, "assert", &check.asserts);
    }
    for warning in module.warnings.iter() {
        let _ = writeln!(out, "warning: {}", describe(warning));
    }
    out
}

// --- The tests ----------------------------------------------------------------------------

#[test]
fn load_cases() {
    for case in cases("load") {
        let mut sources = SourceMap::new();
        let result = load_module(&case, &mut sources);
        let spec = case_spec(&case);
        if has_expected_errors(&case) || !spec.errors.is_empty() {
            match result {
                Ok(module) => panic!(
                    "case {} loaded but errors were expected:\n{}",
                    case_name(&case),
                    summarize(&module)
                ),
                Err(diagnostics) => check_diagnostics(&case, &diagnostics, &spec.unlocated()),
            }
        } else {
            let module = match result {
                Ok(module) => module,
                Err(diagnostics) => panic!("case {} failed:\n{diagnostics}", case_name(&case)),
            };
            check_diagnostics(&case, &module.warnings, &spec.unlocated());
            insta::assert_snapshot!(format!("load_{}", case_name(&case)), summarize(&module));
        }
    }
}

fn tree_summary(out: &mut String, path: &str, tree: &ModuleTree, root: &Path) {
    let dir = tree
        .module
        .dir
        .strip_prefix(root)
        .map(|p| p.display().to_string())
        .unwrap_or_default();
    let _ = writeln!(
        out,
        "{} dir={} resources=[{}]",
        if path.is_empty() { "(root)" } else { path },
        if dir.is_empty() { ".".to_string() } else { dir },
        tree.module
            .resources
            .keys()
            .map(|r| r.to_string())
            .collect::<Vec<_>>()
            .join(", ")
    );
    for (name, child) in &tree.children {
        let child_path = if path.is_empty() {
            format!("module.{name}")
        } else {
            format!("{path}.module.{name}")
        };
        tree_summary(out, &child_path, child, root);
    }
}

#[test]
fn tree_cases() {
    for case in cases("tree") {
        let mut sources = SourceMap::new();
        let result = load_tree(&case, &mut sources);
        if has_expected_errors(&case) {
            match result {
                Ok(_) => panic!("case {} loaded but errors were expected", case_name(&case)),
                Err(diagnostics) => check_diagnostics(&case, &diagnostics, &[]),
            }
        } else {
            let tree = result.unwrap_or_else(|d| panic!("case {} failed:\n{d}", case_name(&case)));
            check_diagnostics(&case, &tree.warnings(), &[]);
            // A module called twice (nested: modules/b) has its warnings reported once.
            let warnings: Vec<String> = tree.warnings().iter().map(describe).collect();
            let distinct: std::collections::BTreeSet<&String> = warnings.iter().collect();
            assert_eq!(
                distinct.len(),
                warnings.len(),
                "a warning is repeated: {warnings:?}"
            );
            let mut out = String::new();
            tree_summary(&mut out, "", &tree, &case);
            assert_eq!(
                tree.descendant(&[]).map(|t| t.module.dir.clone()),
                Some(case.clone())
            );
            insta::assert_snapshot!(format!("tree_{}", case_name(&case)), out);
        }
    }
}

/// `case.json` of a case (optional): what cannot be written inline in the fixture files.
#[derive(serde::Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct CaseSpec {
    /// Environment variables, in order.
    #[serde(default)]
    env: Vec<(String, String)>,
    /// Command-line sources: `-var=NAME=VALUE` or `-var-file=PATH` (relative to the case).
    #[serde(default)]
    cli: Vec<String>,
    /// Texts of expected errors that have no location (from `-var` or the environment).
    #[serde(default)]
    errors: Vec<String>,
    /// Texts of expected warnings likewise.
    #[serde(default)]
    warnings: Vec<String>,
    /// The names `missing_required` must report.
    #[serde(default)]
    missing: Vec<String>,
    /// Texts (sensitive values) that no diagnostic may contain.
    #[serde(default)]
    never_shown: Vec<String>,
}

fn case_spec(case: &Path) -> CaseSpec {
    match std::fs::read_to_string(case.join("case.json")) {
        Ok(text) => serde_json::from_str(&text).expect("valid case.json"),
        Err(_) => CaseSpec::default(),
    }
}

impl CaseSpec {
    fn unlocated(&self) -> Vec<(Severity, String)> {
        self.errors
            .iter()
            .map(|text| (Severity::Error, text.clone()))
            .chain(
                self.warnings
                    .iter()
                    .map(|text| (Severity::Warning, text.clone())),
            )
            .collect()
    }
}

fn run_variables_case(case: &Path) {
    let spec = case_spec(case);
    let cli: Vec<VarSource> = spec
        .cli
        .iter()
        .map(|arg| {
            if let Some(path) = arg.strip_prefix("-var-file=") {
                VarSource::File(case.join(path))
            } else if let Some(text) = arg.strip_prefix("-var=") {
                VarSource::Flag(text.to_string())
            } else {
                panic!("bad cli entry {arg}")
            }
        })
        .collect();
    let mut sources = SourceMap::new();
    let module = load_module(case, &mut sources)
        .unwrap_or_else(|d| panic!("case {} does not load:\n{d}", case_name(case)));
    assert_eq!(
        missing_required(&module, case, &cli, &spec.env, &mut sources),
        spec.missing,
        "missing_required of {}",
        case_name(case)
    );
    let result = resolve_root_variables_with_warnings(&module, case, &cli, &spec.env, &mut sources);
    if let Err(diagnostics) = &result {
        for secret in &spec.never_shown {
            for d in diagnostics.iter() {
                assert!(
                    !format!("{d:?}").contains(secret.as_str()),
                    "a diagnostic shows a sensitive value: {d:?}"
                );
            }
        }
    }
    let unlocated = spec.unlocated();
    if has_expected_errors(case) || !spec.errors.is_empty() {
        match result {
            Ok((values, _)) => panic!(
                "case {} resolved but errors were expected: {values:?}",
                case_name(case)
            ),
            Err(diagnostics) => check_diagnostics(case, &diagnostics, &unlocated),
        }
    } else {
        let (values, warnings) =
            result.unwrap_or_else(|d| panic!("case {} failed:\n{d}", case_name(case)));
        check_diagnostics(case, &warnings, &unlocated);
        let mut out = String::new();
        for (name, value) in &values {
            let _ = writeln!(
                out,
                "{name} = {} ({})",
                json(value),
                value.friendly_type_name()
            );
        }
        insta::assert_snapshot!(format!("variables_{}", case_name(case)), out);
    }
}

#[test]
fn variables_cases() {
    for case in cases("variables") {
        run_variables_case(&case);
    }
}

/// No input may make the loader panic: every fixture, truncated at many points and with
/// characters deleted or inserted, is decoded (with a bound on the number of variants).
#[test]
fn mutated_inputs_do_not_panic() {
    let inserts = [
        '{', '}', '[', ']', '(', ')', '"', '=', '$', '%', '~', '<', '\n', '.', '*', '#', ',',
    ];
    let mut variants = 0usize;
    for path in files_below(&fixtures("config")) {
        let is_config = path.extension().is_some_and(|e| e == "tf" || e == "tfvars");
        if !is_config {
            continue;
        }
        let text = std::fs::read_to_string(&path).expect("readable");
        let boundaries: Vec<usize> = text
            .char_indices()
            .map(|(i, _)| i)
            .chain([text.len()])
            .collect();
        let step = (boundaries.len() / 60).max(1);
        for (n, &at) in boundaries.iter().enumerate().step_by(step) {
            let mut candidates = vec![text[..at].to_string()];
            if let Some(&next) = boundaries.get(n + 1) {
                candidates.push(format!("{}{}", &text[..at], &text[next..]));
            }
            let insert = inserts[n % inserts.len()];
            candidates.push(format!("{}{insert}{}", &text[..at], &text[at..]));
            for candidate in candidates {
                variants += 1;
                let result = std::panic::catch_unwind(|| {
                    let mut module = Module {
                        dir: PathBuf::from("."),
                        ..Module::default()
                    };
                    let mut sources = SourceMap::new();
                    let mut diagnostics = Diagnostics::new();
                    decode_file_text(
                        &mut module,
                        "mutated.tf",
                        &candidate,
                        &mut sources,
                        &mut diagnostics,
                    );
                });
                assert!(
                    result.is_ok(),
                    "panicked on a variant of {}:\n{candidate}",
                    path.display()
                );
            }
        }
    }
    assert!(variants > 100, "too few variants ({variants})");
}

// --- Differential test against HashiCorp's own parser ---------------------------------------

/// Terraform's JSON syntax of a body as hcl2json writes it: attributes by name, blocks by
/// type then labels, each an array of bodies; literal values as JSON, and every other
/// expression as `"${<source text>}"`.
fn body_to_terraform_json(
    body: &hcl_edit::structure::Body,
    file: &std::sync::Arc<strata::diagnostics::SourceFile>,
) -> serde_json::Value {
    use hcl_edit::structure::Structure;
    let mut out = serde_json::Map::new();
    for structure in body.iter() {
        match structure {
            Structure::Attribute(attribute) => {
                out.insert(
                    attribute.key.as_str().to_string(),
                    expression_to_terraform_json(&attribute.value, file),
                );
            }
            Structure::Block(block) => {
                let mut slot = out
                    .entry(block.ident.as_str().to_string())
                    .or_insert_with(|| {
                        if block.labels.is_empty() {
                            serde_json::json!([])
                        } else {
                            serde_json::json!({})
                        }
                    });
                for label in &block.labels {
                    let next = slot
                        .as_object_mut()
                        .expect("labelled blocks nest in objects");
                    let is_last = std::ptr::eq(label, block.labels.last().unwrap());
                    slot = next.entry(label.as_str().to_string()).or_insert_with(|| {
                        if is_last {
                            serde_json::json!([])
                        } else {
                            serde_json::json!({})
                        }
                    });
                }
                slot.as_array_mut()
                    .expect("block bodies are in arrays")
                    .push(body_to_terraform_json(&block.body, file));
            }
        }
    }
    serde_json::Value::Object(out)
}

fn expression_to_terraform_json(
    expression: &hcl_edit::expr::Expression,
    file: &std::sync::Arc<strata::diagnostics::SourceFile>,
) -> serde_json::Value {
    use hcl_edit::expr::{Expression, ObjectKey};
    use hcl_edit::Span as _;
    let source = || {
        let text = expression
            .span()
            .and_then(|range| file.text.get(range))
            .unwrap_or("?");
        serde_json::Value::String(format!("${{{}}}", text.trim()))
    };
    match expression {
        Expression::Array(items) => serde_json::Value::Array(
            items
                .iter()
                .map(|item| expression_to_terraform_json(item, file))
                .collect(),
        ),
        Expression::Object(object) => {
            let mut out = serde_json::Map::new();
            for (key, value) in object.iter() {
                let name = match key {
                    ObjectKey::Ident(ident) => ident.as_str().to_string(),
                    // A bare traversal as a key (`aws.replica = aws`) is written as its text.
                    ObjectKey::Expression(key_expression @ Expression::Traversal(_)) => {
                        key_expression
                            .span()
                            .and_then(|range| file.text.get(range))
                            .unwrap_or("?")
                            .trim()
                            .to_string()
                    }
                    ObjectKey::Expression(key_expression) => {
                        match expression_to_terraform_json(key_expression, file) {
                            serde_json::Value::String(s) => s,
                            other => other.to_string(),
                        }
                    }
                };
                out.insert(name, expression_to_terraform_json(value.expr(), file));
            }
            serde_json::Value::Object(out)
        }
        _ => match strata::config::literal::literal_value(expression, file) {
            Ok(value) => escape_templates(value_to_json(&value).expect("a literal is known")),
            // A quoted template is written as its text between the quotes (JSON strings are
            // templates too), unless it is one interpolation alone (`"${var.x}"`).
            Err(_) => match expression {
                Expression::StringTemplate(_) => {
                    let text = expression
                        .span()
                        .and_then(|range| file.text.get(range))
                        .unwrap_or("\"?\"")
                        .trim();
                    let inner = text
                        .strip_prefix('"')
                        .and_then(|t| t.strip_suffix('"'))
                        .unwrap_or(text);
                    serde_json::Value::String(inner.to_string())
                }
                _ => source(),
            },
        },
    }
}

/// In Terraform's JSON syntax a string is a template: a literal `${` or `%{` is written `$${`
/// or `%%{`.
fn escape_templates(json: serde_json::Value) -> serde_json::Value {
    match json {
        serde_json::Value::String(s) => {
            serde_json::Value::String(s.replace("${", "$${").replace("%{", "%%{"))
        }
        serde_json::Value::Array(items) => {
            serde_json::Value::Array(items.into_iter().map(escape_templates).collect())
        }
        serde_json::Value::Object(entries) => serde_json::Value::Object(
            entries
                .into_iter()
                .map(|(k, v)| (k, escape_templates(v)))
                .collect(),
        ),
        other => other,
    }
}

/// Whether a string of Terraform's JSON syntax is a template that still has interpolations or
/// directives (hcl2json writes non-constant templates as their text): `$${` and `%%{` are
/// escapes, not markers.
fn is_template(text: &str) -> bool {
    let bytes = text.as_bytes();
    let mut index = 0;
    while index + 1 < bytes.len() {
        if (bytes[index] == b'$' || bytes[index] == b'%') && bytes[index + 1] == bytes[index] {
            index += 2;
            continue;
        }
        if (bytes[index] == b'$' || bytes[index] == b'%') && bytes[index + 1] == b'{' {
            return true;
        }
        index += 1;
    }
    false
}

/// Compares hcl2json's output (`theirs`) with ours: the same block structure and attribute
/// names everywhere; the same value wherever theirs is a literal. Where theirs is an
/// expression (`"${...}"`, or a template with interpolations or directives) ours may be an
/// expression or a constant it could fold (`(1)`, `60 * 60`).
fn compare_terraform_json(
    theirs: &serde_json::Value,
    ours: &serde_json::Value,
    path: &str,
    problems: &mut Vec<String>,
) {
    use serde_json::Value as J;
    match (theirs, ours) {
        (J::String(s), _) if is_template(s) => {}
        (J::Object(a), J::Object(b)) => {
            let keys_a: std::collections::BTreeSet<&String> = a.keys().collect();
            let keys_b: std::collections::BTreeSet<&String> = b.keys().collect();
            if keys_a != keys_b {
                problems.push(format!(
                    "{path}: names differ: hcl2json {keys_a:?}, strata {keys_b:?}"
                ));
                return;
            }
            for (key, value) in a {
                compare_terraform_json(value, &b[key], &format!("{path}.{key}"), problems);
            }
        }
        (J::Array(a), J::Array(b)) => {
            if a.len() != b.len() {
                problems.push(format!(
                    "{path}: {} elements in hcl2json, {} in strata",
                    a.len(),
                    b.len()
                ));
                return;
            }
            for (index, (x, y)) in a.iter().zip(b).enumerate() {
                compare_terraform_json(x, y, &format!("{path}[{index}]"), problems);
            }
        }
        // hcl2json's numbers went through a JavaScript double; ours are exact.
        (J::Number(x), J::Number(y)) => {
            let (x, y) = (
                x.to_string().parse::<f64>().unwrap_or(f64::NAN),
                y.to_string().parse::<f64>().unwrap_or(f64::NAN),
            );
            if x != y {
                problems.push(format!("{path}: number {x} in hcl2json, {y} in strata"));
            }
        }
        (a, b) if a == b => {}
        (a, b) => problems.push(format!("{path}: hcl2json {a}, strata {b}")),
    }
}

#[test]
fn hcl2json_agrees_on_structure_and_literals() {
    let output = std::process::Command::new("bash")
        .arg(crate::common::repo_root().join("scripts/ensure-hcl2json.sh"))
        .stderr(std::process::Stdio::inherit())
        .output();
    let node_modules = match output {
        Ok(output) if output.status.success() => String::from_utf8_lossy(&output.stdout).trim().to_string(),
        Ok(output) => panic!(
            "scripts/ensure-hcl2json.sh failed ({}): node, npm and the npm registry are needed to install @cdktf/hcl2json for this test",
            output.status
        ),
        Err(error) => panic!("cannot run scripts/ensure-hcl2json.sh: {error}"),
    };
    // Every .tf fixture that is expected to parse: no `# ERROR:` on any of its lines.
    let files: Vec<PathBuf> = files_below(&fixtures("config"))
        .into_iter()
        .filter(|path| path.extension().is_some_and(|e| e == "tf"))
        .filter(|path| {
            !std::fs::read_to_string(path)
                .unwrap_or_default()
                .contains("# ERROR:")
        })
        .collect();
    assert!(files.len() >= 8, "too few fixtures: {files:?}");
    let output = std::process::Command::new("node")
        .arg(crate::common::repo_root().join("scripts/hcl2json.js"))
        .arg(&node_modules)
        .args(&files)
        .output()
        .unwrap_or_else(|error| panic!("cannot run node (needed for this test): {error}"));
    assert!(
        output.status.success(),
        "node scripts/hcl2json.js failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let parsed: serde_json::Map<String, serde_json::Value> =
        serde_json::from_slice(&output.stdout).expect("hcl2json output is JSON");
    let mut problems = Vec::new();
    for path in &files {
        let theirs = &parsed[&path.display().to_string()];
        assert!(
            theirs.get("error").is_none(),
            "hcl2json cannot parse {}: {}",
            path.display(),
            theirs["error"]
        );
        let text = std::fs::read_to_string(path).expect("readable");
        let mut sources = SourceMap::new();
        let (file, body) =
            strata::config::load::parse_file(&path.display().to_string(), &text, &mut sources)
                .unwrap_or_else(|error| panic!("strata cannot parse {}: {error}", path.display()));
        let ours = body_to_terraform_json(&body, &file);
        let before = problems.len();
        compare_terraform_json(theirs, &ours, &path.display().to_string(), &mut problems);
        if problems.len() > before {
            problems.push(format!("  hcl2json: {theirs}\n  strata:   {ours}"));
        }
    }
    assert!(
        problems.is_empty(),
        "hcl2json and strata disagree:\n{}",
        problems.join("\n")
    );
}
