//! Reading the audit log as a stream of (seq, record, hash) rows on a connection of its
//! own: verification of chain and checkpoints, export, and the denial report. Only
//! these three columns are read, so sqlx hands over a row in well under a microsecond.

use chrono::{DateTime, Utc};
use futures::TryStreamExt;
use governance::{ALERT_ACTION, Anchor, AuditFault, ChainVerifier, DenialReport, Problem, RecordView};
use sqlx::sqlite::SqliteRow;
use sqlx::{ConnectOptions, Connection, Row};

use super::AuditLog;
use super::checkpoint::Checkpoint;
use crate::catalog::ts;
use crate::error::VaultError;
use crate::records::StoredAuditEvent;

/// Rows sqlx buffers ahead of the reader.
const ROW_BUFFER: usize = 4096;

/// What `verify` found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifyReport {
    /// Events that verified (the head's seq when the whole log did).
    pub events: i64,
    /// The hash of the last verified event.
    pub head_hash: String,
    /// Signed checkpoints stored with the log.
    pub checkpoints: usize,
    /// The event the kept checkpoint covers, when one was given.
    pub kept: Option<i64>,
    /// The log's signing key id: the key directory's, or else the kept checkpoint's.
    pub key_id: Option<String>,
    /// The first bad event, if any.
    pub fault: Option<AuditFault>,
}

impl AuditLog {
    /// Every stored checkpoint, oldest first.
    pub async fn checkpoints(&self) -> Result<Vec<Checkpoint>, VaultError> {
        let rows =
            sqlx::query("SELECT seq, hash, at, key_id, public_key, signature FROM audit_checkpoints ORDER BY id")
                .fetch_all(&self.pool)
                .await?;
        rows.iter()
            .map(|row| {
                let at: String = row.try_get("at")?;
                Ok(Checkpoint {
                    format: super::CHECKPOINT_FORMAT.to_owned(),
                    seq: row.try_get("seq")?,
                    hash: row.try_get("hash")?,
                    at: DateTime::parse_from_rfc3339(&at)
                        .map(|t| t.with_timezone(&Utc))
                        .map_err(|_| VaultError::Corrupt(format!("checkpoint time {at:?}")))?,
                    key_id: row.try_get("key_id")?,
                    public_key: row.try_get("public_key")?,
                    signature: row.try_get("signature")?,
                })
            })
            .collect()
    }

    /// Checks the whole chain, every stored checkpoint's signature, and that the log
    /// still passes through `kept` (a checkpoint kept elsewhere). The trusted key is the
    /// key directory's signing key, else the kept checkpoint's.
    pub async fn verify(&self, kept: Option<&Checkpoint>) -> Result<VerifyReport, VaultError> {
        let own_key = self.signing_key()?.map(|k| k.public_key_hex());
        let trusted = own_key.clone().or_else(|| kept.map(|k| k.public_key.clone()));
        let stored = self.checkpoints().await?;
        let mut faults = Vec::new();
        let mut anchors = Vec::new();
        let labelled = kept.map(|k| (k, "the kept checkpoint".to_owned())).into_iter().chain(
            stored
                .iter()
                .map(|c| (c, format!("the stored checkpoint of event {}", c.seq))),
        );
        for (checkpoint, source) in labelled {
            let fault = |problem| AuditFault {
                seq: checkpoint.seq,
                problem,
            };
            match (checkpoint.signature_valid(), checkpoint.hash_bytes()) {
                (true, Some(hash)) if trusted.as_ref().is_none_or(|t| *t == checkpoint.public_key) => {
                    anchors.push(Anchor {
                        seq: checkpoint.seq,
                        hash,
                        source,
                    })
                }
                (true, Some(_)) => faults.push(fault(Problem::UnknownKey {
                    source,
                    key_id: checkpoint.key_id.clone(),
                })),
                _ => faults.push(fault(Problem::BadSignature { source })),
            }
        }

        let mut verifier = ChainVerifier::new(anchors);
        let mut conn = self.reader().await?;
        let chain_fault = verify_chain(&mut conn, &mut verifier).await?;
        conn.close().await?;
        let (events, head_hash) = match chain_fault {
            Some(fault) => {
                let verified = fault.seq - 1;
                faults.push(fault);
                (verified, String::new())
            }
            None => match verifier.finish() {
                Ok(head) => (head.seq, head.hash),
                Err(fault) => {
                    let verified = fault.seq - 1;
                    faults.push(fault);
                    (verified, String::new())
                }
            },
        };
        Ok(VerifyReport {
            events,
            head_hash,
            checkpoints: stored.len(),
            kept: kept.map(|k| k.seq),
            key_id: trusted.and_then(|k| hex::decode(k).ok()).map(|k| super::key_id(&k)),
            fault: faults.into_iter().min_by_key(|f| f.seq),
        })
    }

