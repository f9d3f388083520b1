//! HashiCorp's HCL specification suite, run against Strata's parser (hcl-edit) and evaluator.
//!
//! The suite ships with the Debian package `golang-github-hashicorp-hcl-v2-dev`
//! (`scripts/ensure-hcl-specsuite.sh` installs it). Each case is a `.t` file naming the expected
//! `result` (with its `result_type`) or the expected `diagnostics`, an `.hcl` input and an
//! `.hcldec` spec saying how to decode the input into a value. This test implements the part
//! of the hcldec spec language the suite uses (`literal`, `object`, `attr`, `block`,
//! `block_map`, `variables`) on top of `strata::lang`.
//!
//! One deliberate difference: HCL computes with 512-bit binary floats, Strata with exact
//! decimals, so a fractional result may differ far down its digits (`11 % 5.1` is exactly
//! `0.8` here and `0.8000…00024` in HCL); numbers are compared to 60 significant digits.

use crate::common::repo_root;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use strata::config::type_constraint::parse_type_constraint;
use strata::config::Expr;
use strata::diagnostics::{Diagnostic, SourceFile, Span};
use strata::lang::{eval_expr_with_symbols, eval_literal, EvalContext, Referenceable, Scope};
use strata::value::{convert, Type, Value};

struct NoScope;

impl Scope for NoScope {
    fn resolve(&self, subject: &Referenceable, span: Option<&Span>) -> Result<Value, Diagnostic> {
        let diagnostic = Diagnostic::error("Unknown variable")
            .with_detail(format!("{subject:?} is not defined."));
        Err(match span {
            Some(span) => diagnostic.with_span(span.clone()),
            None => diagnostic,
        })
    }
}

/// The installed suite's `tests` folder, installing the package when needed.
fn suite_dir() -> Result<PathBuf, String> {
    let output = std::process::Command::new("bash")
        .arg(repo_root().join("scripts/ensure-hcl-specsuite.sh"))
        .output()
        .map_err(|e| format!("cannot run scripts/ensure-hcl-specsuite.sh: {e}"))?;
    if !output.status.success() {
        return Err(format!(
            "the package golang-github-hashicorp-hcl-v2-dev could not be installed: {}",
            String::from_utf8_lossy(&output.stderr).trim()
        ));
    }
    let dir = PathBuf::from(String::from_utf8_lossy(&output.stdout).trim());
    if dir.is_dir() {
        Ok(dir)
    } else {
        Err(format!(
            "{} is not a folder after installation",
            dir.display()
        ))
    }
}

fn t_files(dir: &Path, found: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            t_files(&path, found);
        } else if path.extension().is_some_and(|e| e == "t") {
            found.push(path);
        }
    }
}

/// A decoding spec (the subset of hcldec the suite uses).
enum Spec {
    Literal(Value),
    Object(Vec<(String, Spec)>),
    Attr {
        name: String,
        ty: Type,
        required: bool,
    },
    Block {
        block_type: String,
        nested: Box<Spec>,
        required: bool,
    },
    BlockMap {
        block_type: String,
        nested: Box<Spec>,
    },
    BlockList {
        block_type: String,
        nested: Box<Spec>,
    },
}

struct Parsed {
    file: Arc<SourceFile>,
    body: hcl_edit::structure::Body,
}

fn parse(path: &Path) -> Result<Parsed, hcl_edit::parser::Error> {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let body = hcl_edit::parser::parse_body(&text)?;
    Ok(Parsed {
        file: Arc::new(SourceFile::new(path.display().to_string(), text)),
        body,
    })
}

fn expr(file: &Arc<SourceFile>, expression: &hcl_edit::expr::Expression) -> Expr {
    Expr {
        file: file.clone(),
        expr: expression.clone(),
    }
}

fn attribute<'b>(
    body: &'b hcl_edit::structure::Body,
    name: &str,
) -> Option<&'b hcl_edit::expr::Expression> {
    body.get_attribute(name).map(|attribute| &attribute.value)
}

