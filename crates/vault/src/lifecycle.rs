//! Storage side of the lifecycle: legal holds (with their keys moved under the hold
//! KEK), recordings due for deletion, batched crypto-shredding with tombstones, and
//! the record of each retention sweep. What is due and why is decided by the caller.

use std::collections::HashMap;

use chrono::{DateTime, NaiveDate, Utc};
use futures::StreamExt;
use object_store::path::Path as ObjectPath;
use sqlx::Row;
use uuid::Uuid;

use crate::Vault;
use crate::catalog::{Catalog, ts};
use crate::error::VaultError;
use crate::records::Tombstone;

/// A legal hold on one recording.
#[derive(Debug, Clone, PartialEq)]
pub struct LegalHold {
    pub id: Uuid,
    pub tenant: String,
    pub recording_id: Uuid,
    pub reason: String,
    pub placed_by: String,
    pub placed_at: DateTime<Utc>,
    pub expires_at: Option<DateTime<Utc>>,
    pub lifted_at: Option<DateTime<Utc>>,
    pub lifted_by: Option<String>,
}

impl LegalHold {
    /// Whether the hold still applies at `now`.
    pub fn active_at(&self, now: DateTime<Utc>) -> bool {
        self.lifted_at.is_none() && self.expires_at.is_none_or(|end| end > now)
    }
}

/// A recording whose retention has ended and which no hold keeps.
#[derive(Debug, Clone)]
struct DueRecording {
    id: Uuid,
    tenant: String,
    policy_version: i64,
    objects: Vec<String>,
}

/// One finished retention sweep as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct SweepRecord {
    pub id: Uuid,
    pub started_at: DateTime<Utc>,
    pub finished_at: DateTime<Utc>,
    pub swept_until: DateTime<Utc>,
    pub deleted: i64,
    pub certificate: String,
}

const ACTIVE_HOLD: &str = "h.lifted_at IS NULL AND (h.expires_at IS NULL OR h.expires_at > ?)";

impl Catalog {
    pub async fn insert_hold(&self, hold: &LegalHold) -> Result<(), VaultError> {
        sqlx::query(
            "INSERT INTO legal_holds (id, tenant, recording_id, reason, placed_by, placed_at, expires_at, lifted_at, lifted_by)
             VALUES (?, ?, ?, ?, ?, ?, ?, NULL, NULL)",
        )
        .bind(hold.id.to_string())
        .bind(&hold.tenant)
        .bind(hold.recording_id.to_string())
        .bind(&hold.reason)
        .bind(&hold.placed_by)
        .bind(ts(hold.placed_at))
        .bind(hold.expires_at.map(ts))
        .execute(self.pool())
        .await?;
        Ok(())
    }

    /// Marks a hold lifted; `Conflict` when it already was.
    pub async fn lift_hold(&self, id: Uuid, by: &str, at: DateTime<Utc>) -> Result<LegalHold, VaultError> {
        let done =
            sqlx::query("UPDATE legal_holds SET lifted_at = ?, lifted_by = ? WHERE id = ? AND lifted_at IS NULL")
                .bind(ts(at))
                .bind(by)
                .bind(id.to_string())
                .execute(self.pool())
                .await?;
        let hold = self.hold(id).await?;
        if done.rows_affected() == 0 {
            return Err(VaultError::Conflict(format!("legal hold {id} was already lifted")));
        }
        Ok(hold)
    }

    pub async fn hold(&self, id: Uuid) -> Result<LegalHold, VaultError> {
        let row = sqlx::query("SELECT * FROM legal_holds WHERE id = ?")
            .bind(id.to_string())
            .fetch_optional(self.pool())
            .await?
            .ok_or_else(|| VaultError::NotFound(format!("legal hold {id}")))?;
        hold_from_row(&row)
    }

    /// Holds of a tenant (all, or only those active at `active_at`), newest first.
    pub async fn holds(
        &self,
        tenant: Option<&str>,
        active_at: Option<DateTime<Utc>>,
    ) -> Result<Vec<LegalHold>, VaultError> {
        let rows = sqlx::query("SELECT * FROM legal_holds WHERE (? IS NULL OR tenant = ?) ORDER BY placed_at DESC, id")
            .bind(tenant)
            .bind(tenant)
            .fetch_all(self.pool())
            .await?;
        let holds = rows.iter().map(hold_from_row).collect::<Result<Vec<_>, _>>()?;
        Ok(match active_at {
            Some(now) => holds.into_iter().filter(|h| h.active_at(now)).collect(),
            None => holds,
        })
    }

