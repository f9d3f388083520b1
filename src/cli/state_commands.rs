//! The commands that work on the state alone: `state …`, `workspace …`, `force-unlock`,
//! `taint` and `untaint`.

use super::args::{LockArgs, StateCommand, TaintArgs, WorkspaceCommand};
use super::commands::current_workspace;
use super::lock::StateLock;
use super::views::state::{StateEdit, StateView, WorkspaceView};
use super::{backend, Context};
use crate::addrs::{ResourceInstance, Target};
use crate::providers::Registry;
use crate::state::{State, StateChange};
use anyhow::{bail, Context as _};

/// The state as `strata show` prints it, nested blocks drawn from the schemas of the
/// providers serving the working directory's configuration ([`configuration_registry`]).
pub async fn render_state(context: &Context, state: &State) -> String {
    crate::ui::render_state(state, &rendering_schemas(context).await)
}

/// The providers of the configuration in the working directory, as a plan would use them: the
/// built-in ones and the plugins `init` installed (each started once to read its schema). The
/// built-in ones alone when the configuration does not load or a plugin cannot start (logged):
/// reading commands still print what they can. The caller closes the registry.
pub(super) async fn configuration_registry(context: &Context) -> Registry {
    let mut sources = crate::diagnostics::SourceMap::new();
    let Ok(tree) = crate::config::load::load_tree(&context.dir, &mut sources) else {
        return Registry::builtin();
    };
    match Registry::for_configuration(&tree, &context.dir).await {
        Ok(registry) => registry,
        Err(error) => {
            tracing::warn!("provider schemas from the built-in providers only: {error}");
            Registry::builtin()
        }
    }
}

/// The rendering schemas of [`configuration_registry`] (whose plugins are stopped again).
pub(super) async fn rendering_schemas(context: &Context) -> crate::ui::Schemas {
    let registry = configuration_registry(context).await;
    let schemas = crate::ui::Schemas::from_registry(&registry);
    registry.close().await;
    schemas
}

/// Takes the lock, loads the state, lets `edit` change it, writes it back and shows what
/// `edit` did; the lock is released whatever happens (on drop when a step fails).
async fn edit_state(
    context: &Context,
    backend: &dyn crate::state::Backend,
    workspace: &str,
    lock: &LockArgs,
    edit: impl FnOnce(&mut State) -> anyhow::Result<StateEdit>,
) -> anyhow::Result<u8> {
    let lock = StateLock::take(context, backend, workspace, "OperationTypeInvalid", lock).await?;
    let mut state = backend.load(workspace).await?;
    let done = edit(&mut state)?;
    backend.write(workspace, &state).await?;
    lock.release().await;
    StateView.edited(&done);
    Ok(0)
}

/// `strata taint ADDRESS` / `strata untaint ADDRESS`: marks an instance so the next plan
/// replaces it (or takes the mark off). `-allow-missing` makes a missing instance a no-op.
pub async fn taint(context: &Context, args: &TaintArgs, tainted: bool) -> anyhow::Result<u8> {
    let address = ResourceInstance::parse(&args.address)?;
    if address.resource.mode == crate::addrs::ResourceMode::Data {
        bail!("Invalid address: {address}: data sources cannot be tainted.");
    }
    let backend = backend::open(context, None).await?;
    let workspace = current_workspace(context).await?;
    let exists = backend
        .load(&workspace)
        .await?
        .resources
        .contains_key(&address);
    if !exists {
        if args.allow_missing {
            StateView.nothing_to_taint(&address);
            return Ok(0);
        }
        bail!("No such resource instance: there is no resource instance in the state with the address {address}. If the resource configuration has just been added, run `strata apply` first to create the object.");
    }
    edit_state(context, backend.as_ref(), &workspace, &args.lock, |state| {
        let Some(object) = state.resources.get_mut(&address) else {
            bail!("No such resource instance: {address} left the state meanwhile.");
        };
        if !tainted && object.status != crate::state::ObjectStatus::Tainted {
            bail!("Resource instance is not tainted: {address} is not marked as tainted.");
        }
        object.status = if tainted {
            crate::state::ObjectStatus::Tainted
        } else {
            crate::state::ObjectStatus::Ready
        };
        Ok(if tainted {
            StateEdit::Tainted(address.clone())
        } else {
            StateEdit::Untainted(address.clone())
        })
    })
    .await
}

/// Creates a workspace and switches to it (`workspace new`, `workspace select -or-create`).
async fn create_workspace(
    context: &Context,
    backend: &dyn crate::state::Backend,
    name: &str,
) -> anyhow::Result<()> {
    crate::state::workspace::new_workspace(backend, &context.dir, name).await?;
    WorkspaceView(context.style).created(name);
    Ok(())
}

