//! Transports: the [`Transport`] kind the pure core reasons about, and the tokio
//! UDP and TCP endpoints (the IO edge) that feed it.

pub(crate) mod tcp;
mod udp;

pub use tcp::{TcpSettings, TcpTransport};
pub use udp::UdpTransport;

use std::net::SocketAddr;

use tokio::sync::mpsc;

/// The transport a message arrived on or leaves by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Transport {
    /// UDP: one message per datagram, retransmissions needed.
    Udp,
    /// TCP: a byte stream framed by Content-Length, reliable.
    Tcp,
}

impl Transport {
    /// Whether the transport is reliable (stream-oriented): no retransmission
    /// timers, Content-Length required.
    pub fn is_reliable(&self) -> bool {
        matches!(self, Transport::Tcp)
    }

    /// The name used in Via headers (`UDP`, `TCP`).
    pub fn via_name(&self) -> &'static str {
        match self {
            Transport::Udp => "UDP",
            Transport::Tcp => "TCP",
        }
    }
}

impl std::fmt::Display for Transport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.via_name())
    }
}

/// One message's bytes as a transport received them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Inbound {
    /// The message bytes (a datagram, or one framed message of a stream).
    pub bytes: Vec<u8>,
    /// The peer it came from.
    pub source: SocketAddr,
    /// The transport it came on.
    pub transport: Transport,
}

/// What the transports tell the server core.
#[derive(Debug)]
pub enum TransportEvent {
    /// A message arrived.
    Message(Inbound),
    /// A TCP connection opened; messages for `peer` go into `writer`.
    Connected {
        /// The peer address (the connection's key).
        peer: SocketAddr,
        /// The connection's outgoing queue.
        writer: mpsc::Sender<Vec<u8>>,
    },
    /// A TCP connection closed.
    Disconnected {
        /// The peer address.
        peer: SocketAddr,
    },
}
