//! The vault: catalog, encrypted objects, envelope keys, sealing, integrity,
//! crypto-shredding and recovery. It stores and returns; it never decides who may
//! read (a [`governance::ReadPermit`] is required to decrypt).

mod agents;
mod audit_log;
mod catalog;
mod crypto;
mod derivatives;
mod error;
mod identities;
mod keys;
mod keystore;
mod lifecycle;
mod playback;
mod reader;
mod records;
mod recover;
mod requests;
mod search;
mod search_conn;
mod segments;
mod spool;
mod writer;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use chrono::{DateTime, Utc};
use object_store::ObjectStore;
use object_store::local::LocalFileSystem;
use object_store::path::Path as ObjectPath;
use uuid::Uuid;

pub use audit_log::{
    AuditLog, AuditSettings, CHECKPOINT_FORMAT, Checkpoint, SIGNING_KEY_FILE, SigningKey, VerifyReport, audit_file_of,
    key_id, verify_detached,
};
pub use catalog::{Catalog, PolicyChangeRecord, PolicyDecision, SealUpdate, ts};
pub use crypto::{ChunkSealer, MAX_CHUNK_PLAINTEXT, SecretKey, StreamBinding};
pub use derivatives::{
    DerivativeContent, DerivativeKind, DerivativeRecord, DerivedErasure, TranscriptRecord, anonymous_kek_day,
    derivative_object_path, transcript_path,
};
pub use error::VaultError;
pub use identities::{NewUser, UserRecord};
pub use keys::KeyDirectory;
pub use keystore::{HOLD_KEK, KeyStore};
pub use lifecycle::{LegalHold, SweepRecord};
pub use reader::{StreamAudio, StreamTrailer};
pub use records::*;
pub use recover::RecoveryReport;
pub use requests::{CopyConsent, RequestNumber, Restriction, SubjectHit};
pub use search::{AgentUser, AgentsByTenant, SearchPage};
pub use search_conn::{SearchConnection, SearchTenant};
pub use segments::{SegmentSpool, SpoolSettings, existing_segments, remove_segments, scan_segments};
pub use spool::SpoolWriter;
pub use writer::RecordingWriter;
use writer::join_key_commit;

/// Catalog file name inside the data directory.
pub const CATALOG_FILE: &str = "catalog.sqlite";

/// An opened vault over a data directory and a key directory.
#[derive(Clone)]
pub struct Vault {
    catalog: Catalog,
    keystore: KeyStore,
    objects: Arc<dyn ObjectStore>,
    spool_dir: PathBuf,
    keys_dir: PathBuf,
    number_hash_key: [u8; 32],
    /// The directory of a local object store, whose writes are made durable with fsync.
    local_root: Option<PathBuf>,
    /// The capture spool, started on first use (only `serve` captures).
    segments: Arc<std::sync::OnceLock<SegmentSpool>>,
    /// Imports' data keys, committed in groups (started on first use; `writer.rs`).
    key_commits: Arc<std::sync::OnceLock<writer::KeyCommitQueue>>,
}

impl std::fmt::Debug for Vault {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Vault")
            .field("spool_dir", &self.spool_dir)
            .finish_non_exhaustive()
    }
}

impl Vault {
    /// Opens the vault with the default local object store under `data/objects`.
    pub async fn open(data_dir: &Path, keys_dir: &Path) -> Result<Self, VaultError> {
        ensure_private_dir(data_dir)?;
        let objects_dir = data_dir.join("objects");
        std::fs::create_dir_all(&objects_dir)?;
        let objects: Arc<dyn ObjectStore> = Arc::new(LocalFileSystem::new_with_prefix(&objects_dir)?);
        let mut vault = Self::open_with_store(data_dir, keys_dir, objects).await?;
        vault.local_root = Some(objects_dir.canonicalize()?);
        Ok(vault)
    }

    /// Opens the vault over any object store.
    pub async fn open_with_store(
        data_dir: &Path,
        keys_dir: &Path,
        objects: Arc<dyn ObjectStore>,
    ) -> Result<Self, VaultError> {
        if keys_dir.starts_with(data_dir) {
            return Err(VaultError::KeyDirectory(
                "the key directory must be outside the data directory, so a backup of the data holds no key".into(),
            ));
        }
        ensure_private_dir(data_dir)?;
        let spool_dir = data_dir.join("spool");
        std::fs::create_dir_all(&spool_dir)?;
        let keys = KeyDirectory::open_or_create(keys_dir)?;
        let keystore = KeyStore::open(&keys).await?;
        let catalog = Catalog::open_with_audit_keys(&data_dir.join(CATALOG_FILE), Some(keys.path())).await?;
        Ok(Vault {
            catalog,
            keystore,
            objects,
            spool_dir,
            keys_dir: keys.path().to_path_buf(),
            number_hash_key: keys.number_hash_key(),
            local_root: None,
            segments: Arc::new(std::sync::OnceLock::new()),
            key_commits: Arc::new(std::sync::OnceLock::new()),
        })
    }

    pub fn catalog(&self) -> &Catalog {
        &self.catalog
    }

    /// The audit signing key of the key directory (created on first use); it also
    /// signs deletion certificates.
    pub fn signing_key(&self) -> Result<SigningKey, VaultError> {
        SigningKey::load_or_create(&self.keys_dir)
    }

