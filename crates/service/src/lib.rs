//! The application service: the operations of callvault (tenants, policies, ingest,
//! listing, export, erasure), wiring the pure policy and governance decisions to the
//! vault. The CLI and the HTTP API both call this; neither holds business rules.
//!
//! Time is a parameter of every operation; only the binary reads the clock.

pub mod access;
pub mod bundle;
mod capture;
pub mod compliance;
mod error;
mod governed_reads;
pub mod identities;
mod ingest;
pub mod playback;
mod recordings;
pub mod redaction;
mod requests;
mod retention;
mod screen;
mod tenants;
pub mod wire;

use std::path::Path;

use chrono::{DateTime, Utc};
use governance::{Actor, AuditEvent};
use policy::Policy;

pub use capture::{CaptureDecision, LiveCall, LiveParty, LiveStream};
pub use error::{ErrorKind, ServiceError};
pub use governed_reads::AuditVerification;
pub use recordings::{ExportFormat, ExportRequest, ExportedAudio, RecordingQuery};
pub use requests::{
    ConsentView, DecisionInput, FoundRecordingView, NotificationView, OpenRequest, RequestFulfilment, RequestView,
    RestrictionView, SubjectSearch, VerificationView,
};
pub use retention::{CERTIFICATE_FORMAT, DeletionCertificate, HoldRequest, SweepReport};
pub use tenants::{PolicyVersionView, TenantChange};

/// Parses a policy file and compiles its access rules to Cedar (validated against the
/// engine's schema): a policy whose rules do not compile is refused like any other
/// invalid policy (`policy-invalid`, naming the file and the field).
pub fn parse_policy_checked(file: &str, text: &str) -> Result<Policy, ServiceError> {
    let policy = policy::parse_policy(file, text)?;
    governance::authz::Authorizer::new(&policy)
        .map_err(|err| ServiceError::new(ErrorKind::BadInput, "policy-invalid", format!("{file}: {err}")))?;
    Ok(policy)
}

/// Settings the service needs from the configuration.
#[derive(Debug, Clone, Default)]
pub struct ServiceSettings {
    /// The region the object store is in (`uk`, `eu-eea`...), checked against
    /// each policy's residency rule. `None`: not declared.
    pub storage_region: Option<String>,
    /// Plaintext bytes per encrypted chunk target: about this many milliseconds of audio.
    pub chunk_ms: u32,
}

/// The running service over one vault.
#[derive(Debug, Clone)]
pub struct Service {
    vault: vault::Vault,
    settings: ServiceSettings,
    /// Outbound screening registers (WEBEO-TPS); see [`Service::with_screening`].
    screening: Option<screening::RegisterStore>,
    /// Compiled Cedar rules by policy version.
    authorizers: access::AuthorizerCache,
}

impl Service {
    /// Opens the data and key directories.
    pub async fn open(data_dir: &Path, keys_dir: &Path, settings: ServiceSettings) -> Result<Self, ServiceError> {
        let vault = vault::Vault::open(data_dir, keys_dir).await?;
        Ok(Service {
            vault,
            settings,
            screening: None,
            authorizers: access::AuthorizerCache::default(),
        })
    }

    pub fn vault(&self) -> &vault::Vault {
        &self.vault
    }

    pub fn settings(&self) -> &ServiceSettings {
        &self.settings
    }

    pub async fn close(&self) {
        self.vault.close().await;
    }

    /// Appends to the audit chain.
    pub async fn audit(&self, event: AuditEvent) -> Result<(), ServiceError> {
        self.vault.catalog().append_audit(&event).await?;
        Ok(())
    }

    /// Verifies the audit chain and its signed checkpoints (see `vault::AuditLog::verify`).
    /// Returns the number of events, or the first bad one.
    pub async fn verify_audit(&self) -> Result<usize, ServiceError> {
        let report = self.vault.catalog().audit().verify(None).await?;
        match report.fault {
            Some(fault) => Err(ServiceError::new(
                ErrorKind::Integrity,
                "audit-chain-broken",
                format!("audit chain broken at {fault}"),
            )),
            None => Ok(usize::try_from(report.events).unwrap_or_default()),
        }
    }

    /// Start-up recovery of recordings left open by a crash before `started_before`.
    pub async fn recover(
        &self,
        started_before: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<vault::RecoveryReport, ServiceError> {
        let report = self.vault.recover(started_before, now).await?;
        for id in &report.recovered {
            self.audit(
                AuditEvent::new(now, "system", "recording.recovery-seal", governance::Outcome::Done).recording(id),
            )
            .await?;
        }
        for id in &report.discarded {
            self.audit(
                AuditEvent::new(now, "system", "recording.discard-incomplete", governance::Outcome::Done).recording(id),
            )
            .await?;
        }
        Ok(report)
    }

    /// Checks the store's region against a policy's residency rule (WEBEO-UK, POSTI-EEA).
    pub fn check_residency(&self, policy: &Policy) -> Result<(), ServiceError> {
        let allowed = &policy.residency.regions;
        if allowed.is_empty() {
            return Ok(());
        }
        match &self.settings.storage_region {
            Some(region) if allowed.contains(region) => Ok(()),
            Some(region) => Err(ServiceError {
                kind: ErrorKind::Refused,
                code: "residency-violation".into(),
                message: format!(
                    "policy {} allows storage only in {}, and the object store is in {region:?}",
                    policy.policy.id,
                    allowed.join(", ")
                ),
                rule: Some("residency.regions".into()),
            }),
            None => Err(ServiceError {
                kind: ErrorKind::Refused,
                code: "residency-undeclared".into(),
                message: format!(
                    "policy {} allows storage only in {}; declare the object store's region ([storage] region in callvault.toml)",
                    policy.policy.id,
                    allowed.join(", ")
                ),
                rule: Some("residency.regions".into()),
            }),
        }
    }

    /// Parses the stored text of a tenant's policy version.
    pub(crate) fn parse_stored_policy(record: &vault::PolicyVersionRecord) -> Result<Policy, ServiceError> {
        policy::parse_policy(&record.source_file, &record.source_text).map_err(|err| {
            ServiceError::new(
                ErrorKind::Integrity,
                "policy-stored-invalid",
                format!("stored policy no longer validates: {err}"),
            )
        })
    }

    /// A tenant, or `tenant-unknown` (HTTP 404) when there is none by that name.
    pub(crate) async fn known_tenant(&self, name: &str) -> Result<vault::TenantRecord, ServiceError> {
        self.vault.catalog().tenant(name).await.map_err(|err| match err {
            vault::VaultError::NotFound(_) => ServiceError::new(
                ErrorKind::NotFound,
                "tenant-unknown",
                format!("no tenant named {name:?}"),
            ),
            other => other.into(),
        })
    }

    /// The actor name for audit entries.
    pub(crate) fn actor_name(actor: &Actor) -> String {
        actor.name()
    }
}

/// A customer's number as the policy lets the catalog show it (POSTI-FIELDS: last
/// digits masked).
pub(crate) fn shown_customer_number(policy: &Policy, e164: &str) -> String {
    match policy.catalog.customer_number {
        policy::NumberDisplay::Full => e164.to_owned(),
        policy::NumberDisplay::Masked => redact::mask_number(e164, policy.catalog.mask_last_digits),
    }
}
