//! Data-subject requests (POSTI-RIGHTS, WEBEO-REQUEST, WEBEO-30DAYS, WEBEO-ERASURE,
//! ARLO-WITHDRAW, CSI-COPY, ALL-DSAR): each step of a request as an operation of the
//! service, by a person holding the role the policy names (`rights.handled_by`), each
//! audited. The rules are `governance::requests`; this module finds, stores and carries
//! the decisions out (the copy bundle is `bundle.rs`).
//!
//! Restriction (GDPR art. 18) freezes every use but storage: reads and exports are
//! refused (`recording-restricted`) and the recording is kept through retention (a hold
//! moves its key out of reach of its retention day) until the restriction is lifted.
//! An objection (a ban on use) stops use the same way but retention still ends it.
//!
//! Supervised playback (POSTI-SUPERVISED) sessions are `playback.rs`; fulfilling such a
//! request needs a session for every recording it released.

use chrono::{DateTime, NaiveDate, NaiveTime, TimeDelta, Utc};
use governance::authz::{AccessAction, Workflow};
use governance::identity::Principal;
use governance::requests::{
    self as core, MatchedRecording, NewRequest, PlaybackEnd, RecordingDecision, Request, RequestError, RequestErrorKind,
};
use governance::{Actor, AuditEvent, Outcome};
use policy::{Fulfilment, Policy, RequestType};
use serde::Serialize;
use uuid::Uuid;

use crate::Service;
use crate::access::Ask;
use crate::bundle::Bundle;
use crate::error::{ErrorKind, ServiceError};
use crate::playback::PlaybackView;

/// The widest window around an approximate time of a call.
const MAX_WINDOW_MINUTES: u32 = 24 * 60;

/// Who the deadline worker acts as in the audit log.
const DEADLINES: &str = "system:request-deadlines";

impl From<RequestError> for ServiceError {
    fn from(err: RequestError) -> Self {
        let kind = match err.kind {
            RequestErrorKind::BadInput => ErrorKind::BadInput,
            RequestErrorKind::Refused => ErrorKind::Refused,
            RequestErrorKind::Forbidden => ErrorKind::Forbidden,
            RequestErrorKind::Conflict => ErrorKind::Conflict,
            RequestErrorKind::Gone => ErrorKind::Gone,
        };
        ServiceError {
            kind,
            code: err.code.into(),
            message: err.message,
            rule: err.rule.map(Into::into),
        }
    }
}

/// A new request as the handler enters it.
#[derive(Debug, Clone)]
pub struct OpenRequest<'a> {
    pub tenant: &'a str,
    /// `erasure`, `copy`, `consent-withdrawal`...
    pub kind: &'a str,
    /// `email`, `phone`, `post`, `web`, `in-person`.
    pub channel: &'a str,
    pub requester: &'a str,
    /// The subject's numbers, E.164 or national (the tenant's country).
    pub numbers: &'a [String],
    /// When it arrived (default: now); the due date counts from it.
    pub received_at: Option<DateTime<Utc>>,
}

/// A search for the subject's recordings: by number, and by the date and approximate
/// time of the call ± a window (WEBEO-REQUEST). No date: every recording of the number;
/// a date without a time: that whole day (UTC).
#[derive(Debug, Clone)]
pub struct SubjectSearch<'a> {
    /// More numbers of the subject; the request's own numbers are always searched.
    pub numbers: &'a [String],
    pub date: Option<NaiveDate>,
    pub time: Option<NaiveTime>,
    pub window_minutes: u32,
}

/// A decision for one recording as given on the command line.
#[derive(Debug, Clone, Copy)]
pub enum DecisionInput<'a> {
    Fulfil,
    /// A deny reason from `governance::requests::DENY_REASONS`.
    Deny(&'a str),
}

