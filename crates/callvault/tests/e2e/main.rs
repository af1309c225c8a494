//! End-to-end tests: the real `callvault` binary on real files, a real SQLite catalog
//! and a real HTTP client. One module per concern; tests are named after requirement IDs.

mod bad_input;
mod export;
mod http;
mod policies;
mod purpose;
mod quickstart;
mod security;
mod siprec;
mod support;
