//! Live capture: what the policy says about a call when it is answered, the catalog
//! entry of a live recording (numbers masked before anything is stored), sealing, and
//! the "not recorded" fact when the policy or the caller says no.

use chrono::{DateTime, Utc};
use governance::{AuditEvent, Outcome};
use policy::{CallFacts, CatalogField, ConsentAnswer, ConsentEvidence, ConsentMechanism, Direction, Policy};
use redact::{NumberHasher, normalize_e164};
use uuid::Uuid;
use vault::{
    ParticipantRecord, RecordingEntry, RecordingRecord, RecordingSource, RecordingState, RecordingWriter, StreamRecord,
    StreamSeal, TenantRecord,
};

use crate::{Service, ServiceError};

/// A party of a live call as the recorder classified it.
#[derive(Debug, Clone)]
pub struct LiveParty {
    /// `customer`, `agent`, `service` or `other`.
    pub role: String,
    pub aors: Vec<String>,
    pub name: Option<String>,
    pub joined_mid_call: bool,
}

/// A stream of a live call.
#[derive(Debug, Clone)]
pub struct LiveStream {
    pub label: String,
    /// The stored codec name (`pcmu`, `pcma`, `g722`, `opus`).
    pub codec: String,
    pub sample_rate: u32,
    /// Index into the call's parties.
    pub participant: Option<usize>,
}

/// What the policy decided when the call was answered.
#[derive(Debug, Clone)]
pub struct CaptureDecision {
    pub tenant: TenantRecord,
    pub policy: Policy,
    pub policy_version: i64,
    pub retain_until: DateTime<Utc>,
    pub legal_basis: String,
}

/// A live call being recorded.
#[derive(Debug, Clone)]
pub struct LiveCall {
    pub direction: Option<Direction>,
    pub parties: Vec<LiveParty>,
    pub streams: Vec<LiveStream>,
    /// The recorder's own answer time: retention counts from here (ALL-RETENTION).
    pub answered_at: DateTime<Utc>,
    /// When storing began: the answer, or the consent under an opt-in policy.
    pub started_at: DateTime<Utc>,
    pub notes: Vec<String>,
}

impl Service {
    /// Decides at answer time whether a call may be recorded at all: enablement,
    /// direction, residency, retention. Consent is the recorder's gate, except that a
    /// client-signalled refusal is final here.
    pub async fn decide_capture(
        &self,
        tenant_name: &str,
        direction: Option<Direction>,
        notice_played: bool,
        client_consent: Option<(bool, Option<char>)>,
        answered_at: DateTime<Utc>,
    ) -> Result<CaptureDecision, ServiceError> {
        let tenant = self.known_tenant(tenant_name).await?;
        let (policy, version) = self.active_policy(tenant_name).await?;
        self.check_residency(&policy)?;
        let purposes: Vec<String> = policy.purposes.iter().map(|p| p.id.clone()).collect();
        // The DTMF prompt is answered during the call: for this decision, assume the
        // caller will accept; the recorder's gate holds audio back until they do.
        let answer = match (policy.consent.mechanism, client_consent) {
            (_, Some((granted, digit))) => Some(ConsentAnswer {
                granted,
                digit,
                at: answered_at,
            }),
            (ConsentMechanism::DtmfOptIn, None) => Some(ConsentAnswer {
                granted: true,
                digit: policy.consent.accept_digit,
                at: answered_at,
            }),
            _ => None,
        };
        let evidence = ConsentEvidence { notice_played, answer };
        let settings = crate::ingest::tenant_settings(&tenant)?;
        let decision = policy::decide_recording(
            &policy,
            &settings,
            &CallFacts {
                direction,
                purposes: &purposes,
                consent: &evidence,
                answered_at,
            },
        )?;
        let legal_basis = serde_json::to_value(decision.legal_basis)
            .ok()
            .and_then(|v| v.as_str().map(str::to_owned))
            .unwrap_or_default();
        Ok(CaptureDecision {
            tenant,
            policy,
            policy_version: version.version,
            retain_until: decision.retain_until,
            legal_basis,
        })
    }

