//! The audit writer: one task owns a catalog connection (`synchronous = FULL`) and
//! commits whatever appends are waiting as one transaction (group commit: one fsync for
//! the batch). Callers get their stored events back once the batch is durable. Within the
//! transaction it counts denials for alerts and writes the periodic signed checkpoint.

use std::path::PathBuf;
use std::sync::Arc;

use chrono::{DateTime, TimeDelta, Utc};
use governance::{AuditEvent, DenialRule, GENESIS_HASH, Outcome};
use sqlx::{Connection, QueryBuilder, Sqlite, SqliteConnection};
use tokio::sync::{mpsc, oneshot};

use super::checkpoint::{Checkpoint, SigningKey};
use crate::catalog::ts;
use crate::error::VaultError;
use crate::records::StoredAuditEvent;

/// How the audit log checkpoints, alerts and batches.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AuditSettings {
    /// A signed checkpoint at least every this many events (0: not by count).
    pub checkpoint_every: u64,
    /// And when this much event time has passed since the last one.
    pub checkpoint_interval: Option<TimeDelta>,
    /// When repeated denials raise an alert (ARLO-SECURITY).
    pub denials: DenialRule,
    /// The most events one transaction takes.
    pub max_batch: usize,
}

impl Default for AuditSettings {
    fn default() -> Self {
        AuditSettings {
            checkpoint_every: 10_000,
            checkpoint_interval: Some(TimeDelta::hours(1)),
            denials: DenialRule::default(),
            max_batch: 8192,
        }
    }
}

pub(super) type Reply<T> = oneshot::Sender<Result<T, String>>;

pub(super) enum Request {
    Append {
        events: Vec<AuditEvent>,
        /// A bulk operation: checkpoint once these are stored.
        checkpoint_at: Option<DateTime<Utc>>,
        reply: Reply<Vec<StoredAuditEvent>>,
    },
    Checkpoint {
        at: DateTime<Utc>,
        reply: Reply<Option<Checkpoint>>,
    },
    Configure(AuditSettings),
    Close(oneshot::Sender<()>),
}

impl Request {
    fn events(&self) -> usize {
        match self {
            Request::Append { events, .. } => events.len(),
            _ => 1,
        }
    }
}

/// Runs until closed or until every sender is gone.
pub(super) async fn run(
    mut conn: SqliteConnection,
    mut requests: mpsc::Receiver<Request>,
    keys_dir: Option<PathBuf>,
    mut settings: AuditSettings,
) {
    let mut signer = Signer { keys_dir, key: None };
    let mut batch = Vec::new();
    while let Some(first) = requests.recv().await {
        let mut size = first.events();
        batch.push(first);
        while size < settings.max_batch {
            match requests.try_recv() {
                Ok(next) => {
                    size += next.events();
                    batch.push(next);
                }
                Err(_) => break,
            }
        }
        let mut close = None;
        let mut work = Vec::with_capacity(batch.len());
        for request in batch.drain(..) {
            match request {
                Request::Configure(new) => settings = new,
                Request::Close(done) => close = Some(done),
                other => work.push(other),
            }
        }
        if !work.is_empty() {
            commit(&mut conn, work, &settings, &mut signer).await;
        }
        if let Some(done) = close {
            let _ = conn.close().await;
            let _ = done.send(());
            return;
        }
    }
    let _ = conn.close().await;
}

/// The signing key, loaded (or created) the first time a checkpoint is signed.
struct Signer {
    keys_dir: Option<PathBuf>,
    key: Option<Arc<SigningKey>>,
}

impl Signer {
    fn key(&mut self) -> Result<Arc<SigningKey>, String> {
        if let Some(key) = &self.key {
            return Ok(key.clone());
        }
        let dir = self
            .keys_dir
            .as_ref()
            .ok_or("no key directory: checkpoints cannot be signed")?;
        let key = Arc::new(SigningKey::load_or_create(dir).map_err(|e| e.to_string())?);
        self.key = Some(key.clone());
        Ok(key)
    }
}

enum Waiting {
    Append(Reply<Vec<StoredAuditEvent>>, Vec<StoredAuditEvent>),
    Checkpoint(Reply<Option<Checkpoint>>),
}

