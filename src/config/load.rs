//! Reading a module directory's `.tf` files into a [`Module`], and a root module with every
//! module it calls into a [`ModuleTree`].
//!
//! Decoding checks the structure Terraform checks (block types, labels, argument names,
//! meta-arguments, duplicates) and keeps every other expression unevaluated. Errors of every
//! file are collected, so one run reports all of them.
//!
//! This file reads the files and the tree of modules and holds the decoder's shared checks
//! (labels, shapes, literals); each kind of block is decoded in its own submodule:
//! `terraform` (the `terraform` and `provider` blocks), `values` (`variable`, `locals`,
//! `output`, `check`), `resources` (`resource`, `data`), `modules` (`module`) and
//! `refactoring` (`moved`, `import`, `removed`).

use super::literal::literal_value;
use super::shape::Shape;
use super::{Expr, Module, ModuleTree};
use crate::addrs::ResourceMode;
use crate::diagnostics::{did_you_mean, Diagnostic, Diagnostics, SourceFile, SourceMap, Span};
use crate::install::modules::InstalledModules;
use crate::value::{convert, Value};
use hcl_edit::expr::{Expression, TraversalOperator};
use hcl_edit::structure::{Attribute, Block, Structure};
use hcl_edit::Span as _;
use std::collections::BTreeMap;
use std::path::{Component, Path, PathBuf};
use std::sync::Arc;

mod modules;
mod refactoring;
mod resources;
mod terraform;
mod values;

const TOP_LEVEL_BLOCKS: &[&str] = &[
    "check",
    "data",
    "import",
    "locals",
    "module",
    "moved",
    "output",
    "provider",
    "removed",
    "resource",
    "terraform",
    "variable",
];

/// Names a variable may not have: they are meta-arguments of a module call.
const RESERVED_VARIABLE_NAMES: &[&str] = &[
    "count",
    "depends_on",
    "for_each",
    "lifecycle",
    "locals",
    "providers",
    "source",
    "version",
];

/// How a path is shown in diagnostics: relative to the current directory when it is inside it.
pub fn display_path(path: &Path) -> String {
    if let Ok(current) = std::env::current_dir() {
        if let Ok(relative) = path.strip_prefix(&current) {
            return relative.display().to_string();
        }
    }
    // `./main.tf` reads as `main.tf`, as Terraform prints it.
    let path = path.strip_prefix(".").unwrap_or(path);
    path.display().to_string()
}

/// `a/./b/../c` → `a/c`, without touching the file system (the path may not exist).
pub fn normalize_path(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for component in path.components() {
        match component {
            Component::CurDir => {}
            Component::ParentDir => {
                let last_is_normal =
                    matches!(out.components().next_back(), Some(Component::Normal(_)));
                if last_is_normal {
                    out.pop();
                } else {
                    out.push("..");
                }
            }
            other => out.push(other),
        }
    }
    if out.as_os_str().is_empty() {
        out.push(".");
    }
    out
}

/// Parses one file's text, registering it in `sources`. A syntax error is a diagnostic at the
/// position hcl-edit reports.
pub fn parse_file(
    name: &str,
    text: &str,
    sources: &mut SourceMap,
) -> Result<(Arc<SourceFile>, hcl_edit::structure::Body), Diagnostic> {
    let file = Arc::new(SourceFile::new(name, text));
    sources.add(file.clone());
    let body = parse_source(&file)?;
    Ok((file, body))
}

/// Parses a source file's text (as written, or translated from JSON or joined for overrides).
pub(super) fn parse_source(
    file: &Arc<SourceFile>,
) -> Result<hcl_edit::structure::Body, Diagnostic> {
    let text = &file.text;
    match hcl_edit::parser::parse_body(text) {
        Ok(body) => Ok(body),
        Err(error) => {
            let offset = error.location().offset().min(text.len());
            let message = error.message().trim();
            let message = if message.is_empty() {
                "invalid HCL syntax"
            } else {
                message
            };
            // hcl-edit rejects an argument set twice in one body as a syntax error.
            let summary = if message.contains("redefined attribute") {
                "Attribute redefined"
            } else {
                "Invalid HCL syntax"
            };
            Err(Diagnostic::error(summary)
                .with_detail(message.to_string())
                .with_span(file.span(offset..offset)))
        }
    }
}

