//! Decisions a policy makes about one call: may it be kept, on what basis, until when.
//!
//! Pure functions: the caller passes the time and the facts.

use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;

use crate::duration::{PolicyDuration, Retention};
use crate::schema::{ConsentMechanism, Direction, Enablement, LegalBasis, Policy};

/// What a tenant has set for itself under its policy.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TenantSettings {
    /// Recording switched on (only consulted under `tenant-opt-in`, TO-OPTIONAL).
    pub recording_enabled: bool,
    /// The tenant's own retention (only consulted under `tenant-set`, TO-RETENTION).
    pub retention: Option<PolicyDuration>,
    /// The tenant is the provider itself, recording its own lines (TO-OWNLINES).
    pub provider: bool,
}

/// Consent evidence the recording client or importer supplied.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ConsentEvidence {
    /// The client says the recording notice was played.
    pub notice_played: bool,
    /// A consent answer, if one was collected.
    pub answer: Option<ConsentAnswer>,
}

/// An answer to a consent prompt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConsentAnswer {
    pub granted: bool,
    /// The DTMF digit pressed, where there was one.
    pub digit: Option<char>,
    pub at: DateTime<Utc>,
}

/// The facts about one call that a decision needs.
#[derive(Debug, Clone)]
pub struct CallFacts<'a> {
    /// `None` when the direction could not be decided.
    pub direction: Option<Direction>,
    pub purposes: &'a [String],
    pub consent: &'a ConsentEvidence,
    /// When the call was answered: retention counts from here.
    pub answered_at: DateTime<Utc>,
}

/// On what basis a kept recording was made; stored with it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum ConsentBasis {
    /// No in-call consent: the legal basis is not consent, or the policy needs none.
    NotRequired,
    /// TO-NOTICE: continuing the call after the notice implies consent.
    ImpliedByNotice,
    /// An explicit consent (DTMF or signalled by the client).
    Explicit { digit: Option<char>, at: DateTime<Utc> },
}

/// The policy's yes to keeping a call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordingDecision {
    pub legal_basis: LegalBasis,
    pub consent: ConsentBasis,
    pub retain_until: DateTime<Utc>,
}

/// The policy's no, with a stable code and the rule it comes from.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message} ({rule})")]
pub struct Refusal {
    /// Stable, machine-readable code, e.g. `direction-not-recorded`.
    pub code: &'static str,
    /// The policy field the refusal follows from, e.g. `recording.directions`.
    pub rule: &'static str,
    pub message: String,
}

fn refuse(code: &'static str, rule: &'static str, message: String) -> Refusal {
    Refusal { code, rule, message }
}

/// Decides whether a call may be kept under `policy`, and until when.
pub fn decide_recording(
    policy: &Policy,
    tenant: &TenantSettings,
    call: &CallFacts<'_>,
) -> Result<RecordingDecision, Refusal> {
    let id = &policy.policy.id;
    let consent = &policy.consent;

    let own_lines = tenant.provider && policy.recording.provider_own_lines;
    if consent.enablement == Enablement::TenantOptIn && !tenant.recording_enabled && !own_lines {
        return Err(refuse(
            "recording-not-enabled",
            "consent.enablement",
            format!("policy {id} records only for tenants that enabled recording, and this tenant has not"),
        ));
    }

    let directions = &policy.recording.directions;
    let filters_direction = !(directions.contains(&Direction::Inbound) && directions.contains(&Direction::Outbound));
    match call.direction {
        None if filters_direction || consent.mechanism == ConsentMechanism::DtmfOptIn => {
            return Err(refuse(
                "direction-unknown",
                "recording.directions",
                format!(
                    "the call's direction is unknown and policy {id} records only some directions or needs the caller's consent"
                ),
            ));
        }
        Some(d) if !directions.contains(&d) => {
            return Err(refuse(
                "direction-not-recorded",
                "recording.directions",
                format!("policy {id} does not record {} calls", direction_word(d)),
            ));
        }
        _ => {}
    }

    if call.purposes.is_empty() {
        return Err(refuse(
            "purpose-required",
            "purposes",
            format!("a recording needs at least one purpose from policy {id}"),
        ));
    }
    for purpose in call.purposes {
        if policy.purpose(purpose).is_none() {
            return Err(refuse(
                "purpose-not-in-policy",
                "purposes",
                format!(
                    "purpose {purpose:?} is not one of policy {id}'s purposes ({})",
                    policy.purpose_ids().join(", ")
                ),
            ));
        }
    }

    let basis = consent_basis(policy, call.consent)?;
    let retain_until = retain_until(policy, tenant, call.purposes, call.answered_at)?;
    Ok(RecordingDecision {
        legal_basis: consent.legal_basis,
        consent: basis,
        retain_until,
    })
}

