//! Screening errors, each with a stable code; messages never contain a phone number.

use std::path::PathBuf;

/// Why a register could not be imported, stored, loaded or consulted.
#[derive(Debug, thiserror::Error)]
pub enum ScreeningError {
    #[error("register name {0:?} is invalid: use 1-64 lowercase letters, digits and '-', starting with a letter")]
    RegisterName(String),
    #[error("cannot read {path}: {source}")]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot write {path}: {source}")]
    Write {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{path}: not a screening register file")]
    NotARegister { path: PathBuf },
    #[error("{path}: register file format {found} is not supported (this build reads format {supported})")]
    UnsupportedFormat { path: PathBuf, found: u32, supported: u32 },
    #[error("{path}: register file is corrupt: {what}")]
    Corrupt { path: PathBuf, what: String },
    #[error("{file}: no valid record in {lines} line(s); the register was left as it was")]
    NothingImported { file: String, lines: u64 },
    #[error("register {0:?} has no full file yet: import one before change files")]
    NoBaseForChanges(String),
    #[error("register {0:?} has had too many change files since its full file: import a full file")]
    TooManySources(String),
    #[error("a list needs a number column: none of the header cells names one (give --column)")]
    NoNumberColumn,
    #[error("column {0:?} is not in the header")]
    UnknownColumn(String),
    #[error("unknown default country {0:?} (expected an ISO 3166 code such as GB)")]
    UnknownCountry(String),
    #[error("date {0:?} is not a date such as 2026-11-23")]
    BadDate(String),
    #[error("overrides file {path}: {what}")]
    Overrides { path: PathBuf, what: String },
}

impl ScreeningError {
    /// The stable code of this error.
    pub fn code(&self) -> &'static str {
        match self {
            ScreeningError::RegisterName(_) => "register-name-invalid",
            ScreeningError::Read { .. } => "screening-read-failed",
            ScreeningError::Write { .. } => "screening-write-failed",
            ScreeningError::NotARegister { .. } => "register-file-invalid",
            ScreeningError::UnsupportedFormat { .. } => "register-format-unsupported",
            ScreeningError::Corrupt { .. } => "register-file-corrupt",
            ScreeningError::NothingImported { .. } => "register-nothing-imported",
            ScreeningError::NoBaseForChanges(_) => "register-no-base",
            ScreeningError::TooManySources(_) => "register-too-many-changes",
            ScreeningError::NoNumberColumn => "list-no-number-column",
            ScreeningError::UnknownColumn(_) => "list-unknown-column",
            ScreeningError::UnknownCountry(_) => "country-unknown",
            ScreeningError::BadDate(_) => "date-invalid",
            ScreeningError::Overrides { .. } => "overrides-file-invalid",
        }
    }

    /// Whether the caller's input is at fault (rather than storage).
    pub fn is_bad_input(&self) -> bool {
        matches!(
            self,
            ScreeningError::RegisterName(_)
                | ScreeningError::NothingImported { .. }
                | ScreeningError::NoBaseForChanges(_)
                | ScreeningError::NoNumberColumn
                | ScreeningError::UnknownColumn(_)
                | ScreeningError::UnknownCountry(_)
                | ScreeningError::BadDate(_)
        )
    }
}