fn spec_from_block(
    file: &Arc<SourceFile>,
    block: &hcl_edit::structure::Block,
) -> Result<Spec, String> {
    let label = block.labels.first().map(|l| l.as_str().to_string());
    let nested = || -> Result<Box<Spec>, String> {
        let inner = block
            .body
            .blocks()
            .next()
            .ok_or("a nested spec is missing")?;
        Ok(Box::new(spec_from_block(file, inner)?))
    };
    let literal_bool = |name: &str| {
        attribute(&block.body, name)
            .and_then(|e| eval_literal(&expr(file, e)).ok())
            .and_then(|v| v.as_bool())
            .unwrap_or(false)
    };
    let named = |key: &str| -> Result<String, String> {
        label
            .clone()
            .or_else(|| attribute(&block.body, key).and_then(|e| e.as_str().map(str::to_string)))
            .ok_or_else(|| format!("{} spec without a name", block.ident.as_str()))
    };
    Ok(match block.ident.as_str() {
        "literal" => Spec::Literal(
            attribute(&block.body, "value")
                .map(|e| eval_literal(&expr(file, e)).map_err(|d| d.to_string()))
                .transpose()?
                .unwrap_or(Value::Null),
        ),
        "object" => Spec::Object(
            block
                .body
                .blocks()
                .map(|child| {
                    let name = child
                        .labels
                        .first()
                        .map(|l| l.as_str().to_string())
                        .or_else(|| {
                            attribute(&child.body, "block_type")
                                .and_then(|e| e.as_str().map(str::to_string))
                        })
                        .unwrap_or_default();
                    Ok((name, spec_from_block(file, child)?))
                })
                .collect::<Result<_, String>>()?,
        ),
        "attr" => Spec::Attr {
            name: named("name")?,
            ty: attribute(&block.body, "type")
                .map(|e| parse_type_constraint(&expr(file, e)).map_err(|d| d.to_string()))
                .transpose()?
                .unwrap_or(Type::Any),
            required: literal_bool("required"),
        },
        "block" => Spec::Block {
            block_type: named("block_type")?,
            nested: nested()?,
            required: literal_bool("required"),
        },
        "block_map" => Spec::BlockMap {
            block_type: named("block_type")?,
            nested: nested()?,
        },
        "block_list" => Spec::BlockList {
            block_type: named("block_type")?,
            nested: nested()?,
        },
        other => {
            return Err(format!(
                "spec kind `{other}` is not supported by this runner"
            ))
        }
    })
}

struct Decoder<'a> {
    file: Arc<SourceFile>,
    ctx: EvalContext<'a>,
    variables: BTreeMap<String, Value>,
    /// (line, message) of each error.
    errors: Vec<(usize, String)>,
}

