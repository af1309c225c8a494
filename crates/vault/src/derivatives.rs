//! Transcripts and derived artifacts (redacted training copies, FAQ clips).
//!
//! A transcript is one encrypted object under its recording's data key: destroying
//! that key (erasure, retention) makes it unreadable, and the erasure path deletes it.
//! A derivative has its own data key, wrapped by the KEK of its source's retention day,
//! so a retention day destroys both at once; an approver may declare a derivative
//! anonymous, which moves its key under [`anonymous_kek_day`], a day no sweep reaches.
//! The vault stores and returns; what may be read, and by whom, is decided above it.

use chrono::{DateTime, NaiveDate, Utc};
use object_store::path::Path as ObjectPath;
use uuid::Uuid;

use crate::Vault;
use crate::catalog::{parse_ts, ts};
use crate::crypto::{
    ChunkSealer, SecretKey, StreamBinding, open_with_random_nonce, seal_with_random_nonce, stream_header,
};
use crate::error::VaultError;
use crate::reader::{StreamTrailer, open_object};
use crate::records::{RecordingEntry, StreamSeal};

/// The retention "day" of anonymous derivatives' keys, 9999-12-31: never reached by a
/// sweep (KEK days compare as text, so it must keep the `YYYY-MM-DD` form).
pub fn anonymous_kek_day() -> NaiveDate {
    NaiveDate::from_ymd_opt(9999, 12, 31).expect("a valid date")
}

/// Plaintext per chunk of a derivative's audio.
const DERIVATIVE_CHUNK_BYTES: usize = 64 * 1024;

/// Where a recording's transcript is.
#[derive(Debug, Clone, PartialEq)]
pub struct TranscriptRecord {
    pub recording_id: Uuid,
    pub tenant: String,
    pub object_path: String,
    pub words: i64,
    /// Stream labels with words, and the format each came from.
    pub streams: serde_json::Value,
    pub updated_at: DateTime<Utc>,
    pub updated_by: String,
}

/// Which kind of derivative.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DerivativeKind {
    /// Identifiers removed from audio and metadata; pseudonymous participants (ARLO-PSEUDO).
    Training,
    /// A time range with all PII removed, for publication once approved (CSI-FAQ).
    FaqClip,
}

impl DerivativeKind {
    pub fn as_str(self) -> &'static str {
        match self {
            DerivativeKind::Training => "training",
            DerivativeKind::FaqClip => "faq-clip",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "training" => Some(DerivativeKind::Training),
            "faq-clip" => Some(DerivativeKind::FaqClip),
            _ => None,
        }
    }
}

/// A derivative's lineage, review state and where its content is.
#[derive(Debug, Clone, PartialEq)]
pub struct DerivativeRecord {
    pub id: Uuid,
    pub source_id: Uuid,
    pub tenant: String,
    pub policy_version: i64,
    pub kind: DerivativeKind,
    pub purpose: String,
    /// `draft` (spans may still change) or `approved`.
    pub approved: bool,
    pub anonymous: bool,
    pub from_ms: i64,
    pub to_ms: i64,
    pub sample_rate: i64,
    pub padding_ms: i64,
    pub fill: String,
    /// `[{idx, label, role, pseudonym, object_path, samples, sha256}]`
    pub streams: serde_json::Value,
    /// The spans removed: kind, times, origin, hashed evidence.
    pub spans: serde_json::Value,
    /// The derivative's own metadata, identifiers removed.
    pub metadata: serde_json::Value,
    pub transcript_path: Option<String>,
    pub created_at: DateTime<Utc>,
    pub created_by: String,
    pub approved_at: Option<DateTime<Utc>>,
    pub approved_by: Option<String>,
    pub source_erased_at: Option<DateTime<Utc>>,
}

/// What the content of a derivative is: PCM16 per stream and the redacted transcript.
#[derive(Debug, Clone, Default)]
pub struct DerivativeContent {
    /// `(stream index, PCM16 little-endian samples)`
    pub streams: Vec<(i64, Vec<u8>)>,
    pub transcript: Option<Vec<u8>>,
}

