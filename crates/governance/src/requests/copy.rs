//! What a copy for a data subject may hold (CSI-COPY): where the policy requires every
//! party's consent, the whole call only once every other participant's consent is
//! recorded; else, only where the policy allows it, the subject's own voice alone.

use policy::Policy;

use super::error::RequestError;

/// A participant of a recording as the copy rule sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CopyParty {
    /// The participant's index in the recording.
    pub idx: i64,
    pub role: String,
    /// This participant is the data subject (their number matched the request).
    pub is_subject: bool,
}

/// What goes into the copy of one recording.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CopyScope {
    /// Every stream of the call.
    WholeCall,
    /// Only the stream(s) of this participant: the subject's own voice.
    OwnVoice { participant: i64 },
}

/// Decides the scope of a copy of one recording, given the participants whose consent
/// to the copy is recorded (by index).
pub fn copy_scope(policy: &Policy, parties: &[CopyParty], consented: &[i64]) -> Result<CopyScope, RequestError> {
    if !policy.rights.copy_requires_all_parties_consent {
        return Ok(CopyScope::WholeCall);
    }
    let missing: Vec<&CopyParty> = parties
        .iter()
        .filter(|p| !p.is_subject && !consented.contains(&p.idx))
        .collect();
    if missing.is_empty() {
        return Ok(CopyScope::WholeCall);
    }
    if policy.rights.own_voice_copy_allowed
        && let Some(subject) = parties.iter().find(|p| p.is_subject)
    {
        return Ok(CopyScope::OwnVoice {
            participant: subject.idx,
        });
    }
    Err(RequestError::refused(
        "copy-consent-missing",
        "rights.copy_requires_all_parties_consent",
        format!(
            "policy {} releases a copy only with the consent of every party on the call{}; missing: {}",
            policy.policy.id,
            if policy.rights.own_voice_copy_allowed {
                ""
            } else {
                " (it allows no own-voice copy instead)"
            },
            missing
                .iter()
                .map(|p| format!("participant {} ({})", p.idx, p.role))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    ))
}
