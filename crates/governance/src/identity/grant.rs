//! Access grants (ARLO-GRANTS): issued by the policy's grant issuer (the security
//! officer) to a user or a role, for a scope of recordings and one purpose, until an
//! expiry; revocable.

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, TimeDelta, Utc};
use policy::Policy;
use serde::{Deserialize, Serialize};

use super::error::IdentityError;
use super::role::check_role;

/// The longest a grant may run: access is explicit and expiring, never open-ended.
pub const MAX_GRANT_DAYS: i64 = 366;

/// Who receives a grant.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", tag = "kind", content = "name")]
pub enum Grantee {
    User(String),
    Role(String),
}

/// Which recordings a grant reaches.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", tag = "kind", content = "name")]
pub enum GrantScope {
    /// Every recording of the tenant.
    Tenant,
    /// The recordings of one team's members.
    Team(String),
    /// One agent's recordings.
    Agent(String),
}

impl GrantScope {
    pub fn kind(&self) -> &'static str {
        match self {
            GrantScope::Tenant => "tenant",
            GrantScope::Team(_) => "team",
            GrantScope::Agent(_) => "agent",
        }
    }

    pub fn target(&self) -> Option<&str> {
        match self {
            GrantScope::Tenant => None,
            GrantScope::Team(name) | GrantScope::Agent(name) => Some(name),
        }
    }

    /// From stored parts (`kind`, optional target).
    pub fn from_parts(kind: &str, target: Option<String>) -> Option<Self> {
        match (kind, target) {
            ("tenant", None) => Some(GrantScope::Tenant),
            ("team", Some(name)) => Some(GrantScope::Team(name)),
            ("agent", Some(name)) => Some(GrantScope::Agent(name)),
            _ => None,
        }
    }
}

impl fmt::Display for GrantScope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            GrantScope::Tenant => f.write_str("tenant"),
            GrantScope::Team(name) => write!(f, "team:{name}"),
            GrantScope::Agent(name) => write!(f, "agent:{name}"),
        }
    }
}

impl FromStr for GrantScope {
    type Err = IdentityError;

    /// `tenant`, `team:NAME` or `agent:NAME`.
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let bad = || {
            IdentityError::invalid(
                "grant-scope-invalid",
                "a grant scope is `tenant`, `team:NAME` or `agent:NAME`",
            )
        };
        match text.split_once(':') {
            None if text == "tenant" => Ok(GrantScope::Tenant),
            Some(("team", name)) => {
                super::user::check_name("team", name).map_err(|_| bad())?;
                Ok(GrantScope::Team(name.to_owned()))
            }
            Some(("agent", name)) => {
                super::user::check_name("user", name).map_err(|_| bad())?;
                Ok(GrantScope::Agent(name.to_owned()))
            }
            _ => Err(bad()),
        }
    }
}

/// One grant as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccessGrant {
    pub id: uuid::Uuid,
    pub tenant: String,
    pub grantee: Grantee,
    pub scope: GrantScope,
    /// One of the tenant policy's purposes.
    pub purpose: String,
    pub issued_by: String,
    pub issued_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub revoked_at: Option<DateTime<Utc>>,
    pub revoked_by: Option<String>,
}

/// Where a grant stands at a time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum GrantState {
    Active,
    Expired,
    Revoked,
    /// Issued with a start after `now` (only seen when judging past times).
    NotYetValid,
}

impl GrantState {
    pub fn as_str(self) -> &'static str {
        match self {
            GrantState::Active => "active",
            GrantState::Expired => "expired",
            GrantState::Revoked => "revoked",
            GrantState::NotYetValid => "not-yet-valid",
        }
    }
}

impl AccessGrant {
    /// The grant's state at `now`: revoked wins over expired; it expires at `expires_at`.
    pub fn state(&self, now: DateTime<Utc>) -> GrantState {
        if self.revoked_at.is_some_and(|at| at <= now) {
            GrantState::Revoked
        } else if now < self.issued_at {
            GrantState::NotYetValid
        } else if now >= self.expires_at {
            GrantState::Expired
        } else {
            GrantState::Active
        }
    }

