//! Redaction (CSI-FAQ, ARLO-PSEUDO): transcripts (imported, or made by the operator's
//! speech-to-text engine), PII detection, redacted derivatives with lineage (training
//! copies, FAQ clips), their manual review, approval and export.
//!
//! Every read or change names a purpose and a reason, is authorized for a person and is
//! audited before anything is decrypted; audit details hold ids, codes and counts, never
//! what was said. Detection, redaction and pseudonyms are `redact`'s pure functions.

use chrono::{DateTime, Utc};
use governance::authz::AccessAction;
use governance::identity::Principal;
use governance::{Actor, AuditEvent, Outcome, ReadPermit, ReadRequest};
use policy::Policy;
use redact::{Detector, Fill, NumberLanguage, PiiKind, Span, Transcript, TranscriptFormat};
use serde::{Deserialize, Serialize};
use uuid::Uuid;
use vault::{DerivativeContent, DerivativeKind, DerivativeRecord, RecordingEntry};

use crate::access::{Ask, decision_detail};
use crate::recordings::parse_id;
use crate::{ErrorKind, Service, ServiceError};

mod findings;

pub use findings::check_review_spans;

/// A speech-to-text engine the operator configures (an external command, an HTTP
/// endpoint): given one stream as a mono PCM16 WAV, it answers in a supported format.
/// The project ships and downloads no model.
pub trait SpeechToText: Send + Sync {
    fn transcribe(&self, wav: &[u8]) -> Result<(TranscriptFormat, Vec<u8>), String>;
}

/// A request for a derivative.
#[derive(Debug, Clone)]
pub struct DerivativeRequest<'a> {
    pub source: &'a str,
    pub kind: DerivativeKind,
    pub purpose: &'a str,
    pub reason: &'a str,
    /// The clip's range (FAQ clips); a training copy covers the whole recording.
    pub from_ms: Option<u64>,
    pub to_ms: Option<u64>,
    pub padding_ms: u64,
    pub fill: Fill,
    /// Operator words and phrases that are always removed.
    pub word_list: Vec<String>,
}

/// One removed span as a derivative records it (source timeline, milliseconds).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct RemovedSpan {
    /// `name`, `known-number`, `phone-number`, `card-number`, `digit-run`, `email`,
    /// `postcode`, `dtmf`, `word-list` or `manual`.
    #[schema(value_type = String)]
    pub kind: PiiKind,
    pub start_ms: u64,
    pub end_ms: u64,
    /// `detected` or `manual`.
    pub origin: String,
    /// Shape and keyed hash (never the value); for a manual span, who added it.
    pub evidence: String,
}

/// A derivative as shown to people (lineage, spans, review state; no content).
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct DerivativeView {
    pub id: String,
    pub source: String,
    pub tenant: String,
    pub kind: String,
    pub purpose: String,
    pub state: String,
    pub anonymous: bool,
    pub from_ms: i64,
    pub to_ms: i64,
    pub padding_ms: i64,
    pub fill: String,
    pub spans: Vec<RemovedSpan>,
    /// Per stream: index, role, pseudonym, rate, samples, the redacted sample ranges, SHA-256.
    #[schema(value_type = Object)]
    pub streams: serde_json::Value,
    /// Kind, purpose, direction, date, duration, participants as role + pseudonym,
    /// counts of removed spans by kind: no identifier.
    #[schema(value_type = Object)]
    pub metadata: serde_json::Value,
    pub created_at: DateTime<Utc>,
    pub created_by: String,
    pub approved_at: Option<DateTime<Utc>>,
    pub approved_by: Option<String>,
    pub source_erased_at: Option<DateTime<Utc>>,
}

/// A change to a draft's spans (manual review).
#[derive(Debug, Clone, Default)]
pub struct SpanReview {
    pub add: Vec<(u64, u64)>,
    /// Indexes into the derivative's span list.
    pub remove: Vec<usize>,
}

/// The exported derivative.
#[derive(Debug, Clone)]
pub struct ExportedDerivative {
    pub wav: Vec<u8>,
    pub sha256: String,
    pub transcript: Option<Transcript>,
}

/// Largest padding around a span (a span padded by more hides the call, not PII).
pub const MAX_PADDING_MS: u64 = 10_000;

fn view(record: &DerivativeRecord) -> DerivativeView {
    DerivativeView {
        id: record.id.to_string(),
        source: record.source_id.to_string(),
        tenant: record.tenant.clone(),
        kind: record.kind.as_str().into(),
        purpose: record.purpose.clone(),
        state: if record.approved { "approved" } else { "draft" }.into(),
        anonymous: record.anonymous,
        from_ms: record.from_ms,
        to_ms: record.to_ms,
        padding_ms: record.padding_ms,
        fill: record.fill.clone(),
        spans: serde_json::from_value(record.spans.clone()).unwrap_or_default(),
        streams: record.streams.clone(),
        metadata: record.metadata.clone(),
        created_at: record.created_at,
        created_by: record.created_by.clone(),
        approved_at: record.approved_at,
        approved_by: record.approved_by.clone(),
        source_erased_at: record.source_erased_at,
    }
}

