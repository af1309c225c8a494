//! The wire types: ingest metadata (`META.json`, HTTP form part) and the JSON shapes
//! of listings. The only types here that derive serde for the outside world.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::error::ServiceError;

/// `META.json`: what an importer states about a recorded call.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct IngestMeta {
    /// `inbound`, `outbound` or `unknown`.
    pub direction: String,
    /// When the call was answered (RFC 3339); retention counts from here.
    pub started_at: DateTime<Utc>,
    #[serde(default)]
    pub ended_at: Option<DateTime<Utc>>,
    /// The customer's number, E.164 or national form; absent when withheld.
    #[serde(default)]
    pub customer_number: Option<String>,
    #[serde(default)]
    pub service_number: Option<String>,
    /// The agent's name or address.
    #[serde(default)]
    pub agent: Option<String>,
    pub purposes: Vec<String>,
    #[serde(default)]
    pub consent: Option<ConsentMeta>,
    #[serde(default)]
    pub participants: Vec<ParticipantMeta>,
    /// The caller ID was withheld on an outbound call (WEBEO-OUTBOUND).
    #[serde(default)]
    pub withheld_caller_id: bool,
    /// Where a transferred call came from (CSI-SCOPE).
    #[serde(default)]
    pub transferred_from: Option<String>,
}

/// Consent evidence from the recording client or importer.
#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ConsentMeta {
    /// The recording notice was played (TO-NOTICE).
    #[serde(default)]
    pub notice_played: bool,
    /// A consent answer: `true` granted, `false` declined.
    #[serde(default)]
    pub granted: Option<bool>,
    /// The DTMF digit pressed.
    #[serde(default)]
    pub digit: Option<String>,
    #[serde(default)]
    pub at: Option<DateTime<Utc>>,
}

/// A party on the call and the audio channel that carries their voice.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ParticipantMeta {
    /// `customer` or `agent` (or another role name).
    pub role: String,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub number: Option<String>,
    /// Zero-based WAV channel.
    #[serde(default)]
    pub channel: Option<u16>,
}

impl IngestMeta {
    /// Parses `META.json` text. Errors name line, column and field but never echo a
    /// value (it may be a phone number).
    pub fn from_json(text: &[u8]) -> Result<Self, ServiceError> {
        let mut deserializer = serde_json::Deserializer::from_slice(text);
        serde_path_to_error::deserialize(&mut deserializer).map_err(|err| {
            let path = err.path().to_string();
            let inner = err.into_inner();
            let what = match inner.classify() {
                serde_json::error::Category::Syntax => "malformed JSON".to_owned(),
                serde_json::error::Category::Eof => "unexpected end of JSON".to_owned(),
                serde_json::error::Category::Io => "could not be read".to_owned(),
                serde_json::error::Category::Data => describe_data_error(&inner.to_string()),
            };
            ServiceError::bad_input(
                "meta-invalid",
                format!(
                    "metadata: line {} column {}: field {}: {what}",
                    inner.line(),
                    inner.column(),
                    path
                ),
            )
        })
    }
}

/// A serde data error without the offending value.
fn describe_data_error(message: &str) -> String {
    for known in [
        "missing field",
        "unknown field",
        "invalid type",
        "invalid value",
        "premature end",
        "input contains invalid characters",
    ] {
        if message.starts_with(known) {
            // Keep the field name after "missing/unknown field", drop any quoted value.
            if known.ends_with("field") {
                return message
                    .split(", expected")
                    .next()
                    .unwrap_or(known)
                    .split(" at line")
                    .next()
                    .unwrap_or(known)
                    .to_owned();
            }
            let expected = message
                .split(", expected ")
                .nth(1)
                .and_then(|e| e.split(" at line").next());
            return match expected {
                Some(e) => format!("{known}, expected {e}"),
                None => known.to_owned(),
            };
        }
    }
    "invalid value".to_owned()
}

/// One stream in a listing.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, utoipa::ToSchema)]
pub struct StreamSummary {
    pub label: String,
    pub participant: Option<String>,
    pub codec: String,
    pub sample_rate: i64,
    pub packets_lost: i64,
    pub seal: String,
}