/// A request as shown to its handlers.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct RequestView {
    pub id: String,
    pub tenant: String,
    pub policy_version: i64,
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub fulfilment: &'static str,
    pub channel: &'static str,
    pub requester: String,
    pub state: &'static str,
    pub received_at: DateTime<Utc>,
    pub due_on: NaiveDate,
    pub overdue: bool,
    pub opened_by: String,
    pub verification: Option<VerificationView>,
    /// The subject's numbers, masked.
    pub numbers: Vec<String>,
    pub recordings: Vec<FoundRecordingView>,
    pub consents: Vec<ConsentView>,
    pub restrictions: Vec<RestrictionView>,
    pub finished_at: Option<DateTime<Utc>>,
    pub finished_by: Option<String>,
    pub close_reason: Option<String>,
    pub authority_notification: Option<NotificationView>,
    /// Supervised playback sessions (POSTI-SUPERVISED): who opened which, when.
    pub playback_sessions: Vec<PlaybackView>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct VerificationView {
    pub by: String,
    pub method: String,
    pub at: DateTime<Utc>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct FoundRecordingView {
    pub recording_id: String,
    pub started_at: DateTime<Utc>,
    pub decision: Option<&'static str>,
    pub deny_reason: Option<&'static str>,
    pub decided_by: Option<String>,
    pub outcome: Option<String>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ConsentView {
    pub recording_id: String,
    pub participant: i64,
    pub recorded_by: String,
    pub recorded_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct RestrictionView {
    pub recording_id: String,
    pub kind: String,
    pub placed_at: DateTime<Utc>,
    pub lifted_at: Option<DateTime<Utc>>,
}

/// The notification of a denied erasure to the supervisory authority (WEBEO-ERASURE).
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct NotificationView {
    pub authority: String,
    pub reasons: Vec<&'static str>,
    pub recordings: Vec<String>,
    pub recorded_at: DateTime<Utc>,
    pub recorded_by: String,
}

/// What fulfilling a request produced.
#[derive(Debug, Clone)]
pub struct RequestFulfilment {
    pub request: RequestView,
    /// The copy for the data subject, for copy and portability requests.
    pub bundle: Option<Bundle>,
}

fn request_id(text: &str) -> Result<Uuid, ServiceError> {
    text.parse()
        .map_err(|_| ServiceError::new(ErrorKind::NotFound, "request-not-found", "no such request"))
}

pub(crate) fn recording_id(text: &str) -> Result<Uuid, ServiceError> {
    text.parse()
        .map_err(|_| ServiceError::new(ErrorKind::NotFound, "recording-not-in-request", "not a recording id"))
}

/// The audit event of one step; `tenant` and the request id, never personal data.
pub(crate) fn step(
    principal_actor: &str,
    action: &str,
    outcome: Outcome,
    request: &Request,
    now: DateTime<Utc>,
) -> AuditEvent {
    AuditEvent::new(now, principal_actor, action, outcome)
        .tenant(&request.tenant)
        .detail(serde_json::json!({"request_id": request.id}))
}

pub(crate) fn with_detail(mut event: AuditEvent, extra: serde_json::Value) -> AuditEvent {
    if !event.detail.is_object() {
        event.detail = serde_json::json!({});
    }
    if let (Some(base), Some(more)) = (event.detail.as_object_mut(), extra.as_object()) {
        for (k, v) in more {
            base.insert(k.clone(), v.clone());
        }
    }
    event
}

/// The window of a subject search, as `[from, to]`.
fn search_window(search: &SubjectSearch<'_>) -> (DateTime<Utc>, DateTime<Utc>) {
    let window = TimeDelta::minutes(i64::from(search.window_minutes));
    match (search.date, search.time) {
        (Some(date), Some(time)) => {
            let at = date.and_time(time).and_utc();
            (at - window, at + window)
        }
        (Some(date), None) => {
            let start = date.and_hms_opt(0, 0, 0).expect("midnight").and_utc();
            (start, start + TimeDelta::days(1) - TimeDelta::microseconds(1))
        }
        // Years 1 to 9999: stored timestamps compare as fixed-width text.
        (None, _) => (
            NaiveDate::from_ymd_opt(1, 1, 1)
                .expect("year 1")
                .and_hms_opt(0, 0, 0)
                .expect("midnight")
                .and_utc(),
            NaiveDate::from_ymd_opt(9999, 12, 31)
                .expect("year 9999")
                .and_hms_opt(23, 59, 59)
                .expect("end of day")
                .and_utc(),
        ),
    }
}

impl Service {
    /// The tenant's active policy, after checking that `principal` handles its requests
    /// (a refusal is audited as `action` denied).
    async fn request_handler(
        &self,
        principal: &Principal,
        tenant: &str,
        action: &str,
        request: Option<Uuid>,
        now: DateTime<Utc>,
    ) -> Result<Policy, ServiceError> {
        self.known_tenant(tenant).await?;
        let (policy, _) = self.active_policy(tenant).await?;
        let ask = Ask {
            action: AccessAction::HandleRequest,
            purpose: "",
            reason: "",
            workflow: None,
        };
        let decision = self.decide_on_tenant(principal, tenant, ask, now).await?;
        if !decision.is_allowed() {
            self.audit(
                AuditEvent::new(now, &principal.actor(), action, Outcome::Denied)
                    .tenant(tenant)
                    .detail(serde_json::json!({"code": "role-required", "rules": decision.reasons(), "request_id": request})),
            )
            .await?;
            return Err(ServiceError {
                kind: ErrorKind::Forbidden,
                code: "role-required".into(),
                message: format!(
                    "data-subject requests of tenant {tenant} are handled by role {} ({})",
                    policy.rights.handled_by,
                    decision.code()
                ),
                rule: Some("rights.handled_by".into()),
            });
        }
        Ok(policy)
    }

    /// A stored request, its handler checked, and the policy version it was received under.
    pub(crate) async fn handled_request(
        &self,
        principal: &Principal,
        id: &str,
        action: &str,
        now: DateTime<Utc>,
    ) -> Result<(Request, Policy), ServiceError> {
        let id = request_id(id)?;
        let request = match self.vault.catalog().request(id).await {
            Ok(request) => request,
            Err(vault::VaultError::NotFound(_)) => {
                return Err(ServiceError::new(
                    ErrorKind::NotFound,
                    "request-not-found",
                    format!("no request {id}"),
                ));
            }
            Err(err) => return Err(err.into()),
        };
        if request.tenant != principal.tenant {
            // Another tenant's request answers like one that does not exist (audited).
            self.audit(
                AuditEvent::new(now, &principal.actor(), action, Outcome::Denied)
                    .tenant(&principal.tenant)
                    .detail(serde_json::json!({"code": "request-not-found", "request_id": id})),
            )
            .await?;
            return Err(ServiceError::new(
                ErrorKind::NotFound,
                "request-not-found",
                format!("no request {id}"),
            ));
        }
        self.request_handler(principal, &request.tenant, action, Some(id), now)
            .await?;
        let policy = Self::parse_stored_policy(&self.policy_version(&request.tenant, request.policy_version).await?)?;
        Ok((request, policy))
    }

    /// Audits a refused step and returns the error.
    pub(crate) async fn refuse_step(
        &self,
        principal: &Principal,
        action: &str,
        request: &Request,
        err: RequestError,
        now: DateTime<Utc>,
    ) -> ServiceError {
        let event = with_detail(
            step(&principal.actor(), action, Outcome::Denied, request, now),
            serde_json::json!({"code": err.code}),
        );
        if let Err(audit) = self.audit(event).await {
            return audit;
        }
        err.into()
    }

    /// Normalises, hashes and masks the subject's numbers.
    async fn subject_numbers(
        &self,
        tenant: &str,
        numbers: &[String],
    ) -> Result<Vec<vault::RequestNumber>, ServiceError> {
        let country = self.tenant(tenant).await?.country;
        let hasher = redact::NumberHasher::new(self.vault.number_hash_key());
        numbers
            .iter()
            .map(|raw| {
                let e164 = redact::normalize_e164(raw, country.as_deref())
                    .map_err(|e| ServiceError::bad_input("number-invalid", format!("--number: {e}")))?;
                Ok(vault::RequestNumber {
                    number_hash: hasher.hash(&e164),
                    masked: redact::mask_number(&e164, 3),
                    e164: Some(e164),
                })
            })
            .collect()
    }

    /// Receives a request (step 1): type and channel must be offered by the tenant's
    /// policy; the due date follows from it.
    pub async fn open_request(
        &self,
        principal: &Principal,
        open: &OpenRequest<'_>,
        now: DateTime<Utc>,
    ) -> Result<RequestView, ServiceError> {
        let kind = core::parse_kind(open.kind)?;
        let channel = core::parse_channel(open.channel)?;
        let policy = self
            .request_handler(principal, open.tenant, "request.open", None, now)
            .await?;
        let (_, record) = self.active_policy(open.tenant).await?;
        let numbers = self.subject_numbers(open.tenant, open.numbers).await?;
        let actor = principal.actor();
        let new = NewRequest {
            id: Uuid::now_v7(),
            tenant: open.tenant,
            policy_version: record.version,
            kind,
            channel,
            requester: open.requester,
            received_at: open.received_at.unwrap_or(now),
            opened_by: &actor,
        };
        let request = match Request::receive(&policy, &new, now) {
            Ok(request) => request,
            Err(err) => {
                self.audit(
                    AuditEvent::new(now, &actor, "request.open", Outcome::Denied)
                        .tenant(open.tenant)
                        .detail(serde_json::json!({"code": err.code, "type": open.kind, "channel": open.channel})),
                )
                .await?;
                return Err(err.into());
            }
        };
        self.vault.catalog().insert_request(&request, &numbers).await?;
        self.audit(with_detail(
            step(&actor, "request.open", Outcome::Done, &request, now),
            serde_json::json!({
                "type": core::kind_name(kind),
                "channel": core::channel_name(channel),
                "due_on": request.due_on,
                "numbers": numbers.len(),
            }),
        ))
        .await?;
        self.request_view(&request, now).await
    }

    /// Records the identity check (step 2, WEBEO-REQUEST).
    pub async fn verify_request(
        &self,
        principal: &Principal,
        id: &str,
        method: &str,
        now: DateTime<Utc>,
    ) -> Result<RequestView, ServiceError> {
        let (mut request, _) = self.handled_request(principal, id, "request.verify", now).await?;
        if let Err(err) = request.verify(&principal.actor(), method, now) {
            return Err(self.refuse_step(principal, "request.verify", &request, err, now).await);
        }
        self.vault.catalog().save_request(&request).await?;
        self.audit(step(&principal.actor(), "request.verify", Outcome::Done, &request, now))
            .await?;
        self.request_view(&request, now).await
    }

    /// Searches the subject's recordings (step 3) under the reserved purpose
    /// `data-subject-request`, by the keyed hash of each of their numbers.
    pub async fn search_request(
        &self,
        principal: &Principal,
        id: &str,
        search: &SubjectSearch<'_>,
        now: DateTime<Utc>,
    ) -> Result<RequestView, ServiceError> {
        if search.window_minutes > MAX_WINDOW_MINUTES {
            return Err(ServiceError::bad_input(
                "window-invalid",
                format!("--window-minutes: at most {MAX_WINDOW_MINUTES} (a day)"),
            ));
        }
        let (mut request, policy) = self.handled_request(principal, id, "request.search", now).await?;
        if let Err(err) = request.check_search(&policy) {
            return Err(self.refuse_step(principal, "request.search", &request, err, now).await);
        }
        let catalog = self.vault.catalog();
        let extra = self.subject_numbers(&request.tenant, search.numbers).await?;
        if !extra.is_empty() {
            catalog.add_request_numbers(request.id, &extra).await?;
        }
        let numbers = catalog.request_numbers(request.id).await?;
        if numbers.is_empty() {
            return Err(ServiceError::bad_input(
                "number-required",
                "a search needs the subject's number: give --number",
            ));
        }
        let (from, to) = search_window(search);
        let mut found = Vec::new();
        for number in &numbers {
            for hit in catalog
                .search_subject(&request.tenant, &number.number_hash, from, to)
                .await?
            {
                found.push(MatchedRecording {
                    recording_id: hit.recording_id,
                    number_hash: hit.number_hash,
                    started_at: hit.started_at,
                    found_at: now,
                    decision: None,
                    decided_by: None,
                    decided_at: None,
                    outcome: None,
                });
            }
        }
        let total = found.len();
        let added = request.add_matches(found, &policy)?;
        catalog.save_request(&request).await?;
        let reason = format!("data-subject request {}", request.id);
        self.audit(with_detail(
            step(&principal.actor(), "request.search", Outcome::Done, &request, now).purpose(core::PURPOSE, &reason),
            serde_json::json!({
                "numbers": numbers.len(),
                "window": search.date.map(|_| serde_json::json!({"from": from, "to": to})),
                "found": total,
                "new": added,
            }),
        ))
        .await?;
        self.request_view(&request, now).await
    }

    /// Decides for one recording found (step 4): fulfil, or deny with a listed reason.
    pub async fn decide_request(
        &self,
        principal: &Principal,
        id: &str,
        recording: &str,
        decision: DecisionInput<'_>,
        now: DateTime<Utc>,
    ) -> Result<RequestView, ServiceError> {
        let (mut request, _) = self.handled_request(principal, id, "request.decide", now).await?;
        let recording = recording_id(recording)?;
        let decision = match decision {
            DecisionInput::Fulfil => RecordingDecision::Fulfil,
            DecisionInput::Deny(reason) => RecordingDecision::Deny(core::DenyReason::parse(reason)?),
        };
        if let Err(err) = request.decide(recording, decision, &principal.actor(), now) {
            return Err(self.refuse_step(principal, "request.decide", &request, err, now).await);
        }
        self.vault.catalog().save_request(&request).await?;
        self.audit(
            with_detail(
                step(&principal.actor(), "request.decide", Outcome::Done, &request, now),
                serde_json::json!({
                    "decision": decision.as_str(),
                    "reason": decision.reason().map(core::DenyReason::as_str),
                }),
            )
            .recording(recording),
        )
        .await?;
        self.request_view(&request, now).await
    }

    /// Records a participant's consent to a copy of a recording found (CSI-COPY).
    /// `participant` is the participant's index or role (`agent`, `customer`...).
    pub async fn record_copy_consent(
        &self,
        principal: &Principal,
        id: &str,
        recording: &str,
        participant: &str,
        evidence: &str,
        now: DateTime<Utc>,
    ) -> Result<RequestView, ServiceError> {
        let (request, _) = self.handled_request(principal, id, "request.consent", now).await?;
        let recording = recording_id(recording)?;
        if !request.state.is_open() || request.matches.iter().all(|m| m.recording_id != recording) {
            let err = RequestError {
                kind: RequestErrorKind::Conflict,
                code: if request.state.is_open() {
                    "recording-not-in-request"
                } else {
                    "request-finished"
                },
                rule: None,
                message: format!("request {} has no open decision on recording {recording}", request.id),
            };
            return Err(self.refuse_step(principal, "request.consent", &request, err, now).await);
        }
        let evidence = evidence.trim();
        if evidence.is_empty() || evidence.len() > 500 {
            return Err(ServiceError::bad_input(
                "consent-evidence-required",
                "--evidence: how the consent was given, 1-500 characters",
            ));
        }
        let parties = self.vault.catalog().participants_of(recording).await?;
        let idx = parties
            .iter()
            .find(|p| p.idx.to_string() == participant || p.role == participant)
            .map(|p| p.idx)
            .ok_or_else(|| {
                ServiceError::bad_input(
                    "participant-unknown",
                    format!(
                        "--participant: recording {recording} has {}",
                        parties
                            .iter()
                            .map(|p| format!("{} ({})", p.idx, p.role))
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                )
            })?;
        let consent = vault::CopyConsent {
            recording_id: recording,
            participant: idx,
            evidence: evidence.to_owned(),
            recorded_by: principal.actor(),
            recorded_at: now,
        };
        self.vault.catalog().insert_copy_consent(request.id, &consent).await?;
        self.audit(
            with_detail(
                step(&principal.actor(), "request.consent", Outcome::Done, &request, now),
                serde_json::json!({"participant": idx}),
            )
            .recording(recording),
        )
        .await?;
        self.request_view(&request, now).await
    }

    /// Fulfils a request (step 5): copy and portability produce the bundle; erasure
    /// erases now what no legal hold keeps; consent withdrawal erases at once, within
    /// this call (ARLO-WITHDRAW); restriction and objection freeze use. A denied
    /// erasure records the notification to the supervisory authority (WEBEO-ERASURE).
    pub async fn fulfil_request(
        &self,
        principal: &Principal,
        id: &str,
        now: DateTime<Utc>,
    ) -> Result<RequestFulfilment, ServiceError> {
        let (mut request, policy) = self.handled_request(principal, id, "request.fulfil", now).await?;
        if let Err(err) = request.check_fulfil(&policy) {
            return Err(self.refuse_step(principal, "request.fulfil", &request, err, now).await);
        }
        let actor = principal.actor();
        let mut bundle = None;
        let outcomes: Vec<(Uuid, String)> = match (request.fulfilment, request.kind) {
            (Fulfilment::Copy, _) => match self.build_copy_bundle(principal, &request, &policy, now).await {
                Ok((built, outcomes)) => {
                    bundle = Some(built);
                    outcomes
                }
                Err(err) => {
                    let event = with_detail(
                        step(&actor, "request.fulfil", Outcome::Denied, &request, now),
                        serde_json::json!({"code": err.code}),
                    );
                    self.audit(event).await?;
                    return Err(err);
                }
            },
            (Fulfilment::Erase, _) => self.erase_for_request(principal, &request, now).await?,
            (Fulfilment::Freeze, kind) => self.freeze_for_request(&request, kind, &actor, now).await?,
            (Fulfilment::SupervisedPlayback, _) => {
                let sessions = self.vault.catalog().playback_sessions_of_request(request.id).await?;
                match request.playback_outcomes(&sessions) {
                    Ok(outcomes) => outcomes,
                    Err(err) => return Err(self.refuse_step(principal, "request.fulfil", &request, err, now).await),
                }
            }
            (Fulfilment::Statement, _) => Vec::new(),
        };
        request.fulfil(&policy, &outcomes, &actor, now)?;
        self.vault.catalog().save_request(&request).await?;
        self.end_request_playbacks(&request, PlaybackEnd::RequestFulfilled, &actor, now)
            .await?;
        let reason = format!("data-subject request {}", request.id);
        self.audit(with_detail(
            step(&actor, "request.fulfil", Outcome::Done, &request, now).purpose(core::PURPOSE, &reason),
            serde_json::json!({
                "type": core::kind_name(request.kind),
                "fulfilment": core::fulfilment_name(request.fulfilment),
                "outcomes": outcomes.iter().map(|(id, o)| serde_json::json!({"recording_id": id, "outcome": o})).collect::<Vec<_>>(),
                "bundle_manifest_sha256": bundle.as_ref().map(|b: &Bundle| b.manifest_sha256.clone()),
            }),
        ))
        .await?;
        if let Some(notice) = &request.authority_notification {
            self.audit(with_detail(
                step(&actor, "request.authority-notification", Outcome::Done, &request, now),
                serde_json::json!({
                    "authority": notice.authority,
                    "reasons": notice.reasons.iter().map(|r| r.as_str()).collect::<Vec<_>>(),
                    "recordings": notice.recordings,
                }),
            ))
            .await?;
        }
        Ok(RequestFulfilment {
            request: self.request_view(&request, now).await?,
            bundle,
        })
    }

    /// Erases every recording decided `fulfil`, unless a legal hold keeps it. Each
    /// erasure is a Cedar decision (`delete` inside the data-subject-request workflow).
    async fn erase_for_request(
        &self,
        principal: &Principal,
        request: &Request,
        now: DateTime<Utc>,
    ) -> Result<Vec<(Uuid, String)>, ServiceError> {
        let reason = format!(
            "data-subject request {} ({})",
            request.id,
            core::kind_name(request.kind)
        );
        let actor = Actor::from(principal.clone());
        let mut outcomes = Vec::new();
        for m in request.fulfilled_recordings() {
            let entry = match self.vault.catalog().visible_entry(m.recording_id).await {
                Ok(entry) => entry,
                Err(vault::VaultError::NotFound(_)) => {
                    outcomes.push((m.recording_id, "already-erased".to_owned()));
                    continue;
                }
                Err(err) => return Err(err.into()),
            };
            let ask = Ask {
                action: AccessAction::Delete,
                purpose: core::PURPOSE,
                reason: &reason,
                workflow: Some(Workflow::DataSubjectRequest),
            };
            let (_, decision) = self
                .authorize_recording(&actor, &entry.recording, ask, "recording.erase", now)
                .await?;
            let mut detail = crate::access::decision_detail(&decision);
            detail["request_id"] = serde_json::json!(request.id);
            let outcome = match self
                .erase_authorized(&entry, &reason, &principal.actor(), detail, now)
                .await
            {
                Ok(_) => "erased",
                Err(err) if err.kind == ErrorKind::Conflict => "kept-legal-hold",
                Err(err) => return Err(err),
            };
            outcomes.push((m.recording_id, outcome.to_owned()));
        }
        Ok(outcomes)
    }

    /// Restriction: use stops and a hold keeps the recording through retention.
    /// Objection: use stops; retention still ends the recording.
    async fn freeze_for_request(
        &self,
        request: &Request,
        kind: RequestType,
        actor: &str,
        now: DateTime<Utc>,
    ) -> Result<Vec<(Uuid, String)>, ServiceError> {
        let catalog = self.vault.catalog();
        let mut outcomes = Vec::new();
        for m in request.fulfilled_recordings() {
            if catalog.visible_entry(m.recording_id).await.is_err() {
                outcomes.push((m.recording_id, "already-erased".to_owned()));
                continue;
            }
            let hold_id = if kind == RequestType::Restriction {
                let hold = vault::LegalHold {
                    id: Uuid::now_v7(),
                    tenant: request.tenant.clone(),
                    recording_id: m.recording_id,
                    reason: format!("restriction (GDPR art. 18), data-subject request {}", request.id),
                    placed_by: actor.to_owned(),
                    placed_at: now,
                    expires_at: None,
                    lifted_at: None,
                    lifted_by: None,
                };
                self.vault.place_hold(&hold).await?;
                Some(hold.id)
            } else {
                None
            };
            let kind_text = if kind == RequestType::Restriction {
                "restriction"
            } else {
                "objection"
            };
            catalog
                .insert_restriction(&vault::Restriction {
                    recording_id: m.recording_id,
                    request_id: request.id,
                    tenant: request.tenant.clone(),
                    kind: kind_text.to_owned(),
                    hold_id,
                    placed_by: actor.to_owned(),
                    placed_at: now,
                    lifted_by: None,
                    lifted_at: None,
                })
                .await?;
            self.audit(
                AuditEvent::new(now, actor, "recording.restrict", Outcome::Done)
                    .tenant(&request.tenant)
                    .recording(m.recording_id)
                    .detail(serde_json::json!({"request_id": request.id, "kind": kind_text, "hold_id": hold_id})),
            )
            .await?;
            let outcome = if kind == RequestType::Restriction {
                "restricted"
            } else {
                "use-stopped"
            };
            outcomes.push((m.recording_id, outcome.to_owned()));
        }
        Ok(outcomes)
    }

    /// Lifts the restrictions (and objections) a request placed: use resumes and a
    /// restricted recording's key goes back under its retention day.
    pub async fn lift_request_restrictions(
        &self,
        principal: &Principal,
        id: &str,
        now: DateTime<Utc>,
    ) -> Result<RequestView, ServiceError> {
        let (request, _) = self
            .handled_request(principal, id, "request.lift-restriction", now)
            .await?;
        let catalog = self.vault.catalog();
        let mut lifted = Vec::new();
        for r in catalog.restrictions_of_request(request.id).await? {
            if r.lifted_at.is_some()
                || !catalog
                    .lift_restriction(r.recording_id, request.id, &principal.actor(), now)
                    .await?
            {
                continue;
            }
            if let Some(hold) = r.hold_id {
                match self.vault.lift_hold(hold, &principal.actor(), now).await {
                    Ok(_) | Err(vault::VaultError::Conflict(_)) => {}
                    Err(err) => return Err(err.into()),
                }
            }
            lifted.push(r.recording_id);
        }
        if lifted.is_empty() {
            return Err(ServiceError::new(
                ErrorKind::Conflict,
                "no-restriction",
                format!("request {} has no restriction in force", request.id),
            ));
        }
        self.audit(with_detail(
            step(
                &principal.actor(),
                "request.lift-restriction",
                Outcome::Done,
                &request,
                now,
            ),
            serde_json::json!({"recordings": lifted}),
        ))
        .await?;
        self.request_view(&request, now).await
    }

    /// Closes an open request without fulfilling it, with a reason.
    pub async fn close_request(
        &self,
        principal: &Principal,
        id: &str,
        reason: &str,
        now: DateTime<Utc>,
    ) -> Result<RequestView, ServiceError> {
        let (mut request, _) = self.handled_request(principal, id, "request.close", now).await?;
        if let Err(err) = request.close(&principal.actor(), reason, now) {
            return Err(self.refuse_step(principal, "request.close", &request, err, now).await);
        }
        self.vault.catalog().save_request(&request).await?;
        self.end_request_playbacks(&request, PlaybackEnd::RequestClosed, &principal.actor(), now)
            .await?;
        self.audit(step(&principal.actor(), "request.close", Outcome::Done, &request, now))
            .await?;
        self.request_view(&request, now).await
    }

    /// One request.
    pub async fn show_request(
        &self,
        principal: &Principal,
        id: &str,
        now: DateTime<Utc>,
    ) -> Result<RequestView, ServiceError> {
        let (request, _) = self.handled_request(principal, id, "request.show", now).await?;
        self.audit(step(
            &principal.actor(),
            "request.show",
            Outcome::Allowed,
            &request,
            now,
        ))
        .await?;
        self.request_view(&request, now).await
    }

    /// The requests of a tenant (default: the handler's own), oldest first; with
    /// `overdue_only`, the open ones past their due date at `now` (WEBEO-30DAYS).
    pub async fn list_requests(
        &self,
        principal: &Principal,
        tenant: Option<&str>,
        overdue_only: bool,
        now: DateTime<Utc>,
    ) -> Result<Vec<RequestView>, ServiceError> {
        let tenant = tenant.unwrap_or(&principal.tenant);
        let action = if overdue_only {
            "request.overdue"
        } else {
            "request.list"
        };
        self.request_handler(principal, tenant, action, None, now).await?;
        let requests = self.vault.catalog().requests(Some(tenant), overdue_only).await?;
        self.audit(
            AuditEvent::new(now, &principal.actor(), action, Outcome::Allowed)
                .tenant(tenant)
                .detail(serde_json::json!({"count": requests.len()})),
        )
        .await?;
        let mut out = Vec::new();
        for request in requests.iter().filter(|r| !overdue_only || r.is_overdue(now)) {
            out.push(self.request_view(request, now).await?);
        }
        Ok(out)
    }

    /// The deadline worker's pass: every open request past its due date at `now` that
    /// was not reported yet is reported once (audited, returned) (WEBEO-30DAYS).
    pub async fn report_overdue_requests(&self, now: DateTime<Utc>) -> Result<Vec<RequestView>, ServiceError> {
        let mut reported = Vec::new();
        for mut request in self.vault.catalog().requests(None, true).await? {
            if !request.is_overdue(now) || request.overdue_reported_at.is_some() {
                continue;
            }
            request.overdue_reported_at = Some(now);
            self.vault.catalog().save_request(&request).await?;
            self.audit(with_detail(
                step(DEADLINES, "request.overdue", Outcome::Done, &request, now),
                serde_json::json!({"due_on": request.due_on, "type": core::kind_name(request.kind)}),
            ))
            .await?;
            reported.push(self.request_view(&request, now).await?);
        }
        Ok(reported)
    }

    /// Open and overdue requests of a tenant at `now` (the compliance report).
    pub(crate) async fn request_counts(&self, tenant: &str, now: DateTime<Utc>) -> Result<(i64, i64), ServiceError> {
        Ok(self.vault.catalog().request_counts(tenant, now.date_naive()).await?)
    }

    /// Refuses a use of a restricted recording (or one whose use the subject objected
    /// to): `event` is audited as denied with code `recording-restricted`.
    pub(crate) async fn refuse_if_restricted(&self, recording: Uuid, event: &AuditEvent) -> Result<(), ServiceError> {
        let restrictions = self.vault.catalog().active_restrictions(recording).await?;
        let Some(first) = restrictions.first() else {
            return Ok(());
        };
        let mut denied = with_detail(
            event.clone(),
            serde_json::json!({"code": "recording-restricted", "request_id": first.request_id}),
        );
        denied.outcome = Outcome::Denied;
        self.audit(denied).await?;
        Err(ServiceError {
            kind: ErrorKind::Forbidden,
            code: "recording-restricted".into(),
            message: format!(
                "recording {recording} is under a {} by data-subject request {}: only storage continues",
                first.kind, first.request_id
            ),
            rule: Some("rights.requests".into()),
        })
    }

    async fn request_view(&self, request: &Request, now: DateTime<Utc>) -> Result<RequestView, ServiceError> {
        let catalog = self.vault.catalog();
        let numbers = catalog.request_numbers(request.id).await?;
        let consents = catalog.copy_consents(request.id).await?;
        let restrictions = catalog.restrictions_of_request(request.id).await?;
        Ok(RequestView {
            id: request.id.to_string(),
            tenant: request.tenant.clone(),
            policy_version: request.policy_version,
            kind: core::kind_name(request.kind),
            fulfilment: core::fulfilment_name(request.fulfilment),
            channel: core::channel_name(request.channel),
            requester: request.requester.clone(),
            state: request.state.as_str(),
            received_at: request.received_at,
            due_on: request.due_on,
            overdue: request.is_overdue(now),
            opened_by: request.opened_by.clone(),
            verification: request.verification.as_ref().map(|v| VerificationView {
                by: v.by.clone(),
                method: v.method.clone(),
                at: v.at,
            }),
            numbers: numbers.into_iter().map(|n| n.masked).collect(),
            recordings: request
                .matches
                .iter()
                .map(|m| FoundRecordingView {
                    recording_id: m.recording_id.to_string(),
                    started_at: m.started_at,
                    decision: m.decision.map(RecordingDecision::as_str),
                    deny_reason: m
                        .decision
                        .and_then(RecordingDecision::reason)
                        .map(core::DenyReason::as_str),
                    decided_by: m.decided_by.clone(),
                    outcome: m.outcome.clone(),
                })
                .collect(),
            consents: consents
                .into_iter()
                .map(|c| ConsentView {
                    recording_id: c.recording_id.to_string(),
                    participant: c.participant,
                    recorded_by: c.recorded_by,
                    recorded_at: c.recorded_at,
                })
                .collect(),
            restrictions: restrictions
                .into_iter()
                .map(|r| RestrictionView {
                    recording_id: r.recording_id.to_string(),
                    kind: r.kind,
                    placed_at: r.placed_at,
                    lifted_at: r.lifted_at,
                })
                .collect(),
            finished_at: request.finished_at,
            finished_by: request.finished_by.clone(),
            close_reason: request.close_reason.clone(),
            authority_notification: request.authority_notification.as_ref().map(|n| NotificationView {
                authority: n.authority.clone(),
                reasons: n.reasons.iter().map(|r| r.as_str()).collect(),
                recordings: n.recordings.iter().map(ToString::to_string).collect(),
                recorded_at: n.recorded_at,
                recorded_by: n.recorded_by.clone(),
            }),
            playback_sessions: catalog
                .playback_sessions_of_request(request.id)
                .await?
                .iter()
                .map(|s| PlaybackView::of(s, now))
                .collect(),
        })
    }
}
