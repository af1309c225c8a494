//! The JSON shapes of screening: the answer per number (CLI `screen --json` and
//! `POST /v1/screening`) and the import report. The only serde types for the outside.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

/// `POST /v1/screening` body.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ScreeningRequest {
    /// The tenant whose policy decides; absent: any listing forbids a marketing call.
    #[serde(default)]
    pub tenant: Option<String>,
    /// Numbers in E.164 or national form.
    pub numbers: Vec<String>,
}

/// The answers, in the order of the numbers asked.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ScreeningResponse {
    pub tenant: Option<String>,
    pub results: Vec<ScreeningAnswer>,
}

/// The answer for one number.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ScreeningAnswer {
    /// The number in E.164.
    pub number: String,
    /// Every register that lists it, with the file that listed it.
    pub registers: Vec<RegisterListing>,
    /// Whether an unsolicited sales or marketing call may be made to it.
    pub may_call_for_marketing: bool,
    /// Registers the tenant's policy names that are not imported: nothing can be
    /// allowed until they are.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub unchecked_registers: Vec<String>,
    /// An override on record for this tenant and number.
    #[serde(default, rename = "override", skip_serializing_if = "Option::is_none")]
    pub override_: Option<OverrideSummary>,
}

/// One register listing a number.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct RegisterListing {
    /// `tps`, `ctps` or a list's name.
    pub register: String,
    /// The file that listed the number (the full file, or the change file that added it).
    pub file: String,
    /// That file's date.
    pub date: NaiveDate,
}

/// An override as answers show it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct OverrideSummary {
    pub reason: String,
    pub actor: String,
    pub at: DateTime<Utc>,
}

/// A line that was not imported.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BadLineReport {
    pub line: u64,
    pub code: String,
    pub reason: String,
}

/// What an import did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImportReport {
    pub register: String,
    pub file: String,
    pub date: NaiveDate,
    /// `full` or `changes`.
    pub kind: String,
    pub lines: u64,
    pub records: u64,
    pub added: u64,
    pub removed: u64,
    pub unchanged: u64,
    /// Numbers on the register now.
    pub numbers: u64,
    pub bad_lines: u64,
    /// The first bad lines (up to 1000), with line numbers.
    pub bad: Vec<BadLineReport>,
    /// Bytes of memory the register takes when loaded.
    pub memory_bytes: u64,
    pub elapsed_ms: u64,
}

/// A register as `screening list` shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RegisterSummary {
    pub register: String,
    pub numbers: u64,
    /// The full file, then the change files applied since.
    pub files: Vec<RegisterFile>,
    pub memory_bytes: u64,
}

/// A file in a register's history.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RegisterFile {
    pub file: String,
    pub date: NaiveDate,
    pub kind: String,
    pub imported_at: DateTime<Utc>,
    pub added: u64,
    pub removed: u64,
    pub bad_lines: u64,
}
