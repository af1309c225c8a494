//! Why the application's response could not be sent in a transaction.

use super::action::TransactionId;
use crate::error::ParseError;

/// Why [`respond`](super::TransactionLayer::respond) refused a response.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RespondError {
    /// The bytes are not a parseable message.
    #[error("the response does not parse: {0}")]
    Malformed(ParseError),
    /// The bytes are a request, not a response.
    #[error("the message is a request, not a response")]
    NotAResponse,
    /// No such transaction (it ended: timed out, cancelled and terminated, or never existed).
    #[error("no transaction {0}")]
    UnknownTransaction(TransactionId),
    /// Call-ID or CSeq of the response differ from the request's.
    #[error("the response's Call-ID or CSeq does not match transaction {0}")]
    Mismatch(TransactionId),
    /// The transaction already has a final response (e.g. the INVITE was cancelled).
    #[error("transaction {0} already has a final response")]
    FinalAlreadySent(TransactionId),
    /// A 2xx to an INVITE outside a dialog needs a To tag to create the dialog.
    #[error("a 2xx to an INVITE needs a To tag")]
    MissingToTag,
    /// No such dialog (for requests sent in one).
    #[error("no such dialog")]
    UnknownDialog,
}

impl RespondError {
    /// A stable identifier, such as `"sip-respond-final-already-sent"`.
    pub fn code(&self) -> &'static str {
        match self {
            RespondError::Malformed(_) => "sip-respond-malformed",
            RespondError::NotAResponse => "sip-respond-not-a-response",
            RespondError::UnknownTransaction(_) => "sip-respond-unknown-transaction",
            RespondError::Mismatch(_) => "sip-respond-mismatch",
            RespondError::FinalAlreadySent(_) => "sip-respond-final-already-sent",
            RespondError::MissingToTag => "sip-respond-missing-to-tag",
            RespondError::UnknownDialog => "sip-unknown-dialog",
        }
    }
}
