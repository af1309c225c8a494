//! Supervised playback (POSTI-SUPERVISED): where the policy fulfils a request type by
//! `supervised-playback` (Posti: access, "Man lyssnar på inspelningen på Postis
//! verksamhetsställe"), the request handler opens a time-limited session in which the
//! visiting data subject listens to one recording the request released. A session
//! streams only (no copy, no download), ends at its expiry or when closed, and is found
//! by an unguessable token of which only the SHA-256 is stored.
//!
//! Pure: ids, time and randomness come in as parameters.

use chrono::{DateTime, TimeDelta, Utc};
use policy::{Fulfilment, Policy};
use rand::{CryptoRng, RngCore};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use super::error::RequestError;
use super::lifecycle::Request;
use super::names::kind_name;
use crate::identity::Secret;

/// A session's length when none is asked for.
pub const PLAYBACK_DEFAULT_MINUTES: u32 = 30;
/// The longest session: a visit, not a standing right to listen.
pub const PLAYBACK_MAX_MINUTES: u32 = 120;

const TOKEN_PREFIX: &str = "cv_playback_";

/// Why a session ended before its expiry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PlaybackEnd {
    /// Closed by a handler (the visit is over).
    Closed,
    /// The request was fulfilled: its sessions end with it.
    RequestFulfilled,
    /// The request was closed without fulfilment.
    RequestClosed,
}

impl PlaybackEnd {
    pub fn as_str(self) -> &'static str {
        match self {
            PlaybackEnd::Closed => "closed",
            PlaybackEnd::RequestFulfilled => "request-fulfilled",
            PlaybackEnd::RequestClosed => "request-closed",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        [
            PlaybackEnd::Closed,
            PlaybackEnd::RequestFulfilled,
            PlaybackEnd::RequestClosed,
        ]
        .into_iter()
        .find(|e| e.as_str() == text)
    }
}

/// Where a session stands at a given time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PlaybackState {
    Active,
    Expired,
    Closed,
}

impl PlaybackState {
    pub fn as_str(self) -> &'static str {
        match self {
            PlaybackState::Active => "active",
            PlaybackState::Expired => "expired",
            PlaybackState::Closed => "closed",
        }
    }
}

/// One playback session for one recording of one request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlaybackSession {
    pub id: Uuid,
    pub request_id: Uuid,
    pub tenant: String,
    pub recording_id: Uuid,
    /// Hex SHA-256 of the token; the token itself is shown once and never stored.
    pub token_hash: String,
    pub opened_by: String,
    pub opened_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub ended_at: Option<DateTime<Utc>>,
    pub ended_by: Option<String>,
    pub end: Option<PlaybackEnd>,
}

/// A session to open.
#[derive(Debug, Clone, Copy)]
pub struct NewPlayback<'a> {
    pub id: Uuid,
    pub recording: Uuid,
    /// Its length in minutes (default 30, 1 to 120).
    pub minutes: Option<u32>,
    pub opened_by: &'a str,
    pub now: DateTime<Utc>,
}

/// A session just opened, with its token (shown once).
#[derive(Debug, Clone)]
pub struct OpenedSession {
    pub session: PlaybackSession,
    pub token: Secret,
}

/// The expiry of a session opened at `now` for `minutes` (default 30, 1 to 120).
pub fn playback_expiry(minutes: Option<u32>, now: DateTime<Utc>) -> Result<DateTime<Utc>, RequestError> {
    let minutes = minutes.unwrap_or(PLAYBACK_DEFAULT_MINUTES);
    if !(1..=PLAYBACK_MAX_MINUTES).contains(&minutes) {
        return Err(RequestError::bad_input(
            "playback-minutes-invalid",
            format!("--minutes: a playback session lasts 1 to {PLAYBACK_MAX_MINUTES} minutes"),
        ));
    }
    Ok(now + TimeDelta::minutes(i64::from(minutes)))
}

/// The stored hash of a playback token, or `None` for a value not shaped like one (it is
/// refused before any lookup).
pub fn playback_token_hash(value: &Secret) -> Option<String> {
    let rest = value.expose().strip_prefix(TOKEN_PREFIX)?;
    let shaped = rest.len() == 64 && rest.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
    shaped.then(|| hex::encode(Sha256::digest(value.expose().as_bytes())))
}

