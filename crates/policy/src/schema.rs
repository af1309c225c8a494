//! The policy file schema: what a `policies/*.toml` file may say, as typed data.
//!
//! Deserialisation checks shapes and enumerations; `validate` checks the
//! cross-references and values that serde cannot (see `load.rs`).

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::duration::{PolicyDuration, Retention};

/// A whole policy file.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Policy {
    /// Schema version of the file format; this engine reads version 1.
    pub schema: u32,
    pub policy: PolicyHeader,
    pub controller: Controller,
    pub purposes: Vec<Purpose>,
    pub recording: RecordingRules,
    pub consent: ConsentRules,
    pub retention: RetentionRules,
    #[serde(default)]
    pub residency: Residency,
    pub catalog: CatalogRules,
    pub rights: Rights,
    pub access: Access,
    pub sharing: Sharing,
    #[serde(default)]
    pub changes: ChangeRules,
    #[serde(default)]
    pub marketing: Marketing,
}

/// Identity and dates of the policy document itself.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct PolicyHeader {
    /// Stable identifier, e.g. `posti`.
    pub id: String,
    pub title: String,
    /// The document's own version label (the catalog numbers versions itself).
    pub version: String,
    /// Language of the original document (ISO 639-1), e.g. `sv`.
    pub language: String,
    /// The date the document took effect or was last updated.
    #[serde(deserialize_with = "crate::date::deserialize")]
    pub effective: NaiveDate,
    /// When the policy must next be reviewed (ARLO-REVIEW); optional.
    #[serde(default, deserialize_with = "crate::date::deserialize_option")]
    pub next_review: Option<NaiveDate>,
    /// Where the text came from (a URL or file), for the rendered notice.
    #[serde(default)]
    pub source: Option<String>,
}

/// Who is responsible and whom to contact.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Controller {
    pub name: String,
    #[serde(default)]
    pub address: Option<String>,
    /// Ways to reach the controller (e-mail, telephone, web).
    pub contacts: Vec<String>,
    #[serde(default)]
    pub data_protection_officer: Option<String>,
    /// The supervisory authority complaints and erasure denials go to.
    #[serde(default)]
    pub supervisory_authority: Option<String>,
}

/// One purpose recordings may be used for (ALL-PURPOSE).
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Purpose {
    pub id: String,
    pub description: String,
    /// Overrides `retention.default` for recordings made for this purpose.
    #[serde(default)]
    pub retention: Option<Retention>,
    /// Reads for this purpose are served only from a pseudonymised derivative
    /// (ARLO-PSEUDO); enforced once derivatives exist.
    #[serde(default)]
    pub pseudonymised_only: bool,
    /// Material for this purpose may be published once PII is removed (CSI-FAQ).
    #[serde(default)]
    pub publication: bool,
    /// The role that approves a redacted derivative (a PII-free clip, a training copy)
    /// made for this purpose before it may be exported; required when `publication`
    /// is set. When absent, a derivative is usable once made.
    #[serde(default)]
    pub approved_by: Option<String>,
}

/// Call direction as the policy and the catalog name it.
#[derive(Debug, Clone, Copy, Deserialize, Serialize, PartialEq, Eq, Hash)]
#[serde(rename_all = "kebab-case")]
pub enum Direction {
    Inbound,
    Outbound,
}

/// Which calls are recorded.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct RecordingRules {
    /// Directions that are recorded; a call in any other direction is not kept.
    pub directions: Vec<Direction>,
    /// Calls transferred in from these sources are in scope and their source
    /// is kept (CSI-SCOPE).
    #[serde(default)]
    pub transfer_sources: Vec<String>,
    /// Recording starts at answer and ends with the call (POSTI-SPAN).
    #[serde(default = "yes")]
    pub answered_span_only: bool,
    /// Outbound calls must present the caller's identity; a withheld one is
    /// flagged (WEBEO-OUTBOUND).
    #[serde(default)]
    pub flag_withheld_caller_id: bool,
    /// The provider's own lines are recorded without the tenant opt-in (TO-OWNLINES).
    #[serde(default)]
    pub provider_own_lines: bool,
}

fn yes() -> bool {
    true
}

/// Legal basis of the processing (GDPR art. 6).
#[derive(Debug, Clone, Copy, Deserialize, Serialize, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
pub enum LegalBasis {
    Consent,
    LegitimateInterest,
    Contract,
    LegalObligation,
}

/// How consent (or notice) is collected on the call.
#[derive(Debug, Clone, Copy, Deserialize, Serialize, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
pub enum ConsentMechanism {
    /// Nothing happens in the call; the published policy is the notice.
    None,
    /// A notice is played; the recording client must say it was played.
    Notice,
    /// The caller presses an accept or decline digit.
    DtmfOptIn,
    /// The recording client signals a consent it collected itself.
    ClientSignalled,
}

