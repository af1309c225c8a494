//! Reads of a tenant's governance records for its own people: its policy versions and
//! notice (every user of the tenant may read the rules they work under), and its part of
//! the audit log (Cedar `read-audit`: auditors, compliance, the grant issuer).

use chrono::{DateTime, Utc};
use governance::authz::AccessAction;
use governance::identity::Principal;
use governance::{AuditEvent, Outcome};
use vault::PolicyVersionRecord;

use crate::access::{Ask, decision_detail, denial};
use crate::{Service, ServiceError};

/// The answer of an audit-chain verification.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct AuditVerification {
    pub ok: bool,
    pub events: i64,
    /// The first bad event, when the chain is broken.
    pub fault: Option<String>,
}

impl Service {
    /// The policy versions of the person's own tenant.
    pub async fn tenant_policies(
        &self,
        principal: &Principal,
        now: DateTime<Utc>,
    ) -> Result<Vec<PolicyVersionRecord>, ServiceError> {
        self.audit(AuditEvent::new(now, &principal.actor(), "policy.list", Outcome::Allowed).tenant(&principal.tenant))
            .await?;
        Ok(self
            .policy_versions(&principal.tenant)
            .await?
            .into_iter()
            .map(|view| view.record)
            .collect())
    }

    /// One policy version of the person's own tenant, as a readable notice (Markdown).
    pub async fn render_tenant_policy(
        &self,
        principal: &Principal,
        version: i64,
        now: DateTime<Utc>,
    ) -> Result<String, ServiceError> {
        let record = self.policy_version(&principal.tenant, version).await?;
        let policy = Self::parse_stored_policy(&record)?;
        self.audit(
            AuditEvent::new(now, &principal.actor(), "policy.render", Outcome::Allowed)
                .tenant(&principal.tenant)
                .detail(serde_json::json!({"version": version})),
        )
        .await?;
        Ok(policy::render_notice(&policy))
    }

    async fn authorize_audit_read(
        &self,
        principal: &Principal,
        action: &str,
        now: DateTime<Utc>,
    ) -> Result<(), ServiceError> {
        let ask = Ask {
            action: AccessAction::ReadAudit,
            purpose: "",
            reason: "",
            workflow: None,
        };
        let decision = self.decide_on_tenant(principal, &principal.tenant, ask, now).await?;
        let event = AuditEvent::new(now, &principal.actor(), action, Outcome::Allowed).tenant(&principal.tenant);
        if !decision.is_allowed() {
            self.audit(event.denied(decision_detail(&decision))).await?;
            return Err(denial(&decision, ask));
        }
        self.audit(event.detail(decision_detail(&decision))).await
    }

    /// Verifies the whole audit chain (hashes and signed checkpoints) for an auditor.
    pub async fn verify_audit_for(
        &self,
        principal: &Principal,
        now: DateTime<Utc>,
    ) -> Result<AuditVerification, ServiceError> {
        self.authorize_audit_read(principal, "audit.verify", now).await?;
        let report = self.vault.catalog().audit().verify(None).await?;
        Ok(AuditVerification {
            ok: report.fault.is_none(),
            events: report.events,
            fault: report.fault.map(|f| f.to_string()),
        })
    }

    /// The audit events of the person's own tenant between `from` and `to`, in order.
    pub async fn export_audit_for(
        &self,
        principal: &Principal,
        from: Option<DateTime<Utc>>,
        to: Option<DateTime<Utc>>,
        now: DateTime<Utc>,
    ) -> Result<Vec<serde_json::Value>, ServiceError> {
        self.authorize_audit_read(principal, "audit.export", now).await?;
        let mut out = Vec::new();
        let tenant = principal.tenant.clone();
        self.vault
            .catalog()
            .audit()
            .for_each_event(from, to, |stored| -> Result<(), ServiceError> {
                if stored.event.tenant.as_deref() == Some(tenant.as_str()) {
                    let mut value = serde_json::to_value(&stored.event).unwrap_or_default();
                    value["seq"] = serde_json::json!(stored.seq);
                    value["hash"] = serde_json::json!(stored.hash);
                    out.push(value);
                }
                Ok(())
            })
            .await?;
        Ok(out)
    }
}
