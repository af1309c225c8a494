//! One request and its lifecycle: received → identity verified → searched → decided per
//! recording → fulfilled, or closed at any open step. Each step is a method that checks
//! the state and the policy and changes the request, or refuses without changing it.

use chrono::{DateTime, NaiveDate, Utc};
use policy::{Channel, Fulfilment, Policy, RequestType};
use uuid::Uuid;

use super::deny::{DenyReason, check_deny_reason};
use super::error::RequestError;
use super::names::kind_name;
use super::offer::{check_offer, due_on, is_overdue};

/// The engine's reserved purpose for work on a request (ALL-PURPOSE).
pub const PURPOSE: &str = "data-subject-request";

/// Where a request stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RequestState {
    Received,
    IdentityVerified,
    /// Searched at least once; some recordings found may still wait for a decision.
    Searched,
    /// Every recording found has a decision.
    Decided,
    Fulfilled,
    Closed,
}

impl RequestState {
    pub fn as_str(self) -> &'static str {
        match self {
            RequestState::Received => "received",
            RequestState::IdentityVerified => "identity-verified",
            RequestState::Searched => "searched",
            RequestState::Decided => "decided",
            RequestState::Fulfilled => "fulfilled",
            RequestState::Closed => "closed",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        [
            RequestState::Received,
            RequestState::IdentityVerified,
            RequestState::Searched,
            RequestState::Decided,
            RequestState::Fulfilled,
            RequestState::Closed,
        ]
        .into_iter()
        .find(|s| s.as_str() == text)
    }

    /// Not yet fulfilled or closed: it counts towards the open (and overdue) requests.
    pub fn is_open(self) -> bool {
        !matches!(self, RequestState::Fulfilled | RequestState::Closed)
    }
}

/// Who verified the requester's identity, and how (WEBEO-REQUEST).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verification {
    pub by: String,
    pub method: String,
    pub at: DateTime<Utc>,
}

/// What the handler decided for one recording found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RecordingDecision {
    Fulfil,
    Deny(DenyReason),
}

impl RecordingDecision {
    pub fn as_str(self) -> &'static str {
        match self {
            RecordingDecision::Fulfil => "fulfil",
            RecordingDecision::Deny(_) => "deny",
        }
    }

    pub fn reason(self) -> Option<DenyReason> {
        match self {
            RecordingDecision::Fulfil => None,
            RecordingDecision::Deny(reason) => Some(reason),
        }
    }
}

/// A recording a search found for the request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MatchedRecording {
    pub recording_id: Uuid,
    /// The keyed hash of the subject's number it matched (never the number).
    pub number_hash: String,
    pub started_at: DateTime<Utc>,
    pub found_at: DateTime<Utc>,
    pub decision: Option<RecordingDecision>,
    pub decided_by: Option<String>,
    pub decided_at: Option<DateTime<Utc>>,
    /// What fulfilment did to it: `copied`, `erased`, `kept-legal-hold`, `restricted`...
    pub outcome: Option<String>,
}

/// A denied erasure reported to the supervisory authority (WEBEO-ERASURE).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthorityNotification {
    pub authority: String,
    pub reasons: Vec<DenyReason>,
    pub recordings: Vec<Uuid>,
    pub recorded_at: DateTime<Utc>,
    pub recorded_by: String,
}

/// A new request as received.
#[derive(Debug, Clone)]
pub struct NewRequest<'a> {
    pub id: Uuid,
    pub tenant: &'a str,
    /// The tenant's policy version in force when the request arrived.
    pub policy_version: i64,
    pub kind: RequestType,
    pub channel: Channel,
    pub requester: &'a str,
    pub received_at: DateTime<Utc>,
    pub opened_by: &'a str,
}

/// A data-subject request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    pub id: Uuid,
    pub tenant: String,
    pub policy_version: i64,
    pub kind: RequestType,
    pub fulfilment: Fulfilment,
    pub channel: Channel,
    pub requester: String,
    pub state: RequestState,
    pub received_at: DateTime<Utc>,
    pub due_on: NaiveDate,
    pub opened_by: String,
    pub opened_at: DateTime<Utc>,
    pub verification: Option<Verification>,
    pub matches: Vec<MatchedRecording>,
    pub finished_by: Option<String>,
    pub finished_at: Option<DateTime<Utc>>,
    pub close_reason: Option<String>,
    pub authority_notification: Option<AuthorityNotification>,
    /// When the deadline worker first reported it overdue.
    pub overdue_reported_at: Option<DateTime<Utc>>,
}

fn required(what: &'static str, code: &'static str, text: &str) -> Result<String, RequestError> {
    let text = text.trim();
    if text.is_empty() || text.len() > 500 || text.chars().any(char::is_control) {
        return Err(RequestError::bad_input(
            code,
            format!("{what}: 1-500 printable characters"),
        ));
    }
    Ok(text.to_owned())
}

