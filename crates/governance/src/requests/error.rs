//! Why a step of a data-subject request was refused: a stable code, the policy field or
//! engine rule it follows from, and a message without personal data.

/// The class of a refusal; the service maps it to its own error kinds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RequestErrorKind {
    /// The input is malformed (an unknown type, channel or deny reason).
    BadInput,
    /// The policy does not offer this (type, channel, reason).
    Refused,
    /// The actor may not handle requests.
    Forbidden,
    /// The request is not in a state where this step can happen.
    Conflict,
    /// What was asked for existed but has ended (an expired or closed playback session).
    Gone,
}

/// A refused step.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message} ({code})")]
pub struct RequestError {
    pub kind: RequestErrorKind,
    pub code: &'static str,
    /// The policy field (`rights.requests`) or engine rule the refusal follows from.
    pub rule: Option<&'static str>,
    pub message: String,
}

impl RequestError {
    pub(crate) fn new(kind: RequestErrorKind, code: &'static str, message: impl Into<String>) -> Self {
        RequestError {
            kind,
            code,
            rule: None,
            message: message.into(),
        }
    }

    pub(crate) fn rule(mut self, rule: &'static str) -> Self {
        self.rule = Some(rule);
        self
    }

    pub(crate) fn conflict(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(RequestErrorKind::Conflict, code, message)
    }

    pub(crate) fn gone(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(RequestErrorKind::Gone, code, message)
    }

    pub(crate) fn bad_input(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(RequestErrorKind::BadInput, code, message)
    }

    pub(crate) fn refused(code: &'static str, rule: &'static str, message: impl Into<String>) -> Self {
        Self::new(RequestErrorKind::Refused, code, message).rule(rule)
    }
}
