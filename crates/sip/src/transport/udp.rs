//! The UDP endpoint: one socket, a receive loop feeding the core, and sends.

use std::io;
use std::net::SocketAddr;
use std::sync::Arc;

use tokio::net::UdpSocket;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use super::{Inbound, Transport, TransportEvent};
use crate::counters::{SipCounters, bump};

/// Largest UDP payload there is; longer datagrams cannot arrive.
const MAX_DATAGRAM: usize = 65_535;

/// A bound UDP socket.
#[derive(Debug, Clone)]
pub struct UdpTransport {
    socket: Arc<UdpSocket>,
}

impl UdpTransport {
    /// Binds `addr`.
    pub async fn bind(addr: SocketAddr) -> io::Result<UdpTransport> {
        Ok(UdpTransport {
            socket: Arc::new(UdpSocket::bind(addr).await?),
        })
    }

    /// The bound address.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.socket.local_addr()
    }

    /// Sends one datagram.
    pub async fn send(&self, bytes: &[u8], to: SocketAddr) -> io::Result<()> {
        self.socket.send_to(bytes, to).await.map(|_| ())
    }

    /// Receives datagrams until `events` closes, passing each on as a message.
    pub fn spawn_receiver(&self, events: mpsc::Sender<TransportEvent>, counters: Arc<SipCounters>) -> JoinHandle<()> {
        let socket = Arc::clone(&self.socket);
        tokio::spawn(async move {
            let mut buf = vec![0u8; MAX_DATAGRAM];
            loop {
                let (len, source) = match socket.recv_from(&mut buf).await {
                    Ok(received) => received,
                    Err(error) => {
                        // ICMP errors surface here on some systems; the socket stays usable.
                        tracing::debug!(%error, "udp receive error");
                        tokio::time::sleep(std::time::Duration::from_millis(1)).await;
                        continue;
                    }
                };
                bump(&counters.messages_received);
                let inbound = Inbound {
                    bytes: buf.get(..len).unwrap_or_default().to_vec(),
                    source,
                    transport: Transport::Udp,
                };
                if events.send(TransportEvent::Message(inbound)).await.is_err() {
                    return;
                }
            }
        })
    }
}
