//! Data-subject requests (POSTI-RIGHTS, WEBEO-REQUEST, WEBEO-30DAYS, WEBEO-ERASURE,
//! ARLO-WITHDRAW, CSI-COPY, ALL-DSAR): the request types a policy offers, the lifecycle
//! (received → identity verified → searched → decided per recording → fulfilled or
//! closed), due dates, deny reasons, what a copy may hold, and supervised playback
//! sessions (POSTI-SUPERVISED). Who handles them (`rights.handled_by`) is a Cedar rule
//! (`authz`, action `handle-request`).
//!
//! Pure: time, identities and found recordings come in as parameters; storage is the
//! vault's and carrying a decision out (erasure, the copy bundle) is the service's.

mod copy;
mod deny;
mod error;
mod lifecycle;
mod names;
mod offer;
mod playback;

pub use copy::{CopyParty, CopyScope, copy_scope};
pub use deny::{DENY_REASONS, DenyReason, check_deny_reason};
pub use error::{RequestError, RequestErrorKind};
pub use lifecycle::{
    AuthorityNotification, MatchedRecording, NewRequest, PURPOSE, RecordingDecision, Request, RequestState,
    Verification,
};
pub use names::{
    REQUEST_TYPES, channel_name, fulfilment_name, is_written, kind_name, parse_channel, parse_fulfilment, parse_kind,
};
pub use offer::{Offer, check_offer, due_on, is_overdue, offered_types};
pub use playback::{
    NewPlayback, OpenedSession, PLAYBACK_DEFAULT_MINUTES, PLAYBACK_MAX_MINUTES, PlaybackEnd, PlaybackSession,
    PlaybackState, playback_expiry, playback_token_hash,
};

#[cfg(test)]
mod tests;
