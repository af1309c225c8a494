//! The plain facts an authorization decision is made over, and the decision itself.
//!
//! These types know nothing of storage: the service maps its users, teams, attestations,
//! grants and catalog rows onto them. Ids must be unique across tenants (UUIDs are).

use chrono::{DateTime, Utc};

use super::schema::AccessAction;

/// The person asking.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Principal {
    pub id: String,
    pub tenant: String,
    /// Role ids: built-in ones (`agent`, `team-manager`, ...) or the policy's own.
    pub roles: Vec<String>,
    /// Teams the person belongs to.
    pub teams: Vec<String>,
    /// Teams the person manages (their recordings are the person's "team" scope).
    pub managed_teams: Vec<String>,
    /// Training attestations (POSTI-TRAINING).
    pub training: Vec<TrainingAttestation>,
}

/// A recorded completion of the training a policy requires.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TrainingAttestation {
    pub completed_at: DateTime<Utc>,
    /// None: does not expire.
    pub expires_at: Option<DateTime<Utc>>,
}

/// The facts about one recording that rules look at.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RecordingFacts {
    pub id: String,
    pub tenant: String,
    /// The user id of the agent who took or made the call, when known.
    pub agent: Option<String>,
    /// The agent's team at the time of the call, when known.
    pub team: Option<String>,
    /// The teams above `team`, nearest first (empty in a flat organisation).
    pub parent_teams: Vec<String>,
    pub direction: Option<policy::Direction>,
}

/// Whom a grant is made to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Grantee {
    User(String),
    Role(String),
}

/// Which recordings a grant reaches.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GrantScope {
    /// Every recording of the grant's tenant.
    Tenant,
    /// The recordings of this team (and the teams under it).
    Team(String),
    /// The recordings of one agent (a user id).
    Agent(String),
    /// One recording.
    Recording(String),
}

/// An explicit, expiring access grant (ARLO-GRANTS).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccessGrant {
    pub id: String,
    pub tenant: String,
    pub grantee: Grantee,
    pub scope: GrantScope,
    /// The one purpose the grant is for.
    pub purpose: String,
    /// The user who issued it, and the role they issued it under (recorded at issue time).
    pub issued_by: String,
    pub issued_by_role: String,
    pub expires_at: DateTime<Utc>,
}

/// A workflow that may use one of the engine's reserved purposes (ALL-PURPOSE).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Workflow {
    /// Purpose `data-subject-request`.
    DataSubjectRequest,
    /// Purpose `legal-claim`.
    LegalClaim,
}

impl Workflow {
    /// The workflow's id, which is also its reserved purpose.
    pub fn id(self) -> &'static str {
        match self {
            Workflow::DataSubjectRequest => "data-subject-request",
            Workflow::LegalClaim => "legal-claim",
        }
    }
}

/// What the action is done to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target<'a> {
    Recording(&'a RecordingFacts),
    /// A tenant: a search of its register, or an administrative action. The tenant's id.
    Tenant(&'a str),
}

/// One question: may `principal` do `action` to `target`, for `purpose`, because of `reason`, at `now`?
#[derive(Debug, Clone, Copy)]
pub struct AccessRequest<'a> {
    pub principal: &'a Principal,
    pub action: AccessAction,
    pub target: Target<'a>,
    /// "" when none was given.
    pub purpose: &'a str,
    /// "" when none was given; surrounding white space does not count.
    pub reason: &'a str,
    /// Set only by the code of that workflow, never from user input.
    pub workflow: Option<Workflow>,
    /// The principal's grants (others are ignored); expired ones may be included.
    pub grants: &'a [AccessGrant],
    pub now: DateTime<Utc>,
}

/// Shown as the reason of a denial that no forbid rule made: nothing allowed it (ALL-ACCESS).
pub const DEFAULT_DENY: &str = "no rule allowed it";

/// The answer, with the Cedar policy ids it came from (for the audit log).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decision {
    allowed: bool,
    reasons: Vec<String>,
    grant: Option<String>,
    errors: Vec<String>,
}

impl Decision {
    pub(crate) fn new(allowed: bool, mut reasons: Vec<String>, grant: Option<String>, errors: Vec<String>) -> Self {
        reasons.sort();
        if reasons.is_empty() && !allowed {
            reasons.push(DEFAULT_DENY.to_owned());
        }
        Decision {
            allowed,
            reasons,
            grant,
            errors,
        }
    }

    pub fn is_allowed(&self) -> bool {
        self.allowed
    }

    /// Allowed: the permit rules that allowed it. Denied: the forbid rules that denied it, or
    /// [`DEFAULT_DENY`]. Ids are the policy file's field (`access.rules[1]`) or an engine rule
    /// (`tenant-isolation`, `purpose-not-in-policy`, ...); see docs/authorization.md.
    pub fn reasons(&self) -> &[String] {
        &self.reasons
    }

    /// Allowed without needing the grant it was evaluated under.
    pub(crate) fn clear_grant(&mut self) {
        self.grant = None;
    }

    /// The grant the access was allowed under, if any.
    pub fn grant(&self) -> Option<&str> {
        self.grant.as_deref()
    }

    /// Rules that failed to evaluate (a decision with errors is a denial).
    pub fn errors(&self) -> &[String] {
        &self.errors
    }

    /// A stable code for a denial: the first forbid rule, or `no-rule-allowed`.
    pub fn code(&self) -> &str {
        match self.reasons.first() {
            _ if self.allowed => "allowed",
            Some(reason) if reason != DEFAULT_DENY => reason,
            _ => "no-rule-allowed",
        }
    }
}
