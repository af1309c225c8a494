//! Builds the Cedar entities and context of a request from the plain facts: the
//! principal's own (person, roles holding grants, grants) apart from the targets' (the
//! recordings and their teams), so that the first can be kept between requests.
//!
//! Relationship facts are laid out as Cedar hierarchy (user in role, team in team, grantee in
//! grant) and attributes; every comparison with the time happens in the Cedar rules.

use std::collections::{HashMap, HashSet};

use cedar_policy::{Context, Entity, EntityId, EntityTypeName, EntityUid, RestrictedExpression};
use chrono::{DateTime, Utc};

use super::request::{AccessGrant, AccessRequest, GrantScope, Grantee, Principal, Target, TrainingAttestation};

/// Entity type names, parsed once per Authorizer.
#[derive(Debug, Clone)]
pub(crate) struct Types {
    user: EntityTypeName,
    role: EntityTypeName,
    team: EntityTypeName,
    tenant: EntityTypeName,
    recording: EntityTypeName,
    grant: EntityTypeName,
    action: EntityTypeName,
}

fn type_name(name: &str) -> Result<EntityTypeName, String> {
    name.parse().map_err(|e| format!("entity type {name}: {e}"))
}

impl Types {
    pub(crate) fn new() -> Result<Types, String> {
        Ok(Types {
            user: type_name("Callvault::User")?,
            role: type_name("Callvault::Role")?,
            team: type_name("Callvault::Team")?,
            tenant: type_name("Callvault::Tenant")?,
            recording: type_name("Callvault::Recording")?,
            grant: type_name("Callvault::Grant")?,
            action: type_name("Callvault::Action")?,
        })
    }

    fn uid(kind: &EntityTypeName, id: &str) -> EntityUid {
        EntityUid::from_type_name_and_id(kind.clone(), EntityId::new(id))
    }
    pub(crate) fn user(&self, id: &str) -> EntityUid {
        Types::uid(&self.user, id)
    }
    fn role(&self, id: &str) -> EntityUid {
        Types::uid(&self.role, id)
    }
    fn team(&self, id: &str) -> EntityUid {
        Types::uid(&self.team, id)
    }
    pub(crate) fn tenant(&self, id: &str) -> EntityUid {
        Types::uid(&self.tenant, id)
    }
    pub(crate) fn recording(&self, id: &str) -> EntityUid {
        Types::uid(&self.recording, id)
    }
    fn grant(&self, id: &str) -> EntityUid {
        Types::uid(&self.grant, id)
    }
    pub(crate) fn action(&self, id: &str) -> EntityUid {
        Types::uid(&self.action, id)
    }
}

fn entity_ref(uid: EntityUid) -> RestrictedExpression {
    RestrictedExpression::new_entity_uid(uid)
}

fn long(value: i64) -> RestrictedExpression {
    RestrictedExpression::new_long(value)
}

fn string(value: &str) -> RestrictedExpression {
    RestrictedExpression::new_string(value.to_owned())
}

fn make(uid: EntityUid, attrs: Vec<(String, RestrictedExpression)>, parents: Vec<EntityUid>) -> Result<Entity, String> {
    Entity::new_with_tags(uid, attrs, parents, []).map_err(|e| e.to_string())
}

/// Whether `grant` is made to this principal (directly or through one of their roles).
pub(crate) fn is_grantee(principal: &Principal, grant: &AccessGrant) -> bool {
    grant.tenant == principal.tenant
        && match &grant.grantee {
            Grantee::User(id) => *id == principal.id,
            Grantee::Role(role) => principal.roles.iter().any(|r| r == role),
        }
}

/// The attestation in force at `now`: completed by then, reaching furthest (no expiry
/// reaches furthest).
pub(crate) fn training_in_force(principal: &Principal, now: DateTime<Utc>) -> Option<&TrainingAttestation> {
    principal
        .training
        .iter()
        .filter(|a| a.completed_at <= now)
        .max_by_key(|a| (a.expires_at.is_none(), a.expires_at))
}