    /// Calls `each` with every event whose time is within `[from, to]`, in order, reading
    /// the log as a stream.
    pub async fn for_each_event<E: From<VaultError>>(
        &self,
        from: Option<DateTime<Utc>>,
        to: Option<DateTime<Utc>>,
        mut each: impl FnMut(StoredAuditEvent) -> Result<(), E>,
    ) -> Result<(), E> {
        let (from, to) = (from.map(ts), to.map(ts));
        let mut conn = self.reader().await?;
        let mut rows = sqlx::query("SELECT seq, record, hash FROM audit_log ORDER BY seq").fetch(&mut conn);
        while let Some(row) = rows.try_next().await.map_err(VaultError::from)? {
            let (seq, record, hash) = columns(&row)?;
            let view = RecordView::parse(record)
                .map_err(|e| VaultError::Corrupt(format!("audit event {seq} cannot be read: {e}")))?;
            if from.as_deref().is_some_and(|f| view.at < f) || to.as_deref().is_some_and(|t| view.at > t) {
                continue;
            }
            each(stored_event(seq, &view, hash)?)?;
        }
        drop(rows);
        conn.close().await.map_err(VaultError::from)?;
        Ok(())
    }

    /// Every event, in order.
    pub async fn events(&self) -> Result<Vec<StoredAuditEvent>, VaultError> {
        let mut all = Vec::new();
        self.for_each_event(None, None, |e| {
            all.push(e);
            Ok::<(), VaultError>(())
        })
        .await?;
        Ok(all)
    }

    /// Denied attempts and alerts per user in `[from, to]` (ARLO-SECURITY).
    pub async fn denial_report(
        &self,
        from: Option<DateTime<Utc>>,
        to: Option<DateTime<Utc>>,
    ) -> Result<DenialReport, VaultError> {
        let mut selected = Vec::new();
        let (from_text, to_text) = (from.map(ts), to.map(ts));
        let mut conn = self.reader().await?;
        let mut rows = sqlx::query("SELECT seq, record, hash FROM audit_log ORDER BY seq").fetch(&mut conn);
        while let Some(row) = rows.try_next().await? {
            let (seq, record, hash) = columns(&row)?;
            let view = RecordView::parse(record)
                .map_err(|e| VaultError::Corrupt(format!("audit event {seq} cannot be read: {e}")))?;
            let in_period =
                from_text.as_deref().is_none_or(|f| view.at >= f) && to_text.as_deref().is_none_or(|t| view.at <= t);
            if in_period && (view.outcome == "denied" || view.action == ALERT_ACTION) {
                selected.push((seq, stored_event(seq, &view, hash)?.event));
            }
        }
        drop(rows);
        conn.close().await?;
        Ok(governance::denial_report(from, to, selected))
    }

    async fn reader(&self) -> Result<sqlx::SqliteConnection, VaultError> {
        Ok(self.options.clone().row_buffer_size(ROW_BUFFER).connect().await?)
    }
}

