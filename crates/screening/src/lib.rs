//! Outbound screening (WEBEO-TPS): the UK Telephone Preference Service (TPS) and
//! Corporate TPS registers and do-not-call lists, imported from the files
//! licensees receive, held in an exact compact structure, and consulted before
//! a marketing call and for every recorded outbound call.
//!
//! The parsing, the set and the decision are pure; [`RegisterStore`] is the edge
//! that reads and writes `DATA/screening/`.

mod decide;
mod error;
mod number;
mod overrides;
mod parse;
mod persist;
mod register;
mod set;
mod sort;
mod store;
pub mod wire;

pub use decide::{MarketingRules, answer, call_notes, may_call_for_marketing, unchecked_registers};
pub use error::ScreeningError;
pub use number::{BadReason, e164_of_key, key_of_e164, register_record_key, uk_key_fast};
pub use overrides::OverrideRecord;
pub use parse::{Action, BadLine, Format, MAX_BAD_LINES_KEPT, Mode, ParseOptions, Parsed, Parser};
pub use persist::{FORMAT as FILE_FORMAT, decode as decode_register, encode as encode_register, read as read_register};
pub use register::{Register, RegisterInfo, RegisterKind, Source, SourceKind, check_register_name, register_label};
pub use set::NumberSet;
pub use sort::sort_dedup;
pub use store::{ImportRequest, RegisterStore, Snapshot};
