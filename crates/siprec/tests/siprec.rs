//! Integration tests for the siprec crate: every interop offer (LF and CRLF) against the
//! expectations in `tests/data/offers.toml`, tables of broken multipart, SDP and XML, answer
//! rules, metadata updates and a no-panic loop over mutated offers.
//!
//! One test binary; its modules live in `tests/siprec/`.

#[path = "siprec/answer.rs"]
mod answer;
#[path = "siprec/metadata.rs"]
mod metadata;
#[path = "siprec/multipart.rs"]
mod multipart;
#[path = "siprec/offers.rs"]
mod offers;
#[path = "siprec/partial.rs"]
mod partial;
#[path = "siprec/robustness.rs"]
mod robustness;
#[path = "siprec/sdp.rs"]
mod sdp;
#[path = "siprec/support.rs"]
mod support;
