//! Override files (`override.tf`, `*_override.tf` and their `.tf.json` spellings), merged
//! into the primary files after those are read, by Terraform's rules (its
//! `internal/configs/module_merge.go` and `module_merge_body.go`):
//!
//! - `resource`, `data`, `variable`, `output`, `module` and `provider` blocks are merged into
//!   the block they name: each argument set in the override replaces the base's, and nested
//!   blocks of a type the override has (static or `dynamic`) replace all the base's blocks of
//!   that type. A resource's `lifecycle` merges per argument (`create_before_destroy`,
//!   `prevent_destroy`, `ignore_changes`); a variable's `validation` and an output's
//!   `precondition` blocks in an override are ignored; `depends_on` may not be overridden.
//! - `locals` are replaced one by one; in the `terraform` block `required_version` and
//!   `backend` replace the base's and `required_providers` entries replace per provider;
//!   `encryption` merges as `TF_ENCRYPTION` does (`config::encryption::merge`).
//! - An override for something no primary file declares is an error at the override, except a
//!   default (unaliased) provider configuration, which is added. `moved` and `import` blocks
//!   may not appear in override files.
//!
//! Blocks are merged as syntax before decoding, so the merged block is checked and decoded like
//! any other. Its arguments come from two files: the merged block lives in a joined text (the
//! base file's text, then the override file's), whose positions map back to each file.

use crate::diagnostics::{Diagnostic, Diagnostics, Origin, SourceFile};
use hcl_edit::expr::Expression;
use hcl_edit::structure::{Block, BlockLabel, Body, Structure};
use hcl_edit::Span as _;
use std::sync::Arc;

use super::load::header_span;
use super::Module;

/// A parsed file: its (possibly translated) source and body.
pub type ParsedFile = (Arc<SourceFile>, Body);

/// Merges the override files' blocks into the primary files' blocks they name. Returns the
/// override files' `locals` and `terraform` blocks (and anything else for the decoder to
/// report), which [`merge_late`] applies once decoded.
pub fn merge_overrides(
    primary: &mut [ParsedFile],
    overrides: &[ParsedFile],
    diagnostics: &mut Diagnostics,
) -> Vec<ParsedFile> {
    let mut late = Vec::new();
    for (override_file, override_body) in overrides {
        let mut rest = Body::new();
        for (index, structure) in override_body.iter().enumerate() {
            let Structure::Block(block) = structure else {
                rest.push(structure.clone());
                continue;
            };
            let span = header_span(override_file, block);
            match block.ident.as_str() {
                "locals" | "terraform" => rest.push(structure.clone()),
                "moved" | "import" => {
                    let (what, detail) = if block.ident.as_str() == "moved" {
                        ("moved", "Records of moved objects can appear only in normal files, not in override files.")
                    } else {
                        (
                            "import",
                            "Import blocks can appear only in normal files, not in override files.",
                        )
                    };
                    diagnostics.push(
                        Diagnostic::error(format!("Cannot override '{what}' blocks"))
                            .with_detail(detail)
                            .with_span(span),
                    );
                }
                "resource" | "data" | "variable" | "output" | "module" | "provider" => {
                    match find_base(primary, block) {
                        Some((file_index, block_index)) => merge_into(
                            &mut primary[file_index],
                            block_index,
                            (override_file, override_body),
                            index,
                            diagnostics,
                        ),
                        None if block.ident.as_str() == "provider" && alias(block).is_none() => {
                            // An absent default provider configuration is an empty one: the
                            // override is the configuration.
                            rest.push(structure.clone())
                        }
                        None => diagnostics.push(missing_base(block, span)),
                    }
                }
                // `check` and `removed` blocks of override files are ignored, as in Terraform.
                "check" | "removed" => {}
                _ => rest.push(structure.clone()),
            }
        }
        late.push((override_file.clone(), rest));
    }
    late
}

fn label_text(label: &BlockLabel) -> &str {
    match label {
        BlockLabel::Ident(ident) => ident.as_str(),
        BlockLabel::String(text) => text.as_str(),
    }
}

