//! Ingest: a recording made elsewhere (a WAV file plus `META.json`) enters the vault
//! under its tenant's policy, or is refused with the rule that refuses it.

use chrono::{DateTime, Utc};
use governance::{Actor, AuditEvent, Outcome};
use policy::{CallFacts, CatalogField, ConsentAnswer, ConsentEvidence, Direction, Policy, TenantSettings};
use redact::{NumberHasher, normalize_e164};
use uuid::Uuid;
use vault::{
    ParticipantRecord, RecordingEntry, RecordingRecord, RecordingSource, RecordingState, StreamRecord, StreamSeal,
    TenantRecord,
};

use crate::wire::{IngestMeta, IngestResult};
use crate::{ErrorKind, Service, ServiceError};

impl Service {
    /// Ingests one recording. Nothing becomes visible unless all of it was stored.
    pub async fn ingest(
        &self,
        tenant_name: &str,
        audio: &[u8],
        meta: &IngestMeta,
        actor: &Actor,
        now: DateTime<Utc>,
    ) -> Result<IngestResult, ServiceError> {
        let tenant = self.known_tenant(tenant_name).await?;
        let (policy, version) = self.active_policy(tenant_name).await?;
        let result = self
            .ingest_under(&tenant, &policy, version.version, audio, meta, actor, now)
            .await;
        let event =
            AuditEvent::new(now, &Self::actor_name(actor), "recording.ingest", Outcome::Done).tenant(tenant_name);
        match &result {
            Ok(done) => {
                self.audit(
                    event
                        .recording(&done.id)
                        .detail(serde_json::json!({"policy_version": version.version})),
                )
                .await?;
            }
            Err(err) if err.kind == ErrorKind::Refused => {
                let mut event = event
                    .detail(serde_json::json!({"code": err.code, "rule": err.rule, "policy_version": version.version}));
                event.outcome = Outcome::Denied;
                self.audit(event).await?;
            }
            Err(_) => {}
        }
        result
    }

