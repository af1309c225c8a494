//! Purpose-bound reads (ALL-PURPOSE): a read names a purpose of the recording's own
//! policy and a reason, or it does not happen. A [`ReadPermit`] can only be made here,
//! and the vault decrypts nothing without one.

use policy::{Policy, Refusal};

/// Who is acting. Until identities exist the CLI acts as the local administrator.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Actor {
    LocalAdministrator,
    Service(String),
}

impl Actor {
    pub fn name(&self) -> String {
        match self {
            Actor::LocalAdministrator => "local-administrator".into(),
            Actor::Service(name) => format!("service:{name}"),
        }
    }
}

/// What a reader asks for.
#[derive(Debug, Clone)]
pub struct ReadRequest<'a> {
    pub actor: &'a Actor,
    pub recording_id: uuid::Uuid,
    pub purpose: &'a str,
    pub reason: &'a str,
}

/// Proof that a read of one recording was authorised for a purpose.
#[derive(Debug, Clone)]
pub struct ReadPermit {
    recording_id: uuid::Uuid,
    purpose: String,
    reason: String,
    actor: String,
}

impl ReadPermit {
    pub fn recording_id(&self) -> uuid::Uuid {
        self.recording_id
    }
    pub fn purpose(&self) -> &str {
        &self.purpose
    }
    pub fn reason(&self) -> &str {
        &self.reason
    }
    pub fn actor(&self) -> &str {
        &self.actor
    }
}

/// Authorises a read of a recording made under `policy` (the version it was made under).
pub fn authorize_read(policy: &Policy, request: &ReadRequest<'_>) -> Result<ReadPermit, Refusal> {
    if request.reason.trim().is_empty() {
        return Err(Refusal {
            code: "reason-required",
            rule: "access.search_requires_reason",
            message: "every read must give a reason".into(),
        });
    }
    policy.check_read_purpose(request.purpose)?;
    Ok(ReadPermit {
        recording_id: request.recording_id,
        purpose: request.purpose.to_owned(),
        reason: request.reason.trim().to_owned(),
        actor: request.actor.name(),
    })
}