/// A provider block's `alias`, when it is a literal string.
fn alias(block: &Block) -> Option<String> {
    match &block.body.get_attribute("alias")?.value {
        Expression::String(text) => Some(text.as_str().to_string()),
        _ => None,
    }
}

/// The primary file and block index of the block `block` overrides.
fn find_base(primary: &[ParsedFile], block: &Block) -> Option<(usize, usize)> {
    let labels: Vec<&str> = block.labels.iter().map(label_text).collect();
    let is_provider = block.ident.as_str() == "provider";
    primary
        .iter()
        .enumerate()
        .find_map(|(file_index, (_, body))| {
            body.iter()
                .position(|structure| match structure {
                    Structure::Block(base) => {
                        base.ident.as_str() == block.ident.as_str()
                            && base
                                .labels
                                .iter()
                                .map(label_text)
                                .eq(labels.iter().copied())
                            && (!is_provider || alias(base) == alias(block))
                    }
                    Structure::Attribute(_) => false,
                })
                .map(|block_index| (file_index, block_index))
        })
}

fn missing_base(block: &Block, span: crate::diagnostics::Span) -> Diagnostic {
    let labels: Vec<&str> = block.labels.iter().map(label_text).collect();
    let first = labels.first().copied().unwrap_or_default();
    let second = labels.get(1).copied().unwrap_or_default();
    let (summary, detail) = match block.ident.as_str() {
        "resource" => ("Missing resource to override", format!("There is no {first} resource named \"{second}\". An override file can only override a resource block defined in a primary configuration file.")),
        "data" => ("Missing data resource to override", format!("There is no {first} data resource named \"{second}\". An override file can only override a data block defined in a primary configuration file.")),
        "variable" => ("Missing base variable declaration to override", format!("There is no variable named \"{first}\". An override file can only override a variable that was already declared in a primary configuration file.")),
        "output" => ("Missing base output definition to override", format!("There is no output named \"{first}\". An override file can only override an output that was already defined in a primary configuration file.")),
        "module" => ("Missing module call to override", format!("There is no module call named \"{first}\". An override file can only override a module call that was defined in a primary configuration file.")),
        _ => ("Missing base provider configuration for override", format!("There is no {first} provider configuration with the alias \"{}\". An override file can only override an aliased provider configuration that was already defined in a primary configuration file.", alias(block).unwrap_or_default())),
    };
    Diagnostic::error(summary)
        .with_detail(detail)
        .with_span(span)
}

/// Merges override block `override_index` of `override_file` into block `block_index` of
/// `base`, which becomes the joined file (base text, then override text).
fn merge_into(
    base: &mut ParsedFile,
    block_index: usize,
    (override_file, override_body): (&Arc<SourceFile>, &Body),
    override_index: usize,
    diagnostics: &mut Diagnostics,
) {
    let (base_file, base_body) = base;
    let Some((joined, shifted)) = join(base_file, override_file, override_body.len()) else {
        return;
    };
    let (Some(Structure::Block(base_block)), Some(Structure::Block(over))) =
        (base_body.get(block_index), shifted.get(override_index))
    else {
        return;
    };
    let merged = merge_block(base_block, over, &joined, diagnostics);
    let mut body = Body::new();
    for (index, structure) in base_body.iter().enumerate() {
        if index == block_index {
            body.push(merged.clone());
        } else {
            body.push(structure.clone());
        }
    }
    *base = (joined, body);
}

/// The text of `base` then of `over` as one file, and `over`'s top-level structures parsed in
/// it (their positions shifted past the base's text). The base's own structures keep their
/// positions, since its text comes first.
fn join(
    base: &Arc<SourceFile>,
    over: &Arc<SourceFile>,
    override_count: usize,
) -> Option<(Arc<SourceFile>, Vec<Structure>)> {
    let shift = base.text.len() + 1;
    let mut origins = pieces(base, 0);
    origins.extend(pieces(over, shift));
    let text = format!("{}\n{}", base.text, over.text);
    let joined = Arc::new(SourceFile::derived(base.name.clone(), text, origins));
    let body = hcl_edit::parser::parse_body(&joined.text).ok()?;
    let shifted: Vec<Structure> = body
        .into_iter()
        .filter(|structure| structure.span().is_some_and(|range| range.start >= shift))
        .collect();
    (shifted.len() == override_count).then_some((joined, shifted))
}