fn fill_name(fill: Fill) -> String {
    match fill {
        Fill::Silence => "silence".into(),
        Fill::Tone { hz, .. } => format!("tone-{hz}hz"),
    }
}

fn parse_fill(text: &str) -> Fill {
    if text == "silence" { Fill::Silence } else { Fill::TONE }
}

fn internal(code: &str, err: impl std::fmt::Display) -> ServiceError {
    ServiceError::new(ErrorKind::Internal, code, err.to_string())
}

/// A read of the original for a purpose whose reads are served only from a
/// pseudonymised copy (ARLO-PSEUDO) is refused; `Ok` for every other purpose.
pub fn original_readable_for(policy: &Policy, purpose: &str) -> Result<(), ServiceError> {
    match policy.purpose(purpose) {
        Some(p) if p.pseudonymised_only => Err(ServiceError {
            kind: ErrorKind::Forbidden,
            code: "pseudonymised-copy-only".into(),
            message: format!(
                "reads for purpose {purpose:?} are served only from a pseudonymised training copy \
                 (callvault derivative create ID --kind training, then derivative export)"
            ),
            rule: Some("purposes.pseudonymised_only".into()),
        }),
        _ => Ok(()),
    }
}

impl Service {
    /// Refuses (and audits) a read of an original recording for a pseudonymised-only
    /// purpose. Called by every path that serves original audio or its transcript.
    #[allow(clippy::too_many_arguments)]
    pub(crate) async fn refuse_pseudonymised_original(
        &self,
        policy: &Policy,
        entry: &RecordingEntry,
        purpose: &str,
        reason: &str,
        actor: &Actor,
        audit_action: &str,
        now: DateTime<Utc>,
    ) -> Result<(), ServiceError> {
        if let Err(err) = original_readable_for(policy, purpose) {
            self.audit(
                AuditEvent::new(now, &actor.name(), audit_action, Outcome::Denied)
                    .tenant(&entry.recording.tenant)
                    .recording(entry.recording.id)
                    .purpose(purpose, reason)
                    .detail(serde_json::json!({"code": err.code, "rule": err.rule})),
            )
            .await?;
            return Err(err);
        }
        Ok(())
    }

    /// Authorizes `action` on a source recording for `actor` (Cedar, the recording's own
    /// policy version), then makes the read permit; returns the policy it was made under.
    #[allow(clippy::too_many_arguments)]
    async fn source_read(
        &self,
        actor: &Actor,
        entry: &RecordingEntry,
        action: AccessAction,
        purpose: &str,
        reason: &str,
        audit_action: &str,
        now: DateTime<Utc>,
    ) -> Result<(Principal, Policy, ReadPermit, serde_json::Value), ServiceError> {
        let ask = Ask {
            action,
            purpose,
            reason,
            workflow: None,
        };
        let (principal, decision) = self
            .authorize_recording(actor, &entry.recording, ask, audit_action, now)
            .await?;
        let policy = Self::parse_stored_policy(
            &self
                .policy_version(&entry.recording.tenant, entry.recording.policy_version)
                .await?,
        )?;
        let permit = governance::authorize_read(
            &policy,
            &ReadRequest {
                actor,
                recording_id: entry.recording.id,
                purpose,
                reason,
            },
        )
        .map_err(|refusal| ServiceError {
            kind: ErrorKind::Forbidden,
            ..refusal.into()
        })?;
        Ok((principal.clone(), policy, permit, decision_detail(&decision)))
    }

    // -----------------------------------------------------------------------
    // Transcripts

    /// Imports a transcript for a recording (all streams, or the stream `stream`),
    /// stored encrypted under the recording's data key.
    #[allow(clippy::too_many_arguments)]
    pub async fn import_transcript(
        &self,
        id: &str,
        format: TranscriptFormat,
        bytes: &[u8],
        stream: Option<&str>,
        purpose: &str,
        reason: &str,
        actor: &Actor,
        now: DateTime<Utc>,
    ) -> Result<usize, ServiceError> {
        let parsed = redact::parse_transcript(format, bytes).map_err(|e| {
            ServiceError::bad_input("transcript-invalid", format!("transcript ({}): {e}", format.name()))
        })?;
        let entry = self.entry_for(id, actor, "transcript.import", now).await?;
        if let Some(label) = stream
            && !entry.streams.iter().any(|s| s.label == label)
        {
            return Err(ServiceError::bad_input(
                "stream-unknown",
                format!("--stream {label:?}: this recording has no such stream"),
            ));
        }
        let (principal, _, permit, detail) = self
            .source_read(
                actor,
                &entry,
                AccessAction::Listen,
                purpose,
                reason,
                "transcript.import",
                now,
            )
            .await?;
        let words = self
            .store_transcript(&permit, &entry, stream, format, parsed, &principal.actor(), now)
            .await?;
        let mut detail = detail;
        detail["format"] = serde_json::json!(format.name());
        detail["stream"] = serde_json::json!(stream);
        detail["words"] = serde_json::json!(words);
        self.audit(
            AuditEvent::new(now, &principal.actor(), "transcript.import", Outcome::Done)
                .tenant(&entry.recording.tenant)
                .recording(entry.recording.id)
                .purpose(purpose, reason)
                .detail(detail),
        )
        .await?;
        Ok(words)
    }

