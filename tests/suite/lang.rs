//! The expression evaluator (`strata::lang`), driven by fixtures under `tests/fixtures/lang/`:
//!
//! - `eval/*.tf`, `body/*.tf`: each top-level attribute is a case evaluated with
//!   [`eval_expr`], each top-level block `thing "case" { ... }` a case evaluated with
//!   [`eval_body`] against the test schema of that block type. A file without `# ERROR:`
//!   comments must evaluate without errors and is compared with its `insta` snapshot; a file
//!   with them must produce exactly those errors on exactly those lines.
//! - `literal/*.tf`: the same, with [`eval_literal`].
//! - `refs/*.tf`: the references each case makes, as a snapshot.
//!
//! References resolve through a test scope read from `tests/fixtures/lang/scope.json`, where
//! `{"$unknown": TYPE}`, `{"$sensitive": VALUE}`, `{"$list": [...]}`, `{"$set": [...]}` and
//! `{"$map": {...}}` write what JSON cannot.

use crate::common::fixtures;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use strata::config::{Body, Expr};
use strata::diagnostics::{Diagnostic, Diagnostics, SourceFile, Span};
use strata::lang::{
    body_references, eval_body, eval_expr, eval_literal, references, EvalContext, Referenceable,
    Scope,
};
use strata::providers::schema::{Attribute, Block, NestedBlock, Nesting};
use strata::value::{Number, ObjectType, Type, Value};

struct TestScope {
    values: BTreeMap<String, Value>,
}

impl TestScope {
    fn load() -> TestScope {
        let text =
            std::fs::read_to_string(fixtures("lang").join("scope.json")).expect("read scope.json");
        let json: serde_json::Value = serde_json::from_str(&text).expect("scope.json is JSON");
        let values = json
            .as_object()
            .expect("scope.json is an object")
            .iter()
            .map(|(k, v)| (k.clone(), decode(v)))
            .collect();
        TestScope { values }
    }
}

fn key_of(subject: &Referenceable) -> String {
    match subject {
        Referenceable::Variable(name) => format!("var.{name}"),
        Referenceable::Local(name) => format!("local.{name}"),
        Referenceable::Resource(resource) => resource.to_string(),
        Referenceable::ModuleCall(name) => format!("module.{name}"),
        Referenceable::CountIndex => "count.index".into(),
        Referenceable::EachKey => "each.key".into(),
        Referenceable::EachValue => "each.value".into(),
        Referenceable::Path(name) => format!("path.{name}"),
        Referenceable::TerraformWorkspace => "terraform.workspace".into(),
        Referenceable::SelfObject => "self".into(),
    }
}

impl Scope for TestScope {
    fn resolve(&self, subject: &Referenceable, span: Option<&Span>) -> Result<Value, Diagnostic> {
        let key = key_of(subject);
        self.values.get(&key).cloned().ok_or_else(|| {
            let (summary, detail) = match subject {
                Referenceable::Variable(name) => (
                    "Reference to undeclared input variable",
                    format!("An input variable with the name \"{name}\" has not been declared."),
                ),
                Referenceable::Local(name) => (
                    "Reference to undeclared local value",
                    format!("A local value with the name \"{name}\" has not been declared."),
                ),
                _ => (
                    "Reference to undeclared resource",
                    format!("`{key}` has not been declared."),
                ),
            };
            let diagnostic = Diagnostic::error(summary).with_detail(detail);
            match span {
                Some(span) => diagnostic.with_span(span.clone()),
                None => diagnostic,
            }
        })
    }
}

