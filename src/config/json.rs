//! Terraform's JSON configuration syntax (`.tf.json`), read by translating it into the native
//! syntax and decoding that with the same decoder as `.tf` files, so a JSON module becomes the
//! same [`super::Module`].
//!
//! The translation follows HCL's JSON specification as Terraform applies it: top-level
//! properties are block types, block labels are nested object keys, a block's content is an
//! object (or an array of objects for repeated blocks), `"//"` properties of a body are
//! comments, strings in expression positions are templates (`"${var.x}"`), and the arguments
//! Terraform reads as references or keywords (`depends_on`, `provider`, `ignore_changes`,
//! variable `type`, `moved`/`import`/`removed` addresses, `providers`, `iterator`, `when`,
//! `on_failure`) take their string's text as an expression. Where the provider schema decides
//! whether a name is an argument or a nested block (resource and provider bodies), the name is
//! written as an argument holding an object; [`json_attribute_as_blocks`] turns it back into
//! blocks when the body is evaluated against the schema.
//!
//! Every piece of the translated text records the range of the JSON file it stands for (see
//! [`SourceFile::derived`]), so diagnostics point at `file.tf.json:line:col`.

use super::json_scan::{self, JsonKind, JsonProperty, JsonValue};
use crate::diagnostics::{Diagnostic, Diagnostics, Origin, SourceFile, SourceMap};
use hcl_edit::expr::{Expression, ObjectKey};
use hcl_edit::structure::{Attribute, Block, Body};
use hcl_edit::{Decorated, Ident};
use std::ops::Range;
use std::sync::Arc;

/// How the properties of one JSON body are read.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Kind {
    Root,
    Terraform,
    RequiredProviders,
    Variable,
    Output,
    Locals,
    Module,
    Resource,
    Lifecycle,
    Provisioner,
    Dynamic,
    Moved,
    Import,
    Removed,
    Check,
    /// `terraform { encryption { ... } }` (OpenTofu's state and plan encryption).
    Encryption,
    /// A `key_provider` or `method` of the encryption block.
    EncryptionPart,
    /// `state`, `plan`, a remote state's block, and their `fallback`s.
    EncryptionTarget,
    /// `remote_state_data_sources`.
    RemoteStates,
    /// Every property an argument (backend settings, conditions).
    Arguments,
    /// A body whose schema belongs to a provider: arguments, and `dynamic` blocks.
    Schema,
}

/// What one property of a body is.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Field {
    /// A block type with this many labels and this body.
    Block(usize, Kind),
    /// An argument whose strings are references or keywords, not templates.
    Reference,
    /// An argument holding an expression (strings are templates).
    Expression,
    /// `required_providers` entries: objects whose `configuration_aliases` are references.
    Requirement,
}

