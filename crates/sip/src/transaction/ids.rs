//! Tags and branches made from a seed and a counter (no clock, no global randomness).

use crate::headers::BRANCH_MAGIC_COOKIE;

/// A deterministic generator of distinct 64-bit values (SplitMix64).
#[derive(Debug, Clone)]
pub(crate) struct IdSource {
    state: u64,
}

impl IdSource {
    pub(crate) fn new(seed: u64) -> IdSource {
        IdSource { state: seed }
    }

    fn next(&mut self) -> u64 {
        self.state = self.state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A To/From tag: 16 hex digits.
    pub(crate) fn tag(&mut self) -> String {
        format!("{:016x}", self.next())
    }

    /// A Via branch with the RFC 3261 magic cookie.
    pub(crate) fn branch(&mut self) -> String {
        format!("{BRANCH_MAGIC_COOKIE}{:016x}", self.next())
    }
}