/// The configuration files of a directory (`*.tf`, `*.tf.json`), sorted by name: the primary
/// files, then the override files (`override.tf`, `*_override.tf` and their `.tf.json`
/// spellings), which [`super::merge`] applies after the primary ones, as Terraform does.
fn tf_files(dir: &Path) -> Result<(Vec<PathBuf>, Vec<PathBuf>), Diagnostic> {
    let entries = std::fs::read_dir(dir).map_err(|error| {
        Diagnostic::error("Failed to read module directory").with_detail(format!(
            "Cannot read the directory `{}`: {error}.",
            display_path(dir)
        ))
    })?;
    let mut files = Vec::new();
    let mut overrides = Vec::new();
    let mut paths: Vec<PathBuf> = entries
        .filter_map(Result::ok)
        .map(|entry| entry.path())
        .collect();
    paths.sort();
    for path in paths {
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().to_string())
            .unwrap_or_default();
        // Editor backup and hidden files are not part of the configuration (as in Terraform).
        if !path.is_file() || name.starts_with('.') || name.starts_with('#') || name.ends_with('~')
        {
            continue;
        }
        let Some(stem) = name
            .strip_suffix(".tf.json")
            .or_else(|| name.strip_suffix(".tf"))
        else {
            continue;
        };
        if stem == "override" || stem.ends_with("_override") {
            overrides.push(path);
        } else {
            files.push(path);
        }
    }
    Ok((files, overrides))
}

/// Reads every `*.tf` file of `dir` (in name order) into one [`Module`].
///
/// On success, warnings (deprecated forms) are in [`Module::warnings`]; on failure every
/// error and warning of every file is returned.
pub fn load_module(dir: &Path, sources: &mut SourceMap) -> Result<Module, Diagnostics> {
    let (mut module, diagnostics) = load_module_partial(dir, sources);
    if diagnostics.has_errors() {
        return Err(diagnostics);
    }
    module.warnings.extend(diagnostics);
    Ok(module)
}

/// What of a module decodes despite errors, and every diagnostic: so that [`load_tree`] can
/// report errors of called modules too.
fn load_module_partial(dir: &Path, sources: &mut SourceMap) -> (Module, Diagnostics) {
    let mut diagnostics = Diagnostics::new();
    let mut module = Module {
        dir: dir.to_path_buf(),
        ..Module::default()
    };
    let (files, override_files) = match tf_files(dir) {
        Ok(found) => found,
        Err(error) => return (module, error.into()),
    };
    let mut parse = |paths: Vec<PathBuf>, diagnostics: &mut Diagnostics| {
        let mut parsed = Vec::new();
        for path in paths {
            let name = display_path(&path);
            if let Some(text) = read_text(&path, &name, diagnostics) {
                match parse_any(&name, &text, sources) {
                    Ok(file) => parsed.push(file),
                    Err(errors) => diagnostics.extend(errors),
                }
            }
        }
        parsed
    };
    let mut primary = parse(files, &mut diagnostics);
    let overrides = parse(override_files, &mut diagnostics);
    let late = super::merge::merge_overrides(&mut primary, &overrides, &mut diagnostics);
    for (file, body) in primary {
        decode_parsed(&mut module, file, &body, &mut diagnostics);
    }
    let mut override_module = Module {
        dir: dir.to_path_buf(),
        ..Module::default()
    };
    for (file, body) in late {
        decode_parsed(&mut override_module, file, &body, &mut diagnostics);
    }
    super::merge::merge_late(&mut module, override_module, &mut diagnostics);
    (module, diagnostics)
}

/// A file's text, or a diagnostic when it cannot be read or is not UTF-8.
fn read_text(path: &Path, name: &str, diagnostics: &mut Diagnostics) -> Option<String> {
    match std::fs::read(path) {
        Ok(bytes) => match String::from_utf8(bytes) {
            Ok(text) => Some(text),
            Err(_) => {
                diagnostics.push(
                    Diagnostic::error("Invalid file encoding")
                        .with_detail(format!("The file `{name}` is not valid UTF-8.")),
                );
                None
            }
        },
        Err(error) => {
            diagnostics.push(
                Diagnostic::error("Failed to read file")
                    .with_detail(format!("Cannot read `{name}`: {error}.")),
            );
            None
        }
    }
}

/// Parses a file in either syntax (JSON when its name ends in `.json`).
fn parse_any(
    name: &str,
    text: &str,
    sources: &mut SourceMap,
) -> Result<(Arc<SourceFile>, hcl_edit::structure::Body), Diagnostics> {
    if super::json::is_json(name) {
        super::json::translate_file(name, text, sources)
    } else {
        parse_file(name, text, sources).map_err(Diagnostics::from)
    }
}

