//! Requests and responses arriving: matching to transactions and dialogs, absorbing
//! retransmissions, CANCEL, and the layer's own answers.

use std::net::SocketAddr;
use std::time::Instant;

use super::action::{Action, CancelledInvite, IncomingRequest, ResponseReceived, SipEvent};
use super::client::ClientState;
use super::dialog::DialogId;
use super::echo::Echo;
use super::key::TransactionKey;
use super::server::{Deadline, DialogSeed, ServerState, ServerTransaction};
use super::uas::{Rejection, check_request, options_headers};
use super::{TransactionId, TransactionLayer};
use crate::build::ResponseBuilder;
use crate::counters::bump;
use crate::headers::Via;
use crate::message::SipMessage;
use crate::method::Method;
use crate::transport::Transport;

/// Where responses to a request go (RFC 3261 §18.2.2, RFC 3581): the connection on
/// a stream transport; over UDP the source IP, at the source port when the client
/// asked for `rport`, else at the sent-by port (default 5060).
pub(crate) fn response_target(via: Option<&Via<'_>>, source: SocketAddr, transport: Transport) -> SocketAddr {
    match via {
        _ if transport.is_reliable() => source,
        Some(via) if via.rport().is_none() => SocketAddr::new(source.ip(), via.port.unwrap_or(5060)),
        _ => source,
    }
}

impl TransactionLayer {
    pub(super) fn handle_request(
        &mut self,
        request: &SipMessage<'_>,
        source: SocketAddr,
        transport: Transport,
        now: Instant,
        actions: &mut Vec<Action>,
    ) {
        let key = TransactionKey::of(request, None);
        if let Some(id) = self.server_keys.get(&key).copied() {
            self.absorb_retransmission(id, actions);
            return;
        }
        let method = request.method().unwrap_or(Method::Extension);
        let from_tag = request.from().tag().unwrap_or_default().to_owned();
        let dialog_id = request.to().tag().map(|to_tag| DialogId {
            call_id: request.call_id().to_owned(),
            local_tag: to_tag.to_owned(),
            remote_tag: from_tag.clone(),
        });
        let id = self.new_transaction(request, key, source, transport);
        let dialog = dialog_id.as_ref().and_then(|d| self.dialogs.get(d));
        if let Err(rejection) = check_request(request, &self.config, dialog) {
            bump(&self.counters.requests_rejected);
            self.reply(id, rejection, now, actions);
            return;
        }
        if let Some(dialog) = dialog_id.as_ref().and_then(|d| self.dialogs.get_mut(d)) {
            dialog.remote_cseq = request.cseq().number;
        }
        if let Some(tx) = self.server.get_mut(&id) {
            tx.dialog = dialog_id.clone();
            if method == Method::Invite {
                tx.seed = Some(DialogSeed {
                    remote_target: request.contact().map(|c| c.uri.to_owned()).unwrap_or_default(),
                    from_tag,
                });
            }
        }
        if method == Method::Options && self.config.answer_options {
            bump(&self.counters.options_answered);
            let answer = Rejection {
                status: 200,
                reason: "OK",
                headers: options_headers(&self.config),
            };
            self.reply(id, answer, now, actions);
            return;
        }
        if method == Method::Invite {
            self.send_trying(id, actions);
        } else if let Some(tx) = self.server.get_mut(&id) {
            tx.deadline = Some((now + self.config.timeout_64_t1(), Deadline::ApplicationResponse));
            self.schedule(id);
        }
        actions.push(Action::Deliver(SipEvent::Request(IncomingRequest {
            transaction: id,
            method,
            dialog: dialog_id,
            source,
            transport,
            received_at: now,
            bytes: request.as_bytes().to_vec(),
        })));
    }

