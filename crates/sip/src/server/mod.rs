//! The runner: binds UDP and TCP on one address, wires the transports to a
//! [`TransactionLayer`] driven by a tokio timer, and gives the application a channel of
//! [`SipEvent`]s and a [`SipHandle`] to answer with.

mod core;

use std::collections::hash_map::RandomState;
use std::hash::BuildHasher;
use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{mpsc, watch};

use crate::counters::SipCounters;
use crate::limits::Limits;
use crate::transaction::{DialogId, SipEvent, TransactionConfig, TransactionId, TransactionLayer};
use crate::transport::tcp::TcpSettings;
use crate::transport::{TcpTransport, UdpTransport};

/// Settings of a [`SipServer`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SipServerConfig {
    /// Where to listen, on both UDP and TCP (e.g. `0.0.0.0:5060`). With port 0 both
    /// get the same ephemeral port.
    pub listen: SocketAddr,
    /// The `host:port` this server names in the Via of its own requests; the bound
    /// address when `None` (set it when listening on `0.0.0.0`).
    pub advertised_address: Option<String>,
    /// Parser and framing limits.
    pub limits: Limits,
    /// Timers, supported methods and extensions. Its `seed` is replaced by a random one
    /// and its `via_sent_by` by the advertised address.
    pub transaction: TransactionConfig,
    /// Events queued for the application; when full, new requests get 503.
    pub event_capacity: usize,
    /// TCP connections open at once.
    pub max_tcp_connections: usize,
    /// A TCP connection silent this long is closed.
    pub tcp_idle_timeout: Duration,
}

impl Default for SipServerConfig {
    fn default() -> Self {
        SipServerConfig {
            listen: SocketAddr::from(([0, 0, 0, 0], 5060)),
            advertised_address: None,
            limits: Limits::DEFAULT,
            transaction: TransactionConfig::default(),
            event_capacity: 1024,
            max_tcp_connections: 1024,
            tcp_idle_timeout: Duration::from_secs(3600),
        }
    }
}

/// Why a command could not reach the server.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the SIP server has stopped")]
pub struct ServerStopped;

impl ServerStopped {
    /// The stable code `"sip-server-stopped"`.
    pub fn code(&self) -> &'static str {
        "sip-server-stopped"
    }
}

#[derive(Debug)]
enum Command {
    Respond {
        transaction: TransactionId,
        response: Vec<u8>,
    },
    Bye {
        dialog: DialogId,
    },
}

/// The application's handle on a running server: answer requests, end dialogs, read
/// counters, stop. Cheap to clone.
#[derive(Debug, Clone)]
pub struct SipHandle {
    commands: mpsc::UnboundedSender<Command>,
    counters: Arc<SipCounters>,
    udp_addr: SocketAddr,
    tcp_addr: SocketAddr,
    shutdown: Arc<watch::Sender<bool>>,
}

impl SipHandle {
    /// Sends the application's response (bytes from a
    /// [`ResponseBuilder`](crate::ResponseBuilder)) in `transaction`. Errors the
    /// transaction layer finds are logged and counted, not returned.
    pub fn respond(&self, transaction: TransactionId, response: Vec<u8>) -> Result<(), ServerStopped> {
        self.commands
            .send(Command::Respond { transaction, response })
            .map_err(|_| ServerStopped)
    }

    /// Ends `dialog` with a BYE from this side.
    pub fn send_bye(&self, dialog: DialogId) -> Result<(), ServerStopped> {
        self.commands.send(Command::Bye { dialog }).map_err(|_| ServerStopped)
    }

    /// The counters (shared atomics).
    pub fn counters(&self) -> &Arc<SipCounters> {
        &self.counters
    }

    /// The bound UDP address.
    pub fn udp_local_addr(&self) -> SocketAddr {
        self.udp_addr
    }

    /// The bound TCP address.
    pub fn tcp_local_addr(&self) -> SocketAddr {
        self.tcp_addr
    }

    /// Stops the server's tasks (sockets close, pending transactions are dropped).
    pub fn shutdown(&self) {
        let _ = self.shutdown.send(true);
    }
}

/// A running SIP server: the handle and the application's event channel.
#[derive(Debug)]
pub struct SipServer {
    handle: SipHandle,
    events: mpsc::Receiver<SipEvent>,
}

impl SipServer {
    /// Binds UDP and TCP on `config.listen` and starts the tasks (needs a tokio runtime).
    pub async fn start(config: SipServerConfig) -> io::Result<SipServer> {
        let (udp, tcp) = bind_both(config.listen).await?;
        let udp_addr = udp.local_addr()?;
        let tcp_addr = tcp.local_addr()?;
        let counters = Arc::new(SipCounters::default());
        let mut transaction = config.transaction.clone();
        transaction.seed = RandomState::new().hash_one((udp_addr, std::process::id()));
        transaction.via_sent_by = config
            .advertised_address
            .clone()
            .unwrap_or_else(|| udp_addr.to_string());
        let layer = TransactionLayer::with_counters(transaction, Arc::clone(&counters));

        let (transport_tx, transport_rx) = mpsc::channel(4096);
        let (event_tx, event_rx) = mpsc::channel(config.event_capacity.max(1));
        let (command_tx, command_rx) = mpsc::unbounded_channel();
        let (shutdown_tx, shutdown_rx) = watch::channel(false);

        let tasks = vec![
            udp.spawn_receiver(transport_tx.clone(), Arc::clone(&counters)),
            tcp.spawn_acceptor(
                transport_tx,
                Arc::clone(&counters),
                TcpSettings {
                    limits: config.limits,
                    max_connections: config.max_tcp_connections,
                    idle_timeout: config.tcp_idle_timeout,
                },
            ),
        ];
        let core = core::Core::new(layer, udp, event_tx, Arc::clone(&counters), config.limits);
        tokio::spawn(core.run(transport_rx, command_rx, shutdown_rx, tasks));
        Ok(SipServer {
            handle: SipHandle {
                commands: command_tx,
                counters,
                udp_addr,
                tcp_addr,
                shutdown: Arc::new(shutdown_tx),
            },
            events: event_rx,
        })
    }

    /// A handle (clone as needed).
    pub fn handle(&self) -> SipHandle {
        self.handle.clone()
    }

    /// The next event for the application; `None` once the server stopped.
    pub async fn next_event(&mut self) -> Option<SipEvent> {
        self.events.recv().await
    }

    /// The handle and the event receiver, for applications that move them apart.
    pub fn into_parts(self) -> (SipHandle, mpsc::Receiver<SipEvent>) {
        (self.handle, self.events)
    }
}

/// Binds UDP and TCP on the same address; with port 0, retries until both get the
/// same ephemeral port.
async fn bind_both(listen: SocketAddr) -> io::Result<(UdpTransport, TcpTransport)> {
    let mut last_error = None;
    for _ in 0..16 {
        let udp = UdpTransport::bind(listen).await?;
        let mut tcp_addr = listen;
        tcp_addr.set_port(udp.local_addr()?.port());
        match TcpTransport::bind(tcp_addr).await {
            Ok(tcp) => return Ok((udp, tcp)),
            Err(error) if listen.port() == 0 && error.kind() == io::ErrorKind::AddrInUse => last_error = Some(error),
            Err(error) => return Err(error),
        }
    }
    Err(last_error.unwrap_or_else(|| io::Error::other("could not bind UDP and TCP on one port")))
}