/// A fresh token (`cv_playback_` and 32 random bytes in hex) and its hash.
fn generate_token(rng: &mut (impl RngCore + CryptoRng)) -> (Secret, String) {
    let mut bytes = [0u8; 32];
    rng.fill_bytes(&mut bytes);
    let value = Secret::new(format!("{TOKEN_PREFIX}{}", hex::encode(bytes)));
    zeroize::Zeroize::zeroize(&mut bytes);
    let hash = hex::encode(Sha256::digest(value.expose().as_bytes()));
    (value, hash)
}

impl Request {
    /// Checks that the request releases `recording` to the data subject by supervised
    /// playback: the identity is verified, every recording found is decided, the request's
    /// type is fulfilled by supervised playback (never by a copy: the two never mix), and
    /// this recording's decision is to fulfil.
    pub fn check_playback(&self, policy: &Policy, recording: Uuid) -> Result<(), RequestError> {
        self.check_fulfil(policy)?;
        if self.fulfilment != Fulfilment::SupervisedPlayback {
            return Err(RequestError::refused(
                "request-not-supervised-playback",
                "rights.requests",
                format!(
                    "a {} request under policy {} is not fulfilled by supervised playback",
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

    /// The outcome of fulfilling a supervised-playback request: every recording released
    /// was played in at least one session (`played-supervised`); otherwise the request
    /// cannot be fulfilled yet (`playback-not-held`: close it if the subject never came).
    pub fn playback_outcomes(&self, sessions: &[PlaybackSession]) -> Result<Vec<(Uuid, String)>, RequestError> {
        let mut outcomes = Vec::new();
        let mut missing = Vec::new();
        for m in self.fulfilled_recordings() {
            if sessions.iter().any(|s| s.recording_id == m.recording_id) {
                outcomes.push((m.recording_id, "played-supervised".to_owned()));
            } else {
                missing.push(m.recording_id.to_string());
            }
        }
        if !missing.is_empty() {
            return Err(RequestError::conflict(
                "playback-not-held",
                format!(
                    "request {}: no playback session was opened for recording(s) {}",
                    self.id,
                    missing.join(", ")
                ),
            ));
        }
        Ok(outcomes)
    }
}

impl PlaybackSession {
    /// Opens a session for the recording `new` names (checked by
    /// [`Request::check_playback`]), lasting `new.minutes` from `new.now`.
    pub fn open(
        request: &Request,
        policy: &Policy,
        new: &NewPlayback<'_>,
        rng: &mut (impl RngCore + CryptoRng),
    ) -> Result<OpenedSession, RequestError> {
        request.check_playback(policy, new.recording)?;
        let expires_at = playback_expiry(new.minutes, new.now)?;
        let (token, token_hash) = generate_token(rng);
        Ok(OpenedSession {
            session: PlaybackSession {
                id: new.id,
                request_id: request.id,
                tenant: request.tenant.clone(),
                recording_id: new.recording,
                token_hash,
                opened_by: new.opened_by.to_owned(),
                opened_at: new.now,
                expires_at,
                ended_at: None,
                ended_by: None,
                end: None,
            },
            token,
        })
    }

    pub fn state(&self, now: DateTime<Utc>) -> PlaybackState {
        if self.ended_at.is_some() {
            PlaybackState::Closed
        } else if now >= self.expires_at {
            PlaybackState::Expired
        } else {
            PlaybackState::Active
        }
    }

    /// Whether `presented` is this session's token.
    pub fn token_matches(&self, presented: &Secret) -> bool {
        playback_token_hash(presented).is_some_and(|hash| hash == self.token_hash)
    }

    /// The session may stream at `now`: neither closed nor expired (both `gone`).
    pub fn check_stream(&self, now: DateTime<Utc>) -> Result<(), RequestError> {
        match self.state(now) {
            PlaybackState::Active => Ok(()),
            PlaybackState::Expired => Err(RequestError::gone(
                "playback-expired",
                format!(
                    "playback session {} expired at {}",
                    self.id,
                    self.expires_at.to_rfc3339()
                ),
            )),
            PlaybackState::Closed => Err(RequestError::gone(
                "playback-closed",
                format!("playback session {} was closed", self.id),
            )),
        }
    }

    /// Ends the session (an expired one too, so that its end is recorded); a session
    /// already ended cannot end again.
    pub fn close(&mut self, by: &str, end: PlaybackEnd, now: DateTime<Utc>) -> Result<(), RequestError> {
        if self.ended_at.is_some() {
            return Err(RequestError::conflict(
                "playback-closed",
                format!("playback session {} was already closed", self.id),
            ));
        }
        self.ended_at = Some(now);
        self.ended_by = Some(by.to_owned());
        self.end = Some(end);
        Ok(())
    }
}
