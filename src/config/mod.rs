//! Configuration: a directory of `.tf` files decoded into a [`Module`], and the tree of modules
//! it calls ([`ModuleTree`]).
//!
//! Decoding checks structure (block types, argument names, meta-arguments) and keeps every
//! expression unevaluated, with its source file, for the evaluator ([`crate::lang`]). Variable
//! values from files, flags and the environment are gathered in [`variables`].
//!
//! Architecture invariant: nothing here evaluates an expression that refers to anything; the
//! only values decoded here are literal ones (variable defaults, type constraints).

pub mod encryption;
pub mod json;
pub mod json_scan;
pub mod literal;
pub mod load;
pub mod merge;
pub mod provisioner;
mod shape;
pub mod type_constraint;
pub mod variables;
pub mod version;

pub use load::{load_module, load_tree};
pub use type_constraint::parse_type_constraint;

use crate::addrs::Resource;
use crate::diagnostics::{SourceFile, Span};
use crate::value::{AttrPath, Type, Value};
use indexmap::IndexMap;
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;

/// An unevaluated expression and the file it came from.
#[derive(Clone, Debug)]
pub struct Expr {
    pub file: Arc<SourceFile>,
    pub expr: hcl_edit::expr::Expression,
}

impl Expr {
    /// Where the expression is.
    pub fn span(&self) -> Option<Span> {
        use hcl_edit::Span as _;
        self.expr.span().map(|range| self.file.span(range))
    }
}

/// An unevaluated block body (attributes and nested blocks, meta-arguments removed).
#[derive(Clone, Debug)]
pub struct Body {
    pub file: Arc<SourceFile>,
    pub body: hcl_edit::structure::Body,
}

/// A `condition` + `error_message` pair (validation, precondition, postcondition, assert).
#[derive(Clone, Debug)]
pub struct Condition {
    pub condition: Expr,
    pub error_message: Expr,
    pub span: Span,
}

/// One module directory.
#[derive(Clone, Debug, Default)]
pub struct Module {
    pub dir: PathBuf,
    pub terraform: TerraformSettings,
    pub providers: Vec<ProviderConfig>,
    pub variables: IndexMap<String, Variable>,
    pub locals: IndexMap<String, Local>,
    /// Managed resources and data sources, in declaration order.
    pub resources: IndexMap<Resource, ResourceConfig>,
    pub outputs: IndexMap<String, Output>,
    pub module_calls: IndexMap<String, ModuleCall>,
    pub moved: Vec<Moved>,
    pub imports: Vec<Import>,
    pub removed: Vec<Removed>,
    pub checks: Vec<Check>,
    /// Where each module call's `source` is written (for errors about the source).
    pub call_source_spans: BTreeMap<String, Span>,
    /// Warnings found while loading (deprecated forms); errors make loading fail instead.
    pub warnings: crate::diagnostics::Diagnostics,
}

/// The `terraform` block.
#[derive(Clone, Debug, Default)]
pub struct TerraformSettings {
    pub required_version: Option<String>,
    /// Local name → requirement.
    pub required_providers: BTreeMap<String, ProviderRequirement>,
    pub backend: Option<BackendConfig>,
    /// `encryption { ... }` (state and plan encryption, OpenTofu's form).
    pub encryption: Option<encryption::EncryptionConfig>,
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct ProviderRequirement {
    /// `hashicorp/aws`, as written (normalised to `registry.terraform.io/hashicorp/aws` by users).
    pub source: Option<String>,
    pub version: Option<String>,
    /// `configuration_aliases = [aws.west]`: aliased configurations a child module expects its
    /// caller to pass in `providers`.
    pub configuration_aliases: Vec<ProviderRef>,
}

/// `backend "s3" { ... }`: its type and literal settings.
#[derive(Clone, Debug)]
pub struct BackendConfig {
    pub backend_type: String,
    /// The literal settings (backends take no references).
    pub settings: BTreeMap<String, Value>,
    pub span: Span,
}

/// A `provider "aws" { ... }` block.
#[derive(Clone, Debug)]
pub struct ProviderConfig {
    pub name: String,
    pub alias: Option<String>,
    pub body: Body,
    pub span: Span,
}

/// Which provider configuration a resource uses: `aws` or `aws.west`.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ProviderRef {
    pub name: String,
    pub alias: Option<String>,
}