fn field(kind: Kind, name: &str) -> Field {
    use Field::{Block, Expression, Reference};
    match (kind, name) {
        (Kind::Root, "resource" | "data") => Block(2, Kind::Resource),
        (Kind::Root, "module") => Block(1, Kind::Module),
        (Kind::Root, "variable") => Block(1, Kind::Variable),
        (Kind::Root, "output") => Block(1, Kind::Output),
        (Kind::Root, "provider") => Block(1, Kind::Schema),
        (Kind::Root, "check") => Block(1, Kind::Check),
        (Kind::Root, "locals") => Block(0, Kind::Locals),
        (Kind::Root, "terraform") => Block(0, Kind::Terraform),
        (Kind::Root, "moved") => Block(0, Kind::Moved),
        (Kind::Root, "import") => Block(0, Kind::Import),
        (Kind::Root, "removed") => Block(0, Kind::Removed),
        (Kind::Root, _) => Block(0, Kind::Schema),
        (Kind::Terraform, "required_providers") => Block(0, Kind::RequiredProviders),
        (Kind::Terraform, "backend" | "provider_meta") => Block(1, Kind::Arguments),
        (Kind::Terraform, "cloud") => Block(0, Kind::Arguments),
        (Kind::Terraform, "experiments") => Reference,
        (Kind::Terraform, "encryption") => Block(0, Kind::Encryption),
        (Kind::Encryption, "key_provider" | "method") => Block(2, Kind::EncryptionPart),
        (Kind::Encryption, "state" | "plan") => Block(0, Kind::EncryptionTarget),
        (Kind::Encryption, "remote_state_data_sources") => Block(0, Kind::RemoteStates),
        (Kind::RemoteStates, "default") => Block(0, Kind::EncryptionTarget),
        (Kind::RemoteStates, "remote_state_data_source") => Block(1, Kind::EncryptionTarget),
        (Kind::EncryptionTarget, "method") => Reference,
        (Kind::EncryptionTarget, "fallback") => Block(0, Kind::EncryptionTarget),
        (Kind::EncryptionPart, "keys" | "chain") => Reference,
        (Kind::RequiredProviders, _) => Field::Requirement,
        (Kind::Variable, "type") => Reference,
        (Kind::Variable, "validation") => Block(0, Kind::Arguments),
        (Kind::Output, "depends_on") => Reference,
        (Kind::Output, "precondition") => Block(0, Kind::Arguments),
        (Kind::Module, "depends_on" | "providers") => Reference,
        (Kind::Resource, "provider" | "depends_on") => Reference,
        (Kind::Resource, "lifecycle") => Block(0, Kind::Lifecycle),
        (Kind::Resource | Kind::Removed, "provisioner") => Block(1, Kind::Provisioner),
        (Kind::Resource | Kind::Provisioner | Kind::Removed, "connection") => {
            Block(0, Kind::Arguments)
        }
        (Kind::Resource, "timeouts") => Block(0, Kind::Arguments),
        (Kind::Resource | Kind::Schema, "dynamic") => Block(1, Kind::Dynamic),
        (Kind::Lifecycle, "ignore_changes" | "replace_triggered_by") => Reference,
        (Kind::Lifecycle, "precondition" | "postcondition") => Block(0, Kind::Arguments),
        (Kind::Provisioner, "when" | "on_failure") => Reference,
        (Kind::Dynamic, "iterator") => Reference,
        (Kind::Dynamic, "content") => Block(0, Kind::Schema),
        (Kind::Moved, "from" | "to") => Reference,
        (Kind::Import, "to" | "provider") => Reference,
        (Kind::Removed, "from") => Reference,
        (Kind::Removed, "lifecycle") => Block(0, Kind::Arguments),
        (Kind::Check, "data") => Block(2, Kind::Resource),
        (Kind::Check, "assert") => Block(0, Kind::Arguments),
        _ => Expression,
    }
}

/// Reads a `.tf.json` file's text: registers it in `sources` and returns the translated
/// native-syntax file and its parsed body, or the diagnostics that stop it.
pub fn translate_file(
    name: &str,
    text: &str,
    sources: &mut SourceMap,
) -> Result<(Arc<SourceFile>, Body), Diagnostics> {
    let json_file = Arc::new(SourceFile::new(name, text));
    sources.add(json_file.clone());
    let root = json_scan::parse(text).map_err(|error| {
        Diagnostics::from(
            Diagnostic::error("Invalid JSON syntax")
                .with_detail(format!("{error}."))
                .with_span(json_file.span(error.offset..error.offset)),
        )
    })?;
    let mut emitter = Emitter {
        json: json_file.clone(),
        out: String::new(),
        origins: Vec::new(),
        diagnostics: Diagnostics::new(),
    };
    emitter.root(&root);
    if emitter.diagnostics.has_errors() {
        return Err(emitter.diagnostics);
    }
    let translated = Arc::new(SourceFile::derived(name, emitter.out, emitter.origins));
    let body = super::load::parse_source(&translated).map_err(Diagnostics::from)?;
    Ok((translated, body))
}

/// Whether a file name is in the JSON syntax.
pub fn is_json(name: &str) -> bool {
    name.ends_with(".json")
}

struct Emitter {
    json: Arc<SourceFile>,
    out: String,
    origins: Vec<Origin>,
    diagnostics: Diagnostics,
}

impl Emitter {
    /// Appends `text`, standing for `range` of the JSON file.
    fn emit(&mut self, text: &str, range: Range<usize>) {
        self.origins.push(Origin {
            start: self.out.len(),
            len: text.len(),
            file: self.json.clone(),
            origin_start: range.start,
            origin_len: range.len(),
        });
        self.out.push_str(text);
    }

    fn error(&mut self, summary: &str, detail: String, range: Range<usize>) {
        self.diagnostics.push(
            Diagnostic::error(summary)
                .with_detail(detail)
                .with_span(self.json.span(range)),
        );
    }

