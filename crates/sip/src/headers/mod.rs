//! Typed views of the header values a user-agent server needs, each parsed from a
//! borrowed `&str` with a strict grammar.

#![deny(
    clippy::indexing_slicing,
    clippy::arithmetic_side_effects,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic
)]

mod content_type;
mod cseq;
mod name_addr;
mod session_timer;
mod via;

pub use content_type::ContentType;
pub use cseq::CSeq;
pub use name_addr::{Contact, NameAddr};
pub use session_timer::SessionExpires;
pub use via::{BRANCH_MAGIC_COOKIE, Via};

use crate::syntax::{is_token, split_list};

/// Option tags or methods of a comma-separated token list (`Require`, `Supported`,
/// `Allow`): trimmed, empty elements skipped; `None` if an element is not a token.
pub(crate) fn token_list(value: &str) -> Option<Vec<&str>> {
    let items = split_list(value)?;
    let mut tokens = Vec::with_capacity(items.len());
    for item in items {
        if item.is_empty() {
            continue;
        }
        if !is_token(item) {
            return None;
        }
        tokens.push(item);
    }
    Some(tokens)
}

/// `delta-seconds`: 1 to 10 digits that fit in a `u32`.
pub(crate) fn delta_seconds(digits: &str) -> Option<u32> {
    if digits.is_empty() || digits.len() > 10 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok()
}
