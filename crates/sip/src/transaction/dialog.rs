//! The dialog table: dialogs this user-agent server is in, keyed by Call-ID and tags
//! (RFC 3261 §12), so that in-dialog requests are recognised and others get 481.

use std::net::SocketAddr;

use super::action::TransactionId;
use crate::transport::Transport;

/// Identifies a dialog: Call-ID, this side's tag (the To tag it answered with), the
/// peer's tag (its From tag).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct DialogId {
    /// The Call-ID.
    pub call_id: String,
    /// This side's tag.
    pub local_tag: String,
    /// The peer's tag.
    pub remote_tag: String,
}

/// Whether the dialog has been answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DialogState {
    /// A provisional response with a To tag was sent.
    Early,
    /// A 2xx was sent.
    Confirmed,
}

/// What the layer knows about a dialog.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dialog {
    /// The identifier.
    pub id: DialogId,
    /// Early or confirmed.
    pub state: DialogState,
    /// This side's address with its tag (the To of the peer's requests; the From of ours).
    pub local: String,
    /// The peer's address with its tag (the From of its requests; the To of ours).
    pub remote: String,
    /// The peer's Contact URI (target of requests this side sends).
    pub remote_target: String,
    /// The route set (Record-Route of the INVITE, in order).
    pub route_set: Vec<String>,
    /// The highest CSeq number seen from the peer.
    pub remote_cseq: u32,
    /// The last CSeq number this side used.
    pub local_cseq: u32,
    /// Where the peer's requests come from (responses and requests go back there).
    pub peer: SocketAddr,
    /// The transport of the dialog's requests.
    pub transport: Transport,
    /// The INVITE transaction whose 2xx awaits its ACK, with the INVITE's CSeq.
    pub(crate) awaiting_ack: Option<(u32, TransactionId)>,
}
