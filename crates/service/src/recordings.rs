//! Listing, showing, exporting and erasing recordings. Every read of audio names a
//! purpose of the recording's own policy and a reason, and is audited (ALL-PURPOSE).

use chrono::{DateTime, Utc};
use governance::authz::AccessAction;
use governance::identity::Principal;
use governance::{Actor, AuditEvent, Outcome, ReadRequest};
use uuid::Uuid;
use vault::{RecordingEntry, RecordingFilter, RecordingRecord, StreamRecord};

use crate::access::{Ask, decision_detail, denial};
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

/// A search of a tenant's register (a read: purpose and reason required, ARLO-SECURITY).
#[derive(Debug, Clone, Default)]
pub struct RecordingQuery {
    /// Default: the person's own tenant.
    pub tenant: Option<String>,
    /// Search by the customer's number (E.164 or national), matched through the keyed hash.
    pub customer_number: Option<String>,
    pub purpose: Option<String>,
    pub reason: Option<String>,
    pub from: Option<DateTime<Utc>>,
    pub to: Option<DateTime<Utc>>,
    /// The agent exactly as the recording names them.
    pub agent: Option<String>,
    /// `inbound`, `outbound` or `unknown`.
    pub direction: Option<String>,
    /// At most this many results (newest first).
    pub limit: Option<i64>,
}

