//! Who may do what to a recording: every allow and deny is a Cedar evaluation of the
//! policy version the recording was made under (ALL-VERSION), over the facts of the
//! person asking (roles, team, managed teams, training, grants) and of the recording
//! (tenant, agent as a user, the agent's team). Deny by default: only an authenticated
//! person reads a recording.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use chrono::{DateTime, Utc};
use governance::authz::{self, AccessAction, Authorizer, Decision, RecordingFacts, Target, Workflow};
use governance::identity::{self, Principal};
use governance::{Actor, AuditEvent, Outcome};
use vault::{AgentUser, AgentsByTenant, RecordingRecord};

use crate::{ErrorKind, Service, ServiceError};

/// One stored policy version, compiled: its Cedar rules and the role that issues grants.
#[derive(Debug)]
pub(crate) struct Compiled {
    pub(crate) authorizer: Authorizer,
    pub(crate) grant_issuer: Option<String>,
}

/// Compiled policy versions by (tenant, version): a version never changes once stored.
#[derive(Clone, Default)]
pub(crate) struct AuthorizerCache(Arc<Mutex<CompiledByVersion>>);

/// (tenant, policy version) -> compiled rules.
type CompiledByVersion = HashMap<(String, i64), Arc<Compiled>>;

impl std::fmt::Debug for AuthorizerCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("AuthorizerCache")
    }
}

/// Ids are unique across tenants: `TENANT/NAME`.
fn qualified(tenant: &str, name: &str) -> String {
    format!("{tenant}/{name}")
}

/// The person as the Cedar rules see them.
pub(crate) fn authz_principal(p: &Principal) -> authz::Principal {
    authz::Principal {
        id: qualified(&p.tenant, &p.user),
        tenant: p.tenant.clone(),
        roles: p.roles.clone(),
        teams: p.team.iter().map(|t| qualified(&p.tenant, t)).collect(),
        managed_teams: p.managed_teams.iter().map(|t| qualified(&p.tenant, t)).collect(),
        training: p
            .attestations
            .iter()
            .map(|a| authz::TrainingAttestation {
                completed_at: a
                    .completed_on
                    .and_hms_opt(0, 0, 0)
                    .map_or(a.recorded_at, |t| t.and_utc()),
                expires_at: None,
            })
            .collect(),
    }
}

/// The person's grants as the Cedar rules see them. A grant was checked against the
/// policy's issuer role when it was issued (`check_new_grant`), so it carries that role.
pub(crate) fn authz_grants(p: &Principal, issuer_role: Option<&str>) -> Vec<authz::AccessGrant> {
    p.grants
        .iter()
        .filter(|g| g.revoked_at.is_none())
        .map(|g| authz::AccessGrant {
            id: g.id.to_string(),
            tenant: g.tenant.clone(),
            grantee: match &g.grantee {
                identity::Grantee::User(name) => authz::Grantee::User(qualified(&g.tenant, name)),
                identity::Grantee::Role(role) => authz::Grantee::Role(role.clone()),
            },
            scope: match &g.scope {
                identity::GrantScope::Tenant => authz::GrantScope::Tenant,
                identity::GrantScope::Team(team) => authz::GrantScope::Team(qualified(&g.tenant, team)),
                identity::GrantScope::Agent(user) => authz::GrantScope::Agent(qualified(&g.tenant, user)),
            },
            purpose: g.purpose.clone(),
            issued_by: qualified(&g.tenant, &g.issued_by),
            issued_by_role: issuer_role.unwrap_or_default().to_owned(),
            expires_at: g.expires_at,
        })
        .collect()
}

/// One policy version's compiled rules and the person's grants as they see them.
type VersionRules = (Arc<Compiled>, Vec<authz::AccessGrant>);

/// What decides a search hit besides its id: hits equal in all of it share one decision.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct DecisionKey {
    tenant: String,
    version: i64,
    agent: Option<String>,
    team: Option<String>,
    direction: String,
}

