//! The canonical record of an audit event: the exact bytes the catalog stores and the
//! chain hashes. Twelve length-prefixed fields (`<byte length>:<bytes>`, or `-` for an
//! absent value) in a fixed order: format, seq, prev_hash, at, actor, action, outcome,
//! tenant, recording_id, purpose, reason, detail. Reading one needs no JSON parsing, so a
//! verifier streams and hashes records at memory speed.
//!
//! Format 2 hashes the record itself: `sha256(record)`. Format 1 is an event written
//! before records existed: its hash is `sha256(prev_hash || canonical JSON)`
//! ([`AuditEvent::canonical_bytes`]), rebuilt from the same fields.

use std::io::Write;

use chrono::{DateTime, Utc};
use sha2::{Digest, Sha256};

use super::{AuditEvent, Outcome};

/// The format new records are written in.
pub const RECORD_FORMAT: u8 = 2;

/// Why stored bytes are not a record.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RecordError {
    #[error("field {0} is cut short")]
    Truncated(&'static str),
    #[error("field {0} has a bad length prefix")]
    BadLength(&'static str),
    #[error("field {0} is not UTF-8")]
    NotUtf8(&'static str),
    #[error("field {0} is absent")]
    Absent(&'static str),
    #[error("bytes follow the last field")]
    Trailing,
    #[error("unknown record format {0:?}")]
    UnknownFormat(String),
    #[error("field {0} is not a valid value")]
    BadValue(&'static str),
}

/// Encodes `event` as the format-2 record at `seq`, following the event whose hash
/// (hex) is `prev_hash`.
pub fn encode_record(seq: i64, prev_hash: &str, event: &AuditEvent) -> Vec<u8> {
    let at = event.at.format("%Y-%m-%dT%H:%M:%S%.6fZ").to_string();
    let detail = event.detail.to_string();
    let mut out =
        Vec::with_capacity(160 + detail.len() + event.actor.len() + event.reason.as_ref().map_or(0, String::len));
    put(&mut out, Some("2"));
    put(&mut out, Some(&seq.to_string()));
    put(&mut out, Some(prev_hash));
    put(&mut out, Some(&at));
    put(&mut out, Some(&event.actor));
    put(&mut out, Some(&event.action));
    put(&mut out, Some(event.outcome.as_str()));
    put(&mut out, event.tenant.as_deref());
    put(&mut out, event.recording_id.as_deref());
    put(&mut out, event.purpose.as_deref());
    put(&mut out, event.reason.as_deref());
    put(&mut out, Some(&detail));
    out
}

/// The chain hash of a format-2 record: `sha256(record)`.
pub fn record_hash(record: &[u8]) -> [u8; 32] {
    Sha256::digest(record).into()
}

fn put(out: &mut Vec<u8>, field: Option<&str>) {
    match field {
        Some(text) => {
            write!(out, "{}:", text.len()).expect("writing to a Vec cannot fail");
            out.extend_from_slice(text.as_bytes());
        }
        None => out.push(b'-'),
    }
}

/// A record read in place: every field borrowed from the stored bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RecordView<'a> {
    raw: &'a [u8],
    pub format: u8,
    pub seq: i64,
    pub prev_hash: &'a str,
    pub at: &'a str,
    pub actor: &'a str,
    pub action: &'a str,
    pub outcome: &'a str,
    pub tenant: Option<&'a str>,
    pub recording_id: Option<&'a str>,
    pub purpose: Option<&'a str>,
    pub reason: Option<&'a str>,
    pub detail: &'a str,
}

impl<'a> RecordView<'a> {
    /// Reads the twelve fields; nothing may follow them.
    pub fn parse(raw: &'a [u8]) -> Result<Self, RecordError> {
        let mut cursor = Cursor { bytes: raw, pos: 0 };
        let format = match cursor.required("format")? {
            "1" => 1,
            "2" => 2,
            other => return Err(RecordError::UnknownFormat(other.chars().take(8).collect())),
        };
        let seq = cursor.required("seq")?;
        let seq = match seq.parse::<i64>() {
            Ok(n) if n >= 1 && !seq.starts_with(['0', '+']) => n,
            _ => return Err(RecordError::BadValue("seq")),
        };
        let view = RecordView {
            raw,
            format,
            seq,
            prev_hash: cursor.required("prev_hash")?,
            at: cursor.required("at")?,
            actor: cursor.required("actor")?,
            action: cursor.required("action")?,
            outcome: cursor.required("outcome")?,
            tenant: cursor.field("tenant")?,
            recording_id: cursor.field("recording_id")?,
            purpose: cursor.field("purpose")?,
            reason: cursor.field("reason")?,
            detail: cursor.required("detail")?,
        };
        if cursor.pos != raw.len() {
            return Err(RecordError::Trailing);
        }
        Ok(view)
    }

    /// The stored bytes.
    pub fn raw(&self) -> &'a [u8] {
        self.raw
    }

    /// The chain hash of this record.
    pub fn hash(&self) -> Result<[u8; 32], RecordError> {
        match self.format {
            1 => {
                let mut hasher = Sha256::new();
                hasher.update(self.prev_hash.as_bytes());
                hasher.update(self.to_event()?.canonical_bytes());
                Ok(hasher.finalize().into())
            }
            _ => Ok(record_hash(self.raw)),
        }
    }

    pub fn outcome(&self) -> Option<Outcome> {
        Outcome::parse(self.outcome)
    }

    pub fn time(&self) -> Result<DateTime<Utc>, RecordError> {
        DateTime::parse_from_rfc3339(self.at)
            .map(|t| t.with_timezone(&Utc))
            .map_err(|_| RecordError::BadValue("at"))
    }

    /// The event the record holds.
    pub fn to_event(&self) -> Result<AuditEvent, RecordError> {
        Ok(AuditEvent {
            at: self.time()?,
            actor: self.actor.to_owned(),
            action: self.action.to_owned(),
            outcome: self.outcome().ok_or(RecordError::BadValue("outcome"))?,
            tenant: self.tenant.map(str::to_owned),
            recording_id: self.recording_id.map(str::to_owned),
            purpose: self.purpose.map(str::to_owned),
            reason: self.reason.map(str::to_owned),
            detail: serde_json::from_str(self.detail).map_err(|_| RecordError::BadValue("detail"))?,
        })
    }
}

struct Cursor<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl<'a> Cursor<'a> {
    fn required(&mut self, name: &'static str) -> Result<&'a str, RecordError> {
        self.field(name)?.ok_or(RecordError::Absent(name))
    }

    fn field(&mut self, name: &'static str) -> Result<Option<&'a str>, RecordError> {
        let rest = self.bytes.get(self.pos..).unwrap_or_default();
        if rest.first() == Some(&b'-') {
            self.pos += 1;
            return Ok(None);
        }
        let digits = rest.iter().take_while(|b| b.is_ascii_digit()).count();
        if digits == 0 || digits > 10 || rest.get(digits) != Some(&b':') || (digits > 1 && rest[0] == b'0') {
            return Err(if rest.is_empty() {
                RecordError::Truncated(name)
            } else {
                RecordError::BadLength(name)
            });
        }
        let len: usize = std::str::from_utf8(&rest[..digits])
            .ok()
            .and_then(|d| d.parse().ok())
            .ok_or(RecordError::BadLength(name))?;
        let start = digits + 1;
        let value = rest.get(start..start + len).ok_or(RecordError::Truncated(name))?;
        self.pos += start + len;
        std::str::from_utf8(value)
            .map(Some)
            .map_err(|_| RecordError::NotUtf8(name))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audit::{GENESIS_HASH, chain_hash};

    fn event() -> AuditEvent {
        AuditEvent::new(
            "2026-11-23T10:00:00.123456Z".parse().unwrap(),
            "alice",
            "recording.export",
            Outcome::Allowed,
        )
        .tenant("posti")
        .purpose("quality", "QA review: line 1\nline 2 with 7:colons-")
        .detail(serde_json::json!({"format": "wav", "streams": 2}))
    }

    #[test]
    fn a_record_reads_back_as_the_event_it_encodes() {
        let record = encode_record(7, GENESIS_HASH, &event());
        let view = RecordView::parse(&record).unwrap();
        assert_eq!((view.format, view.seq, view.prev_hash), (2, 7, GENESIS_HASH));
        assert_eq!(view.recording_id, None);
        assert_eq!(view.to_event().unwrap(), event());
        assert_eq!(view.hash().unwrap(), <[u8; 32]>::from(Sha256::digest(&record)));
    }

    #[test]
    fn absent_and_empty_fields_differ() {
        let mut with_empty = event();
        with_empty.recording_id = Some(String::new());
        let a = encode_record(1, GENESIS_HASH, &event());
        let b = encode_record(1, GENESIS_HASH, &with_empty);
        assert_ne!(a, b);
        assert_eq!(RecordView::parse(&b).unwrap().recording_id, Some(""));
    }

    #[test]
    fn damaged_records_are_refused_with_the_field() {
        let record = encode_record(3, GENESIS_HASH, &event());
        let cases: Vec<(Vec<u8>, RecordError)> = vec![
            (record[..record.len() - 1].to_vec(), RecordError::Truncated("detail")),
            ([record.as_slice(), b"x"].concat(), RecordError::Trailing),
            (
                record.replacen_first(b"1:2", b"1:9"),
                RecordError::UnknownFormat("9".into()),
            ),
            (record.replacen_first(b"1:3", b"1:0"), RecordError::BadValue("seq")),
            (record.replacen_first(b"1:3", b"x:3"), RecordError::BadLength("seq")),
            (b"1:2".to_vec(), RecordError::Truncated("seq")),
            (record.replacen_first(b"5:alice", b"-"), RecordError::Absent("actor")),
        ];
        for (bytes, expected) in cases {
            assert_eq!(
                RecordView::parse(&bytes),
                Err(expected),
                "{}",
                String::from_utf8_lossy(&bytes)
            );
        }
    }

    #[test]
    fn a_format_1_record_hashes_like_the_chain_before_records() {
        let prev = chain_hash(GENESIS_HASH, &event());
        let e = event();
        let mut record = encode_record(2, &prev, &e);
        record[2] = b'1';
        let view = RecordView::parse(&record).unwrap();
        assert_eq!(hex::encode(view.hash().unwrap()), chain_hash(&prev, &e));
    }

    trait ReplaceFirst {
        fn replacen_first(&self, from: &[u8], to: &[u8]) -> Vec<u8>;
    }

    impl ReplaceFirst for Vec<u8> {
        fn replacen_first(&self, from: &[u8], to: &[u8]) -> Vec<u8> {
            let at = self.windows(from.len()).position(|w| w == from).expect("present");
            [&self[..at], to, &self[at + from.len()..]].concat()
        }
    }
}
