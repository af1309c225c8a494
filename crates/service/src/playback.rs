//! Supervised playback (POSTI-SUPERVISED): the request handler opens a time-limited
//! session in which the visiting data subject listens to one recording a
//! supervised-playback request released. The session streams only: there is no copy and
//! no download, and every open, stream, close and use after expiry is audited under the
//! reserved purpose `data-subject-request`. The rules are `governance::requests`.
//!
//! Each stream is read through the one read path (`read_audio`, action `listen` inside
//! the data-subject-request workflow) as the handler who opened the session, as they are
//! at that moment: a handler who lost the role, the training or the account stops the
//! session's audio too.

use chrono::{DateTime, Utc};
use governance::authz::{AccessAction, Workflow};
use governance::identity::{AuthMethod, Principal, Secret, UserStatus};
use governance::requests::{self as core, NewPlayback, PlaybackEnd, PlaybackSession, Request};
use governance::{Actor, AuditEvent, Outcome};
use serde::Serialize;
use uuid::Uuid;

use crate::access::Ask;
use crate::error::{ErrorKind, ServiceError};
use crate::requests::{recording_id, step, with_detail};
use crate::{ExportFormat, ExportRequest, Service};

/// A playback session as shown to handlers (never its token).
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct PlaybackView {
    pub id: String,
    pub request_id: String,
    pub recording_id: String,
    pub opened_by: String,
    pub opened_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    /// `active`, `expired` or `closed` at the time of the answer.
    pub state: &'static str,
    pub ended_at: Option<DateTime<Utc>>,
    pub ended_by: Option<String>,
    /// `closed`, `request-fulfilled` or `request-closed`.
    pub end: Option<&'static str>,
    /// Where the audio streams: `GET` with the session token.
    pub audio_path: String,
}

impl PlaybackView {
    pub(crate) fn of(s: &PlaybackSession, now: DateTime<Utc>) -> Self {
        PlaybackView {
            id: s.id.to_string(),
            request_id: s.request_id.to_string(),
            recording_id: s.recording_id.to_string(),
            opened_by: s.opened_by.clone(),
            opened_at: s.opened_at,
            expires_at: s.expires_at,
            state: s.state(now).as_str(),
            ended_at: s.ended_at,
            ended_by: s.ended_by.clone(),
            end: s.end.map(PlaybackEnd::as_str),
            audio_path: audio_path(s.id),
        }
    }
}

/// The path of a session's audio on the HTTP API.
pub fn audio_path(session: Uuid) -> String {
    format!("/v1/playback/{session}/audio")
}

/// A session just opened, with its token: shown once, never stored (no `Debug` of the
/// value: `Secret` prints `***`).
#[derive(Debug, Clone)]
pub struct OpenedPlayback {
    pub session: PlaybackView,
    pub token: Secret,
}

/// The audio of one stream of a session (the whole WAV; the API cuts a range from it).
#[derive(Debug, Clone)]
pub struct PlaybackAudio {
    pub session: Uuid,
    pub wav: Vec<u8>,
}

fn not_found() -> ServiceError {
    ServiceError::new(ErrorKind::NotFound, "playback-not-found", "no such playback session")
}

/// The reason every read of a session names in the audit log.
fn reason_of(s: &PlaybackSession) -> String {
    format!(
        "data-subject request {}, supervised playback session {}",
        s.request_id, s.id
    )
}

fn session_event(actor: &str, action: &str, outcome: Outcome, s: &PlaybackSession, now: DateTime<Utc>) -> AuditEvent {
    AuditEvent::new(now, actor, action, outcome)
        .tenant(&s.tenant)
        .recording(s.recording_id)
        .purpose(core::PURPOSE, &reason_of(s))
        .detail(serde_json::json!({"request_id": s.request_id, "session_id": s.id}))
}