/// The recording as the rules see it, given the user its agent is: the team is the one
/// that user was in when the call started (team history), not the one they are in now.
fn facts_of(r: &RecordingRecord, mapped: Option<&AgentUser>) -> RecordingFacts {
    let mut facts = RecordingFacts {
        id: r.id.to_string(),
        tenant: r.tenant.clone(),
        agent: None,
        team: None,
        parent_teams: vec![],
        direction: match r.direction.as_str() {
            "inbound" => Some(policy::Direction::Inbound),
            "outbound" => Some(policy::Direction::Outbound),
            _ => None,
        },
    };
    if let Some(user) = mapped {
        facts.agent = Some(qualified(&r.tenant, &user.name));
        facts.team = user.team_at(r.started_at).map(|t| qualified(&r.tenant, t));
    }
    facts
}

/// What a person asks to do with one recording (or a tenant's register).
#[derive(Debug, Clone, Copy)]
pub struct Ask<'a> {
    pub action: AccessAction,
    pub purpose: &'a str,
    pub reason: &'a str,
    /// Set only by the code of a workflow (data-subject requests, legal claims).
    pub workflow: Option<Workflow>,
}

impl Service {
    /// The compiled rules of one stored policy version (parsed once per process).
    pub(crate) async fn compiled(&self, tenant: &str, version: i64) -> Result<Arc<Compiled>, ServiceError> {
        let key = (tenant.to_owned(), version);
        if let Some(found) = self.authorizers.0.lock().expect("authorizer cache").get(&key) {
            return Ok(found.clone());
        }
        let policy = Self::parse_stored_policy(&self.policy_version(tenant, version).await?)?;
        let authorizer = Authorizer::new(&policy).map_err(|err| {
            ServiceError::new(
                ErrorKind::Internal,
                "policy-rules-invalid",
                format!("tenant {tenant} policy version {version}: {err}"),
            )
        })?;
        let compiled = Arc::new(Compiled {
            authorizer,
            grant_issuer: policy.access.grants_issued_by.clone(),
        });
        self.authorizers
            .0
            .lock()
            .expect("authorizer cache")
            .insert(key, compiled.clone());
        Ok(compiled)
    }

    /// The decisions on many recordings for one ask, in order: the agents of all of them
    /// mapped to users in one query per tenant, then [`Service::decide_with_agents`].
    pub(crate) async fn decide_on_records(
        &self,
        principal: &Principal,
        records: &[&RecordingRecord],
        ask: Ask<'_>,
        now: DateTime<Utc>,
    ) -> Result<Vec<Decision>, ServiceError> {
        let mut agents: HashMap<&str, Vec<&str>> = HashMap::new();
        for r in records {
            if let Some(agent) = r.agent.as_deref().filter(|a| !a.trim().is_empty()) {
                let list = agents.entry(r.tenant.as_str()).or_default();
                if !list.contains(&agent) {
                    list.push(agent);
                }
            }
        }
        let mut mapped: AgentsByTenant = HashMap::new();
        for (tenant, list) in &agents {
            mapped.insert(
                (*tenant).to_owned(),
                self.vault.catalog().agent_users(tenant, list).await?,
            );
        }
        self.decide_with_agents(principal, records, &mapped, ask, now).await
    }

