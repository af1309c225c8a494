//! The reasons a request may be refused for one recording (WEBEO-ERASURE: "legal duty,
//! contract, protecting a party"), from GDPR art. 12(5), 15(4), 17(3) and 21(1).

use policy::RequestType;

use super::error::RequestError;
use super::names::kind_name;

/// Why a recording is withheld or kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum DenyReason {
    /// Keeping it is a legal obligation of the controller (art. 17(3)(b)).
    LegalObligation,
    /// It is needed to perform or prove a contract with the data subject.
    Contract,
    /// It protects the rights of a party on the call (art. 21(1), 17(3)).
    ProtectionOfParty,
    /// It is needed for the establishment, exercise or defence of legal claims (art. 17(3)(e)).
    LegalClaims,
    /// Releasing it would adversely affect the rights of others (art. 15(4)).
    RightsOfOthers,
    /// The request is manifestly unfounded or excessive (art. 12(5)).
    ManifestlyUnfounded,
}

/// Every reason, in the order shown to handlers.
pub const DENY_REASONS: [DenyReason; 6] = [
    DenyReason::LegalObligation,
    DenyReason::Contract,
    DenyReason::ProtectionOfParty,
    DenyReason::LegalClaims,
    DenyReason::RightsOfOthers,
    DenyReason::ManifestlyUnfounded,
];

impl DenyReason {
    pub fn as_str(self) -> &'static str {
        match self {
            DenyReason::LegalObligation => "legal-obligation",
            DenyReason::Contract => "contract",
            DenyReason::ProtectionOfParty => "protection-of-a-party",
            DenyReason::LegalClaims => "legal-claims",
            DenyReason::RightsOfOthers => "rights-of-others",
            DenyReason::ManifestlyUnfounded => "manifestly-unfounded",
        }
    }

    pub fn parse(text: &str) -> Result<Self, RequestError> {
        DENY_REASONS.into_iter().find(|r| r.as_str() == text).ok_or_else(|| {
            RequestError::bad_input(
                "deny-reason-unknown",
                format!(
                    "deny reason {:?} is not one of {}",
                    text.chars().take(40).collect::<String>(),
                    DENY_REASONS.map(DenyReason::as_str).join(", ")
                ),
            )
        })
    }

    /// Whether this reason can refuse a request of `kind`. A withdrawn consent leaves no
    /// basis to keep a recording, except a legal claim (ARLO-WITHDRAW, art. 17(3)(e));
    /// the other reasons fit every type.
    pub fn fits(self, kind: RequestType) -> bool {
        match kind {
            RequestType::ConsentWithdrawal => self == DenyReason::LegalClaims,
            _ => true,
        }
    }
}

/// Checks that `reason` may refuse a request of `kind`.
pub fn check_deny_reason(kind: RequestType, reason: DenyReason) -> Result<(), RequestError> {
    if reason.fits(kind) {
        return Ok(());
    }
    Err(RequestError::refused(
        "deny-reason-not-allowed",
        "consent.withdrawal_erases",
        format!(
            "a {} request can be refused only for {}: {} does not apply",
            kind_name(kind),
            DENY_REASONS
                .into_iter()
                .filter(|r| r.fits(kind))
                .map(DenyReason::as_str)
                .collect::<Vec<_>>()
                .join(", "),
            reason.as_str()
        ),
    ))
}
