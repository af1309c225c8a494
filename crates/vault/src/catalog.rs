//! The catalog database (SQLite by default): tenants, policy versions, recordings,
//! participants, streams and tombstones; the audit chain beside it in a file of its own
//! (`audit_log`). Portable SQL only.

use std::path::Path;
use std::str::FromStr;

use chrono::{DateTime, Utc};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteRow, SqliteSynchronous,
};
use sqlx::{QueryBuilder, Row, Sqlite};
use uuid::Uuid;

use crate::audit_log::AuditLog;
use crate::error::VaultError;
use crate::records::*;
use crate::search_conn::{SearchConnection, SearchConnections, SearchTenant};

/// Timestamps are stored as fixed-width RFC 3339 UTC text so that they sort.
pub fn ts(at: DateTime<Utc>) -> String {
    at.format("%Y-%m-%dT%H:%M:%S%.6fZ").to_string()
}

type SqliteQuery<'q> = sqlx::query::Query<'q, sqlx::Sqlite, sqlx::sqlite::SqliteArguments<'q>>;

/// The values of one `INSERT INTO participants (recording_id, idx, role, name, number,
/// number_hash)`, in that order.
fn bind_participant<'q>(q: SqliteQuery<'q>, recording: &'q str, p: &'q ParticipantRecord) -> SqliteQuery<'q> {
    q.bind(recording)
        .bind(p.idx)
        .bind(&p.role)
        .bind(&p.name)
        .bind(&p.number)
        .bind(&p.number_hash)
}

/// Runs `query`, a statement list that opens and commits its own transaction
/// (`BEGIN IMMEDIATE; …; COMMIT;`), on one pooled connection: one round trip to the
/// connection's thread instead of one per statement. Should any statement fail, the
/// transaction is rolled back and the connection closed rather than handed to the next
/// user in a state nobody checked. The rows its statements return (`RETURNING`); not a
/// count of changes, which SQLite does not reset for `BEGIN` and `COMMIT`.
async fn in_one_transaction<'q>(pool: &SqlitePool, query: SqliteQuery<'q>) -> Result<Vec<SqliteRow>, VaultError> {
    let mut conn = pool.acquire().await?;
    match query.fetch_all(&mut *conn).await {
        Ok(rows) => Ok(rows),
        Err(err) => {
            // "No transaction is active" when the failure came before BEGIN: harmless.
            let _ = sqlx::query("ROLLBACK").execute(&mut *conn).await;
            conn.close_on_drop();
            Err(err.into())
        }
    }
}

pub(crate) fn parse_ts(text: &str) -> Result<DateTime<Utc>, VaultError> {
    DateTime::parse_from_rfc3339(text)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|_| VaultError::Corrupt(format!("bad timestamp {text:?} in catalog")))
}

fn parse_opt_ts(text: Option<String>) -> Result<Option<DateTime<Utc>>, VaultError> {
    text.as_deref().map(parse_ts).transpose()
}

fn json_list(text: &str) -> Result<Vec<String>, VaultError> {
    serde_json::from_str(text).map_err(|_| VaultError::Corrupt("bad JSON list in catalog".into()))
}

fn to_json(list: &[String]) -> String {
    serde_json::to_string(list).expect("strings serialise")
}

/// What sealing changes on a recording row.
#[derive(Debug, Clone, Copy)]
pub struct SealUpdate<'a> {
    pub state: RecordingState,
    pub ended_at: Option<DateTime<Utc>>,
    pub duration_ms: Option<i64>,
    pub streams: &'a [StreamRecord],
    /// Replaces the notes when given.
    pub notes: Option<&'a [String]>,
    /// Parties that joined after the row was written.
    pub new_participants: &'a [ParticipantRecord],
    pub sealed_at: DateTime<Utc>,
}

/// The decision on a proposed policy version (ARLO-PURPOSE-CHANGE).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PolicyDecision {
    Approved,
    Rejected,
}

impl PolicyDecision {
    pub fn as_str(self) -> &'static str {
        match self {
            PolicyDecision::Approved => "approved",
            PolicyDecision::Rejected => "rejected",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "approved" => Some(PolicyDecision::Approved),
            "rejected" => Some(PolicyDecision::Rejected),
            _ => None,
        }
    }
}

/// A proposed policy version and its decision (migration `0008_policy_approval.sql`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicyChangeRecord {
    pub tenant: String,
    pub version: i64,
    /// The active version when the change was proposed; approving replaces it.
    pub from_version: i64,
    /// The role that must decide: the one `from_version` names.
    pub approver_role: String,
    /// The change of purposes, retention and access, as JSON (`policy::PolicyDiff`).
    pub diff: String,
    pub decision: Option<PolicyDecision>,
    pub decided_at: Option<DateTime<Utc>>,
    pub decided_by: Option<String>,
    pub reason: Option<String>,
}