impl std::fmt::Display for ProviderRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.alias {
            Some(alias) => write!(f, "{}.{}", self.name, alias),
            None => write!(f, "{}", self.name),
        }
    }
}

/// A `variable` block.
#[derive(Clone, Debug)]
pub struct Variable {
    pub name: String,
    /// The type constraint; `None` means `any`.
    pub ty: Option<Type>,
    /// The default, converted to the type. `None`: the variable is required.
    pub default: Option<Value>,
    pub description: Option<String>,
    pub sensitive: bool,
    pub nullable: bool,
    pub validations: Vec<Condition>,
    pub span: Span,
}

/// One entry of a `locals` block.
#[derive(Clone, Debug)]
pub struct Local {
    pub name: String,
    pub expr: Expr,
    pub span: Span,
}

/// `ignore_changes` in a `lifecycle` block.
#[derive(Clone, Debug, Default, PartialEq)]
pub enum IgnoreChanges {
    #[default]
    None,
    /// `ignore_changes = all`
    All,
    Paths(Vec<AttrPath>),
}

/// A resource's `lifecycle` block.
#[derive(Clone, Debug, Default)]
pub struct Lifecycle {
    pub create_before_destroy: bool,
    pub prevent_destroy: bool,
    pub ignore_changes: IgnoreChanges,
    pub replace_triggered_by: Vec<Expr>,
    pub preconditions: Vec<Condition>,
    pub postconditions: Vec<Condition>,
}

/// A `resource` or `data` block.
#[derive(Clone, Debug)]
pub struct ResourceConfig {
    pub addr: Resource,
    /// The provider configuration, from `provider = aws.west` or implied by the type's prefix.
    pub provider: ProviderRef,
    /// Whether `provider` was set explicitly.
    pub provider_explicit: bool,
    pub count: Option<Expr>,
    pub for_each: Option<Expr>,
    /// `depends_on` entries, as written (references to resources or modules).
    pub depends_on: Vec<Expr>,
    pub lifecycle: Lifecycle,
    /// `timeouts { create = "30m" ... }`: operation → duration text expression.
    pub timeouts: BTreeMap<String, Expr>,
    /// `provisioner` blocks and the resource's `connection` block.
    pub provisioning: provisioner::Provisioning,
    /// Everything else: the resource's own arguments and nested blocks (including `dynamic`).
    pub body: Body,
    /// The block header (`resource "aws_vpc" "main"`).
    pub span: Span,
}

impl ResourceConfig {
    /// The expressions of the meta-arguments and conditions (`count`, `for_each`,
    /// `depends_on`, `replace_triggered_by`, `timeouts`, pre- and postconditions): what they
    /// refer to, they read whole, not per instance.
    pub fn meta_expressions(&self) -> impl Iterator<Item = &Expr> {
        let conditions = self
            .lifecycle
            .preconditions
            .iter()
            .chain(&self.lifecycle.postconditions)
            .flat_map(|c| [&c.condition, &c.error_message]);
        self.count
            .iter()
            .chain(self.for_each.iter())
            .chain(self.depends_on.iter())
            .chain(self.lifecycle.replace_triggered_by.iter())
            .chain(self.timeouts.values())
            .chain(conditions)
    }
}

/// An `output` block.
#[derive(Clone, Debug)]
pub struct Output {
    pub name: String,
    pub expr: Expr,
    pub description: Option<String>,
    pub sensitive: bool,
    pub depends_on: Vec<Expr>,
    pub preconditions: Vec<Condition>,
    pub span: Span,
}