impl Request {
    /// Receives a request: the policy must offer its type through its channel; the due
    /// date follows from the policy (WEBEO-30DAYS).
    pub fn receive(policy: &Policy, new: &NewRequest<'_>, now: DateTime<Utc>) -> Result<Request, RequestError> {
        let offer = check_offer(policy, new.kind, new.channel)?;
        let requester = required("--requester", "requester-invalid", new.requester)?;
        if new.received_at > now {
            return Err(RequestError::bad_input(
                "received-in-future",
                "--received-at: a request cannot arrive after now",
            ));
        }
        Ok(Request {
            id: new.id,
            tenant: new.tenant.to_owned(),
            policy_version: new.policy_version,
            kind: new.kind,
            fulfilment: offer.fulfilment,
            channel: new.channel,
            requester,
            state: RequestState::Received,
            received_at: new.received_at,
            due_on: due_on(policy, new.received_at),
            opened_by: new.opened_by.to_owned(),
            opened_at: now,
            verification: None,
            matches: Vec::new(),
            finished_by: None,
            finished_at: None,
            close_reason: None,
            authority_notification: None,
            overdue_reported_at: None,
        })
    }

    pub fn is_overdue(&self, now: DateTime<Utc>) -> bool {
        self.state.is_open() && is_overdue(self.due_on, now)
    }

    fn must_be_open(&self) -> Result<(), RequestError> {
        if self.state.is_open() {
            return Ok(());
        }
        Err(RequestError::conflict(
            "request-finished",
            format!("request {} is already {}", self.id, self.state.as_str()),
        ))
    }

    /// Records who verified the requester's identity and how. Nothing is shared before.
    pub fn verify(&mut self, by: &str, method: &str, at: DateTime<Utc>) -> Result<(), RequestError> {
        self.must_be_open()?;
        if self.verification.is_some() {
            return Err(RequestError::conflict(
                "request-already-verified",
                format!("request {}: the identity was already verified", self.id),
            ));
        }
        let method = required("--method", "verification-method-invalid", method)?;
        self.verification = Some(Verification {
            by: by.to_owned(),
            method,
            at,
        });
        self.state = RequestState::IdentityVerified;
        Ok(())
    }

    /// Whether the policy requires identity proof and it is still missing.
    fn identity_missing(&self, policy: &Policy) -> bool {
        policy.rights.identity_proof && self.verification.is_none()
    }

    /// A search for the subject's recordings may run (after verification, WEBEO-REQUEST).
    pub fn check_search(&self, policy: &Policy) -> Result<(), RequestError> {
        self.must_be_open()?;
        if self.identity_missing(policy) {
            return Err(RequestError::refused(
                "identity-not-verified",
                "rights.identity_proof",
                format!("request {}: verify the requester's identity first", self.id),
            ));
        }
        Ok(())
    }

    /// Adds what a search found (recordings already found are kept as they are); returns
    /// how many are new.
    pub fn add_matches(&mut self, found: Vec<MatchedRecording>, policy: &Policy) -> Result<usize, RequestError> {
        self.check_search(policy)?;
        let mut added = 0;
        for m in found {
            if self.matches.iter().all(|known| known.recording_id != m.recording_id) {
                self.matches.push(m);
                added += 1;
            }
        }
        self.matches.sort_by_key(|m| (m.started_at, m.recording_id));
        self.settle();
        Ok(added)
    }

    /// Searched, or decided once every recording found has a decision.
    fn settle(&mut self) {
        let all = !self.matches.is_empty() && self.matches.iter().all(|m| m.decision.is_some());
        self.state = if all {
            RequestState::Decided
        } else {
            RequestState::Searched
        };
    }

    fn searched(&self) -> bool {
        matches!(self.state, RequestState::Searched | RequestState::Decided)
    }

    /// Decides for one recording found: fulfil, or deny with a reason from the list.
    pub fn decide(
        &mut self,
        recording: Uuid,
        decision: RecordingDecision,
        by: &str,
        at: DateTime<Utc>,
    ) -> Result<(), RequestError> {
        self.must_be_open()?;
        if !self.searched() {
            return Err(RequestError::conflict(
                "request-not-searched",
                format!("request {}: search for the subject's recordings first", self.id),
            ));
        }
        if let RecordingDecision::Deny(reason) = decision {
            check_deny_reason(self.kind, reason)?;
        }
        let id = self.id;
        let Some(m) = self.matches.iter_mut().find(|m| m.recording_id == recording) else {
            return Err(RequestError::conflict(
                "recording-not-in-request",
                format!("recording {recording} was not found by a search of request {id}"),
            ));
        };
        m.decision = Some(decision);
        m.decided_by = Some(by.to_owned());
        m.decided_at = Some(at);
        self.settle();
        Ok(())
    }

