//! Who may administer identities (deny by default): user changes need an
//! administrator, grants the policy's grant issuer (the security officer), and
//! nobody acts outside their own tenant. These roles become Cedar rules
//! (`authz::generate`); the decision itself is always a Cedar evaluation. Administering users gives no right to
//! read recordings (POSTI-ACCESS, CSI-ACCESS): that is the authorization engine's.

use policy::Policy;

use crate::authz::AccessAction;

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
    /// The Cedar action it is evaluated as (teams and training are user management).
    pub fn access_action(self) -> AccessAction {
        match self {
            IdentityAction::ManageUsers | IdentityAction::ManageTeams | IdentityAction::RecordTraining => {
                AccessAction::ManageUsers
            }
            IdentityAction::ListUsers => AccessAction::ListUsers,
            IdentityAction::IssueGrants => AccessAction::IssueGrant,
            IdentityAction::ListGrants => AccessAction::ListGrants,
        }
    }

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

/// The refusal of `action` on `tenant`'s identities for `principal`, after the Cedar rules
/// denied it: another tenant is named as such, otherwise the roles that may act.
pub fn identity_refusal(principal: &Principal, tenant: &str, action: IdentityAction, policy: &Policy) -> IdentityError {
    if principal.tenant != tenant {
        return IdentityError::denied(
            "tenant-mismatch",
            "tenant-isolation",
            "users act only within their own tenant",
        );
    }
    let (roles, rule) = roles_for(action, policy);
    IdentityError::denied(
        "role-required",
        rule,
        format!("{} requires the role {}", action.as_str(), roles.join(" or ")),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::authz::{AccessRequest, Authorizer, Target};

    fn policy(name: &str) -> Policy {
        let path = format!("{}/../../policies/{name}.toml", env!("CARGO_MANIFEST_DIR"));
        policy::parse_policy(&path, &std::fs::read_to_string(&path).unwrap()).unwrap()
    }

    /// The Cedar decision for a user of tenant `t` with `roles` acting on tenant `on`.
    fn allowed(authorizer: &Authorizer, roles: &[&str], action: IdentityAction, on: &str) -> bool {
        let who = crate::authz::Principal {
            id: "t/someone".into(),
            tenant: "t".into(),
            roles: roles.iter().map(|r| (*r).to_owned()).collect(),
            teams: vec![],
            managed_teams: vec![],
            training: vec![],
        };
        authorizer
            .decide(&AccessRequest {
                principal: &who,
                action: action.access_action(),
                target: Target::Tenant(on),
                purpose: "",
                reason: "",
                workflow: None,
                grants: &[],
                now: "2026-05-01T08:00:00Z".parse().unwrap(),
            })
            .is_allowed()
    }

    #[test]
    fn identity_administration_matrix() {
        use IdentityAction::*;
        let arlo = Authorizer::new(&policy("arlo-europe")).unwrap();
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
        for (roles, action, expected) in table {
            assert_eq!(allowed(&arlo, roles, *action, "t"), *expected, "{roles:?} {action:?}");
        }
    }

    #[test]
    fn nobody_administers_another_tenant() {
        let arlo = Authorizer::new(&policy("arlo-europe")).unwrap();
        for action in [
            IdentityAction::ManageUsers,
            IdentityAction::IssueGrants,
            IdentityAction::ListUsers,
        ] {
            assert!(!allowed(&arlo, &["administrator", "security-officer"], action, "b"));
        }
    }
}
