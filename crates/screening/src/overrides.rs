//! Overrides: a tenant may call a listed number for marketing after all (an existing
//! customer who consented), with a reason. Kept by keyed hash and masked form only.

use std::path::Path;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::error::ScreeningError;
use crate::persist::write_atomic;

/// One override. Never holds the full number.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OverrideRecord {
    pub tenant: String,
    /// Keyed hash (HMAC) of the E.164 number.
    pub number_hash: String,
    /// The number with its last digits hidden.
    pub number_masked: String,
    pub reason: String,
    pub actor: String,
    pub at: DateTime<Utc>,
    /// The registers that listed the number when the override was made.
    pub registers: Vec<String>,
}

#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct OverridesFile {
    format: u32,
    overrides: Vec<OverrideRecord>,
}

const FORMAT: u32 = 1;

/// Parses the overrides file.
pub(crate) fn decode(path: &Path, bytes: &[u8]) -> Result<Vec<OverrideRecord>, ScreeningError> {
    let file: OverridesFile = serde_json::from_slice(bytes).map_err(|e| ScreeningError::Overrides {
        path: path.to_owned(),
        what: e.to_string(),
    })?;
    if file.format != FORMAT {
        return Err(ScreeningError::Overrides {
            path: path.to_owned(),
            what: format!("format {} is not supported (this build reads {FORMAT})", file.format),
        });
    }
    Ok(file.overrides)
}

/// Writes the overrides file atomically.
pub(crate) fn store(path: &Path, overrides: &[OverrideRecord]) -> Result<(), ScreeningError> {
    let file = OverridesFile {
        format: FORMAT,
        overrides: overrides.to_vec(),
    };
    let bytes = serde_json::to_vec_pretty(&file).expect("overrides always serialise");
    write_atomic(path, &bytes)
}