/// What erasing a source did to what was derived from it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct DerivedErasure {
    pub transcripts: u64,
    pub derivatives_deleted: Vec<Uuid>,
    pub anonymous_kept: Vec<Uuid>,
}

/// Object path of a recording's transcript.
pub fn transcript_path(tenant: &str, recording: Uuid) -> String {
    format!("{tenant}/{recording}/transcript.cvt")
}

/// Object path of one stream of a derivative.
pub fn derivative_object_path(tenant: &str, id: Uuid, stream: i64) -> String {
    format!("{tenant}/derivatives/{id}/{stream}.cvs")
}

fn derivative_transcript_path(tenant: &str, id: Uuid) -> String {
    format!("{tenant}/derivatives/{id}/transcript.cvt")
}

fn transcript_aad(owner: Uuid) -> Vec<u8> {
    format!("callvault transcript v1:{owner}").into_bytes()
}

const DERIVATIVE_COLUMNS: &str = "id, source_id, tenant, policy_version, kind, purpose, state, anonymous, from_ms, to_ms, \
     sample_rate, padding_ms, fill, streams, spans, metadata, transcript_path, created_at, created_by, approved_at, \
     approved_by, source_erased_at";

fn uuid(text: &str) -> Result<Uuid, VaultError> {
    text.parse().map_err(|_| VaultError::Corrupt(format!("id {text}")))
}

fn json(text: &str) -> Result<serde_json::Value, VaultError> {
    serde_json::from_str(text).map_err(|_| VaultError::Corrupt("derivative JSON column".into()))
}

fn derivative_from_row(row: &sqlx::sqlite::SqliteRow) -> Result<DerivativeRecord, VaultError> {
    use sqlx::Row;
    let text = |name: &str| -> Result<String, VaultError> { Ok(row.try_get::<String, _>(name)?) };
    let optional = |name: &str| -> Result<Option<String>, VaultError> { Ok(row.try_get::<Option<String>, _>(name)?) };
    let number = |name: &str| -> Result<i64, VaultError> { Ok(row.try_get::<i64, _>(name)?) };
    let kind = text("kind")?;
    Ok(DerivativeRecord {
        id: uuid(&text("id")?)?,
        source_id: uuid(&text("source_id")?)?,
        tenant: text("tenant")?,
        policy_version: number("policy_version")?,
        kind: DerivativeKind::parse(&kind).ok_or_else(|| VaultError::Corrupt(format!("derivative kind {kind}")))?,
        purpose: text("purpose")?,
        approved: text("state")? == "approved",
        anonymous: number("anonymous")? != 0,
        from_ms: number("from_ms")?,
        to_ms: number("to_ms")?,
        sample_rate: number("sample_rate")?,
        padding_ms: number("padding_ms")?,
        fill: text("fill")?,
        streams: json(&text("streams")?)?,
        spans: json(&text("spans")?)?,
        metadata: json(&text("metadata")?)?,
        transcript_path: optional("transcript_path")?,
        created_at: parse_ts(&text("created_at")?)?,
        created_by: text("created_by")?,
        approved_at: optional("approved_at")?.as_deref().map(parse_ts).transpose()?,
        approved_by: optional("approved_by")?,
        source_erased_at: optional("source_erased_at")?.as_deref().map(parse_ts).transpose()?,
    })
}

/// Encrypts PCM bytes as a stream object (header, chunks, authenticated trailer), the
/// layout `open_object` reads back.
fn seal_stream(key: &SecretKey, binding: StreamBinding, audio: &[u8]) -> Vec<u8> {
    let sealer = ChunkSealer::new(key, binding);
    let mut object = stream_header(binding);
    let mut digest = blake3::Hasher::new();
    let mut chunks = 0u64;
    for chunk in audio.chunks(DERIVATIVE_CHUNK_BYTES) {
        sealer.seal(chunks, false, chunk, &mut object);
        digest.update(chunk);
        chunks += 1;
    }
    let trailer = StreamTrailer {
        seal: StreamSeal::Sealed.as_str().into(),
        chunks,
        audio_bytes: audio.len() as u64,
        blake3: digest.finalize().to_hex().to_string(),
        cut: None,
    };
    sealer.seal(chunks, true, &trailer.to_bytes(), &mut object);
    object
}

