//! What a policy offers: the request types it names and how each is fulfilled
//! (POSTI-RIGHTS), the channels requests may arrive by (WEBEO-REQUEST), and the due date
//! (WEBEO-30DAYS).

use chrono::{DateTime, NaiveDate, TimeDelta, Utc};
use policy::{Channel, Fulfilment, LegalBasis, Policy, RequestType};

use super::error::RequestError;
use super::names::{channel_name, is_written, kind_name};

/// A request type as the policy offers it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Offer {
    pub kind: RequestType,
    pub fulfilment: Fulfilment,
    pub in_writing: bool,
}

/// The types `policy` offers, in the policy's order. Consent withdrawal appears only
/// where the legal basis is consent (the policy loader refuses it elsewhere too).
pub fn offered_types(policy: &Policy) -> Vec<Offer> {
    policy
        .rights
        .requests
        .iter()
        .filter(|r| r.kind != RequestType::ConsentWithdrawal || policy.consent.legal_basis == LegalBasis::Consent)
        .map(|r| Offer {
            kind: r.kind,
            fulfilment: r.fulfilment,
            in_writing: r.in_writing,
        })
        .collect()
}

/// May a request of `kind` be received through `channel` under `policy`?
pub fn check_offer(policy: &Policy, kind: RequestType, channel: Channel) -> Result<Offer, RequestError> {
    if kind == RequestType::ConsentWithdrawal && policy.consent.legal_basis != LegalBasis::Consent {
        return Err(RequestError::refused(
            "request-type-not-offered",
            "consent.legal_basis",
            format!(
                "policy {} does not rest on consent, so there is no consent to withdraw",
                policy.policy.id
            ),
        ));
    }
    let Some(offer) = offered_types(policy).into_iter().find(|o| o.kind == kind) else {
        return Err(RequestError::refused(
            "request-type-not-offered",
            "rights.requests",
            format!(
                "policy {} offers {}; not {}",
                policy.policy.id,
                offered_types(policy)
                    .iter()
                    .map(|o| kind_name(o.kind))
                    .collect::<Vec<_>>()
                    .join(", "),
                kind_name(kind)
            ),
        ));
    };
    if !policy.rights.channels.contains(&channel) {
        return Err(RequestError::refused(
            "request-channel-not-offered",
            "rights.channels",
            format!(
                "policy {} takes requests by {}; not by {}",
                policy.policy.id,
                policy
                    .rights
                    .channels
                    .iter()
                    .map(|c| channel_name(*c))
                    .collect::<Vec<_>>()
                    .join(", "),
                channel_name(channel)
            ),
        ));
    }
    if offer.in_writing && !is_written(channel) {
        return Err(RequestError::refused(
            "request-not-in-writing",
            "rights.requests.in_writing",
            format!(
                "policy {} needs {} requests in writing (email, post or web); {} is not",
                policy.policy.id,
                kind_name(kind),
                channel_name(channel)
            ),
        ));
    }
    Ok(offer)
}

/// The last day to answer a request received at `received_at`: `rights.due_days` after
/// the day it arrived (UTC). Webeo says 30 days; a policy that says nothing gets the
/// engine's one month, counted as 30 days. A request is overdue from the next day on.
pub fn due_on(policy: &Policy, received_at: DateTime<Utc>) -> NaiveDate {
    received_at.date_naive() + TimeDelta::days(i64::from(policy.rights.due_days))
}

/// Whether a request due on `due` and still open is overdue at `now`.
pub fn is_overdue(due: NaiveDate, now: DateTime<Utc>) -> bool {
    now.date_naive() > due
}