/// A value from the scope file's JSON (see the module header for the markers).
fn decode(json: &serde_json::Value) -> Value {
    match json {
        serde_json::Value::Null => Value::Null,
        serde_json::Value::Bool(b) => Value::Bool(*b),
        serde_json::Value::Number(n) => {
            Value::Number(Number::parse(&n.to_string()).expect("number"))
        }
        serde_json::Value::String(s) => Value::String(s.clone()),
        serde_json::Value::Array(items) => Value::Tuple(items.iter().map(decode).collect()),
        serde_json::Value::Object(entries) => {
            if entries.len() == 1 {
                let (marker, inner) = entries.iter().next().expect("one entry");
                match marker.as_str() {
                    "$unknown" => {
                        return Value::Unknown(
                            serde_json::from_value(inner.clone()).expect("a type"),
                        )
                    }
                    "$sensitive" => return decode(inner).mark_sensitive(),
                    "$list" => return Value::List(decode_seq(inner)),
                    "$set" => return Value::set(decode_seq(inner)),
                    "$map" => {
                        return Value::Map(
                            inner
                                .as_object()
                                .expect("$map takes an object")
                                .iter()
                                .map(|(k, v)| (k.clone(), decode(v)))
                                .collect(),
                        )
                    }
                    _ => {}
                }
            }
            Value::Object(
                entries
                    .iter()
                    .map(|(k, v)| (k.clone(), decode(v)))
                    .collect(),
            )
        }
    }
}

fn decode_seq(json: &serde_json::Value) -> Vec<Value> {
    json.as_array()
        .expect("an array")
        .iter()
        .map(decode)
        .collect()
}

/// A value as readable JSON: unknowns as `"(unknown TYPE)"`, sensitive values wrapped in
/// `{"(sensitive)": ...}`, numbers with every digit.
fn render(value: &Value) -> serde_json::Value {
    match value {
        Value::Null => serde_json::Value::Null,
        Value::Unknown(ty) => serde_json::Value::String(format!("(unknown {})", ty.expression())),
        Value::Bool(b) => serde_json::Value::Bool(*b),
        Value::Number(n) => serde_json::from_str(&n.to_string()).expect("a JSON number"),
        Value::String(s) => serde_json::Value::String(s.clone()),
        Value::List(items) | Value::Tuple(items) | Value::Set(items) => {
            serde_json::Value::Array(items.iter().map(render).collect())
        }
        Value::Map(entries) | Value::Object(entries) => serde_json::Value::Object(
            entries
                .iter()
                .map(|(k, v)| (k.clone(), render(v)))
                .collect(),
        ),
        Value::Sensitive(inner) => serde_json::json!({ "(sensitive)": render(inner) }),
    }
}

fn render_case(value: &Value) -> serde_json::Value {
    serde_json::json!({ "type": value.type_of().expression(), "value": render(value) })
}

