//! Service errors: one kind per protocol answer, each with a stable code.

use std::fmt;

/// The class of an error; the API and CLI map it to a status in one place.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// The input is malformed or invalid (HTTP 400).
    BadInput,
    /// The policy does not permit this (HTTP 422 for ingest, 403 for reads).
    Refused,
    /// Not allowed for this actor or purpose (HTTP 403).
    Forbidden,
    /// No valid credentials: missing, wrong, expired, forged or revoked (HTTP 401).
    Unauthenticated,
    NotFound,
    Conflict,
    /// It existed but has ended: an expired or closed playback session (HTTP 410).
    Gone,
    /// Stored data failed its integrity check or a key is wrong (HTTP 500, loud).
    Integrity,
    Internal,
}

/// An error with a stable code; the message never contains personal data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceError {
    pub kind: ErrorKind,
    pub code: String,
    pub message: String,
    /// The policy rule a refusal follows from, e.g. `recording.directions`.
    pub rule: Option<String>,
}

impl ServiceError {
    pub fn new(kind: ErrorKind, code: impl Into<String>, message: impl Into<String>) -> Self {
        ServiceError {
            kind,
            code: code.into(),
            message: message.into(),
            rule: None,
        }
    }

    pub fn bad_input(code: &str, message: impl Into<String>) -> Self {
        Self::new(ErrorKind::BadInput, code, message)
    }

    pub fn not_found(what: impl Into<String>) -> Self {
        Self::new(ErrorKind::NotFound, "not-found", format!("{} not found", what.into()))
    }
}

impl fmt::Display for ServiceError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({})", self.message, self.code)
    }
}

impl std::error::Error for ServiceError {}

impl From<policy::Refusal> for ServiceError {
    fn from(r: policy::Refusal) -> Self {
        ServiceError {
            kind: ErrorKind::Refused,
            code: r.code.into(),
            message: r.message,
            rule: Some(r.rule.into()),
        }
    }
}

impl From<vault::VaultError> for ServiceError {
    fn from(err: vault::VaultError) -> Self {
        use vault::VaultError as V;
        let kind = match &err {
            V::NotFound(_) => ErrorKind::NotFound,
            V::Conflict(_) => ErrorKind::Conflict,
            V::KeyDestroyed(_) => ErrorKind::NotFound,
            V::WrongMasterKey | V::Integrity(_) | V::Corrupt(_) | V::KeyDirectory(_) => ErrorKind::Integrity,
            V::Database(_) | V::Migration(_) | V::ObjectStore(_) | V::Io(_) => ErrorKind::Internal,
        };
        ServiceError::new(kind, err.code(), err.to_string())
    }
}

impl From<media::wav::WavError> for ServiceError {
    fn from(err: media::wav::WavError) -> Self {
        ServiceError::new(ErrorKind::BadInput, err.code(), format!("audio: {err}"))
    }
}

impl From<policy::PolicyError> for ServiceError {
    fn from(err: policy::PolicyError) -> Self {
        ServiceError::new(ErrorKind::BadInput, "policy-invalid", err.to_string())
    }
}
