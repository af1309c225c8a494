//! What the transaction layer asks its caller to do: send bytes, deliver an event to
//! the application, or report a timeout.

use std::net::SocketAddr;
use std::time::Instant;

use super::dialog::DialogId;
use crate::build::ResponseBuilder;
use crate::error::ParseError;
use crate::limits::Limits;
use crate::message::SipMessage;
use crate::method::Method;
use crate::parse::parse_message_with;
use crate::transport::Transport;

/// Identifies a transaction for the life of a [`TransactionLayer`](super::TransactionLayer).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TransactionId(pub(crate) u64);

impl std::fmt::Display for TransactionId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "tx{}", self.0)
    }
}

/// One thing for the IO edge to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// Send these bytes to `to` over `transport` (on TCP: the connection with that peer).
    Send {
        /// The message.
        bytes: Vec<u8>,
        /// The destination.
        to: SocketAddr,
        /// The transport.
        transport: Transport,
    },
    /// Hand an event to the application.
    Deliver(SipEvent),
    /// A transaction gave up; also delivered to the application as [`SipEvent::Timeout`].
    TransactionTimeout(TransactionTimeout),
}

/// What the application hears from the SIP layer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SipEvent {
    /// A new request (INVITE, re-INVITE, BYE, UPDATE, INFO, OPTIONS when not answered
    /// by the layer, ...). Answer it with [`respond`](super::TransactionLayer::respond).
    Request(IncomingRequest),
    /// The ACK for a 2xx to an INVITE (first copy only); `transaction` is the INVITE's.
    Ack(IncomingRequest),
    /// A CANCEL ended a pending INVITE: the layer answered the CANCEL 200 and the
    /// INVITE 487; the application must not answer it any more.
    Cancelled(CancelledInvite),
    /// A final response to a request this side sent (BYE).
    Response(ResponseReceived),
    /// A transaction gave up.
    Timeout(TransactionTimeout),
}

/// A request as delivered to the application: its bytes, where it came from, and
/// what the layer knows about it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IncomingRequest {
    /// The transaction to answer (for an ACK: the INVITE transaction it acknowledges).
    pub transaction: TransactionId,
    /// The method.
    pub method: Method,
    /// The dialog a request inside one belongs to (re-INVITE, BYE, UPDATE, INFO, ACK).
    pub dialog: Option<DialogId>,
    /// The peer address it came from.
    pub source: SocketAddr,
    /// The transport it came on.
    pub transport: Transport,
    /// When it arrived (the time the layer was given).
    pub received_at: Instant,
    pub(crate) bytes: Vec<u8>,
}

impl IncomingRequest {
    /// The message bytes.
    pub fn bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// The message, parsed again from its bytes (it was accepted once, so this only
    /// fails if the bytes were tampered with).
    pub fn message(&self) -> Result<SipMessage<'_>, ParseError> {
        let unlimited = Limits {
            max_message_size: usize::MAX,
            max_headers: usize::MAX,
            max_line_length: usize::MAX,
        };
        parse_message_with(&self.bytes, self.transport, &unlimited)
    }

    /// A response builder for this request, its top Via marked with the real source.
    pub fn response(&self, status: u16, reason: &str) -> Result<ResponseBuilder, ParseError> {
        Ok(ResponseBuilder::new(&self.message()?, status, reason).via_received(self.source))
    }

    /// Whether this is an INVITE inside an existing dialog.
    pub fn is_reinvite(&self) -> bool {
        self.method == Method::Invite && self.dialog.is_some()
    }
}

/// A pending INVITE ended by CANCEL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CancelledInvite {
    /// The INVITE's transaction.
    pub invite: TransactionId,
    /// Its Call-ID.
    pub call_id: String,
}

/// A final response to a request this side sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResponseReceived {
    /// The client transaction.
    pub transaction: TransactionId,
    /// The status code.
    pub status: u16,
    /// The dialog the request belonged to.
    pub dialog: Option<DialogId>,
}

/// A transaction that gave up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TransactionTimeout {
    /// The transaction.
    pub transaction: TransactionId,
    /// Why.
    pub kind: TimeoutKind,
    /// The dialog concerned, if any.
    pub dialog: Option<DialogId>,
}

/// Why a transaction gave up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimeoutKind {
    /// A 2xx to an INVITE was retransmitted for 64·T1 without an ACK (RFC 3261
    /// §13.3.1.4): the session should be ended with BYE.
    AckFor2xx,
    /// Timer H: a non-2xx final response to an INVITE got no ACK in 64·T1.
    AckForFailure,
    /// The application did not answer a non-INVITE request within 64·T1; the
    /// transaction was dropped (the client has given up by then).
    NoApplicationResponse,
    /// Timer F: a request this side sent got no final response in 64·T1.
    NoResponse,
}

impl TimeoutKind {
    /// A stable identifier (`"ack-for-2xx"`, `"timer-h"`, ...).
    pub fn code(&self) -> &'static str {
        match self {
            TimeoutKind::AckFor2xx => "ack-for-2xx",
            TimeoutKind::AckForFailure => "timer-h",
            TimeoutKind::NoApplicationResponse => "no-application-response",
            TimeoutKind::NoResponse => "timer-f",
        }
    }
}