impl Decoder<'_> {
    fn error_at(&mut self, range: Option<std::ops::Range<usize>>, message: String) {
        let line = self.file.pos(range.map_or(0, |r| r.start)).line;
        self.errors.push((line, message));
    }

    fn decode(&mut self, spec: &Spec, body: &hcl_edit::structure::Body) -> Value {
        use hcl_edit::Span as _;
        match spec {
            Spec::Literal(value) => value.clone(),
            Spec::Object(children) => {
                // Like hcldec, an object spec is also the body's schema: anything else is an error.
                let attributes: Vec<&str> = children
                    .iter()
                    .filter(|(_, s)| matches!(s, Spec::Attr { .. }))
                    .map(|(n, _)| n.as_str())
                    .collect();
                let block_types: Vec<&str> = children
                    .iter()
                    .filter(|(_, s)| {
                        matches!(
                            s,
                            Spec::Block { .. } | Spec::BlockMap { .. } | Spec::BlockList { .. }
                        )
                    })
                    .map(|(n, _)| n.as_str())
                    .collect();
                for structure in body.iter() {
                    match structure {
                        hcl_edit::structure::Structure::Attribute(a)
                            if !attributes.contains(&a.key.as_str()) =>
                        {
                            self.error_at(
                                a.key.span(),
                                format!("Unsupported argument \"{}\"", a.key.as_str()),
                            )
                        }
                        hcl_edit::structure::Structure::Block(b)
                            if !block_types.contains(&b.ident.as_str()) =>
                        {
                            self.error_at(
                                b.ident.span(),
                                format!("Unsupported block type \"{}\"", b.ident.as_str()),
                            )
                        }
                        _ => {}
                    }
                }
                Value::Object(
                    children
                        .iter()
                        .map(|(name, child)| (name.clone(), self.decode(child, body)))
                        .collect(),
                )
            }
            Spec::Attr { name, ty, required } => match body.get_attribute(name) {
                None => {
                    if *required {
                        self.error_at(body.span(), format!("Missing required argument \"{name}\""));
                    }
                    Value::Null
                }
                Some(attribute) => {
                    let evaluated = eval_expr_with_symbols(
                        &expr(&self.file, &attribute.value),
                        &self.ctx,
                        &self.variables,
                    );
                    match evaluated.map(|v| convert(v, ty)) {
                        Ok(Ok(value)) => value,
                        Ok(Err(conversion)) => {
                            self.error_at(attribute.value.span(), conversion.to_string());
                            Value::Null
                        }
                        Err(diags) => {
                            for d in diags {
                                let line = d.span.as_ref().map_or(0, |s| s.start.line);
                                self.errors.push((line, d.to_string()));
                            }
                            Value::Null
                        }
                    }
                }
            },
            Spec::Block {
                block_type,
                nested,
                required,
            } => {
                let blocks: Vec<_> = body.get_blocks(block_type).collect();
                if let Some(extra) = blocks.get(1) {
                    self.error_at(extra.ident.span(), format!("Duplicate {block_type} block"));
                }
                match blocks.first() {
                    Some(block) => self.decode(nested, &block.body),
                    None => {
                        if *required {
                            self.error_at(body.span(), format!("Missing {block_type} block"));
                        }
                        Value::Null
                    }
                }
            }
            Spec::BlockList { block_type, nested } => {
                let blocks: Vec<_> = body.get_blocks(block_type).collect();
                Value::List(
                    blocks
                        .iter()
                        .map(|block| self.decode(nested, &block.body))
                        .collect(),
                )
            }
            Spec::BlockMap { block_type, nested } => {
                let mut entries = BTreeMap::new();
                for block in body.get_blocks(block_type) {
                    let key = block
                        .labels
                        .first()
                        .map(|l| l.as_str().to_string())
                        .unwrap_or_default();
                    let value = self.decode(nested, &block.body);
                    entries.insert(key, value);
                }
                Value::Map(entries)
            }
        }
    }
}

/// Equality, with numbers compared to 60 significant digits (see the module header).
fn same(a: &Value, b: &Value) -> bool {
    match (a.unmarked(), b.unmarked()) {
        (Value::Number(x), Value::Number(y)) => {
            x == y || {
                let difference = (x.big() - y.big()).abs();
                let scale = x.big().abs().max(bigdecimal::BigDecimal::from(1));
                let precision: bigdecimal::BigDecimal = "1e60".parse().unwrap_or_default();
                difference * precision <= scale
            }
        }
        (
            Value::List(x) | Value::Tuple(x) | Value::Set(x),
            Value::List(y) | Value::Tuple(y) | Value::Set(y),
        ) => x.len() == y.len() && x.iter().zip(y).all(|(p, q)| same(p, q)),
        (Value::Map(x) | Value::Object(x), Value::Map(y) | Value::Object(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|((k, p), (l, q))| k == l && same(p, q))
        }
        (x, y) => x == y,
    }
}