/// The schemas body cases are evaluated against, by block type.
fn schema_for(block_type: &str) -> Option<Block> {
    let filter = Block::new()
        .attr("name", Attribute::required(Type::String))
        .attr("values", Attribute::optional(Type::list(Type::String)));
    let rule = Block::new()
        .attr("port", Attribute::required(Type::Number))
        .attr("cidrs", Attribute::optional(Type::list(Type::String)))
        .block("filter", Nesting::Set, filter);
    let setting = Block::new()
        .attr("key", Attribute::required(Type::String))
        .attr("value", Attribute::optional(Type::String));
    let tag = Block::new()
        .attr("key", Attribute::required(Type::String))
        .attr("value", Attribute::optional(Type::String));
    let mut config_type = ObjectType::new([
        ("size".to_string(), Type::Number),
        ("mode".to_string(), Type::String),
    ]);
    config_type
        .optional
        .insert("mode".into(), Some(Value::string("fast")));
    let thing = Block::new()
        .attr("name", Attribute::required(Type::String))
        .attr("size", Attribute::optional(Type::Number))
        .attr("enabled", Attribute::optional(Type::Bool))
        .attr("tags", Attribute::optional(Type::map(Type::String)))
        .attr("ports", Attribute::optional(Type::list(Type::Number)))
        .attr("zones", Attribute::optional(Type::set(Type::String)))
        .attr("config", Attribute::optional(Type::Object(config_type)))
        .attr("anything", Attribute::optional(Type::Any))
        .attr("id", Attribute::computed(Type::String))
        .attr("arn", Attribute::optional_computed(Type::String))
        .block("setting", Nesting::Single, setting)
        .nested(
            "rule",
            NestedBlock {
                nesting: Nesting::List,
                block: rule,
                min_items: 0,
                max_items: 3,
                force_new: false,
                computed: false,
                attribute_syntax: false,
            },
        )
        .block("tag", Nesting::Set, tag);
    let ingress = Block::new()
        .attr("port", Attribute::required(Type::Number))
        .attr("cidrs", Attribute::optional(Type::list(Type::String)));
    match block_type {
        "thing" => Some(thing),
        // Terraform's "attributes as blocks": `ingress { ... }` or `ingress = [{ ... }]`.
        "secgroup" => Some(
            Block::new()
                .attr("name", Attribute::optional(Type::String))
                .nested(
                    "ingress",
                    NestedBlock {
                        nesting: Nesting::Set,
                        block: ingress,
                        min_items: 0,
                        max_items: 0,
                        force_new: false,
                        computed: true,
                        attribute_syntax: true,
                    },
                ),
        ),
        // A plugin's SDKv2 `ConfigModeAttr` argument: an attribute of type set of objects,
        // which Terraform's `blocktoattr` rule lets the configuration write as blocks too.
        "pluginsg" => Some(
            Block::new()
                .attr("name", Attribute::optional(Type::String))
                .attr(
                    "ingress",
                    Attribute::optional_computed(Type::set(Type::Object(ObjectType::new([
                        ("port".to_string(), Type::Number),
                        ("description".to_string(), Type::String),
                        ("cidrs".to_string(), Type::list(Type::String)),
                    ])))),
                ),
        ),
        "strict" => Some(
            Block::new()
                .attr("name", Attribute::optional(Type::String))
                .nested(
                    "part",
                    NestedBlock {
                        nesting: Nesting::List,
                        block: Block::new().attr("n", Attribute::required(Type::Number)),
                        min_items: 1,
                        max_items: 2,
                        force_new: false,
                        computed: false,
                        attribute_syntax: false,
                    },
                ),
        ),
        _ => None,
    }
}

enum Evaluation {
    Expression,
    Literal,
}

struct CaseResult {
    name: String,
    /// The line of the case's first token: diagnostics located in other files (templates) are
    /// attributed to it.
    line: usize,
    result: Result<Value, Diagnostics>,
}

fn parse_fixture(path: &Path) -> (Arc<SourceFile>, hcl_edit::structure::Body) {
    let text = std::fs::read_to_string(path).expect("read fixture");
    let name = path
        .file_name()
        .expect("file name")
        .to_string_lossy()
        .to_string();
    let body =
        hcl_edit::parser::parse_body(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    (Arc::new(SourceFile::new(name, text)), body)
}

fn evaluate_fixture(path: &Path, how: Evaluation) -> (Arc<SourceFile>, Vec<CaseResult>) {
    use hcl_edit::Span as _;
    let (file, body) = parse_fixture(path);
    let scope = TestScope::load();
    let ctx = EvalContext {
        scope: &scope,
        module_dir: fixtures("lang"),
        plan_mode: true,
    };
    let mut results = Vec::new();
    for structure in body.iter() {
        let line = file.pos(structure.span().map_or(0, |r| r.start)).line;
        match structure {
            hcl_edit::structure::Structure::Attribute(attribute) => {
                let expr = Expr {
                    file: file.clone(),
                    expr: attribute.value.clone(),
                };
                let result = match how {
                    Evaluation::Expression => eval_expr(&expr, &ctx),
                    Evaluation::Literal => eval_literal(&expr),
                };
                results.push(CaseResult {
                    name: attribute.key.as_str().to_string(),
                    line,
                    result,
                });
            }
            hcl_edit::structure::Structure::Block(block) => {
                let schema = schema_for(block.ident.as_str()).unwrap_or_else(|| {
                    panic!("no test schema for block type {}", block.ident.as_str())
                });
                let body = Body {
                    file: file.clone(),
                    body: block.body.clone(),
                };
                let label = block
                    .labels
                    .first()
                    .map(|l| l.as_str().to_string())
                    .unwrap_or_default();
                results.push(CaseResult {
                    name: format!("{}.{label}", block.ident.as_str()),
                    line,
                    result: eval_body(&body, &schema, &ctx),
                });
            }
        }
    }
    (file, results)
}

fn fixture_files(folder: &str) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(fixtures("lang").join(folder))
        .expect("fixture folder")
        .map(|entry| entry.expect("dir entry").path())
        .filter(|path| path.extension().is_some_and(|e| e == "tf"))
        .collect();
    files.sort();
    files
}

