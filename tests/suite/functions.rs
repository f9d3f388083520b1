//! Terraform's built-in functions, driven by the cases in `tests/fixtures/functions/*.json`.
//!
//! Each file is a JSON array of cases:
//!
//! ```json
//! {"call": "cidrsubnet", "args": ["10.0.0.0/8", 8, 2], "want": "10.2.0.0/16"}
//! {"call": "element", "args": [[], 0], "error": "cannot use element function with an empty list"}
//! {"call": "uuid", "args": [], "plan": true, "want": {"$unknown": "string"}}
//! {"call": "uuid", "args": [], "match": "^[0-9a-f]{8}-"}
//! ```
//!
//! `want` is compared exactly (list vs tuple, map vs object, sensitive marks); `error` is a
//! substring of the error's message; `match` is a regular expression the (string) result must
//! match; `error_excludes` is text (a secret) the error must not show. Values JSON cannot express are written as one-key objects: `{"$unknown": "<type>"}`,
//! `{"$sensitive": v}`, `{"$set": [..]}`, `{"$list": [..]}`, `{"$map": {..}}`,
//! `{"$object": {..}}` (an object whose keys start with `$`), `{"$number": "123…"}`. JSON
//! arrays are tuples and JSON objects are objects, as in Terraform's literal syntax. File
//! functions resolve relative paths against `tests/fixtures/functions/files`.
//!
//! The driver runs every case and reports every failure, not just the first.

use crate::common::fixtures;
use std::collections::{BTreeMap, BTreeSet};
use strata::lang::functions::{call, exists, FunctionContext, FunctionError};
use strata::value::{Number, ObjectType, Type, Value};

/// Every function the Terraform language specification lists that Strata's function table
/// implements (`try`, `can` and `templatefile` belong to the evaluator).
const REQUIRED: &[&str] = &[
    // numeric
    "abs",
    "ceil",
    "floor",
    "log",
    "max",
    "min",
    "parseint",
    "pow",
    "signum",
    // string
    "chomp",
    "endswith",
    "format",
    "formatlist",
    "indent",
    "join",
    "lower",
    "regex",
    "regexall",
    "replace",
    "split",
    "startswith",
    "strrev",
    "substr",
    "title",
    "trim",
    "trimprefix",
    "trimsuffix",
    "trimspace",
    "upper",
    // collection
    "alltrue",
    "anytrue",
    "chunklist",
    "coalesce",
    "coalescelist",
    "compact",
    "concat",
    "contains",
    "distinct",
    "element",
    "flatten",
    "index",
    "keys",
    "length",
    "lookup",
    "matchkeys",
    "merge",
    "one",
    "range",
    "reverse",
    "setintersection",
    "setproduct",
    "setsubtract",
    "setunion",
    "slice",
    "sort",
    "sum",
    "transpose",
    "values",
    "zipmap",
    // encoding
    "base64decode",
    "base64encode",
    "jsondecode",
    "jsonencode",
    "yamldecode",
    "yamlencode",
    "urlencode",
    // filesystem
    "abspath",
    "basename",
    "dirname",
    "file",
    "fileexists",
    // hash
    "md5",
    "sha1",
    "sha256",
    "uuid",
    // network
    "cidrhost",
    "cidrnetmask",
    "cidrsubnet",
    "cidrsubnets",
    // type conversion
    "tobool",
    "tolist",
    "tomap",
    "tonumber",
    "toset",
    "tostring",
    "type",
    // time
    "timestamp",
    "formatdate",
    // sensitivity
    "sensitive",
    "nonsensitive",
];

/// Functions that accept every argument they can be given, so have no error case.
const NO_ERROR_PATH: &[&str] = &["uuid", "timestamp", "type", "sensitive", "nonsensitive"];

#[test]
fn every_listed_function_exists() {
    let missing: Vec<&str> = REQUIRED
        .iter()
        .copied()
        .filter(|name| !exists(name))
        .collect();
    assert!(missing.is_empty(), "functions missing: {missing:?}");
    assert!(!exists("try"), "try belongs to the evaluator");
    assert!(!exists("no_such_function"));
}

#[test]
fn unknown_function_suggests_a_name() {
    let error = call("lenght", vec![], &context(false)).unwrap_err();
    assert_eq!(
        error,
        FunctionError::UnknownFunction {
            name: "lenght".into(),
            suggestion: Some("length".into())
        }
    );
}