/// The catalog.
#[derive(Debug, Clone)]
pub struct Catalog {
    pool: SqlitePool,
    pub(crate) search: SearchConnections,
    audit: AuditLog,
}

impl Catalog {
    /// Opens (creating and migrating) the catalog file; its audit log signs nothing.
    pub async fn open(file: &Path) -> Result<Self, VaultError> {
        Self::open_with_audit_keys(file, None).await
    }

    /// Opens the catalog; its audit log signs checkpoints with the key in `keys_dir`.
    pub async fn open_with_audit_keys(file: &Path, keys_dir: Option<&Path>) -> Result<Self, VaultError> {
        let options = SqliteConnectOptions::from_str(&format!("sqlite://{}", file.display()))?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .foreign_keys(true)
            .busy_timeout(std::time::Duration::from_secs(30))
            // 16 MiB of page cache per connection (SQLite's default is 2 MiB): the
            // interior pages of the big indexes stay cached (at most 8 connections).
            .pragma("cache_size", "-16384");
        let pool = SqlitePoolOptions::new()
            .max_connections(8)
            // A pooled SQLite connection cannot go stale: no ping before each use.
            .test_before_acquire(false)
            .connect_with(options.clone())
            .await?;
        sqlx::migrate!("./migrations/catalog").run(&pool).await?;
        // The audit log lives in its own file: its fsynced commits (one per read) would
        // otherwise change the catalog file and empty every reader's page cache.
        let audit_file = crate::audit_log::audit_file_of(file);
        let (audit_options, audit_pool) = crate::audit_log::file::open(&audit_file).await?;
        crate::audit_log::file::adopt_catalog_events(&pool, &audit_file).await?;
        let audit = AuditLog::start(&audit_options, audit_pool, keys_dir).await?;
        let search = SearchConnections::new(&options);
        Ok(Catalog { pool, search, audit })
    }

    /// A read-only connection for one search (see [`SearchConnection`]).
    pub async fn search_connection(&self) -> Result<SearchConnection, VaultError> {
        self.search.get().await
    }

    /// The audit log (hash chain, signed checkpoints, alerts).
    pub fn audit(&self) -> &AuditLog {
        &self.audit
    }

    pub fn pool(&self) -> &SqlitePool {
        &self.pool
    }

    pub async fn close(&self) {
        self.search.close().await;
        self.audit.close().await;
        self.audit.pool().close().await;
        self.pool.close().await;
    }

    // ---- tenants and policy versions -------------------------------------------------