impl Vault {
    /// Stores (or replaces) a recording's transcript, encrypted under its data key.
    pub async fn put_transcript(
        &self,
        entry: &RecordingEntry,
        plaintext: &[u8],
        words: i64,
        streams: serde_json::Value,
        by: &str,
        now: DateTime<Utc>,
    ) -> Result<TranscriptRecord, VaultError> {
        let id = entry.recording.id;
        let key = self.keystore().data_key(id).await?;
        let path = transcript_path(&entry.recording.tenant, id);
        let sealed = seal_with_random_nonce(&key, plaintext, &transcript_aad(id));
        let object = ObjectPath::from(path.as_str());
        self.objects().put(&object, sealed.into()).await?;
        self.make_durable(&object).await?;
        let record = TranscriptRecord {
            recording_id: id,
            tenant: entry.recording.tenant.clone(),
            object_path: path,
            words,
            streams,
            updated_at: now,
            updated_by: by.to_owned(),
        };
        sqlx::query(
            "INSERT INTO transcripts (recording_id, tenant, object_path, words, streams, updated_at, updated_by)
             VALUES (?, ?, ?, ?, ?, ?, ?)
             ON CONFLICT (recording_id) DO UPDATE SET object_path = excluded.object_path, words = excluded.words,
               streams = excluded.streams, updated_at = excluded.updated_at, updated_by = excluded.updated_by",
        )
        .bind(id.to_string())
        .bind(&record.tenant)
        .bind(&record.object_path)
        .bind(words)
        .bind(record.streams.to_string())
        .bind(ts(now))
        .bind(by)
        .execute(self.catalog().pool())
        .await?;
        Ok(record)
    }

    /// Where a recording's transcript is, if it has one.
    pub async fn transcript_record(&self, recording: Uuid) -> Result<Option<TranscriptRecord>, VaultError> {
        let row: Option<(String, String, i64, String, String, String)> = sqlx::query_as(
            "SELECT tenant, object_path, words, streams, updated_at, updated_by FROM transcripts WHERE recording_id = ?",
        )
        .bind(recording.to_string())
        .fetch_optional(self.catalog().pool())
        .await?;
        row.map(|(tenant, object_path, words, streams, updated_at, updated_by)| {
            Ok(TranscriptRecord {
                recording_id: recording,
                tenant,
                object_path,
                words,
                streams: json(&streams)?,
                updated_at: parse_ts(&updated_at)?,
                updated_by,
            })
        })
        .transpose()
    }

    /// Decrypts a recording's transcript. Requires a permit for that recording.
    pub async fn read_transcript(
        &self,
        permit: &governance::ReadPermit,
        entry: &RecordingEntry,
    ) -> Result<Option<Vec<u8>>, VaultError> {
        let id = entry.recording.id;
        if permit.recording_id() != id {
            return Err(VaultError::Conflict("the read permit is for another recording".into()));
        }
        let Some(record) = self.transcript_record(id).await? else {
            return Ok(None);
        };
        let key = self.keystore().data_key(id).await?;
        let sealed = self.get_object(&record.object_path).await?;
        Ok(Some(open_with_random_nonce(&key, &sealed, &transcript_aad(id))?))
    }

