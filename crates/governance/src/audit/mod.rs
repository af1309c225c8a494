//! Audit events and their hash chain: each event commits to the one before it. The
//! stored form of an event is its canonical record (`record.rs`); the chain is checked by
//! `chain.rs`; repeated denials raise alerts (`alerts.rs`).

mod alerts;
mod chain;
mod record;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

pub use alerts::{ALERT_ACTION, DenialReport, DenialRule, UserDenials, denial_report};
pub use chain::{Anchor, AuditFault, ChainHead, ChainVerifier, Problem};
pub use record::{RECORD_FORMAT, RecordError, RecordView, encode_record, record_hash};

/// The `prev_hash` of the first event.
pub const GENESIS_HASH: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// Whether the audited action was allowed.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
pub enum Outcome {
    Allowed,
    Denied,
    Done,
    Failed,
}

impl Outcome {
    /// The outcome named by its stored text.
    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "allowed" => Some(Outcome::Allowed),
            "denied" => Some(Outcome::Denied),
            "done" => Some(Outcome::Done),
            "failed" => Some(Outcome::Failed),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Allowed => "allowed",
            Outcome::Denied => "denied",
            Outcome::Done => "done",
            Outcome::Failed => "failed",
        }
    }
}

/// One thing that happened. Never holds a full phone number.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct AuditEvent {
    pub at: DateTime<Utc>,
    pub actor: String,
    /// E.g. `recording.ingest`, `recording.export`, `recording.erase`, `policy.update`.
    pub action: String,
    pub outcome: Outcome,
    pub tenant: Option<String>,
    pub recording_id: Option<String>,
    pub purpose: Option<String>,
    pub reason: Option<String>,
    /// Structured extra facts (codes, counts, ids); no personal data.
    pub detail: serde_json::Value,
}

impl AuditEvent {
    pub fn new(at: DateTime<Utc>, actor: &str, action: &str, outcome: Outcome) -> Self {
        AuditEvent {
            at,
            actor: actor.to_owned(),
            action: action.to_owned(),
            outcome,
            tenant: None,
            recording_id: None,
            purpose: None,
            reason: None,
            detail: serde_json::Value::Null,
        }
    }

    pub fn tenant(mut self, tenant: &str) -> Self {
        self.tenant = Some(tenant.to_owned());
        self
    }

    pub fn recording(mut self, id: impl ToString) -> Self {
        self.recording_id = Some(id.to_string());
        self
    }

    pub fn purpose(mut self, purpose: &str, reason: &str) -> Self {
        self.purpose = Some(purpose.to_owned());
        self.reason = Some(reason.to_owned());
        self
    }

    /// Marks the event denied, with the decision's detail.
    pub fn denied(mut self, detail: serde_json::Value) -> Self {
        self.outcome = Outcome::Denied;
        self.detail(detail)
    }

    pub fn detail(mut self, detail: serde_json::Value) -> Self {
        self.detail = detail;
        self
    }

    /// Format-1 canonical bytes (JSON array, fixed field order, RFC 3339 time with
    /// microseconds): what logs written before format 2 hashed. Kept to verify them.
    pub fn canonical_bytes(&self) -> Vec<u8> {
        let value = serde_json::json!([
            self.at.format("%Y-%m-%dT%H:%M:%S%.6fZ").to_string(),
            self.actor,
            self.action,
            self.outcome.as_str(),
            self.tenant,
            self.recording_id,
            self.purpose,
            self.reason,
            self.detail,
        ]);
        serde_json::to_vec(&value).expect("JSON values always serialise")
    }
}

/// Format 1: `sha256(prev_hash || canonical(event))`, hex. New events use format 2
/// ([`encode_record`]); this verifies logs written before it.
pub fn chain_hash(prev_hash: &str, event: &AuditEvent) -> String {
    let mut hasher = Sha256::new();
    hasher.update(prev_hash.as_bytes());
    hasher.update(event.canonical_bytes());
    hex::encode(hasher.finalize())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chain_changes_with_any_field() {
        let at = "2026-11-23T10:00:00Z".parse().unwrap();
        let a = AuditEvent::new(at, "admin", "recording.export", Outcome::Allowed).purpose("quality", "QA review");
        let mut b = a.clone();
        b.reason = Some("other".into());
        assert_ne!(chain_hash(GENESIS_HASH, &a), chain_hash(GENESIS_HASH, &b));
        assert_ne!(
            chain_hash(GENESIS_HASH, &a),
            chain_hash(&chain_hash(GENESIS_HASH, &a), &a)
        );
    }
}
