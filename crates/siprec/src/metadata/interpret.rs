//! From the element tree to [`RecordingMetadata`]: RFC 7865 shapes and the draft shapes of
//! Oracle/Acme and Sonus, vendor hints and callvault's notice and consent elements.

#![deny(
    clippy::indexing_slicing,
    clippy::arithmetic_side_effects,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic
)]

use super::problem::{MetadataProblem, MetadataWarning, printable_name};
use super::vendor::{find_call_data, is_calling_party};
use super::xml_tree::{Element, Namespace, parse_tree};
use super::{
    ClientConsent, CommunicationSession, DataMode, MediaStream, Participant, RecordingMetadata, StreamAssociation,
};

/// Parses one metadata part (the body of the `application/rs-metadata+xml` part).
///
/// A problem means the metadata cannot be used; the caller still records the call and notes
/// the problem (see [`MetadataProblem`]). Never panics.
pub fn parse_metadata(xml: &[u8]) -> Result<RecordingMetadata, MetadataProblem> {
    let text = std::str::from_utf8(xml).map_err(|_| MetadataProblem::NotUtf8)?;
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    if text.trim().is_empty() {
        return Err(MetadataProblem::Empty);
    }
    let root = parse_tree(text)?;
    if !root.is("recording") {
        return Err(MetadataProblem::UnexpectedRoot {
            element: printable_name(&root.name),
            namespace: match root.namespace {
                Namespace::Unbound => "no namespace",
                Namespace::Recording => "a recording namespace",
                Namespace::Callvault | Namespace::Other => "another namespace",
            },
        });
    }
    interpret(&root)
}

fn interpret(root: &Element) -> Result<RecordingMetadata, MetadataProblem> {
    let mut metadata = RecordingMetadata {
        data_mode: data_mode(root)?,
        ..RecordingMetadata::default()
    };
    let partial = metadata.data_mode == DataMode::Partial;

    for element in root.children_named("session") {
        let session = CommunicationSession {
            id: id_of(element, &["session_id", "id"], "session")?,
            sip_session_id: element.child_text("sipsessionid"),
            start_time: element
                .child_text("start-time")
                .or_else(|| element.child_text("associate-time")),
        };
        if metadata.sessions.iter().any(|s| s.id == session.id) {
            metadata
                .warnings
                .push(MetadataWarning::DuplicateId { element: "session" });
        } else {
            metadata.sessions.push(session);
        }
    }
    for element in root.children_named("sessionrecordingassoc") {
        let id = element.attribute(&["session_id", "id"]);
        let time = element.child_text("associate-time");
        if let Some(session) = metadata.sessions.iter_mut().find(|s| Some(s.id.as_str()) == id)
            && session.start_time.is_none()
        {
            session.start_time = time;
        }
    }

    for element in root.children_named("participant") {
        read_participant(element, &mut metadata)?;
    }

    for element in root.children_named("stream") {
        let stream = MediaStream {
            id: id_of(element, &["stream_id", "id"], "stream")?,
            label: element.child_text("label"),
            session_id: element.attribute(&["session_id", "session"]).map(str::to_owned),
        };
        if metadata.streams.iter().any(|s| s.id == stream.id) {
            metadata
                .warnings
                .push(MetadataWarning::DuplicateId { element: "stream" });
        } else {
            metadata.streams.push(stream);
        }
    }

    for element in root.children_named("participantsessionassoc") {
        let id = id_of(element, &["participant_id"], "participantsessionassoc")?;
        let associate = element.child_text("associate-time");
        let disassociate = element.child_text("disassociate-time");
        if let Some(participant) = participant_for(&mut metadata, &id, partial) {
            participant.associate_time = associate.or(participant.associate_time.take());
            participant.disassociate_time = disassociate.or(participant.disassociate_time.take());
        }
    }

    for element in root.children_named("participantstreamassoc") {
        let id = id_of(element, &["participant_id", "id"], "participantstreamassoc")?;
        let _ = participant_for(&mut metadata, &id, partial);
        add_association(&mut metadata, &id, texts(element, "send"), texts(element, "recv"));
    }

    if !partial {
        let unknown = metadata
            .associations
            .iter()
            .flat_map(|a| a.send.iter().chain(&a.recv))
            .filter(|id| !metadata.streams.iter().any(|s| &s.id == *id))
            .count();
        metadata
            .warnings
            .extend(std::iter::repeat_n(MetadataWarning::UnknownStream, unknown));
    }

    read_callvault_elements(root, &mut metadata);
    metadata.vendor_hints.call_data = find_call_data(root);
    Ok(metadata)
}

fn data_mode(root: &Element) -> Result<DataMode, MetadataProblem> {
    match root.child_text("datamode") {
        None => Ok(DataMode::Complete),
        Some(text) if text.eq_ignore_ascii_case("complete") => Ok(DataMode::Complete),
        Some(text) if text.eq_ignore_ascii_case("partial") => Ok(DataMode::Partial),
        Some(_) => Err(MetadataProblem::BadDataMode),
    }
}

fn id_of(element: &Element, names: &[&str], kind: &'static str) -> Result<String, MetadataProblem> {
    element
        .attribute(names)
        .map(str::trim)
        .filter(|id| !id.is_empty())
        .map(str::to_owned)
        .ok_or(MetadataProblem::MissingId { element: kind })
}