    fn root(&mut self, root: &JsonValue) {
        match &root.kind {
            JsonKind::Object(properties) => self.body(Kind::Root, properties),
            JsonKind::Array(items) if items.iter().all(|i| matches!(i.kind, JsonKind::Object(_))) => {
                for item in items {
                    if let JsonKind::Object(properties) = &item.kind {
                        self.body(Kind::Root, properties);
                    }
                }
            }
            _ => self.error(
                "Incorrect JSON value type",
                "The root value in a JSON-based configuration must be either a JSON object or a JSON array of objects.".into(),
                root.span.clone(),
            ),
        }
    }

    fn body(&mut self, kind: Kind, properties: &[JsonProperty]) {
        for property in properties {
            if property.name == "//" {
                continue;
            }
            match field(kind, &property.name) {
                Field::Block(labels, block_kind) => self.blocks(
                    property,
                    &property.value,
                    &mut Vec::new(),
                    labels,
                    block_kind,
                ),
                Field::Reference => self.argument(property, |e, v| e.reference(v)),
                Field::Expression => self.argument(property, |e, v| e.expression(v)),
                Field::Requirement => self.argument(property, |e, v| e.requirement(v)),
            }
        }
    }

    fn argument(&mut self, property: &JsonProperty, value: impl FnOnce(&mut Self, &JsonValue)) {
        if !is_identifier(&property.name) {
            self.error(
                "Invalid argument name",
                format!(
                    "\"{}\" is not a valid argument name: names start with a letter or underscore and hold letters, digits, underscores and dashes.",
                    property.name
                ),
                property.name_span.clone(),
            );
            return;
        }
        self.emit(&property.name, property.name_span.clone());
        self.out.push_str(" = ");
        value(self, &property.value);
        self.out.push('\n');
    }

    /// The blocks of type `property.name` in `value`: `labels_left` more label levels of
    /// objects, then an object (one block) or an array of objects (one block each).
    fn blocks(
        &mut self,
        property: &JsonProperty,
        value: &JsonValue,
        labels: &mut Vec<(String, Range<usize>)>,
        labels_left: usize,
        kind: Kind,
    ) {
        match &value.kind {
            JsonKind::Object(properties) if labels_left > 0 => {
                for label in properties {
                    labels.push((label.name.clone(), label.name_span.clone()));
                    self.blocks(property, &label.value, labels, labels_left - 1, kind);
                    labels.pop();
                }
            }
            JsonKind::Object(properties) => self.block(property, labels, value, properties, kind),
            JsonKind::Array(items) => {
                for item in items {
                    match &item.kind {
                        JsonKind::Object(_) => {
                            self.blocks(property, item, labels, labels_left, kind)
                        }
                        _ => self.block_type_error(property, item),
                    }
                }
            }
            _ => self.block_type_error(property, value),
        }
    }

    fn block_type_error(&mut self, property: &JsonProperty, value: &JsonValue) {
        self.error(
            "Incorrect JSON value type",
            format!(
                "Either a JSON object or a JSON array of objects is required here, representing the contents of one or more \"{}\" blocks (found a {}).",
                property.name,
                value.kind_name()
            ),
            value.span.clone(),
        );
    }

    fn block(
        &mut self,
        property: &JsonProperty,
        labels: &[(String, Range<usize>)],
        value: &JsonValue,
        properties: &[JsonProperty],
        kind: Kind,
    ) {
        if !is_identifier(&property.name) {
            self.error(
                "Unsupported block type",
                format!(
                    "Blocks of type \"{}\" are not expected here.",
                    property.name
                ),
                property.name_span.clone(),
            );
            return;
        }
        // A declaration is where its body opens, as Terraform reports JSON blocks.
        let declaration =
            !labels.is_empty() || matches!(property.name.as_str(), "moved" | "import" | "removed");
        let type_range = if declaration {
            value.span.start..value.span.start + 1
        } else {
            property.name_span.clone()
        };
        self.emit(&property.name, type_range);
        for (label, range) in labels {
            self.out.push(' ');
            self.emit(&quote_literal(label), range.clone());
        }
        self.out.push(' ');
        self.emit("{", value.span.start..value.span.start + 1);
        self.out.push('\n');
        self.body(kind, properties);
        self.emit("}", value.span.end.saturating_sub(1)..value.span.end);
        self.out.push('\n');
    }