/// Where each piece of `file`'s text comes from, placed at `shift` in a joined text.
fn pieces(file: &Arc<SourceFile>, shift: usize) -> Vec<Origin> {
    if file.origins().is_empty() {
        return vec![Origin {
            start: shift,
            len: file.text.len(),
            file: file.clone(),
            origin_start: 0,
            origin_len: file.text.len(),
        }];
    }
    file.origins()
        .iter()
        .map(|origin| Origin {
            start: origin.start + shift,
            ..origin.clone()
        })
        .collect()
}

/// The base block with the override's arguments and nested blocks, by the rules of the block
/// type (see the module documentation).
fn merge_block(
    base: &Block,
    over: &Block,
    file: &Arc<SourceFile>,
    diagnostics: &mut Diagnostics,
) -> Block {
    let kind = base.ident.as_str();
    let mut merged = base.clone();
    if let Some(depends_on) = over.body.get_attribute("depends_on") {
        if matches!(kind, "resource" | "data" | "output" | "module") {
            diagnostics.push(unsupported_depends_on(file, &depends_on.value));
        }
    }
    for attribute in over.body.attributes() {
        if attribute.key.as_str() == "depends_on" {
            continue;
        }
        replace_attribute(&mut merged.body, attribute.clone());
    }
    if kind == "variable" {
        check_variable_default(&mut merged, over, file, diagnostics);
    }
    let ignored: &[&str] = match kind {
        "variable" => &["validation"],
        "output" => &["precondition"],
        _ => &[],
    };
    let over_blocks: Vec<&Block> = over
        .body
        .blocks()
        .filter(|block| !ignored.contains(&block.ident.as_str()))
        .collect();
    // A resource's lifecycle merges per argument; a data source's override lifecycle is
    // ignored (only managed resources merge it).
    let is_resource = kind == "resource" || kind == "data";
    if kind == "resource" {
        if let Some(lifecycle) = over_blocks.iter().find(|b| b.ident.as_str() == "lifecycle") {
            merge_lifecycle(&mut merged.body, lifecycle);
        }
    }
    let replacing: Vec<&Block> = over_blocks
        .into_iter()
        .filter(|block| !(is_resource && block.ident.as_str() == "lifecycle"))
        .collect();
    if replacing.is_empty() {
        return merged;
    }
    let replaced: Vec<&str> = replacing.iter().map(|block| block_type(block)).collect();
    let mut body = Body::new();
    for structure in merged.body.iter() {
        if let Structure::Block(block) = structure {
            if replaced.contains(&block_type(block)) {
                continue;
            }
        }
        body.push(structure.clone());
    }
    for block in replacing {
        body.push(block.clone());
    }
    merged.body = body;
    merged
}

/// When an override sets a variable's `type` or `default`, the merged default must still
/// convert to the merged type; Terraform reports it at the override, with a detail saying
/// which was overridden. The default is then dropped, so the error is reported once.
fn check_variable_default(
    merged: &mut Block,
    over: &Block,
    file: &Arc<SourceFile>,
    diagnostics: &mut Diagnostics,
) {
    let sets_type = over.body.has_attribute("type");
    let sets_default = over.body.has_attribute("default");
    if !sets_type && !sets_default {
        return;
    }
    let (Some(ty), Some(default)) = (
        merged.body.get_attribute("type"),
        merged.body.get_attribute("default"),
    ) else {
        return;
    };
    let ty = super::Expr {
        file: file.clone(),
        expr: ty.value.clone(),
    };
    let (Ok(ty), Ok(value)) = (
        super::parse_type_constraint(&ty),
        super::literal::literal_value(&default.value, file),
    ) else {
        return;
    };
    let Err(error) = crate::value::convert(value, &ty) else {
        return;
    };
    let detail = match (sets_type, sets_default) {
        (true, false) => format!("Overriding this variable's type constraint has made its default value invalid: {error}."),
        (false, true) => format!("The overridden default value for this variable is not compatible with the variable's type constraint: {error}."),
        _ => format!("This variable's default value is not compatible with its type constraint: {error}."),
    };
    diagnostics.push(
        Diagnostic::error("Invalid default value for variable")
            .with_detail(detail)
            .with_span(header_span(file, over)),
    );
    merged.body.remove_attribute("default");
}