/// Decodes one file's text into `module` (used by [`load_module`], and by tests and tools that
/// have the text in hand). A name ending in `.json` is read in the JSON syntax.
pub fn decode_file_text(
    module: &mut Module,
    name: &str,
    text: &str,
    sources: &mut SourceMap,
    diagnostics: &mut Diagnostics,
) {
    match parse_any(name, text, sources) {
        Ok((file, body)) => decode_parsed(module, file, &body, diagnostics),
        Err(errors) => diagnostics.extend(errors),
    }
}

/// Decodes a parsed body into `module`.
fn decode_parsed(
    module: &mut Module,
    file: Arc<SourceFile>,
    body: &hcl_edit::structure::Body,
    diagnostics: &mut Diagnostics,
) {
    let mut decoder = Decoder {
        file,
        dir: module.dir.clone(),
        diagnostics,
    };
    decoder.file_body(module, body);
}

/// Loads the root module in `root_dir` and every module it calls, recursively.
pub fn load_tree(root_dir: &Path, sources: &mut SourceMap) -> Result<ModuleTree, Diagnostics> {
    let _phase = crate::timings::phase("configuration loading");
    let mut diagnostics = Diagnostics::new();
    let mut stack = Vec::new();
    let installed = InstalledModules::open(root_dir);
    let tree = load_tree_at(
        root_dir,
        "",
        &installed,
        sources,
        &mut stack,
        &mut diagnostics,
    );
    match tree {
        Some(tree) if !diagnostics.has_errors() => Ok(tree),
        _ => Err(diagnostics),
    }
}

/// Loads the module in `dir` (its key `key`: the call names from the root joined by `.`) and
/// the modules it calls.
fn load_tree_at(
    dir: &Path,
    key: &str,
    installed: &InstalledModules,
    sources: &mut SourceMap,
    stack: &mut Vec<(PathBuf, String)>,
    diagnostics: &mut Diagnostics,
) -> Option<ModuleTree> {
    let (mut module, module_diagnostics) = load_module_partial(dir, sources);
    let failed = module_diagnostics.has_errors();
    if failed {
        diagnostics.extend(module_diagnostics);
    } else {
        module.warnings.extend(module_diagnostics);
    }
    let identity = std::fs::canonicalize(dir).unwrap_or_else(|_| normalize_path(dir));
    stack.push((identity, display_path(dir)));
    let mut children = BTreeMap::new();
    for (name, call) in &module.module_calls {
        let source_span = module
            .call_source_spans
            .get(name)
            .cloned()
            .unwrap_or_else(|| call.span.clone());
        let child_key = if key.is_empty() {
            name.clone()
        } else {
            format!("{key}.{name}")
        };
        // The seam with module installation: a local path resolves against this module's
        // directory, any other source to where `strata init` installed it.
        let child_dir = match installed.resolve(&child_key, call) {
            Ok(dir) => dir,
            Err(diagnostic) => {
                diagnostics.push(diagnostic.with_span(source_span));
                continue;
            }
        };
        if !child_dir.is_dir() {
            diagnostics.push(
                Diagnostic::error("Module not found")
                    .with_detail(format!(
                        "The module directory `{}` of module \"{name}\" does not exist.",
                        display_path(&child_dir)
                    ))
                    .with_span(source_span),
            );
            continue;
        }
        let child_identity =
            std::fs::canonicalize(&child_dir).unwrap_or_else(|_| normalize_path(&child_dir));
        if let Some(position) = stack
            .iter()
            .position(|(identity, _)| *identity == child_identity)
        {
            let cycle: Vec<String> = stack[position..]
                .iter()
                .map(|(_, shown)| shown.clone())
                .chain(std::iter::once(display_path(&child_dir)))
                .collect();
            diagnostics.push(
                Diagnostic::error("Module cycle")
                    .with_detail(format!(
                        "Module \"{name}\" calls a module that is already being loaded: {}.",
                        cycle.join(" → ")
                    ))
                    .with_span(source_span),
            );
            continue;
        }
        if let Some(child) = load_tree_at(
            &child_dir,
            &child_key,
            installed,
            sources,
            stack,
            diagnostics,
        ) {
            children.insert(name.clone(), child);
        }
    }
    stack.pop();
    (!failed).then_some(ModuleTree { module, children })
}

fn is_valid_name(name: &str) -> bool {
    let mut chars = name.chars();
    match chars.next() {
        Some(first) if first.is_alphabetic() || first == '_' => {}
        _ => return false,
    }
    chars.all(|c| c.is_alphanumeric() || c == '_' || c == '-')
}

/// Where something was declared, for "already declared at" details.
fn location(span: &Span) -> String {
    format!("{}:{}", span.file, span.start.line)
}