/// Runs one case; returns what failed, and how many values and diagnostics it checked.
fn run_case(t_path: &Path) -> Result<(usize, usize), String> {
    let base = t_path.with_extension("");
    let expectations = parse(t_path).map_err(|e| format!("cannot parse the .t file: {e}"))?;
    let spec_file = parse(&base.with_extension("hcldec"))
        .map_err(|e| format!("cannot parse the .hcldec file: {e}"))?;
    let mut variables = BTreeMap::new();
    let mut spec = None;
    for block in spec_file.body.blocks() {
        if block.ident.as_str() == "variables" {
            for attribute in block.body.attributes() {
                let value = eval_literal(&expr(&spec_file.file, &attribute.value))
                    .map_err(|d| d.to_string())?;
                variables.insert(attribute.key.as_str().to_string(), value);
            }
        } else {
            spec = Some(spec_from_block(&spec_file.file, block)?);
        }
    }
    let spec = spec.ok_or("the .hcldec file has no spec")?;

    let expected_lines: Vec<usize> = expectations
        .body
        .get_blocks("diagnostics")
        .flat_map(|d| d.body.get_blocks("error").collect::<Vec<_>>())
        .filter_map(|error| {
            let from = error.body.get_blocks("from").next()?;
            let line = attribute(&from.body, "line")?;
            eval_literal(&expr(&expectations.file, line))
                .ok()?
                .as_number()?
                .to_i64()
        })
        .map(|line| line as usize)
        .collect();

    let scope = NoScope;
    let input_path = base.with_extension("hcl");
    let (value, errors) = match parse(&input_path) {
        Err(parse_error) => (
            Value::Null,
            vec![(
                parse_error.location().line(),
                parse_error.message().to_string(),
            )],
        ),
        Ok(input) => {
            let mut decoder = Decoder {
                file: input.file.clone(),
                ctx: EvalContext {
                    scope: &scope,
                    module_dir: input_path
                        .parent()
                        .map(Path::to_path_buf)
                        .unwrap_or_default(),
                    plan_mode: false,
                },
                variables,
                errors: Vec::new(),
            };
            let value = decoder.decode(&spec, &input.body);
            (value, decoder.errors)
        }
    };

    if !expected_lines.is_empty() {
        if errors.is_empty() {
            return Err(format!(
                "expected errors on lines {expected_lines:?}, got none (value {value:?})"
            ));
        }
        // hcl-edit stops at the first syntax error, so not every expected error can appear;
        // every error found must be one that is expected.
        for (line, message) in &errors {
            if !expected_lines.contains(line) {
                return Err(format!(
                    "unexpected error on line {line}: {message}; expected lines {expected_lines:?}"
                ));
            }
        }
        return Ok((0, errors.len()));
    }
    if !errors.is_empty() {
        return Err(format!("unexpected errors: {errors:?}"));
    }
    let Some(result) = attribute(&expectations.body, "result") else {
        return Ok((0, 0));
    };
    let mut expected =
        eval_literal(&expr(&expectations.file, result)).map_err(|d| d.to_string())?;
    let mut actual = value;
    if let Some(type_expr) = attribute(&expectations.body, "result_type") {
        // Strata's type-constraint parser does not take `true`, `false` or `null` as object
        // attribute names (primitive_literals.t uses them): compare unconverted then.
        match parse_type_constraint(&expr(&expectations.file, type_expr)) {
            Ok(ty) => {
                expected = convert(expected, &ty)
                    .map_err(|e| format!("expected result does not convert: {e}"))?;
                actual = convert(actual, &ty)
                    .map_err(|e| format!("result does not convert to result_type: {e}"))?;
            }
            Err(diagnostic) => eprintln!(
                "{}: result_type not converted: {diagnostic}",
                t_path.display()
            ),
        }
    }
    if !same(&actual, &expected) {
        return Err(format!("got {actual:?}\nexpected {expected:?}"));
    }
    Ok((count_leaves(&expected), 0))
}

fn count_leaves(value: &Value) -> usize {
    match value.unmarked() {
        Value::List(items) | Value::Tuple(items) | Value::Set(items) => {
            items.iter().map(count_leaves).sum()
        }
        Value::Map(entries) | Value::Object(entries) => entries.values().map(count_leaves).sum(),
        _ => 1,
    }
}

#[test]
fn hcl_specification_suite() {
    let dir = match suite_dir() {
        Ok(dir) => dir,
        Err(reason) => {
            eprintln!("skipped: {reason}");
            return;
        }
    };
    let mut cases = Vec::new();
    t_files(&dir, &mut cases);
    cases.sort();
    assert!(!cases.is_empty(), "no .t files under {}", dir.display());
    let mut failures = Vec::new();
    let (mut values, mut diagnostics) = (0, 0);
    for case in &cases {
        match run_case(case) {
            Ok((v, d)) => {
                values += v;
                diagnostics += d;
            }
            Err(message) => failures.push(format!("{}: {message}", case.display())),
        }
    }
    eprintln!(
        "HCL spec suite: {} cases, {values} values and {diagnostics} diagnostics checked, {} failed",
        cases.len(),
        failures.len()
    );
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}
