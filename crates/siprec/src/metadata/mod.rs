//! RFC 7865 recording metadata: who is in the call, which stream carries whose voice, and the
//! callvault extension elements for notice and consent.
//!
//! Accepted shapes:
//!
//! - namespaces `urn:ietf:params:xml:ns:recording:1` (RFC 7865), the pre-RFC
//!   `urn:ietf:params:xml:ns:recording` and `urn:ietf:params:xml:ns:siprec`, with any prefix
//!   (Sonus writes `tns:`), and a `<recording>` root without any namespace;
//! - element names compared ASCII case-insensitively (`dataMode`, `datamode`);
//! - ids in `participant_id`/`stream_id`/`session_id` (RFC) or `id`/`session` (drafts, as the
//!   Oracle/Acme SBC sends), `send`/`recv`/`associate-time` inside `<participant>` (drafts)
//!   as well as in `<participantstreamassoc>`/`<participantsessionassoc>` (RFC), and
//!   `<aor>`/`<name>` directly inside `<participant>` (early drafts);
//! - vendor hints: Oracle/Acme `<apkt:callingParty>true</apkt:callingParty>` in a participant's
//!   `<extensiondata>`, and Sonus `<callData>` (`fromhdr`, `tohdr`, `callid`) anywhere;
//! - `<notice xmlns="urn:callvault:siprec:1">played</notice>` and
//!   `<consent xmlns="urn:callvault:siprec:1" digit="1" at="…">granted</consent>` anywhere;
//! - `<transfer xmlns="urn:callvault:siprec:1" from="URI"/>`: the call was transferred in.
//!
//! Anything else (other extension data, `<mode>`, groups, CS-level times) is ignored.
//!
//! The values (addresses of record, names, From/To URIs) are personal data exactly as the
//! client sent them: mask them as the policy says before storing or logging (the `Debug`
//! output of these types prints them).
//!
//! Times are kept as the text the client sent (`2019-03-09T16:50:20` from Acme has no zone,
//! so they are not all RFC 3339). They are informative only: retention and durations count
//! from the recorder's own clock (its answer time), never from metadata a client controls.

mod interpret;
mod partial;
mod problem;
mod vendor;
mod xml_tree;

pub use interpret::parse_metadata;
pub use partial::UpdateSummary;
pub use problem::{MetadataProblem, MetadataWarning};
pub use vendor::{CallData, VendorHints};

/// Namespaces that the `<recording>` document may use.
pub const RECORDING_NAMESPACES: [&str; 3] = [
    "urn:ietf:params:xml:ns:recording:1",
    "urn:ietf:params:xml:ns:recording",
    "urn:ietf:params:xml:ns:siprec",
];

/// The namespace of callvault's own extension elements (`notice`, `consent`).
pub const CALLVAULT_NAMESPACE: &str = "urn:callvault:siprec:1";

/// Whether a metadata document is a full snapshot or a set of changes (RFC 7865 §6.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum DataMode {
    /// A full snapshot (the default when `<dataMode>` is absent).
    #[default]
    Complete,
    /// Only what changed since the previous document.
    Partial,
}

/// The recording metadata of one SIPREC session.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct RecordingMetadata {
    /// Snapshot or changes.
    pub data_mode: DataMode,
    /// The communication sessions (CS) being recorded, usually one.
    pub sessions: Vec<CommunicationSession>,
    /// The participants in document order (the first one listed matters for direction when
    /// no vendor hint names the caller).
    pub participants: Vec<Participant>,
    /// The media streams, linked to SDP m-lines by `label`.
    pub streams: Vec<MediaStream>,
    /// Which participant sends and receives which streams, one entry per participant.
    pub associations: Vec<StreamAssociation>,
    /// The recording client says the recording notice was played.
    pub notice_played: bool,
    /// Consent the client collected before forking the call, if it says so.
    pub consent: Option<ClientConsent>,
    /// `<transfer xmlns="urn:callvault:siprec:1" from="URI"/>`: the call was transferred
    /// in from this address.
    pub transferred_from: Option<String>,
    /// Vendor-specific facts about who called whom.
    pub vendor_hints: VendorHints,
    /// Things that were odd but did not stop the parse (dangling references, bad digits).
    pub warnings: Vec<MetadataWarning>,
}