struct Decoder<'a> {
    file: Arc<SourceFile>,
    dir: PathBuf,
    diagnostics: &'a mut Diagnostics,
}

impl Decoder<'_> {
    fn span(&self, range: Option<std::ops::Range<usize>>) -> Option<Span> {
        range.map(|range| self.file.span(range))
    }

    fn expr(&self, expression: &Expression) -> Expr {
        Expr {
            file: self.file.clone(),
            expr: expression.clone(),
        }
    }

    fn error(
        &mut self,
        summary: &str,
        detail: impl Into<String>,
        range: Option<std::ops::Range<usize>>,
    ) {
        let span = self.span(range);
        self.diagnostics.push(
            Diagnostic::error(summary)
                .with_detail(detail)
                .with_span_opt(span),
        );
    }

    fn warning(
        &mut self,
        summary: &str,
        detail: impl Into<String>,
        range: Option<std::ops::Range<usize>>,
    ) {
        let span = self.span(range);
        self.diagnostics.push(
            Diagnostic::warning(summary)
                .with_detail(detail)
                .with_span_opt(span),
        );
    }

    /// The span of a block's header: its type and labels.
    fn header_span(&self, block: &Block) -> Span {
        header_span(&self.file, block)
    }

    fn source_text(&self, expression: &Expression) -> String {
        expression
            .span()
            .and_then(|range| self.file.text.get(range))
            .map(|text| text.trim().to_string())
            .unwrap_or_default()
    }

    /// Reports arguments and blocks the shape does not have, with a suggestion.
    fn check_shape(&mut self, body: &hcl_edit::structure::Body, shape: &Shape<'_>) {
        shape.check(&self.file, body, self.diagnostics);
    }

    /// Checks a block's labels: `names` says what each is called ("type", "name").
    fn check_labels(&mut self, block: &Block, names: &[&str]) -> Option<Vec<String>> {
        let kind = block.ident.as_str();
        if block.labels.len() < names.len() {
            let missing = names[block.labels.len()];
            let header = self.header_span(block);
            self.diagnostics.push(
                Diagnostic::error(format!("Missing {missing} for {kind}"))
                    .with_detail(format!(
                        "All {kind} blocks must have {} label{} ({}).",
                        names.len(),
                        if names.len() == 1 { "" } else { "s" },
                        names.join(", ")
                    ))
                    .with_span(header),
            );
            return None;
        }
        if block.labels.len() > names.len() {
            let extra = &block.labels[names.len()];
            self.error(
                &format!("Extraneous label for {kind}"),
                format!(
                    "Only {} label{} expected for {kind} blocks ({}).",
                    names.len(),
                    if names.len() == 1 { " is" } else { "s are" },
                    if names.is_empty() {
                        "none".to_string()
                    } else {
                        names.join(", ")
                    }
                ),
                extra.span(),
            );
            return None;
        }
        let labels: Vec<String> = block
            .labels
            .iter()
            .map(|label| label.as_str().to_string())
            .collect();
        let mut valid = true;
        for (label, (name, block_label)) in labels.iter().zip(names.iter().zip(&block.labels)) {
            if !is_valid_name(label) {
                self.error(
                    &format!("Invalid {kind} {name}"),
                    "A name must start with a letter or underscore and may contain only letters, digits, underscores, and dashes.",
                    block_label.span(),
                );
                valid = false;
            }
        }
        valid.then_some(labels)
    }

    fn literal(&mut self, expression: &Expression) -> Option<Value> {
        match literal_value(expression, &self.file) {
            Ok(value) => Some(value),
            Err(errors) => {
                self.diagnostics.extend(errors);
                None
            }
        }
    }

    fn literal_string(&mut self, attribute: &Attribute) -> Option<String> {
        let value = self.literal(&attribute.value)?;
        match value {
            Value::String(s) => Some(s),
            Value::Number(n) => Some(n.to_string()),
            Value::Bool(b) => Some(b.to_string()),
            other => {
                self.error(
                    "Incorrect attribute value type",
                    format!(
                        "Inappropriate value for attribute \"{}\": string required, but got {}.",
                        attribute.key.as_str(),
                        other.friendly_type_name()
                    ),
                    attribute.value.span(),
                );
                None
            }
        }
    }

    fn literal_bool(&mut self, attribute: &Attribute) -> Option<bool> {
        let value = self.literal(&attribute.value)?;
        match convert(value, &crate::value::Type::Bool) {
            Ok(Value::Bool(b)) => Some(b),
            Ok(_) | Err(_) => {
                self.error(
                    "Incorrect attribute value type",
                    format!(
                        "Inappropriate value for attribute \"{}\": a bool is required.",
                        attribute.key.as_str()
                    ),
                    attribute.value.span(),
                );
                None
            }
        }
    }

    fn required_attribute<'b>(&mut self, block: &'b Block, name: &str) -> Option<&'b Attribute> {
        let attribute = block.body.get_attribute(name);
        if attribute.is_none() {
            let header = self.header_span(block);
            self.diagnostics.push(
                Diagnostic::error("Missing required argument")
                    .with_detail(format!(
                        "The argument \"{name}\" is required in a {} block, but no definition was found.",
                        block.ident.as_str()
                    ))
                    .with_span(header),
            );
        }
        attribute
    }

    fn file_body(&mut self, module: &mut Module, body: &hcl_edit::structure::Body) {
        for structure in body.iter() {
            match structure {
                Structure::Attribute(attribute) => {
                    let name = attribute.key.as_str();
                    let mut diagnostic = Diagnostic::error("Unsupported argument")
                        .with_detail(format!(
                            "An argument named \"{name}\" is not expected here: the top level of a module holds only blocks."
                        ))
                        .with_span_opt(self.span(attribute.key.span()));
                    if let Some(suggestion) = did_you_mean(name, TOP_LEVEL_BLOCKS.iter().copied()) {
                        diagnostic = diagnostic
                            .with_help(format!("Did you mean the block \"{suggestion}\"?"));
                    }
                    self.diagnostics.push(diagnostic);
                }
                Structure::Block(block) => match block.ident.as_str() {
                    "terraform" => self.terraform_block(module, block),
                    "provider" => self.provider_block(module, block),
                    "variable" => self.variable_block(module, block),
                    "locals" => self.locals_block(module, block),
                    "resource" => self.resource_block(module, block, ResourceMode::Managed),
                    "data" => self.resource_block(module, block, ResourceMode::Data),
                    "output" => self.output_block(module, block),
                    "module" => self.module_block(module, block),
                    "moved" => self.moved_block(module, block),
                    "import" => self.import_block(module, block),
                    "removed" => self.removed_block(module, block),
                    "check" => self.check_block(module, block),
                    other => {
                        let diagnostic = Diagnostic::error("Unsupported block type")
                            .with_detail(format!(
                                "Blocks of type \"{other}\" are not expected here."
                            ))
                            .with_span_opt(self.span(block.ident.span()))
                            .with_suggestion(did_you_mean(other, TOP_LEVEL_BLOCKS.iter().copied()));
                        self.diagnostics.push(diagnostic);
                    }
                },
            }
        }
    }
}

