//! Server transaction state (RFC 3261 §17.2 as updated by RFC 6026).

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use super::dialog::DialogId;
use super::echo::Echo;
use super::key::TransactionKey;
use crate::method::Method;
use crate::transport::Transport;

/// Where a server transaction is (RFC 3261 Figures 7 and 8, RFC 6026 Figure 5).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ServerState {
    /// Non-INVITE: no response yet.
    Trying,
    /// A provisional response was sent (INVITE: also before any response).
    Proceeding,
    /// A non-2xx final response was sent (INVITE: waiting for the ACK; non-INVITE: timer J).
    Completed,
    /// INVITE: a 2xx was sent (retransmitted until the ACK; absorbs INVITE copies until timer L).
    Accepted,
    /// INVITE: the ACK for a non-2xx arrived (timer I absorbs ACK copies).
    Confirmed,
}

/// What happens when a transaction's deadline passes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Deadline {
    /// Timer H: no ACK for a non-2xx final response.
    TimerH,
    /// Timer L (RFC 6026): end of the Accepted state; without an ACK the 2xx timed out.
    TimerL,
    /// Timer I: end of the Confirmed state.
    TimerI,
    /// Timer J: end of a completed non-INVITE transaction.
    TimerJ,
    /// The application did not answer a non-INVITE request in 64·T1.
    ApplicationResponse,
}

/// A retransmission timer (G for INVITE responses): next firing and current interval.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Retransmit {
    pub(crate) at: Instant,
    pub(crate) interval: Duration,
}

/// What an INVITE's 2xx needs to create a dialog.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct DialogSeed {
    pub(crate) remote_target: String,
    pub(crate) from_tag: String,
}

#[derive(Debug, Clone)]
pub(crate) struct ServerTransaction {
    pub(crate) key: TransactionKey,
    pub(crate) method: Method,
    pub(crate) method_name: String,
    pub(crate) cseq: u32,
    pub(crate) state: ServerState,
    pub(crate) transport: Transport,
    pub(crate) source: SocketAddr,
    pub(crate) reply_to: SocketAddr,
    pub(crate) echo: Echo,
    /// The dialog the request is in, or the dialog its response created.
    pub(crate) dialog: Option<DialogId>,
    /// Whether this transaction's response created `dialog` (so a failure removes it).
    pub(crate) created_dialog: bool,
    pub(crate) seed: Option<DialogSeed>,
    /// The To tag of this side's responses.
    pub(crate) to_tag: Option<String>,
    pub(crate) last_response: Option<Vec<u8>>,
    pub(crate) retransmit: Option<Retransmit>,
    pub(crate) deadline: Option<(Instant, Deadline)>,
    pub(crate) generation: u64,
}

impl ServerTransaction {
    pub(crate) fn is_invite(&self) -> bool {
        self.method == Method::Invite
    }

    /// The earliest of the retransmission time and the deadline.
    pub(crate) fn next_timer(&self) -> Option<Instant> {
        let retransmit = self.retransmit.map(|r| r.at);
        let deadline = self.deadline.map(|(at, _)| at);
        match (retransmit, deadline) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }
}