    /// Whether any hold keeps `recording` at `now`.
    pub async fn is_held(&self, recording: Uuid, now: DateTime<Utc>) -> Result<bool, VaultError> {
        let sql = format!("SELECT COUNT(*) FROM legal_holds h WHERE h.recording_id = ? AND {ACTIVE_HOLD}");
        let (count,): (i64,) = sqlx::query_as(&sql)
            .bind(recording.to_string())
            .bind(ts(now))
            .fetch_one(self.pool())
            .await?;
        Ok(count > 0)
    }

    /// Recordings whose retention ended at or before `now` that no hold keeps, oldest
    /// first, at most `limit`.
    async fn due_for_deletion(&self, now: DateTime<Utc>, limit: usize) -> Result<Vec<DueRecording>, VaultError> {
        let sql = format!(
            "SELECT r.id, r.tenant, r.policy_version FROM recordings r
             WHERE r.retain_until <= ? AND r.state <> 'writing'
               AND NOT EXISTS (SELECT 1 FROM legal_holds h WHERE h.recording_id = r.id AND {ACTIVE_HOLD})
             ORDER BY r.retain_until, r.id LIMIT ?"
        );
        let rows = sqlx::query(&sql)
            .bind(ts(now))
            .bind(ts(now))
            .bind(i64::try_from(limit).unwrap_or(i64::MAX))
            .fetch_all(self.pool())
            .await?;
        let mut due = Vec::with_capacity(rows.len());
        for row in &rows {
            let id: String = row.try_get("id")?;
            due.push(DueRecording {
                id: id
                    .parse()
                    .map_err(|_| VaultError::Corrupt(format!("recording id {id}")))?,
                tenant: row.try_get("tenant")?,
                policy_version: row.try_get("policy_version")?,
                objects: Vec::new(),
            });
        }
        if due.is_empty() {
            return Ok(due);
        }
        let marks = vec!["?"; due.len()].join(",");
        let sql = format!("SELECT recording_id, object_path FROM streams WHERE recording_id IN ({marks})");
        let mut query = sqlx::query(&sql);
        for d in &due {
            query = query.bind(d.id.to_string());
        }
        let mut objects: HashMap<String, Vec<String>> = HashMap::new();
        for row in query.fetch_all(self.pool()).await? {
            objects
                .entry(row.try_get("recording_id")?)
                .or_default()
                .push(row.try_get("object_path")?);
        }
        for d in &mut due {
            d.objects = objects.remove(&d.id.to_string()).unwrap_or_default();
        }
        Ok(due)
    }

    /// Ids of recordings due in `(since, now]` that no hold keeps.
    async fn due_ids_between(&self, since: DateTime<Utc>, now: DateTime<Utc>) -> Result<Vec<Uuid>, VaultError> {
        let sql = format!(
            "SELECT r.id FROM recordings r
             WHERE r.retain_until > ? AND r.retain_until <= ? AND r.state <> 'writing'
               AND NOT EXISTS (SELECT 1 FROM legal_holds h WHERE h.recording_id = r.id AND {ACTIVE_HOLD})"
        );
        let rows: Vec<(String,)> = sqlx::query_as(&sql)
            .bind(ts(since))
            .bind(ts(now))
            .bind(ts(now))
            .fetch_all(self.pool())
            .await?;
        rows.into_iter()
            .map(|(id,)| {
                id.parse()
                    .map_err(|_| VaultError::Corrupt(format!("recording id {id}")))
            })
            .collect()
    }