fn texts(element: &Element, name: &str) -> Vec<String> {
    element.children_named(name).filter_map(Element::trimmed_text).collect()
}

fn read_participant(element: &Element, metadata: &mut RecordingMetadata) -> Result<(), MetadataProblem> {
    let id = id_of(element, &["participant_id", "id"], "participant")?;
    let mut aors = Vec::new();
    let mut name = None;
    for name_id in element.children_named("nameid") {
        if let Some(aor) = name_id.attribute(&["aor"]).map(str::trim).filter(|a| !a.is_empty()) {
            aors.push(aor.to_owned());
        }
        if name.is_none() {
            name = name_id.child_text("name");
        }
    }
    // Early drafts: <aor> and <name> directly inside <participant>.
    aors.extend(texts(element, "aor"));
    if name.is_none() {
        name = element.child_text("name");
    }
    let participant = Participant {
        id: id.clone(),
        aors,
        name,
        associate_time: element.child_text("associate-time"),
        disassociate_time: element.child_text("disassociate-time"),
        joined_mid_call: false,
    };
    if is_calling_party(element) && metadata.vendor_hints.calling_participant_id.is_none() {
        metadata.vendor_hints.calling_participant_id = Some(id.clone());
    }
    match metadata.participants.iter_mut().find(|p| p.id == id) {
        Some(existing) => {
            metadata
                .warnings
                .push(MetadataWarning::DuplicateId { element: "participant" });
            existing.aors.extend(participant.aors);
            existing.name = existing.name.take().or(participant.name);
        }
        None => metadata.participants.push(participant),
    }
    // Drafts (Acme): <send>/<recv> directly inside <participant>.
    let (send, recv) = (texts(element, "send"), texts(element, "recv"));
    if !send.is_empty() || !recv.is_empty() {
        add_association(metadata, &id, send, recv);
    }
    Ok(())
}

/// The participant `id`; in partial mode an unknown one is added as a stub (the update
/// refers to a participant the previous document introduced), in complete mode it is a
/// warning.
fn participant_for<'a>(metadata: &'a mut RecordingMetadata, id: &str, partial: bool) -> Option<&'a mut Participant> {
    let position = match metadata.participants.iter().position(|p| p.id == id) {
        Some(position) => position,
        None if partial => {
            metadata.participants.push(Participant {
                id: id.to_owned(),
                ..Participant::default()
            });
            metadata.participants.len().saturating_sub(1)
        }
        None => {
            metadata.warnings.push(MetadataWarning::UnknownParticipant);
            return None;
        }
    };
    metadata.participants.get_mut(position)
}

fn add_association(metadata: &mut RecordingMetadata, participant_id: &str, send: Vec<String>, recv: Vec<String>) {
    let position = match metadata
        .associations
        .iter()
        .position(|a| a.participant_id == participant_id)
    {
        Some(position) => position,
        None => {
            metadata.associations.push(StreamAssociation {
                participant_id: participant_id.to_owned(),
                ..StreamAssociation::default()
            });
            metadata.associations.len().saturating_sub(1)
        }
    };
    if let Some(association) = metadata.associations.get_mut(position) {
        for id in send {
            if !association.send.contains(&id) {
                association.send.push(id);
            }
        }
        for id in recv {
            if !association.recv.contains(&id) {
                association.recv.push(id);
            }
        }
    }
}

/// `<notice>` and `<consent>` in the callvault namespace, wherever they are.
fn read_callvault_elements(root: &Element, metadata: &mut RecordingMetadata) {
    for element in root.descendants() {
        if element.namespace != Namespace::Callvault {
            continue;
        }
        match element.name.as_str() {
            "notice" if element.text.trim().eq_ignore_ascii_case("played") => metadata.notice_played = true,
            "consent" => {
                let value = element.text.trim().to_ascii_lowercase();
                let granted = match value.as_str() {
                    "granted" => true,
                    "declined" | "refused" | "denied" | "withdrawn" => false,
                    _ => {
                        metadata.warnings.push(MetadataWarning::UnknownConsentValue);
                        false
                    }
                };
                let digit = match element.attribute(&["digit"]).map(str::trim) {
                    None => None,
                    Some(text) => {
                        let digit = dtmf_digit(text);
                        if digit.is_none() {
                            metadata.warnings.push(MetadataWarning::BadConsentDigit);
                        }
                        digit
                    }
                };
                metadata.consent = Some(ClientConsent {
                    granted,
                    digit,
                    at: element
                        .attribute(&["at"])
                        .map(str::trim)
                        .filter(|a| !a.is_empty())
                        .map(str::to_owned),
                });
            }
            "transfer" => {
                metadata.transferred_from = element
                    .attribute(&["from"])
                    .map(str::trim)
                    .filter(|f| !f.is_empty())
                    .map(str::to_owned);
            }
            _ => {}
        }
    }
}

/// A single DTMF digit: `0`–`9`, `*`, `#`, `A`–`D` (upper-cased).
fn dtmf_digit(text: &str) -> Option<char> {
    let mut chars = text.chars();
    let (Some(c), None) = (chars.next(), chars.next()) else {
        return None;
    };
    let c = c.to_ascii_uppercase();
    (c.is_ascii_digit() || matches!(c, '*' | '#' | 'A'..='D')).then_some(c)
}
