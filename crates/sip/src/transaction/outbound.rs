//! Responses and requests leaving: state transitions on sending, retransmission
//! timers and timeouts.

use std::time::Instant;

use super::action::{Action, TimeoutKind, TransactionTimeout};
use super::client::{ClientState, ClientTransaction};
use super::dialog::{Dialog, DialogId, DialogState};
use super::server::{Deadline, Retransmit, ServerState};
use super::{RespondError, TransactionId, TransactionLayer};
use crate::build::RequestBuilder;
use crate::counters::bump;
use crate::method::Method;

impl TransactionLayer {
    /// Sends `bytes` (a response with `status` and To tag `to_tag`) in server
    /// transaction `id` and moves the transaction (and its dialog) on.
    pub(super) fn send_response(
        &mut self,
        id: TransactionId,
        bytes: Vec<u8>,
        status: u16,
        to_tag: Option<String>,
        now: Instant,
        actions: &mut Vec<Action>,
    ) -> Result<(), RespondError> {
        let t1 = self.config.t1;
        let timeout = self.config.timeout_64_t1();
        let tx = self.server.get_mut(&id).ok_or(RespondError::UnknownTransaction(id))?;
        if !matches!(tx.state, ServerState::Trying | ServerState::Proceeding) {
            return Err(RespondError::FinalAlreadySent(id));
        }
        let is_invite = tx.is_invite();
        let new_dialog = is_invite && tx.dialog.is_none();
        if new_dialog && (200..300).contains(&status) && to_tag.is_none() {
            return Err(RespondError::MissingToTag);
        }
        if to_tag.is_some() && tx.to_tag.is_none() {
            tx.to_tag.clone_from(&to_tag);
        }
        let reliable = tx.transport.is_reliable();
        match status {
            100..=199 => tx.state = ServerState::Proceeding,
            200..=299 if is_invite => {
                tx.state = ServerState::Accepted;
                tx.retransmit = Some(Retransmit {
                    at: now + t1,
                    interval: t1,
                });
                tx.deadline = Some((now + timeout, Deadline::TimerL));
            }
            _ if is_invite => {
                tx.state = ServerState::Completed;
                tx.retransmit = (!reliable).then_some(Retransmit {
                    at: now + t1,
                    interval: t1,
                });
                tx.deadline = Some((now + timeout, Deadline::TimerH));
            }
            _ => {
                tx.state = ServerState::Completed;
                let wait = if reliable { std::time::Duration::ZERO } else { timeout };
                tx.deadline = Some((now + wait, Deadline::TimerJ));
            }
        }
        tx.last_response = Some(bytes.clone());
        bump(&self.counters.messages_sent);
        actions.push(Action::Send {
            bytes,
            to: tx.reply_to,
            transport: tx.transport,
        });
        let method = tx.method;
        let dialog = tx.dialog.clone();
        let created = tx.created_dialog;
        match status {
            101..=299 if is_invite => self.dialog_on_answer(id, status, to_tag),
            300..=699 if is_invite && created => {
                if let Some(dialog) = dialog {
                    self.dialogs.remove(&dialog);
                }
            }
            200..=299 if method == Method::Bye => {
                if let Some(dialog) = dialog {
                    self.dialogs.remove(&dialog);
                }
            }
            _ => {}
        }
        self.schedule(id);
        Ok(())
    }

