//! Outbound screening (WEBEO-TPS) as service operations: answer per number under a
//! tenant's policy, record overrides (audited, by keyed hash and masked form only),
//! and the catalog notes for a recorded outbound call to a listed number.
//!
//! The registers live in the `screening` crate's store (`DATA/screening/`); the
//! store does file IO, so it runs on the blocking pool.

use chrono::{DateTime, Utc};
use governance::{Actor, AuditEvent, Outcome};
use policy::Policy;
use redact::{NumberHasher, mask_number, normalize_e164};
use screening::wire::{ScreeningAnswer, ScreeningResponse};
use screening::{MarketingRules, RegisterStore, ScreeningError, Snapshot};

use crate::{ErrorKind, Service, ServiceError};

/// Most numbers one request may screen.
pub const MAX_NUMBERS_PER_REQUEST: usize = 10_000;
/// Default country for national numbers when the tenant sets none: the registers are UK ones.
const DEFAULT_COUNTRY: &str = "GB";
/// Shortest E.164 number screened: `+` and 7 digits.
const MIN_E164_LEN: usize = 8;

impl From<ScreeningError> for ServiceError {
    fn from(err: ScreeningError) -> Self {
        let kind = if err.is_bad_input() {
            ErrorKind::BadInput
        } else {
            ErrorKind::Internal
        };
        ServiceError::new(kind, err.code(), err.to_string())
    }
}

impl Service {
    /// This service with outbound screening over `store` (usually `DATA/screening`).
    pub fn with_screening(mut self, store: RegisterStore) -> Self {
        self.screening = Some(store);
        self
    }

    /// The screening registers, when configured.
    pub fn screening(&self) -> Option<&RegisterStore> {
        self.screening.as_ref()
    }

    fn screening_store(&self) -> Result<RegisterStore, ServiceError> {
        self.screening.clone().ok_or_else(|| {
            ServiceError::new(
                ErrorKind::Internal,
                "screening-not-configured",
                "outbound screening is not configured for this service",
            )
        })
    }

    /// The registers as on disk now (loads what another process imported).
    pub async fn screening_snapshot(&self) -> Result<std::sync::Arc<Snapshot>, ServiceError> {
        let store = self.screening_store()?;
        tokio::task::spawn_blocking(move || store.refresh())
            .await
            .map_err(|e| ServiceError::new(ErrorKind::Internal, "screening-task-failed", e.to_string()))?
            .map_err(ServiceError::from)
    }

    /// The tenant's `[marketing]` rules and default country.
    async fn marketing_of(&self, tenant: &str) -> Result<(Policy, String), ServiceError> {
        let record = self.tenant(tenant).await.map_err(|err| match err.kind {
            ErrorKind::NotFound => ServiceError::new(
                ErrorKind::NotFound,
                "tenant-unknown",
                format!("no tenant named {tenant:?}"),
            ),
            _ => err,
        })?;
        let (policy, _) = self.active_policy(tenant).await?;
        Ok((policy, record.country.unwrap_or_else(|| DEFAULT_COUNTRY.to_owned())))
    }

    /// Answers, per number, which registers list it and whether an unsolicited sales
    /// or marketing call may go to it under the tenant's policy (with no tenant:
    /// only if no register lists it).
    pub async fn screen_numbers(
        &self,
        tenant: Option<&str>,
        numbers: &[String],
    ) -> Result<ScreeningResponse, ServiceError> {
        if numbers.len() > MAX_NUMBERS_PER_REQUEST {
            return Err(ServiceError::bad_input(
                "too-many-numbers",
                format!("at most {MAX_NUMBERS_PER_REQUEST} numbers per request"),
            ));
        }
        let (policy, country) = match tenant {
            Some(t) => {
                let (policy, country) = self.marketing_of(t).await?;
                (Some(policy), country)
            }
            None => (None, DEFAULT_COUNTRY.to_owned()),
        };
        let mut keyed = Vec::with_capacity(numbers.len());
        for (i, raw) in numbers.iter().enumerate() {
            keyed.push(screening_key(raw, &country, &format!("numbers[{i}]"))?);
        }
        let snapshot = self.screening_snapshot().await?;
        let rules = policy.as_ref().map(|p| MarketingRules {
            registers: &p.marketing.screening_registers,
            no_unsolicited_calls_to_listed: p.marketing.no_unsolicited_calls_to_listed,
        });
        let hasher = NumberHasher::new(self.vault.number_hash_key());
        let results = keyed
            .iter()
            .map(|(e164, key)| {
                let override_ = tenant.and_then(|t| snapshot.override_for(t, &hasher.hash(e164)));
                screening::answer(&snapshot, e164, *key, rules.as_ref(), override_)
            })
            .collect();
        Ok(ScreeningResponse {
            tenant: tenant.map(str::to_owned),
            results,
        })
    }

