//! Who may administer identities (deny by default): user changes need an
//! administrator, grants the policy's grant issuer (the security officer), and
//! nobody acts outside their own tenant. Administering users gives no right to
//! read recordings (POSTI-ACCESS, CSI-ACCESS): that is the authorization engine's.

use policy::Policy;

use super::error::IdentityError;
use super::principal::Principal;
use super::role::{ADMINISTRATOR, AUDITOR, COMPLIANCE, grant_issuer_role};

/// An identity-administration action.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IdentityAction {
    /// Add, lock or unlock users.
    ManageUsers,
    ListUsers,
    /// Add teams, set their managers.
    ManageTeams,
    /// Record training attestations.
    RecordTraining,
    /// Issue or revoke access grants.
    IssueGrants,
    ListGrants,
}

impl IdentityAction {
    pub fn as_str(self) -> &'static str {
        match self {
            IdentityAction::ManageUsers => "manage-users",
            IdentityAction::ListUsers => "list-users",
            IdentityAction::ManageTeams => "manage-teams",
            IdentityAction::RecordTraining => "record-training",
            IdentityAction::IssueGrants => "issue-grants",
            IdentityAction::ListGrants => "list-grants",
        }
    }
}

/// The roles allowed an action under `policy`, and the rule that says so.
pub fn roles_for(action: IdentityAction, policy: &Policy) -> (Vec<&str>, &'static str) {
    let issuer = grant_issuer_role(policy);
    match action {
        IdentityAction::ManageUsers | IdentityAction::ManageTeams | IdentityAction::RecordTraining => {
            (vec![ADMINISTRATOR], "identity.administrator")
        }
        IdentityAction::ListUsers => (
            vec![ADMINISTRATOR, AUDITOR, COMPLIANCE, issuer],
            "identity.administrator",
        ),
        IdentityAction::IssueGrants => (vec![issuer], "access.grants_issued_by"),
        IdentityAction::ListGrants => (vec![issuer, AUDITOR], "access.grants_issued_by"),
    }
}

/// Allows `action` on `tenant`'s identities for `principal`, or says why not.
pub fn authorize_identity_action(
    principal: &Principal,
    tenant: &str,
    action: IdentityAction,
    policy: &Policy,
) -> Result<(), IdentityError> {
    if principal.tenant != tenant {
        return Err(IdentityError::denied(
            "tenant-mismatch",
            "tenant-isolation",
            "users act only within their own tenant",
        ));
    }
    let (roles, rule) = roles_for(action, policy);
    if roles.iter().any(|role| principal.has_role(role)) {
        return Ok(());
    }
    Err(IdentityError::denied(
        "role-required",
        rule,
        format!("{} requires the role {}", action.as_str(), roles.join(" or ")),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::identity::principal::AuthMethod;

    fn principal(tenant: &str, roles: &[&str]) -> Principal {
        Principal {
            tenant: tenant.into(),
            user: "someone".into(),
            roles: roles.iter().map(|r| (*r).to_owned()).collect(),
            team: None,
            managed_teams: vec![],
            attestations: vec![],
            grants: vec![],
            method: AuthMethod::Password,
            authenticated_at: "2026-05-01T08:00:00Z".parse().unwrap(),
            token_id: None,
        }
    }

    fn policy(name: &str) -> Policy {
        let path = format!("{}/../../policies/{name}.toml", env!("CARGO_MANIFEST_DIR"));
        policy::parse_policy(&path, &std::fs::read_to_string(&path).unwrap()).unwrap()
    }

    #[test]
    fn identity_administration_matrix() {
        use IdentityAction::*;
        let arlo = policy("arlo-europe");
        // (roles, action, allowed?) for a principal of tenant "t" acting on "t"
        let table: &[(&[&str], IdentityAction, bool)] = &[
            (&["administrator"], ManageUsers, true),
            (&["administrator"], ManageTeams, true),
            (&["administrator"], RecordTraining, true),
            (&["administrator"], ListUsers, true),
            (&["administrator"], IssueGrants, false),
            (&["administrator"], ListGrants, false),
            (&["security-officer"], IssueGrants, true),
            (&["security-officer"], ListGrants, true),
            (&["security-officer"], ManageUsers, false),
            (&["security-officer"], ListUsers, true),
            (&["auditor"], ListGrants, true),
            (&["auditor"], IssueGrants, false),
            (&["auditor"], ManageUsers, false),
            (&["agent"], ListUsers, false),
            (&["line-manager"], IssueGrants, false),
            (&["team-manager"], ManageTeams, false),
            (&[], ListGrants, false),
        ];
        for (roles, action, allowed) in table {
            let result = authorize_identity_action(&principal("t", roles), "t", *action, &arlo);
            assert_eq!(result.is_ok(), *allowed, "{roles:?} {action:?}: {result:?}");
        }
    }

    #[test]
    fn nobody_administers_another_tenant() {
        let arlo = policy("arlo-europe");
        let admin = principal("a", &["administrator", "security-officer"]);
        for action in [
            IdentityAction::ManageUsers,
            IdentityAction::IssueGrants,
            IdentityAction::ListUsers,
        ] {
            assert_eq!(
                authorize_identity_action(&admin, "b", action, &arlo)
                    .unwrap_err()
                    .code(),
                "tenant-mismatch"
            );
        }
    }
}
