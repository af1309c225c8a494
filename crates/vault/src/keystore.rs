//! The key store: wrapped data keys (one per recording) under key-encryption keys
//! (one per retention day) under the master key. Erasure deletes rows with
//! `secure_delete` on and checkpoints the WAL, so the bytes are gone from disk.

use std::path::Path;
use std::str::FromStr;

use chrono::NaiveDate;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous};
use uuid::Uuid;

use crate::crypto::{SecretKey, open_with_random_nonce, seal_with_random_nonce, unwrap_key, wrap_key};
use crate::error::VaultError;
use crate::keys::{KEYSTORE_FILE, KeyDirectory};

const KEY_CHECK_PLAINTEXT: &[u8] = b"callvault key check v1";

/// The KEK of keys under a legal hold: never a retention day, so never destroyed by one.
pub const HOLD_KEK: &str = "hold";

/// Opened key store.
#[derive(Debug, Clone)]
pub struct KeyStore {
    pool: SqlitePool,
    master: SecretKey,
}

impl KeyStore {
    pub async fn open(keys: &KeyDirectory) -> Result<Self, VaultError> {
        let file = keys.path().join(KEYSTORE_FILE);
        let options = SqliteConnectOptions::from_str(&format!("sqlite://{}", file.display()))?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Full)
            .pragma("secure_delete", "ON")
            .foreign_keys(true)
            .busy_timeout(std::time::Duration::from_secs(10));
        let pool = SqlitePoolOptions::new()
            .max_connections(4)
            .connect_with(options)
            .await?;
        sqlx::migrate!("./migrations/keystore").run(&pool).await?;
        restrict_permissions(&file)?;
        let store = KeyStore {
            pool,
            master: keys.master().clone(),
        };
        store.check_master().await?;
        Ok(store)
    }

    async fn check_master(&self) -> Result<(), VaultError> {
        let row: Option<(Vec<u8>,)> = sqlx::query_as("SELECT value FROM key_check WHERE id = 1")
            .fetch_optional(&self.pool)
            .await?;
        match row {
            Some((value,)) => match open_with_random_nonce(&self.master, &value, b"key-check") {
                Ok(plain) if plain == KEY_CHECK_PLAINTEXT => Ok(()),
                _ => Err(VaultError::WrongMasterKey),
            },
            None => {
                let value = seal_with_random_nonce(&self.master, KEY_CHECK_PLAINTEXT, b"key-check");
                sqlx::query("INSERT INTO key_check (id, value) VALUES (1, ?)")
                    .bind(value)
                    .execute(&self.pool)
                    .await?;
                Ok(())
            }
        }
    }

    /// Creates and stores a fresh data key for `recording`, wrapped by the KEK of `day`.
    pub async fn create_data_key(&self, recording: Uuid, day: NaiveDate) -> Result<SecretKey, VaultError> {
        let key = SecretKey::random();
        self.store_data_key(recording, day, &key).await?;
        Ok(key)
    }

    /// Stores `key` as the data key of `recording`, wrapped by the KEK of `day` (created
    /// when the day has none yet); durable when this returns (`synchronous = FULL`).
    pub async fn store_data_key(&self, recording: Uuid, day: NaiveDate, key: &SecretKey) -> Result<(), VaultError> {
        // Immediate: this transaction reads the day's KEK and may then write it; a
        // deferred one could not upgrade to a write while another connection commits.
        let mut tx = self.pool.begin_with("BEGIN IMMEDIATE").await?;
        let day_text = day.to_string();
        let kek = self.kek_in(&mut tx, &day_text).await?;
        sqlx::query("INSERT INTO data_keys (recording_id, kek_day, wrapped) VALUES (?, ?, ?)")
            .bind(recording.to_string())
            .bind(&day_text)
            .bind(wrap_key(&kek, key, &data_key_context(recording)))
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Stores many data keys in one transaction (bulk import): each wrapped by the KEK
    /// of its retention day.
    pub async fn store_data_keys(&self, keys: &[(Uuid, NaiveDate, SecretKey)]) -> Result<(), VaultError> {
        let mut tx = self.pool.begin_with("BEGIN IMMEDIATE").await?;
        let mut keks: std::collections::HashMap<NaiveDate, SecretKey> = std::collections::HashMap::new();
        for (recording, day, key) in keys {
            let kek = match keks.get(day) {
                Some(kek) => kek.clone(),
                None => {
                    let kek = self.kek_in(&mut tx, &day.to_string()).await?;
                    keks.insert(*day, kek.clone());
                    kek
                }
            };
            sqlx::query("INSERT INTO data_keys (recording_id, kek_day, wrapped) VALUES (?, ?, ?)")
                .bind(recording.to_string())
                .bind(day.to_string())
                .bind(wrap_key(&kek, key, &data_key_context(*recording)))
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// The data key of `recording`, or `KeyDestroyed` once it has been erased.
    pub async fn data_key(&self, recording: Uuid) -> Result<SecretKey, VaultError> {
        let row: Option<(String, Vec<u8>, Vec<u8>)> = sqlx::query_as(
            "SELECT d.kek_day, d.wrapped, k.wrapped FROM data_keys d JOIN keks k ON k.day = d.kek_day WHERE d.recording_id = ?",
        )
        .bind(recording.to_string())
        .fetch_optional(&self.pool)
        .await?;
        let (day, wrapped_key, wrapped_kek) = row.ok_or(VaultError::KeyDestroyed(recording))?;
        let kek = unwrap_key(&self.master, &wrapped_kek, &kek_context(&day)).map_err(|_| VaultError::WrongMasterKey)?;
        unwrap_key(&kek, &wrapped_key, &data_key_context(recording))
            .map_err(|_| VaultError::Integrity("wrapped data key failed authentication".into()))
    }

    /// Crypto-shreds one recording: its data key is deleted and the deletion forced to disk.
    pub async fn destroy_data_key(&self, recording: Uuid) -> Result<bool, VaultError> {
        let done = sqlx::query("DELETE FROM data_keys WHERE recording_id = ?")
            .bind(recording.to_string())
            .execute(&self.pool)
            .await?;
        self.checkpoint().await?;
        Ok(done.rows_affected() > 0)
    }

    /// Destroys the KEK of `day` and every data key under it (retention day reached).
    pub async fn destroy_day(&self, day: NaiveDate) -> Result<u64, VaultError> {
        let mut tx = self.pool.begin().await?;
        let keys = sqlx::query("DELETE FROM data_keys WHERE kek_day = ?")
            .bind(day.to_string())
            .execute(&mut *tx)
            .await?;
        sqlx::query("DELETE FROM keks WHERE day = ?")
            .bind(day.to_string())
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        self.checkpoint().await?;
        Ok(keys.rows_affected())
    }

    /// Destroys the KEK of every retention day before `day` (never the hold KEK) and
    /// every data key under them, in one transaction forced to disk: all recordings due
    /// on those days become unreadable at once. Returns the days destroyed.
    pub async fn destroy_days_before(&self, day: NaiveDate) -> Result<Vec<NaiveDate>, VaultError> {
        let day = day.to_string();
        let mut tx = self.pool.begin_with("BEGIN IMMEDIATE").await?;
        let days: Vec<(String,)> = sqlx::query_as("SELECT day FROM keks WHERE day < ? AND day <> ? ORDER BY day")
            .bind(&day)
            .bind(HOLD_KEK)
            .fetch_all(&mut *tx)
            .await?;
        sqlx::query("DELETE FROM data_keys WHERE kek_day < ? AND kek_day <> ?")
            .bind(&day)
            .bind(HOLD_KEK)
            .execute(&mut *tx)
            .await?;
        sqlx::query("DELETE FROM keks WHERE day < ? AND day <> ?")
            .bind(&day)
            .bind(HOLD_KEK)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        if !days.is_empty() {
            self.checkpoint().await?;
        }
        days.into_iter()
            .map(|(d,)| d.parse().map_err(|_| VaultError::Corrupt(format!("KEK day {d}"))))
            .collect()
    }

    /// Crypto-shreds many recordings in one transaction forced to disk.
    pub async fn destroy_data_keys(&self, recordings: &[Uuid]) -> Result<u64, VaultError> {
        let mut destroyed = 0;
        let mut tx = self.pool.begin().await?;
        for batch in recordings.chunks(500) {
            let marks = vec!["?"; batch.len()].join(",");
            let sql = format!("DELETE FROM data_keys WHERE recording_id IN ({marks})");
            let mut query = sqlx::query(&sql);
            for id in batch {
                query = query.bind(id.to_string());
            }
            destroyed += query.execute(&mut *tx).await?.rows_affected();
        }
        tx.commit().await?;
        // A sweep's batches find their keys already gone with their retention day:
        // no deletion, no WAL checkpoint (and its fsync) to repeat.
        if destroyed > 0 {
            self.checkpoint().await?;
        }
        Ok(destroyed)
    }

    /// Moves a data key under the hold KEK (a legal hold: the key survives the
    /// destruction of its retention day) or back under the KEK of `day` (`None` = hold).
    pub async fn rewrap_data_key(&self, recording: Uuid, day: Option<NaiveDate>) -> Result<(), VaultError> {
        let key = self.data_key(recording).await?;
        let target = day.map_or_else(|| HOLD_KEK.to_owned(), |d| d.to_string());
        let mut tx = self.pool.begin_with("BEGIN IMMEDIATE").await?;
        let kek = self.kek_in(&mut tx, &target).await?;
        sqlx::query("UPDATE data_keys SET kek_day = ?, wrapped = ? WHERE recording_id = ?")
            .bind(&target)
            .bind(wrap_key(&kek, &key, &data_key_context(recording)))
            .bind(recording.to_string())
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        // The old wrapping is gone from the WAL too.
        self.checkpoint().await
    }

    /// Recordings whose data key is under the hold KEK.
    pub async fn held_keys(&self) -> Result<Vec<Uuid>, VaultError> {
        let rows: Vec<(String,)> = sqlx::query_as("SELECT recording_id FROM data_keys WHERE kek_day = ?")
            .bind(HOLD_KEK)
            .fetch_all(&self.pool)
            .await?;
        rows.into_iter()
            .map(|(id,)| {
                id.parse()
                    .map_err(|_| VaultError::Corrupt(format!("recording id {id}")))
            })
            .collect()
    }

    /// The KEK named `day` (a date or the hold KEK), created when missing.
    async fn kek_in(&self, tx: &mut sqlx::SqliteConnection, day: &str) -> Result<SecretKey, VaultError> {
        let existing: Option<(Vec<u8>,)> = sqlx::query_as("SELECT wrapped FROM keks WHERE day = ?")
            .bind(day)
            .fetch_optional(&mut *tx)
            .await?;
        match existing {
            Some((wrapped,)) => {
                unwrap_key(&self.master, &wrapped, &kek_context(day)).map_err(|_| VaultError::WrongMasterKey)
            }
            None => {
                let kek = SecretKey::random();
                sqlx::query("INSERT INTO keks (day, wrapped) VALUES (?, ?)")
                    .bind(day)
                    .bind(wrap_key(&self.master, &kek, &kek_context(day)))
                    .execute(&mut *tx)
                    .await?;
                Ok(kek)
            }
        }
    }

    async fn checkpoint(&self) -> Result<(), VaultError> {
        sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)")
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    pub async fn close(&self) {
        self.pool.close().await;
    }
}

fn kek_context(day: &str) -> String {
    format!("kek:{day}")
}

fn data_key_context(recording: Uuid) -> String {
    format!("data-key:{recording}")
}

fn restrict_permissions(file: &Path) -> Result<(), VaultError> {
    use std::os::unix::fs::PermissionsExt;
    for path in [
        file.to_owned(),
        file.with_extension("sqlite-wal"),
        file.with_extension("sqlite-shm"),
    ] {
        if path.exists() {
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600))?;
        }
    }
    Ok(())
}