impl Service {
    /// Opens a playback session for `recording` of request `id` (POSTI-SUPERVISED), by
    /// its handler, lasting `minutes` (default 30, 1 to 120). Refused for a request not
    /// fulfilled by supervised playback, a recording not released, an undecided or
    /// finished request; the recording must still exist and Cedar must allow `listen`
    /// in the data-subject-request workflow.
    pub async fn open_playback(
        &self,
        principal: &Principal,
        id: &str,
        recording: &str,
        minutes: Option<u32>,
        now: DateTime<Utc>,
    ) -> Result<OpenedPlayback, ServiceError> {
        let (request, policy) = self.handled_request(principal, id, "playback.open", now).await?;
        let recording = recording_id(recording)?;
        let actor = principal.actor();
        let new = NewPlayback {
            id: Uuid::now_v7(),
            recording,
            minutes,
            opened_by: &actor,
            now,
        };
        let opened = match PlaybackSession::open(&request, &policy, &new, &mut rand::rngs::OsRng) {
            Ok(opened) => opened,
            Err(err) => return Err(self.refuse_step(principal, "playback.open", &request, err, now).await),
        };
        let entry = match self.vault.catalog().visible_entry(recording).await {
            Ok(entry) => entry,
            Err(vault::VaultError::NotFound(_)) => {
                self.audit(with_detail(
                    step(&actor, "playback.open", Outcome::Denied, &request, now),
                    serde_json::json!({"code": "recording-erased", "recording_id": recording}),
                ))
                .await?;
                return Err(ServiceError::new(
                    ErrorKind::NotFound,
                    "recording-erased",
                    format!("recording {recording} no longer exists"),
                ));
            }
            Err(err) => return Err(err.into()),
        };
        let reason = reason_of(&opened.session);
        let ask = Ask {
            action: AccessAction::Listen,
            purpose: core::PURPOSE,
            reason: &reason,
            workflow: Some(Workflow::DataSubjectRequest),
        };
        let as_actor = Actor::from(principal.clone());
        self.authorize_recording(&as_actor, &entry.recording, ask, "playback.open", now)
            .await?;
        self.vault.catalog().insert_playback_session(&opened.session).await?;
        let mut event = session_event(&actor, "playback.open", Outcome::Done, &opened.session, now);
        event = with_detail(
            event,
            serde_json::json!({"expires_at": opened.session.expires_at, "to": "data-subject"}),
        );
        self.audit(event).await?;
        Ok(OpenedPlayback {
            session: PlaybackView::of(&opened.session, now),
            token: opened.token,
        })
    }

    /// Closes a session early (the visit is over), by a handler of its request.
    pub async fn close_playback(
        &self,
        principal: &Principal,
        session: &str,
        now: DateTime<Utc>,
    ) -> Result<PlaybackView, ServiceError> {
        let id: Uuid = session.parse().map_err(|_| not_found())?;
        let Some(mut found) = self.vault.catalog().playback_session(id).await? else {
            return Err(not_found());
        };
        let (request, _) = self
            .handled_request(principal, &found.request_id.to_string(), "playback.close", now)
            .await?;
        let expired = found.state(now) == core::PlaybackState::Expired;
        if let Err(err) = found.close(&principal.actor(), PlaybackEnd::Closed, now) {
            return Err(self.refuse_step(principal, "playback.close", &request, err, now).await);
        }
        if !self.vault.catalog().end_playback_session(&found).await? {
            return Err(ServiceError::new(
                ErrorKind::Conflict,
                "playback-closed",
                format!("playback session {id} was already closed"),
            ));
        }
        self.audit(with_detail(
            session_event(&principal.actor(), "playback.close", Outcome::Done, &found, now),
            serde_json::json!({"end": "closed", "expired": expired}),
        ))
        .await?;
        Ok(PlaybackView::of(&found, now))
    }

    /// Ends the active sessions of a request that was fulfilled or closed (audited each;
    /// an expired session already ended by its expiry).
    pub(crate) async fn end_request_playbacks(
        &self,
        request: &Request,
        end: PlaybackEnd,
        actor: &str,
        now: DateTime<Utc>,
    ) -> Result<(), ServiceError> {
        let catalog = self.vault.catalog();
        for mut session in catalog.playback_sessions_of_request(request.id).await? {
            if session.state(now) != core::PlaybackState::Active
                || session.close(actor, end, now).is_err()
                || !catalog.end_playback_session(&session).await?
            {
                continue;
            }
            self.audit(with_detail(
                session_event(actor, "playback.close", Outcome::Done, &session, now),
                serde_json::json!({"end": end.as_str()}),
            ))
            .await?;
        }
        Ok(())
    }