    /// The key for hashing phone numbers (lives in the key directory).
    pub fn number_hash_key(&self) -> [u8; 32] {
        self.number_hash_key
    }

    pub async fn close(&self) {
        self.catalog.close().await;
        self.keystore.close().await;
    }

    /// Starts writing a recording: the row (state `writing`, invisible) and its data key,
    /// wrapped by the key-encryption key of its retention day.
    pub async fn begin(&self, entry: RecordingEntry) -> Result<RecordingWriter, VaultError> {
        if entry.recording.source == RecordingSource::Ingest {
            // An import inserts the row and commits the key while its streams are
            // encrypted; `put_stream` and `seal` wait for them (see `writer.rs`).
            return Ok(self.begin_import(entry));
        }
        let id = entry.recording.id;
        let day = entry.recording.retain_until.date_naive();
        self.catalog.insert_writing(&entry).await?;
        let key = SecretKey::random();
        let commit = {
            let (keystore, key) = (self.keystore.clone(), key.clone());
            tokio::spawn(async move { keystore.store_data_key(id, day, &key).await })
        };
        // Live capture: spool chunks become durable from the first second on and a
        // crash must leave them decryptable, so the key is durable before any of them.
        match join_key_commit(commit).await {
            Ok(()) => Ok(RecordingWriter::new(self.clone(), entry, key, None)),
            Err(err) => {
                self.catalog.discard_writing(id).await?;
                Err(err)
            }
        }
    }

    /// Crypto-shreds a recording: data key first (forced off disk), then objects,
    /// then the catalog row is replaced by a tombstone without personal data.
    /// A recording under a legal hold is refused (`Conflict`).
    pub async fn erase(&self, id: Uuid, reason: &str, now: DateTime<Utc>) -> Result<Tombstone, VaultError> {
        let entry = self.catalog.entry(id).await?;
        if self.catalog.is_held(id, now).await? {
            return Err(VaultError::Conflict(format!("recording {id} is under a legal hold")));
        }
        self.keystore.destroy_data_key(id).await?;
        for stream in &entry.streams {
            self.delete_object(&stream.object_path).await?;
        }
        self.remove_recording_dir(&entry.recording.tenant, id);
        // Transcript and non-anonymous derivatives go with their source (issue 6).
        self.erase_derived(&[id], now).await?;
        let tombstone = Tombstone {
            recording_id: id,
            tenant: entry.recording.tenant.clone(),
            policy_version: entry.recording.policy_version,
            reason: reason.to_owned(),
            erased_at: now,
        };
        self.catalog.replace_by_tombstone(&tombstone).await?;
        Ok(tombstone)
    }

    pub(crate) fn objects(&self) -> &Arc<dyn ObjectStore> {
        &self.objects
    }

    pub fn keystore(&self) -> &KeyStore {
        &self.keystore
    }

    /// The segment files' directory.
    pub fn segments_dir(&self) -> PathBuf {
        self.spool_dir.join("segments")
    }

    pub(crate) fn segments_started(&self) -> bool {
        self.segments.get().is_some()
    }

    /// The capture spool, started at the first call. Start-up recovery must run first
    /// (it reads and then removes the segments a previous process left).
    pub(crate) fn segment_spool(&self) -> Result<SegmentSpool, VaultError> {
        if let Some(spool) = self.segments.get() {
            return Ok(spool.clone());
        }
        let spool = SegmentSpool::start(&self.segments_dir(), SpoolSettings::default())?;
        Ok(self.segments.get_or_init(|| spool).clone())
    }

    /// Removes a recording's (now empty) object directory on the local file system.
    pub(crate) fn remove_recording_dir(&self, tenant: &str, id: Uuid) {
        if let Some(root) = &self.local_root {
            let _ = std::fs::remove_dir(root.join(tenant).join(id.to_string()));
        }
    }

    /// Forces a written object (and its directory entry) to disk before the catalog
    /// calls it sealed. `object_store`'s local backend renames into place without fsync.
    pub(crate) async fn make_durable(&self, path: &ObjectPath) -> Result<(), VaultError> {
        let Some(root) = &self.local_root else { return Ok(()) };
        let file = root.join(path.as_ref());
        tokio::task::spawn_blocking(move || -> std::io::Result<()> {
            std::fs::File::open(&file)?.sync_all()?;
            if let Some(dir) = file.parent() {
                std::fs::File::open(dir)?.sync_all()?;
            }
            Ok(())
        })
        .await
        .map_err(|e| VaultError::Corrupt(format!("fsync task: {e}")))??;
        Ok(())
    }

    async fn delete_object(&self, path: &str) -> Result<(), VaultError> {
        match self.objects.delete(&ObjectPath::from(path)).await {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(err) => Err(err.into()),
        }
    }
}

/// Where a stream's object lives in the store.
pub fn object_path(tenant: &str, id: Uuid, stream: i64) -> String {
    format!("{tenant}/{id}/{stream}.cvs")
}

/// Creates `dir` readable by its owner only, when it does not exist yet.
fn ensure_private_dir(dir: &Path) -> Result<(), VaultError> {
    if !dir.exists() {
        std::fs::create_dir_all(dir)?;
        std::fs::set_permissions(dir, std::os::unix::fs::PermissionsExt::from_mode(0o700))?;
    }
    Ok(())
}