    pub(super) fn handle_ack(
        &mut self,
        request: &SipMessage<'_>,
        source: SocketAddr,
        transport: Transport,
        now: Instant,
        actions: &mut Vec<Action>,
    ) {
        let key = TransactionKey::of(request, Some("INVITE"));
        if let Some(id) = self.server_keys.get(&key).copied() {
            let t4 = self.config.t4;
            if let Some(tx) = self.server.get_mut(&id) {
                match tx.state {
                    ServerState::Completed => {
                        tx.state = ServerState::Confirmed;
                        tx.retransmit = None;
                        let wait = if tx.transport.is_reliable() {
                            std::time::Duration::ZERO
                        } else {
                            t4
                        };
                        tx.deadline = Some((now + wait, Deadline::TimerI));
                        bump(&self.counters.retransmissions_absorbed);
                        self.schedule(id);
                        return;
                    }
                    ServerState::Confirmed | ServerState::Proceeding | ServerState::Trying => {
                        bump(&self.counters.retransmissions_absorbed);
                        return;
                    }
                    // A 2xx ACK reusing the INVITE's branch: handled through the dialog below.
                    ServerState::Accepted => {}
                }
            }
        }
        let (Some(to_tag), Some(from_tag)) = (request.to().tag(), request.from().tag()) else {
            bump(&self.counters.unmatched_messages);
            return;
        };
        let dialog_id = DialogId {
            call_id: request.call_id().to_owned(),
            local_tag: to_tag.to_owned(),
            remote_tag: from_tag.to_owned(),
        };
        let Some(dialog) = self.dialogs.get_mut(&dialog_id) else {
            bump(&self.counters.unmatched_messages);
            return;
        };
        let Some((cseq, invite)) = dialog.awaiting_ack.filter(|(cseq, _)| *cseq == request.cseq().number) else {
            // A copy of an ACK already delivered, or one for an INVITE long gone.
            bump(&self.counters.retransmissions_absorbed);
            return;
        };
        let _ = cseq;
        dialog.awaiting_ack = None;
        if let Some(tx) = self.server.get_mut(&invite) {
            tx.retransmit = None;
            self.schedule(invite);
        }
        actions.push(Action::Deliver(SipEvent::Ack(IncomingRequest {
            transaction: invite,
            method: Method::Ack,
            dialog: Some(dialog_id),
            source,
            transport,
            received_at: now,
            bytes: request.as_bytes().to_vec(),
        })));
    }

    pub(super) fn handle_cancel(
        &mut self,
        request: &SipMessage<'_>,
        source: SocketAddr,
        transport: Transport,
        now: Instant,
        actions: &mut Vec<Action>,
    ) {
        let key = TransactionKey::of(request, None);
        if let Some(id) = self.server_keys.get(&key).copied() {
            self.absorb_retransmission(id, actions);
            return;
        }
        let invite_key = TransactionKey::of(request, Some("INVITE"));
        let id = self.new_transaction(request, key, source, transport);
        let Some(invite) = self.server_keys.get(&invite_key).copied() else {
            bump(&self.counters.requests_rejected);
            let rejection = Rejection {
                status: 481,
                reason: "Call/Transaction Does Not Exist",
                headers: Vec::new(),
            };
            self.reply(id, rejection, now, actions);
            return;
        };
        let to_tag = self.invite_to_tag(invite);
        if let Some(tx) = self.server.get_mut(&id) {
            tx.to_tag = Some(to_tag.clone());
        }
        let ok = Rejection {
            status: 200,
            reason: "OK",
            headers: Vec::new(),
        };
        self.reply(id, ok, now, actions);
        let pending = self
            .server
            .get(&invite)
            .filter(|tx| tx.state == ServerState::Proceeding)
            .map(|tx| tx.echo.call_id.clone());
        if let Some(call_id) = pending {
            let terminated = Rejection {
                status: 487,
                reason: "Request Terminated",
                headers: Vec::new(),
            };
            self.reply(invite, terminated, now, actions);
            actions.push(Action::Deliver(SipEvent::Cancelled(CancelledInvite {
                invite,
                call_id,
            })));
        }
    }

    pub(super) fn handle_response(&mut self, response: &SipMessage<'_>, now: Instant, actions: &mut Vec<Action>) {
        let Some(status) = response.status() else {
            return;
        };
        let branch = response.top_via().and_then(|via| via.branch().map(str::to_owned));
        let key = (branch.unwrap_or_default(), response.cseq().method_name.to_owned());
        let Some(id) = self.client_keys.get(&key).copied() else {
            bump(&self.counters.unmatched_messages);
            return;
        };
        let k_wait = self.config.t4;
        let t2 = self.config.t2;
        let Some(tx) = self.client.get_mut(&id) else {
            return;
        };
        match (tx.state, status) {
            (ClientState::Completed, _) => bump(&self.counters.retransmissions_absorbed),
            (_, 100..=199) => {
                tx.state = ClientState::Proceeding;
                if let Some(retransmit) = tx.retransmit.as_mut() {
                    retransmit.interval = t2;
                }
            }
            _ => {
                tx.state = ClientState::Completed;
                tx.retransmit = None;
                tx.deadline = if tx.transport.is_reliable() { now } else { now + k_wait };
                let dialog = tx.dialog.clone();
                self.schedule_client(id);
                actions.push(Action::Deliver(SipEvent::Response(ResponseReceived {
                    transaction: id,
                    status,
                    dialog,
                })));
            }
        }
    }

