//! Retention and legal holds: the sweep that deletes every recording whose retention
//! has ended (unless a hold keeps it), in bounded batches, with one audit event per
//! batch and a signed deletion certificate; and the placing and lifting of holds.
//!
//! A sweep is idempotent and resumable: every step of a batch can be repeated after a
//! crash, and the next sweep picks up what an interrupted one left.

use chrono::{DateTime, NaiveDate, Utc};
use governance::{Actor, AuditEvent, Outcome};
use serde::Serialize;
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::Service;
use crate::error::{ErrorKind, ServiceError};

/// The format name of a deletion certificate.
pub const CERTIFICATE_FORMAT: &str = "callvault-deletion-certificate-v1";

/// Who the sweep acts as in the audit log.
const SWEEPER: &str = "system:retention";

/// What a sweep did, with the certificate that proves it.
#[derive(Debug, Clone, Serialize)]
pub struct SweepReport {
    pub certificate: DeletionCertificate,
    /// Wall time from the start of the sweep until every due key was destroyed.
    #[serde(skip)]
    pub keys_destroyed_after: std::time::Duration,
    /// Wall time from the start of the sweep until every due object was deleted.
    #[serde(skip)]
    pub objects_gone_after: std::time::Duration,
    /// The certificate exactly as signed and stored (JSON).
    #[serde(skip)]
    pub certificate_json: String,
}

/// A retention sweep's deletion certificate: counts, ids and the hash of the
/// tombstones, signed with the audit key (Ed25519, detached over the JSON of every
/// other field in this order).
#[derive(Debug, Clone, Serialize, serde::Deserialize, PartialEq)]
pub struct DeletionCertificate {
    pub format: String,
    pub sweep_id: String,
    /// Everything due at or before this time was deleted unless held.
    pub swept_until: DateTime<Utc>,
    pub started_at: DateTime<Utc>,
    pub finished_at: DateTime<Utc>,
    pub deleted: usize,
    pub batches: usize,
    pub recording_ids: Vec<String>,
    /// SHA-256 over the tombstones' lines `id|tenant|policy_version|reason|erased_at`, sorted by id.
    pub tombstones_sha256: String,
    /// Retention days whose key-encryption key was destroyed.
    pub kek_days_destroyed: Vec<NaiveDate>,
    /// Recordings whose holds had ended and whose keys went back under their retention day.
    pub holds_released: usize,
    /// Audit events of this sweep (one per batch), by sequence number.
    pub audit_seqs: Vec<i64>,
    pub key_id: String,
    pub public_key: String,
    pub signature: String,
}

impl DeletionCertificate {
    /// The bytes the signature covers: the JSON of the certificate without signature.
    pub fn signed_message(&self) -> Vec<u8> {
        let mut unsigned = self.clone();
        unsigned.signature = String::new();
        serde_json::to_vec(&unsigned).expect("certificate serialises")
    }

    /// Checks the signature against the public key the certificate names.
    pub fn signature_valid(&self) -> bool {
        vault::key_id(&hex::decode(&self.public_key).unwrap_or_default()) == self.key_id
            && vault::verify_detached(&self.public_key, &self.signed_message(), &self.signature)
    }
}

/// What a caller asks to place a hold.
#[derive(Debug, Clone)]
pub struct HoldRequest<'a> {
    pub recording_id: &'a str,
    pub reason: &'a str,
    pub expires_at: Option<DateTime<Utc>>,
}