    #[allow(clippy::too_many_arguments)]
    async fn store_transcript(
        &self,
        permit: &ReadPermit,
        entry: &RecordingEntry,
        stream: Option<&str>,
        format: TranscriptFormat,
        parsed: Transcript,
        by: &str,
        now: DateTime<Utc>,
    ) -> Result<usize, ServiceError> {
        let mut transcript = self.stored_transcript(permit, entry).await?.unwrap_or_default();
        transcript.replace_stream(stream, parsed);
        let mut labels: Vec<String> = transcript.words.iter().filter_map(|w| w.stream.clone()).collect();
        labels.sort();
        labels.dedup();
        let plaintext = serde_json::to_vec(&transcript).map_err(|e| internal("transcript-encode", e))?;
        let words = transcript.words.len();
        self.vault
            .put_transcript(
                entry,
                &plaintext,
                words as i64,
                serde_json::json!({"streams": labels, "last_format": format.name()}),
                by,
                now,
            )
            .await?;
        Ok(words)
    }

    async fn stored_transcript(
        &self,
        permit: &ReadPermit,
        entry: &RecordingEntry,
    ) -> Result<Option<Transcript>, ServiceError> {
        match self.vault.read_transcript(permit, entry).await? {
            Some(bytes) => serde_json::from_slice(&bytes)
                .map(Some)
                .map_err(|e| ServiceError::new(ErrorKind::Integrity, "transcript-corrupt", e.to_string())),
            None => Ok(None),
        }
    }

    /// Makes a transcript with the operator's speech-to-text engine, one stream at a time.
    pub async fn transcribe_recording(
        &self,
        id: &str,
        purpose: &str,
        reason: &str,
        engine: &dyn SpeechToText,
        actor: &Actor,
        now: DateTime<Utc>,
    ) -> Result<usize, ServiceError> {
        let entry = self.entry_for(id, actor, "transcript.transcribe", now).await?;
        let (principal, _, permit, detail) = self
            .source_read(
                actor,
                &entry,
                AccessAction::Listen,
                purpose,
                reason,
                "transcript.transcribe",
                now,
            )
            .await?;
        // Recorded before any audio is decrypted.
        self.audit(
            AuditEvent::new(now, &principal.actor(), "transcript.transcribe", Outcome::Allowed)
                .tenant(&entry.recording.tenant)
                .recording(entry.recording.id)
                .purpose(purpose, reason)
                .detail(detail),
        )
        .await?;
        let mut words = 0;
        for (label, rate, samples) in self.decoded_streams(&permit, &entry).await? {
            let wav = media::write_wav_pcm16(rate, &[samples]);
            let (format, output) = tokio::task::block_in_place(|| engine.transcribe(&wav))
                .map_err(|e| ServiceError::new(ErrorKind::Internal, "stt-failed", format!("speech-to-text: {e}")))?;
            let parsed = redact::parse_transcript(format, &output).map_err(|e| {
                ServiceError::new(
                    ErrorKind::Internal,
                    "stt-output-invalid",
                    format!("speech-to-text output: {e}"),
                )
            })?;
            words = self
                .store_transcript(&permit, &entry, Some(&label), format, parsed, &principal.actor(), now)
                .await?;
        }
        Ok(words)
    }

    /// Reads a recording's transcript (a read of the recording: purpose, reason, audit).
    pub async fn show_transcript(
        &self,
        id: &str,
        purpose: &str,
        reason: &str,
        actor: &Actor,
        now: DateTime<Utc>,
    ) -> Result<Transcript, ServiceError> {
        let entry = self.entry_for(id, actor, "transcript.read", now).await?;
        let (principal, policy, permit, detail) = self
            .source_read(
                actor,
                &entry,
                AccessAction::Listen,
                purpose,
                reason,
                "transcript.read",
                now,
            )
            .await?;
        self.refuse_pseudonymised_original(&policy, &entry, purpose, reason, actor, "transcript.read", now)
            .await?;
        self.audit(
            AuditEvent::new(now, &principal.actor(), "transcript.read", Outcome::Allowed)
                .tenant(&entry.recording.tenant)
                .recording(entry.recording.id)
                .purpose(purpose, reason)
                .detail(detail),
        )
        .await?;
        self.stored_transcript(&permit, &entry).await?.ok_or_else(|| {
            ServiceError::new(
                ErrorKind::NotFound,
                "transcript-missing",
                "this recording has no transcript",
            )
        })
    }

    // -----------------------------------------------------------------------
    // Detection and derivatives

    async fn decoded_streams(
        &self,
        permit: &ReadPermit,
        entry: &RecordingEntry,
    ) -> Result<Vec<(String, u32, Vec<i16>)>, ServiceError> {
        let mut out = Vec::with_capacity(entry.streams.len());
        for stream in &entry.streams {
            let audio = self.vault.read_stream(permit, entry, stream.idx).await?;
            let rate = u32::try_from(stream.sample_rate).unwrap_or(8000);
            let decoded = media::decode_stored(&stream.codec, rate, &audio.audio)
                .map_err(|err| ServiceError::new(ErrorKind::Internal, err.code(), err.to_string()))?;
            out.push((stream.label.clone(), decoded.sample_rate, decoded.samples));
        }
        Ok(out)
    }

