//! Purpose-bound reads (ALL-PURPOSE): a read names a purpose of the recording's own
//! policy and a reason, or it does not happen. A [`ReadPermit`] can only be made here,
//! and the vault decrypts nothing without one.

use policy::{Policy, Refusal};

/// Who is acting: an authenticated person (every read of a recording is made by one), the
/// operator at the machine's console (configuration and machine ingest, never a read of a
/// recording), or one of the service's own workers (retention, capture).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Actor {
    User(Box<crate::identity::Principal>),
    LocalAdministrator,
    Service(String),
}

impl Actor {
    pub fn name(&self) -> String {
        match self {
            Actor::User(principal) => principal.actor(),
            Actor::LocalAdministrator => "local-administrator".into(),
            Actor::Service(name) => format!("service:{name}"),
        }
    }

    /// The person acting, if this is one.
    pub fn principal(&self) -> Option<&crate::identity::Principal> {
        match self {
            Actor::User(principal) => Some(principal),
            Actor::LocalAdministrator | Actor::Service(_) => None,
        }
    }
}

impl From<crate::identity::Principal> for Actor {
    fn from(principal: crate::identity::Principal) -> Self {
        Actor::User(Box::new(principal))
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

/// Authorises a read made inside a workflow (a data-subject request, a legal claim) under
/// that workflow's reserved purpose. Only the workflow's own code calls this; the Cedar
/// rules have already allowed the action for the workflow.
pub fn authorize_workflow_read(
    request: &ReadRequest<'_>,
    workflow: crate::authz::Workflow,
) -> Result<ReadPermit, Refusal> {
    if request.reason.trim().is_empty() {
        return Err(Refusal {
            code: "reason-required",
            rule: "access.search_requires_reason",
            message: "every read must give a reason".into(),
        });
    }
    if request.purpose != workflow.id() {
        return Err(Refusal {
            code: "purpose-not-in-policy",
            rule: "purposes",
            message: format!("inside {} the purpose is {}", workflow.id(), workflow.id()),
        });
    }
    Ok(ReadPermit {
        recording_id: request.recording_id,
        purpose: request.purpose.to_owned(),
        reason: request.reason.trim().to_owned(),
        actor: request.actor.name(),
    })
}
