//! Fuzz target over the front half of the pipeline: arbitrary text is decoded as a module file
//! (`main.tf`) and, when it decodes, every local, output, validation rule and resource body is
//! evaluated in a scope where every reference is unknown; the same text goes through the
//! formatter. Errors are expected; a panic (or an abort, a stack overflow) is a bug.

#![no_main]

use libfuzzer_sys::fuzz_target;
use std::path::PathBuf;
use strata::config::load::decode_file_text;
use strata::config::{Body, Module};
use strata::diagnostics::{Diagnostic, Diagnostics, SourceMap, Span};
use strata::lang::{eval_body, eval_condition, eval_expr, EvalContext, Referenceable, Scope};
use strata::providers::schema::{Attribute, Block, Nesting};
use strata::value::{Type, Value};

/// Every reference is an unknown value (of any type), as during validation.
struct UnknownScope;

impl Scope for UnknownScope {
    fn resolve(&self, _subject: &Referenceable, _span: Option<&Span>) -> Result<Value, Diagnostic> {
        Ok(Value::unknown())
    }
}

/// A schema that accepts the body as written: each argument an optional value of any type,
/// each nested block (and each `dynamic` block's label) a list of blocks with the same kind
/// of schema, so the evaluator goes through the whole body rather than stopping at the first
/// argument an existing schema does not know.
fn schema_of(body: &hcl_edit::structure::Body, depth: usize) -> Block {
    use hcl_edit::structure::Structure;
    let mut schema = Block::new();
    if depth > 32 {
        return schema;
    }
    for structure in body.iter() {
        match structure {
            Structure::Attribute(attribute) => {
                schema = schema.attr(attribute.key.as_str(), Attribute::optional(Type::Any));
            }
            Structure::Block(block) => {
                let ident = block.ident.as_str();
                if ident == "dynamic" {
                    let Some(label) = block.labels.first() else {
                        continue;
                    };
                    let content = block.body.iter().find_map(|inner| match inner {
                        Structure::Block(content) if content.ident.as_str() == "content" => {
                            Some(schema_of(&content.body, depth + 1))
                        }
                        _ => None,
                    });
                    schema =
                        schema.block(label.as_str(), Nesting::List, content.unwrap_or_default());
                } else {
                    schema = schema.block(ident, Nesting::List, schema_of(&block.body, depth + 1));
                }
            }
        }
    }
    schema
}

/// Renders an evaluation's errors (with the source line and a caret) and drops the value.
fn render<T>(result: Result<T, Diagnostics>, sources: &SourceMap) {
    if let Err(errors) = result {
        let _ = errors.render(sources, false);
    }
}

fn evaluate_body(body: &Body, ctx: &EvalContext<'_>, sources: &SourceMap) {
    let schema = schema_of(&body.body, 0);
    render(eval_body(body, &schema, ctx), sources);
    // And against an empty schema: every argument is then an error with a location.
    render(eval_body(body, &Block::new(), ctx), sources);
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let _ = strata::fmt::format_source(text);

    let directory = PathBuf::from("/nonexistent/strata-fuzz");
    let mut module = Module {
        dir: directory.clone(),
        ..Module::default()
    };
    let mut sources = SourceMap::new();
    let mut diagnostics = Diagnostics::new();
    decode_file_text(&mut module, "main.tf", text, &mut sources, &mut diagnostics);
    // Rendering the diagnostics exercises spans and carets against the source text.
    let _ = diagnostics.render(&sources, false);
    if diagnostics.has_errors() {
        return;
    }

    let scope = UnknownScope;
    let ctx = EvalContext {
        scope: &scope,
        module_dir: directory,
        plan_mode: true,
    };
    for local in module.locals.values() {
        render(eval_expr(&local.expr, &ctx), &sources);
    }
    for output in module.outputs.values() {
        render(eval_expr(&output.expr, &ctx), &sources);
    }
    for variable in module.variables.values() {
        for validation in &variable.validations {
            render(eval_condition(&validation.condition, &ctx), &sources);
            render(eval_expr(&validation.error_message, &ctx), &sources);
        }
    }
    for resource in module.resources.values() {
        for expr in resource.count.iter().chain(&resource.for_each) {
            render(eval_expr(expr, &ctx), &sources);
        }
        evaluate_body(&resource.body, &ctx, &sources);
    }
});
