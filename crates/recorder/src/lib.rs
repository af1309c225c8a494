//! The recorder: SIPREC sessions from SIP events to sealed recordings, with the
//! policy applied at capture (routing, parties, direction, consent gate).

pub mod admission;
pub mod consent;
pub mod engine;
pub mod parties;
pub mod plan;
pub mod routing;
pub mod server;
pub mod session_body;
pub mod session_timer;
pub mod stream;
pub mod transfer;
