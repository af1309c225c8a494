//! Rows of the catalog as plain data (storage shapes, not wire types).

use chrono::{DateTime, Utc};
use uuid::Uuid;

/// A tenant and its settings.
#[derive(Debug, Clone, PartialEq)]
pub struct TenantRecord {
    pub name: String,
    pub policy_id: String,
    pub recording_enabled: bool,
    /// Tenant-set retention as the policy writes durations, e.g. `"2 years"`.
    pub retention: Option<String>,
    pub service_numbers: Vec<String>,
    pub agent_patterns: Vec<String>,
    pub country: Option<String>,
    pub provider: bool,
    pub created_at: DateTime<Utc>,
}

/// State of a policy version.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PolicyVersionState {
    Active,
    Superseded,
    Pending,
}

impl PolicyVersionState {
    pub fn as_str(self) -> &'static str {
        match self {
            PolicyVersionState::Active => "active",
            PolicyVersionState::Superseded => "superseded",
            PolicyVersionState::Pending => "pending",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        Some(match text {
            "active" => PolicyVersionState::Active,
            "superseded" => PolicyVersionState::Superseded,
            "pending" => PolicyVersionState::Pending,
            _ => return None,
        })
    }
}

/// One stored version of a tenant's policy file.
#[derive(Debug, Clone, PartialEq)]
pub struct PolicyVersionRecord {
    pub tenant: String,
    pub version: i64,
    pub policy_id: String,
    pub document_version: String,
    pub source_file: String,
    pub source_text: String,
    pub sha256: String,
    pub state: PolicyVersionState,
    pub created_at: DateTime<Utc>,
    pub created_by: String,
    pub approved_at: Option<DateTime<Utc>>,
    pub approved_by: Option<String>,
}

/// Lifecycle state of a recording row.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RecordingState {
    /// Being written; invisible to every listing.
    Writing,
    Sealed,
    /// Cut off by a crash and closed with a recovery seal.
    Interrupted,
}

impl RecordingState {
    pub fn as_str(self) -> &'static str {
        match self {
            RecordingState::Writing => "writing",
            RecordingState::Sealed => "sealed",
            RecordingState::Interrupted => "interrupted",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        Some(match text {
            "writing" => RecordingState::Writing,
            "sealed" => RecordingState::Sealed,
            "interrupted" => RecordingState::Interrupted,
            _ => return None,
        })
    }
}

/// Where a recording came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RecordingSource {
    Ingest,
    Capture,
}

impl RecordingSource {
    pub fn as_str(self) -> &'static str {
        match self {
            RecordingSource::Ingest => "ingest",
            RecordingSource::Capture => "capture",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        Some(match text {
            "ingest" => RecordingSource::Ingest,
            "capture" => RecordingSource::Capture,
            _ => return None,
        })
    }
}

/// A recording's catalog entry. Numbers are already masked as the policy says.
#[derive(Debug, Clone, PartialEq)]
pub struct RecordingRecord {
    pub id: Uuid,
    pub tenant: String,
    pub policy_version: i64,
    pub state: RecordingState,
    pub source: RecordingSource,
    pub direction: String,
    pub started_at: DateTime<Utc>,
    pub ended_at: Option<DateTime<Utc>>,
    pub duration_ms: Option<i64>,
    pub service_number: Option<String>,
    pub customer_number: Option<String>,
    pub customer_number_hash: Option<String>,
    pub customer_name: Option<String>,
    pub agent: Option<String>,
    pub purposes: Vec<String>,
    pub legal_basis: String,
    pub consent: serde_json::Value,
    pub retain_until: DateTime<Utc>,
    pub notes: Vec<String>,
    pub created_at: DateTime<Utc>,
    pub sealed_at: Option<DateTime<Utc>>,
}

/// A party on the call (masked before storing).
#[derive(Debug, Clone, PartialEq)]
pub struct ParticipantRecord {
    pub idx: i64,
    pub role: String,
    pub name: Option<String>,
    pub number: Option<String>,
    pub number_hash: Option<String>,
}

/// How a stream object ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StreamSeal {
    Open,
    Sealed,
    Recovered,
}

impl StreamSeal {
    pub fn as_str(self) -> &'static str {
        match self {
            StreamSeal::Open => "open",
            StreamSeal::Sealed => "sealed",
            StreamSeal::Recovered => "recovered",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        Some(match text {
            "open" => StreamSeal::Open,
            "sealed" => StreamSeal::Sealed,
            "recovered" => StreamSeal::Recovered,
            _ => return None,
        })
    }
}

/// One participant's audio stream.
#[derive(Debug, Clone, PartialEq)]
pub struct StreamRecord {
    pub idx: i64,
    pub label: String,
    pub participant: Option<i64>,
    pub codec: String,
    pub sample_rate: i64,
    pub object_path: String,
    pub chunks: i64,
    pub audio_bytes: i64,
    pub packets_lost: i64,
    pub seal: StreamSeal,
}

/// A recording with its parties and streams.
#[derive(Debug, Clone, PartialEq)]
pub struct RecordingEntry {
    pub recording: RecordingRecord,
    pub participants: Vec<ParticipantRecord>,
    pub streams: Vec<StreamRecord>,
}

/// What remains of an erased recording: no personal data.
#[derive(Debug, Clone, PartialEq)]
pub struct Tombstone {
    pub recording_id: Uuid,
    pub tenant: String,
    pub policy_version: i64,
    pub reason: String,
    pub erased_at: DateTime<Utc>,
}

/// A stored audit event with its place in the chain.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredAuditEvent {
    pub seq: i64,
    pub event: governance::AuditEvent,
    pub prev_hash: String,
    pub hash: String,
}

/// Filters for listing recordings.
#[derive(Debug, Clone, Default)]
pub struct RecordingFilter {
    pub tenant: Option<String>,
    pub customer_number_hash: Option<String>,
    pub from: Option<DateTime<Utc>>,
    pub to: Option<DateTime<Utc>>,
    /// The agent exactly as stored.
    pub agent: Option<String>,
    /// `inbound`, `outbound` or `unknown`.
    pub direction: Option<String>,
    pub limit: Option<i64>,
    /// Skip this many matches first (paging through a search).
    pub offset: Option<i64>,
}