/// The `# ERROR: <substring>` expectations of a fixture, by line.
fn expected_errors(file: &SourceFile) -> BTreeMap<usize, Vec<String>> {
    let mut expected = BTreeMap::new();
    for (index, line) in file.text.lines().enumerate() {
        let mut parts = line.split("# ERROR:");
        parts.next();
        let wanted: Vec<String> = parts.map(|p| p.trim().to_string()).collect();
        if !wanted.is_empty() {
            expected.insert(index + 1, wanted);
        }
    }
    expected
}

/// Checks a fixture: its snapshot, or its inline error expectations. Returns failures.
fn check_fixture(folder: &str, path: &Path, how: Evaluation) -> Vec<String> {
    let (file, results) = evaluate_fixture(path, how);
    let expected = expected_errors(&file);
    let stem = path
        .file_stem()
        .expect("stem")
        .to_string_lossy()
        .to_string();
    let mut failures = Vec::new();
    if expected.is_empty() {
        let mut snapshot = serde_json::Map::new();
        for case in &results {
            match &case.result {
                Ok(value) => {
                    snapshot.insert(case.name.clone(), render_case(value));
                }
                Err(diags) => failures.push(format!(
                    "{}: case {} failed: {diags}",
                    path.display(),
                    case.name
                )),
            }
        }
        let text =
            serde_json::to_string_pretty(&serde_json::Value::Object(snapshot)).expect("JSON");
        insta::assert_snapshot!(format!("{folder}__{stem}"), text);
        return failures;
    }
    // Every diagnostic must be expected on its line, and every expectation met.
    let mut met: BTreeMap<(usize, usize), bool> = BTreeMap::new();
    for case in &results {
        let Err(diags) = &case.result else { continue };
        for diagnostic in diags.iter() {
            let line = match &diagnostic.span {
                Some(span) if *span.file == *file.name => span.start.line,
                Some(_) => case.line,
                None => {
                    failures.push(format!(
                        "{}: case {}: diagnostic without location: {diagnostic}",
                        path.display(),
                        case.name
                    ));
                    continue;
                }
            };
            let message = format!(
                "{}: {} {}",
                diagnostic.summary,
                diagnostic.detail,
                diagnostic.help.as_deref().unwrap_or_default()
            );
            // The scope's secrets (and the names inside a secret object) never show.
            for secret in ["hunter2", "passw0rd"] {
                if message.contains(secret) {
                    failures.push(format!(
                        "{}:{line}: a diagnostic shows a sensitive value: {message}",
                        path.display()
                    ));
                }
            }
            let matched: Vec<usize> = expected
                .get(&line)
                .map(|wanted| {
                    (0..wanted.len())
                        .filter(|i| message.contains(wanted[*i].as_str()))
                        .collect()
                })
                .unwrap_or_default();
            match matched.is_empty().then_some(()) {
                None => {
                    for index in matched {
                        met.insert((line, index), true);
                    }
                }
                Some(()) => failures.push(format!(
                    "{}:{line}: case {}: unexpected diagnostic: {message}",
                    path.display(),
                    case.name
                )),
            }
        }
    }
    for (line, wanted) in &expected {
        for (index, substring) in wanted.iter().enumerate() {
            if !met.contains_key(&(*line, index)) {
                failures.push(format!(
                    "{}:{line}: expected an error containing `{substring}`",
                    path.display()
                ));
            }
        }
    }
    failures
}