    /// The detector for a recording: its participants' names and numbers, the
    /// transcript's speaker labels, the policy language's number words, the word list.
    fn detector_for(
        &self,
        policy: &Policy,
        entry: &RecordingEntry,
        transcript: &Transcript,
        words: &[String],
    ) -> Detector {
        let mut detector = Detector::new(self.vault.number_hash_key());
        let r = &entry.recording;
        detector.known_names.extend(r.agent.iter().cloned());
        detector.known_names.extend(r.customer_name.iter().cloned());
        detector
            .known_names
            .extend(entry.participants.iter().filter_map(|p| p.name.clone()));
        detector.known_names.extend(
            transcript
                .words
                .iter()
                .filter_map(|w| w.speaker.clone())
                .filter(|s| !s.starts_with("spk_")),
        );
        detector.known_names.sort();
        detector.known_names.dedup();
        detector.known_numbers.extend(r.customer_number.iter().cloned());
        detector
            .known_numbers
            .extend(entry.participants.iter().filter_map(|p| p.number.clone()));
        detector.languages = NumberLanguage::for_policy_language(&policy.policy.language);
        detector.word_list = words.to_vec();
        detector
    }

    /// Creates a derivative: detection over the transcript and the audio (DTMF), spans
    /// removed on every channel, transcript and metadata stripped of identifiers,
    /// participants pseudonymised; a draft when the purpose names an approver.
    pub async fn create_derivative(
        &self,
        req: &DerivativeRequest<'_>,
        actor: &Actor,
        now: DateTime<Utc>,
    ) -> Result<DerivativeView, ServiceError> {
        let entry = self.entry_for(req.source, actor, "derivative.create", now).await?;
        let (principal, policy, permit, detail) = self
            .source_read(
                actor,
                &entry,
                AccessAction::Listen,
                req.purpose,
                req.reason,
                "derivative.create",
                now,
            )
            .await?;
        let purpose = policy
            .purpose(req.purpose)
            .cloned()
            .ok_or_else(|| ServiceError::new(ErrorKind::Forbidden, "purpose-not-in-policy", "no such purpose"))?;
        if req.kind == DerivativeKind::FaqClip && !purpose.publication {
            return Err(ServiceError {
                kind: ErrorKind::Refused,
                code: "purpose-not-publication".into(),
                message: format!(
                    "purpose {:?} does not allow publication, so no FAQ clip is made for it",
                    req.purpose
                ),
                rule: Some("purposes.publication".into()),
            });
        }
        let duration = entry.recording.duration_ms.unwrap_or(0).max(0) as u64;
        let from = req.from_ms.unwrap_or(0);
        let to = req.to_ms.unwrap_or(duration).min(duration.max(from));
        if req.padding_ms > MAX_PADDING_MS {
            return Err(ServiceError::bad_input(
                "padding-invalid",
                format!("the padding is at most {MAX_PADDING_MS} ms"),
            ));
        }
        if req.kind == DerivativeKind::Training && (req.from_ms.is_some() || req.to_ms.is_some()) {
            return Err(ServiceError::bad_input(
                "range-not-allowed",
                "a training copy covers the whole recording",
            ));
        }
        if to <= from {
            return Err(ServiceError::bad_input(
                "range-invalid",
                "--to must be after --from, within the recording",
            ));
        }
        // Recorded before any audio is decrypted.
        self.audit(
            AuditEvent::new(now, &principal.actor(), "derivative.create", Outcome::Allowed)
                .tenant(&entry.recording.tenant)
                .recording(entry.recording.id)
                .purpose(req.purpose, req.reason)
                .detail(detail),
        )
        .await?;
        let transcript = self.stored_transcript(&permit, &entry).await?.unwrap_or_default();
        let streams = self.decoded_streams(&permit, &entry).await?;
        let findings = self.findings(&policy, &entry, &transcript, &streams, &req.word_list);
        let spans: Vec<RemovedSpan> = findings
            .into_iter()
            .filter(|f| f.end_ms > from && f.start_ms < to)
            .map(|f| RemovedSpan {
                kind: f.kind,
                start_ms: f.start_ms,
                end_ms: f.end_ms,
                origin: "detected".into(),
                evidence: f.evidence,
            })
            .collect();
        let id = Uuid::now_v7();
        let auto_approved = purpose.approved_by.is_none();
        let mut record = DerivativeRecord {
            id,
            source_id: entry.recording.id,
            tenant: entry.recording.tenant.clone(),
            policy_version: entry.recording.policy_version,
            kind: req.kind,
            purpose: req.purpose.to_owned(),
            approved: auto_approved,
            anonymous: false,
            from_ms: from as i64,
            to_ms: to as i64,
            sample_rate: 0,
            padding_ms: req.padding_ms as i64,
            fill: fill_name(req.fill),
            streams: serde_json::Value::Null,
            spans: serde_json::Value::Null,
            metadata: serde_json::Value::Null,
            transcript_path: None,
            created_at: now,
            created_by: principal.actor(),
            approved_at: auto_approved.then_some(now),
            approved_by: auto_approved.then(|| format!("{} (the purpose names no approver)", principal.actor())),
            source_erased_at: None,
        };
        let content = self.render(&mut record, &entry, &streams, &transcript, &spans, req.fill)?;
        self.vault
            .put_derivative(&record, entry.recording.retain_until.date_naive(), &content)
            .await?;
        self.audit(
            AuditEvent::new(now, &principal.actor(), "derivative.created", Outcome::Done)
                .tenant(&entry.recording.tenant)
                .recording(entry.recording.id)
                .purpose(req.purpose, req.reason)
                .detail(serde_json::json!({
                    "derivative": id.to_string(),
                    "kind": req.kind.as_str(),
                    "spans": span_counts(&spans),
                    "state": if record.approved { "approved" } else { "draft" },
                })),
        )
        .await?;
        Ok(view(&record))
    }