    /// The decisions on many recordings whose agents are already mapped to users (by
    /// tenant and agent; a search reads them with the page): the person's facts built
    /// once, recordings whose facts differ only by id answered once, and the rest of
    /// one policy version decided together over one Cedar entity store.
    pub(crate) async fn decide_with_agents(
        &self,
        principal: &Principal,
        records: &[&RecordingRecord],
        mapped: &AgentsByTenant,
        ask: Ask<'_>,
        now: DateTime<Utc>,
    ) -> Result<Vec<Decision>, ServiceError> {
        let who = authz_principal(principal);
        let mut rules: HashMap<(&str, i64), VersionRules> = HashMap::new();
        // Each recording's facts and, when its id does not matter, the key it shares.
        let mut items: Vec<(RecordingFacts, Option<DecisionKey>)> = Vec::with_capacity(records.len());
        // Per policy version, the recordings to evaluate (first of each key, and every
        // one whose id matters).
        let mut pending: HashMap<(&str, i64), Vec<usize>> = HashMap::new();
        let mut first_of_key: HashMap<DecisionKey, usize> = HashMap::new();
        for (i, r) in records.iter().enumerate() {
            let key = (r.tenant.as_str(), r.policy_version);
            if let std::collections::hash_map::Entry::Vacant(slot) = rules.entry(key) {
                let compiled = self.compiled(&r.tenant, r.policy_version).await?;
                let grants = authz_grants(principal, compiled.grant_issuer.as_deref());
                slot.insert((compiled, grants));
            }
            let (_, grants) = &rules[&key];
            let agent = r.agent.as_deref().unwrap_or_default();
            let user = mapped.get(r.tenant.as_str()).and_then(|m| m.get(agent));
            let facts = facts_of(r, user);
            // A grant for one recording makes the id matter: then nothing is shared.
            let shareable = !grants
                .iter()
                .any(|g| matches!(g.scope, authz::GrantScope::Recording(_)));
            let memo_key = shareable.then(|| DecisionKey {
                tenant: facts.tenant.clone(),
                version: r.policy_version,
                agent: facts.agent.clone(),
                team: facts.team.clone(),
                direction: r.direction.clone(),
            });
            let evaluate = match &memo_key {
                Some(k) => match first_of_key.entry(k.clone()) {
                    std::collections::hash_map::Entry::Vacant(slot) => {
                        slot.insert(i);
                        true
                    }
                    std::collections::hash_map::Entry::Occupied(_) => false,
                },
                None => true,
            };
            if evaluate {
                pending.entry(key).or_default().push(i);
            }
            items.push((facts, memo_key));
        }
        let mut decided: Vec<Option<Decision>> = vec![None; records.len()];
        for (key, indices) in &pending {
            let (compiled, grants) = &rules[key];
            let targets: Vec<Target<'_>> = indices.iter().map(|&i| Target::Recording(&items[i].0)).collect();
            let request = authz::AccessRequest {
                principal: &who,
                action: ask.action,
                target: targets[0],
                purpose: ask.purpose,
                reason: ask.reason,
                workflow: ask.workflow,
                grants,
                now,
            };
            for (&i, decision) in indices.iter().zip(compiled.authorizer.decide_each(&request, &targets)) {
                decided[i] = Some(decision);
            }
        }
        items
            .iter()
            .enumerate()
            .map(|(i, (_, memo_key))| {
                let from = memo_key.as_ref().map_or(i, |k| first_of_key[k]);
                decided[from].clone().ok_or_else(|| {
                    ServiceError::new(
                        ErrorKind::Internal,
                        "internal",
                        "a recording of the page was not decided",
                    )
                })
            })
            .collect()
    }

