//! The audit log's own SQLite file beside the catalog, and the one-time move of events a
//! catalog from before the split still holds.

use std::path::{Path, PathBuf};
use std::str::FromStr;

use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{Connection, Row};

use crate::error::VaultError;

/// `catalog.sqlite` -> `catalog.audit.sqlite`, in the same directory.
pub fn audit_file_of(catalog_file: &Path) -> PathBuf {
    catalog_file.with_extension("audit.sqlite")
}

/// Opens (creating and migrating) the audit file: its options (for the writer and the
/// streaming readers) and a small pool for the other reads.
pub(crate) async fn open(file: &Path) -> Result<(SqliteConnectOptions, SqlitePool), VaultError> {
    let options = SqliteConnectOptions::from_str(&format!("sqlite://{}", file.display()))?
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Wal)
        .synchronous(SqliteSynchronous::Normal)
        .busy_timeout(std::time::Duration::from_secs(30));
    let pool = SqlitePoolOptions::new()
        .max_connections(4)
        .test_before_acquire(false)
        .connect_with(options.clone())
        .await?;
    sqlx::migrate!("./migrations/audit").run(&pool).await?;
    Ok((options, pool))
}

/// Moves the events, checkpoints and denial index a catalog from before the split holds
/// into the audit file (before the writer starts, so it continues that chain). A move cut
/// short after the audit file committed is finished: the catalog's copy is dropped once
/// the audit file holds the same chain. Anything else in both places is refused.
pub(crate) async fn adopt_catalog_events(catalog: &SqlitePool, audit_file: &Path) -> Result<(), VaultError> {
    let held: i64 = sqlx::query("SELECT (SELECT count(*) FROM audit_log) + (SELECT count(*) FROM audit_checkpoints)")
        .fetch_one(catalog)
        .await?
        .try_get(0)?;
    if held == 0 {
        return Ok(());
    }
    let path = audit_file
        .to_str()
        .ok_or_else(|| VaultError::Corrupt(format!("audit file {audit_file:?} is not UTF-8")))?;
    let mut conn = catalog.acquire().await?;
    sqlx::query("ATTACH DATABASE ? AS audit")
        .bind(path)
        .execute(&mut *conn)
        .await?;
    let moved = async {
        let mut tx = conn.begin().await?;
        let same = "SELECT count(*), max(seq), (SELECT hash FROM {db}.audit_log ORDER BY seq DESC LIMIT 1) FROM {db}.audit_log";
        let head = |db: &str| same.replace("{db}", db);
        let theirs = sqlx::query(&head("audit")).fetch_one(&mut *tx).await?;
        let ours = sqlx::query(&head("main")).fetch_one(&mut *tx).await?;
        let count: i64 = theirs.try_get(0)?;
        if count > 0 {
            let equal = theirs.try_get::<i64, _>(0)? == ours.try_get::<i64, _>(0)?
                && theirs.try_get::<Option<i64>, _>(1)? == ours.try_get::<Option<i64>, _>(1)?
                && theirs.try_get::<Option<Vec<u8>>, _>(2)? == ours.try_get::<Option<Vec<u8>>, _>(2)?;
            if !equal {
                return Err(VaultError::Corrupt(
                    "the catalog and the audit file both hold audit events, and not the same ones".into(),
                ));
            }
        } else {
            for statement in [
                "INSERT INTO audit.audit_log (seq, record, hash) SELECT seq, record, hash FROM main.audit_log",
                "INSERT INTO audit.audit_checkpoints (id, seq, hash, at, key_id, public_key, signature) \
                 SELECT id, seq, hash, at, key_id, public_key, signature FROM main.audit_checkpoints",
                "INSERT INTO audit.audit_denials (actor, at, seq) SELECT actor, at, seq FROM main.audit_denials",
            ] {
                sqlx::query(statement).execute(&mut *tx).await?;
            }
        }
        for table in ["audit_log", "audit_checkpoints", "audit_denials"] {
            sqlx::query(&format!("DELETE FROM main.{table}"))
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok::<(), VaultError>(())
    }
    .await;
    sqlx::query("DETACH DATABASE audit").execute(&mut *conn).await?;
    moved
}