/// A communication session (`<session>`).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct CommunicationSession {
    /// `session_id` (or draft `id`).
    pub id: String,
    /// `<sipSessionID>`, if given.
    pub sip_session_id: Option<String>,
    /// `<start-time>`, else the session's draft `<associate-time>`, as sent.
    pub start_time: Option<String>,
}

/// A participant (`<participant>`).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Participant {
    /// `participant_id` (or draft `id`).
    pub id: String,
    /// Addresses of record (`<nameID aor>`), as sent: SIP or tel URIs, or bare `user@host`.
    pub aors: Vec<String>,
    /// The display name (`<name>`), trimmed; `None` when absent or blank.
    pub name: Option<String>,
    /// When the participant joined the session, as sent.
    pub associate_time: Option<String>,
    /// When the participant left the session, as sent.
    pub disassociate_time: Option<String>,
    /// Added by a metadata update after the recording started.
    pub joined_mid_call: bool,
}

/// A media stream (`<stream>`).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct MediaStream {
    /// `stream_id` (or draft `id`).
    pub id: String,
    /// `<label>`: equal to the SDP m-line's `a=label`.
    pub label: Option<String>,
    /// The session it belongs to (`session_id` or draft `session`).
    pub session_id: Option<String>,
}

/// The streams one participant sends and receives (`<participantstreamassoc>`).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct StreamAssociation {
    /// The participant.
    pub participant_id: String,
    /// Stream ids this participant's voice is on.
    pub send: Vec<String>,
    /// Stream ids this participant hears.
    pub recv: Vec<String>,
}

/// `<consent xmlns="urn:callvault:siprec:1" digit="1" at="…">granted</consent>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientConsent {
    /// `granted`; anything else (`declined`, `refused`, unknown text) is not a grant.
    pub granted: bool,
    /// The digit pressed (`0`–`9`, `*`, `#`, `A`–`D`), when given and valid.
    pub digit: Option<char>,
    /// When, as sent (RFC 3339 expected; not checked, not used for retention).
    pub at: Option<String>,
}

impl RecordingMetadata {
    /// The participant with id `id`.
    pub fn participant(&self, id: &str) -> Option<&Participant> {
        self.participants.iter().find(|p| p.id == id)
    }

    /// The stream whose label is `label` (the SDP `a=label`).
    pub fn stream_by_label(&self, label: &str) -> Option<&MediaStream> {
        self.streams.iter().find(|s| s.label.as_deref() == Some(label))
    }

    /// The participants whose voice is on the stream labelled `label` (usually one; several
    /// for a mixed stream; none when the metadata has no associations for it).
    pub fn senders_of_label(&self, label: &str) -> Vec<&Participant> {
        let Some(stream) = self.stream_by_label(label) else {
            return Vec::new();
        };
        self.associations
            .iter()
            .filter(|a| a.send.contains(&stream.id))
            .filter_map(|a| self.participant(&a.participant_id))
            .collect()
    }

    /// The labels of the streams participant `participant_id` sends on, in stream order.
    pub fn labels_sent_by(&self, participant_id: &str) -> Vec<&str> {
        self.labels_for(participant_id, |a| &a.send)
    }

    /// The labels of the streams participant `participant_id` receives, in stream order.
    pub fn labels_received_by(&self, participant_id: &str) -> Vec<&str> {
        self.labels_for(participant_id, |a| &a.recv)
    }

    fn labels_for(&self, participant_id: &str, pick: fn(&StreamAssociation) -> &Vec<String>) -> Vec<&str> {
        let ids: Vec<&String> = self
            .associations
            .iter()
            .filter(|a| a.participant_id == participant_id)
            .flat_map(|a| pick(a).iter())
            .collect();
        self.streams
            .iter()
            .filter(|s| ids.contains(&&s.id))
            .filter_map(|s| s.label.as_deref())
            .collect()
    }

    /// The participant a vendor hint names as the caller: Oracle/Acme `callingParty`, else
    /// the participant whose address of record matches Sonus `callData`'s From URI. `None`
    /// when there is no hint (the policy layer may then use the first participant listed).
    pub fn calling_participant(&self) -> Option<&Participant> {
        if let Some(id) = &self.vendor_hints.calling_participant_id {
            return self.participant(id);
        }
        let from = self.vendor_hints.call_data.as_ref()?.from_uri.as_deref()?;
        let wanted = vendor::comparable_address(from);
        self.participants
            .iter()
            .find(|p| p.aors.iter().any(|aor| vendor::comparable_address(aor) == wanted))
    }
}