fn consent_basis(policy: &Policy, evidence: &ConsentEvidence) -> Result<ConsentBasis, Refusal> {
    let id = &policy.policy.id;
    let consent = &policy.consent;
    match consent.mechanism {
        ConsentMechanism::None => Ok(ConsentBasis::NotRequired),
        ConsentMechanism::Notice if evidence.notice_played => Ok(ConsentBasis::ImpliedByNotice),
        ConsentMechanism::Notice => Err(refuse(
            "notice-not-played",
            "consent.mechanism",
            format!(
                "policy {id} requires the recording notice to have been played, and the client did not indicate it"
            ),
        )),
        ConsentMechanism::DtmfOptIn | ConsentMechanism::ClientSignalled => match &evidence.answer {
            None => Err(refuse(
                "consent-missing",
                "consent.mechanism",
                format!("policy {id} records only after the caller consents, and no consent was given"),
            )),
            Some(answer) if !answer.granted || answer.digit.is_some_and(|d| Some(d) == consent.decline_digit) => {
                Err(refuse(
                    "consent-declined",
                    "consent.mechanism",
                    format!("the caller declined recording under policy {id}"),
                ))
            }
            Some(answer)
                if consent.mechanism == ConsentMechanism::DtmfOptIn
                    && answer.digit.is_some()
                    && answer.digit != consent.accept_digit =>
            {
                Err(refuse(
                    "consent-missing",
                    "consent.accept_digit",
                    format!(
                        "digit {:?} is not policy {id}'s accept digit",
                        answer.digit.unwrap_or(' ')
                    ),
                ))
            }
            Some(answer) => Ok(ConsentBasis::Explicit {
                digit: answer.digit,
                at: answer.at,
            }),
        },
    }
}

/// The end of retention for a recording made for `purposes` answered at `answered_at`:
/// the longest retention among its purposes.
pub fn retain_until(
    policy: &Policy,
    tenant: &TenantSettings,
    purposes: &[String],
    answered_at: DateTime<Utc>,
) -> Result<DateTime<Utc>, Refusal> {
    let mut longest: Option<PolicyDuration> = None;
    for purpose in purposes {
        let retention = policy
            .purpose(purpose)
            .and_then(|p| p.retention)
            .unwrap_or(policy.retention.default);
        let duration = match retention {
            Retention::Fixed(d) => d,
            Retention::TenantSet => tenant.retention.ok_or_else(|| {
                refuse(
                    "retention-not-set",
                    "retention.default",
                    format!("policy {} leaves retention to the tenant, and the tenant has not set one (tenant set --retention)", policy.policy.id),
                )
            })?,
        };
        if longest.is_none_or(|l| duration.approx_days() > l.approx_days()) {
            longest = Some(duration);
        }
    }
    let duration = longest.ok_or_else(|| refuse("purpose-required", "purposes", "no purpose given".into()))?;
    duration.after(answered_at).ok_or_else(|| {
        refuse(
            "retention-overflow",
            "retention.default",
            "retention end is out of range".into(),
        )
    })
}

/// Whether a policy is due for review on `today` (ARLO-REVIEW).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(tag = "status", rename_all = "kebab-case")]
pub enum ReviewStatus {
    /// The policy names no review date.
    NoDate,
    Current {
        due: NaiveDate,
    },
    Overdue {
        due: NaiveDate,
        days: i64,
    },
}

pub fn review_status(policy: &Policy, today: NaiveDate) -> ReviewStatus {
    match policy.policy.next_review {
        None => ReviewStatus::NoDate,
        Some(due) if today > due => ReviewStatus::Overdue {
            due,
            days: (today - due).num_days(),
        },
        Some(due) => ReviewStatus::Current { due },
    }
}

/// The English word for a direction.
pub fn direction_word(direction: Direction) -> &'static str {
    match direction {
        Direction::Inbound => "inbound",
        Direction::Outbound => "outbound",
    }
}
