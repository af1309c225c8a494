//! Training attestations (POSTI-TRAINING): a user completed a named training on a date.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use super::error::IdentityError;

/// One recorded training.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TrainingAttestation {
    pub id: uuid::Uuid,
    pub tenant: String,
    pub user: String,
    /// The training's name, e.g. `call-recording-basics`.
    pub training: String,
    /// The day the training was completed.
    pub completed_on: NaiveDate,
    pub recorded_by: String,
    pub recorded_at: DateTime<Utc>,
}

impl TrainingAttestation {
    /// Whether the training counts on `today` (a training dated in the future does not).
    pub fn counts_on(&self, today: NaiveDate) -> bool {
        self.completed_on <= today
    }
}

/// Checks a new attestation's training name and date against the day it is recorded.
pub fn check_attestation(training: &str, completed_on: NaiveDate, today: NaiveDate) -> Result<(), IdentityError> {
    let name_ok = !training.trim().is_empty() && training.len() <= 128 && training.chars().all(|c| !c.is_control());
    if !name_ok {
        return Err(IdentityError::invalid(
            "training-name-invalid",
            "a training name is 1-128 printable characters",
        ));
    }
    if completed_on > today {
        return Err(IdentityError::invalid(
            "training-date-in-future",
            format!("training date {completed_on} is after today ({today})"),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn attestations_count_from_their_date_and_cannot_be_postdated() {
        let day = |s: &str| s.parse::<NaiveDate>().unwrap();
        let a = TrainingAttestation {
            id: uuid::Uuid::nil(),
            tenant: "posti".into(),
            user: "anna".into(),
            training: "tallenteet".into(),
            completed_on: day("2026-03-01"),
            recorded_by: "posti/admin".into(),
            recorded_at: "2026-03-02T08:00:00Z".parse().unwrap(),
        };
        assert!(!a.counts_on(day("2026-02-28")));
        assert!(a.counts_on(day("2026-03-01")));
        check_attestation("tallenteet", day("2026-03-01"), day("2026-03-01")).unwrap();
        assert_eq!(
            check_attestation("tallenteet", day("2026-03-02"), day("2026-03-01"))
                .unwrap_err()
                .code(),
            "training-date-in-future"
        );
        assert_eq!(
            check_attestation(" ", day("2026-03-01"), day("2026-03-01"))
                .unwrap_err()
                .code(),
            "training-name-invalid"
        );
    }
}