fn run_folder(folder: &str, how: fn() -> Evaluation) {
    let mut failures = Vec::new();
    let files = fixture_files(folder);
    assert!(!files.is_empty(), "no fixtures in {folder}");
    for path in files {
        failures.extend(check_fixture(folder, &path, how()));
    }
    assert!(
        failures.is_empty(),
        "{} failure(s):\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn expressions() {
    run_folder("eval", || Evaluation::Expression);
}

#[test]
fn bodies() {
    run_folder("body", || Evaluation::Expression);
}

/// Each `json-body/<case>.tf.json` and its native spelling `<case>.tf` decode (as modules) to
/// resources whose bodies evaluate to the same values against the test schemas: nested blocks
/// written as JSON objects and arrays of objects, `dynamic` blocks, attributes as blocks.
#[test]
fn json_bodies_evaluate_as_their_native_spelling() {
    use strata::config::load::decode_file_text;
    let scope = TestScope::load();
    let ctx = EvalContext {
        scope: &scope,
        module_dir: fixtures("lang"),
        plan_mode: true,
    };
    let folder = fixtures("lang").join("json-body");
    let evaluate = |path: &Path| -> Vec<(String, String)> {
        let text = std::fs::read_to_string(path).expect("read fixture");
        let name = path.file_name().unwrap().to_string_lossy().to_string();
        let mut module = strata::config::Module::default();
        let mut sources = strata::diagnostics::SourceMap::new();
        let mut diagnostics = Diagnostics::new();
        decode_file_text(&mut module, &name, &text, &mut sources, &mut diagnostics);
        assert!(!diagnostics.has_errors(), "{name}: {diagnostics}");
        module
            .resources
            .values()
            .map(|resource| {
                let schema = schema_for(&resource.addr.type_name).expect("a test schema");
                let value = eval_body(&resource.body, &schema, &ctx)
                    .unwrap_or_else(|errors| panic!("{name} {}: {errors}", resource.addr));
                (resource.addr.to_string(), render(&value).to_string())
            })
            .collect()
    };
    let mut cases = 0;
    for path in fixture_files("json-body") {
        if path.extension().is_some_and(|e| e == "json") {
            continue;
        }
        let json = folder.join(format!(
            "{}.json",
            path.file_name().unwrap().to_string_lossy()
        ));
        let native = evaluate(&path);
        assert!(!native.is_empty());
        assert_eq!(evaluate(&json), native, "{}", json.display());
        cases += 1;
    }
    assert!(cases > 0, "no json-body cases");
}

#[test]
fn literals() {
    run_folder("literal", || Evaluation::Literal);
}

#[test]
fn reference_lists() {
    for path in fixture_files("refs") {
        let (file, body) = parse_fixture(&path);
        let mut snapshot = serde_json::Map::new();
        for structure in body.iter() {
            let (name, found) = match structure {
                hcl_edit::structure::Structure::Attribute(attribute) => (
                    attribute.key.as_str().to_string(),
                    references(&Expr {
                        file: file.clone(),
                        expr: attribute.value.clone(),
                    }),
                ),
                hcl_edit::structure::Structure::Block(block) => (
                    format!(
                        "{}.{}",
                        block.ident.as_str(),
                        block.labels.first().map(|l| l.as_str()).unwrap_or("")
                    ),
                    body_references(&Body {
                        file: file.clone(),
                        body: block.body.clone(),
                    }),
                ),
            };
            let listed: Vec<String> = found
                .iter()
                .map(|reference| {
                    let at = reference
                        .span
                        .as_ref()
                        .map(|s| format!("{}:{}", s.start.line, s.start.column))
                        .unwrap_or_default();
                    format!("{} @ {at}", key_of(&reference.subject))
                })
                .collect();
            snapshot.insert(name, serde_json::json!(listed));
        }
        let stem = path
            .file_stem()
            .expect("stem")
            .to_string_lossy()
            .to_string();
        let text =
            serde_json::to_string_pretty(&serde_json::Value::Object(snapshot)).expect("JSON");
        insta::assert_snapshot!(format!("refs__{stem}"), text);
    }
}

/// No input makes parsing and evaluation panic: every fixture, mutated many ways
/// (deterministically), is parsed and evaluated; only `Ok` or `Err` may come back.
#[test]
fn mutated_fixtures_never_panic() {
    const FRAGMENTS: &[&str] = &[
        "${",
        "}",
        "%{",
        "~",
        "[*]",
        ".*",
        "...",
        "\"",
        "(",
        ")",
        "[",
        "]",
        "{",
        "null",
        "-",
        "/0",
        "%0",
        "?",
        ":",
        "99999999999999999999999999",
        "1e40",
        "for x in",
        "if",
        "=>",
        "var.",
        ".0",
        "[-1]",
        "!",
        "==",
        "\n",
        "<<EOT\n",
        "EOT\n",
        "#",
        "try(",
        "can(",
        "templatefile(",
        "dynamic \"rule\" {",
        "content {",
        "each.value",
        "count.index",
    ];
    let scope = TestScope::load();
    let ctx = EvalContext {
        scope: &scope,
        module_dir: fixtures("lang"),
        plan_mode: true,
    };
    let mut seed: u64 = 0x5eed_1234_abcd_0001;
    let mut next = move |bound: usize| {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        (seed % bound.max(1) as u64) as usize
    };
    let mut evaluated = 0usize;
    for folder in ["eval", "body", "literal", "refs"] {
        for path in fixture_files(folder) {
            let original = std::fs::read_to_string(&path).expect("read fixture");
            for _ in 0..60 {
                let mut text = original.clone();
                for _ in 0..1 + next(3) {
                    let mut at = next(text.len() + 1);
                    while !text.is_char_boundary(at) {
                        at -= 1;
                    }
                    match next(3) {
                        0 => text.insert_str(at, FRAGMENTS[next(FRAGMENTS.len())]),
                        1 => {
                            let mut end = (at + 1 + next(12)).min(text.len());
                            while !text.is_char_boundary(end) {
                                end -= 1;
                            }
                            text.replace_range(at..end, "");
                        }
                        _ => {
                            let mut end = (at + 1 + next(30)).min(text.len());
                            while !text.is_char_boundary(end) {
                                end -= 1;
                            }
                            let copy = text[at..end].to_string();
                            text.insert_str(end, &copy);
                        }
                    }
                }
                let Ok(body) = hcl_edit::parser::parse_body(&text) else {
                    continue;
                };
                let file = Arc::new(SourceFile::new("mutated.tf", text.clone()));
                for structure in body.iter() {
                    match structure {
                        hcl_edit::structure::Structure::Attribute(attribute) => {
                            let expr = Expr {
                                file: file.clone(),
                                expr: attribute.value.clone(),
                            };
                            let _ = eval_expr(&expr, &ctx);
                            let _ = eval_literal(&expr);
                            let _ = references(&expr);
                        }
                        hcl_edit::structure::Structure::Block(block) => {
                            let body = Body {
                                file: file.clone(),
                                body: block.body.clone(),
                            };
                            let schema = schema_for("thing").expect("schema");
                            let _ = eval_body(&body, &schema, &ctx);
                            let _ = body_references(&body);
                        }
                    }
                    evaluated += 1;
                }
            }
        }
    }
    assert!(
        evaluated > 100,
        "too few mutated inputs parsed: {evaluated}"
    );
}

/// Parsing and evaluating many resource-like blocks that refer to each other: every block
/// evaluates, each to its own values (how fast is measured in BENCHMARKS.md, not here).
#[test]
fn ten_thousand_blocks() {
    let mut text = String::new();
    for i in 0..10_000 {
        text.push_str(&format!(
            "thing \"t{i}\" {{\n  name = \"thing-${{var.name}}-{i}\"\n  size = {i} + local.base * 2\n  tags = {{ Name = \"t{i}\", Env = var.name }}\n  ports = [for p in var.ports : p + {i}]\n  rule {{\n    port = aws_instance.web[0].id == \"i-1\" ? 80 : 443\n  }}\n}}\n"
        ));
    }
    let scope = TestScope::load();
    let ctx = EvalContext {
        scope: &scope,
        module_dir: fixtures("lang"),
        plan_mode: true,
    };
    let schema = schema_for("thing").expect("schema");
    let body = hcl_edit::parser::parse_body(&text).expect("parse");
    // The configuration loader hands out owned bodies; making them is not evaluation.
    let file = Arc::new(SourceFile::new("many.tf", text.clone()));
    let bodies: Vec<Body> = body
        .iter()
        .filter_map(|structure| structure.as_block())
        .map(|block| Body {
            file: file.clone(),
            body: block.body.clone(),
        })
        .collect();
    let mut names = Vec::new();
    for body in &bodies {
        let value = eval_body(body, &schema, &ctx).expect("evaluates");
        let name = value
            .get_attr("name")
            .and_then(|v| v.as_str().map(str::to_string));
        names.push(name.expect("a name"));
    }
    assert_eq!(names.len(), 10_000);
    for (i, name) in names.iter().enumerate() {
        assert!(
            name.ends_with(&format!("-{i}")),
            "block {i} evaluated to name {name}"
        );
    }
}

/// Function-call plumbing through the function library (`calls/*.tf`, expected values inline
/// after `# =`, errors after `# ERROR:`). Skipped, saying so, while the library lacks the
/// functions these cases call.
#[test]
fn calls_through_the_function_library() {
    if !["upper", "max", "length"]
        .iter()
        .all(|name| strata::lang::functions::exists(name))
    {
        eprintln!("skipped: src/lang/functions does not provide upper/max/length yet");
        return;
    }
    let mut failures = Vec::new();
    for path in fixture_files("calls") {
        let (file, results) = evaluate_fixture(&path, Evaluation::Expression);
        for case in &results {
            let line_text = file.line_text(case.line).unwrap_or_default();
            let expected_value = line_text.split("# =").nth(1).map(str::trim);
            let expected_error = line_text.split("# ERROR:").nth(1).map(str::trim);
            match (&case.result, expected_value, expected_error) {
                (Ok(value), Some(expected), _) => {
                    let expected: serde_json::Value =
                        serde_json::from_str(expected).expect("expected JSON");
                    if render(value) != expected {
                        failures.push(format!(
                            "{}: got {}, expected {expected}",
                            case.name,
                            render(value)
                        ));
                    }
                }
                (Err(diags), _, Some(expected)) => {
                    if !diags
                        .iter()
                        .any(|d| format!("{}: {}", d.summary, d.detail).contains(expected))
                    {
                        failures.push(format!(
                            "{}: got {diags}, expected an error containing `{expected}`",
                            case.name
                        ));
                    }
                }
                (result, _, _) => {
                    failures.push(format!("{}: unexpected result {result:?}", case.name))
                }
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// `eval_condition`: a bool, `None` while unknown, an error for null or a non-bool.
#[test]
fn conditions() {
    let scope = TestScope::load();
    let ctx = EvalContext {
        scope: &scope,
        module_dir: fixtures("lang"),
        plan_mode: true,
    };
    let condition = |text: &str| {
        let file = Arc::new(SourceFile::new("condition.tf", text.to_string()));
        let expr = hcl_edit::parser::parse_expr(text).expect("parse");
        strata::lang::eval_condition(&Expr { file, expr }, &ctx)
    };
    assert_eq!(condition("var.count > 2"), Ok(Some(true)));
    assert_eq!(condition("\"false\""), Ok(Some(false)));
    assert_eq!(condition("var.unknown_bool"), Ok(None));
    assert_eq!(condition("var.secret == \"x\""), Ok(Some(false)));
    let null = condition("var.nothing").expect_err("null is not a condition");
    assert!(null.to_string().contains("not null"), "{null}");
    let text = condition("[1]").expect_err("a tuple is not a condition");
    assert!(text.to_string().contains("must be of type bool"), "{text}");
}