async fn commit(conn: &mut SqliteConnection, work: Vec<Request>, settings: &AuditSettings, signer: &mut Signer) {
    match write_batch(conn, work, settings, signer).await {
        Ok((waiting, checkpoint)) => {
            for waiter in waiting {
                match waiter {
                    Waiting::Append(reply, stored) => drop(reply.send(Ok(stored))),
                    Waiting::Checkpoint(reply) => drop(reply.send(checkpoint.clone())),
                }
            }
        }
        Err((waiting, err)) => {
            let message = format!("audit append failed: {err}");
            for waiter in waiting {
                match waiter {
                    Waiting::Append(reply, _) => drop(reply.send(Err(message.clone()))),
                    Waiting::Checkpoint(reply) => drop(reply.send(Err(message.clone()))),
                }
            }
        }
    }
}

type BatchResult = Result<(Vec<Waiting>, Result<Option<Checkpoint>, String>), (Vec<Waiting>, VaultError)>;

/// The chain's end while a batch is built.
struct Head {
    seq: i64,
    hash: String,
    last_at: Option<DateTime<Utc>>,
    rows: Vec<(i64, Vec<u8>, [u8; 32])>,
}

impl Head {
    fn push(&mut self, event: AuditEvent) -> StoredAuditEvent {
        self.seq += 1;
        let record = governance::encode_record(self.seq, &self.hash, &event);
        let hash = governance::record_hash(&record);
        let hash_hex = hex::encode(hash);
        self.rows.push((self.seq, record, hash));
        self.last_at = Some(event.at);
        StoredAuditEvent {
            seq: self.seq,
            event,
            prev_hash: std::mem::replace(&mut self.hash, hash_hex.clone()),
            hash: hash_hex,
        }
    }
}

async fn write_batch(
    conn: &mut SqliteConnection,
    work: Vec<Request>,
    settings: &AuditSettings,
    signer: &mut Signer,
) -> BatchResult {
    let mut waiting = Vec::with_capacity(work.len());
    let mut events = Vec::with_capacity(work.len());
    let mut wanted: Option<DateTime<Utc>> = None;
    for request in work {
        match request {
            Request::Append {
                events: list,
                checkpoint_at,
                reply,
            } => {
                wanted = wanted.max(checkpoint_at);
                events.push(list);
                waiting.push(Waiting::Append(reply, Vec::new()));
            }
            Request::Checkpoint { at, reply } => {
                wanted = wanted.max(Some(at));
                waiting.push(Waiting::Checkpoint(reply));
            }
            Request::Configure(_) | Request::Close(_) => {}
        }
    }
    match write_events(conn, events, &mut waiting, wanted, settings, signer).await {
        Ok(checkpoint) => Ok((waiting, checkpoint)),
        Err(err) => Err((waiting, err)),
    }
}

async fn write_events(
    conn: &mut SqliteConnection,
    events: Vec<Vec<AuditEvent>>,
    waiting: &mut [Waiting],
    wanted: Option<DateTime<Utc>>,
    settings: &AuditSettings,
    signer: &mut Signer,
) -> Result<Result<Option<Checkpoint>, String>, VaultError> {
    let mut tx = conn.begin_with("BEGIN IMMEDIATE").await?;
    let last: Option<(i64, Vec<u8>)> = sqlx::query_as("SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1")
        .fetch_optional(&mut *tx)
        .await?;
    let mut head = Head {
        seq: last.as_ref().map_or(0, |l| l.0),
        hash: last.map_or_else(|| GENESIS_HASH.to_owned(), |l| hex::encode(l.1)),
        last_at: None,
        rows: Vec::new(),
    };
    let mut lists = events.into_iter();
    for waiter in waiting.iter_mut() {
        let Waiting::Append(_, stored) = waiter else { continue };
        for event in lists.next().unwrap_or_default() {
            let denied = event.outcome == Outcome::Denied;
            let appended = head.push(event);
            if denied && let Some(alert) = count_denial(&mut tx, &appended, &settings.denials).await? {
                head.push(alert);
            }
            stored.push(appended);
        }
    }
    insert_rows(&mut tx, &head.rows).await?;

    let can_sign = signer.keys_dir.is_some();
    let periodic = head
        .last_at
        .filter(|_| can_sign && (settings.checkpoint_every > 0 || settings.checkpoint_interval.is_some()));
    let mut checkpoint = Ok(None);
    let at = match (wanted, periodic) {
        (Some(at), _) => Some(at),
        (None, Some(last_at)) if periodic_due(&mut tx, head.seq, last_at, settings).await? => Some(last_at),
        _ => None,
    };
    if let Some(at) = at.filter(|_| head.seq > 0) {
        checkpoint = match signer.key() {
            Ok(key) => {
                let signed = key.sign(head.seq, &head.hash, at);
                insert_checkpoint(&mut tx, &signed).await?;
                Ok(Some(signed))
            }
            Err(err) => {
                tracing::error!("audit checkpoint not signed: {err}");
                Err(err)
            }
        };
    }
    tx.commit().await?;
    Ok(checkpoint)
}

