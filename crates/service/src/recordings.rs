//! Listing, showing, exporting and erasing recordings. Every read of audio names a
//! purpose of the recording's own policy and a reason, and is audited (ALL-PURPOSE).

use chrono::{DateTime, Utc};
use governance::{Actor, AuditEvent, Outcome, ReadRequest};
use uuid::Uuid;
use vault::{RecordingEntry, RecordingFilter, RecordingRecord, StreamRecord};

use crate::wire::{ParticipantSummary, RecordingDetail, RecordingSummary, StreamSummary};
use crate::{ErrorKind, Service, ServiceError};

/// How exported audio is laid out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExportFormat {
    /// All streams mixed into one PCM16 channel.
    Wav,
    /// One participant per channel: customer left, agent right.
    WavStereo,
    /// Ogg Opus (RFC 7845): mono for one stream, customer left and agent right for
    /// two, a mono mix for more.
    Ogg,
}

impl ExportFormat {
    pub fn parse(text: &str) -> Result<Self, ServiceError> {
        match text {
            "wav" => Ok(ExportFormat::Wav),
            "wav-stereo" => Ok(ExportFormat::WavStereo),
            "ogg" => Ok(ExportFormat::Ogg),
            other => Err(ServiceError::bad_input(
                "format-invalid",
                format!("--format {other:?}: expected wav, wav-stereo or ogg"),
            )),
        }
    }
}

/// An export of audio for a purpose.
#[derive(Debug, Clone)]
pub struct ExportRequest<'a> {
    pub id: &'a str,
    pub purpose: &'a str,
    pub reason: &'a str,
    pub format: ExportFormat,
    /// Only this stream (by label), mono.
    pub stream: Option<&'a str>,
}

/// The exported file.
#[derive(Debug, Clone)]
pub struct ExportedAudio {
    pub wav: Vec<u8>,
    pub sha256: String,
}

/// A listing query.
#[derive(Debug, Clone, Default)]
pub struct RecordingQuery {
    pub tenant: Option<String>,
    /// Search by the customer's number (E.164 or national); needs purpose and reason.
    pub customer_number: Option<String>,
    pub purpose: Option<String>,
    pub reason: Option<String>,
    pub from: Option<DateTime<Utc>>,
    pub to: Option<DateTime<Utc>>,
}

pub(crate) fn parse_id(id: &str) -> Result<Uuid, ServiceError> {
    Uuid::parse_str(id).map_err(|_| ServiceError::new(ErrorKind::NotFound, "not-found", "recording not found"))
}

fn summary(
    r: &RecordingRecord,
    streams: &[StreamRecord],
    participants: &[vault::ParticipantRecord],
) -> RecordingSummary {
    RecordingSummary {
        id: r.id.to_string(),
        tenant: r.tenant.clone(),
        policy_version: r.policy_version,
        state: r.state.as_str().into(),
        direction: r.direction.clone(),
        started_at: r.started_at,
        ended_at: r.ended_at,
        duration_ms: r.duration_ms,
        customer_number: r.customer_number.clone(),
        service_number: r.service_number.clone(),
        agent: r.agent.clone(),
        purposes: r.purposes.clone(),
        legal_basis: r.legal_basis.clone(),
        consent: r.consent.clone(),
        retain_until: r.retain_until,
        notes: r.notes.clone(),
        streams: streams
            .iter()
            .map(|s| StreamSummary {
                label: s.label.clone(),
                participant: s
                    .participant
                    .and_then(|p| participants.iter().find(|q| q.idx == p))
                    .map(|p| p.role.clone()),
                codec: s.codec.clone(),
                sample_rate: s.sample_rate,
                packets_lost: s.packets_lost,
                seal: s.seal.as_str().into(),
            })
            .collect(),
    }
}

