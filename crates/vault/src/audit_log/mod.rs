//! The tamper-evident audit log, in its own file beside the catalog (`file.rs`): appends
//! through the group-commit writer (`writer.rs`), signed checkpoints (`checkpoint.rs`),
//! and the streaming readers (`read.rs`: verify, export, denial report).

mod checkpoint;
pub(crate) mod file;
mod read;
mod writer;

use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use governance::AuditEvent;
use sqlx::ConnectOptions;
use sqlx::sqlite::{SqliteConnectOptions, SqlitePool, SqliteSynchronous};
use tokio::sync::{mpsc, oneshot};

pub use checkpoint::{CHECKPOINT_FORMAT, Checkpoint, SIGNING_KEY_FILE, SigningKey, key_id, verify_detached};
pub use file::audit_file_of;
pub use read::VerifyReport;
pub use writer::AuditSettings;

use crate::error::VaultError;
use crate::records::StoredAuditEvent;
use writer::Request;

/// Requests waiting for the writer; appenders wait when it is this far behind.
const QUEUE: usize = 1 << 16;

/// The audit log of one catalog. Cheap to clone; every clone feeds the same writer.
#[derive(Debug, Clone)]
pub struct AuditLog {
    requests: mpsc::Sender<Request>,
    pool: SqlitePool,
    options: SqliteConnectOptions,
    keys_dir: Option<PathBuf>,
}

impl std::fmt::Debug for Request {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("audit request")
    }
}

fn stopped() -> VaultError {
    VaultError::Io(std::io::Error::other("the audit log is closed"))
}

fn failed(message: String) -> VaultError {
    VaultError::Io(std::io::Error::other(message))
}

impl AuditLog {
    /// Starts the writer on its own connection to the audit file (fsync at every commit);
    /// `pool` reads the same file. `keys_dir` holds the signing key; without one, nothing
    /// is signed.
    pub(crate) async fn start(
        options: &SqliteConnectOptions,
        pool: SqlitePool,
        keys_dir: Option<&Path>,
    ) -> Result<Self, VaultError> {
        let conn = options.clone().synchronous(SqliteSynchronous::Full).connect().await?;
        let (requests, receiver) = mpsc::channel(QUEUE);
        let keys_dir = keys_dir.map(Path::to_owned);
        tokio::spawn(writer::run(conn, receiver, keys_dir.clone(), AuditSettings::default()));
        Ok(AuditLog {
            requests,
            pool,
            options: options.clone(),
            keys_dir,
        })
    }

    /// Appends one event; returns once it is durable.
    pub async fn append(&self, event: AuditEvent) -> Result<StoredAuditEvent, VaultError> {
        let mut stored = self.append_all(vec![event], None).await?;
        stored.pop().ok_or_else(stopped)
    }

    /// Appends events of a bulk operation in order, then signs a checkpoint at `at`.
    pub async fn append_bulk(
        &self,
        events: Vec<AuditEvent>,
        at: DateTime<Utc>,
    ) -> Result<Vec<StoredAuditEvent>, VaultError> {
        self.append_all(events, Some(at)).await
    }

    async fn append_all(
        &self,
        events: Vec<AuditEvent>,
        checkpoint_at: Option<DateTime<Utc>>,
    ) -> Result<Vec<StoredAuditEvent>, VaultError> {
        let (reply, answer) = oneshot::channel();
        let request = Request::Append {
            events,
            checkpoint_at,
            reply,
        };
        self.requests.send(request).await.map_err(|_| stopped())?;
        answer.await.map_err(|_| stopped())?.map_err(failed)
    }

    /// Signs and stores a checkpoint of the current head; `None` when the log is empty.
    pub async fn checkpoint(&self, at: DateTime<Utc>) -> Result<Option<Checkpoint>, VaultError> {
        let (reply, answer) = oneshot::channel();
        self.requests
            .send(Request::Checkpoint { at, reply })
            .await
            .map_err(|_| stopped())?;
        answer.await.map_err(|_| stopped())?.map_err(failed)
    }

    /// Changes checkpointing, alerting and batching from the next batch on.
    pub async fn configure(&self, settings: AuditSettings) -> Result<(), VaultError> {
        self.requests
            .send(Request::Configure(settings))
            .await
            .map_err(|_| stopped())
    }

    /// Commits what is waiting and stops the writer.
    pub async fn close(&self) {
        let (done, closed) = oneshot::channel();
        if self.requests.send(Request::Close(done)).await.is_ok() {
            let _ = closed.await;
        }
    }

    /// The audit file's pool: for tools and for the tests that tamper with the stored log.
    pub fn pool(&self) -> &SqlitePool {
        &self.pool
    }

    /// The key directory's signing key (public part), when it has one.
    pub fn signing_key(&self) -> Result<Option<SigningKey>, VaultError> {
        match &self.keys_dir {
            Some(dir) => SigningKey::load(dir),
            None => Ok(None),
        }
    }
}
