//! Non-INVITE client transactions (RFC 3261 §17.1.2) for the few requests a
//! user-agent server sends itself (BYE).

use std::net::SocketAddr;
use std::time::Instant;

use super::dialog::DialogId;
use super::server::Retransmit;
use crate::transport::Transport;

/// Where a client transaction is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ClientState {
    /// Sent; retransmitted with timer E until a response.
    Trying,
    /// A provisional response arrived; retransmitted every T2.
    Proceeding,
    /// A final response arrived; timer K absorbs copies.
    Completed,
}

#[derive(Debug, Clone)]
pub(crate) struct ClientTransaction {
    pub(crate) key: (String, String),
    pub(crate) request: Vec<u8>,
    pub(crate) to: SocketAddr,
    pub(crate) transport: Transport,
    pub(crate) state: ClientState,
    pub(crate) dialog: Option<DialogId>,
    pub(crate) retransmit: Option<Retransmit>,
    /// Timer F while waiting, timer K once completed.
    pub(crate) deadline: Instant,
    pub(crate) generation: u64,
}

impl ClientTransaction {
    pub(crate) fn next_timer(&self) -> Instant {
        match self.retransmit {
            Some(r) => r.at.min(self.deadline),
            None => self.deadline,
        }
    }
}