impl Service {
    /// Lists visible recordings. The local administrator maintains the register and may
    /// list it; a search by customer number is a read and needs purpose and reason.
    pub async fn list_recordings(
        &self,
        query: &RecordingQuery,
        actor: &Actor,
        now: DateTime<Utc>,
    ) -> Result<Vec<RecordingSummary>, ServiceError> {
        let mut filter = RecordingFilter {
            tenant: query.tenant.clone(),
            from: query.from,
            to: query.to,
            ..Default::default()
        };
        if let Some(number) = &query.customer_number {
            let Some(tenant) = &query.tenant else {
                return Err(ServiceError::bad_input(
                    "tenant-required",
                    "a search by number needs --tenant",
                ));
            };
            let (policy, _) = self.active_policy(tenant).await?;
            let purpose = query.purpose.as_deref().unwrap_or_default();
            let reason = query.reason.as_deref().unwrap_or_default();
            let checked = if reason.trim().is_empty() {
                Err(ServiceError::new(
                    ErrorKind::Forbidden,
                    "reason-required",
                    "a search needs --reason",
                ))
            } else {
                policy.check_read_purpose(purpose).map_err(|r| ServiceError {
                    kind: ErrorKind::Forbidden,
                    ..r.into()
                })
            };
            let mut event = AuditEvent::new(now, &actor.name(), "recording.search", Outcome::Allowed)
                .tenant(tenant)
                .purpose(purpose, reason);
            if let Err(err) = checked {
                event.outcome = Outcome::Denied;
                self.audit(event.detail(serde_json::json!({"code": err.code}))).await?;
                return Err(err);
            }
            let tenant_record = self.tenant(tenant).await?;
            let e164 = redact::normalize_e164(number, tenant_record.country.as_deref())
                .map_err(|e| ServiceError::bad_input("customer-number-invalid", format!("--customer-number: {e}")))?;
            filter.customer_number_hash = Some(redact::NumberHasher::new(self.vault.number_hash_key()).hash(&e164));
            self.audit(event).await?;
        } else {
            let mut event = AuditEvent::new(now, &actor.name(), "catalog.list", Outcome::Allowed);
            if let Some(t) = &query.tenant {
                event = event.tenant(t);
            }
            self.audit(event).await?;
        }
        let rows = self.vault.catalog().list(&filter).await?;
        let mut out = Vec::with_capacity(rows.len());
        for r in &rows {
            let catalog = self.vault.catalog();
            out.push(summary(
                r,
                &catalog.streams_of(r.id).await?,
                &catalog.participants_of(r.id).await?,
            ));
        }
        Ok(out)
    }

    /// The register entry of one recording (metadata only).
    pub async fn show_recording(
        &self,
        id: &str,
        actor: &Actor,
        now: DateTime<Utc>,
    ) -> Result<RecordingDetail, ServiceError> {
        let entry = self.vault.catalog().visible_entry(parse_id(id)?).await?;
        let record = self
            .policy_version(&entry.recording.tenant, entry.recording.policy_version)
            .await?;
        self.audit(
            AuditEvent::new(now, &actor.name(), "recording.show", Outcome::Allowed)
                .tenant(&entry.recording.tenant)
                .recording(entry.recording.id),
        )
        .await?;
        Ok(RecordingDetail {
            summary: summary(&entry.recording, &entry.streams, &entry.participants),
            participants: entry
                .participants
                .iter()
                .map(|p| ParticipantSummary {
                    role: p.role.clone(),
                    name: p.name.clone(),
                    number: p.number.clone(),
                })
                .collect(),
            policy_id: record.policy_id,
            policy_document_version: record.document_version,
        })
    }

    /// Decrypts, verifies and exports a recording's audio as WAV.
    pub async fn export_recording(
        &self,
        req: &ExportRequest<'_>,
        actor: &Actor,
        now: DateTime<Utc>,
    ) -> Result<ExportedAudio, ServiceError> {
        let id = parse_id(req.id)?;
        let entry = self.vault.catalog().visible_entry(id).await?;
        let tenant = entry.recording.tenant.clone();
        // The purpose is checked against the policy version the recording was made under.
        let made_under =
            Self::parse_stored_policy(&self.policy_version(&tenant, entry.recording.policy_version).await?)?;
        let request = ReadRequest {
            actor,
            recording_id: id,
            purpose: req.purpose,
            reason: req.reason,
        };
        let event = AuditEvent::new(now, &actor.name(), "recording.export", Outcome::Allowed)
            .tenant(&tenant)
            .recording(id)
            .purpose(req.purpose, req.reason);
        let permit = match governance::authorize_read(&made_under, &request) {
            Ok(permit) => permit,
            Err(refusal) => {
                let mut denied = event.detail(
                    serde_json::json!({"code": refusal.code, "policy_version": entry.recording.policy_version}),
                );
                denied.outcome = Outcome::Denied;
                self.audit(denied).await?;
                return Err(ServiceError {
                    kind: ErrorKind::Forbidden,
                    ..refusal.into()
                });
            }
        };
        // The read is recorded before any audio is decrypted.
        self.audit(event.detail(serde_json::json!({"format": format!("{:?}", req.format), "stream": req.stream})))
            .await?;
        let wav = self.render_export(&permit, &entry, req).await?;
        let sha256 = hex::encode(<sha2::Sha256 as sha2::Digest>::digest(&wav));
        Ok(ExportedAudio { wav, sha256 })
    }