    /// Creates a tenant with its first (active) policy version.
    pub async fn create_tenant(&self, tenant: &TenantRecord, policy: &PolicyVersionRecord) -> Result<(), VaultError> {
        let mut tx = self.pool.begin_with("BEGIN IMMEDIATE").await?;
        let exists: Option<(String,)> = sqlx::query_as("SELECT name FROM tenants WHERE name = ?")
            .bind(&tenant.name)
            .fetch_optional(&mut *tx)
            .await?;
        if exists.is_some() {
            return Err(VaultError::Conflict(format!("tenant {:?} already exists", tenant.name)));
        }
        sqlx::query(
            "INSERT INTO tenants (name, policy_id, recording_enabled, retention, service_numbers, agent_patterns, country, provider, created_at)
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(&tenant.name)
        .bind(&tenant.policy_id)
        .bind(tenant.recording_enabled)
        .bind(&tenant.retention)
        .bind(to_json(&tenant.service_numbers))
        .bind(to_json(&tenant.agent_patterns))
        .bind(&tenant.country)
        .bind(tenant.provider)
        .bind(ts(tenant.created_at))
        .execute(&mut *tx)
        .await?;
        insert_policy_version(&mut tx, policy).await?;
        tx.commit().await?;
        Ok(())
    }

    pub async fn update_tenant(&self, tenant: &TenantRecord) -> Result<(), VaultError> {
        let done = sqlx::query(
            "UPDATE tenants SET recording_enabled = ?, retention = ?, service_numbers = ?, agent_patterns = ?, country = ?, provider = ?
             WHERE name = ?",
        )
        .bind(tenant.recording_enabled)
        .bind(&tenant.retention)
        .bind(to_json(&tenant.service_numbers))
        .bind(to_json(&tenant.agent_patterns))
        .bind(&tenant.country)
        .bind(tenant.provider)
        .bind(&tenant.name)
        .execute(&self.pool)
        .await?;
        if done.rows_affected() == 0 {
            return Err(VaultError::NotFound(format!("tenant {:?}", tenant.name)));
        }
        Ok(())
    }

    pub async fn tenant(&self, name: &str) -> Result<TenantRecord, VaultError> {
        let row = sqlx::query("SELECT * FROM tenants WHERE name = ?")
            .bind(name)
            .fetch_optional(&self.pool)
            .await?
            .ok_or_else(|| VaultError::NotFound(format!("tenant {name:?}")))?;
        tenant_from_row(&row)
    }

    pub async fn tenants(&self) -> Result<Vec<TenantRecord>, VaultError> {
        let rows = sqlx::query("SELECT * FROM tenants ORDER BY name")
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(tenant_from_row).collect()
    }

    /// Records a proposed version (`pending`) with its change, in one transaction. Refused
    /// while another change of the tenant awaits a decision, or when `from_version` is no
    /// longer the active version.
    pub async fn propose_policy_version(
        &self,
        mut record: PolicyVersionRecord,
        mut change: PolicyChangeRecord,
    ) -> Result<i64, VaultError> {
        let mut tx = self.pool.begin_with("BEGIN IMMEDIATE").await?;
        let (max,): (Option<i64>,) = sqlx::query_as("SELECT MAX(version) FROM policy_versions WHERE tenant = ?")
            .bind(&record.tenant)
            .fetch_one(&mut *tx)
            .await?;
        let Some(max) = max else {
            return Err(VaultError::NotFound(format!("tenant {:?}", record.tenant)));
        };
        let open: Option<(i64,)> =
            sqlx::query_as("SELECT version FROM policy_changes WHERE tenant = ? AND decision IS NULL")
                .bind(&record.tenant)
                .fetch_optional(&mut *tx)
                .await?;
        if let Some((version,)) = open {
            return Err(VaultError::Conflict(format!(
                "policy version {version} of tenant {:?} awaits approval: approve or reject it first",
                record.tenant
            )));
        }
        let active: Option<(i64,)> =
            sqlx::query_as("SELECT version FROM policy_versions WHERE tenant = ? AND state = 'active'")
                .bind(&record.tenant)
                .fetch_optional(&mut *tx)
                .await?;
        if active.map(|(v,)| v) != Some(change.from_version) {
            return Err(VaultError::Conflict(format!(
                "the active policy version of tenant {:?} changed meanwhile",
                record.tenant
            )));
        }
        record.version = max + 1;
        record.state = PolicyVersionState::Pending;
        record.approved_at = None;
        record.approved_by = None;
        change.version = record.version;
        change.decision = None;
        insert_policy_version(&mut tx, &record).await?;
        sqlx::query(
            "INSERT INTO policy_changes (tenant, version, from_version, approver_role, diff) VALUES (?, ?, ?, ?, ?)",
        )
        .bind(&record.tenant)
        .bind(change.version)
        .bind(change.from_version)
        .bind(&change.approver_role)
        .bind(&change.diff)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(record.version)
    }

    /// Decides a pending version. Approval makes it the active version (the one it
    /// replaces is superseded) and records who approved it and when; rejection leaves it
    /// pending in `policy_versions`, never active. One transaction; a decided change
    /// cannot be decided again.
    pub async fn decide_policy_change(
        &self,
        tenant: &str,
        version: i64,
        decision: PolicyDecision,
        by: &str,
        at: DateTime<Utc>,
        reason: Option<&str>,
    ) -> Result<PolicyChangeRecord, VaultError> {
        let mut tx = self.pool.begin_with("BEGIN IMMEDIATE").await?;
        let row = sqlx::query("SELECT * FROM policy_changes WHERE tenant = ? AND version = ?")
            .bind(tenant)
            .bind(version)
            .fetch_optional(&mut *tx)
            .await?
            .ok_or_else(|| VaultError::NotFound(format!("pending policy version {version} of tenant {tenant:?}")))?;
        let mut change = policy_change_from_row(&row)?;
        if let Some(done) = change.decision {
            return Err(VaultError::Conflict(format!(
                "policy version {version} of tenant {tenant:?} was already {}",
                done.as_str()
            )));
        }
        if decision == PolicyDecision::Approved {
            let superseded = sqlx::query(
                "UPDATE policy_versions SET state = 'superseded' WHERE tenant = ? AND version = ? AND state = 'active'",
            )
            .bind(tenant)
            .bind(change.from_version)
            .execute(&mut *tx)
            .await?;
            if superseded.rows_affected() != 1 {
                return Err(VaultError::Conflict(format!(
                    "policy version {} of tenant {tenant:?} is no longer active",
                    change.from_version
                )));
            }
            sqlx::query(
                "UPDATE policy_versions SET state = 'active', approved_at = ?, approved_by = ?
                 WHERE tenant = ? AND version = ? AND state = 'pending'",
            )
            .bind(ts(at))
            .bind(by)
            .bind(tenant)
            .bind(version)
            .execute(&mut *tx)
            .await?;
        }
        sqlx::query(
            "UPDATE policy_changes SET decision = ?, decided_at = ?, decided_by = ?, reason = ?
             WHERE tenant = ? AND version = ?",
        )
        .bind(decision.as_str())
        .bind(ts(at))
        .bind(by)
        .bind(reason)
        .bind(tenant)
        .bind(version)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        change.decision = Some(decision);
        change.decided_at = Some(at);
        change.decided_by = Some(by.to_owned());
        change.reason = reason.map(str::to_owned);
        Ok(change)
    }

    /// The proposed change behind `version`, if the version was proposed (not the first).
    pub async fn policy_change(&self, tenant: &str, version: i64) -> Result<Option<PolicyChangeRecord>, VaultError> {
        let row = sqlx::query("SELECT * FROM policy_changes WHERE tenant = ? AND version = ?")
            .bind(tenant)
            .bind(version)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(policy_change_from_row).transpose()
    }

    /// Every proposed change of a tenant, oldest first.
    pub async fn policy_changes(&self, tenant: &str) -> Result<Vec<PolicyChangeRecord>, VaultError> {
        let rows = sqlx::query("SELECT * FROM policy_changes WHERE tenant = ? ORDER BY version")
            .bind(tenant)
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(policy_change_from_row).collect()
    }

    pub async fn active_policy(&self, tenant: &str) -> Result<PolicyVersionRecord, VaultError> {
        let row = sqlx::query("SELECT * FROM policy_versions WHERE tenant = ? AND state = 'active'")
            .bind(tenant)
            .fetch_optional(&self.pool)
            .await?
            .ok_or_else(|| VaultError::NotFound(format!("tenant {tenant:?}")))?;
        policy_from_row(&row)
    }

    /// The number of a tenant's active policy version (no policy text: cheap, for every
    /// authorization decision on the tenant).
    pub async fn active_policy_version(&self, tenant: &str) -> Result<i64, VaultError> {
        let row: Option<(i64,)> =
            sqlx::query_as("SELECT version FROM policy_versions WHERE tenant = ? AND state = 'active'")
                .bind(tenant)
                .fetch_optional(&self.pool)
                .await?;
        row.map(|r| r.0)
            .ok_or_else(|| VaultError::NotFound(format!("tenant {tenant:?}")))
    }

    pub async fn policy_version(&self, tenant: &str, version: i64) -> Result<PolicyVersionRecord, VaultError> {
        let row = sqlx::query("SELECT * FROM policy_versions WHERE tenant = ? AND version = ?")
            .bind(tenant)
            .bind(version)
            .fetch_optional(&self.pool)
            .await?
            .ok_or_else(|| VaultError::NotFound(format!("policy version {version} of tenant {tenant:?}")))?;
        policy_from_row(&row)
    }

    pub async fn policy_versions(&self, tenant: &str) -> Result<Vec<PolicyVersionRecord>, VaultError> {
        let rows = sqlx::query("SELECT * FROM policy_versions WHERE tenant = ? ORDER BY version")
            .bind(tenant)
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(policy_from_row).collect()
    }

    // ---- recordings ------------------------------------------------------------------

    /// Inserts a recording in state `writing` with its parties and streams.
    pub async fn insert_writing(&self, entry: &RecordingEntry) -> Result<(), VaultError> {
        let r = &entry.recording;
        // One statement list in one transaction: one round trip to the connection's thread.
        let mut sql = String::from(
            "BEGIN IMMEDIATE;
             INSERT INTO recordings (id, tenant, policy_version, state, source, direction, started_at, ended_at, duration_ms,
                service_number, customer_number, customer_number_hash, customer_name, agent, purposes, legal_basis, consent,
                retain_until, notes, created_at, sealed_at)
             VALUES (?, ?, ?, 'writing', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, NULL);",
        );
        for _ in &entry.participants {
            sql.push_str(
                "INSERT INTO participants (recording_id, idx, role, name, number, number_hash) VALUES (?, ?, ?, ?, ?, ?);",
            );
        }
        for _ in &entry.streams {
            sql.push_str(
                "INSERT INTO streams (recording_id, idx, label, participant, codec, sample_rate, object_path, chunks, audio_bytes, packets_lost, seal)
                 VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?);",
            );
        }
        sql.push_str("COMMIT;");
        let id_text = r.id.to_string();
        let mut q = sqlx::query(&sql)
            .bind(&id_text)
            .bind(&r.tenant)
            .bind(r.policy_version)
            .bind(r.source.as_str())
            .bind(&r.direction)
            .bind(ts(r.started_at))
            .bind(r.ended_at.map(ts))
            .bind(r.duration_ms)
            .bind(&r.service_number)
            .bind(&r.customer_number)
            .bind(&r.customer_number_hash)
            .bind(&r.customer_name)
            .bind(&r.agent)
            .bind(to_json(&r.purposes))
            .bind(&r.legal_basis)
            .bind(r.consent.to_string())
            .bind(ts(r.retain_until))
            .bind(to_json(&r.notes))
            .bind(ts(r.created_at));
        for p in &entry.participants {
            q = bind_participant(q, &id_text, p);
        }
        for s in &entry.streams {
            q = q
                .bind(&id_text)
                .bind(s.idx)
                .bind(&s.label)
                .bind(s.participant)
                .bind(&s.codec)
                .bind(s.sample_rate)
                .bind(&s.object_path)
                .bind(s.chunks)
                .bind(s.audio_bytes)
                .bind(s.packets_lost)
                .bind(s.seal.as_str());
        }
        in_one_transaction(&self.pool, q).await?;
        Ok(())
    }