#[test]
fn wrong_arity_is_an_arity_error() {
    let error = call("element", vec![Value::Tuple(vec![])], &context(false)).unwrap_err();
    assert_eq!(
        error.to_string(),
        "Function \"element\" expects 2 argument(s), but 1 were given."
    );
    let error = call("join", vec![], &context(false)).unwrap_err();
    assert!(
        matches!(error, FunctionError::Arity { ref expected, .. } if expected == "at least 1"),
        "{error:?}"
    );
}

#[test]
fn argument_errors_name_the_parameter() {
    let error = call("abs", vec![Value::from("x")], &context(false)).unwrap_err();
    match error {
        FunctionError::Argument { index, param, .. } => {
            assert_eq!(index, 0);
            assert_eq!(param, "num");
        }
        other => panic!("expected an argument error, got {other:?}"),
    }
}

#[test]
fn fixture_cases() {
    let directory = fixtures("functions");
    let mut files: Vec<_> = std::fs::read_dir(&directory)
        .expect("fixtures/functions exists")
        .filter_map(Result::ok)
        .map(|entry| entry.path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "json"))
        .collect();
    files.sort();
    assert!(
        !files.is_empty(),
        "no fixture files in {}",
        directory.display()
    );

    let mut failures = Vec::new();
    let mut total = 0;
    let mut succeeded: BTreeSet<String> = BTreeSet::new();
    let mut errored: BTreeSet<String> = BTreeSet::new();
    for file in &files {
        let name = file
            .file_name()
            .unwrap_or_default()
            .to_string_lossy()
            .to_string();
        let text = std::fs::read_to_string(file).expect("read fixture");
        let cases: Vec<serde_json::Value> = match serde_json::from_str(&text) {
            Ok(cases) => cases,
            Err(error) => {
                failures.push(format!("{name}: not a JSON array of cases: {error}"));
                continue;
            }
        };
        for (position, case) in cases.iter().enumerate() {
            total += 1;
            let label = format!(
                "{name}[{position}] {}",
                serde_json::to_string(case).unwrap_or_default()
            );
            match run_case(case) {
                Ok(Outcome::Value(function)) => {
                    succeeded.insert(function);
                }
                Ok(Outcome::Error(function)) => {
                    errored.insert(function);
                }
                Err(problem) => failures.push(format!("{label}\n    {problem}")),
            }
        }
    }
    for name in REQUIRED {
        if !succeeded.contains(*name) {
            failures.push(format!("function {name} has no case with a result"));
        }
        if !errored.contains(*name) && !NO_ERROR_PATH.contains(name) {
            failures.push(format!("function {name} has no error case"));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {total} function cases failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

enum Outcome {
    Value(String),
    Error(String),
}

fn context(plan_mode: bool) -> FunctionContext {
    FunctionContext {
        module_dir: fixtures("functions").join("files"),
        plan_mode,
    }
}

fn run_case(case: &serde_json::Value) -> Result<Outcome, String> {
    let function = case
        .get("call")
        .and_then(serde_json::Value::as_str)
        .ok_or("case has no \"call\"")?
        .to_string();
    let args = match case.get("args") {
        Some(serde_json::Value::Array(items)) => {
            items.iter().map(decode).collect::<Result<Vec<_>, _>>()?
        }
        None => Vec::new(),
        Some(_) => return Err("\"args\" must be an array".into()),
    };
    let plan = case
        .get("plan")
        .and_then(serde_json::Value::as_bool)
        .unwrap_or(false);
    // Errors are compared as a diagnostic shows them (Terraform's wording for a failed call).
    let result = call(&function, args, &context(plan)).map_err(|error| match error {
        FunctionError::Failed(message) => {
            format!("Call to function \"{function}\" failed: {message}.")
        }
        other => other.to_string(),
    });
    if let Some(expected) = case.get("error") {
        let expected = expected.as_str().ok_or("\"error\" must be a string")?;
        let excluded = case
            .get("error_excludes")
            .and_then(serde_json::Value::as_str);
        return match result {
            Err(error) if excluded.is_some_and(|secret| error.contains(secret)) => Err(format!(
                "error {:?} shows {:?}",
                error,
                excluded.unwrap_or_default()
            )),
            Err(error) if error.contains(expected) => Ok(Outcome::Error(function)),
            Err(error) => Err(format!("error {:?} does not contain {expected:?}", error)),
            Ok(value) => Err(format!(
                "expected an error containing {expected:?}, got {value:?}"
            )),
        };
    }
    let value = result.map_err(|error| format!("unexpected error: {error}"))?;
    if let Some(want) = case.get("want") {
        let want = decode(want)?;
        if value != want {
            return Err(format!("got  {value:?}\n    want {want:?}"));
        }
    } else if let Some(pattern) = case.get("match").and_then(serde_json::Value::as_str) {
        let regex = regex::Regex::new(pattern).map_err(|e| format!("bad \"match\": {e}"))?;
        let text = value
            .as_str()
            .ok_or_else(|| format!("result {value:?} is not a string"))?;
        if !regex.is_match(text) {
            return Err(format!("result {text:?} does not match {pattern:?}"));
        }
    } else {
        return Err("case has neither \"want\", \"match\" nor \"error\"".into());
    }
    Ok(Outcome::Value(function))
}

fn decode(json: &serde_json::Value) -> Result<Value, String> {
    Ok(match json {
        serde_json::Value::Null => Value::Null,
        serde_json::Value::Bool(b) => Value::Bool(*b),
        serde_json::Value::Number(n) => {
            Value::Number(Number::parse(&n.to_string()).ok_or_else(|| format!("bad number {n}"))?)
        }
        serde_json::Value::String(s) => Value::String(s.clone()),
        serde_json::Value::Array(items) => {
            Value::Tuple(items.iter().map(decode).collect::<Result<_, _>>()?)
        }
        serde_json::Value::Object(entries) => {
            if entries.len() == 1 {
                let (key, inner) = entries.iter().next().ok_or("empty")?;
                if let Some(special) = decode_special(key, inner)? {
                    return Ok(special);
                }
            }
            Value::Object(decode_entries(entries)?)
        }
    })
}

fn decode_entries(
    entries: &serde_json::Map<String, serde_json::Value>,
) -> Result<BTreeMap<String, Value>, String> {
    entries
        .iter()
        .map(|(k, v)| Ok((k.clone(), decode(v)?)))
        .collect()
}

fn decode_special(key: &str, inner: &serde_json::Value) -> Result<Option<Value>, String> {
    let items = || match inner {
        serde_json::Value::Array(items) => items.iter().map(decode).collect::<Result<Vec<_>, _>>(),
        _ => Err(format!("{key} needs an array")),
    };
    let entries = || match inner {
        serde_json::Value::Object(entries) => decode_entries(entries),
        _ => Err(format!("{key} needs an object")),
    };
    Ok(Some(match key {
        "$unknown" => Value::Unknown(parse_type(
            inner.as_str().ok_or("$unknown needs a type string")?,
        )?),
        "$sensitive" => decode(inner)?.mark_sensitive(),
        "$set" => Value::set(items()?),
        "$list" => Value::List(items()?),
        "$map" => Value::Map(entries()?),
        "$object" => Value::Object(entries()?),
        "$number" => Value::Number(
            Number::parse(inner.as_str().ok_or("$number needs a string")?).ok_or("bad $number")?,
        ),
        _ => return Ok(None),
    }))
}

/// Parses a type constraint: `string`, `list(number)`, `tuple([string, bool])`,
/// `object({a = string})`, `any`.
fn parse_type(text: &str) -> Result<Type, String> {
    let mut parser = TypeParser {
        text: text.as_bytes(),
        position: 0,
    };
    let ty = parser.parse()?;
    parser.skip_space();
    if parser.position != parser.text.len() {
        return Err(format!("trailing text in type {text:?}"));
    }
    Ok(ty)
}

struct TypeParser<'a> {
    text: &'a [u8],
    position: usize,
}

impl TypeParser<'_> {
    fn skip_space(&mut self) {
        while self
            .text
            .get(self.position)
            .is_some_and(u8::is_ascii_whitespace)
        {
            self.position += 1;
        }
    }

    fn expect(&mut self, byte: u8) -> Result<(), String> {
        self.skip_space();
        if self.text.get(self.position) == Some(&byte) {
            self.position += 1;
            Ok(())
        } else {
            Err(format!(
                "expected {:?} at {}",
                char::from(byte),
                self.position
            ))
        }
    }

    fn word(&mut self) -> String {
        self.skip_space();
        let start = self.position;
        while self
            .text
            .get(self.position)
            .is_some_and(|b| b.is_ascii_alphanumeric() || *b == b'_')
        {
            self.position += 1;
        }
        String::from_utf8_lossy(&self.text[start..self.position]).to_string()
    }

    fn peek(&mut self) -> Option<u8> {
        self.skip_space();
        self.text.get(self.position).copied()
    }

    fn parse(&mut self) -> Result<Type, String> {
        let word = self.word();
        Ok(match word.as_str() {
            "string" => Type::String,
            "number" => Type::Number,
            "bool" => Type::Bool,
            "any" | "dynamic" => Type::Any,
            "list" | "set" | "map" => {
                self.expect(b'(')?;
                let element = self.parse()?;
                self.expect(b')')?;
                match word.as_str() {
                    "list" => Type::list(element),
                    "set" => Type::set(element),
                    _ => Type::map(element),
                }
            }
            "tuple" => {
                self.expect(b'(')?;
                self.expect(b'[')?;
                let mut items = Vec::new();
                while self.peek() != Some(b']') {
                    items.push(self.parse()?);
                    if self.peek() == Some(b',') {
                        self.position += 1;
                    }
                }
                self.expect(b']')?;
                self.expect(b')')?;
                Type::Tuple(items)
            }
            "object" => {
                self.expect(b'(')?;
                self.expect(b'{')?;
                let mut attributes = Vec::new();
                while self.peek() != Some(b'}') {
                    let name = self.word();
                    self.expect(b'=')?;
                    attributes.push((name, self.parse()?));
                    if self.peek() == Some(b',') {
                        self.position += 1;
                    }
                }
                self.expect(b'}')?;
                self.expect(b')')?;
                Type::Object(ObjectType::new(attributes))
            }
            other => return Err(format!("unknown type {other:?}")),
        })
    }
}