/// A recording as `recordings list --json` and the API show it.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, utoipa::ToSchema)]
pub struct RecordingSummary {
    pub id: String,
    pub tenant: String,
    pub policy_version: i64,
    pub state: String,
    pub direction: String,
    pub started_at: DateTime<Utc>,
    pub ended_at: Option<DateTime<Utc>>,
    pub duration_ms: Option<i64>,
    /// As the policy allows it to be shown (masked under Posti's policy).
    pub customer_number: Option<String>,
    pub service_number: Option<String>,
    pub agent: Option<String>,
    pub purposes: Vec<String>,
    pub legal_basis: String,
    #[schema(value_type = Object)]
    pub consent: serde_json::Value,
    pub retain_until: DateTime<Utc>,
    pub notes: Vec<String>,
    pub streams: Vec<StreamSummary>,
}

/// A participant in `recordings show`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, utoipa::ToSchema)]
pub struct ParticipantSummary {
    pub role: String,
    pub name: Option<String>,
    pub number: Option<String>,
}

/// `recordings show --json`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, utoipa::ToSchema)]
pub struct RecordingDetail {
    #[serde(flatten)]
    pub summary: RecordingSummary,
    pub participants: Vec<ParticipantSummary>,
    pub policy_id: String,
    pub policy_document_version: String,
}

/// The answer to an ingest.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, utoipa::ToSchema)]
pub struct IngestResult {
    pub id: String,
    pub tenant: String,
    pub policy_version: i64,
    pub retain_until: DateTime<Utc>,
}

/// One word of a transcript (milliseconds from the start of the recording).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, utoipa::ToSchema)]
pub struct TranscriptWord {
    pub start_ms: u64,
    pub end_ms: u64,
    pub text: String,
    /// The stream (label) it was heard on, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stream: Option<String>,
    /// The speaker label the engine gave, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub speaker: Option<String>,
}

/// A transcript: its words in time order.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, utoipa::ToSchema)]
pub struct TranscriptView {
    pub words: Vec<TranscriptWord>,
}

impl From<&redact::Transcript> for TranscriptView {
    fn from(t: &redact::Transcript) -> Self {
        TranscriptView {
            words: t
                .words
                .iter()
                .map(|w| TranscriptWord {
                    start_ms: w.start_ms,
                    end_ms: w.end_ms,
                    text: w.text.clone(),
                    stream: w.stream.clone(),
                    speaker: w.speaker.clone(),
                })
                .collect(),
        }
    }
}

/// The answer to a transcript import.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, utoipa::ToSchema)]
pub struct TranscriptImported {
    pub recording: String,
    /// `vtt`, `whisper` or `aws`.
    pub format: String,
    /// The stream imported, or none for the whole recording.
    pub stream: Option<String>,
    /// Words in the recording's transcript after the import.
    pub words: usize,
}

/// One PII finding: where, what kind, and evidence that never holds the value.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, utoipa::ToSchema)]
pub struct FindingView {
    /// `name`, `known-number`, `phone-number`, `card-number`, `digit-run`, `email`,
    /// `postcode`, `dtmf` or `word-list`.
    pub kind: String,
    pub start_ms: u64,
    pub end_ms: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stream: Option<String>,
    /// Shape and keyed hash, e.g. `16 digits, Luhn valid, hmac:1f2e…`.
    pub evidence: String,
}

impl From<&redact::Finding> for FindingView {
    fn from(f: &redact::Finding) -> Self {
        FindingView {
            kind: f.kind.as_str().to_owned(),
            start_ms: f.start_ms,
            end_ms: f.end_ms,
            stream: f.stream.clone(),
            evidence: f.evidence.clone(),
        }
    }
}

/// One removed span of a derivative with its index (what a reviewer removes by).
#[derive(Debug, Clone, Serialize, PartialEq, utoipa::ToSchema)]
pub struct DerivativeSpan {
    pub index: usize,
    #[serde(flatten)]
    pub span: crate::redaction::RemovedSpan,
}