/// Hits read and decided together in a search (more when the person asks for more).
const SEARCH_PAGE_MIN: usize = 50;
const SEARCH_PAGE_MAX: usize = 1_000;

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
    /// Searches a tenant's register: the person must be allowed to search the tenant
    /// (Cedar, `search` on the tenant) and sees only the recordings the rules let them find
    /// (`search` on each recording). One audit event per search.
    pub async fn list_recordings(
        &self,
        query: &RecordingQuery,
        actor: &Actor,
        now: DateTime<Utc>,
    ) -> Result<Vec<RecordingSummary>, ServiceError> {
        let principal = self.reader(actor, "recording.search", now).await?;
        let tenant = query.tenant.clone().unwrap_or_else(|| principal.tenant.clone());
        let purpose = query.purpose.as_deref().unwrap_or_default();
        let reason = query.reason.as_deref().unwrap_or_default();
        let ask = Ask {
            action: AccessAction::Search,
            purpose,
            reason,
            workflow: None,
        };
        let event = AuditEvent::new(now, &principal.actor(), "recording.search", Outcome::Allowed)
            .tenant(&principal.tenant)
            .purpose(purpose, reason);
        if tenant != principal.tenant {
            // Another tenant answers like one that does not exist.
            self.audit(event.denied(serde_json::json!({"code": "tenant-isolation"})))
                .await?;
            return Err(ServiceError::new(
                ErrorKind::NotFound,
                "tenant-unknown",
                "no such tenant",
            ));
        }
        if let Some(direction) = &query.direction
            && !matches!(direction.as_str(), "inbound" | "outbound" | "unknown")
        {
            return Err(ServiceError::bad_input(
                "direction-invalid",
                format!("direction {direction:?}: expected inbound, outbound or unknown"),
            ));
        }
        // One read-only connection for the whole search; the tenant as searches last read
        // it, checked in the first page's own statement (see `vault::SearchTenant`).
        let mut conn = self.vault.catalog().search_connection().await?;
        let mut known = conn.search_tenant(&tenant).await?;
        let (decision, out, hidden) = loop {
            let decision = self
                .decide_on_tenant_version(principal, &tenant, known.version, ask, now)
                .await?;
            if !decision.is_allowed() {
                if !known.checked {
                    // A denial is only believed under the tenant's current policy.
                    known = conn.checked_search_tenant(&tenant).await?;
                    continue;
                }
                drop(conn);
                self.audit(event.denied(decision_detail(&decision))).await?;
                return Err(denial(&decision, ask));
            }
            let mut filter = RecordingFilter {
                tenant: Some(tenant.clone()),
                from: query.from,
                to: query.to,
                agent: query.agent.clone(),
                direction: query.direction.clone(),
                ..Default::default()
            };
            if let Some(number) = &query.customer_number {
                let e164 = match redact::normalize_e164(number, known.country.as_deref()) {
                    Ok(e164) => e164,
                    Err(_) if !known.checked => {
                        // Read in the tenant's current country before refusing it.
                        known = conn.checked_search_tenant(&tenant).await?;
                        continue;
                    }
                    Err(e) => {
                        return Err(ServiceError::bad_input(
                            "customer-number-invalid",
                            format!("customer number: {e}"),
                        ));
                    }
                };
                filter.customer_number_hash = Some(redact::NumberHasher::new(self.vault.number_hash_key()).hash(&e164));
            }
            let search = PageSearch {
                principal,
                ask,
                now,
                limit: query.limit.and_then(|l| usize::try_from(l).ok()).unwrap_or(usize::MAX),
            };
            match self.search_pages(&mut conn, &mut filter, &known, &search).await? {
                Some((out, hidden)) => break (decision, out, hidden),
                // The first page came back empty under a kept tenant: read it and decide again.
                None => known = conn.checked_search_tenant(&tenant).await?,
            }
        };
        // Given back before the audit commit is awaited.
        drop(conn);
        self.audit(event.detail(serde_json::json!({
            "rules": decision.reasons(),
            "found": out.len(),
            "withheld": hidden,
            "by_number": query.customer_number.is_some(),
            "ids": out.iter().map(|r| r.id.as_str()).collect::<Vec<_>>(),
        })))
        .await?;
        Ok(out)
    }

    /// Pages of hits, each read in one statement and decided together, until `limit` hits
    /// the person may see are found or the matches run out. Returns the hits and how many
    /// were withheld; `None` when the first page is empty under a tenant that was not
    /// read for this search (the caller checks the tenant and searches again).
    async fn search_pages(
        &self,
        conn: &mut vault::SearchConnection,
        filter: &mut RecordingFilter,
        known: &vault::SearchTenant,
        search: &PageSearch<'_>,
    ) -> Result<Option<(Vec<RecordingSummary>, usize)>, ServiceError> {
        let limit = search.limit;
        let page = limit.saturating_mul(2).clamp(SEARCH_PAGE_MIN, SEARCH_PAGE_MAX);
        let mut out = Vec::new();
        let mut hidden = 0usize;
        let mut offset = 0usize;
        'pages: loop {
            filter.limit = Some(page as i64);
            filter.offset = Some(offset as i64);
            let page_read = conn.search_page(filter, known).await?;
            let entries = page_read.entries;
            if offset == 0 && entries.is_empty() && !known.checked {
                return Ok(None);
            }
            let records: Vec<&RecordingRecord> = entries.iter().map(|e| &e.recording).collect();
            let decisions = self
                .decide_with_agents(search.principal, &records, &page_read.agents, search.ask, search.now)
                .await?;
            for (entry, decision) in entries.iter().zip(decisions) {
                if out.len() >= limit {
                    break 'pages;
                }
                if !decision.is_allowed() {
                    hidden += 1;
                    continue;
                }
                out.push(summary(&entry.recording, &entry.streams, &entry.participants));
            }
            if entries.len() < page || out.len() >= limit {
                break;
            }
            offset += page;
        }
        Ok(Some((out, hidden)))
    }

    /// The register entry of one recording (metadata only): a read, for a purpose.
    pub async fn show_recording(
        &self,
        id: &str,
        purpose: &str,
        reason: &str,
        actor: &Actor,
        now: DateTime<Utc>,
    ) -> Result<RecordingDetail, ServiceError> {
        let ask = Ask {
            action: AccessAction::Metadata,
            purpose,
            reason,
            workflow: None,
        };
        let entry = self.entry_for(id, actor, "recording.show", now).await?;
        let (principal, decision) = self
            .authorize_recording(actor, &entry.recording, ask, "recording.show", now)
            .await?;
        let record = self
            .policy_version(&entry.recording.tenant, entry.recording.policy_version)
            .await?;
        self.audit(
            AuditEvent::new(now, &principal.actor(), "recording.show", Outcome::Allowed)
                .tenant(&entry.recording.tenant)
                .recording(entry.recording.id)
                .purpose(purpose, reason)
                .detail(decision_detail(&decision)),
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

    /// A visible recording by id; a malformed or unknown id is `not-found` (audited for a
    /// person, so probing ids leaves a trace).
    pub(crate) async fn entry_for(
        &self,
        id: &str,
        actor: &Actor,
        audit_action: &str,
        now: DateTime<Utc>,
    ) -> Result<RecordingEntry, ServiceError> {
        let found = match parse_id(id) {
            Ok(uuid) => self
                .vault
                .catalog()
                .visible_entry(uuid)
                .await
                .map_err(ServiceError::from),
            Err(err) => Err(err),
        };
        match found {
            Ok(entry) => Ok(entry),
            Err(err) if err.kind == ErrorKind::NotFound => {
                let principal = self.reader(actor, audit_action, now).await?;
                self.audit(
                    AuditEvent::new(now, &principal.actor(), audit_action, Outcome::Denied)
                        .tenant(&principal.tenant)
                        .detail(serde_json::json!({"code": "not-found"})),
                )
                .await?;
                Err(ServiceError::new(
                    ErrorKind::NotFound,
                    "not-found",
                    "recording not found",
                ))
            }
            Err(err) => Err(err),
        }
    }

    /// Decrypts, verifies and exports a recording's audio as a file (a download).
    pub async fn export_recording(
        &self,
        req: &ExportRequest<'_>,
        actor: &Actor,
        now: DateTime<Utc>,
    ) -> Result<ExportedAudio, ServiceError> {
        self.read_audio(req, AccessAction::Download, None, actor, now).await
    }

    /// Decrypts and verifies a recording's audio for `action` (`listen`: streamed,
    /// `download`: a file, `export`: part of a bundle), once the recording's policy allows
    /// it for this person and purpose. The read is audited before any audio is decrypted.
    pub async fn read_audio(
        &self,
        req: &ExportRequest<'_>,
        action: AccessAction,
        workflow: Option<governance::authz::Workflow>,
        actor: &Actor,
        now: DateTime<Utc>,
    ) -> Result<ExportedAudio, ServiceError> {
        let audit_action = match action {
            AccessAction::Listen => "recording.play",
            AccessAction::Download => "recording.download",
            _ => "recording.export",
        };
        let entry = self.entry_for(req.id, actor, audit_action, now).await?;
        let id = entry.recording.id;
        let tenant = entry.recording.tenant.clone();
        if workflow.is_none() && actor.principal().is_none_or(|p| p.tenant == tenant) {
            // Restriction and objection (data-subject requests) leave only storage.
            let event = AuditEvent::new(now, &actor.name(), audit_action, Outcome::Denied)
                .tenant(&tenant)
                .recording(id)
                .purpose(req.purpose, req.reason);
            self.refuse_if_restricted(id, &event).await?;
        }
        let ask = Ask {
            action,
            purpose: req.purpose,
            reason: req.reason,
            workflow,
        };
        let (principal, decision) = self
            .authorize_recording(actor, &entry.recording, ask, audit_action, now)
            .await?;
        let made_under =
            Self::parse_stored_policy(&self.policy_version(&tenant, entry.recording.policy_version).await?)?;
        self.refuse_pseudonymised_original(&made_under, &entry, req.purpose, req.reason, actor, audit_action, now)
            .await?;
        let read = ReadRequest {
            actor,
            recording_id: id,
            purpose: req.purpose,
            reason: req.reason,
        };
        let permit = match workflow {
            Some(workflow) => governance::authorize_workflow_read(&read, workflow),
            None => governance::authorize_read(&made_under, &read),
        }
        .map_err(|refusal| ServiceError {
            kind: ErrorKind::Forbidden,
            ..refusal.into()
        })?;
        let mut detail = decision_detail(&decision);
        detail["format"] = serde_json::json!(format!("{:?}", req.format));
        detail["stream"] = serde_json::json!(req.stream);
        self.audit(
            AuditEvent::new(now, &principal.actor(), audit_action, Outcome::Allowed)
                .tenant(&tenant)
                .recording(id)
                .purpose(req.purpose, req.reason)
                .detail(detail),
        )
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

    /// Erases a recording at once (crypto-shred, objects deleted, tombstone, audit): a
    /// `delete` the recording's policy must allow this person.
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
        let entry = self.entry_for(id, actor, "recording.erase", now).await?;
        let ask = Ask {
            action: AccessAction::Delete,
            purpose: "",
            reason,
            workflow: None,
        };
        let (principal, decision) = self
            .authorize_recording(actor, &entry.recording, ask, "recording.erase", now)
            .await?;
        self.erase_authorized(&entry, reason, &principal.actor(), decision_detail(&decision), now)
            .await
    }

    /// Erases a recording whose erasure was authorized by the caller (a person's `delete`,
    /// or a data-subject request's fulfilment).
    pub(crate) async fn erase_authorized(
        &self,
        entry: &RecordingEntry,
        reason: &str,
        actor: &str,
        mut detail: serde_json::Value,
        now: DateTime<Utc>,
    ) -> Result<vault::Tombstone, ServiceError> {
        let uuid = entry.recording.id;
        let tombstone = self.vault.erase(uuid, reason, now).await?;
        detail["reason"] = serde_json::json!(reason);
        detail["policy_version"] = serde_json::json!(entry.recording.policy_version);
        self.audit(
            AuditEvent::new(now, actor, "recording.erase", Outcome::Done)
                .tenant(&entry.recording.tenant)
                .recording(uuid)
                .detail(detail),
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

/// Who searches, for what, and how many hits they want (see `Service::search_pages`).
struct PageSearch<'a> {
    principal: &'a Principal,
    ask: Ask<'a>,
    now: DateTime<Utc>,
    limit: usize,
}
