//! Metadata updates (re-INVITE, UPDATE): merging a `partial` document, or a new `complete`
//! snapshot, into what the recording already knows.

#![deny(
    clippy::indexing_slicing,
    clippy::arithmetic_side_effects,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic
)]

use super::{DataMode, Participant, RecordingMetadata};

/// What an update changed, for the caller to record and log.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct UpdateSummary {
    /// Ids of participants that were not known before (now marked `joined_mid_call`).
    pub joined: Vec<String>,
    /// Ids of participants that left: a `disassociate-time` arrived, or a complete snapshot
    /// no longer lists them.
    pub left: Vec<String>,
    /// Ids of streams that were not known before.
    pub streams_added: Vec<String>,
}

impl RecordingMetadata {
    /// Applies an update received during the call.
    ///
    /// - `partial` (RFC 7865 §6.1): sessions, participants and streams in the update are
    ///   added or changed field by field (a field the update leaves out keeps its value); a
    ///   participant's stream association in the update replaces that participant's previous
    ///   one; nothing is removed.
    /// - `complete`: the update is the new snapshot, but participants that were known and are
    ///   no longer listed are kept (the recording's history needs them) and reported as left.
    ///
    /// Either way a participant not known before is marked `joined_mid_call` (its
    /// `associate_time` is the update's), notice and consent signals are only ever added, and
    /// vendor hints are taken from the update where it has them. `self.data_mode` is kept:
    /// after merging, `self` is the complete picture.
    pub fn apply_partial(&mut self, update: &RecordingMetadata) -> UpdateSummary {
        let mut summary = UpdateSummary::default();

        for session in &update.sessions {
            match self.sessions.iter_mut().find(|s| s.id == session.id) {
                Some(known) => {
                    known.sip_session_id = session.sip_session_id.clone().or(known.sip_session_id.take());
                    known.start_time = session.start_time.clone().or(known.start_time.take());
                }
                None => self.sessions.push(session.clone()),
            }
        }

        for participant in &update.participants {
            match self.participants.iter_mut().find(|p| p.id == participant.id) {
                Some(known) => {
                    merge_participant(known, participant);
                    if participant.disassociate_time.is_some() {
                        summary.left.push(known.id.clone());
                    }
                }
                None => {
                    let mut joined = participant.clone();
                    joined.joined_mid_call = true;
                    summary.joined.push(joined.id.clone());
                    if joined.disassociate_time.is_some() {
                        summary.left.push(joined.id.clone());
                    }
                    self.participants.push(joined);
                }
            }
        }
        if update.data_mode == DataMode::Complete {
            for known in &self.participants {
                let listed = update.participants.iter().any(|p| p.id == known.id);
                if !listed && !summary.left.contains(&known.id) && known.disassociate_time.is_none() {
                    summary.left.push(known.id.clone());
                }
            }
            self.associations
                .retain(|a| update.participants.iter().any(|p| p.id == a.participant_id));
        }

        for stream in &update.streams {
            match self.streams.iter_mut().find(|s| s.id == stream.id) {
                Some(known) => {
                    known.label = stream.label.clone().or(known.label.take());
                    known.session_id = stream.session_id.clone().or(known.session_id.take());
                }
                None => {
                    summary.streams_added.push(stream.id.clone());
                    self.streams.push(stream.clone());
                }
            }
        }

        for association in &update.associations {
            match self
                .associations
                .iter_mut()
                .find(|a| a.participant_id == association.participant_id)
            {
                Some(known) => *known = association.clone(),
                None => self.associations.push(association.clone()),
            }
        }

        self.notice_played |= update.notice_played;
        if update.consent.is_some() {
            self.consent.clone_from(&update.consent);
        }
        self.vendor_hints.merge(&update.vendor_hints);
        self.warnings.extend(update.warnings.iter().cloned());
        summary
    }
}

/// Field-by-field: what the update gives replaces, what it leaves out stays.
fn merge_participant(known: &mut Participant, update: &Participant) {
    if !update.aors.is_empty() {
        known.aors.clone_from(&update.aors);
    }
    if update.name.is_some() {
        known.name.clone_from(&update.name);
    }
    if update.associate_time.is_some() {
        known.associate_time.clone_from(&update.associate_time);
    }
    if update.disassociate_time.is_some() {
        known.disassociate_time.clone_from(&update.disassociate_time);
    }
}
