//! Tenants and their policy versions.

use chrono::{DateTime, Utc};
use governance::{Actor, AuditEvent, Outcome};
use policy::{Enablement, PolicyDuration, Retention};
use sha2::{Digest, Sha256};
use vault::{PolicyVersionRecord, PolicyVersionState, TenantRecord};

use crate::{ErrorKind, Service, ServiceError};

/// Changes `tenant set` can make; `None` leaves a setting as it is.
#[derive(Debug, Clone, Default)]
pub struct TenantChange {
    pub recording_enabled: Option<bool>,
    pub retention: Option<String>,
    pub service_numbers: Option<Vec<String>>,
    pub agent_patterns: Option<Vec<String>>,
    pub country: Option<String>,
    pub provider: Option<bool>,
}

fn check_tenant_name(name: &str) -> Result<(), ServiceError> {
    let ok = !name.is_empty()
        && name.len() <= 64
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        && !name.starts_with('-');
    if ok {
        Ok(())
    } else {
        Err(ServiceError::bad_input(
            "tenant-name-invalid",
            "tenant names are 1-64 lowercase letters, digits and '-'",
        ))
    }
}

impl Service {
    /// Creates a tenant bound to a policy file (its version 1, active at once).
    pub async fn create_tenant(
        &self,
        name: &str,
        policy_file: &str,
        policy_text: &str,
        actor: &Actor,
        now: DateTime<Utc>,
    ) -> Result<TenantRecord, ServiceError> {
        check_tenant_name(name)?;
        let policy = crate::parse_policy_checked(policy_file, policy_text)?;
        self.check_residency(&policy)?;
        let tenant = TenantRecord {
            name: name.to_owned(),
            policy_id: policy.policy.id.clone(),
            recording_enabled: policy.consent.enablement == Enablement::Always,
            retention: None,
            service_numbers: Vec::new(),
            agent_patterns: Vec::new(),
            country: None,
            provider: false,
            created_at: now,
        };
        let version = version_record(name, 1, policy_file, policy_text, &policy, actor, now);
        self.vault.catalog().create_tenant(&tenant, &version).await?;
        self.audit(
            AuditEvent::new(now, &Self::actor_name(actor), "tenant.create", Outcome::Done)
                .tenant(name)
                .detail(
                    serde_json::json!({"policy_id": policy.policy.id, "policy_version": 1, "sha256": version.sha256}),
                ),
        )
        .await?;
        Ok(tenant)
    }

    /// Changes a tenant's settings.
    pub async fn set_tenant(
        &self,
        name: &str,
        change: TenantChange,
        actor: &Actor,
        now: DateTime<Utc>,
    ) -> Result<TenantRecord, ServiceError> {
        let mut tenant = self.vault.catalog().tenant(name).await?;
        let policy = Self::parse_stored_policy(&self.vault.catalog().active_policy(name).await?)?;
        if let Some(on) = change.recording_enabled {
            if policy.consent.enablement == Enablement::Always && !on {
                return Err(ServiceError::bad_input(
                    "recording-always-on",
                    format!(
                        "policy {} records always; recording cannot be switched off per tenant",
                        policy.policy.id
                    ),
                ));
            }
            tenant.recording_enabled = on;
        }
        if let Some(retention) = change.retention {
            if policy.retention.default != Retention::TenantSet
                && !policy
                    .purposes
                    .iter()
                    .any(|p| p.retention == Some(Retention::TenantSet))
            {
                return Err(ServiceError::bad_input(
                    "retention-fixed-by-policy",
                    format!(
                        "policy {} fixes retention at {}; a tenant cannot change it",
                        policy.policy.id, policy.retention.default
                    ),
                ));
            }
            retention
                .parse::<PolicyDuration>()
                .map_err(|e| ServiceError::bad_input("retention-invalid", format!("--retention: {e}")))?;
            tenant.retention = Some(retention);
        }
        if let Some(country) = change.country {
            redact::normalize_e164("+441234567890", Some(&country))
                .map_err(|e| ServiceError::bad_input("country-invalid", format!("--country: {e}")))?;
            tenant.country = Some(country.to_ascii_uppercase());
        }
        if let Some(numbers) = change.service_numbers {
            let country = tenant.country.clone();
            tenant.service_numbers = numbers
                .iter()
                .map(|n| {
                    redact::normalize_e164(n, country.as_deref()).map_err(|e| {
                        ServiceError::bad_input("service-number-invalid", format!("--service-numbers: {e}"))
                    })
                })
                .collect::<Result<_, _>>()?;
        }
        if let Some(patterns) = change.agent_patterns {
            if patterns.iter().any(|p| p.trim().is_empty()) {
                return Err(ServiceError::bad_input(
                    "agent-pattern-invalid",
                    "--agent-pattern: empty pattern",
                ));
            }
            tenant.agent_patterns = patterns;
        }
        if let Some(provider) = change.provider {
            tenant.provider = provider;
        }
        self.vault.catalog().update_tenant(&tenant).await?;
        self.audit(
            AuditEvent::new(now, &Self::actor_name(actor), "tenant.set", Outcome::Done)
                .tenant(name)
                .detail(serde_json::json!({
                    "recording_enabled": tenant.recording_enabled,
                    "retention": tenant.retention,
                    "service_numbers": tenant.service_numbers.len(),
                    "agent_patterns": tenant.agent_patterns.len(),
                    "country": tenant.country,
                    "provider": tenant.provider,
                })),
        )
        .await?;
        Ok(tenant)
    }

