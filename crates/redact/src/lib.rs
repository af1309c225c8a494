//! Removing personal data: phone number normalisation, masking and keyed hashing.
//!
//! Later: transcripts, PII detection, audio redaction, derived clips.

mod number;

pub use number::{NumberError, NumberHasher, mask_number, normalize_e164};
