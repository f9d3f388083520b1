//! Where state lives, per workspace, and the lock that keeps two runs apart.
//! (The local and S3 backends are to be written: see issues 4 and 6.)

use super::{State, StateChange};
use async_trait::async_trait;
use serde::{Deserialize, Serialize};

/// Who holds a lock, for the message a waiting run prints.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LockInfo {
    #[serde(rename = "ID")]
    pub id: String,
    #[serde(rename = "Operation")]
    pub operation: String,
    #[serde(rename = "Who")]
    pub who: String,
    #[serde(rename = "Version")]
    pub version: String,
    #[serde(rename = "Created")]
    pub created: String,
    #[serde(rename = "Path")]
    pub path: String,
    /// The holder's process id and host, to tell a dead holder from a live one.
    #[serde(rename = "Pid", default)]
    pub pid: u32,
    #[serde(rename = "Host", default)]
    pub host: String,
}

#[derive(Debug, thiserror::Error)]
pub enum StateError {
    #[error("state is locked by {holder} ({operation}, since {created}); lock ID `{id}`")]
    Locked {
        id: String,
        holder: String,
        operation: String,
        created: String,
    },
    #[error("{0}")]
    Other(String),
}

/// Persists state changes during an operation.
#[async_trait]
pub trait StateWriter: Send {
    /// Records one change durably before returning.
    async fn record(&mut self, change: &StateChange) -> Result<(), StateError>;
    /// Writes the full state (serial incremented) and clears the journal.
    async fn finish(&mut self, state: &State) -> Result<(), StateError>;
}

/// A place that stores one state per workspace.
#[async_trait]
pub trait Backend: Send + Sync {
    async fn workspaces(&self) -> Result<Vec<String>, StateError>;
    /// The workspace's state (replaying any journal an interrupted run left); a fresh empty
    /// state when it has none.
    async fn load(&self, workspace: &str) -> Result<State, StateError>;
}
