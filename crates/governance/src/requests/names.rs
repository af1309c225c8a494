//! The stable text names of request types, channels, fulfilments and deny reasons, as
//! the policy file, the catalog and the command line write them.

use policy::{Channel, Fulfilment, RequestType};

use super::error::RequestError;

/// Every request type, in the order of POSTI-RIGHTS.
pub const REQUEST_TYPES: [RequestType; 10] = [
    RequestType::Information,
    RequestType::Access,
    RequestType::Copy,
    RequestType::Rectification,
    RequestType::Completion,
    RequestType::Erasure,
    RequestType::Portability,
    RequestType::Restriction,
    RequestType::Objection,
    RequestType::ConsentWithdrawal,
];

const CHANNELS: [Channel; 5] = [
    Channel::Email,
    Channel::Phone,
    Channel::Post,
    Channel::Web,
    Channel::InPerson,
];

const FULFILMENTS: [Fulfilment; 5] = [
    Fulfilment::Copy,
    Fulfilment::SupervisedPlayback,
    Fulfilment::Statement,
    Fulfilment::Erase,
    Fulfilment::Freeze,
];

pub fn kind_name(kind: RequestType) -> &'static str {
    match kind {
        RequestType::Information => "information",
        RequestType::Access => "access",
        RequestType::Copy => "copy",
        RequestType::Rectification => "rectification",
        RequestType::Completion => "completion",
        RequestType::Erasure => "erasure",
        RequestType::Portability => "portability",
        RequestType::Restriction => "restriction",
        RequestType::Objection => "objection",
        RequestType::ConsentWithdrawal => "consent-withdrawal",
    }
}

pub fn parse_kind(text: &str) -> Result<RequestType, RequestError> {
    REQUEST_TYPES
        .into_iter()
        .find(|k| kind_name(*k) == text)
        .ok_or_else(|| {
            RequestError::bad_input(
                "request-type-unknown",
                format!(
                    "request type {:?} is not one of {}",
                    text.chars().take(40).collect::<String>(),
                    REQUEST_TYPES.map(kind_name).join(", ")
                ),
            )
        })
}

pub fn channel_name(channel: Channel) -> &'static str {
    match channel {
        Channel::Email => "email",
        Channel::Phone => "phone",
        Channel::Post => "post",
        Channel::Web => "web",
        Channel::InPerson => "in-person",
    }
}

pub fn parse_channel(text: &str) -> Result<Channel, RequestError> {
    CHANNELS.into_iter().find(|c| channel_name(*c) == text).ok_or_else(|| {
        RequestError::bad_input(
            "request-channel-unknown",
            format!(
                "channel {:?} is not one of {}",
                text.chars().take(40).collect::<String>(),
                CHANNELS.map(channel_name).join(", ")
            ),
        )
    })
}

pub fn fulfilment_name(fulfilment: Fulfilment) -> &'static str {
    match fulfilment {
        Fulfilment::Copy => "copy",
        Fulfilment::SupervisedPlayback => "supervised-playback",
        Fulfilment::Statement => "statement",
        Fulfilment::Erase => "erase",
        Fulfilment::Freeze => "freeze",
    }
}

pub fn parse_fulfilment(text: &str) -> Option<Fulfilment> {
    FULFILMENTS.into_iter().find(|f| fulfilment_name(*f) == text)
}

/// Channels that count as "in writing" (CSI-COPY, WEBEO-ERASURE).
pub fn is_written(channel: Channel) -> bool {
    matches!(channel, Channel::Email | Channel::Post | Channel::Web)
}