    /// Makes a written recording visible: its streams' seals and its end, in one transaction.
    pub async fn mark_sealed(&self, id: Uuid, seal: SealUpdate<'_>) -> Result<(), VaultError> {
        let SealUpdate {
            state,
            ended_at,
            duration_ms,
            streams,
            notes,
            new_participants,
            sealed_at,
        } = seal;
        // One statement list in one transaction, one round trip to the connection's
        // thread. Every statement changes something only while the recording is being
        // written, and the recording's own update comes last, made only when each of its
        // streams is there: a recording that is not being written is left untouched.
        const WRITING: &str = "EXISTS (SELECT 1 FROM recordings WHERE id = ? AND state = 'writing')";
        let mut sql = String::from("BEGIN IMMEDIATE;");
        for _ in new_participants {
            sql.push_str(&format!(
                "INSERT INTO participants (recording_id, idx, role, name, number, number_hash)
                 SELECT ?, ?, ?, ?, ?, ? WHERE {WRITING};"
            ));
        }
        for _ in streams {
            sql.push_str(&format!(
                "UPDATE streams SET chunks = ?, audio_bytes = ?, packets_lost = ?, seal = ?
                 WHERE recording_id = ? AND idx = ? AND {WRITING};"
            ));
        }
        let marks = vec!["?"; streams.len()].join(", ");
        sql.push_str(&format!(
            "UPDATE recordings SET state = ?, ended_at = COALESCE(?, ended_at), duration_ms = COALESCE(?, duration_ms),
                notes = COALESCE(?, notes), sealed_at = ?
             WHERE id = ? AND state = 'writing'
               AND (SELECT count(*) FROM streams WHERE recording_id = ? AND idx IN ({marks})) = ?
             RETURNING id;
             COMMIT;"
        ));
        let id_text = id.to_string();
        let mut q = sqlx::query(&sql);
        for p in new_participants {
            q = bind_participant(q, &id_text, p).bind(&id_text);
        }
        for s in streams {
            q = q
                .bind(s.chunks)
                .bind(s.audio_bytes)
                .bind(s.packets_lost)
                .bind(s.seal.as_str())
                .bind(&id_text)
                .bind(s.idx)
                .bind(&id_text);
        }
        q = q
            .bind(state.as_str())
            .bind(ended_at.map(ts))
            .bind(duration_ms)
            .bind(notes.map(to_json))
            .bind(ts(sealed_at))
            .bind(&id_text)
            .bind(&id_text);
        for s in streams {
            q = q.bind(s.idx);
        }
        q = q.bind(streams.len() as i64);
        let sealed = in_one_transaction(&self.pool, q).await?;
        // The recording's update returns its id when it was made (and then so were the
        // others); otherwise the recording was not being written (nothing changed) or
        // lacks a stream (it stays unsealed, to be discarded or recovered like any
        // recording whose writer stopped).
        if sealed.len() != 1 {
            return Err(VaultError::Conflict(format!("recording {id} is not being written")));
        }
        Ok(())
    }

