//! The authenticated person a request acts for, with everything the authorization
//! engine needs: tenant, roles, team, managed teams, training, active grants.

use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;

use super::attestation::TrainingAttestation;
use super::grant::AccessGrant;

/// How the principal proved who they are.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum AuthMethod {
    Password,
    ApiToken,
    Session,
    /// The handler who opened a supervised playback session, acting through its token
    /// (POSTI-SUPERVISED); re-read from the catalog on every use.
    PlaybackSession,
}

/// An authenticated user. Made only by the service after a password, token or
/// session check; carries no credential.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Principal {
    pub tenant: String,
    pub user: String,
    pub roles: Vec<String>,
    /// The team the user is a member of.
    pub team: Option<String>,
    /// The teams the user manages.
    pub managed_teams: Vec<String>,
    pub attestations: Vec<TrainingAttestation>,
    /// Grants reaching the user (by name or role) that were active at `authenticated_at`.
    pub grants: Vec<AccessGrant>,
    pub method: AuthMethod,
    pub authenticated_at: DateTime<Utc>,
    /// The token or session used, for logout and audit (never its value).
    pub token_id: Option<uuid::Uuid>,
}

impl Principal {
    pub fn has_role(&self, role: &str) -> bool {
        self.roles.iter().any(|r| r == role)
    }

    /// How audit events name the actor: `user:TENANT/NAME`.
    pub fn actor(&self) -> String {
        format!("user:{}/{}", self.tenant, self.user)
    }

    pub fn manages_team(&self, team: &str) -> bool {
        self.managed_teams.iter().any(|t| t == team)
    }

    /// Whether any training attestation counts on `today` (POSTI-TRAINING).
    pub fn trained_on(&self, today: NaiveDate) -> bool {
        self.attestations.iter().any(|a| a.counts_on(today))
    }

    /// The grants still active at `now` (a long request may outlive one).
    pub fn active_grants(&self, now: DateTime<Utc>) -> impl Iterator<Item = &AccessGrant> {
        self.grants.iter().filter(move |g| g.is_active(now))
    }
}