    #[allow(clippy::too_many_arguments)]
    async fn ingest_under(
        &self,
        tenant: &TenantRecord,
        policy: &Policy,
        policy_version: i64,
        audio: &[u8],
        meta: &IngestMeta,
        actor: &Actor,
        now: DateTime<Utc>,
    ) -> Result<IngestResult, ServiceError> {
        self.check_residency(policy)?;
        let direction = match meta.direction.as_str() {
            "inbound" => Some(Direction::Inbound),
            "outbound" => Some(Direction::Outbound),
            "unknown" => None,
            _ => {
                return Err(ServiceError::bad_input(
                    "meta-invalid",
                    "metadata: field direction: expected inbound, outbound or unknown",
                ));
            }
        };
        let wav = media::parse_wav(audio)?;
        let consent = consent_evidence(meta)?;
        let settings = tenant_settings(tenant)?;
        let decision = policy::decide_recording(
            policy,
            &settings,
            &CallFacts {
                direction,
                purposes: &meta.purposes,
                consent: &consent,
                answered_at: meta.started_at,
            },
        )?;

        let hasher = NumberHasher::new(self.vault.number_hash_key());
        let country = tenant.country.as_deref();
        let customer = match meta.customer_number.as_deref().filter(|n| !n.trim().is_empty()) {
            Some(raw) => Some(normalize_e164(raw, country).map_err(|e| {
                ServiceError::bad_input(
                    "customer-number-invalid",
                    format!("metadata: field customer_number: {e}"),
                )
            })?),
            None => None,
        };
        let service_number = match meta.service_number.as_deref().filter(|n| !n.trim().is_empty()) {
            Some(raw) => Some(normalize_e164(raw, country).map_err(|e| {
                ServiceError::bad_input("service-number-invalid", format!("metadata: field service_number: {e}"))
            })?),
            None => None,
        };
        let show_number = |e164: &str| crate::shown_customer_number(policy, e164);

        let duration_ms = i64::try_from(wav.duration_ms()).unwrap_or(i64::MAX);
        let ended_at = meta
            .ended_at
            .unwrap_or(meta.started_at + chrono::TimeDelta::milliseconds(duration_ms));
        if ended_at < meta.started_at {
            return Err(ServiceError::bad_input(
                "meta-invalid",
                "metadata: field ended_at: before started_at",
            ));
        }
        let id = Uuid::new_v7(uuid::Timestamp::from_unix(
            uuid::NoContext,
            now.timestamp().max(0) as u64,
            now.timestamp_subsec_nanos(),
        ));

        let mut participants = Vec::new();
        for (i, p) in meta.participants.iter().enumerate() {
            if let Some(channel) = p.channel
                && channel >= wav.channels
            {
                return Err(ServiceError::bad_input(
                    "meta-invalid",
                    format!(
                        "metadata: field participants[{i}].channel: the audio has {} channel(s)",
                        wav.channels
                    ),
                ));
            }
            let is_customer = p.role == "customer";
            let name_field = if is_customer {
                CatalogField::CustomerName
            } else {
                CatalogField::AgentName
            };
            let number = match p.number.as_deref().filter(|n| !n.trim().is_empty()) {
                Some(raw) => Some(normalize_e164(raw, country).map_err(|e| {
                    ServiceError::bad_input(
                        "participant-number-invalid",
                        format!("metadata: field participants[{i}].number: {e}"),
                    )
                })?),
                None => None,
            };
            participants.push(ParticipantRecord {
                idx: i as i64,
                role: p.role.clone(),
                name: p.name.clone().filter(|_| policy.keeps(name_field)),
                number: number
                    .as_deref()
                    .filter(|_| policy.keeps(CatalogField::CustomerNumber) || !is_customer)
                    .map(|n| if is_customer { show_number(n) } else { n.to_owned() }),
                number_hash: number.as_deref().map(|n| hasher.hash(n)),
            });
        }

        let streams: Vec<StreamRecord> = (0..wav.channels)
            .map(|channel| {
                let owner = meta
                    .participants
                    .iter()
                    .position(|p| p.channel == Some(channel) || (wav.channels == 1 && p.channel.is_none()));
                let label = match owner {
                    Some(p)
                        if meta
                            .participants
                            .iter()
                            .filter(|q| q.role == meta.participants[p].role)
                            .count()
                            == 1 =>
                    {
                        meta.participants[p].role.clone()
                    }
                    _ if wav.channels == 1 => "mixed".to_owned(),
                    _ => format!("channel-{channel}"),
                };
                StreamRecord {
                    idx: i64::from(channel),
                    label,
                    participant: owner.map(|p| p as i64),
                    codec: wav.encoding.codec_name().to_owned(),
                    sample_rate: i64::from(wav.sample_rate),
                    object_path: vault::object_path(&tenant.name, id, i64::from(channel)),
                    chunks: 0,
                    audio_bytes: 0,
                    packets_lost: 0,
                    seal: StreamSeal::Open,
                }
            })
            .collect();

        let mut notes = Vec::new();
        if policy.recording.flag_withheld_caller_id && direction == Some(Direction::Outbound) && meta.withheld_caller_id
        {
            notes.push("withheld-caller-id: our identity was hidden on an outbound call".to_owned());
        }
        if let Some(source) = &meta.transferred_from {
            notes.push(format!("transferred-from: {source}"));
        }
        // WEBEO-TPS: an outbound call to a number on a register the policy names is flagged.
        if direction == Some(Direction::Outbound)
            && let Some(number) = customer.as_deref()
        {
            notes.extend(self.screening_notes(&tenant.name, policy, number).await);
        }

        let recording = RecordingRecord {
            id,
            tenant: tenant.name.clone(),
            policy_version,
            state: RecordingState::Writing,
            source: RecordingSource::Ingest,
            direction: meta.direction.clone(),
            started_at: meta.started_at,
            ended_at: Some(ended_at),
            duration_ms: Some(duration_ms),
            service_number: service_number.filter(|_| policy.keeps(CatalogField::ServiceNumber)),
            customer_number: customer
                .as_deref()
                .filter(|_| policy.keeps(CatalogField::CustomerNumber))
                .map(show_number),
            customer_number_hash: customer.as_deref().map(|n| hasher.hash(n)),
            customer_name: None,
            agent: meta.agent.clone().filter(|_| policy.keeps(CatalogField::AgentName)),
            purposes: meta.purposes.clone(),
            legal_basis: serde_json::to_value(decision.legal_basis)
                .ok()
                .and_then(|v| v.as_str().map(str::to_owned))
                .unwrap_or_default(),
            consent: serde_json::json!({"basis": decision.consent, "notice_played": consent.notice_played}),
            retain_until: decision.retain_until,
            notes,
            created_at: now,
            sealed_at: None,
        };

        let entry = RecordingEntry {
            recording,
            participants,
            streams,
        };
        let chunk_bytes = (u64::from(wav.sample_rate) * u64::from(self.settings.chunk_ms.max(20)) / 1000) as usize
            * wav.bytes_per_sample();
        let mut writer = self.vault.begin(entry).await?;
        let written: Result<(), ServiceError> = async {
            for (channel, bytes) in wav.split_channels().into_iter().enumerate() {
                writer.put_stream(channel as i64, bytes.into(), chunk_bytes).await?;
            }
            Ok(())
        }
        .await;
        if let Err(err) = written {
            writer.abort().await?;
            return Err(err);
        }
        writer.seal(Some(ended_at), Some(duration_ms), now).await?;
        tracing::info!(recording = %id, tenant = %tenant.name, actor = %actor.name(), "recording ingested");
        Ok(IngestResult {
            id: id.to_string(),
            tenant: tenant.name.clone(),
            policy_version,
            retain_until: decision.retain_until,
        })
    }
}

fn consent_evidence(meta: &IngestMeta) -> Result<ConsentEvidence, ServiceError> {
    let Some(c) = &meta.consent else {
        return Ok(ConsentEvidence::default());
    };
    let digit = match c.digit.as_deref() {
        None => None,
        Some(d) if d.chars().count() == 1 && "0123456789*#".contains(d) => d.chars().next(),
        Some(_) => {
            return Err(ServiceError::bad_input(
                "meta-invalid",
                "metadata: field consent.digit: expected one DTMF digit",
            ));
        }
    };
    let answer = match c.granted {
        Some(granted) => Some(ConsentAnswer {
            granted,
            digit,
            at: c.at.unwrap_or(meta.started_at),
        }),
        None if digit.is_some() => {
            return Err(ServiceError::bad_input(
                "meta-invalid",
                "metadata: field consent.granted: required with consent.digit",
            ));
        }
        None => None,
    };
    Ok(ConsentEvidence {
        notice_played: c.notice_played,
        answer,
    })
}

pub(crate) fn tenant_settings(tenant: &TenantRecord) -> Result<TenantSettings, ServiceError> {
    let retention = tenant
        .retention
        .as_deref()
        .map(|r| {
            r.parse()
                .map_err(|e| ServiceError::new(ErrorKind::Integrity, "tenant-retention-invalid", e))
        })
        .transpose()?;
    Ok(TenantSettings {
        recording_enabled: tenant.recording_enabled,
        retention,
        provider: tenant.provider,
    })
}
