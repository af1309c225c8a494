//! End-to-end tests: the real `callvault` binary on real files, a real SQLite catalog
//! and a real HTTP client. One module per concern; tests are named after requirement IDs.

mod access_matrix;
mod audit;
mod bad_input;
mod compliance;
mod export;
mod export_codecs;
mod flood;
mod http;
mod identities;
mod isolation;
mod live;
mod masking;
mod playback;
mod policies;
mod purpose;
mod quickstart;
mod redaction;
mod redaction_bad_input;
mod redaction_http;
mod redaction_support;
mod requests;
mod requests_http;
mod retention;
mod rtcp;
mod search_freshness;
mod security;
mod session_timer;
mod siprec;
mod siprec_update;
mod support;
mod team_history;
mod training_copies;
mod transcribe;
mod transfer;
