//! Governance: who may do what, for which purpose, and the proof that it happened.
//!
//! Pure: decisions and audit hashing are functions over data; storage is the vault's.

mod audit;
pub mod authz;
pub mod identity;
mod read;
pub mod requests;

pub use audit::{
    ALERT_ACTION, Anchor, AuditEvent, AuditFault, ChainHead, ChainVerifier, DenialReport, DenialRule, GENESIS_HASH,
    Outcome, Problem, RECORD_FORMAT, RecordError, RecordView, UserDenials, chain_hash, denial_report, encode_record,
    record_hash,
};
pub use read::{Actor, ReadPermit, ReadRequest, authorize_read, authorize_workflow_read};