    /// An expression: strings are templates.
    fn expression(&mut self, value: &JsonValue) {
        match &value.kind {
            JsonKind::Null => self.emit("null", value.span.clone()),
            JsonKind::Bool(b) => self.emit(if *b { "true" } else { "false" }, value.span.clone()),
            JsonKind::Number(text) => self.emit(text, value.span.clone()),
            JsonKind::String { value: text, raw } => {
                let written = if native_compatible(text, raw) {
                    format!("\"{raw}\"")
                } else {
                    quote_template(text)
                };
                self.emit(&written, value.span.clone());
            }
            JsonKind::Array(items) => self.sequence(value, items, Self::expression),
            JsonKind::Object(properties) => {
                self.emit("{", value.span.start..value.span.start + 1);
                self.out.push('\n');
                for property in properties {
                    let key = JsonValue {
                        kind: JsonKind::String {
                            value: property.name.clone(),
                            raw: raw_text(&self.json.text, &property.name_span),
                        },
                        span: property.name_span.clone(),
                    };
                    self.expression(&key);
                    self.out.push_str(" = ");
                    self.expression(&property.value);
                    self.out.push('\n');
                }
                self.emit("}", value.span.end.saturating_sub(1)..value.span.end);
            }
        }
    }

    /// A reference or keyword argument: a string's text is an expression (`"aws.west"`,
    /// `"list(string)"`), in arrays and object values too.
    fn reference(&mut self, value: &JsonValue) {
        match &value.kind {
            JsonKind::String { value: text, raw } if !text.trim().is_empty() => {
                let inner = value.span.start + 1..value.span.end.saturating_sub(1);
                if text == raw {
                    self.emit(text, inner);
                } else {
                    // Escapes make the lengths differ: the whole string is the location.
                    self.emit(text, value.span.clone());
                }
            }
            JsonKind::Array(items) => self.sequence(value, items, Self::reference),
            JsonKind::Object(properties) => {
                self.emit("{", value.span.start..value.span.start + 1);
                self.out.push('\n');
                for property in properties {
                    // A key is a reference too (`"aws.west": "aws.east"` in `providers`).
                    let key = if property.name.split('.').all(is_identifier) {
                        property.name.clone()
                    } else {
                        quote_literal(&property.name)
                    };
                    self.emit(&key, property.name_span.clone());
                    self.out.push_str(" = ");
                    self.reference(&property.value);
                    self.out.push('\n');
                }
                self.emit("}", value.span.end.saturating_sub(1)..value.span.end);
            }
            _ => self.expression(value),
        }
    }

    /// A `required_providers` entry: `{"source": ..., "configuration_aliases": ["aws.west"]}`.
    fn requirement(&mut self, value: &JsonValue) {
        let JsonKind::Object(properties) = &value.kind else {
            return self.expression(value);
        };
        self.emit("{", value.span.start..value.span.start + 1);
        self.out.push('\n');
        for property in properties {
            self.emit(&quote_literal(&property.name), property.name_span.clone());
            self.out.push_str(" = ");
            if property.name == "configuration_aliases" {
                self.reference(&property.value);
            } else {
                self.expression(&property.value);
            }
            self.out.push('\n');
        }
        self.emit("}", value.span.end.saturating_sub(1)..value.span.end);
    }

    fn sequence(
        &mut self,
        value: &JsonValue,
        items: &[JsonValue],
        item: fn(&mut Self, &JsonValue),
    ) {
        self.emit("[", value.span.start..value.span.start + 1);
        for (index, element) in items.iter().enumerate() {
            if index > 0 {
                self.out.push_str(", ");
            }
            item(self, element);
        }
        self.emit("]", value.span.end.saturating_sub(1)..value.span.end);
    }
}

/// The text between a string's quotes in the JSON file.
fn raw_text(text: &str, quoted: &Range<usize>) -> String {
    text.get(quoted.start + 1..quoted.end.saturating_sub(1))
        .unwrap_or_default()
        .to_string()
}

fn is_identifier(name: &str) -> bool {
    let mut chars = name.chars();
    matches!(chars.next(), Some(c) if c.is_alphabetic() || c == '_')
        && chars.all(|c| c.is_alphanumeric() || c == '_' || c == '-')
}

/// Whether a JSON string's raw text means the same template when written between quotes in the
/// native syntax: its escapes are ones both syntaxes read alike, and none sits inside an
/// interpolation (where the native syntax reads quotes unescaped).
fn native_compatible(value: &str, raw: &str) -> bool {
    if !raw.contains('\\') {
        return true;
    }
    let has_template = value.contains("${") || value.contains("%{");
    let mut escapes = raw.split('\\').skip(1);
    !has_template
        && escapes.all(|after| {
            after.is_empty() // the second half of `\\`
                || matches!(after.as_bytes()[0], b'"' | b'n' | b'r' | b't')
                || (after.starts_with('u')
                    && after.len() >= 5
                    && u32::from_str_radix(&after[1..5], 16)
                        .is_ok_and(|c| !(0xD800..0xE000).contains(&c)))
        })
}

