//! The Cedar schema every generated rule is validated against, and the actions it names.
//!
//! One schema for every policy: entity types for users, roles, teams, tenants, recordings and
//! access grants; one action per thing a person can do. Times are Unix seconds (UTC) as `Long`.

use cedar_policy::Schema;

/// The Cedar namespace of every callvault entity type and action.
pub const NAMESPACE: &str = "Callvault";

/// The schema in Cedar's human-readable form (documented in docs/authorization.md).
pub const SCHEMA_TEXT: &str = r#"
namespace Callvault {
  // A tenant: one organisation. Also the resource of a search and of administrative actions.
  entity Tenant;

  // An access grant issued by a security officer (ARLO-GRANTS). A grant to a user is a parent
  // of that User; a grant to a role is a parent of that Role; so `principal in context.grant`
  // holds for its grantees. Without `team`, `agent` or `recording` the grant reaches the whole
  // tenant.
  entity Grant {
    tenant: Tenant,
    purpose: String,
    expires_at: Long,
    issued_by: User,
    issued_by_role: Role,
    team?: Team,
    agent?: User,
    recording?: Recording,
  };

  // A role; users are members (`principal in Callvault::Role::"agent"`).
  entity Role in [Grant];

  // A team; teams may sit in larger teams (org hierarchy: agent -> team -> manager).
  entity Team in [Team];

  // A person. Parents: their roles, the teams they belong to, grants made to them.
  // `trained_at` / `training_expires_at`: the training attestation in force (POSTI-TRAINING).
  entity User in [Role, Team, Grant] {
    tenant: Tenant,
    managed_teams: Set<Team>,
    trained_at?: Long,
    training_expires_at?: Long,
  };

  // A recording. `agent`: the user who took or made the call; `team`: that agent's team at the
  // time of the call; `direction`: "inbound", "outbound" or "unknown".
  entity Recording {
    tenant: Tenant,
    direction: String,
    agent?: User,
    team?: Team,
  };

  // purpose: the purpose the person names ("" when none); reason: their reason, trimmed ("" when
  // none); now: Unix seconds; workflow: "data-subject-request" or "legal-claim" when the action is
  // part of that workflow; grant: the access grant the request is evaluated under, if any.
  type RequestContext = {
    purpose: String,
    reason: String,
    now: Long,
    workflow?: String,
    grant?: Grant,
  };

  // Reads and changes of one recording. `search` on a Recording: may it appear in the results.
  action "metadata", "listen", "download", "export", "delete"
    appliesTo { principal: [User], resource: [Recording], context: RequestContext };
  // `search` on a Tenant: may the person search that tenant's register at all.
  action "search"
    appliesTo { principal: [User], resource: [Recording, Tenant], context: RequestContext };
  // Administrative actions, on the tenant.
  action "manage-users", "list-users", "list-grants", "manage-policy", "approve-policy", "issue-grant", "read-audit",
    "handle-request"
    appliesTo { principal: [User], resource: [Tenant], context: RequestContext };
}
"#;

/// Parses [`SCHEMA_TEXT`]; an error here is a bug in this file, reported as text.
pub fn schema() -> Result<Schema, String> {
    let (schema, _warnings) = Schema::from_cedarschema_str(SCHEMA_TEXT).map_err(|e| format!("{e:?}"))?;
    Ok(schema)
}

/// Everything a person can ask to do, as the Cedar action it is evaluated as.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum AccessAction {
    /// See a recording's register entry (its metadata).
    Metadata,
    /// Search (on a tenant), or find this recording in a search (on a recording).
    Search,
    /// Play the audio (streamed).
    Listen,
    /// Download the audio.
    Download,
    /// Export the recording as a bundle.
    Export,
    /// Delete (erase) the recording.
    Delete,
    /// Add and change users, teams and training attestations.
    ManageUsers,
    /// See the tenant's users, roles and teams.
    ListUsers,
    /// See the access grants in force.
    ListGrants,
    /// Propose a new policy version, change tenant settings.
    ManagePolicy,
    /// Approve a pending policy version (ARLO-PURPOSE-CHANGE).
    ApprovePolicy,
    /// Issue or revoke an access grant (ARLO-GRANTS).
    IssueGrant,
    /// Verify and export the audit log.
    ReadAudit,
    /// Handle data-subject requests (rights.handled_by).
    HandleRequest,
}

impl AccessAction {
    /// Every action, in a stable order.
    pub const ALL: [AccessAction; 14] = [
        AccessAction::Metadata,
        AccessAction::Search,
        AccessAction::Listen,
        AccessAction::Download,
        AccessAction::Export,
        AccessAction::Delete,
        AccessAction::ManageUsers,
        AccessAction::ListUsers,
        AccessAction::ListGrants,
        AccessAction::ManagePolicy,
        AccessAction::ApprovePolicy,
        AccessAction::IssueGrant,
        AccessAction::ReadAudit,
        AccessAction::HandleRequest,
    ];

    /// The Cedar action id (`Callvault::Action::"<id>"`), also the word in matrices and docs.
    pub fn id(self) -> &'static str {
        match self {
            AccessAction::Metadata => "metadata",
            AccessAction::Search => "search",
            AccessAction::Listen => "listen",
            AccessAction::Download => "download",
            AccessAction::Export => "export",
            AccessAction::Delete => "delete",
            AccessAction::ManageUsers => "manage-users",
            AccessAction::ListUsers => "list-users",
            AccessAction::ListGrants => "list-grants",
            AccessAction::ManagePolicy => "manage-policy",
            AccessAction::ApprovePolicy => "approve-policy",
            AccessAction::IssueGrant => "issue-grant",
            AccessAction::ReadAudit => "read-audit",
            AccessAction::HandleRequest => "handle-request",
        }
    }

    /// The action with this id.
    pub fn from_id(id: &str) -> Option<AccessAction> {
        AccessAction::ALL.into_iter().find(|a| a.id() == id)
    }

    /// The policy file's word for a recording action.
    pub fn from_policy(action: policy::Action) -> AccessAction {
        match action {
            policy::Action::Metadata => AccessAction::Metadata,
            policy::Action::Search => AccessAction::Search,
            policy::Action::Listen => AccessAction::Listen,
            policy::Action::Download => AccessAction::Download,
            policy::Action::Export => AccessAction::Export,
            policy::Action::Delete => AccessAction::Delete,
        }
    }

    /// Reads: they name a purpose of the policy (ALL-PURPOSE).
    pub fn is_read(self) -> bool {
        matches!(
            self,
            AccessAction::Metadata
                | AccessAction::Search
                | AccessAction::Listen
                | AccessAction::Download
                | AccessAction::Export
        )
    }

    /// Actions on recordings (and a tenant's register, for search): they need a reason and,
    /// where the policy says so, training.
    pub fn is_governed(self) -> bool {
        self.is_read() || self == AccessAction::Delete
    }
}