    /// Records a new policy version for a tenant. Until approvals exist it takes effect
    /// at once; older versions stay readable and recordings keep theirs (ALL-VERSION).
    pub async fn update_policy(
        &self,
        tenant: &str,
        policy_file: &str,
        policy_text: &str,
        actor: &Actor,
        now: DateTime<Utc>,
    ) -> Result<PolicyVersionRecord, ServiceError> {
        let current = self.vault.catalog().active_policy(tenant).await?;
        let policy = crate::parse_policy_checked(policy_file, policy_text)?;
        if policy.policy.id != current.policy_id {
            return Err(ServiceError::bad_input(
                "policy-id-mismatch",
                format!(
                    "tenant {tenant} is bound to policy {:?}, the file is {:?}",
                    current.policy_id, policy.policy.id
                ),
            ));
        }
        self.check_residency(&policy)?;
        let mut record = version_record(tenant, 0, policy_file, policy_text, &policy, actor, now);
        if record.sha256 == current.sha256 {
            return Err(ServiceError::new(
                ErrorKind::Conflict,
                "policy-unchanged",
                "the file is identical to the active version",
            ));
        }
        record.version = self.vault.catalog().add_policy_version(record.clone()).await?;
        self.audit(
            AuditEvent::new(now, &Self::actor_name(actor), "policy.update", Outcome::Done)
                .tenant(tenant)
                .detail(serde_json::json!({
                    "policy_id": record.policy_id,
                    "from_version": current.version,
                    "to_version": record.version,
                    "sha256": record.sha256,
                    "approved_by": record.approved_by,
                })),
        )
        .await?;
        Ok(record)
    }

    pub async fn tenants(&self) -> Result<Vec<TenantRecord>, ServiceError> {
        Ok(self.vault.catalog().tenants().await?)
    }

    pub async fn tenant(&self, name: &str) -> Result<TenantRecord, ServiceError> {
        Ok(self.vault.catalog().tenant(name).await?)
    }

    pub async fn policy_versions(&self, tenant: &str) -> Result<Vec<PolicyVersionRecord>, ServiceError> {
        Ok(self.vault.catalog().policy_versions(tenant).await?)
    }

    pub async fn policy_version(&self, tenant: &str, version: i64) -> Result<PolicyVersionRecord, ServiceError> {
        Ok(self.vault.catalog().policy_version(tenant, version).await?)
    }

    /// The active policy of a tenant, parsed, with its version number.
    pub async fn active_policy(&self, tenant: &str) -> Result<(policy::Policy, PolicyVersionRecord), ServiceError> {
        let record = self.vault.catalog().active_policy(tenant).await?;
        Ok((Self::parse_stored_policy(&record)?, record))
    }
}

fn version_record(
    tenant: &str,
    version: i64,
    file: &str,
    text: &str,
    policy: &policy::Policy,
    actor: &Actor,
    now: DateTime<Utc>,
) -> PolicyVersionRecord {
    PolicyVersionRecord {
        tenant: tenant.to_owned(),
        version,
        policy_id: policy.policy.id.clone(),
        document_version: policy.policy.version.clone(),
        source_file: file.to_owned(),
        source_text: text.to_owned(),
        sha256: hex::encode(Sha256::digest(text.as_bytes())),
        state: PolicyVersionState::Active,
        created_at: now,
        created_by: actor.name(),
        // No approval workflow yet: the author's change takes effect at once and is
        // recorded as approved by them.
        approved_at: Some(now),
        approved_by: Some(actor.name()),
    }
}
