//! Governance: who may do what, for which purpose, and the proof that it happened.
//!
//! Pure: decisions and audit hashing are functions over data; storage is the vault's.

mod audit;
mod read;

pub use audit::{AuditEvent, GENESIS_HASH, Outcome, chain_hash};
pub use read::{Actor, ReadPermit, ReadRequest, authorize_read};