    /// Records that `tenant` may call `number` for marketing after all (e.g. an existing
    /// customer who consented). Needs a reason; audited as `screening.override` with
    /// the masked number and its keyed hash, never the number itself.
    pub async fn screening_override(
        &self,
        tenant: &str,
        number: &str,
        reason: &str,
        actor: &Actor,
        now: DateTime<Utc>,
    ) -> Result<ScreeningAnswer, ServiceError> {
        let reason = reason.trim();
        if reason.is_empty() {
            return Err(ServiceError::bad_input(
                "reason-required",
                "an override needs a reason (e.g. existing customer who consented on 2026-05-01)",
            ));
        }
        let (policy, country) = self.marketing_of(tenant).await?;
        let (e164, key) = screening_key(number, &country, "number")?;
        let snapshot = self.screening_snapshot().await?;
        let listed_on: Vec<String> = snapshot.listings(key).map(|(name, _)| name.to_owned()).collect();
        let number_hash = NumberHasher::new(self.vault.number_hash_key()).hash(&e164);
        let number_masked = mask_number(&e164, 3);
        let record = screening::OverrideRecord {
            tenant: tenant.to_owned(),
            number_hash: number_hash.clone(),
            number_masked: number_masked.clone(),
            reason: reason.to_owned(),
            actor: Self::actor_name(actor),
            at: now,
            registers: listed_on.clone(),
        };
        let store = self.screening_store()?;
        tokio::task::spawn_blocking(move || store.add_override(record))
            .await
            .map_err(|e| ServiceError::new(ErrorKind::Internal, "screening-task-failed", e.to_string()))??;
        let mut event = AuditEvent::new(now, &Self::actor_name(actor), "screening.override", Outcome::Done)
            .tenant(tenant)
            .detail(serde_json::json!({
                "number_masked": number_masked,
                "number_hash": number_hash,
                "registers": listed_on,
                "policy_registers": policy.marketing.screening_registers,
            }));
        event.reason = Some(reason.to_owned());
        self.audit(event).await?;
        let response = self.screen_numbers(Some(tenant), &[e164]).await?;
        Ok(response.results.into_iter().next().expect("one number, one answer"))
    }

    /// Catalog notes for a recorded outbound call to `e164` under `policy`: one per
    /// register the policy names that lists the number. Empty without screening.
    pub(crate) async fn screening_notes(&self, tenant: &str, policy: &Policy, e164: &str) -> Vec<String> {
        let registers = &policy.marketing.screening_registers;
        let (Some(_), Some(key)) = (&self.screening, screening::key_of_e164(e164)) else {
            return Vec::new();
        };
        if registers.is_empty() {
            return Vec::new();
        }
        match self.screening_snapshot().await {
            Ok(snapshot) => {
                let hash = NumberHasher::new(self.vault.number_hash_key()).hash(e164);
                let overridden = snapshot.override_for(tenant, &hash).is_some();
                screening::call_notes(&snapshot, key, registers, overridden)
            }
            Err(err) => {
                tracing::warn!(code = %err.code, "screening registers unreadable during ingest");
                vec![format!(
                    "screening-unavailable: the registers could not be read ({}); the call was not screened",
                    err.code
                )]
            }
        }
    }
}

/// A number's E.164 form and key; errors name `field` but never echo the value.
fn screening_key(raw: &str, country: &str, field: &str) -> Result<(String, u64), ServiceError> {
    let invalid = |what: String| ServiceError::bad_input("number-invalid", format!("{field}: {what}"));
    let e164 = normalize_e164(raw, Some(country)).map_err(|e| invalid(e.to_string()))?;
    // The general normaliser accepts fragments such as "020"; no register lists those.
    if e164.len() < MIN_E164_LEN {
        return Err(invalid("too short to be a phone number".into()));
    }
    let key = screening::key_of_e164(&e164).ok_or_else(|| invalid("not a phone number".into()))?;
    Ok((e164, key))
}