    /// Creates or updates the dialog of INVITE transaction `id` after a 101–299 response.
    fn dialog_on_answer(&mut self, id: TransactionId, status: u16, to_tag: Option<String>) {
        let Some(tx) = self.server.get_mut(&id) else {
            return;
        };
        let confirmed = (200..300).contains(&status);
        let dialog_id = match (&tx.dialog, &to_tag, &tx.seed) {
            (Some(existing), _, _) => existing.clone(),
            (None, Some(tag), Some(seed)) => DialogId {
                call_id: tx.echo.call_id.clone(),
                local_tag: tag.clone(),
                remote_tag: seed.from_tag.clone(),
            },
            _ => return,
        };
        let remote_target = tx
            .seed
            .as_ref()
            .map(|seed| seed.remote_target.clone())
            .unwrap_or_default();
        if tx.dialog.is_none() {
            tx.dialog = Some(dialog_id.clone());
            tx.created_dialog = true;
            let local = match &to_tag {
                Some(tag) if !tx.echo.to_has_tag => format!("{};tag={tag}", tx.echo.to),
                _ => tx.echo.to.clone(),
            };
            let dialog = Dialog {
                id: dialog_id.clone(),
                state: DialogState::Early,
                local,
                remote: tx.echo.from.clone(),
                remote_target: remote_target.clone(),
                route_set: tx.echo.record_route.clone(),
                remote_cseq: tx.cseq,
                local_cseq: 0,
                peer: tx.source,
                transport: tx.transport,
                awaiting_ack: None,
            };
            self.dialogs.entry(dialog_id.clone()).or_insert(dialog);
        }
        let cseq = tx.cseq;
        if let Some(dialog) = self.dialogs.get_mut(&dialog_id) {
            if confirmed {
                dialog.state = DialogState::Confirmed;
                dialog.awaiting_ack = Some((cseq, id));
            }
            if !remote_target.is_empty() {
                dialog.remote_target = remote_target;
            }
        }
    }

    /// Sends `method` in dialog `dialog` through a new non-INVITE client transaction.
    pub(super) fn send_in_dialog(
        &mut self,
        dialog_id: &DialogId,
        method: &str,
        now: Instant,
        actions: &mut Vec<Action>,
    ) -> Result<TransactionId, RespondError> {
        let branch = self.ids.branch();
        let dialog = self.dialogs.get_mut(dialog_id).ok_or(RespondError::UnknownDialog)?;
        dialog.local_cseq = dialog.local_cseq.saturating_add(1);
        let via = format!(
            "SIP/2.0/{} {};branch={branch};rport",
            dialog.transport.via_name(),
            self.config.via_sent_by
        );
        let uri = if dialog.remote_target.is_empty() {
            // No Contact was given: fall back to the peer's address.
            format!("sip:{}", dialog.peer)
        } else {
            dialog.remote_target.clone()
        };
        let request = RequestBuilder::new(method, &uri)
            .via(&via)
            .routes(&dialog.route_set)
            .from(&dialog.local)
            .to(&dialog.remote)
            .call_id(&dialog_id.call_id)
            .cseq(dialog.local_cseq)
            .build();
        let (to, transport) = (dialog.peer, dialog.transport);
        if method == Method::Bye.as_str() {
            self.dialogs.remove(dialog_id);
        }
        let id = self.new_id();
        let t1 = self.config.t1;
        let tx = ClientTransaction {
            key: (branch, method.to_owned()),
            request: request.clone(),
            to,
            transport,
            state: ClientState::Trying,
            dialog: Some(dialog_id.clone()),
            retransmit: (!transport.is_reliable()).then_some(Retransmit {
                at: now + t1,
                interval: t1,
            }),
            deadline: now + self.config.timeout_64_t1(),
            generation: 0,
        };
        self.client_keys.insert(tx.key.clone(), id);
        self.client.insert(id, tx);
        self.schedule_client(id);
        bump(&self.counters.messages_sent);
        actions.push(Action::Send {
            bytes: request,
            to,
            transport,
        });
        Ok(id)
    }

    /// Puts server transaction `id`'s next timer in the queue.
    pub(super) fn schedule(&mut self, id: TransactionId) {
        if let Some(tx) = self.server.get_mut(&id) {
            tx.generation += 1;
            if let Some(at) = tx.next_timer() {
                self.timers.push(at, id.0, tx.generation);
            }
        }
    }

    /// Puts client transaction `id`'s next timer in the queue.
    pub(super) fn schedule_client(&mut self, id: TransactionId) {
        if let Some(tx) = self.client.get_mut(&id) {
            tx.generation += 1;
            self.timers.push(tx.next_timer(), id.0, tx.generation);
        }
    }