    async fn render_export(
        &self,
        permit: &governance::ReadPermit,
        entry: &RecordingEntry,
        req: &ExportRequest<'_>,
    ) -> Result<Vec<u8>, ServiceError> {
        let chosen: Vec<&StreamRecord> = match req.stream {
            Some(label) => vec![entry.streams.iter().find(|s| s.label == label).ok_or_else(|| {
                let labels: Vec<&str> = entry.streams.iter().map(|s| s.label.as_str()).collect();
                ServiceError::bad_input(
                    "stream-unknown",
                    format!("--stream {label:?}: this recording has {}", labels.join(", ")),
                )
            })?],
            None => entry.streams.iter().collect(),
        };
        let mut channels: Vec<(String, u32, Vec<i16>)> = Vec::new();
        for stream in chosen {
            let audio = self.vault.read_stream(permit, entry, stream.idx).await?;
            let stored_rate = u32::try_from(stream.sample_rate).unwrap_or(8000);
            let decoded = media::decode_stored(&stream.codec, stored_rate, &audio.audio).map_err(|err| {
                ServiceError::new(
                    ErrorKind::Internal,
                    err.code(),
                    format!("stream {:?} (codec {}): {err}", stream.label, stream.codec),
                )
            })?;
            let role = stream
                .participant
                .and_then(|p| entry.participants.iter().find(|q| q.idx == p))
                .map(|p| p.role.clone())
                .unwrap_or_default();
            channels.push((role, decoded.sample_rate, decoded.samples));
        }
        // Streams of different codecs (G.711 at 8 kHz beside G.722 at 16 kHz) are
        // brought to the highest rate among them before they are laid out or mixed.
        let rate = channels.iter().map(|(_, r, _)| *r).max().unwrap_or(8000);
        let mut channels: Vec<(String, Vec<i16>)> = channels
            .into_iter()
            .map(|(role, from, samples)| (role, media::ogg_opus::resample(&samples, from, rate)))
            .collect();
        let out: Vec<Vec<i16>> = match req.format {
            ExportFormat::Ogg => {
                // Customer left, agent right for two streams, as wav-stereo.
                if channels.len() == 2 && (channels[1].0 == "customer" || channels[0].0 == "agent") {
                    channels.swap(0, 1);
                }
                let out = match channels.len() {
                    1 | 2 => channels.into_iter().map(|(_, s)| s).collect(),
                    _ => vec![mix(channels.iter().map(|(_, s)| s.as_slice()))],
                };
                return media::ogg_opus::write_ogg_opus(rate, &out)
                    .map_err(|e| ServiceError::new(ErrorKind::Internal, e.code(), e.to_string()));
            }
            ExportFormat::Wav if channels.len() == 1 => vec![channels.remove(0).1],
            ExportFormat::Wav => vec![mix(channels.iter().map(|(_, s)| s.as_slice()))],
            ExportFormat::WavStereo => {
                if channels.len() != 2 {
                    return Err(ServiceError::bad_input(
                        "stereo-needs-two-streams",
                        format!(
                            "wav-stereo needs two participant streams; this export has {}",
                            channels.len()
                        ),
                    ));
                }
                // Customer left, agent right, whatever the stored order.
                if channels[1].0 == "customer" || channels[0].0 == "agent" {
                    channels.swap(0, 1);
                }
                channels.into_iter().map(|(_, s)| s).collect()
            }
        };
        Ok(media::write_wav_pcm16(rate, &out))
    }

    /// Erases a recording at once (crypto-shred, objects deleted, tombstone, audit).
    pub async fn erase_recording(
        &self,
        id: &str,
        reason: &str,
        actor: &Actor,
        now: DateTime<Utc>,
    ) -> Result<vault::Tombstone, ServiceError> {
        if reason.trim().is_empty() {
            return Err(ServiceError::bad_input("reason-required", "an erasure needs --reason"));
        }
        let uuid = parse_id(id)?;
        let entry = self.vault.catalog().visible_entry(uuid).await?;
        let tombstone = self.vault.erase(uuid, reason, now).await?;
        self.audit(
            AuditEvent::new(now, &actor.name(), "recording.erase", Outcome::Done)
                .tenant(&entry.recording.tenant)
                .recording(uuid)
                .detail(serde_json::json!({"reason": reason, "policy_version": entry.recording.policy_version})),
        )
        .await?;
        Ok(tombstone)
    }
}

/// Sums channels sample by sample with saturation.
fn mix<'a>(channels: impl Iterator<Item = &'a [i16]>) -> Vec<i16> {
    let mut out: Vec<i32> = Vec::new();
    for channel in channels {
        if out.len() < channel.len() {
            out.resize(channel.len(), 0);
        }
        for (acc, s) in out.iter_mut().zip(channel) {
            *acc += i32::from(*s);
        }
    }
    out.into_iter()
        .map(|s| s.clamp(i32::from(i16::MIN), i32::from(i16::MAX)) as i16)
        .collect()
}
