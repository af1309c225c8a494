//! From a SIPREC offer (and the INVITE's headers) to what the recorder needs to know
//! about a call: who is on it, which stream carries whose voice, which way the call
//! went, and what the recording client signalled about notice and consent. Pure.

use policy::Direction;
use siprec::{RecordingMetadata, SiprecOffer};

use crate::consent::ClientSignals;
use crate::parties::{Classified, PartyFacts, PartyRole, TenantSide, classify};
use crate::transfer::Transfer;

/// Headers of the INVITE that matter to recording.
#[derive(Debug, Clone, Default)]
pub struct CallHeaders {
    /// `Recording-Notice`.
    pub recording_notice: Option<String>,
    /// `Recording-Consent`, e.g. `granted; digit=1; at=2026-11-20T10:00:05Z`.
    pub recording_consent: Option<String>,
    /// The transfer that brought the call in, when one was recognised (`transfer::detect`).
    pub transfer: Option<Transfer>,
}

/// One party of the call as the recorder keeps it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlannedParty {
    pub metadata_id: String,
    pub role: PartyRole,
    pub aors: Vec<String>,
    pub name: Option<String>,
    pub joined_mid_call: bool,
}

/// What the recorder knows about a call at (re-)INVITE time.
#[derive(Debug, Clone)]
pub struct CallPlan {
    pub parties: Vec<PlannedParty>,
    pub direction: Option<Direction>,
    /// For each SDP stream label, the index (in `parties`) of the party whose voice it carries.
    pub stream_owner: Vec<(String, Option<usize>)>,
    pub signals: ClientSignals,
    /// Problems worth noting on the recording (never containing numbers).
    pub notes: Vec<String>,
    /// Where the call was transferred in from (CSI-SCOPE), kept on the recording.
    pub transfer: Option<Transfer>,
}

impl CallPlan {
    /// Labels of the streams that carry the customer's voice (where consent digits count).
    pub fn customer_labels(&self) -> Vec<&str> {
        self.stream_owner
            .iter()
            .filter(|(_, owner)| owner.is_some_and(|o| self.parties[o].role == PartyRole::Customer))
            .map(|(label, _)| label.as_str())
            .collect()
    }
}

/// Parses `Recording-Consent: granted; digit=1; at=...`.
pub fn parse_consent_header(value: &str) -> Option<(bool, Option<char>)> {
    let mut parts = value.split(';').map(str::trim);
    let granted = match parts.next()?.to_ascii_lowercase().as_str() {
        "granted" => true,
        "declined" | "refused" | "denied" => false,
        _ => return None,
    };
    let digit = parts
        .filter_map(|p| p.split_once('='))
        .find(|(k, _)| k.trim().eq_ignore_ascii_case("digit"))
        .and_then(|(_, v)| {
            let v = v.trim().trim_matches('"');
            let mut chars = v.chars();
            match (chars.next(), chars.next()) {
                (Some(c), None) if "0123456789*#".contains(c) => Some(c),
                _ => None,
            }
        });
    Some((granted, digit))
}