    /// Removes a recording that never became visible (failed or abandoned write).
    pub async fn discard_writing(&self, id: Uuid) -> Result<(), VaultError> {
        sqlx::query("DELETE FROM recordings WHERE id = ? AND state = 'writing'")
            .bind(id.to_string())
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Any recording, visible or not.
    pub async fn entry(&self, id: Uuid) -> Result<RecordingEntry, VaultError> {
        let row = sqlx::query("SELECT * FROM recordings WHERE id = ?")
            .bind(id.to_string())
            .fetch_optional(&self.pool)
            .await?
            .ok_or_else(|| VaultError::NotFound(format!("recording {id}")))?;
        let recording = recording_from_row(&row)?;
        let participants = self.participants_of(id).await?;
        let streams = self.streams_of(id).await?;
        Ok(RecordingEntry {
            recording,
            participants,
            streams,
        })
    }

    /// A visible (sealed or interrupted) recording.
    pub async fn visible_entry(&self, id: Uuid) -> Result<RecordingEntry, VaultError> {
        let entry = self.entry(id).await?;
        if entry.recording.state == RecordingState::Writing {
            return Err(VaultError::NotFound(format!("recording {id}")));
        }
        Ok(entry)
    }

    /// Visible recordings matching `filter`, newest first.
    pub async fn list(&self, filter: &RecordingFilter) -> Result<Vec<RecordingRecord>, VaultError> {
        let rows = list_query(filter).build().fetch_all(&self.pool).await?;
        rows.iter().map(recording_from_row).collect()
    }

    /// The parties of a recording, in order.
    pub async fn participants_of(&self, id: Uuid) -> Result<Vec<ParticipantRecord>, VaultError> {
        sqlx::query("SELECT * FROM participants WHERE recording_id = ? ORDER BY idx")
            .bind(id.to_string())
            .fetch_all(&self.pool)
            .await?
            .iter()
            .map(participant_from_row)
            .collect()
    }

    /// The streams of a recording, in order.
    pub async fn streams_of(&self, id: Uuid) -> Result<Vec<StreamRecord>, VaultError> {
        sqlx::query("SELECT * FROM streams WHERE recording_id = ? ORDER BY idx")
            .bind(id.to_string())
            .fetch_all(&self.pool)
            .await?
            .iter()
            .map(stream_from_row)
            .collect()
    }

    /// Recordings still in state `writing` (for recovery at start-up).
    pub async fn writing(&self) -> Result<Vec<RecordingRecord>, VaultError> {
        let rows = sqlx::query("SELECT * FROM recordings WHERE state = 'writing' ORDER BY created_at")
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(recording_from_row).collect()
    }

    /// Replaces a recording by its tombstone, in one transaction.
    pub async fn replace_by_tombstone(&self, tombstone: &Tombstone) -> Result<(), VaultError> {
        let mut tx = self.pool.begin().await?;
        sqlx::query(
            "INSERT INTO tombstones (recording_id, tenant, policy_version, reason, erased_at) VALUES (?, ?, ?, ?, ?)",
        )
        .bind(tombstone.recording_id.to_string())
        .bind(&tombstone.tenant)
        .bind(tombstone.policy_version)
        .bind(&tombstone.reason)
        .bind(ts(tombstone.erased_at))
        .execute(&mut *tx)
        .await?;
        sqlx::query("DELETE FROM recordings WHERE id = ?")
            .bind(tombstone.recording_id.to_string())
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }

    pub async fn tombstone(&self, id: Uuid) -> Result<Option<Tombstone>, VaultError> {
        let row = sqlx::query("SELECT * FROM tombstones WHERE recording_id = ?")
            .bind(id.to_string())
            .fetch_optional(&self.pool)
            .await?;
        row.map(|row| {
            Ok(Tombstone {
                recording_id: id,
                tenant: row.try_get("tenant")?,
                policy_version: row.try_get("policy_version")?,
                reason: row.try_get("reason")?,
                erased_at: parse_ts(&row.try_get::<String, _>("erased_at")?)?,
            })
        })
        .transpose()
    }

    /// Appends an event to the audit chain; returns once it is durable (group commit).
    pub async fn append_audit(&self, event: &governance::AuditEvent) -> Result<StoredAuditEvent, VaultError> {
        self.audit.append(event.clone()).await
    }

    /// Every audit event in order.
    pub async fn audit_events(&self) -> Result<Vec<StoredAuditEvent>, VaultError> {
        self.audit.events().await
    }
}

async fn insert_policy_version(tx: &mut sqlx::SqliteConnection, p: &PolicyVersionRecord) -> Result<(), VaultError> {
    sqlx::query(
        "INSERT INTO policy_versions (tenant, version, policy_id, document_version, source_file, source_text, sha256, state,
            created_at, created_by, approved_at, approved_by)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
    )
    .bind(&p.tenant)
    .bind(p.version)
    .bind(&p.policy_id)
    .bind(&p.document_version)
    .bind(&p.source_file)
    .bind(&p.source_text)
    .bind(&p.sha256)
    .bind(p.state.as_str())
    .bind(ts(p.created_at))
    .bind(&p.created_by)
    .bind(p.approved_at.map(ts))
    .bind(&p.approved_by)
    .execute(tx)
    .await?;
    Ok(())
}