/// Whether recording is on for everybody or only for tenants who enable it.
#[derive(Debug, Clone, Copy, Deserialize, Serialize, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
pub enum Enablement {
    Always,
    TenantOptIn,
}

/// The three separate consent settings plus their parameters.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ConsentRules {
    pub legal_basis: LegalBasis,
    pub mechanism: ConsentMechanism,
    pub enablement: Enablement,
    /// For `dtmf-opt-in`: the digit that accepts.
    #[serde(default)]
    pub accept_digit: Option<char>,
    /// For `dtmf-opt-in`: the digit that declines.
    #[serde(default)]
    pub decline_digit: Option<char>,
    /// For `dtmf-opt-in`: how long to wait for a digit before storing nothing.
    #[serde(default)]
    pub timeout: Option<PolicyDuration>,
    /// Whether a caller can opt out inside the call (CSI-OPTOUT: no).
    #[serde(default)]
    pub in_call_opt_out: bool,
    /// What a person who does not want to be recorded should do instead.
    #[serde(default)]
    pub opt_out_alternative: Option<String>,
    /// Consent can be withdrawn, and the recording is then erased at once (ARLO-WITHDRAW).
    #[serde(default)]
    pub withdrawal_erases: bool,
    /// The text of the announcement, in the policy's language.
    #[serde(default)]
    pub announcement: Option<String>,
}

/// How long recordings are kept.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct RetentionRules {
    /// `"90 days"`, `"6 months"`, `"12 months"` or `"tenant-set"`.
    pub default: Retention,
    /// Deletion is automatic when retention ends.
    #[serde(default = "yes")]
    pub automatic_deletion: bool,
}

/// Where the recordings may be stored.
#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Residency {
    /// Regions the object store may be in (e.g. `uk`, `eu-eea`); empty = any.
    #[serde(default)]
    pub regions: Vec<String>,
    /// Stored on the organisation's own network: self-hosted, no cloud store (CSI-ONPREM).
    #[serde(default)]
    pub on_premises: bool,
}

/// Personal-data fields the catalog may hold.
#[derive(Debug, Clone, Copy, Deserialize, Serialize, PartialEq, Eq, Hash)]
#[serde(rename_all = "kebab-case")]
pub enum CatalogField {
    StartedAt,
    EndedAt,
    Duration,
    ServiceNumber,
    CustomerNumber,
    CustomerName,
    AgentName,
    Audio,
}

/// How a number is shown and stored.
#[derive(Debug, Clone, Copy, Deserialize, Serialize, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
pub enum NumberDisplay {
    Full,
    Masked,
}

/// What the catalog keeps about a call.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct CatalogRules {
    /// The register's fields; anything else offered is dropped at ingest.
    pub fields: Vec<CatalogField>,
    /// Customer numbers: shown in full or masked. A keyed hash is always kept.
    pub customer_number: NumberDisplay,
    /// With `masked`: how many trailing digits are hidden.
    #[serde(default)]
    pub mask_last_digits: u8,
}

/// Data-subject request types (POSTI-RIGHTS).
#[derive(Debug, Clone, Copy, Deserialize, Serialize, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[serde(rename_all = "kebab-case")]
pub enum RequestType {
    Information,
    Access,
    Copy,
    Rectification,
    Completion,
    Erasure,
    Portability,
    Restriction,
    Objection,
    ConsentWithdrawal,
}

/// How a request type is fulfilled.
#[derive(Debug, Clone, Copy, Deserialize, Serialize, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
pub enum Fulfilment {
    /// A bundle the data subject receives.
    Copy,
    /// Listening at the controller's premises, streamed, no download (POSTI-SUPERVISED).
    SupervisedPlayback,
    /// A written answer (information, rectification...).
    Statement,
    /// The recording is erased.
    Erase,
    /// Use is frozen; the recording is kept.
    Freeze,
}

/// How a request can be sent.
#[derive(Debug, Clone, Copy, Deserialize, Serialize, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
pub enum Channel {
    Email,
    Phone,
    Post,
    Web,
    InPerson,
}

/// One offered request type and how it is handled.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct RequestRule {
    #[serde(rename = "type")]
    pub kind: RequestType,
    pub fulfilment: Fulfilment,
    /// The request must be made in writing (CSI-COPY, WEBEO-ERASURE).
    #[serde(default)]
    pub in_writing: bool,
}

