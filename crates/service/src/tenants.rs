//! Tenants and their policy versions: proposals, approval by the role the policy names
//! (ARLO-PURPOSE-CHANGE), and the change each version made (ALL-VERSION).

use chrono::{DateTime, Utc};
use governance::identity::Principal;
use governance::{Actor, AuditEvent, Outcome};
use policy::{DiffArea, Enablement, PolicyDiff, PolicyDuration, Retention};
use sha2::{Digest, Sha256};
use vault::{PolicyChangeRecord, PolicyDecision, PolicyVersionRecord, PolicyVersionState, TenantRecord, VaultError};

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

    /// Proposes a new policy version for a tenant (ARLO-PURPOSE-CHANGE, ALL-VERSION). It
    /// is recorded `pending` with the change of purposes, retention and access against the
    /// active version and the role that must approve it (the active version's
    /// `changes.approved_by`, default `compliance`); nothing takes effect until
    /// [`Service::approve_policy`]. One change awaits a decision at a time.
    pub async fn update_policy(
        &self,
        tenant: &str,
        policy_file: &str,
        policy_text: &str,
        actor: &Actor,
        now: DateTime<Utc>,
    ) -> Result<PolicyVersionView, ServiceError> {
        let catalog = self.vault.catalog();
        let current = catalog.active_policy(tenant).await?;
        let active = Self::parse_stored_policy(&current)?;
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
        let record = version_record(tenant, 0, policy_file, policy_text, &policy, actor, now);
        if record.sha256 == current.sha256 {
            return Err(ServiceError::new(
                ErrorKind::Conflict,
                "policy-unchanged",
                "the file is identical to the active version",
            ));
        }
        if let Some(open) = catalog
            .policy_changes(tenant)
            .await?
            .into_iter()
            .find(|c| c.decision.is_none())
        {
            return Err(change_pending(tenant, open.version));
        }
        let diff = policy::diff_policies(&active, &policy);
        let change = PolicyChangeRecord {
            tenant: tenant.to_owned(),
            version: 0,
            from_version: current.version,
            approver_role: active.changes.approver_role().to_owned(),
            diff: serde_json::to_string(&diff).expect("a diff serialises"),
            decision: None,
            decided_at: None,
            decided_by: None,
            reason: None,
        };
        let version = catalog
            .propose_policy_version(record, change)
            .await
            .map_err(|err| match err {
                VaultError::Conflict(message) => {
                    ServiceError::new(ErrorKind::Conflict, "policy-change-pending", message)
                }
                other => other.into(),
            })?;
        let view = self.policy_version_view(tenant, version).await?;
        let change = view.change.as_ref().expect("a proposed version has its change");
        self.audit(
            AuditEvent::new(now, &Self::actor_name(actor), "policy.update", Outcome::Done)
                .tenant(tenant)
                .detail(serde_json::json!({
                    "policy_id": view.record.policy_id,
                    "from_version": current.version,
                    "to_version": version,
                    "sha256": view.record.sha256,
                    "state": "pending",
                    "approver_role": change.approver_role,
                    "changes": view.diff.changes.len(),
                    "areas": areas(&view.diff),
                })),
        )
        .await?;
        Ok(view)
    }

    /// Approves a pending version: it becomes the tenant's active version, and new
    /// recordings are made under it (recordings already made keep theirs, ALL-VERSION).
    /// Only a user of the tenant with the role the replaced version names may approve
    /// (ARLO-PURPOSE-CHANGE); any other attempt is refused and audited.
    pub async fn approve_policy(
        &self,
        tenant: &str,
        version: i64,
        principal: &Principal,
        now: DateTime<Utc>,
    ) -> Result<PolicyVersionView, ServiceError> {
        let change = self
            .authorize_policy_decision(tenant, version, principal, "policy.approve", now)
            .await?;
        let record = self.vault.catalog().policy_version(tenant, version).await?;
        let policy = Self::parse_stored_policy(&record)?;
        self.check_residency(&policy)?;
        self.vault
            .catalog()
            .decide_policy_change(tenant, version, PolicyDecision::Approved, &principal.actor(), now, None)
            .await
            .map_err(decision_conflict)?;
        self.audit(
            AuditEvent::new(now, &principal.actor(), "policy.approve", Outcome::Done)
                .tenant(tenant)
                .detail(serde_json::json!({
                    "policy_id": record.policy_id,
                    "from_version": change.from_version,
                    "to_version": version,
                    "sha256": record.sha256,
                    "approver_role": change.approver_role,
                })),
        )
        .await?;
        self.policy_version_view(tenant, version).await
    }

    /// Rejects a pending version: it never takes effect, and the tenant may propose
    /// another. The same role as for approval decides.
    pub async fn reject_policy(
        &self,
        tenant: &str,
        version: i64,
        principal: &Principal,
        reason: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<PolicyVersionView, ServiceError> {
        let change = self
            .authorize_policy_decision(tenant, version, principal, "policy.reject", now)
            .await?;
        self.vault
            .catalog()
            .decide_policy_change(
                tenant,
                version,
                PolicyDecision::Rejected,
                &principal.actor(),
                now,
                reason,
            )
            .await
            .map_err(decision_conflict)?;
        self.audit(
            AuditEvent::new(now, &principal.actor(), "policy.reject", Outcome::Done)
                .tenant(tenant)
                .detail(serde_json::json!({
                    "from_version": change.from_version,
                    "to_version": version,
                    "approver_role": change.approver_role,
                })),
        )
        .await?;
        self.policy_version_view(tenant, version).await
    }

    /// The pending change behind `version`, if `principal` may decide it: a user of the
    /// tenant the Cedar rules let approve (the approver role). A refusal is audited with its code and rule.
    async fn authorize_policy_decision(
        &self,
        tenant: &str,
        version: i64,
        principal: &Principal,
        action: &str,
        now: DateTime<Utc>,
    ) -> Result<PolicyChangeRecord, ServiceError> {
        let refused = |code: &str, rule: &str, message: String| ServiceError {
            kind: ErrorKind::Forbidden,
            code: code.into(),
            message,
            rule: Some(rule.into()),
        };
        let decision = if principal.tenant != tenant {
            Err(refused(
                "tenant-mismatch",
                "tenant-isolation",
                "users act only within their own tenant".into(),
            ))
        } else {
            let change = self
                .vault
                .catalog()
                .policy_change(tenant, version)
                .await?
                .ok_or_else(|| {
                    ServiceError::new(
                        ErrorKind::NotFound,
                        "policy-change-unknown",
                        format!("tenant {tenant} has no proposed policy version {version}"),
                    )
                })?;
            if let Some(done) = change.decision {
                return Err(ServiceError::new(
                    ErrorKind::Conflict,
                    "policy-change-decided",
                    format!("policy version {version} was already {}", done.as_str()),
                ));
            }
            // The Cedar rules of the active version permit its approver role
            // (`changes.approved_by`, compliance by default) and nobody else.
            let ask = crate::access::Ask {
                action: governance::authz::AccessAction::ApprovePolicy,
                purpose: "",
                reason: "",
                workflow: None,
            };
            if self.decide_on_tenant(principal, tenant, ask, now).await?.is_allowed() {
                Ok(change)
            } else {
                Err(refused(
                    "policy-approver-role-required",
                    "changes.approved_by",
                    format!(
                        "a change to tenant {tenant}'s policy is decided by the role {:?}",
                        change.approver_role
                    ),
                ))
            }
        };
        match decision {
            Ok(change) => Ok(change),
            Err(err) => {
                self.audit(
                    AuditEvent::new(now, &principal.actor(), action, Outcome::Denied)
                        .tenant(tenant)
                        .detail(serde_json::json!({"code": err.code, "rule": err.rule, "version": version})),
                )
                .await?;
                Err(err)
            }
        }
    }

    pub async fn tenants(&self) -> Result<Vec<TenantRecord>, ServiceError> {
        Ok(self.vault.catalog().tenants().await?)
    }

    pub async fn tenant(&self, name: &str) -> Result<TenantRecord, ServiceError> {
        Ok(self.vault.catalog().tenant(name).await?)
    }

    /// Every version of a tenant's policy with the change that proposed it, oldest first.
    pub async fn policy_versions(&self, tenant: &str) -> Result<Vec<PolicyVersionView>, ServiceError> {
        let catalog = self.vault.catalog();
        let mut changes = catalog.policy_changes(tenant).await?;
        catalog
            .policy_versions(tenant)
            .await?
            .into_iter()
            .map(|record| {
                let change = changes
                    .iter()
                    .position(|c| c.version == record.version)
                    .map(|at| changes.swap_remove(at));
                PolicyVersionView::new(record, change)
            })
            .collect()
    }

    pub async fn policy_version(&self, tenant: &str, version: i64) -> Result<PolicyVersionRecord, ServiceError> {
        Ok(self.vault.catalog().policy_version(tenant, version).await?)
    }

    /// One version with the change that proposed it.
    pub async fn policy_version_view(&self, tenant: &str, version: i64) -> Result<PolicyVersionView, ServiceError> {
        let catalog = self.vault.catalog();
        let record = catalog.policy_version(tenant, version).await?;
        let change = catalog.policy_change(tenant, version).await?;
        PolicyVersionView::new(record, change)
    }

    /// The active policy of a tenant, parsed, with its version number.
    pub async fn active_policy(&self, tenant: &str) -> Result<(policy::Policy, PolicyVersionRecord), ServiceError> {
        let record = self.vault.catalog().active_policy(tenant).await?;
        Ok((Self::parse_stored_policy(&record)?, record))
    }
}