    /// Stores a derivative: a fresh data key (any earlier one destroyed first, so no
    /// nonce is ever used twice under a key) wrapped by `retention_day`'s KEK, the
    /// encrypted streams and transcript, then the row.
    pub async fn put_derivative(
        &self,
        record: &DerivativeRecord,
        retention_day: NaiveDate,
        content: &DerivativeContent,
    ) -> Result<(), VaultError> {
        let id = record.id;
        self.keystore().destroy_data_key(id).await?;
        let key = SecretKey::random();
        self.keystore().store_data_key(id, retention_day, &key).await?;
        for (idx, audio) in &content.streams {
            let binding = StreamBinding {
                recording_id: id,
                stream_index: u32::try_from(*idx).map_err(|_| VaultError::Corrupt(format!("stream index {idx}")))?,
            };
            let path = ObjectPath::from(derivative_object_path(&record.tenant, id, *idx));
            self.objects()
                .put(&path, seal_stream(&key, binding, audio).into())
                .await?;
            self.make_durable(&path).await?;
        }
        let transcript_path = match &content.transcript {
            Some(text) => {
                let path = derivative_transcript_path(&record.tenant, id);
                let object = ObjectPath::from(path.as_str());
                self.objects()
                    .put(&object, seal_with_random_nonce(&key, text, &transcript_aad(id)).into())
                    .await?;
                self.make_durable(&object).await?;
                Some(path)
            }
            None => None,
        };
        sqlx::query(&format!(
            "INSERT OR REPLACE INTO derivatives ({DERIVATIVE_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
        ))
        .bind(id.to_string())
        .bind(record.source_id.to_string())
        .bind(&record.tenant)
        .bind(record.policy_version)
        .bind(record.kind.as_str())
        .bind(&record.purpose)
        .bind(if record.approved { "approved" } else { "draft" })
        .bind(i64::from(record.anonymous))
        .bind(record.from_ms)
        .bind(record.to_ms)
        .bind(record.sample_rate)
        .bind(record.padding_ms)
        .bind(&record.fill)
        .bind(record.streams.to_string())
        .bind(record.spans.to_string())
        .bind(record.metadata.to_string())
        .bind(transcript_path)
        .bind(ts(record.created_at))
        .bind(&record.created_by)
        .bind(record.approved_at.map(ts))
        .bind(&record.approved_by)
        .bind(record.source_erased_at.map(ts))
        .execute(self.catalog().pool())
        .await?;
        Ok(())
    }

    /// One derivative.
    pub async fn derivative(&self, id: Uuid) -> Result<DerivativeRecord, VaultError> {
        let row = sqlx::query(&format!("SELECT {DERIVATIVE_COLUMNS} FROM derivatives WHERE id = ?"))
            .bind(id.to_string())
            .fetch_optional(self.catalog().pool())
            .await?;
        derivative_from_row(&row.ok_or_else(|| VaultError::NotFound(format!("derivative {id}")))?)
    }

    /// Derivatives of a tenant, or of one source, oldest first.
    pub async fn derivatives(
        &self,
        tenant: Option<&str>,
        source: Option<Uuid>,
    ) -> Result<Vec<DerivativeRecord>, VaultError> {
        let rows = sqlx::query(&format!(
            "SELECT {DERIVATIVE_COLUMNS} FROM derivatives
             WHERE (?1 IS NULL OR tenant = ?1) AND (?2 IS NULL OR source_id = ?2) ORDER BY created_at, id"
        ))
        .bind(tenant)
        .bind(source.map(|s| s.to_string()))
        .fetch_all(self.catalog().pool())
        .await?;
        rows.iter().map(derivative_from_row).collect()
    }

    /// Records an approval; an anonymous derivative's key moves under
    /// [`anonymous_kek_day`] first, so it outlives its source's retention day.
    pub async fn approve_derivative(
        &self,
        id: Uuid,
        by: &str,
        at: DateTime<Utc>,
        anonymous: bool,
    ) -> Result<(), VaultError> {
        if anonymous {
            self.keystore().rewrap_data_key(id, Some(anonymous_kek_day())).await?;
        }
        let done = sqlx::query(
            "UPDATE derivatives SET state = 'approved', approved_by = ?, approved_at = ?, anonymous = ?
             WHERE id = ? AND state = 'draft'",
        )
        .bind(by)
        .bind(ts(at))
        .bind(i64::from(anonymous))
        .bind(id.to_string())
        .execute(self.catalog().pool())
        .await?;
        if done.rows_affected() == 0 {
            return Err(VaultError::Conflict(format!("derivative {id} is not a draft")));
        }
        Ok(())
    }

