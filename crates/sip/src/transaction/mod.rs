//! Server transactions and dialogs as a pure state machine (RFC 3261 §17.2, RFC 6026):
//! messages and the time go in, [`Action`]s come out; no IO, no clock.

mod action;
mod client;
mod config;
mod dialog;
mod echo;
mod error;
mod ids;
mod inbound;
mod key;
mod outbound;
mod server;
mod timers;
mod uas;

pub use action::{
    Action, CancelledInvite, IncomingRequest, ResponseReceived, SipEvent, TimeoutKind, TransactionId,
    TransactionTimeout,
};
pub use config::TransactionConfig;
pub use dialog::{Dialog, DialogId, DialogState};
pub(crate) use echo::Echo;
pub use error::RespondError;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;

use client::ClientTransaction;
use ids::IdSource;
use key::TransactionKey;
use server::ServerTransaction;
use timers::TimerQueue;

use crate::counters::{SipCounters, bump, set};
use crate::limits::Limits;
use crate::message::SipMessage;
use crate::method::Method;
use crate::parse::parse_message_with;
use crate::transport::Transport;

/// The transaction layer of a user-agent server.
///
/// Feed it every parsed message with [`on_message`](Self::on_message) (or
/// [`on_request`](Self::on_request) / [`on_response`](Self::on_response)), the
/// application's answers with [`respond`](Self::respond), and call
/// [`on_timer`](Self::on_timer) when [`next_deadline`](Self::next_deadline) passes.
/// Each returns the [`Action`]s to carry out, in order.
#[derive(Debug)]
pub struct TransactionLayer {
    config: TransactionConfig,
    counters: Arc<SipCounters>,
    ids: IdSource,
    next_id: u64,
    server: HashMap<TransactionId, ServerTransaction>,
    server_keys: HashMap<TransactionKey, TransactionId>,
    client: HashMap<TransactionId, ClientTransaction>,
    client_keys: HashMap<(String, String), TransactionId>,
    dialogs: HashMap<DialogId, Dialog>,
    timers: TimerQueue,
}

impl TransactionLayer {
    /// A layer with its own counters.
    pub fn new(config: TransactionConfig) -> TransactionLayer {
        TransactionLayer::with_counters(config, Arc::new(SipCounters::default()))
    }

    /// A layer that counts into `counters` (shared with the transports).
    pub fn with_counters(config: TransactionConfig, counters: Arc<SipCounters>) -> TransactionLayer {
        TransactionLayer {
            ids: IdSource::new(config.seed),
            config,
            counters,
            next_id: 0,
            server: HashMap::new(),
            server_keys: HashMap::new(),
            client: HashMap::new(),
            client_keys: HashMap::new(),
            dialogs: HashMap::new(),
            timers: TimerQueue::default(),
        }
    }

    /// The settings.
    pub fn config(&self) -> &TransactionConfig {
        &self.config
    }

    /// The counters.
    pub fn counters(&self) -> &Arc<SipCounters> {
        &self.counters
    }

    /// A request or a response, dispatched to [`on_request`](Self::on_request) or
    /// [`on_response`](Self::on_response).
    pub fn on_message(
        &mut self,
        message: &SipMessage<'_>,
        source: SocketAddr,
        transport: Transport,
        now: Instant,
    ) -> Vec<Action> {
        if message.is_request() {
            self.on_request(message, source, transport, now)
        } else {
            self.on_response(message, now)
        }
    }

    /// A request from the network: absorbed if it retransmits one of a live
    /// transaction, answered by the layer (100 Trying, CANCEL, OPTIONS, 4xx/5xx
    /// checks), and/or delivered to the application.
    pub fn on_request(
        &mut self,
        request: &SipMessage<'_>,
        source: SocketAddr,
        transport: Transport,
        now: Instant,
    ) -> Vec<Action> {
        let mut actions = Vec::new();
        if !request.is_request() {
            return actions;
        }
        bump(&self.counters.requests_received);
        match request.method() {
            Some(Method::Ack) => self.handle_ack(request, source, transport, now, &mut actions),
            Some(Method::Cancel) => self.handle_cancel(request, source, transport, now, &mut actions),
            _ => self.handle_request(request, source, transport, now, &mut actions),
        }
        self.update_gauges();
        actions
    }