    /// A copy of a request whose transaction exists: re-send the last response.
    fn absorb_retransmission(&mut self, id: TransactionId, actions: &mut Vec<Action>) {
        bump(&self.counters.retransmissions_absorbed);
        let Some(tx) = self.server.get(&id) else {
            return;
        };
        if tx.state == ServerState::Confirmed {
            return;
        }
        if let Some(bytes) = &tx.last_response {
            bump(&self.counters.messages_sent);
            actions.push(Action::Send {
                bytes: bytes.clone(),
                to: tx.reply_to,
                transport: tx.transport,
            });
        }
    }

    fn new_transaction(
        &mut self,
        request: &SipMessage<'_>,
        key: TransactionKey,
        source: SocketAddr,
        transport: Transport,
    ) -> TransactionId {
        let id = self.new_id();
        let top = request.top_via();
        let tx = ServerTransaction {
            key: key.clone(),
            method: request.method().unwrap_or(Method::Extension),
            method_name: request.method_name().unwrap_or_default().to_owned(),
            cseq: request.cseq().number,
            state: if request.method() == Some(Method::Invite) {
                ServerState::Proceeding
            } else {
                ServerState::Trying
            },
            transport,
            source,
            reply_to: response_target(top.as_ref(), source, transport),
            echo: Echo::of(request, source),
            dialog: None,
            created_dialog: false,
            seed: None,
            to_tag: request.to().tag().map(str::to_owned),
            last_response: None,
            retransmit: None,
            deadline: None,
            generation: 0,
        };
        self.server.insert(id, tx);
        self.server_keys.insert(key, id);
        id
    }

    /// The To tag of an INVITE transaction's responses, made up if it has none yet.
    fn invite_to_tag(&mut self, invite: TransactionId) -> String {
        if let Some(tag) = self.server.get(&invite).and_then(|tx| tx.to_tag.clone()) {
            return tag;
        }
        let tag = self.ids.tag();
        if let Some(tx) = self.server.get_mut(&invite) {
            tx.to_tag = Some(tag.clone());
        }
        tag
    }

    /// 100 Trying for a new INVITE (no To tag, RFC 3261 §8.2.6.1).
    fn send_trying(&mut self, id: TransactionId, actions: &mut Vec<Action>) {
        let Some(tx) = self.server.get_mut(&id) else {
            return;
        };
        let mut builder = ResponseBuilder::from_parts(100, "Trying", &tx.echo);
        if let Some(server) = &self.config.server_header {
            builder = builder.header("Server", server);
        }
        let bytes = builder.build();
        tx.last_response = Some(bytes.clone());
        bump(&self.counters.messages_sent);
        actions.push(Action::Send {
            bytes,
            to: tx.reply_to,
            transport: tx.transport,
        });
    }

    /// Answers transaction `id` with the layer's own response.
    pub(super) fn reply(&mut self, id: TransactionId, answer: Rejection, now: Instant, actions: &mut Vec<Action>) {
        let to_tag = match self.server.get(&id) {
            Some(tx) if tx.echo.to_has_tag => None,
            Some(tx) if tx.is_invite() => Some(self.invite_to_tag(id)),
            Some(tx) => Some(tx.to_tag.clone().unwrap_or_else(|| self.ids.tag())),
            None => return,
        };
        let Some(tx) = self.server.get(&id) else {
            return;
        };
        let mut builder = ResponseBuilder::from_parts(answer.status, answer.reason, &tx.echo);
        if let Some(tag) = &to_tag {
            builder = builder.to_tag(tag);
        }
        for (name, value) in &answer.headers {
            builder = builder.header(name, value);
        }
        if let Some(server) = &self.config.server_header {
            builder = builder.header("Server", server);
        }
        let bytes = builder.build();
        // The layer's own responses always fit the transaction's state.
        let _ = self.send_response(id, bytes, answer.status, to_tag, now, actions);
    }
}