/// A literal string (a block label, an object key of a reference map) in native quotes, with
/// template sequences escaped.
fn quote_literal(text: &str) -> String {
    let mut out = String::from("\"");
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '$' | '%' if chars.peek() == Some(&'{') => {
                out.push(c);
                out.push(c);
            }
            _ => push_escaped(&mut out, c),
        }
    }
    out.push('"');
    out
}

fn push_escaped(out: &mut String, c: char) {
    match c {
        '"' => out.push_str("\\\""),
        '\\' => out.push_str("\\\\"),
        '\n' => out.push_str("\\n"),
        '\r' => out.push_str("\\r"),
        '\t' => out.push_str("\\t"),
        c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
        c => out.push(c),
    }
}

/// A decoded JSON string (a template) written as a native quoted template: literal parts
/// escaped, interpolations and directives copied as they are.
fn quote_template(template: &str) -> String {
    let chars: Vec<char> = template.chars().collect();
    let mut out = String::from("\"");
    let mut index = 0;
    while index < chars.len() {
        let c = chars[index];
        let next = chars.get(index + 1).copied();
        let after = chars.get(index + 2).copied();
        if (c == '$' || c == '%') && next == Some(c) && after == Some('{') {
            out.extend([c, c, '{']);
            index += 3;
        } else if (c == '$' || c == '%') && next == Some('{') {
            out.extend([c, '{']);
            index = copy_interpolation(&chars, index + 2, &mut out);
        } else {
            push_escaped(&mut out, c);
            index += 1;
        }
    }
    out.push('"');
    out
}

/// Copies an interpolation's expression up to and including its closing brace; returns the
/// index after it. Quoted strings inside are copied whole (their braces do not count).
fn copy_interpolation(chars: &[char], mut index: usize, out: &mut String) -> usize {
    let mut depth = 1;
    while index < chars.len() {
        let c = chars[index];
        out.push(c);
        index += 1;
        match c {
            '{' => depth += 1,
            '}' => {
                depth -= 1;
                if depth == 0 {
                    return index;
                }
            }
            '"' => index = copy_nested_string(chars, index, out),
            _ => {}
        }
    }
    index
}

fn copy_nested_string(chars: &[char], mut index: usize, out: &mut String) -> usize {
    while index < chars.len() {
        let c = chars[index];
        out.push(c);
        index += 1;
        match c {
            '\\' => {
                if let Some(&escaped) = chars.get(index) {
                    out.push(escaped);
                    index += 1;
                }
            }
            '"' => return index,
            '$' | '%' if chars.get(index) == Some(&'{') => {
                out.push('{');
                index = copy_interpolation(chars, index + 1, out);
            }
            _ => {}
        }
    }
    index
}

/// Whether a (translated or joined) file's text comes from a JSON file.
pub fn is_from_json(file: &SourceFile) -> bool {
    is_json(&file.name)
        || file
            .origins()
            .iter()
            .any(|origin| is_json(&origin.file.name))
}

/// `body` with the arguments `is_block` picks (by name and value) turned into the blocks they stand for (see
/// [`json_attribute_as_blocks`]); arguments of another shape stay, for the evaluator to report.
pub fn expand_blocks(body: &Body, is_block: impl Fn(&str, &Expression) -> bool) -> Body {
    let mut expanded = Body::new();
    for structure in body.iter() {
        if let hcl_edit::structure::Structure::Attribute(attribute) = structure {
            if is_block(attribute.key.as_str(), &attribute.value) {
                if let Some(blocks) = json_attribute_as_blocks(attribute) {
                    for block in blocks {
                        expanded.push(block);
                    }
                    continue;
                }
            }
        }
        expanded.push(structure.clone());
    }
    expanded
}

/// A nested block type written in JSON as an argument (`"ingress": [{...}]`): the blocks it
/// stands for, when its value is an object or an array of objects (`None` otherwise). Keys
/// become arguments, and `dynamic` keys `dynamic` blocks, as in a JSON body.
pub fn json_attribute_as_blocks(attribute: &Attribute) -> Option<Vec<Block>> {
    let objects: Vec<&hcl_edit::expr::Object> = match &attribute.value {
        Expression::Object(object) => vec![object],
        Expression::Array(array) => array
            .iter()
            .map(|item| match item {
                Expression::Object(object) => Some(object),
                _ => None,
            })
            .collect::<Option<_>>()?,
        Expression::Null(_) => Vec::new(),
        _ => return None,
    };
    objects
        .into_iter()
        .map(|object| {
            let mut block =
                Block::new(Decorated::new(Ident::try_new(attribute.key.as_str()).ok()?));
            block.body = object_body(object)?;
            Some(block)
        })
        .collect()
}

