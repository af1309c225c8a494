//! Users: a person in one tenant, with roles, at most one team, and a status.

use serde::{Deserialize, Serialize};

use super::error::IdentityError;

/// Whether a user may sign in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum UserStatus {
    Active,
    /// Locked by an administrator until unlocked.
    Locked,
}

impl UserStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            UserStatus::Active => "active",
            UserStatus::Locked => "locked",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "active" => Some(UserStatus::Active),
            "locked" => Some(UserStatus::Locked),
            _ => None,
        }
    }
}

/// A user as the governance rules see it (no credentials here).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct User {
    pub tenant: String,
    pub name: String,
    pub roles: Vec<String>,
    /// The team the user is a member of (an agent's team).
    pub team: Option<String>,
    pub status: UserStatus,
}

impl User {
    pub fn has_role(&self, role: &str) -> bool {
        self.roles.iter().any(|r| r == role)
    }

    /// `tenant/name`: how the user is named in audit events and `--as`.
    pub fn qualified_name(&self) -> String {
        format!("{}/{}", self.tenant, self.name)
    }
}

/// Checks a user or team name: 1-64 characters, lowercase letters, digits, `.`, `_`, `-`,
/// starting with a letter or digit. Names appear in audit events and URLs, so they are
/// kept plain.
pub fn check_name(kind: &'static str, name: &str) -> Result<(), IdentityError> {
    let ok = !name.is_empty()
        && name.len() <= 64
        && name
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '.' | '_' | '-'));
    if ok {
        Ok(())
    } else {
        Err(IdentityError::invalid(
            if kind == "team" {
                "team-name-invalid"
            } else {
                "user-name-invalid"
            },
            format!(
                "{kind} names are 1-64 lowercase letters, digits, '.', '_' and '-', starting with a letter or digit"
            ),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_plain() {
        for good in ["alice", "a", "team-1", "j.doe", "x_y", "0agent"] {
            check_name("user", good).unwrap();
        }
        for bad in [
            "",
            "Alice",
            "-x",
            ".x",
            "a b",
            "a/b",
            "ä",
            "a'; DROP TABLE users;--",
            &"x".repeat(65),
        ] {
            assert_eq!(
                check_name("user", bad).unwrap_err().code(),
                "user-name-invalid",
                "{bad:?}"
            );
        }
        assert_eq!(check_name("team", "A").unwrap_err().code(), "team-name-invalid");
    }
}