/// `a.b.c` as names, when the expression is a plain dotted traversal.
pub(crate) fn traversal_names(expression: &Expression) -> Option<Vec<String>> {
    match expression {
        Expression::Variable(name) => Some(vec![name.as_str().to_string()]),
        Expression::Traversal(traversal) => {
            let mut names = traversal_names(&traversal.expr)?;
            for operator in &traversal.operators {
                match operator.value() {
                    TraversalOperator::GetAttr(name) => names.push(name.as_str().to_string()),
                    _ => return None,
                }
            }
            Some(names)
        }
        _ => None,
    }
}

/// The span of a block's header in `file`: its type and labels.
pub(crate) fn header_span(file: &SourceFile, block: &Block) -> Span {
    let start = block
        .ident
        .span()
        .map(|r| r.start)
        .or(block.span().map(|r| r.start))
        .unwrap_or(0);
    let end = block
        .labels
        .last()
        .and_then(|label| label.span())
        .or(block.ident.span())
        .map(|r| r.end)
        .unwrap_or(start);
    file.span(start..end.max(start))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggestions() {
        assert_eq!(
            did_you_mean("resouce", TOP_LEVEL_BLOCKS.iter().copied()),
            Some("resource")
        );
        assert_eq!(
            did_you_mean("zzzzzz", TOP_LEVEL_BLOCKS.iter().copied()),
            None
        );
    }

    #[test]
    fn normalizes_paths() {
        assert_eq!(
            normalize_path(Path::new("a/./b/../c")),
            PathBuf::from("a/c")
        );
        assert_eq!(normalize_path(Path::new("./../x")), PathBuf::from("../x"));
    }

    #[test]
    fn parse_errors_have_a_position() {
        let mut sources = SourceMap::new();
        let error = parse_file(
            "bad.tf",
            "resource \"a\" \"b\" {\n  x = \n}\n",
            &mut sources,
        )
        .unwrap_err();
        let span = error.span.expect("located");
        assert_eq!(&*span.file, "bad.tf");
        assert!(span.start.line >= 2, "{span}");
    }
}