/// Every function, called with every combination of up to three awkward arguments (nulls,
/// unknowns, sensitive values, empty and nested collections, fractions, huge and negative
/// numbers, odd strings), returns a value or an error and never panics; and no error shows a
/// sensitive value.
#[test]
fn no_input_panics() {
    use strata::lang::functions::names;
    let pool = vec![
        Value::Null,
        Value::Unknown(Type::Any),
        Value::Unknown(Type::list(Type::String)),
        Value::from("").mark_sensitive(),
        Value::from("10.0.0.0/8"),
        Value::from("%[9]d %v %"),
        Value::from("é\u{301}🤔'YYYY"),
        Value::Number(Number::parse("-1.5").unwrap_or_else(|| Number::from(0))),
        Value::Number(
            Number::parse("123456789012345678901234567890").unwrap_or_else(|| Number::from(0)),
        ),
        Value::from(3),
        Value::Bool(true),
        Value::Tuple(vec![Value::from("a"), Value::from(1), Value::Null]),
        Value::List(vec![
            Value::List(vec![Value::from("x")]),
            Value::List(vec![]),
        ]),
        Value::set(vec![Value::from(2), Value::from(1)]),
        Value::object([("a", Value::from("b")), ("c", Value::Unknown(Type::Number))]),
        Value::Map(BTreeMap::new()),
        Value::from("S3CR3T-TOKEN").mark_sensitive(),
        Value::List(vec![Value::from(424242).mark_sensitive()]),
    ];
    let ctx = context(false);
    let mut panics = Vec::new();
    let mut leaks = Vec::new();
    let mut calls = 0usize;
    for name in names() {
        let mut arg_lists: Vec<Vec<Value>> = vec![Vec::new()];
        for a in &pool {
            arg_lists.push(vec![a.clone()]);
            for b in &pool {
                arg_lists.push(vec![a.clone(), b.clone()]);
                for c in &pool {
                    arg_lists.push(vec![a.clone(), b.clone(), c.clone()]);
                }
            }
        }
        for args in arg_lists {
            calls += 1;
            let shown = format!("{name}({args:?})");
            match std::panic::catch_unwind(|| call(name, args, &ctx)) {
                Err(_) => panics.push(shown),
                Ok(Err(error)) => {
                    let text = error.to_string();
                    if text.contains("S3CR3T") || text.contains("424242") {
                        leaks.push(format!("{shown}: {text}"));
                    }
                }
                Ok(Ok(_)) => {}
            }
        }
    }
    assert!(calls > 100_000, "only {calls} calls made");
    assert!(
        panics.is_empty(),
        "{} calls panicked:\n{}",
        panics.len(),
        panics.join("\n")
    );
    assert!(
        leaks.is_empty(),
        "{} errors show a secret:\n{}",
        leaks.len(),
        leaks.join("\n")
    );
}