    /// The person behind `actor`; anyone else is refused (deny by default) and audited.
    pub(crate) async fn reader<'a>(
        &self,
        actor: &'a Actor,
        audit_action: &str,
        now: DateTime<Utc>,
    ) -> Result<&'a Principal, ServiceError> {
        match actor.principal() {
            Some(principal) => Ok(principal),
            None => {
                self.audit(
                    AuditEvent::new(now, &actor.name(), audit_action, Outcome::Denied)
                        .detail(serde_json::json!({"code": "auth-required"})),
                )
                .await?;
                Err(ServiceError::new(
                    ErrorKind::Unauthenticated,
                    "auth-required",
                    "reading recordings needs a person: add --as USER (or a bearer token over HTTP)",
                ))
            }
        }
    }

    /// The Cedar decision on one recording, under the policy version it was made under.
    pub(crate) async fn decide_on_recording(
        &self,
        principal: &Principal,
        record: &RecordingRecord,
        ask: Ask<'_>,
        now: DateTime<Utc>,
    ) -> Result<Decision, ServiceError> {
        let mut decisions = self.decide_on_records(principal, &[record], ask, now).await?;
        Ok(decisions.pop().expect("one decision per record"))
    }

    /// The Cedar decision on a tenant (a search of its register, an administrative
    /// action), under the tenant's active policy.
    pub(crate) async fn decide_on_tenant(
        &self,
        principal: &Principal,
        tenant: &str,
        ask: Ask<'_>,
        now: DateTime<Utc>,
    ) -> Result<Decision, ServiceError> {
        let version = self.vault.catalog().active_policy_version(tenant).await?;
        self.decide_on_tenant_version(principal, tenant, version, ask, now)
            .await
    }

    /// [`Service::decide_on_tenant`] with the active version already read.
    pub(crate) async fn decide_on_tenant_version(
        &self,
        principal: &Principal,
        tenant: &str,
        version: i64,
        ask: Ask<'_>,
        now: DateTime<Utc>,
    ) -> Result<Decision, ServiceError> {
        let compiled = self.compiled(tenant, version).await?;
        let grants = authz_grants(principal, compiled.grant_issuer.as_deref());
        let who = authz_principal(principal);
        Ok(compiled.authorizer.decide(&authz::AccessRequest {
            principal: &who,
            action: ask.action,
            target: Target::Tenant(tenant),
            purpose: ask.purpose,
            reason: ask.reason,
            workflow: ask.workflow,
            grants: &grants,
            now,
        }))
    }

    /// Authorizes `ask` on one recording for `actor`, auditing a denial with its decision
    /// code and rules. Another tenant's recording answers exactly like one that does not
    /// exist. Returns the person and the decision (for the allowed event's detail).
    pub(crate) async fn authorize_recording<'a>(
        &self,
        actor: &'a Actor,
        record: &RecordingRecord,
        ask: Ask<'_>,
        audit_action: &str,
        now: DateTime<Utc>,
    ) -> Result<(&'a Principal, Decision), ServiceError> {
        let principal = self.reader(actor, audit_action, now).await?;
        let decision = self.decide_on_recording(principal, record, ask, now).await?;
        if decision.is_allowed() {
            return Ok((principal, decision));
        }
        let foreign = record.tenant != principal.tenant;
        self.audit(
            AuditEvent::new(now, &principal.actor(), audit_action, Outcome::Denied)
                .tenant(&principal.tenant)
                .recording(record.id)
                .purpose(ask.purpose, ask.reason)
                .detail(decision_detail(&decision)),
        )
        .await?;
        if foreign {
            return Err(ServiceError::new(
                ErrorKind::NotFound,
                "not-found",
                "recording not found",
            ));
        }
        Err(denial(&decision, ask))
    }
}

/// The audit detail of a decision: its code, the rules it came from, the grant used.
pub(crate) fn decision_detail(decision: &Decision) -> serde_json::Value {
    serde_json::json!({
        "code": decision.code(),
        "rules": decision.reasons(),
        "grant": decision.grant(),
    })
}

/// The error a denial answers with: the decision's code, and a message naming the rule.
pub(crate) fn denial(decision: &Decision, ask: Ask<'_>) -> ServiceError {
    let code = match decision.code() {
        "no-rule-allowed" => "access-denied".to_owned(),
        // A reserved purpose named outside its workflow (ALL-PURPOSE) says so.
        "purpose-not-in-policy" if ask.workflow.is_none() && policy::RESERVED_PURPOSES.contains(&ask.purpose) => {
            "purpose-reserved".to_owned()
        }
        other => other.to_owned(),
    };
    let mut err = ServiceError::new(
        ErrorKind::Forbidden,
        &code,
        format!(
            "{} denied by the recording's policy ({})",
            ask.action.id(),
            decision.reasons().join(", ")
        ),
    );
    err.rule = decision.reasons().first().cloned();
    err
}
