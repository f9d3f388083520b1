//! What a command says about the state lock: waiting for it, taking over a dead holder's,
//! failing to get or to release it.

use crate::state::backend::{LockInfo, StateError};
use crate::ui::Style;
use std::time::Duration;

/// The lock is held by another run: this one waits up to `timeout`.
pub fn waiting(style: Style, holder: &LockInfo, timeout: Duration) {
    eprintln!(
        "{}",
        style.yellow(&format!(
            "Acquiring state lock: held by {} ({}, since {}; lock ID {}). Waiting up to {}...",
            holder.who,
            holder.operation,
            holder.created,
            holder.id,
            crate::ui::format_elapsed(timeout)
        ))
    );
}

/// The lock was taken over from a holder whose process is gone.
pub fn taken_over(style: Style, dead: &LockInfo) {
    eprintln!(
        "{}",
        style.yellow(&format!(
            "Took over the state lock left by {} ({}, since {}; lock ID {}): its process is gone.",
            dead.who, dead.operation, dead.created, dead.id
        ))
    );
}

/// The lock could not be taken.
pub fn not_acquired(style: Style, error: &StateError) {
    eprintln!("{}", style.red("Error: Error acquiring the state lock"));
    eprintln!("\n{error}\n\nStrata acquires a state lock to protect the state from being written by\nmultiple users at the same time. Wait for the other run to finish, retry with\n-lock-timeout=DURATION to wait for it, or, if the holder is gone, remove the lock\nwith `strata force-unlock ID`.");
}

/// Releasing the lock failed (the command's own outcome stands).
pub fn release_failed(error: &StateError) {
    eprintln!("Error releasing the state lock: {error}");
}