/// Builds the plan of a call from its offer, headers and the tenant's side.
pub fn plan_call(offer: &SiprecOffer, headers: &CallHeaders, side: &TenantSide) -> CallPlan {
    let mut notes = Vec::new();
    let empty = RecordingMetadata::default();
    let metadata = match &offer.metadata {
        Ok(metadata) => metadata,
        Err(problem) => {
            notes.push(format!("metadata-problem: {}", problem.code()));
            &empty
        }
    };
    let facts: Vec<PartyFacts> = metadata
        .participants
        .iter()
        .map(|p| PartyFacts {
            aors: p.aors.clone(),
            name: p.name.clone(),
        })
        .collect();
    let originator = metadata
        .calling_participant()
        .and_then(|c| metadata.participants.iter().position(|p| p.id == c.id));
    let Classified { roles, direction, .. } = classify(&facts, side, originator);
    let parties: Vec<PlannedParty> = metadata
        .participants
        .iter()
        .zip(&roles)
        .map(|(p, role)| PlannedParty {
            metadata_id: p.id.clone(),
            role: *role,
            aors: p.aors.clone(),
            name: p.name.clone(),
            joined_mid_call: p.joined_mid_call,
        })
        .collect();
    let stream_owner = offer
        .sdp
        .media
        .iter()
        .enumerate()
        .map(|(i, m)| {
            let label = m.label.clone().unwrap_or_else(|| format!("stream-{i}"));
            let owner = metadata
                .senders_of_label(&label)
                .first()
                .and_then(|sender| parties.iter().position(|p| p.metadata_id == sender.id));
            (label, owner)
        })
        .collect::<Vec<_>>();
    if !parties.is_empty() && stream_owner.iter().all(|(_, o)| o.is_none()) {
        notes.push("no-stream-association: the metadata does not say whose voice is on which stream".into());
    }
    let header_consent = headers.recording_consent.as_deref().and_then(parse_consent_header);
    let signals = ClientSignals {
        notice_played: metadata.notice_played
            || headers
                .recording_notice
                .as_deref()
                .is_some_and(|v| v.trim().eq_ignore_ascii_case("played")),
        consent: header_consent.or_else(|| metadata.consent.as_ref().map(|c| (c.granted, c.digit))),
    };
    if let Some(transfer) = &headers.transfer {
        // The note names the signal and the configured source's name (an operator's
        // word, never a number; the same note as an ingest's `transferred_from`); the
        // source's address is kept as a participant.
        notes.push(format!("transferred-in: signalled by {}", transfer.signal.word()));
        if let Some(name) = &transfer.source_name {
            notes.push(format!("transferred-from: {name}"));
        }
    }
    CallPlan {
        parties,
        direction,
        stream_owner,
        signals,
        notes,
        transfer: headers.transfer.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn consent_headers() {
        assert_eq!(
            parse_consent_header("granted; digit=1; at=2026-11-20T10:00:05Z"),
            Some((true, Some('1')))
        );
        assert_eq!(parse_consent_header("declined;digit=2"), Some((false, Some('2'))));
        assert_eq!(parse_consent_header("granted"), Some((true, None)));
        assert_eq!(parse_consent_header("maybe"), None);
        assert_eq!(parse_consent_header("granted; digit=12"), Some((true, None)));
    }

    fn offer(name: &str) -> SiprecOffer {
        let path = format!(
            "{}/../../../shared/interop/siprec-offers/{name}",
            env!("CARGO_MANIFEST_DIR")
        );
        let body = std::fs::read_to_string(path).unwrap().replace('\n', "\r\n");
        let boundary = body
            .lines()
            .find(|l| l.starts_with("--"))
            .unwrap()
            .trim_start_matches("--")
            .to_owned();
        siprec::parse_offer(&format!("multipart/mixed;boundary={boundary}"), body.as_bytes()).unwrap()
    }

    #[test]
    fn cisco_offer_with_an_agent_pattern_is_inbound_with_the_customer_on_label_1() {
        let side = TenantSide {
            agent_patterns: vec!["sip:7300@35.162.237.204".into()],
            ..Default::default()
        };
        let plan = plan_call(&offer("cisco-siprec-offer.txt"), &CallHeaders::default(), &side);
        assert_eq!(plan.direction, Some(Direction::Inbound));
        assert_eq!(plan.customer_labels(), vec!["1"]);
        assert_eq!(
            plan.parties.iter().map(|p| p.role).collect::<Vec<_>>(),
            vec![PartyRole::Customer, PartyRole::Agent]
        );
    }

    #[test]
    fn without_tenant_knowledge_the_direction_is_unknown() {
        let plan = plan_call(
            &offer("cisco-siprec-offer.txt"),
            &CallHeaders::default(),
            &TenantSide::default(),
        );
        assert_eq!(plan.direction, None);
        assert!(plan.customer_labels().is_empty());
    }

    #[test]
    fn damaged_metadata_is_noted_and_the_header_signals_count() {
        let headers = CallHeaders {
            recording_notice: Some("played".into()),
            ..Default::default()
        };
        let plan = plan_call(&offer("broadworks-offer.txt"), &headers, &TenantSide::default());
        assert!(
            plan.notes.iter().any(|n| n.starts_with("metadata-problem: ")),
            "{:?}",
            plan.notes
        );
        assert!(plan.signals.notice_played);
    }

    #[test]
    fn a_transfer_is_noted_and_kept_on_the_plan() {
        let transfer = Transfer {
            signal: crate::transfer::TransferSignal::Diversion,
            source_uri: Some("sip:+358401112222@partner.example".into()),
            source_name: Some("clover".into()),
        };
        let headers = CallHeaders {
            transfer: Some(transfer.clone()),
            ..Default::default()
        };
        let plan = plan_call(&offer("cisco-siprec-offer.txt"), &headers, &TenantSide::default());
        assert_eq!(plan.transfer, Some(transfer));
        assert!(
            plan.notes
                .contains(&"transferred-in: signalled by Diversion".to_owned()),
            "{:?}",
            plan.notes
        );
        assert!(
            plan.notes.contains(&"transferred-from: clover".to_owned()),
            "{:?}",
            plan.notes
        );
        assert!(
            plan.notes.iter().all(|n| !n.contains("358401112222")),
            "no number in notes: {:?}",
            plan.notes
        );
    }

    #[test]
    fn the_metadata_transfer_element_names_the_source() {
        let body = "--b\r\nContent-Type: application/sdp\r\n\r\n\
            v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\ns=-\r\nc=IN IP4 192.0.2.1\r\nt=0 0\r\n\
            m=audio 4000 RTP/AVP 8\r\na=label:1\r\na=sendonly\r\n\
            --b\r\nContent-Type: application/rs-metadata+xml\r\n\r\n\
            <recording xmlns='urn:ietf:params:xml:ns:recording:1'><datamode>complete</datamode>\
            <transfer xmlns='urn:callvault:siprec:1' from='sip:desk@partner.example'/></recording>\r\n--b--\r\n";
        let offer = siprec::parse_offer("multipart/mixed;boundary=b", body.as_bytes()).unwrap();
        let metadata = offer.metadata.as_ref().unwrap();
        assert_eq!(metadata.transferred_from.as_deref(), Some("sip:desk@partner.example"));
        let facts = crate::transfer::TransferFacts {
            metadata_from: metadata.transferred_from.as_deref(),
            ..Default::default()
        };
        let transfer = crate::transfer::detect(&facts, &[], &crate::routing::CallFacts::default()).unwrap();
        assert_eq!(transfer.signal, crate::transfer::TransferSignal::Metadata);
        assert_eq!(transfer.source_uri.as_deref(), Some("sip:desk@partner.example"));
    }
}