    /// Decrypts one stream of a derivative (PCM16 LE). The permit names the derivative.
    pub async fn read_derivative_stream(
        &self,
        permit: &governance::ReadPermit,
        record: &DerivativeRecord,
        idx: i64,
    ) -> Result<Vec<u8>, VaultError> {
        if permit.recording_id() != record.id {
            return Err(VaultError::Conflict("the read permit is for another derivative".into()));
        }
        let key = self.keystore().data_key(record.id).await?;
        let object = self
            .get_object(&derivative_object_path(&record.tenant, record.id, idx))
            .await?;
        let binding = StreamBinding {
            recording_id: record.id,
            stream_index: u32::try_from(idx).map_err(|_| VaultError::Corrupt("stream index".into()))?,
        };
        Ok(open_object(&key, binding, &object)?.0)
    }

    /// Decrypts a derivative's redacted transcript.
    pub async fn read_derivative_transcript(
        &self,
        permit: &governance::ReadPermit,
        record: &DerivativeRecord,
    ) -> Result<Option<Vec<u8>>, VaultError> {
        if permit.recording_id() != record.id {
            return Err(VaultError::Conflict("the read permit is for another derivative".into()));
        }
        let Some(path) = &record.transcript_path else {
            return Ok(None);
        };
        let key = self.keystore().data_key(record.id).await?;
        let sealed = self.get_object(path).await?;
        Ok(Some(open_with_random_nonce(&key, &sealed, &transcript_aad(record.id))?))
    }

    /// Deletes one derivative: key (forced off disk), objects, row.
    pub async fn delete_derivative(&self, record: &DerivativeRecord) -> Result<(), VaultError> {
        self.keystore().destroy_data_key(record.id).await?;
        let streams = record.streams.as_array().map(Vec::as_slice).unwrap_or_default();
        for stream in streams {
            if let Some(idx) = stream.get("idx").and_then(serde_json::Value::as_i64) {
                self.delete_object(&derivative_object_path(&record.tenant, record.id, idx))
                    .await?;
            }
        }
        if let Some(path) = &record.transcript_path {
            self.delete_object(path).await?;
        }
        if let Some(root) = &self.local_root {
            let _ = std::fs::remove_dir(
                root.join(&record.tenant)
                    .join("derivatives")
                    .join(record.id.to_string()),
            );
        }
        sqlx::query("DELETE FROM derivatives WHERE id = ?")
            .bind(record.id.to_string())
            .execute(self.catalog().pool())
            .await?;
        Ok(())
    }

    /// The erasure hook: a source is being erased (by a person, a request or retention).
    /// Its transcript goes, its non-anonymous derivatives go (keys, objects, rows), and
    /// the anonymous ones are marked with the time their source was erased.
    pub async fn erase_derived(&self, sources: &[Uuid], now: DateTime<Utc>) -> Result<DerivedErasure, VaultError> {
        let mut done = DerivedErasure::default();
        for source in sources {
            if let Some(transcript) = self.transcript_record(*source).await? {
                self.delete_object(&transcript.object_path).await?;
                sqlx::query("DELETE FROM transcripts WHERE recording_id = ?")
                    .bind(source.to_string())
                    .execute(self.catalog().pool())
                    .await?;
                done.transcripts += 1;
            }
            for derivative in self.derivatives(None, Some(*source)).await? {
                if derivative.anonymous {
                    sqlx::query(
                        "UPDATE derivatives SET source_erased_at = ? WHERE id = ? AND source_erased_at IS NULL",
                    )
                    .bind(ts(now))
                    .bind(derivative.id.to_string())
                    .execute(self.catalog().pool())
                    .await?;
                    done.anonymous_kept.push(derivative.id);
                } else {
                    self.delete_derivative(&derivative).await?;
                    done.derivatives_deleted.push(derivative.id);
                }
            }
        }
        if !done.derivatives_deleted.is_empty() || done.transcripts > 0 {
            tracing::info!(
                transcripts = done.transcripts,
                derivatives = done.derivatives_deleted.len(),
                anonymous_kept = done.anonymous_kept.len(),
                "derived data of erased recordings deleted"
            );
        }
        Ok(done)
    }

    async fn get_object(&self, path: &str) -> Result<bytes::Bytes, VaultError> {
        Ok(self.objects().get(&ObjectPath::from(path)).await?.bytes().await?)
    }
}
