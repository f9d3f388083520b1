//! Instance gates, for an apply's instance-level scheduling ([`crate::graph::instances`]):
//! every instance the apply changes has a gate, opened once the instance is applied or has
//! failed; an instance that picks another resource's instance by its own repetition
//! (`a[count.index]`) waits for that one gate instead of for the whole resource.

use crate::addrs::ResourceInstance;
use std::collections::HashMap;
use std::sync::Mutex;
use tokio::sync::watch;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Gate {
    Pending,
    Applied,
    Failed,
}

/// The gates of one apply.
#[derive(Default)]
pub(super) struct Gates {
    gates: Mutex<HashMap<ResourceInstance, watch::Sender<Gate>>>,
}

impl Gates {
    /// Closes the gate of an instance the apply is about to change.
    pub(super) fn close(&self, address: ResourceInstance) {
        let (sender, _) = watch::channel(Gate::Pending);
        self.lock().insert(address, sender);
    }

    /// Opens an instance's gate: applied, or failed (what waits on it does not run).
    pub(super) fn open(&self, address: &ResourceInstance, applied: bool) {
        if let Some(sender) = self.lock().get(address) {
            sender.send_replace(if applied { Gate::Applied } else { Gate::Failed });
        }
    }

    /// Waits until the instance at `address` is applied: `false` when it failed. An instance
    /// without a gate (the apply does not change it) is ready.
    pub(super) async fn wait(&self, address: &ResourceInstance) -> bool {
        let receiver = self.lock().get(address).map(watch::Sender::subscribe);
        let Some(mut receiver) = receiver else {
            return true;
        };
        let opened = match receiver.wait_for(|gate| *gate != Gate::Pending).await {
            Ok(gate) => *gate == Gate::Applied,
            Err(_) => false,
        };
        opened
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<ResourceInstance, watch::Sender<Gate>>> {
        super::locked(&self.gates)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::addrs::Target;

    fn address(text: &str) -> ResourceInstance {
        match Target::parse(text).expect("an address") {
            Target::Instance(instance) => instance,
            other => panic!("{other} is not an instance"),
        }
    }

    #[tokio::test]
    async fn a_waiter_sees_the_gate_open_applied_or_failed() {
        let gates = std::sync::Arc::new(Gates::default());
        let (a0, a1) = (address("fake_resource.a[0]"), address("fake_resource.a[1]"));
        gates.close(a0.clone());
        gates.close(a1.clone());
        let waiter = {
            let (gates, a0) = (gates.clone(), a0.clone());
            tokio::spawn(async move { gates.wait(&a0).await })
        };
        gates.open(&a0, true);
        gates.open(&a1, false);
        assert!(waiter.await.expect("the waiter"));
        assert!(!gates.wait(&a1).await, "a failed instance's gate says so");
        assert!(
            gates.wait(&address("fake_resource.b[0]")).await,
            "no gate: ready"
        );
    }
}
