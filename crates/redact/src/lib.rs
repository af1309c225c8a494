//! Removing personal data: phone number normalisation, masking and keyed hashing;
//! transcripts with word timings (WebVTT, Whisper JSON, AWS Transcribe JSON); PII
//! detection over them; audio and transcript redaction; pseudonymous participant ids.
//!
//! Pure: no IO, no clock. Errors and evidence never contain the personal data.

mod audio;
mod detect;
mod number;
mod transcript;

pub use audio::{
    Fill, REDACTED_WORD, Span, clip_transcript, fill_ranges, pseudonym, redact_channel, redact_transcript,
    sample_ranges,
};
pub use detect::{Detector, Finding, NumberLanguage, PiiKind, luhn_valid, spoken_digits};
pub use number::{NumberError, NumberHasher, mask_number, normalize_e164};
pub use transcript::{
    MAX_TRANSCRIPT_BYTES, Transcript, TranscriptError, TranscriptFormat, Word, parse_aws_json, parse_transcript,
    parse_webvtt, parse_whisper_json,
};