fn tenant_from_row(row: &SqliteRow) -> Result<TenantRecord, VaultError> {
    Ok(TenantRecord {
        name: row.try_get("name")?,
        policy_id: row.try_get("policy_id")?,
        recording_enabled: row.try_get("recording_enabled")?,
        retention: row.try_get("retention")?,
        service_numbers: json_list(&row.try_get::<String, _>("service_numbers")?)?,
        agent_patterns: json_list(&row.try_get::<String, _>("agent_patterns")?)?,
        country: row.try_get("country")?,
        provider: row.try_get("provider")?,
        created_at: parse_ts(&row.try_get::<String, _>("created_at")?)?,
    })
}

fn policy_from_row(row: &SqliteRow) -> Result<PolicyVersionRecord, VaultError> {
    let state: String = row.try_get("state")?;
    Ok(PolicyVersionRecord {
        tenant: row.try_get("tenant")?,
        version: row.try_get("version")?,
        policy_id: row.try_get("policy_id")?,
        document_version: row.try_get("document_version")?,
        source_file: row.try_get("source_file")?,
        source_text: row.try_get("source_text")?,
        sha256: row.try_get("sha256")?,
        state: PolicyVersionState::parse(&state)
            .ok_or_else(|| VaultError::Corrupt(format!("policy state {state:?}")))?,
        created_at: parse_ts(&row.try_get::<String, _>("created_at")?)?,
        created_by: row.try_get("created_by")?,
        approved_at: parse_opt_ts(row.try_get("approved_at")?)?,
        approved_by: row.try_get("approved_by")?,
    })
}