/// An object expression's entries as a body of arguments (`"dynamic"` entries as blocks).
fn object_body(object: &hcl_edit::expr::Object) -> Option<Body> {
    let mut body = Body::new();
    for (key, value) in object.iter() {
        let name = object_key_text(key)?;
        if name == "//" {
            continue;
        }
        if name == "dynamic" {
            for (label, content) in object_entries(value.expr())? {
                let mut dynamic = Block::new(Decorated::new(Ident::new("dynamic")));
                dynamic
                    .labels
                    .push(hcl_edit::structure::BlockLabel::String(Decorated::new(
                        label,
                    )));
                let Expression::Object(content) = content else {
                    return None;
                };
                dynamic.body = dynamic_body(content)?;
                body.push(dynamic);
            }
            continue;
        }
        let ident = Ident::try_new(name).ok()?;
        body.push(Attribute::new(Decorated::new(ident), value.expr().clone()));
    }
    Some(body)
}

fn dynamic_body(object: &hcl_edit::expr::Object) -> Option<Body> {
    let mut body = Body::new();
    for (key, value) in object.iter() {
        let name = object_key_text(key)?;
        if name == "content" {
            let Expression::Object(content) = value.expr() else {
                return None;
            };
            let mut block = Block::new(Decorated::new(Ident::new("content")));
            block.body = object_body(content)?;
            body.push(block);
        } else if name != "//" {
            body.push(Attribute::new(
                Decorated::new(Ident::try_new(name).ok()?),
                value.expr().clone(),
            ));
        }
    }
    Some(body)
}

fn object_entries(expression: &Expression) -> Option<Vec<(String, &Expression)>> {
    let Expression::Object(object) = expression else {
        return None;
    };
    object
        .iter()
        .map(|(key, value)| Some((object_key_text(key)?, value.expr())))
        .collect()
}

fn object_key_text(key: &ObjectKey) -> Option<String> {
    match key {
        ObjectKey::Ident(ident) => Some(ident.as_str().to_string()),
        ObjectKey::Expression(Expression::String(text)) => Some(text.as_str().to_string()),
        ObjectKey::Expression(_) => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn translate(text: &str) -> String {
        let mut sources = SourceMap::new();
        match translate_file("main.tf.json", text, &mut sources) {
            Ok((file, _)) => file.text.to_string(),
            Err(diagnostics) => format!("ERROR {diagnostics}"),
        }
    }

    #[test]
    fn blocks_labels_and_templates() {
        let text = translate(
            r#"{"resource": {"aws_vpc": {"main": {"cidr_block": "${var.cidr}", "count": 2,
               "provider": "aws.west", "depends_on": ["aws_vpc.other"], "//": "a comment"}}},
               "variable": {"cidr": {"type": "string", "default": "10.0.0.0/16"}}}"#,
        );
        assert_eq!(
            text,
            "resource \"aws_vpc\" \"main\" {\ncidr_block = \"${var.cidr}\"\ncount = 2\nprovider = aws.west\ndepends_on = [aws_vpc.other]\n}\nvariable \"cidr\" {\ntype = string\ndefault = \"10.0.0.0/16\"\n}\n"
        );
    }

    #[test]
    fn escapes_inside_interpolations() {
        assert_eq!(
            quote_template("a\"b${upper(\"x}\")}\n"),
            "\"a\\\"b${upper(\"x}\")}\\n\""
        );
        assert!(native_compatible("a\nb", "a\\nb"));
        assert!(!native_compatible("${f(\"x\")}", "${f(\\\"x\\\")}"));
        assert!(!native_compatible("a/b", "a\\/b"));
    }

    #[test]
    fn positions_point_into_the_json_file() {
        let mut sources = SourceMap::new();
        let text = "{\n  \"output\": {\n    \"x\": {\"value\": \"${1 +}\"}\n  }\n}\n";
        let error = translate_file("main.tf.json", text, &mut sources).unwrap_err();
        let span = error.iter().next().unwrap().span.clone().unwrap();
        assert_eq!((span.start.line, &*span.file), (3, "main.tf.json"));
    }
}
