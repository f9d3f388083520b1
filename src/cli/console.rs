//! `strata console`: evaluates expressions typed (or piped) one per line against the
//! configuration and the current state, as `terraform console` does: `var.…`, `local.…`,
//! resource attributes from the state, every built-in function. Read-only: no lock, no provider
//! call. `exit` (or end of input) leaves; with piped input an invalid expression makes the exit
//! status 1.

use super::commands::{current_workspace, load_config, load_variables};
use super::views::console::ConsoleView;
use super::{backend, Context, Reported};
use crate::diagnostics::SourceMap;
use crate::engine::{Engine, RunOptions};
use crate::providers::Registry;
use crate::value::Type;
use std::collections::BTreeMap;
use std::io::{BufRead, IsTerminal};

pub async fn console(context: &Context) -> anyhow::Result<u8> {
    let mut sources = SourceMap::new();
    let tree = load_config(context, &mut sources)?;
    let variables = load_variables(context, &tree, &mut sources, false)?;
    let backend = backend::open(context, Some(&tree)).await?;
    let workspace = current_workspace(context).await?;
    let state = super::commands::load_state(backend.as_ref(), &workspace).await?;
    let options = RunOptions {
        workspace,
        ..RunOptions::default()
    };
    // The plugins' schemas too: the state's instances of plugin resource types are read
    // through them. No provider is configured or called.
    let registry = match Registry::for_configuration(&tree, &context.dir).await {
        Ok(registry) => registry,
        Err(error) => {
            tracing::warn!("provider schemas from the built-in providers only: {error}");
            Registry::builtin()
        }
    };
    let declared = declared_types(&tree, &registry);
    let closer = registry.clone();
    let engine = match Engine::new(tree, registry, options, variables) {
        Ok(engine) => engine,
        Err(diagnostics) => {
            closer.close().await;
            context.print_diagnostics(&diagnostics, &sources);
            return Err(Reported.into());
        }
    };
    let console = engine.console(&state).await;
    // The schemas are read: the plugin processes are not needed while the user types.
    closer.close().await;
    let console = match console {
        Ok(console) => console,
        Err(diagnostics) => {
            context.print_diagnostics(&diagnostics, &sources);
            return Err(Reported.into());
        }
    };
    let interactive = std::io::stdin().is_terminal();
    let mut failed = false;
    let stdin = std::io::stdin();
    let mut lines = stdin.lock().lines();
    loop {
        if interactive {
            ConsoleView.prompt()?;
        }
        let Some(line) = lines.next() else { break };
        let line = line?;
        let text = line.trim();
        if text.is_empty() {
            continue;
        }
        if text == "exit" {
            break;
        }
        match console.eval(text) {
            Ok(value) => {
                let ty = hcl_edit::parser::parse_expr(text)
                    .map(|expr| crate::ui::static_type(&expr, &declared))
                    .unwrap_or(Type::Any);
                ConsoleView.value(&value, &ty)
            }
            Err(diagnostics) => {
                failed = true;
                context.print_diagnostics(&diagnostics, &SourceMap::new());
            }
        }
    }
    Ok(if failed && !interactive { 1 } else { 0 })
}

/// The root module's declared and derived types, for typed nulls (`ui::static_type`).
fn declared_types(tree: &crate::config::ModuleTree, registry: &Registry) -> crate::ui::Declared {
    declared_in(tree, registry, &BTreeMap::new())
}

/// A module's variables' declared types (an untyped one has the type of what its call passes,
/// `arguments`), its resources' schema types, and its local values' and module outputs' types,
/// derived from their expressions until no more is learnt (one may refer to another).
fn declared_in(
    tree: &crate::config::ModuleTree,
    registry: &Registry,
    arguments: &BTreeMap<String, Type>,
) -> crate::ui::Declared {
    let module = &tree.module;
    let variables = (module.variables.iter())
        .map(|(name, variable)| {
            let ty = variable.ty.clone().or_else(|| arguments.get(name).cloned());
            (name.clone(), ty)
        })
        .collect();
    let mut declared = crate::ui::Declared {
        variables,
        resources: resource_types(module, registry),
        ..Default::default()
    };
    let mut calls = Calls::new();
    for _ in 0..=module.locals.len() + module.module_calls.len() {
        let locals = (module.locals.iter())
            .map(|(name, local)| {
                let ty = crate::ui::static_type(&local.expr.expr, &declared);
                (name.clone(), ty)
            })
            .collect();
        let modules = module_types(tree, registry, &declared, &mut calls);
        if locals == declared.locals && modules == declared.modules {
            break;
        }
        declared.locals = locals;
        declared.modules = modules;
    }
    declared
}

/// Each module call's last argument types and the output types they gave.
type Calls = BTreeMap<String, (BTreeMap<String, Type>, (Type, bool))>;

/// Each module call's object of output types (from the child's own declarations and the types
/// of what `declared` says the call passes), and whether it is repeated. A child is analysed
/// again only when what its call passes has a new type (`calls`).
fn module_types(
    tree: &crate::config::ModuleTree,
    registry: &Registry,
    declared: &crate::ui::Declared,
    calls: &mut Calls,
) -> BTreeMap<String, (Type, bool)> {
    let mut out = BTreeMap::new();
    for (name, child) in &tree.children {
        let Some(call) = tree.module.module_calls.get(name) else {
            continue;
        };
        let passed: BTreeMap<String, Type> = (call.inputs.iter())
            .map(|(input, expr)| (input.clone(), crate::ui::static_type(&expr.expr, declared)))
            .collect();
        if let Some((before, found)) = calls.get(name) {
            if *before == passed {
                out.insert(name.clone(), found.clone());
                continue;
            }
        }
        let inner = declared_in(child, registry, &passed);
        let outputs: BTreeMap<String, Type> = (child.module.outputs.iter())
            .map(|(output, o)| (output.clone(), crate::ui::static_type(&o.expr.expr, &inner)))
            .collect();
        let ty = Type::Object(crate::value::ObjectType::new(outputs));
        let found = (ty, call.count.is_some() || call.for_each.is_some());
        calls.insert(name.clone(), (passed, found.clone()));
        out.insert(name.clone(), found);
    }
    out
}

/// Each resource's object type from its provider's schema, and whether it is repeated.
fn resource_types(
    module: &crate::config::Module,
    registry: &Registry,
) -> BTreeMap<String, (Type, bool)> {
    let mut resources = BTreeMap::new();
    for (address, resource) in &module.resources {
        let Some(registered) = registry.get(&resource.provider.name) else {
            continue;
        };
        let schema = (registered.factory)().schema();
        let schemas = match address.mode {
            crate::addrs::ResourceMode::Managed => &schema.resources,
            crate::addrs::ResourceMode::Data => &schema.data_sources,
        };
        if let Some(resource_schema) = schemas.get(&address.type_name) {
            let repeated = resource.count.is_some() || resource.for_each.is_some();
            let ty = resource_schema.block.value_type();
            resources.insert(address.to_string(), (ty, repeated));
        }
    }
    resources
}
