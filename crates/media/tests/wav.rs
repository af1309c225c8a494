//! Integration tests for the WAV reader and writer: round trips, chunk handling,
//! a table of malformed inputs, a hound cross-check and a no-panic robustness loop.
//!
//! One test binary; its modules live in `tests/wav/`.

#[path = "wav/hound_compat.rs"]
mod hound_compat;
#[path = "wav/malformed.rs"]
mod malformed;
#[path = "wav/robustness.rs"]
mod robustness;
#[path = "wav/round_trip.rs"]
mod round_trip;
#[path = "wav/support.rs"]
mod support;