/// The principal's own entities: the person (roles, teams and personal grants as parents,
/// `training` the attestation in force), the roles that grants are made to, and the
/// grants. `grants` are the principal's candidate grants. They depend on nothing else in
/// a request, so one set serves every request of the same person holding the same grants.
pub(crate) fn principal_entities(
    types: &Types,
    principal: &Principal,
    training: Option<&TrainingAttestation>,
    grants: &[&AccessGrant],
) -> Result<Vec<Entity>, String> {
    let mut out = Vec::with_capacity(2 + grants.len());
    let mut seen: HashSet<EntityUid> = HashSet::new();

    let mut parents: Vec<EntityUid> = principal.roles.iter().map(|r| types.role(r)).collect();
    parents.extend(principal.teams.iter().map(|t| types.team(t)));
    for grant in grants {
        if matches!(&grant.grantee, Grantee::User(id) if *id == principal.id) {
            parents.push(types.grant(&grant.id));
        }
    }
    let managed: Vec<RestrictedExpression> = principal
        .managed_teams
        .iter()
        .map(|t| entity_ref(types.team(t)))
        .collect();
    let mut attrs = vec![
        ("tenant".to_owned(), entity_ref(types.tenant(&principal.tenant))),
        ("managed_teams".to_owned(), RestrictedExpression::new_set(managed)),
    ];
    if let Some(attestation) = training {
        attrs.push(("trained_at".into(), long(attestation.completed_at.timestamp())));
        if let Some(expires) = attestation.expires_at {
            attrs.push(("training_expires_at".into(), long(expires.timestamp())));
        }
    }
    let principal_uid = types.user(&principal.id);
    seen.insert(principal_uid.clone());
    out.push(make(principal_uid, attrs, parents)?);

    // Roles that grants are made to.
    for role in &principal.roles {
        let role_grants: Vec<EntityUid> = grants
            .iter()
            .filter(|g| matches!(&g.grantee, Grantee::Role(r) if r == role))
            .map(|g| types.grant(&g.id))
            .collect();
        if !role_grants.is_empty() && seen.insert(types.role(role)) {
            out.push(make(types.role(role), vec![], role_grants)?);
        }
    }

    for grant in grants {
        let mut attrs = vec![
            ("tenant".to_owned(), entity_ref(types.tenant(&grant.tenant))),
            ("purpose".to_owned(), string(&grant.purpose)),
            ("expires_at".to_owned(), long(grant.expires_at.timestamp())),
            ("issued_by".to_owned(), entity_ref(types.user(&grant.issued_by))),
            (
                "issued_by_role".to_owned(),
                entity_ref(types.role(&grant.issued_by_role)),
            ),
        ];
        match &grant.scope {
            GrantScope::Tenant => {}
            GrantScope::Team(team) => attrs.push(("team".into(), entity_ref(types.team(team)))),
            GrantScope::Agent(user) => attrs.push(("agent".into(), entity_ref(types.user(user)))),
            GrantScope::Recording(id) => attrs.push(("recording".into(), entity_ref(types.recording(id)))),
        }
        let uid = types.grant(&grant.id);
        if seen.insert(uid.clone()) {
            out.push(make(uid, attrs, vec![])?);
        }
    }
    Ok(out)
}

/// The entities of `targets`: each recording and the chain of teams above its team.
/// Two targets placing one team under different parents cannot share a store: an error
/// (decide them one by one).
pub(crate) fn target_entities(types: &Types, targets: &[Target<'_>]) -> Result<Vec<Entity>, String> {
    let mut out = Vec::with_capacity(targets.len());
    let mut seen: HashSet<EntityUid> = HashSet::new();
    // Tenants, the agent and the issuer are compared by identity only: no entities for them
    // (kept small: this runs on every decision).
    let mut team_parents: HashMap<EntityUid, EntityUid> = HashMap::new();
    for target in targets {
        let Target::Recording(recording) = target else { continue };
        let mut attrs = vec![
            ("tenant".to_owned(), entity_ref(types.tenant(&recording.tenant))),
            (
                "direction".to_owned(),
                string(recording.direction.map_or("unknown", policy::direction_word)),
            ),
        ];
        if let Some(agent) = &recording.agent {
            attrs.push(("agent".into(), entity_ref(types.user(agent))));
        }
        if let Some(team) = &recording.team {
            attrs.push(("team".into(), entity_ref(types.team(team))));
            // The team chain: team in parent_teams[0] in parent_teams[1] ... (a team with
            // nothing above it needs no entity: `in` is reflexive).
            let chain: Vec<&String> = std::iter::once(team).chain(&recording.parent_teams).collect();
            for (i, member) in chain.iter().enumerate() {
                let Some(parent) = chain.get(i + 1) else { break };
                let (uid, parent) = (types.team(member), types.team(parent));
                match team_parents.get(&uid) {
                    Some(known) if *known == parent => {}
                    Some(_) => return Err(format!("team {member} has two parents in one request")),
                    None => {
                        team_parents.insert(uid.clone(), parent.clone());
                        out.push(make(uid, vec![], vec![parent])?);
                    }
                }
            }
        }
        let uid = types.recording(&recording.id);
        if seen.insert(uid.clone()) {
            out.push(make(uid, attrs, vec![])?);
        }
    }
    Ok(out)
}

/// The request context; `grant` is the grant this evaluation is made under, if any.
pub(crate) fn context(
    types: &Types,
    request: &AccessRequest<'_>,
    grant: Option<&AccessGrant>,
) -> Result<Context, String> {
    let mut pairs = vec![
        ("purpose".to_owned(), string(request.purpose.trim())),
        ("reason".to_owned(), string(request.reason.trim())),
        ("now".to_owned(), long(request.now.timestamp())),
    ];
    if let Some(workflow) = request.workflow {
        pairs.push(("workflow".into(), string(workflow.id())));
    }
    if let Some(grant) = grant {
        pairs.push(("grant".into(), entity_ref(types.grant(&grant.id))));
    }
    Context::from_pairs(pairs).map_err(|e| e.to_string())
}