    /// Starts the live recording once audio may be written: the catalog row (invisible
    /// until sealed) and its data key. Numbers are masked as the policy says first.
    pub async fn begin_capture(
        &self,
        decision: &CaptureDecision,
        call: &LiveCall,
        consent: serde_json::Value,
        now: DateTime<Utc>,
    ) -> Result<RecordingWriter, ServiceError> {
        let policy = &decision.policy;
        let tenant = &decision.tenant;
        let hasher = NumberHasher::new(self.vault.number_hash_key());
        let country = tenant.country.as_deref();
        let number_of = |p: &LiveParty| party_number(p, country);
        let shown = |e164: &str| crate::shown_customer_number(policy, e164);
        let customer = call.parties.iter().find(|p| p.role == "customer");
        let customer_number = customer.and_then(number_of);
        let agent = call.parties.iter().find(|p| p.role == "agent");
        let service = call.parties.iter().find(|p| p.role == "service");
        let id = Uuid::new_v7(uuid::Timestamp::from_unix(
            uuid::NoContext,
            now.timestamp().max(0) as u64,
            now.timestamp_subsec_nanos(),
        ));
        let participants = call
            .parties
            .iter()
            .enumerate()
            .map(|(i, p)| self.capture_participant(decision, i, p))
            .collect();
        let streams = call
            .streams
            .iter()
            .enumerate()
            .map(|(i, s)| StreamRecord {
                idx: i as i64,
                label: s.label.clone(),
                participant: s.participant.map(|p| p as i64),
                codec: s.codec.clone(),
                sample_rate: i64::from(s.sample_rate),
                object_path: vault::object_path(&tenant.name, id, i as i64),
                chunks: 0,
                audio_bytes: 0,
                packets_lost: 0,
                seal: StreamSeal::Open,
            })
            .collect();
        let recording = RecordingRecord {
            id,
            tenant: tenant.name.clone(),
            policy_version: decision.policy_version,
            state: RecordingState::Writing,
            source: RecordingSource::Capture,
            direction: call
                .direction
                .map(policy::direction_word)
                .unwrap_or("unknown")
                .to_owned(),
            started_at: call.started_at,
            ended_at: None,
            duration_ms: None,
            service_number: service
                .and_then(number_of)
                .filter(|_| policy.keeps(CatalogField::ServiceNumber)),
            customer_number: customer_number
                .as_deref()
                .filter(|_| policy.keeps(CatalogField::CustomerNumber))
                .map(shown),
            customer_number_hash: customer_number.as_deref().map(|n| hasher.hash(n)),
            customer_name: None,
            agent: agent
                .and_then(|a| a.name.clone().or_else(|| a.aors.first().cloned()))
                .filter(|_| policy.keeps(CatalogField::AgentName)),
            purposes: policy.purposes.iter().map(|p| p.id.clone()).collect(),
            legal_basis: decision.legal_basis.clone(),
            consent,
            retain_until: decision.retain_until,
            notes: call.notes.clone(),
            created_at: now,
            sealed_at: None,
        };
        let writer = self
            .vault
            .begin(RecordingEntry {
                recording,
                participants,
                streams,
            })
            .await?;
        Ok(writer)
    }

    /// The catalog form of a party: name and number kept only as the policy allows,
    /// the customer's number masked as it says, every number also as a keyed hash.
    pub fn capture_participant(&self, decision: &CaptureDecision, idx: usize, party: &LiveParty) -> ParticipantRecord {
        let policy = &decision.policy;
        let hasher = NumberHasher::new(self.vault.number_hash_key());
        // A transfer source (an address from Diversion/History-Info/Referred-By) may be a
        // person's own line: it is kept as the customer's number would be.
        let is_customer = party.role == "customer" || party.role == "transfer-source";
        let name_field = if is_customer {
            CatalogField::CustomerName
        } else {
            CatalogField::AgentName
        };
        let number = party_number(party, decision.tenant.country.as_deref());
        let shown = |e164: &str| crate::shown_customer_number(policy, e164);
        ParticipantRecord {
            idx: idx as i64,
            role: if party.joined_mid_call {
                format!("{} (joined mid-call)", party.role)
            } else {
                party.role.clone()
            },
            name: party.name.clone().filter(|_| policy.keeps(name_field)),
            number: number
                .as_deref()
                .filter(|_| !is_customer || policy.keeps(CatalogField::CustomerNumber))
                .map(|n| if is_customer { shown(n) } else { n.to_owned() }),
            number_hash: number.as_deref().map(|n| hasher.hash(n)),
        }
    }

    /// Seals a live recording and audits it.
    pub async fn seal_capture(
        &self,
        writer: RecordingWriter,
        tenant: &str,
        ended_at: DateTime<Utc>,
        duration_ms: i64,
        now: DateTime<Utc>,
    ) -> Result<Uuid, ServiceError> {
        let id = writer.seal(Some(ended_at), Some(duration_ms), now).await?;
        self.audit(
            AuditEvent::new(now, "recorder", "recording.sealed", Outcome::Done)
                .tenant(tenant)
                .recording(id)
                .detail(serde_json::json!({"duration_ms": duration_ms})),
        )
        .await?;
        tracing::info!(recording = %id, tenant, duration_ms, "live recording sealed");
        Ok(id)
    }

    /// Records that a call was not recorded, and why (no audio, no personal data).
    pub async fn not_recorded(
        &self,
        tenant: Option<&str>,
        code: &str,
        rule: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<(), ServiceError> {
        let mut event = AuditEvent::new(now, "recorder", "recording.not-recorded", Outcome::Done)
            .detail(serde_json::json!({"code": code, "rule": rule}));
        if let Some(tenant) = tenant {
            event = event.tenant(tenant);
        }
        tracing::info!(tenant = tenant.unwrap_or("-"), code, "call not recorded");
        self.audit(event).await
    }
}

/// The E.164 number in a party's addresses of record, if one is a number.
fn party_number(party: &LiveParty, country: Option<&str>) -> Option<String> {
    party.aors.iter().find_map(|aor| {
        let user = aor
            .trim_start_matches('<')
            .split(['@', ';', '>'])
            .next()
            .unwrap_or_default();
        let user = user
            .trim_start_matches("sips:")
            .trim_start_matches("sip:")
            .trim_start_matches("tel:");
        (user.chars().filter(char::is_ascii_digit).count() >= 5 && !user.chars().any(|c| c.is_ascii_alphabetic()))
            .then(|| normalize_e164(user, country).ok())
            .flatten()
    })
}