    /// Whether the request can be fulfilled now: identity verified, and (for a type that
    /// concerns recordings) searched with a decision for every recording found.
    pub fn check_fulfil(&self, policy: &Policy) -> Result<(), RequestError> {
        self.must_be_open()?;
        if self.identity_missing(policy) {
            return Err(RequestError::refused(
                "identity-not-verified",
                "rights.identity_proof",
                format!(
                    "request {}: nothing is shared before the requester's identity is verified",
                    self.id
                ),
            ));
        }
        if self.fulfilment == Fulfilment::Statement {
            return Ok(());
        }
        if !self.searched() {
            return Err(RequestError::conflict(
                "request-not-searched",
                format!("request {}: search for the subject's recordings first", self.id),
            ));
        }
        let open = self.matches.iter().filter(|m| m.decision.is_none()).count();
        if open > 0 {
            return Err(RequestError::conflict(
                "request-undecided",
                format!("request {}: {open} recording(s) found still need a decision", self.id),
            ));
        }
        Ok(())
    }

    /// The recordings to act on, and those refused.
    pub fn fulfilled_recordings(&self) -> impl Iterator<Item = &MatchedRecording> {
        self.matches
            .iter()
            .filter(|m| m.decision == Some(RecordingDecision::Fulfil))
    }

    /// The notification a denied erasure requires (WEBEO-ERASURE), if any.
    pub fn authority_notification_due(
        &self,
        policy: &Policy,
        by: &str,
        at: DateTime<Utc>,
    ) -> Option<AuthorityNotification> {
        if self.kind != RequestType::Erasure || !policy.rights.erasure_denial_notifies_authority {
            return None;
        }
        let mut reasons: Vec<DenyReason> = self.matches.iter().filter_map(|m| m.decision?.reason()).collect();
        if reasons.is_empty() {
            return None;
        }
        reasons.sort();
        reasons.dedup();
        Some(AuthorityNotification {
            authority: policy
                .controller
                .supervisory_authority
                .clone()
                .unwrap_or_else(|| "the supervisory authority".into()),
            reasons,
            recordings: self
                .matches
                .iter()
                .filter(|m| matches!(m.decision, Some(RecordingDecision::Deny(_))))
                .map(|m| m.recording_id)
                .collect(),
            recorded_at: at,
            recorded_by: by.to_owned(),
        })
    }

    /// Marks the request fulfilled (after the service carried out every decision).
    pub fn fulfil(
        &mut self,
        policy: &Policy,
        outcomes: &[(Uuid, String)],
        by: &str,
        at: DateTime<Utc>,
    ) -> Result<(), RequestError> {
        self.check_fulfil(policy)?;
        for (id, outcome) in outcomes {
            if let Some(m) = self.matches.iter_mut().find(|m| m.recording_id == *id) {
                m.outcome = Some(outcome.clone());
            }
        }
        self.authority_notification = self.authority_notification_due(policy, by, at);
        self.state = RequestState::Fulfilled;
        self.finished_by = Some(by.to_owned());
        self.finished_at = Some(at);
        Ok(())
    }

    /// Closes an open request without fulfilling it (withdrawn by the requester, identity
    /// never proven...), with a reason.
    pub fn close(&mut self, by: &str, reason: &str, at: DateTime<Utc>) -> Result<(), RequestError> {
        self.must_be_open()?;
        let reason = required("--reason", "reason-required", reason)?;
        self.state = RequestState::Closed;
        self.close_reason = Some(reason);
        self.finished_by = Some(by.to_owned());
        self.finished_at = Some(at);
        Ok(())
    }

    /// Checks that the request releases `recording` to the data subject as a copy: the
    /// identity is verified, the recording was found and its decision is to fulfil, and
    /// the request's type is fulfilled by a copy. The bundle reads audio only after this,
    /// under the reserved purpose `data-subject-request` (ALL-PURPOSE).
    pub fn check_copy(&self, policy: &Policy, recording: Uuid) -> Result<(), RequestError> {
        self.check_fulfil(policy)?;
        if self.fulfilment != Fulfilment::Copy {
            return Err(RequestError::refused(
                "request-not-a-copy",
                "rights.requests",
                format!(
                    "a {} request under policy {} is not fulfilled by a copy",
                    kind_name(self.kind),
                    policy.policy.id
                ),
            ));
        }
        if self.fulfilled_recordings().all(|m| m.recording_id != recording) {
            return Err(RequestError::conflict(
                "recording-not-released",
                format!("request {} does not release recording {recording}", self.id),
            ));
        }
        Ok(())
    }
}