    /// Cuts, redacts and pseudonymises: fills `record`'s streams, spans and metadata
    /// and returns the content to store.
    fn render(
        &self,
        record: &mut DerivativeRecord,
        entry: &RecordingEntry,
        streams: &[(String, u32, Vec<i16>)],
        transcript: &Transcript,
        spans: &[RemovedSpan],
        fill: Fill,
    ) -> Result<DerivativeContent, ServiceError> {
        let (from, to) = (record.from_ms as u64, record.to_ms as u64);
        let duration = entry.recording.duration_ms.unwrap_or(0).max(0) as u64;
        let padding = record.padding_ms as u64;
        // Spans on the clip's own timeline.
        let local: Vec<Span> = spans
            .iter()
            .map(|s| Span {
                start_ms: s.start_ms.saturating_sub(from),
                end_ms: s.end_ms.min(to).saturating_sub(from),
            })
            .collect();
        let key = self.vault.number_hash_key();
        let source = entry.recording.id.to_string();
        let mut content = DerivativeContent::default();
        let mut stream_info = Vec::new();
        let mut rate_max = 0;
        for ((_, rate, samples), stored) in streams.iter().zip(&entry.streams) {
            let rate64 = u64::from(*rate);
            let first = usize::try_from(from * rate64 / 1000)
                .unwrap_or(usize::MAX)
                .min(samples.len());
            // A range to the end of the recording keeps every sample (its duration is whole ms).
            let last = if to >= duration {
                samples.len()
            } else {
                usize::try_from((to * rate64).div_ceil(1000))
                    .unwrap_or(usize::MAX)
                    .clamp(first, samples.len())
            };
            let mut clip = samples[first..last].to_vec();
            let ranges = redact::redact_channel(&mut clip, *rate, &local, padding, fill);
            let bytes: Vec<u8> = clip.iter().flat_map(|s| s.to_le_bytes()).collect();
            let role = stored
                .participant
                .and_then(|p| entry.participants.iter().find(|q| q.idx == p))
                .map(|p| p.role.clone());
            stream_info.push(serde_json::json!({
                "idx": stored.idx,
                "label": format!("stream-{}", stored.idx),
                "role": role,
                "pseudonym": stored.participant.map(|p| redact::pseudonym(&key, &source, p)),
                "sample_rate": rate,
                "samples": clip.len(),
                "redacted_samples": ranges.iter().map(|r| [r.start, r.end]).collect::<Vec<_>>(),
                "sha256": hex::encode(<sha2::Sha256 as sha2::Digest>::digest(&bytes)),
            }));
            rate_max = rate_max.max(*rate);
            content.streams.push((stored.idx, bytes));
        }
        // The transcript: cut, redacted, speakers dropped, streams by index not label.
        let absolute: Vec<Span> = spans
            .iter()
            .map(|s| Span {
                start_ms: s.start_ms,
                end_ms: s.end_ms,
            })
            .collect();
        let redacted = redact::redact_transcript(transcript, &absolute, padding);
        let mut clipped = redact::clip_transcript(&redacted, from, to);
        for word in &mut clipped.words {
            word.speaker = None;
            word.stream = word
                .stream
                .as_ref()
                .and_then(|label| entry.streams.iter().find(|s| &s.label == label))
                .map(|s| format!("stream-{}", s.idx));
        }
        if !transcript.words.is_empty() {
            content.transcript = Some(serde_json::to_vec(&clipped).map_err(|e| internal("transcript-encode", e))?);
        }
        let r = &entry.recording;
        record.sample_rate = i64::from(rate_max);
        record.streams = serde_json::Value::Array(stream_info);
        record.spans = serde_json::to_value(spans).map_err(|e| internal("spans-encode", e))?;
        // Metadata: what the copy is, with no identifier (no numbers, names, notes, dates
        // finer than the day).
        record.metadata = serde_json::json!({
            "kind": record.kind.as_str(),
            "purpose": record.purpose,
            "direction": r.direction,
            "date": r.started_at.date_naive().to_string(),
            "duration_ms": to - from,
            "participants": entry.participants.iter().map(|p| serde_json::json!({
                "role": p.role,
                "pseudonym": redact::pseudonym(&key, &source, p.idx),
            })).collect::<Vec<_>>(),
            "removed": span_counts(spans),
            "identifiers_removed": ["customer-number", "service-number", "names", "agent", "notes", "consent-details", "transcript-speakers"],
        });
        Ok(content)
    }