/// Data-subject rights handling.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Rights {
    pub requests: Vec<RequestRule>,
    /// Days to answer a request (WEBEO-30DAYS); default one month (30 days).
    #[serde(default = "thirty")]
    pub due_days: u32,
    /// Identity must be verified before anything is shared (WEBEO-REQUEST).
    #[serde(default = "yes")]
    pub identity_proof: bool,
    /// The role that handles requests (CSI-COPY: the CEO).
    pub handled_by: String,
    pub channels: Vec<Channel>,
    /// Where requests are sent, in the policy's words.
    #[serde(default)]
    pub contact: Option<String>,
    /// A copy needs the consent of every party on the call (CSI-COPY).
    #[serde(default)]
    pub copy_requires_all_parties_consent: bool,
    /// Instead of all parties' consent, a copy of the subject's own voice only.
    #[serde(default)]
    pub own_voice_copy_allowed: bool,
    /// A denied erasure is reported to the supervisory authority (WEBEO-ERASURE).
    #[serde(default)]
    pub erasure_denial_notifies_authority: bool,
    /// What a requester should include (e.g. number, date, approximate time).
    #[serde(default)]
    pub request_must_include: Vec<String>,
}

fn thirty() -> u32 {
    30
}

/// What may be done to a recording.
#[derive(Debug, Clone, Copy, Deserialize, Serialize, PartialEq, Eq, Hash)]
#[serde(rename_all = "kebab-case")]
pub enum Action {
    /// See the register entry (metadata).
    Metadata,
    Search,
    Listen,
    Download,
    Export,
    Delete,
}

/// Which recordings a rule reaches.
#[derive(Debug, Clone, Copy, Deserialize, Serialize, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
pub enum Scope {
    /// The person's own calls (as agent).
    Own,
    /// The calls of the teams the person manages.
    Team,
    /// Every recording of the tenant.
    Tenant,
}

/// A role the policy names.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Role {
    pub id: String,
    pub description: String,
}

/// One access rule: these roles may do these actions on recordings in scope.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct AccessRule {
    pub roles: Vec<String>,
    pub actions: Vec<Action>,
    pub scope: Scope,
    /// Only with a valid, unexpired grant (ARLO-GRANTS).
    #[serde(default)]
    pub requires_grant: bool,
}

/// Access control.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Access {
    pub roles: Vec<Role>,
    pub rules: Vec<AccessRule>,
    /// Users need a training attestation first (POSTI-TRAINING).
    #[serde(default)]
    pub training_required: bool,
    /// The role that issues grants (ARLO-GRANTS).
    #[serde(default)]
    pub grants_issued_by: Option<String>,
    /// Every search must give a reason (ARLO-SECURITY).
    #[serde(default = "yes")]
    pub search_requires_reason: bool,
    /// Denied attempts raise an alert (ARLO-SECURITY).
    #[serde(default)]
    pub alert_on_denied: bool,
    /// Extra Cedar policies, added to the ones generated from `rules` and validated against
    /// the engine's Cedar schema when the policy loads (docs/authorization.md).
    #[serde(default)]
    pub cedar: Option<String>,
}

/// Who recordings may go to.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Sharing {
    /// Shared, rented or sold to third parties: never, in every seed.
    pub third_parties: bool,
    /// Released only to a verified data subject (subject to `rights`).
    #[serde(default = "yes")]
    pub to_data_subject: bool,
    /// Released to an authority only where the law requires it.
    #[serde(default = "yes")]
    pub to_authority_when_required_by_law: bool,
    /// Used for direct marketing: never in the seeds.
    #[serde(default)]
    pub direct_marketing: bool,
}

/// The role that approves a policy change when the policy names none.
pub const DEFAULT_CHANGE_APPROVER: &str = "compliance";

/// Who approves a policy change (ARLO-PURPOSE-CHANGE, ALL-VERSION).
#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ChangeRules {
    /// The role whose approval makes a new version take effect; when absent,
    /// [`DEFAULT_CHANGE_APPROVER`]. The active version's role approves the next one.
    #[serde(default)]
    pub approved_by: Option<String>,
    /// Changes are published where the policy says (e.g. "this page").
    #[serde(default)]
    pub published_at: Option<String>,
}

impl ChangeRules {
    /// The role whose approval makes a new version take effect.
    pub fn approver_role(&self) -> &str {
        self.approved_by.as_deref().unwrap_or(DEFAULT_CHANGE_APPROVER)
    }
}

/// Outbound marketing rules (WEBEO-TPS).
#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Marketing {
    /// Registers every number is screened against (e.g. `tps`, `ctps`).
    #[serde(default)]
    pub screening_registers: Vec<String>,
    /// Unsolicited sales or marketing calls to a listed number are not made.
    #[serde(default)]
    pub no_unsolicited_calls_to_listed: bool,
}
