//! Identity errors, each with a stable code; messages never hold a password or token.

/// What can go wrong with identities, credentials and identity administration.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IdentityError {
    /// A name, role, scope or date given by a person is not acceptable.
    #[error("{message}")]
    Invalid { code: &'static str, message: String },
    /// The actor may not do this (deny by default).
    #[error("{message}")]
    Denied {
        code: &'static str,
        /// The rule the denial follows from, e.g. `access.grants_issued_by`.
        rule: &'static str,
        message: String,
    },
    /// Wrong name or password, unknown/forged/expired/revoked token, locked account.
    #[error("{message}")]
    Unauthenticated { code: &'static str, message: String },
    /// Hashing failed (bad parameters or a corrupt stored hash).
    #[error("password hashing: {0}")]
    Hashing(String),
}

impl IdentityError {
    pub fn invalid(code: &'static str, message: impl Into<String>) -> Self {
        IdentityError::Invalid {
            code,
            message: message.into(),
        }
    }

    pub fn denied(code: &'static str, rule: &'static str, message: impl Into<String>) -> Self {
        IdentityError::Denied {
            code,
            rule,
            message: message.into(),
        }
    }

    pub fn unauthenticated(code: &'static str, message: impl Into<String>) -> Self {
        IdentityError::Unauthenticated {
            code,
            message: message.into(),
        }
    }

    /// Stable machine-readable code.
    pub fn code(&self) -> &'static str {
        match self {
            IdentityError::Invalid { code, .. }
            | IdentityError::Denied { code, .. }
            | IdentityError::Unauthenticated { code, .. } => code,
            IdentityError::Hashing(_) => "password-hashing-failed",
        }
    }
}