    /// The audio of a session, for the holder of its token: refused without the right
    /// token (401), after its expiry or close (410, `playback-expired` audited as
    /// `playback.expired-use`, `playback-closed`), and unless the handler who opened it
    /// may still listen within the workflow (Cedar, as they are now). Mono WAV, all
    /// streams mixed, like the listen endpoint's default.
    pub async fn stream_playback(
        &self,
        session: &str,
        token: Option<&Secret>,
        now: DateTime<Utc>,
    ) -> Result<PlaybackAudio, ServiceError> {
        let found = match session.parse::<Uuid>() {
            Ok(id) => self.vault.catalog().playback_session(id).await?,
            Err(_) => None,
        };
        let Some(found) = found else {
            self.audit(
                AuditEvent::new(now, "anonymous", "playback.stream", Outcome::Denied)
                    .detail(serde_json::json!({"code": "playback-not-found"})),
            )
            .await?;
            return Err(not_found());
        };
        let refuse = |action: &str, code: &str| {
            with_detail(
                session_event("anonymous", action, Outcome::Denied, &found, now),
                serde_json::json!({"code": code}),
            )
        };
        if !token.is_some_and(|t| found.token_matches(t)) {
            let code = if token.is_none() {
                "playback-token-required"
            } else {
                "playback-token-invalid"
            };
            self.audit(refuse("playback.stream", code)).await?;
            return Err(ServiceError::new(
                ErrorKind::Unauthenticated,
                code,
                "this session's audio needs its token: Authorization: Bearer <session token> or ?token=",
            ));
        }
        if let Err(err) = found.check_stream(now) {
            let action = if err.code == "playback-expired" {
                "playback.expired-use"
            } else {
                "playback.stream"
            };
            self.audit(refuse(action, err.code)).await?;
            return Err(err.into());
        }
        let opener = self.playback_opener(&found, now).await?;
        let recording = found.recording_id.to_string();
        let reason = reason_of(&found);
        let read = ExportRequest {
            id: &recording,
            purpose: core::PURPOSE,
            reason: &reason,
            format: ExportFormat::Wav,
            stream: None,
        };
        let audio = self
            .read_audio(
                &read,
                AccessAction::Listen,
                Some(Workflow::DataSubjectRequest),
                &Actor::from(opener.clone()),
                now,
            )
            .await?;
        self.audit(with_detail(
            session_event(&opener.actor(), "playback.stream", Outcome::Allowed, &found, now),
            serde_json::json!({"to": "data-subject", "bytes": audio.wav.len()}),
        ))
        .await?;
        Ok(PlaybackAudio {
            session: found.id,
            wav: audio.wav,
        })
    }

    /// The handler who opened a session, as they are at `now`; a deleted or locked
    /// account ends the session's audio (403, audited).
    async fn playback_opener(&self, s: &PlaybackSession, now: DateTime<Utc>) -> Result<Principal, ServiceError> {
        let name = s
            .opened_by
            .strip_prefix("user:")
            .and_then(|q| q.split_once('/'))
            .filter(|(tenant, _)| *tenant == s.tenant)
            .map(|(_, name)| name);
        let record = match name {
            Some(name) => self.vault.catalog().user(&s.tenant, name).await?,
            None => None,
        };
        match record.filter(|r| r.user.status != UserStatus::Locked) {
            Some(record) => self.principal_of(&record, AuthMethod::PlaybackSession, None, now).await,
            None => {
                self.audit(with_detail(
                    session_event(&s.opened_by, "playback.stream", Outcome::Denied, s, now),
                    serde_json::json!({"code": "playback-opener-unavailable"}),
                ))
                .await?;
                Err(ServiceError::new(
                    ErrorKind::Forbidden,
                    "playback-opener-unavailable",
                    "the handler who opened this session can no longer act",
                ))
            }
        }
    }
}

#[cfg(test)]
#[path = "playback_tests.rs"]
mod tests;