    /// The derivatives of a tenant (or of one source recording): lineage and state.
    pub async fn list_derivatives(
        &self,
        source: Option<&str>,
        actor: &Actor,
        now: DateTime<Utc>,
    ) -> Result<Vec<DerivativeView>, ServiceError> {
        let principal = self.reader(actor, "derivative.list", now).await?;
        let source = source.map(parse_id).transpose()?;
        let found = self.vault.derivatives(Some(&principal.tenant), source).await?;
        self.audit(
            AuditEvent::new(now, &principal.actor(), "derivative.list", Outcome::Allowed)
                .tenant(&principal.tenant)
                .detail(serde_json::json!({"found": found.len()})),
        )
        .await?;
        Ok(found.iter().map(view).collect())
    }

    /// A derivative of the person's own tenant, or `not-found`.
    async fn own_derivative(&self, principal: &Principal, id: &str) -> Result<DerivativeRecord, ServiceError> {
        let not_found = || ServiceError::new(ErrorKind::NotFound, "not-found", "derivative not found");
        let id = Uuid::parse_str(id).map_err(|_| not_found())?;
        match self.vault.derivative(id).await {
            Ok(record) if record.tenant == principal.tenant => Ok(record),
            Ok(_) | Err(vault::VaultError::NotFound(_)) => Err(not_found()),
            Err(err) => Err(err.into()),
        }
    }

    /// One derivative's lineage, spans and state.
    pub async fn show_derivative(
        &self,
        id: &str,
        actor: &Actor,
        now: DateTime<Utc>,
    ) -> Result<DerivativeView, ServiceError> {
        let principal = self.reader(actor, "derivative.show", now).await?;
        let record = self.own_derivative(principal, id).await?;
        self.audit(
            AuditEvent::new(now, &principal.actor(), "derivative.show", Outcome::Allowed)
                .tenant(&record.tenant)
                .recording(record.source_id)
                .detail(serde_json::json!({"derivative": record.id.to_string()})),
        )
        .await?;
        Ok(view(&record))
    }

    /// Manual review of a draft: spans added or removed, the derivative rendered again
    /// from its source (a read of the source for the derivative's purpose).
    pub async fn review_derivative(
        &self,
        id: &str,
        review: &SpanReview,
        reason: &str,
        actor: &Actor,
        now: DateTime<Utc>,
    ) -> Result<DerivativeView, ServiceError> {
        let (principal, mut record) = self
            .approver_draft(
                actor,
                id,
                "derivative.review",
                "an approved derivative is no longer reviewed; make a new one",
                now,
            )
            .await?;
        let entry = self
            .vault
            .catalog()
            .visible_entry(record.source_id)
            .await
            .map_err(|_| ServiceError::new(ErrorKind::Conflict, "source-gone", "the source recording is gone"))?;
        check_review_spans(
            &review.add,
            entry.recording.duration_ms.unwrap_or(0).max(0) as u64,
            (record.from_ms.max(0) as u64, record.to_ms.max(0) as u64),
        )?;
        let purpose = record.purpose.clone();
        let (_, _, permit, detail) = self
            .source_read(
                actor,
                &entry,
                AccessAction::Listen,
                &purpose,
                reason,
                "derivative.review",
                now,
            )
            .await?;
        let mut spans: Vec<RemovedSpan> = serde_json::from_value(record.spans.clone()).unwrap_or_default();
        let mut remove = review.remove.clone();
        remove.sort_unstable();
        remove.dedup();
        if let Some(bad) = remove.iter().find(|i| **i >= spans.len()) {
            return Err(ServiceError::new(
                ErrorKind::NotFound,
                "span-unknown",
                format!("span {bad}: no such span (spans are numbered from 0)"),
            ));
        }
        for i in remove.iter().rev() {
            spans.remove(*i);
        }
        for (start, end) in &review.add {
            spans.push(RemovedSpan {
                kind: PiiKind::Manual,
                start_ms: *start,
                end_ms: *end,
                origin: "manual".into(),
                evidence: format!("added by {}", principal.actor()),
            });
        }
        spans.sort_by_key(|s| (s.start_ms, s.end_ms));
        let mut event_detail = detail;
        event_detail["derivative"] = serde_json::json!(record.id.to_string());
        event_detail["added"] = serde_json::json!(review.add.len());
        event_detail["removed"] = serde_json::json!(remove.len());
        self.audit(
            AuditEvent::new(now, &principal.actor(), "derivative.review", Outcome::Done)
                .tenant(&record.tenant)
                .recording(record.source_id)
                .purpose(&purpose, reason)
                .detail(event_detail),
        )
        .await?;
        let transcript = self.stored_transcript(&permit, &entry).await?.unwrap_or_default();
        let streams = self.decoded_streams(&permit, &entry).await?;
        let fill = parse_fill(&record.fill);
        let content = self.render(&mut record, &entry, &streams, &transcript, &spans, fill)?;
        self.vault
            .put_derivative(&record, entry.recording.retain_until.date_naive(), &content)
            .await?;
        Ok(view(&record))
    }