/// A policy version with the change that proposed it (none for a tenant's first version).
#[derive(Debug, Clone)]
pub struct PolicyVersionView {
    pub record: PolicyVersionRecord,
    pub change: Option<PolicyChangeRecord>,
    /// The change of purposes, retention and access against the version it replaces.
    pub diff: PolicyDiff,
}

impl PolicyVersionView {
    fn new(record: PolicyVersionRecord, change: Option<PolicyChangeRecord>) -> Result<Self, ServiceError> {
        let diff = match &change {
            None => PolicyDiff::default(),
            Some(c) => serde_json::from_str(&c.diff).map_err(|_| {
                ServiceError::new(
                    ErrorKind::Integrity,
                    "policy-change-corrupt",
                    format!("the stored change of policy version {} does not parse", c.version),
                )
            })?,
        };
        Ok(PolicyVersionView { record, change, diff })
    }

    /// `active`, `superseded`, `pending` (awaiting approval) or `rejected`.
    pub fn state(&self) -> &'static str {
        match (self.record.state, self.change.as_ref().and_then(|c| c.decision)) {
            (PolicyVersionState::Pending, Some(PolicyDecision::Rejected)) => "rejected",
            (state, _) => state.as_str(),
        }
    }
}

fn areas(diff: &PolicyDiff) -> Vec<DiffArea> {
    let mut areas: Vec<DiffArea> = diff.changes.iter().map(|c| c.area).collect();
    areas.sort();
    areas.dedup();
    areas
}

fn change_pending(tenant: &str, version: i64) -> ServiceError {
    ServiceError::new(
        ErrorKind::Conflict,
        "policy-change-pending",
        format!("policy version {version} of tenant {tenant} awaits a decision: approve or reject it first"),
    )
}

fn decision_conflict(err: VaultError) -> ServiceError {
    match err {
        VaultError::Conflict(message) => ServiceError::new(ErrorKind::Conflict, "policy-change-decided", message),
        other => other.into(),
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
        // A tenant's first version is active at once, approved by whoever created the
        // tenant; later versions are proposed `pending` (the catalog clears these fields).
        state: PolicyVersionState::Active,
        created_at: now,
        created_by: actor.name(),
        approved_at: Some(now),
        approved_by: Some(actor.name()),
    }
}