impl Service {
    /// Deletes every recording whose retention ended at or before `now` and that no
    /// legal hold keeps, `batch` at a time. Order: holds that ended are released; the
    /// KEKs of past retention days are destroyed (every key under them at once) and the
    /// keys of recordings due earlier today; then each batch's objects are deleted, its
    /// tombstones written and one audit event appended listing its ids. Ends with a
    /// signed certificate.
    pub async fn retention_sweep(
        &self,
        now: DateTime<Utc>,
        batch: usize,
        started_at: DateTime<Utc>,
    ) -> Result<SweepReport, ServiceError> {
        let batch = batch.clamp(1, 10_000);
        let clock = std::time::Instant::now();
        let released = self.vault.release_ended_holds(now).await?;
        let days = self.vault.destroy_past_retention_days(now).await?;
        self.vault.destroy_keys_due_today(now).await?;
        let keys_destroyed_after = clock.elapsed();
        let mut tombstones = Vec::new();
        let mut audit_seqs = Vec::new();
        let mut batches = 0;
        loop {
            let deleted = self.vault.delete_due_batch(now, batch, "retention").await?;
            if deleted.is_empty() {
                break;
            }
            batches += 1;
            let ids: Vec<String> = deleted.iter().map(|t| t.recording_id.to_string()).collect();
            let event = AuditEvent::new(now, SWEEPER, "retention.delete", Outcome::Done).detail(serde_json::json!({
                "batch": batches,
                "count": ids.len(),
                "recording_ids": ids,
                "tombstones_sha256": tombstones_digest(&deleted),
            }));
            let stored = self.vault.catalog().append_audit(&event).await?;
            audit_seqs.push(stored.seq);
            tracing::info!(batch = batches, count = deleted.len(), "retention batch deleted");
            tombstones.extend(deleted);
        }
        let objects_gone_after = clock.elapsed();
        let finished_at = now.max(started_at);
        let key = self.vault.signing_key()?;
        let mut certificate = DeletionCertificate {
            format: CERTIFICATE_FORMAT.into(),
            sweep_id: Uuid::now_v7().to_string(),
            swept_until: now,
            started_at,
            finished_at,
            deleted: tombstones.len(),
            batches,
            recording_ids: tombstones.iter().map(|t| t.recording_id.to_string()).collect(),
            tombstones_sha256: tombstones_digest(&tombstones),
            kek_days_destroyed: days,
            holds_released: released.len(),
            audit_seqs,
            key_id: key.key_id(),
            public_key: key.public_key_hex(),
            signature: String::new(),
        };
        certificate.signature = key.sign_detached(&certificate.signed_message());
        let certificate_json = serde_json::to_string(&certificate).expect("certificate serialises");
        self.vault
            .catalog()
            .insert_sweep(&vault::SweepRecord {
                id: certificate.sweep_id.parse().expect("own uuid"),
                started_at,
                finished_at,
                swept_until: now,
                deleted: i64::try_from(certificate.deleted).unwrap_or(i64::MAX),
                certificate: certificate_json.clone(),
            })
            .await?;
        self.audit(
            AuditEvent::new(now, SWEEPER, "retention.sweep", Outcome::Done).detail(serde_json::json!({
                "sweep_id": certificate.sweep_id,
                "deleted": certificate.deleted,
                "batches": certificate.batches,
                "kek_days_destroyed": certificate.kek_days_destroyed,
                "tombstones_sha256": certificate.tombstones_sha256,
            })),
        )
        .await?;
        Ok(SweepReport {
            certificate,
            keys_destroyed_after,
            objects_gone_after,
            certificate_json,
        })
    }

    /// Places a legal hold on a recording (it survives retention and erasure until the
    /// hold is lifted or expires).
    pub async fn place_hold(
        &self,
        request: &HoldRequest<'_>,
        actor: &Actor,
        now: DateTime<Utc>,
    ) -> Result<vault::LegalHold, ServiceError> {
        if request.reason.trim().is_empty() {
            return Err(ServiceError::bad_input(
                "reason-required",
                "a legal hold needs --reason",
            ));
        }
        if request.expires_at.is_some_and(|end| end <= now) {
            return Err(ServiceError::bad_input(
                "hold-expiry-past",
                "field expires: a hold must expire in the future",
            ));
        }
        let id = crate::recordings::parse_id(request.recording_id)?;
        let entry = self.vault.catalog().visible_entry(id).await?;
        let hold = vault::LegalHold {
            id: Uuid::now_v7(),
            tenant: entry.recording.tenant.clone(),
            recording_id: id,
            reason: request.reason.to_owned(),
            placed_by: actor.name(),
            placed_at: now,
            expires_at: request.expires_at,
            lifted_at: None,
            lifted_by: None,
        };
        self.vault.place_hold(&hold).await?;
        self.audit(
            AuditEvent::new(now, &actor.name(), "hold.place", Outcome::Done)
                .tenant(&hold.tenant)
                .recording(id)
                .detail(serde_json::json!({"hold_id": hold.id, "reason": hold.reason, "expires_at": hold.expires_at})),
        )
        .await?;
        Ok(hold)
    }

    /// Lifts a legal hold.
    pub async fn lift_hold(
        &self,
        hold_id: &str,
        actor: &Actor,
        now: DateTime<Utc>,
    ) -> Result<vault::LegalHold, ServiceError> {
        let id: Uuid = hold_id.parse().map_err(|_| {
            ServiceError::new(
                ErrorKind::NotFound,
                "hold-not-found",
                format!("no legal hold {hold_id}"),
            )
        })?;
        let hold = self.vault.lift_hold(id, &actor.name(), now).await?;
        self.audit(
            AuditEvent::new(now, &actor.name(), "hold.lift", Outcome::Done)
                .tenant(&hold.tenant)
                .recording(hold.recording_id)
                .detail(serde_json::json!({"hold_id": hold.id})),
        )
        .await?;
        Ok(hold)
    }

    /// Holds of a tenant (or all), only those active at `active_at` when given.
    pub async fn holds(
        &self,
        tenant: Option<&str>,
        active_at: Option<DateTime<Utc>>,
    ) -> Result<Vec<vault::LegalHold>, ServiceError> {
        Ok(self.vault.catalog().holds(tenant, active_at).await?)
    }
}

/// SHA-256 over the tombstones' lines, sorted by recording id (no personal data).
fn tombstones_digest(tombstones: &[vault::Tombstone]) -> String {
    let mut lines: Vec<String> = tombstones
        .iter()
        .map(|t| {
            format!(
                "{}|{}|{}|{}|{}\n",
                t.recording_id,
                t.tenant,
                t.policy_version,
                t.reason,
                vault::ts(t.erased_at)
            )
        })
        .collect();
    lines.sort();
    let mut hasher = Sha256::new();
    for line in &lines {
        hasher.update(line.as_bytes());
    }
    hex::encode(hasher.finalize())
}