    /// A draft derivative of the person's tenant and the person, who must hold the role its
    /// purpose names (review and approval); `approved` is the conflict's message.
    async fn approver_draft(
        &self,
        actor: &Actor,
        id: &str,
        audit_action: &str,
        approved: &str,
        now: DateTime<Utc>,
    ) -> Result<(Principal, DerivativeRecord), ServiceError> {
        let principal = self.reader(actor, audit_action, now).await?.clone();
        let record = self.own_derivative(&principal, id).await?;
        let policy = Self::parse_stored_policy(&self.policy_version(&record.tenant, record.policy_version).await?)?;
        self.require_approver(&policy, &principal, &record, audit_action, now)
            .await?;
        if record.approved {
            return Err(ServiceError::new(ErrorKind::Conflict, "derivative-approved", approved));
        }
        Ok((principal, record))
    }

    /// The role the derivative's purpose names must be the person's (audited if not).
    async fn require_approver(
        &self,
        policy: &Policy,
        principal: &Principal,
        record: &DerivativeRecord,
        audit_action: &str,
        now: DateTime<Utc>,
    ) -> Result<(), ServiceError> {
        let role = policy.purpose(&record.purpose).and_then(|p| p.approved_by.clone());
        let allowed = role.as_deref().is_some_and(|r| principal.has_role(r));
        if allowed {
            return Ok(());
        }
        self.audit(
            AuditEvent::new(now, &principal.actor(), audit_action, Outcome::Denied)
                .tenant(&record.tenant)
                .recording(record.source_id)
                .detail(serde_json::json!({"code": "approver-role-required", "derivative": record.id.to_string(), "role": role})),
        )
        .await?;
        Err(ServiceError {
            kind: ErrorKind::Forbidden,
            code: "approver-role-required".into(),
            message: match role {
                Some(role) => format!("only the {role} role reviews and approves derivatives for this purpose"),
                None => "this purpose names no approver: its derivatives need no approval".into(),
            },
            rule: Some("purposes.approved_by".into()),
        })
    }

    /// Approves a draft (the purpose's approver role); `anonymous` declares that it holds
    /// no personal data, so it survives the erasure of its source and is marked as such.
    pub async fn approve_derivative(
        &self,
        id: &str,
        anonymous: bool,
        actor: &Actor,
        now: DateTime<Utc>,
    ) -> Result<DerivativeView, ServiceError> {
        let (principal, record) = self
            .approver_draft(actor, id, "derivative.approve", "already approved", now)
            .await?;
        self.vault
            .approve_derivative(record.id, &principal.actor(), now, anonymous)
            .await?;
        self.audit(
            AuditEvent::new(now, &principal.actor(), "derivative.approve", Outcome::Done)
                .tenant(&record.tenant)
                .recording(record.source_id)
                .detail(serde_json::json!({"derivative": record.id.to_string(), "anonymous": anonymous})),
        )
        .await?;
        Ok(view(&self.vault.derivative(record.id).await?))
    }