/// The events after `?` in one text: `length:record` followed by the 32-byte hash, per
/// event. One value per 16,384 events instead of one sqlx row each (whose hand-over
/// between sqlx's worker thread and the reader costs more than the hashing).
const CHUNK_QUERY: &str = "SELECT max(seq), count(*), group_concat(length(record) || ':' || record || hash, '') \
     FROM (SELECT seq, record, hash FROM audit_log WHERE seq > ? ORDER BY seq LIMIT 16384)";

/// Feeds every stored event to `verifier`, in one read transaction. Fast path: chunks
/// (`CHUNK_QUERY`), the next read while the last is hashed. At the first thing a chunk does not show plainly (a fault, an odd
/// value, an unexpected order), the chunk is read again row by row from where it began,
/// and that authoritative pass names the fault, if there is one.
async fn verify_chain(
    conn: &mut sqlx::SqliteConnection,
    verifier: &mut ChainVerifier,
) -> Result<Option<AuditFault>, VaultError> {
    let mut tx = conn.begin().await?;
    let mut verified = 0i64;
    let mut current = sqlx::query(CHUNK_QUERY).bind(verified).fetch_one(&mut *tx).await?;
    while let Some(last) = current.try_get::<Option<i64>, _>(0)? {
        let count: i64 = current.try_get(1)?;
        let saved = verifier.clone();
        // The next chunk is read by sqlx's worker thread while this one is hashed here.
        let (next, end) = {
            let text: &[u8] = current.try_get_unchecked(2).unwrap_or_default();
            let next = sqlx::query(CHUNK_QUERY).bind(last).fetch_one(&mut *tx);
            tokio::join!(next, async { verify_chunk(verifier, text, verified) })
        };
        match end {
            // Every row of the chunk seen, numbered without gaps.
            Some(end) if end == last && end - verified == count => {
                verified = end;
                current = next?;
            }
            _ => {
                *verifier = saved;
                let mut rows = sqlx::query("SELECT seq, record, hash FROM audit_log WHERE seq > ? ORDER BY seq")
                    .bind(verified)
                    .fetch(&mut *tx);
                while let Some(row) = rows.try_next().await? {
                    let (seq, record, hash) = columns(&row)?;
                    if let Err(fault) = verifier.push(seq, record, hash) {
                        return Ok(Some(fault));
                    }
                }
                return Ok(None);
            }
        }
    }
    tx.commit().await?;
    Ok(None)
}

/// Verifies one chunk; the last event's seq, or `None` at anything unexpected.
fn verify_chunk(verifier: &mut ChainVerifier, mut text: &[u8], mut previous: i64) -> Option<i64> {
    fn number(text: &mut &[u8]) -> Option<usize> {
        let digits = text.iter().position(|b| *b == b':')?;
        let value = std::str::from_utf8(&text[..digits]).ok()?.parse().ok()?;
        *text = &text[digits + 1..];
        Some(value)
    }
    while !text.is_empty() {
        let seq = previous + 1;
        let length = number(&mut text)?;
        let record = text.get(..length)?;
        let hash = text.get(length..length + 32)?;
        text = &text[length + 32..];
        if verifier.push(seq, record, hash).is_err() {
            return None;
        }
        previous = seq;
    }
    Some(previous)
}

fn columns(row: &SqliteRow) -> Result<(i64, &[u8], &[u8]), VaultError> {
    // Unchecked: a value of the wrong type is read as bytes and fails verification,
    // naming its event, rather than failing the query.
    let seq: i64 = row.try_get_unchecked(0)?;
    let record: &[u8] = row.try_get_unchecked(1).unwrap_or_default();
    let hash: &[u8] = row.try_get_unchecked(2).unwrap_or_default();
    Ok((seq, record, hash))
}

fn stored_event(seq: i64, view: &RecordView<'_>, hash: &[u8]) -> Result<StoredAuditEvent, VaultError> {
    Ok(StoredAuditEvent {
        seq,
        event: view
            .to_event()
            .map_err(|e| VaultError::Corrupt(format!("audit event {seq} cannot be read: {e}")))?,
        prev_hash: view.prev_hash.to_owned(),
        hash: hex::encode(hash),
    })
}