fn policy_change_from_row(row: &SqliteRow) -> Result<PolicyChangeRecord, VaultError> {
    let decision: Option<String> = row.try_get("decision")?;
    Ok(PolicyChangeRecord {
        tenant: row.try_get("tenant")?,
        version: row.try_get("version")?,
        from_version: row.try_get("from_version")?,
        approver_role: row.try_get("approver_role")?,
        diff: row.try_get("diff")?,
        decision: decision
            .map(|d| PolicyDecision::parse(&d).ok_or_else(|| VaultError::Corrupt(format!("policy decision {d:?}"))))
            .transpose()?,
        decided_at: parse_opt_ts(row.try_get("decided_at")?)?,
        decided_by: row.try_get("decided_by")?,
        reason: row.try_get("reason")?,
    })
}

/// A tenant and the version of its policy in force, in one query.
pub(crate) async fn tenant_with_active_version_on(
    conn: &mut sqlx::SqliteConnection,
    name: &str,
) -> Result<(TenantRecord, i64), VaultError> {
    let row = sqlx::query(
        "SELECT t.*, (SELECT p.version FROM policy_versions p WHERE p.tenant = t.name AND p.state = 'active') \
         AS active_version FROM tenants t WHERE t.name = ?",
    )
    .bind(name)
    .fetch_optional(conn)
    .await?
    .ok_or_else(|| VaultError::NotFound(format!("tenant {name:?}")))?;
    let version: Option<i64> = row.try_get("active_version")?;
    let version = version.ok_or_else(|| VaultError::NotFound(format!("tenant {name:?}")))?;
    Ok((tenant_from_row(&row)?, version))
}

/// The query of [`Catalog::list`]: visible recordings matching `filter`, newest first.
pub(crate) fn list_query(filter: &RecordingFilter) -> QueryBuilder<'static, Sqlite> {
    list_query_selecting("r.*", filter, None)
}