    /// A response from the network, for a request this side sent (BYE).
    pub fn on_response(&mut self, response: &SipMessage<'_>, now: Instant) -> Vec<Action> {
        let mut actions = Vec::new();
        bump(&self.counters.responses_received);
        self.handle_response(response, now, &mut actions);
        self.update_gauges();
        actions
    }

    /// The application's response in transaction `transaction`: sent, stored for
    /// retransmissions, and the transaction moves on (a 2xx to an INVITE starts its
    /// retransmission until the ACK and creates the dialog; a 2xx to BYE ends it).
    pub fn respond(
        &mut self,
        transaction: TransactionId,
        response: Vec<u8>,
        now: Instant,
    ) -> Result<Vec<Action>, RespondError> {
        let unlimited = Limits {
            max_message_size: usize::MAX,
            max_headers: usize::MAX,
            max_line_length: usize::MAX,
        };
        let parsed = parse_message_with(&response, Transport::Udp, &unlimited).map_err(RespondError::Malformed)?;
        let status = parsed.status().ok_or(RespondError::NotAResponse)?;
        let tx = self
            .server
            .get(&transaction)
            .ok_or(RespondError::UnknownTransaction(transaction))?;
        let cseq = parsed.cseq();
        if cseq.number != tx.cseq || cseq.method_name != tx.method_name || parsed.call_id() != tx.echo.call_id {
            return Err(RespondError::Mismatch(transaction));
        }
        let to_tag = parsed.to().tag().map(str::to_owned);
        drop(parsed);
        let mut actions = Vec::new();
        self.send_response(transaction, response, status, to_tag, now, &mut actions)?;
        self.update_gauges();
        Ok(actions)
    }

    /// Fires every timer due at `now`: retransmissions and timeouts.
    pub fn on_timer(&mut self, now: Instant) -> Vec<Action> {
        let mut actions = Vec::new();
        while let Some((id, generation)) = self.timers.pop_due(now) {
            self.fire(TransactionId(id), generation, now, &mut actions);
        }
        self.update_gauges();
        actions
    }

    /// When [`on_timer`](Self::on_timer) should next be called.
    pub fn next_deadline(&self) -> Option<Instant> {
        self.timers.peek()
    }

    /// Ends dialog `dialog` from this side: sends BYE (retransmitted over UDP until a
    /// final response, timer F) and forgets the dialog. The response or the timeout
    /// comes back as [`SipEvent::Response`] / [`SipEvent::Timeout`].
    pub fn send_bye(&mut self, dialog: &DialogId, now: Instant) -> Result<(TransactionId, Vec<Action>), RespondError> {
        let mut actions = Vec::new();
        let id = self.send_in_dialog(dialog, "BYE", now, &mut actions)?;
        self.update_gauges();
        Ok((id, actions))
    }

    /// A dialog in the table.
    pub fn dialog(&self, id: &DialogId) -> Option<&Dialog> {
        self.dialogs.get(id)
    }

    /// Every dialog in the table.
    pub fn dialogs(&self) -> impl Iterator<Item = &Dialog> {
        self.dialogs.values()
    }

    /// Forgets a dialog without sending anything (the application ended it otherwise).
    pub fn remove_dialog(&mut self, id: &DialogId) -> Option<Dialog> {
        let removed = self.dialogs.remove(id);
        self.update_gauges();
        removed
    }

    /// Number of live transactions (server and client).
    pub fn transaction_count(&self) -> usize {
        self.server.len() + self.client.len()
    }

    fn new_id(&mut self) -> TransactionId {
        self.next_id += 1;
        TransactionId(self.next_id)
    }

    /// Drops queue entries of ended or rescheduled transactions from the front, so that
    /// [`next_deadline`](Self::next_deadline) is exact; then updates the gauges.
    fn update_gauges(&mut self) {
        while let Some((id, generation)) = self.timers.first() {
            let id = TransactionId(id);
            let live = self
                .server
                .get(&id)
                .map(|tx| tx.generation)
                .or_else(|| self.client.get(&id).map(|tx| tx.generation));
            if live == Some(generation) {
                break;
            }
            self.timers.pop();
        }
        set(&self.counters.transactions_active, self.transaction_count());
        set(&self.counters.dialogs_active, self.dialogs.len());
    }
}