pub async fn state(context: &Context, command: StateCommand) -> anyhow::Result<u8> {
    let backend = backend::open(context, None).await?;
    let workspace = current_workspace(context).await?;
    match command {
        StateCommand::List { addresses } => {
            let state = backend.load(&workspace).await?;
            let filters = addresses
                .iter()
                .map(|a| Target::parse(a))
                .collect::<Result<Vec<_>, _>>()?;
            // An instance whose only object is deposed is still listed, as Terraform lists it.
            let addresses: std::collections::BTreeSet<&ResourceInstance> =
                state.resources.keys().chain(state.deposed.keys()).collect();
            StateView.listed(addresses.into_iter().filter(|address| {
                filters.is_empty() || filters.iter().any(|f| f.contains(address))
            }));
            for address in state.pending_creates.keys() {
                StateView.pending_create(address);
            }
            for (address, objects) in &state.deposed {
                for key in objects.keys() {
                    StateView.deposed(address, key);
                }
            }
            Ok(0)
        }
        StateCommand::Show { address } => {
            let address = ResourceInstance::parse(&address)?;
            let state = super::commands::load_state(backend.as_ref(), &workspace).await?;
            let Some(object) = state.resources.get(&address) else {
                bail!("No instance found for the given address: {address} is not in the state. `strata state list` shows what is.");
            };
            let mut single = State::new();
            single.resources.insert(address, object.clone());
            StateView.instance(&render_state(context, &single).await);
            Ok(0)
        }
        StateCommand::Rm { lock, addresses } => {
            let filters = addresses
                .iter()
                .map(|a| Target::parse(a))
                .collect::<Result<Vec<_>, _>>()?;
            edit_state(context, backend.as_ref(), &workspace, &lock, |state| {
                // An instance goes with its deposed objects, as in Terraform.
                let doomed: std::collections::BTreeSet<ResourceInstance> = state
                    .resources
                    .keys()
                    .chain(state.deposed.keys())
                    .filter(|a| filters.iter().any(|f| f.contains(a)))
                    .cloned()
                    .collect();
                if doomed.is_empty() {
                    bail!("Invalid target address: no matching objects found in the state.");
                }
                for address in &doomed {
                    state.apply_change(&StateChange::Remove {
                        address: address.clone(),
                    });
                    state.deposed.remove(address);
                }
                Ok(StateEdit::Removed(doomed.into_iter().collect()))
            })
            .await
        }
        StateCommand::Mv {
            lock,
            source,
            destination,
        } => {
            let source = ResourceInstance::parse(&source)?;
            let destination = ResourceInstance::parse(&destination)?;
            if source.resource.type_name != destination.resource.type_name {
                bail!("Invalid state move request: cannot move {source} to {destination}: resource types don't match.");
            }
            edit_state(context, backend.as_ref(), &workspace, &lock, |state| {
                if state.resources.contains_key(&destination) {
                    bail!("Invalid state move request: {destination} already exists in the state.");
                }
                if !state.resources.contains_key(&source) {
                    bail!("Invalid state move request: {source} is not in the state.");
                }
                state.apply_change(&StateChange::Move {
                    from: source.clone(),
                    to: destination.clone(),
                });
                Ok(StateEdit::Moved {
                    from: source.clone(),
                    to: destination.clone(),
                })
            })
            .await
        }
        StateCommand::Pull => {
            if let Some(text) = backend.pull(&workspace).await? {
                StateView.pulled(&text);
            }
            Ok(0)
        }
        StateCommand::Push { force, path } => {
            let text = if path.as_os_str() == "-" {
                let mut text = String::new();
                std::io::Read::read_to_string(&mut std::io::stdin(), &mut text)?;
                text
            } else {
                std::fs::read_to_string(&path)
                    .with_context(|| format!("reading {}", path.display()))?
            };
            let serial = backend.push(&workspace, &text, force).await?;
            StateView.pushed(serial);
            Ok(0)
        }
    }
}

pub async fn workspace(context: &Context, command: WorkspaceCommand) -> anyhow::Result<u8> {
    use crate::state::workspace as ws;
    let backend = backend::open(context, None).await?;
    let view = WorkspaceView(context.style);
    match command {
        WorkspaceCommand::List => {
            let current = current_workspace(context).await?;
            view.listed(&backend.workspaces().await?, &current);
            Ok(0)
        }
        WorkspaceCommand::Show => {
            view.current(&current_workspace(context).await?);
            Ok(0)
        }
        WorkspaceCommand::New { name } => {
            create_workspace(context, backend.as_ref(), &name).await?;
            view.new_is_empty();
            Ok(0)
        }
        WorkspaceCommand::Select { or_create, name } => {
            let exists = backend.workspaces().await?.contains(&name);
            if or_create && !exists {
                create_workspace(context, backend.as_ref(), &name).await?;
                return Ok(0);
            }
            ws::select_workspace(backend.as_ref(), &context.dir, &name).await?;
            view.switched(&name);
            Ok(0)
        }
        WorkspaceCommand::Delete { force, name } => {
            ws::delete_workspace(backend.as_ref(), &context.dir, &name, force).await?;
            view.deleted(&name);
            Ok(0)
        }
    }
}

pub async fn force_unlock(context: &Context, force: bool, lock_id: &str) -> anyhow::Result<u8> {
    let backend = backend::open(context, None).await?;
    let workspace = current_workspace(context).await?;
    let view = WorkspaceView(context.style);
    if !force {
        if !context.interactive {
            bail!("force-unlock needs confirmation: run with -force in a non-interactive session.");
        }
        if !view.confirm_force_unlock()? {
            view.force_unlock_cancelled();
            return Ok(1);
        }
    }
    backend.force_unlock(&workspace, lock_id).await?;
    view.unlocked();
    Ok(0)
}
