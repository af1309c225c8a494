//! Integration tests of the `sip` crate: parser tables over the data files, framing,
//! builders, transactions in virtual time, the server over real sockets, and SIPp.
//!
//! One test binary; its modules live in `tests/sip/`.

#[path = "sip/builder.rs"]
mod builder;
#[path = "sip/framing.rs"]
mod framing;
#[path = "sip/parse_malformed.rs"]
mod parse_malformed;
#[path = "sip/parse_valid.rs"]
mod parse_valid;
#[path = "sip/robustness.rs"]
mod robustness;
#[path = "sip/server.rs"]
mod server;
#[path = "sip/sipp.rs"]
mod sipp;
#[path = "sip/support.rs"]
mod support;
#[path = "sip/transactions.rs"]
mod transactions;