    /// Exports a derivative (WAV: one stream mono, two stereo customer left, more
    /// mixed; and its redacted transcript). An FAQ clip needs `export`, a training copy
    /// `listen`, from the access rules of the policy version it was made under; both
    /// need approval where the purpose names an approver.
    pub async fn export_derivative(
        &self,
        id: &str,
        purpose: &str,
        reason: &str,
        actor: &Actor,
        now: DateTime<Utc>,
    ) -> Result<ExportedDerivative, ServiceError> {
        let principal = self.reader(actor, "derivative.export", now).await?.clone();
        let record = self.own_derivative(&principal, id).await?;
        let policy = Self::parse_stored_policy(&self.policy_version(&record.tenant, record.policy_version).await?)?;
        let event = AuditEvent::new(now, &principal.actor(), "derivative.export", Outcome::Allowed)
            .tenant(&record.tenant)
            .recording(record.source_id)
            .purpose(purpose, reason);
        let refusal = if !record.approved {
            Some(ServiceError {
                kind: ErrorKind::Refused,
                code: "derivative-not-approved".into(),
                message: "this derivative has not been approved for export yet".into(),
                rule: Some("purposes.approved_by".into()),
            })
        } else if purpose != record.purpose {
            Some(ServiceError::new(
                ErrorKind::Forbidden,
                "purpose-mismatch",
                format!("this derivative was made for purpose {:?}", record.purpose),
            ))
        } else {
            let action = match record.kind {
                DerivativeKind::FaqClip => policy::Action::Export,
                DerivativeKind::Training => policy::Action::Listen,
            };
            role_allows(&policy, &principal, action, purpose, now).err()
        };
        if let Some(err) = refusal {
            let mut denied = event.detail(serde_json::json!({"code": err.code, "derivative": record.id.to_string()}));
            denied.outcome = Outcome::Denied;
            self.audit(denied).await?;
            return Err(err);
        }
        let permit = governance::authorize_read(
            &policy,
            &ReadRequest {
                actor,
                recording_id: record.id,
                purpose,
                reason,
            },
        )
        .map_err(|refusal| ServiceError {
            kind: ErrorKind::Forbidden,
            ..refusal.into()
        })?;
        self.audit(
            event.detail(serde_json::json!({"derivative": record.id.to_string(), "kind": record.kind.as_str()})),
        )
        .await?;
        let mut channels: Vec<(Option<String>, u32, Vec<i16>)> = Vec::new();
        for stream in record.streams.as_array().map(Vec::as_slice).unwrap_or_default() {
            let idx = stream
                .get("idx")
                .and_then(serde_json::Value::as_i64)
                .unwrap_or_default();
            let rate = stream
                .get("sample_rate")
                .and_then(serde_json::Value::as_u64)
                .and_then(|r| u32::try_from(r).ok())
                .unwrap_or(8000);
            let role = stream.get("role").and_then(|r| r.as_str()).map(str::to_owned);
            let bytes = self.vault.read_derivative_stream(&permit, &record, idx).await?;
            let samples = bytes
                .chunks_exact(2)
                .map(|b| i16::from_le_bytes([b[0], b[1]]))
                .collect();
            channels.push((role, rate, samples));
        }
        let rate = channels.iter().map(|c| c.1).max().unwrap_or(8000);
        let mut channels: Vec<(Option<String>, Vec<i16>)> = channels
            .into_iter()
            .map(|(role, from, samples)| (role, media::ogg_opus::resample(&samples, from, rate)))
            .collect();
        if channels.len() == 2
            && (channels[1].0.as_deref() == Some("customer") || channels[0].0.as_deref() == Some("agent"))
        {
            channels.swap(0, 1);
        }
        let out: Vec<Vec<i16>> = if channels.len() <= 2 {
            channels.into_iter().map(|(_, s)| s).collect()
        } else {
            let len = channels.iter().map(|c| c.1.len()).max().unwrap_or(0);
            let mut mixed = vec![0i32; len];
            for (_, samples) in &channels {
                for (acc, s) in mixed.iter_mut().zip(samples) {
                    *acc += i32::from(*s);
                }
            }
            vec![mixed.into_iter().map(|s| s.clamp(-32768, 32767) as i16).collect()]
        };
        let wav = media::write_wav_pcm16(rate, &out);
        let transcript = match self.vault.read_derivative_transcript(&permit, &record).await? {
            Some(bytes) => Some(
                serde_json::from_slice(&bytes)
                    .map_err(|e| ServiceError::new(ErrorKind::Integrity, "transcript-corrupt", e.to_string()))?,
            ),
            None => None,
        };
        let sha256 = hex::encode(<sha2::Sha256 as sha2::Digest>::digest(&wav));
        Ok(ExportedDerivative {
            wav,
            sha256,
            transcript,
        })
    }
}

/// Counts of removed spans by kind (for audit details and metadata: no values).
fn span_counts(spans: &[RemovedSpan]) -> serde_json::Value {
    let mut counts = std::collections::BTreeMap::<&str, usize>::new();
    for span in spans {
        *counts.entry(span.kind.as_str()).or_default() += 1;
    }
    serde_json::json!(counts)
}

/// Whether the person's roles reach `action` through the policy's access rules (with an
/// active grant for the purpose where the rule requires one).
fn role_allows(
    policy: &Policy,
    principal: &Principal,
    action: policy::Action,
    purpose: &str,
    now: DateTime<Utc>,
) -> Result<(), ServiceError> {
    let allowed = policy.access.rules.iter().any(|rule| {
        rule.actions.contains(&action)
            && rule.roles.iter().any(|r| principal.has_role(r))
            && (!rule.requires_grant
                || principal
                    .active_grants(now)
                    .any(|g| g.tenant == principal.tenant && (g.purpose.is_empty() || g.purpose == purpose)))
    });
    if allowed {
        Ok(())
    } else {
        Err(ServiceError {
            kind: ErrorKind::Forbidden,
            code: "access-denied".into(),
            message: "the policy's access rules give this person no such action on derivatives".into(),
            rule: Some("access.rules".into()),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn seed_policy(name: &str) -> Policy {
        let file = format!("{}/../../policies/{name}.toml", env!("CARGO_MANIFEST_DIR"));
        policy::parse_policy(&file, &std::fs::read_to_string(&file).unwrap()).unwrap()
    }

    #[test]
    fn arlo_training_reads_of_originals_are_refused_other_purposes_are_not() {
        let arlo = seed_policy("arlo-europe");
        let refused = original_readable_for(&arlo, "training").unwrap_err();
        assert_eq!(refused.code, "pseudonymised-copy-only");
        assert_eq!(refused.rule.as_deref(), Some("purposes.pseudonymised_only"));
        assert!(original_readable_for(&arlo, "quality").is_ok());
        let csi = seed_policy("csi-works");
        assert!(original_readable_for(&csi, "faq-content").is_ok());
        assert_eq!(
            csi.purpose("faq-content").and_then(|p| p.approved_by.as_deref()),
            Some("faq-content-manager")
        );
    }
}