/// [`list_query`] selecting `columns` (of `recordings r`), only while the tenant is as
/// `guard` says (both subqueries are constant: SQLite runs each once per statement).
pub(crate) fn list_query_selecting(
    columns: &str,
    filter: &RecordingFilter,
    guard: Option<&SearchTenant>,
) -> QueryBuilder<'static, Sqlite> {
    let mut q: QueryBuilder<Sqlite> =
        QueryBuilder::new(format!("SELECT {columns} FROM recordings r WHERE state <> 'writing'"));
    if let Some(guard) = guard {
        q.push(" AND (SELECT t.country FROM tenants t WHERE t.name = ")
            .push_bind(guard.name.clone())
            .push(") IS ")
            .push_bind(guard.country.clone())
            .push(" AND (SELECT p.version FROM policy_versions p WHERE p.state = 'active' AND p.tenant = ")
            .push_bind(guard.name.clone())
            .push(") IS ")
            .push_bind(guard.version);
    }
    if let Some(tenant) = &filter.tenant {
        q.push(" AND tenant = ").push_bind(tenant.clone());
    }
    if let Some(hash) = &filter.customer_number_hash {
        q.push(" AND customer_number_hash = ").push_bind(hash.clone());
    }
    if let Some(from) = filter.from {
        q.push(" AND started_at >= ").push_bind(ts(from));
    }
    if let Some(to) = filter.to {
        q.push(" AND started_at <= ").push_bind(ts(to));
    }
    if let Some(agent) = &filter.agent {
        q.push(" AND agent = ").push_bind(agent.clone());
    }
    if let Some(direction) = &filter.direction {
        q.push(" AND direction = ").push_bind(direction.clone());
    }
    q.push(" ORDER BY started_at DESC, id");
    // SQLite needs a LIMIT before an OFFSET; -1 is "no limit".
    if filter.limit.is_some() || filter.offset.is_some() {
        q.push(" LIMIT ").push_bind(filter.limit.unwrap_or(-1));
    }
    if let Some(offset) = filter.offset {
        q.push(" OFFSET ").push_bind(offset);
    }
    q
}

pub(crate) fn participant_from_row(row: &SqliteRow) -> Result<ParticipantRecord, VaultError> {
    Ok(ParticipantRecord {
        idx: row.try_get("idx")?,
        role: row.try_get("role")?,
        name: row.try_get("name")?,
        number: row.try_get("number")?,
        number_hash: row.try_get("number_hash")?,
    })
}

pub(crate) fn recording_from_row(row: &SqliteRow) -> Result<RecordingRecord, VaultError> {
    let id: String = row.try_get("id")?;
    let state: String = row.try_get("state")?;
    let source: String = row.try_get("source")?;
    let consent: String = row.try_get("consent")?;
    Ok(RecordingRecord {
        id: Uuid::parse_str(&id).map_err(|_| VaultError::Corrupt(format!("recording id {id:?}")))?,
        tenant: row.try_get("tenant")?,
        policy_version: row.try_get("policy_version")?,
        state: RecordingState::parse(&state).ok_or_else(|| VaultError::Corrupt(format!("state {state:?}")))?,
        source: RecordingSource::parse(&source).ok_or_else(|| VaultError::Corrupt(format!("source {source:?}")))?,
        direction: row.try_get("direction")?,
        started_at: parse_ts(&row.try_get::<String, _>("started_at")?)?,
        ended_at: parse_opt_ts(row.try_get("ended_at")?)?,
        duration_ms: row.try_get("duration_ms")?,
        service_number: row.try_get("service_number")?,
        customer_number: row.try_get("customer_number")?,
        customer_number_hash: row.try_get("customer_number_hash")?,
        customer_name: row.try_get("customer_name")?,
        agent: row.try_get("agent")?,
        purposes: json_list(&row.try_get::<String, _>("purposes")?)?,
        legal_basis: row.try_get("legal_basis")?,
        consent: serde_json::from_str(&consent).map_err(|_| VaultError::Corrupt("consent JSON".into()))?,
        retain_until: parse_ts(&row.try_get::<String, _>("retain_until")?)?,
        notes: json_list(&row.try_get::<String, _>("notes")?)?,
        created_at: parse_ts(&row.try_get::<String, _>("created_at")?)?,
        sealed_at: parse_opt_ts(row.try_get("sealed_at")?)?,
    })
}

pub(crate) fn stream_from_row(row: &SqliteRow) -> Result<StreamRecord, VaultError> {
    let seal: String = row.try_get("seal")?;
    Ok(StreamRecord {
        idx: row.try_get("idx")?,
        label: row.try_get("label")?,
        participant: row.try_get("participant")?,
        codec: row.try_get("codec")?,
        sample_rate: row.try_get("sample_rate")?,
        object_path: row.try_get("object_path")?,
        chunks: row.try_get("chunks")?,
        audio_bytes: row.try_get("audio_bytes")?,
        packets_lost: row.try_get("packets_lost")?,
        seal: StreamSeal::parse(&seal).ok_or_else(|| VaultError::Corrupt(format!("seal {seal:?}")))?,
    })
}
