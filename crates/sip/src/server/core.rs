//! The server's core task: the only owner of the transaction layer. Parses what the
//! transports deliver, runs the layer's timers, and carries out its actions.

use std::collections::{HashMap, VecDeque};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::mpsc::error::TrySendError;
use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;

use super::Command;
use crate::counters::{SipCounters, bump};
use crate::limits::Limits;
use crate::method::Method;
use crate::parse::parse_message_with;
use crate::reject::error_response;
use crate::transaction::{Action, SipEvent, TransactionLayer};
use crate::transport::{Inbound, Transport, TransportEvent, UdpTransport};

/// Retry-After (seconds) on the 503 sent when the application is overloaded.
const RETRY_AFTER_SECONDS: &str = "5";

pub(super) struct Core {
    layer: TransactionLayer,
    udp: UdpTransport,
    connections: HashMap<SocketAddr, mpsc::Sender<Vec<u8>>>,
    events: mpsc::Sender<SipEvent>,
    counters: Arc<SipCounters>,
    limits: Limits,
}

fn now() -> std::time::Instant {
    tokio::time::Instant::now().into_std()
}

impl Core {
    pub(super) fn new(
        layer: TransactionLayer,
        udp: UdpTransport,
        events: mpsc::Sender<SipEvent>,
        counters: Arc<SipCounters>,
        limits: Limits,
    ) -> Core {
        Core {
            layer,
            udp,
            connections: HashMap::new(),
            events,
            counters,
            limits,
        }
    }

    pub(super) async fn run(
        mut self,
        mut transports: mpsc::Receiver<TransportEvent>,
        mut commands: mpsc::UnboundedReceiver<Command>,
        mut shutdown: watch::Receiver<bool>,
        tasks: Vec<JoinHandle<()>>,
    ) {
        loop {
            let deadline = self
                .layer
                .next_deadline()
                .map(tokio::time::Instant::from_std)
                .unwrap_or_else(|| tokio::time::Instant::now() + Duration::from_secs(3600));
            let actions = tokio::select! {
                biased;
                _ = shutdown.changed() => break,
                event = transports.recv() => match event {
                    Some(event) => self.on_transport(event),
                    None => break,
                },
                command = commands.recv() => match command {
                    Some(command) => self.on_command(command),
                    None => break,
                },
                _ = tokio::time::sleep_until(deadline) => self.layer.on_timer(now()),
            };
            self.execute(actions).await;
        }
        for task in tasks {
            task.abort();
        }
    }

    fn on_transport(&mut self, event: TransportEvent) -> Vec<Action> {
        match event {
            TransportEvent::Message(inbound) => self.on_inbound(&inbound),
            TransportEvent::Connected { peer, writer } => {
                self.connections.insert(peer, writer);
                Vec::new()
            }
            TransportEvent::Disconnected { peer } => {
                self.connections.remove(&peer);
                Vec::new()
            }
        }
    }

    fn on_inbound(&mut self, inbound: &Inbound) -> Vec<Action> {
        match parse_message_with(&inbound.bytes, inbound.transport, &self.limits) {
            Ok(message) => self
                .layer
                .on_message(&message, inbound.source, inbound.transport, now()),
            Err(error) => {
                bump(&self.counters.parse_errors);
                tracing::debug!(source = %inbound.source, code = error.code(), "unparseable SIP message");
                match error_response(&inbound.bytes, &error) {
                    Some(bytes) => {
                        bump(&self.counters.requests_rejected);
                        vec![Action::Send {
                            bytes,
                            to: inbound.source,
                            transport: inbound.transport,
                        }]
                    }
                    None => Vec::new(),
                }
            }
        }
    }

    fn on_command(&mut self, command: Command) -> Vec<Action> {
        match command {
            Command::Respond { transaction, response } => match self.layer.respond(transaction, response, now()) {
                Ok(actions) => actions,
                Err(error) => {
                    tracing::warn!(%transaction, code = error.code(), "application response refused: {error}");
                    Vec::new()
                }
            },
            Command::Bye { dialog } => match self.layer.send_bye(&dialog, now()) {
                Ok((_, actions)) => actions,
                Err(error) => {
                    tracing::warn!(call_id = %dialog.call_id, code = error.code(), "BYE not sent: {error}");
                    Vec::new()
                }
            },
        }
    }

    async fn execute(&mut self, actions: Vec<Action>) {
        let mut queue: VecDeque<Action> = actions.into();
        while let Some(action) = queue.pop_front() {
            match action {
                Action::Send { bytes, to, transport } => self.send(bytes, to, transport).await,
                Action::Deliver(event) => {
                    if let Some(more) = self.deliver(event) {
                        queue.extend(more);
                    }
                }
                Action::TransactionTimeout(timeout) => {
                    if self.events.try_send(SipEvent::Timeout(timeout)).is_err() {
                        bump(&self.counters.events_dropped);
                    }
                }
            }
        }
    }

    async fn send(&mut self, bytes: Vec<u8>, to: SocketAddr, transport: Transport) {
        let sent = match transport {
            Transport::Udp => self.udp.send(&bytes, to).await.is_ok(),
            Transport::Tcp => self
                .connections
                .get(&to)
                .is_some_and(|connection| connection.try_send(bytes).is_ok()),
        };
        if !sent {
            bump(&self.counters.send_errors);
            tracing::debug!(%to, %transport, "SIP message not sent");
        }
    }

    /// Hands `event` to the application; when it cannot take it, answers a request 503.
    fn deliver(&mut self, event: SipEvent) -> Option<Vec<Action>> {
        let event = match self.events.try_send(event) {
            Ok(()) => return None,
            Err(TrySendError::Full(event) | TrySendError::Closed(event)) => event,
        };
        bump(&self.counters.events_dropped);
        let SipEvent::Request(request) = event else {
            return None;
        };
        if request.method == Method::Ack {
            return None;
        }
        bump(&self.counters.requests_rejected);
        let response = request
            .response(503, "Service Unavailable")
            .ok()?
            .to_tag(&format!("{:x}", request.transaction.0))
            .header("Retry-After", RETRY_AFTER_SECONDS)
            .build();
        self.layer.respond(request.transaction, response, now()).ok()
    }
}
