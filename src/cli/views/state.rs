//! What the commands that work on the state alone print: the `state` family, `taint` and
//! `untaint`, `workspace`, `force-unlock`. Human text only, as Terraform's are (`state pull`
//! prints the stored document as it is).

use crate::addrs::ResourceInstance;
use crate::ui::Style;

/// What a state-editing command did (`state rm`, `state mv`, `taint`, `untaint`).
pub enum StateEdit {
    Removed(Vec<ResourceInstance>),
    Moved {
        from: ResourceInstance,
        to: ResourceInstance,
    },
    Tainted(ResourceInstance),
    Untainted(ResourceInstance),
}

/// `state list`, `state show`, `state pull`/`push` and the state edits.
pub struct StateView;

impl StateView {
    /// `state list`: one address a line.
    pub fn listed<'a>(&self, addresses: impl IntoIterator<Item = &'a ResourceInstance>) {
        for address in addresses {
            println!("{address}");
        }
    }

    /// `state list`'s note on an instance whose create was interrupted.
    pub fn pending_create(&self, address: &ResourceInstance) {
        eprintln!("Note: the create of {address} was interrupted; the next plan or apply looks for what it made and adopts it (or drops the intent when nothing was made).");
    }

    /// `state list`'s note on a deposed object.
    pub fn deposed(&self, address: &ResourceInstance, key: &str) {
        eprintln!("Note: {address} has a deposed object {key} (left by an unfinished create_before_destroy replacement); the next apply destroys it.");
    }

    /// `state show`: the instance as `show` renders it.
    pub fn instance(&self, rendered: &str) {
        print!("{rendered}");
    }

    /// What an edit did, once it is written.
    pub fn edited(&self, edit: &StateEdit) {
        match edit {
            StateEdit::Removed(addresses) => {
                for address in addresses {
                    println!("Removed {address}");
                }
                println!(
                    "Successfully removed {} resource instance(s).",
                    addresses.len()
                );
            }
            StateEdit::Moved { from, to } => {
                println!("Move \"{from}\" to \"{to}\"\nSuccessfully moved 1 object(s).")
            }
            StateEdit::Tainted(address) => {
                println!("Resource instance {address} has been marked as tainted.")
            }
            StateEdit::Untainted(address) => {
                println!("Resource instance {address} has been successfully untainted.")
            }
        }
    }

    /// `taint -allow-missing` on an instance the state does not have.
    pub fn nothing_to_taint(&self, address: &ResourceInstance) {
        eprintln!("Warning: No such resource instance: {address} is not in the state; nothing to do (-allow-missing).");
    }

    /// `state pull`: the stored document, ending with a newline.
    pub fn pulled(&self, text: &str) {
        print!("{text}");
        if !text.ends_with('\n') {
            println!();
        }
    }

    /// `state push`.
    pub fn pushed(&self, serial: u64) {
        println!("State pushed (serial {serial}).");
    }
}

/// `workspace …` and `force-unlock`.
pub struct WorkspaceView(pub Style);

impl WorkspaceView {
    /// `workspace list`: every workspace, the current one starred.
    pub fn listed(&self, names: &[String], current: &str) {
        for name in names {
            let marker = if name == current { "*" } else { " " };
            println!("{marker} {name}");
        }
    }

    /// `workspace show`.
    pub fn current(&self, name: &str) {
        println!("{name}");
    }

    /// `workspace new`, `workspace select -or-create`.
    pub fn created(&self, name: &str) {
        self.success(&format!("Created and switched to workspace \"{name}\"!"));
    }

    /// `workspace new`'s closing words.
    pub fn new_is_empty(&self) {
        println!("\nYou're now on a new, empty workspace. Workspaces isolate their state,\nso if you run \"strata plan\" Strata will not see any existing state\nfor this configuration.");
    }

    pub fn switched(&self, name: &str) {
        self.success(&format!("Switched to workspace \"{name}\"."));
    }

    pub fn deleted(&self, name: &str) {
        self.success(&format!("Deleted workspace \"{name}\"!"));
    }

    /// `force-unlock`'s question, answered by one line of standard input.
    pub fn confirm_force_unlock(&self) -> std::io::Result<bool> {
        let answer = super::ask_on_stdout("Do you really want to force-unlock?\n  Strata will remove the lock on the remote state.\n  This will allow local Strata commands to modify this state, even though it\n  may still be in use. Only 'yes' will be accepted to confirm.\n", "  Enter a value: ")?;
        Ok(answer.trim() == "yes")
    }

    pub fn force_unlock_cancelled(&self) {
        println!("force-unlock cancelled.");
    }

    pub fn unlocked(&self) {
        self.success("Strata state has been successfully unlocked!");
    }

    fn success(&self, text: &str) {
        println!("{}", self.0.green(text));
    }
}