/// The block type a block stands for: a `dynamic` block's label.
fn block_type(block: &Block) -> &str {
    match (block.ident.as_str(), block.labels.first()) {
        ("dynamic", Some(label)) => label_text(label),
        (ident, _) => ident,
    }
}

fn replace_attribute(body: &mut Body, attribute: hcl_edit::structure::Attribute) {
    let name = attribute.key.as_str().to_string();
    let position = body
        .iter()
        .position(|s| matches!(s, Structure::Attribute(a) if a.key.as_str() == name));
    match position {
        Some(index) => {
            body.remove(index);
            body.insert(index, attribute);
        }
        None => body.push(attribute),
    }
}

/// A resource's `lifecycle`: the override's `create_before_destroy`, `prevent_destroy` and
/// `ignore_changes` replace the base's; its other arguments are ignored.
fn merge_lifecycle(body: &mut Body, over: &Block) {
    let index = body
        .iter()
        .position(|s| matches!(s, Structure::Block(b) if b.ident.as_str() == "lifecycle"));
    let mut lifecycle = match index {
        Some(index) => match body.remove(index) {
            Structure::Block(block) => block,
            Structure::Attribute(_) => return,
        },
        None => over.clone_empty(),
    };
    for attribute in over.body.attributes() {
        if matches!(
            attribute.key.as_str(),
            "create_before_destroy" | "prevent_destroy" | "ignore_changes"
        ) {
            replace_attribute(&mut lifecycle.body, attribute.clone());
        }
    }
    match index {
        Some(index) => body.insert(index, lifecycle),
        None => body.push(lifecycle),
    }
}

trait CloneEmpty {
    fn clone_empty(&self) -> Block;
}

impl CloneEmpty for Block {
    /// The block with the same type and labels and an empty body.
    fn clone_empty(&self) -> Block {
        let mut block = self.clone();
        block.body = Body::new();
        block
    }
}

/// At the first entry of `depends_on`, as Terraform reports it.
fn unsupported_depends_on(file: &SourceFile, value: &Expression) -> Diagnostic {
    let range = match value {
        Expression::Array(items) => items.iter().next().and_then(|first| first.span()),
        _ => None,
    }
    .or_else(|| value.span());
    Diagnostic::error("Unsupported override")
        .with_detail("The depends_on argument may not be overridden.")
        .with_span_opt(range.map(|range| file.span(range)))
}

/// Applies the override files' `locals` and `terraform` settings, decoded into `overrides`.
pub fn merge_late(module: &mut Module, overrides: Module, diagnostics: &mut Diagnostics) {
    for (name, local) in overrides.locals {
        match module.locals.get_mut(&name) {
            Some(base) => *base = local,
            None => diagnostics.push(
                Diagnostic::error("Missing base local value definition to override")
                    .with_detail(format!("There is no local value named \"{name}\". An override file can only override a local value that was already defined in a primary configuration file."))
                    .with_span(local.span),
            ),
        }
    }
    let terraform = overrides.terraform;
    if terraform.required_version.is_some() {
        module.terraform.required_version = terraform.required_version;
    }
    if terraform.backend.is_some() {
        module.terraform.backend = terraform.backend;
    }
    if terraform.encryption.is_some() {
        let base = module.terraform.encryption.take();
        module.terraform.encryption = super::encryption::merge(base, terraform.encryption);
    }
    module
        .terraform
        .required_providers
        .extend(terraform.required_providers);
    // Default provider configurations an override adds (no base to merge into).
    module.providers.extend(overrides.providers);
    module.warnings.extend(overrides.warnings);
}