    /// Replaces many recordings by their tombstones in one transaction (idempotent).
    pub async fn replace_by_tombstones(&self, tombstones: &[Tombstone]) -> Result<(), VaultError> {
        let mut tx = self.pool().begin().await?;
        for t in tombstones {
            sqlx::query(
                "INSERT INTO tombstones (recording_id, tenant, policy_version, reason, erased_at) VALUES (?, ?, ?, ?, ?)
                 ON CONFLICT (recording_id) DO NOTHING",
            )
            .bind(t.recording_id.to_string())
            .bind(&t.tenant)
            .bind(t.policy_version)
            .bind(&t.reason)
            .bind(ts(t.erased_at))
            .execute(&mut *tx)
            .await?;
            sqlx::query("DELETE FROM recordings WHERE id = ?")
                .bind(t.recording_id.to_string())
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Recordings of `tenant` whose retention ended at or before `now`: (not held, held).
    pub async fn past_retention(&self, tenant: &str, now: DateTime<Utc>) -> Result<(i64, i64), VaultError> {
        let sql = format!(
            "SELECT
               SUM(CASE WHEN EXISTS (SELECT 1 FROM legal_holds h WHERE h.recording_id = r.id AND {ACTIVE_HOLD}) THEN 0 ELSE 1 END),
               SUM(CASE WHEN EXISTS (SELECT 1 FROM legal_holds h WHERE h.recording_id = r.id AND {ACTIVE_HOLD}) THEN 1 ELSE 0 END)
             FROM recordings r WHERE r.tenant = ? AND r.retain_until <= ? AND r.state <> 'writing'"
        );
        let (free, held): (Option<i64>, Option<i64>) = sqlx::query_as(&sql)
            .bind(ts(now))
            .bind(ts(now))
            .bind(tenant)
            .bind(ts(now))
            .fetch_one(self.pool())
            .await?;
        Ok((free.unwrap_or(0), held.unwrap_or(0)))
    }

    /// Visible recordings of `tenant`.
    pub async fn recording_count(&self, tenant: &str) -> Result<i64, VaultError> {
        let (n,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM recordings WHERE tenant = ? AND state <> 'writing'")
            .bind(tenant)
            .fetch_one(self.pool())
            .await?;
        Ok(n)
    }

    /// Recordings of `tenant` and their notes, where a note contains `marker`.
    pub async fn recordings_noted(
        &self,
        tenant: &str,
        marker: &str,
    ) -> Result<Vec<(Uuid, DateTime<Utc>, Vec<String>)>, VaultError> {
        let pattern = format!("%{}%", marker.replace(['%', '_'], ""));
        let rows: Vec<(String, String, String)> = sqlx::query_as(
            "SELECT id, started_at, notes FROM recordings WHERE tenant = ? AND notes LIKE ? ORDER BY started_at, id",
        )
        .bind(tenant)
        .bind(pattern)
        .fetch_all(self.pool())
        .await?;
        rows.into_iter()
            .map(|(id, started, notes)| {
                let notes: Vec<String> =
                    serde_json::from_str(&notes).map_err(|_| VaultError::Corrupt(format!("notes of {id}")))?;
                Ok((
                    id.parse()
                        .map_err(|_| VaultError::Corrupt(format!("recording id {id}")))?,
                    crate::catalog::parse_ts(&started)?,
                    notes.into_iter().filter(|n| n.contains(marker)).collect(),
                ))
            })
            .collect()
    }

    pub async fn insert_sweep(&self, sweep: &SweepRecord) -> Result<(), VaultError> {
        sqlx::query(
            "INSERT INTO retention_sweeps (id, started_at, finished_at, swept_until, deleted, certificate)
             VALUES (?, ?, ?, ?, ?, ?)",
        )
        .bind(sweep.id.to_string())
        .bind(ts(sweep.started_at))
        .bind(ts(sweep.finished_at))
        .bind(ts(sweep.swept_until))
        .bind(sweep.deleted)
        .bind(&sweep.certificate)
        .execute(self.pool())
        .await?;
        Ok(())
    }

    /// Stored sweeps, newest first.
    pub async fn sweeps(&self) -> Result<Vec<SweepRecord>, VaultError> {
        let rows = sqlx::query("SELECT * FROM retention_sweeps ORDER BY started_at DESC, id")
            .fetch_all(self.pool())
            .await?;
        rows.iter()
            .map(|row| {
                let id: String = row.try_get("id")?;
                Ok(SweepRecord {
                    id: id.parse().map_err(|_| VaultError::Corrupt(format!("sweep id {id}")))?,
                    started_at: crate::catalog::parse_ts(&row.try_get::<String, _>("started_at")?)?,
                    finished_at: crate::catalog::parse_ts(&row.try_get::<String, _>("finished_at")?)?,
                    swept_until: crate::catalog::parse_ts(&row.try_get::<String, _>("swept_until")?)?,
                    deleted: row.try_get("deleted")?,
                    certificate: row.try_get("certificate")?,
                })
            })
            .collect()
    }
}

fn hold_from_row(row: &sqlx::sqlite::SqliteRow) -> Result<LegalHold, VaultError> {
    let uuid = |name: &str| -> Result<Uuid, VaultError> {
        let text: String = row.try_get(name)?;
        text.parse().map_err(|_| VaultError::Corrupt(format!("{name} {text}")))
    };
    let time = |name: &str| -> Result<Option<DateTime<Utc>>, VaultError> {
        row.try_get::<Option<String>, _>(name)?
            .map(|t| crate::catalog::parse_ts(&t))
            .transpose()
    };
    Ok(LegalHold {
        id: uuid("id")?,
        tenant: row.try_get("tenant")?,
        recording_id: uuid("recording_id")?,
        reason: row.try_get("reason")?,
        placed_by: row.try_get("placed_by")?,
        placed_at: time("placed_at")?.ok_or_else(|| VaultError::Corrupt("hold without placed_at".into()))?,
        expires_at: time("expires_at")?,
        lifted_at: time("lifted_at")?,
        lifted_by: row.try_get("lifted_by")?,
    })
}

impl Vault {
    /// Places a hold: the recording's key moves under the hold KEK first (so the
    /// destruction of its retention day cannot reach it), then the hold is recorded.
    pub async fn place_hold(&self, hold: &LegalHold) -> Result<(), VaultError> {
        self.catalog().visible_entry(hold.recording_id).await?;
        self.keystore().rewrap_data_key(hold.recording_id, None).await?;
        self.catalog().insert_hold(hold).await
    }

    /// Lifts a hold; when no other hold keeps the recording its key goes back under the
    /// KEK of its retention day.
    pub async fn lift_hold(&self, id: Uuid, by: &str, now: DateTime<Utc>) -> Result<LegalHold, VaultError> {
        let hold = self.catalog().lift_hold(id, by, now).await?;
        self.release_if_unheld(hold.recording_id, now).await?;
        Ok(hold)
    }

    async fn release_if_unheld(&self, recording: Uuid, now: DateTime<Utc>) -> Result<bool, VaultError> {
        if self.catalog().is_held(recording, now).await? {
            return Ok(false);
        }
        match self.catalog().entry(recording).await {
            Ok(entry) => {
                let day = entry.recording.retain_until.date_naive();
                self.keystore().rewrap_data_key(recording, Some(day)).await?;
                Ok(true)
            }
            // Erased meanwhile: nothing to move.
            Err(VaultError::NotFound(_)) => Ok(false),
            Err(err) => Err(err),
        }
    }

    /// Moves the keys of recordings whose holds all ended (expired, or lifted before a
    /// crash) back under their retention day. Returns the recordings released.
    pub async fn release_ended_holds(&self, now: DateTime<Utc>) -> Result<Vec<Uuid>, VaultError> {
        let mut released = Vec::new();
        for recording in self.keystore().held_keys().await? {
            if self.release_if_unheld(recording, now).await? {
                released.push(recording);
            }
        }
        Ok(released)
    }

    /// Destroys the KEKs of every retention day before `now`'s date: every recording
    /// due on those days (and not held) is unreadable from here on.
    pub async fn destroy_past_retention_days(&self, now: DateTime<Utc>) -> Result<Vec<NaiveDate>, VaultError> {
        self.keystore().destroy_days_before(now.date_naive()).await
    }

    /// Destroys the data keys of the recordings due today (up to `now`), whose retention
    /// day is not over so its KEK stays: together with the destruction of past days'
    /// KEKs, every due key is gone before any object is deleted. Returns how many.
    pub async fn destroy_keys_due_today(&self, now: DateTime<Utc>) -> Result<u64, VaultError> {
        let midnight = now.date_naive().and_hms_opt(0, 0, 0).expect("midnight").and_utc();
        let since = midnight - chrono::TimeDelta::microseconds(1);
        let ids = self.catalog().due_ids_between(since, now).await?;
        if ids.is_empty() {
            return Ok(0);
        }
        self.keystore().destroy_data_keys(&ids).await
    }

    /// Deletes one batch of at most `limit` due recordings: data keys destroyed (forced
    /// to disk), then objects, then tombstones replace the rows. An empty result means
    /// nothing is due. Safe to repeat after a crash at any step.
    pub async fn delete_due_batch(
        &self,
        now: DateTime<Utc>,
        limit: usize,
        reason: &str,
    ) -> Result<Vec<Tombstone>, VaultError> {
        let due = self.catalog().due_for_deletion(now, limit).await?;
        if due.is_empty() {
            return Ok(Vec::new());
        }
        let ids: Vec<Uuid> = due.iter().map(|d| d.id).collect();
        self.keystore().destroy_data_keys(&ids).await?;
        // Transcripts and non-anonymous derivatives go with their sources (issue 6).
        self.erase_derived(&ids, now).await?;
        let paths = due
            .iter()
            .flat_map(|d| d.objects.iter())
            .map(|p| Ok(ObjectPath::from(p.as_str())))
            .collect::<Vec<_>>();
        let mut deleted = self.objects().delete_stream(futures::stream::iter(paths).boxed());
        while let Some(result) = deleted.next().await {
            match result {
                Ok(_) | Err(object_store::Error::NotFound { .. }) => {}
                Err(err) => return Err(err.into()),
            }
        }
        drop(deleted);
        for d in &due {
            self.remove_recording_dir(&d.tenant, d.id);
        }
        let tombstones: Vec<Tombstone> = due
            .into_iter()
            .map(|d| Tombstone {
                recording_id: d.id,
                tenant: d.tenant,
                policy_version: d.policy_version,
                reason: reason.to_owned(),
                erased_at: now,
            })
            .collect();
        self.catalog().replace_by_tombstones(&tombstones).await?;
        Ok(tombstones)
    }
}