/// Records a denial and returns the alert it raises, if any.
async fn count_denial(
    tx: &mut SqliteConnection,
    denied: &StoredAuditEvent,
    rule: &DenialRule,
) -> Result<Option<AuditEvent>, VaultError> {
    let at = ts(denied.event.at);
    sqlx::query("INSERT INTO audit_denials (actor, at, seq) VALUES (?, ?, ?)")
        .bind(&denied.event.actor)
        .bind(&at)
        .bind(denied.seq)
        .execute(&mut *tx)
        .await?;
    let (count,): (i64,) = sqlx::query_as("SELECT count(*) FROM audit_denials WHERE actor = ? AND at > ? AND at <= ?")
        .bind(&denied.event.actor)
        .bind(ts(rule.window_start(denied.event.at)))
        .bind(&at)
        .fetch_one(&mut *tx)
        .await?;
    Ok(rule.alert_for(&denied.event, u64::try_from(count).unwrap_or(0)))
}

/// Whether the events up to `seq` (the last at `last_at`) are due a periodic checkpoint:
/// none yet, `checkpoint_every` events since the last one, or its interval passed.
async fn periodic_due(
    tx: &mut SqliteConnection,
    seq: i64,
    last_at: DateTime<Utc>,
    settings: &AuditSettings,
) -> Result<bool, VaultError> {
    let previous: Option<(i64, String)> =
        sqlx::query_as("SELECT seq, at FROM audit_checkpoints ORDER BY id DESC LIMIT 1")
            .fetch_optional(&mut *tx)
            .await?;
    let Some((previous_seq, previous_at)) = previous else {
        return Ok(true);
    };
    let by_count = settings.checkpoint_every > 0
        && (seq - previous_seq) >= i64::try_from(settings.checkpoint_every).unwrap_or(i64::MAX);
    let by_time = settings.checkpoint_interval.is_some_and(|interval| {
        DateTime::parse_from_rfc3339(&previous_at).is_ok_and(|t| last_at - t.with_timezone(&Utc) >= interval)
    });
    Ok(seq > previous_seq && (by_count || by_time))
}

/// Rows per INSERT statement (three parameters each).
const ROWS_PER_INSERT: usize = 512;

async fn insert_rows(tx: &mut SqliteConnection, rows: &[(i64, Vec<u8>, [u8; 32])]) -> Result<(), VaultError> {
    for chunk in rows.chunks(ROWS_PER_INSERT) {
        let mut insert: QueryBuilder<Sqlite> = QueryBuilder::new("INSERT INTO audit_log (seq, record, hash) ");
        insert.push_values(chunk, |mut row, (seq, record, hash)| {
            row.push_bind(*seq)
                .push_bind(record.as_slice())
                .push_bind(hash.as_slice());
        });
        insert.build().execute(&mut *tx).await?;
    }
    Ok(())
}

pub(super) async fn insert_checkpoint(tx: &mut SqliteConnection, c: &Checkpoint) -> Result<(), VaultError> {
    sqlx::query(
        "INSERT INTO audit_checkpoints (seq, hash, at, key_id, public_key, signature) VALUES (?, ?, ?, ?, ?, ?)",
    )
    .bind(c.seq)
    .bind(&c.hash)
    .bind(ts(c.at))
    .bind(&c.key_id)
    .bind(&c.public_key)
    .bind(&c.signature)
    .execute(tx)
    .await?;
    Ok(())
}