    /// A queued timer of transaction `id` at `generation` is due.
    pub(super) fn fire(&mut self, id: TransactionId, generation: u64, now: Instant, actions: &mut Vec<Action>) {
        if self.client.contains_key(&id) {
            self.fire_client(id, generation, now, actions);
            return;
        }
        let t2 = self.config.t2;
        let Some(tx) = self.server.get_mut(&id) else {
            return;
        };
        if tx.generation != generation {
            return;
        }
        if let Some((at, deadline)) = tx.deadline
            && at <= now
        {
            self.expire(id, deadline, actions);
            return;
        }
        if let Some(retransmit) = tx.retransmit.as_mut()
            && retransmit.at <= now
        {
            retransmit.interval = (retransmit.interval * 2).min(t2);
            retransmit.at = now + retransmit.interval;
            if let Some(bytes) = &tx.last_response {
                bump(&self.counters.retransmissions_sent);
                bump(&self.counters.messages_sent);
                actions.push(Action::Send {
                    bytes: bytes.clone(),
                    to: tx.reply_to,
                    transport: tx.transport,
                });
            }
        }
        self.schedule(id);
    }

    /// Server transaction `id` reached `deadline`: it ends, reporting a timeout when
    /// something was missed.
    fn expire(&mut self, id: TransactionId, deadline: Deadline, actions: &mut Vec<Action>) {
        let Some(tx) = self.server.remove(&id) else {
            return;
        };
        self.server_keys.remove(&tx.key);
        let awaited_ack = tx
            .dialog
            .as_ref()
            .and_then(|d| self.dialogs.get(d))
            .and_then(|d| d.awaiting_ack)
            .is_some_and(|(_, waiting)| waiting == id);
        let kind = match deadline {
            Deadline::TimerH => Some(TimeoutKind::AckForFailure),
            Deadline::TimerL if awaited_ack => Some(TimeoutKind::AckFor2xx),
            Deadline::ApplicationResponse => Some(TimeoutKind::NoApplicationResponse),
            Deadline::TimerL | Deadline::TimerI | Deadline::TimerJ => None,
        };
        if awaited_ack && let Some(dialog) = tx.dialog.as_ref().and_then(|d| self.dialogs.get_mut(d)) {
            dialog.awaiting_ack = None;
        }
        if let Some(kind) = kind {
            bump(&self.counters.transaction_timeouts);
            let timeout = TransactionTimeout {
                transaction: id,
                kind,
                dialog: tx.dialog.clone(),
            };
            actions.push(Action::TransactionTimeout(timeout));
        }
    }

    fn fire_client(&mut self, id: TransactionId, generation: u64, now: Instant, actions: &mut Vec<Action>) {
        let t2 = self.config.t2;
        let Some(tx) = self.client.get_mut(&id) else {
            return;
        };
        if tx.generation != generation {
            return;
        }
        if tx.deadline <= now {
            let Some(tx) = self.client.remove(&id) else {
                return;
            };
            self.client_keys.remove(&tx.key);
            if tx.state != ClientState::Completed {
                bump(&self.counters.transaction_timeouts);
                actions.push(Action::TransactionTimeout(TransactionTimeout {
                    transaction: id,
                    kind: TimeoutKind::NoResponse,
                    dialog: tx.dialog,
                }));
            }
            return;
        }
        if let Some(retransmit) = tx.retransmit.as_mut()
            && retransmit.at <= now
        {
            retransmit.interval = (retransmit.interval * 2).min(t2);
            retransmit.at = now + retransmit.interval;
            bump(&self.counters.retransmissions_sent);
            bump(&self.counters.messages_sent);
            actions.push(Action::Send {
                bytes: tx.request.clone(),
                to: tx.to,
                transport: tx.transport,
            });
        }
        self.schedule_client(id);
    }
}
