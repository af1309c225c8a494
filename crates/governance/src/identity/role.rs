//! Roles: the engine's built-in ones plus those a tenant's policy declares
//! (`[[access.roles]]`, e.g. CSI's `ceo` and `faq-content-manager`).

use policy::{BUILT_IN_ROLES, Policy};

use super::error::IdentityError;

pub const AGENT: &str = "agent";
pub const TEAM_MANAGER: &str = "team-manager";
pub const SECURITY_OFFICER: &str = "security-officer";
pub const COMPLIANCE: &str = "compliance";
pub const ADMINISTRATOR: &str = "administrator";
pub const AUDITOR: &str = "auditor";

/// Every role a user of a tenant under `policy` may hold.
pub fn known_roles(policy: &Policy) -> Vec<&str> {
    let mut roles: Vec<&str> = BUILT_IN_ROLES.to_vec();
    for role in &policy.access.roles {
        if !roles.contains(&role.id.as_str()) {
            roles.push(&role.id);
        }
    }
    roles
}

/// Checks that `role` is built in or declared by the tenant's policy.
pub fn check_role(policy: &Policy, role: &str) -> Result<(), IdentityError> {
    if known_roles(policy).contains(&role) {
        return Ok(());
    }
    Err(IdentityError::invalid(
        "role-unknown",
        format!(
            "role {:?} is neither built in nor declared by policy {} (known: {})",
            role.chars().take(64).collect::<String>(),
            policy.policy.id,
            known_roles(policy).join(", ")
        ),
    ))
}

/// The role that issues access grants under `policy` (ARLO-GRANTS): the one the policy
/// names, else the security officer.
pub fn grant_issuer_role(policy: &Policy) -> &str {
    policy.access.grants_issued_by.as_deref().unwrap_or(SECURITY_OFFICER)
}
