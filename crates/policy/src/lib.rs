//! Policy as code: the schema of a call-recording policy file, its validation,
//! the decisions it makes about calls and reads, and its rendering as a notice.
//!
//! No IO and no clock: callers pass file text in and time in.

mod date;
mod decide;
mod diff;
mod duration;
mod load;
mod render;
mod schema;

pub use decide::{
    CallFacts, ConsentAnswer, ConsentBasis, ConsentEvidence, RecordingDecision, Refusal, ReviewStatus, TenantSettings,
    decide_recording, direction_word, retain_until, review_status,
};
pub use diff::{ChangeKind, DiffArea, PolicyChange, PolicyDiff, diff_policies};
pub use duration::{PolicyDuration, Retention};
pub use load::{BUILT_IN_ROLES, PolicyError, PolicyIssue, RESERVED_PURPOSES, parse_policy};
pub use render::render_notice;
pub use schema::*;

impl Policy {
    /// The purpose with this id, if the policy lists it.
    pub fn purpose(&self, id: &str) -> Option<&Purpose> {
        self.purposes.iter().find(|p| p.id == id)
    }

    pub fn purpose_ids(&self) -> Vec<&str> {
        self.purposes.iter().map(|p| p.id.as_str()).collect()
    }

    /// Checks that `purpose` may be named for an ordinary read (ALL-PURPOSE):
    /// one of the policy's purposes, never a reserved workflow purpose.
    pub fn check_read_purpose(&self, purpose: &str) -> Result<(), Refusal> {
        if RESERVED_PURPOSES.contains(&purpose) {
            return Err(Refusal {
                code: "purpose-reserved",
                rule: "purposes",
                message: format!("purpose {purpose:?} is usable only inside its own workflow"),
            });
        }
        if self.purpose(purpose).is_none() {
            return Err(Refusal {
                code: "purpose-not-in-policy",
                rule: "purposes",
                message: format!(
                    "purpose {purpose:?} is not one of policy {}'s purposes ({})",
                    self.policy.id,
                    self.purpose_ids().join(", ")
                ),
            });
        }
        Ok(())
    }

    /// Whether the catalog may keep this field (POSTI-FIELDS).
    pub fn keeps(&self, field: CatalogField) -> bool {
        self.catalog.fields.contains(&field)
    }
}