    pub fn is_active(&self, now: DateTime<Utc>) -> bool {
        self.state(now) == GrantState::Active
    }

    /// Whether the grant is given to this user (by name or through one of `roles`).
    pub fn reaches(&self, user: &str, roles: &[String]) -> bool {
        match &self.grantee {
            Grantee::User(name) => name == user,
            Grantee::Role(role) => roles.iter().any(|r| r == role),
        }
    }
}

/// Checks a new grant against the tenant's policy and the time it is issued: the role
/// exists, the purpose is one of the policy's ordinary read purposes (ALL-PURPOSE), and
/// the expiry lies after `now` and at most [`MAX_GRANT_DAYS`] later.
pub fn check_new_grant(
    policy: &Policy,
    grantee: &Grantee,
    purpose: &str,
    expires_at: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<(), IdentityError> {
    match grantee {
        Grantee::Role(role) => check_role(policy, role)?,
        Grantee::User(name) => super::user::check_name("user", name)?,
    }
    policy
        .check_read_purpose(purpose)
        .map_err(|refusal| IdentityError::invalid("grant-purpose-invalid", refusal.message))?;
    if expires_at <= now {
        return Err(IdentityError::invalid(
            "grant-expiry-in-past",
            "a grant's expiry must lie in the future",
        ));
    }
    if expires_at - now > TimeDelta::days(MAX_GRANT_DAYS) {
        return Err(IdentityError::invalid(
            "grant-expiry-too-far",
            format!("a grant runs at most {MAX_GRANT_DAYS} days"),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: &str) -> DateTime<Utc> {
        s.parse().unwrap()
    }

    fn grant() -> AccessGrant {
        AccessGrant {
            id: uuid::Uuid::nil(),
            tenant: "arlo".into(),
            grantee: Grantee::Role("line-manager".into()),
            scope: GrantScope::Team("north".into()),
            purpose: "quality".into(),
            issued_by: "arlo/sec".into(),
            issued_at: t("2026-01-01T00:00:00Z"),
            expires_at: t("2026-02-01T00:00:00Z"),
            revoked_at: None,
            revoked_by: None,
        }
    }

    #[test]
    fn grant_state_over_time() {
        let mut g = grant();
        let table = [
            ("2025-12-31T23:59:59Z", GrantState::NotYetValid),
            ("2026-01-01T00:00:00Z", GrantState::Active),
            ("2026-01-31T23:59:59Z", GrantState::Active),
            ("2026-02-01T00:00:00Z", GrantState::Expired),
        ];
        for (at, expected) in table {
            assert_eq!(g.state(t(at)), expected, "{at}");
        }
        g.revoked_at = Some(t("2026-01-10T00:00:00Z"));
        assert_eq!(g.state(t("2026-01-09T00:00:00Z")), GrantState::Active);
        assert_eq!(g.state(t("2026-01-10T00:00:00Z")), GrantState::Revoked);
        assert_eq!(g.state(t("2026-03-01T00:00:00Z")), GrantState::Revoked);
    }

    #[test]
    fn grants_reach_their_user_or_role() {
        let g = grant();
        assert!(g.reaches("anyone", &["line-manager".into()]));
        assert!(!g.reaches("anyone", &["agent".into()]));
        let mut g = grant();
        g.grantee = Grantee::User("lena".into());
        assert!(g.reaches("lena", &[]));
        assert!(!g.reaches("lenny", &["line-manager".into()]));
    }

    #[test]
    fn scopes_parse_and_print() {
        for text in ["tenant", "team:north", "agent:anna"] {
            assert_eq!(text.parse::<GrantScope>().unwrap().to_string(), text);
        }
        for bad in ["", "all", "team:", "team:North", "agent:a/b", "tenant:x", "role:x"] {
            assert_eq!(
                bad.parse::<GrantScope>().unwrap_err().code(),
                "grant-scope-invalid",
                "{bad:?}"
            );
        }
    }
}