/// A `module "name" { source = "./..." ... }` block.
#[derive(Clone, Debug)]
pub struct ModuleCall {
    pub name: String,
    /// The `source` as written: a local path (`./`, `../`), a registry address or a remote
    /// package (see `install::module_source`).
    pub source: String,
    /// The `version` constraint of a registry module, as written.
    pub version: Option<String>,
    /// The source resolved against the calling module's directory (meaningful for local paths;
    /// other sources resolve through `.terraform/modules/modules.json`).
    pub source_dir: PathBuf,
    pub inputs: IndexMap<String, Expr>,
    pub count: Option<Expr>,
    pub for_each: Option<Expr>,
    pub depends_on: Vec<Expr>,
    /// `providers = { aws = aws.west }`: child's name → caller's configuration.
    pub providers: BTreeMap<String, ProviderRef>,
    pub span: Span,
}

/// A `moved { from = ..., to = ... }` block (addresses as written).
#[derive(Clone, Debug)]
pub struct Moved {
    pub from: String,
    pub to: String,
    pub span: Span,
}

/// An `import { to = ..., id = ... }` block, or with `for_each` one per element
/// (`to = aws_vpc.this[each.key]`, `id = each.value`).
#[derive(Clone, Debug)]
pub struct Import {
    /// The target as written; with `for_each`, the resource without its instance key.
    pub to: String,
    pub id: Expr,
    pub provider: Option<ProviderRef>,
    pub for_each: Option<Expr>,
    /// With `for_each`: the target's instance key expression (`each.key`).
    pub key: Option<Expr>,
    pub span: Span,
}

/// A `removed { from = ... lifecycle { destroy = false } }` block.
#[derive(Clone, Debug)]
pub struct Removed {
    pub from: String,
    pub destroy: bool,
    /// Destroy-time provisioners (and their connection) to run as the object is destroyed.
    pub provisioning: provisioner::Provisioning,
    pub span: Span,
}

/// A `check "name" { data ... assert { ... } }` block.
#[derive(Clone, Debug)]
pub struct Check {
    pub name: String,
    /// A scoped data source, if any.
    pub data: Option<ResourceConfig>,
    pub asserts: Vec<Condition>,
    pub span: Span,
}

/// A module and every module it calls, recursively.
#[derive(Clone, Debug, Default)]
pub struct ModuleTree {
    pub module: Module,
    /// Child module call name → its tree.
    pub children: BTreeMap<String, ModuleTree>,
}

impl ModuleTree {
    /// The warnings of loading every module of the tree (deprecated forms), root first, each
    /// once (a module called twice is loaded twice), for the CLI to print: loading succeeded,
    /// so they are in no error result.
    pub fn warnings(&self) -> crate::diagnostics::Diagnostics {
        let mut all = crate::diagnostics::Diagnostics::new();
        self.collect_warnings(&mut all);
        all
    }

    fn collect_warnings(&self, all: &mut crate::diagnostics::Diagnostics) {
        for warning in self.module.warnings.iter() {
            if !all.iter().any(|seen| seen == warning) {
                all.push(warning.clone());
            }
        }
        for child in self.children.values() {
            child.collect_warnings(all);
        }
    }

    /// Every module of the tree with its path of call names, root first, depth first.
    pub fn modules(&self) -> Vec<(Vec<String>, &Module)> {
        fn walk<'a>(
            tree: &'a ModuleTree,
            path: &mut Vec<String>,
            out: &mut Vec<(Vec<String>, &'a Module)>,
        ) {
            out.push((path.clone(), &tree.module));
            for (name, child) in &tree.children {
                path.push(name.clone());
                walk(child, path, out);
                path.pop();
            }
        }
        let mut out = Vec::new();
        walk(self, &mut Vec::new(), &mut out);
        out
    }

    /// The module at a path of call names (`["vpc"]`), if it exists.
    pub fn descendant(&self, path: &[String]) -> Option<&ModuleTree> {
        let mut current = self;
        for name in path {
            current = current.children.get(name)?;
        }
        Some(current)
    }
}
