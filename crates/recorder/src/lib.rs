//! The recorder: SIPREC sessions from SIP events to sealed recordings, with the
//! policy applied at capture (routing, parties, direction, consent gate).

pub mod consent;
pub mod parties;
pub mod plan;
pub mod routing;
pub mod server;
pub mod stream;
