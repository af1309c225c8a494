//! The Authorizer: one per policy version, compiled once; `decide` answers one request.

use std::collections::HashSet;
use std::str::FromStr;

use cedar_policy::{
    ActionConstraint, Authorizer as CedarAuthorizer, Context, Entities, EntityUid, PolicyId, PolicySet, Request,
    ResourceConstraint, Schema, ValidationMode, Validator,
};
use policy::Policy;

use super::entities::{self, Types, is_grantee};
use super::generate::{GeneratedRule, generate};
use super::principals::PrincipalStores;
use super::request::{AccessGrant, AccessRequest, Decision, Target};
use super::schema::{AccessAction, schema};

/// Why a policy's rules could not be compiled. `field` is the policy file field the bad
/// rule comes from (`access.cedar`, `access.rules[2]`), so callers can point at its line.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AuthzError {
    #[error("{field}: {message}")]
    Rule { field: String, message: String },
    /// The engine's own schema or rule generation is broken (a bug, not a policy problem).
    #[error("authorization engine: {0}")]
    Engine(String),
}

/// The policy file field a rule id comes from: `access.rules[1].search` -> `access.rules[1]`.
fn field_of(id: &str) -> String {
    if id.starts_with("access.cedar") {
        return "access.cedar".into();
    }
    match id.find("].") {
        Some(end) if id.starts_with("access.rules[") => id[..=end].to_owned(),
        _ => id.to_owned(),
    }
}

/// The compiled rules of one policy version.
#[derive(Debug)]
pub struct Authorizer {
    schema: Schema,
    policies: PolicySet,
    /// `policies` cut down to those whose scope can match one action on one kind of target,
    /// indexed by [`slice`]: the same answers, fewer policies to evaluate per decision.
    slices: Vec<PolicySet>,
    types: Types,
    /// Whether any rule can look at a grant (otherwise grants are not evaluated).
    uses_grants: bool,
    /// Whether the policy's own Cedar looks at grants (then every grant is tried on its own).
    cedar_uses_grants: bool,
    /// The generated rules that need a grant (`access.rules[i]` with `requires_grant`).
    grant_rules: HashSet<String>,
    cedar: CedarAuthorizer,
    /// The entities of the people decided about recently (not those of `decide_checked`).
    principals: PrincipalStores,
}

impl Authorizer {
    /// Generates the Cedar rules of `policy`, adds its `[access] cedar` text, and validates
    /// them all against the schema (strict mode). Deny by default.
    pub fn new(policy: &Policy) -> Result<Authorizer, AuthzError> {
        let schema = schema().map_err(AuthzError::Engine)?;
        let mut policies = PolicySet::new();
        let generated = generate(policy);
        let parse = |id: &str, text: &str| {
            cedar_policy::Policy::parse(Some(PolicyId::new(id)), text)
                .map_err(|e| AuthzError::Engine(format!("generated rule {id} does not parse: {e}\n{text}")))
        };
        for rule in &generated {
            policies
                .add(parse(&rule.id, &rule.text)?)
                .map_err(|e| AuthzError::Engine(e.to_string()))?;
        }
        let grant_rules: HashSet<String> = policy
            .access
            .rules
            .iter()
            .enumerate()
            .filter(|(_, r)| r.requires_grant)
            .flat_map(|(i, _)| [format!("access.rules[{i}]"), format!("access.rules[{i}].search")])
            .collect();
        let mut cedar_uses_grants = false;
        if let Some(extra) = &policy.access.cedar {
            let rule_error = |message: String| AuthzError::Rule {
                field: "access.cedar".into(),
                message,
            };
            let parsed = PolicySet::from_str(extra).map_err(|e| rule_error(e.to_string()))?;
            if parsed.templates().next().is_some() {
                return Err(rule_error("templates (?principal, ?resource) are not supported".into()));
            }
            let mut in_order: Vec<&cedar_policy::Policy> = parsed.policies().collect();
            // Cedar names them policy0, policy1 ... in the order written.
            in_order.sort_by_key(|p| {
                let id = p.id().to_string();
                id.strip_prefix("policy")
                    .and_then(|n| n.parse::<usize>().ok())
                    .unwrap_or(usize::MAX)
            });
            for (i, extra_policy) in in_order.into_iter().enumerate() {
                let id = match extra_policy.annotation("id") {
                    Some(id) => id.to_owned(),
                    None => format!("access.cedar[{i}]"),
                };
                cedar_uses_grants |= extra_policy.to_string().contains("grant");
                policies
                    .add(extra_policy.new_id(PolicyId::new(&id)))
                    .map_err(|e| rule_error(format!("policy {id:?}: {e}")))?;
            }
        }
        let validation = Validator::new(schema.clone()).validate(&policies, ValidationMode::Strict);
        if let Some(error) = validation.validation_errors().next() {
            return Err(AuthzError::Rule {
                field: field_of(error.policy_id().as_ref()),
                message: format!("{error} (rule {})", error.policy_id()),
            });
        }
        let slices = slices(&policies, &generated).map_err(AuthzError::Engine)?;
        Ok(Authorizer {
            schema,
            policies,
            slices,
            types: Types::new().map_err(AuthzError::Engine)?,
            uses_grants: !grant_rules.is_empty() || cedar_uses_grants,
            cedar_uses_grants,
            grant_rules,
            cedar: CedarAuthorizer::new(),
            principals: PrincipalStores::default(),
        })
    }

    /// The compiled Cedar policies (generated ones and the policy's own).
    pub fn policy_set(&self) -> &PolicySet {
        &self.policies
    }

    /// May this be done? Every allow and deny is a Cedar evaluation; anything that goes
    /// wrong while building or evaluating the request is a denial.
    pub fn decide(&self, request: &AccessRequest<'_>) -> Decision {
        self.evaluate_one(request, false).unwrap_or_else(Authorizer::invalid)
    }

    /// Like `decide`, but also checks the request's entities and context against the Cedar
    /// schema (slower; `decide` builds them from typed facts, and the tests check every
    /// matrix cell through this).
    pub fn decide_checked(&self, request: &AccessRequest<'_>) -> Decision {
        self.evaluate_one(request, true).unwrap_or_else(Authorizer::invalid)
    }

    /// The decisions on `request` made about each of `targets` in turn (its own target
    /// is not used), as [`Authorizer::decide`] would give them one by one; the
    /// principal's and the grants' entities are built once for all of them.
    pub fn decide_each(&self, request: &AccessRequest<'_>, targets: &[Target<'_>]) -> Vec<Decision> {
        match self.evaluate(request, targets, false) {
            Ok(decisions) => decisions,
            // Something about one target (or two that cannot share a store): each alone.
            Err(_) if targets.len() > 1 => targets
                .iter()
                .map(|target| {
                    self.decide(&AccessRequest {
                        target: *target,
                        ..*request
                    })
                })
                .collect(),
            Err(error) => targets.iter().map(|_| Authorizer::invalid(error.clone())).collect(),
        }
    }

    fn invalid(error: String) -> Decision {
        Decision::new(false, vec!["request-invalid".into()], None, vec![error])
    }

    fn evaluate_one(&self, request: &AccessRequest<'_>, check: bool) -> Result<Decision, String> {
        let mut decisions = self.evaluate(request, std::slice::from_ref(&request.target), check)?;
        decisions.pop().ok_or_else(|| "no decision".to_owned())
    }

    fn evaluate(
        &self,
        request: &AccessRequest<'_>,
        targets: &[Target<'_>],
        check: bool,
    ) -> Result<Vec<Decision>, String> {
        for target in targets {
            let on_tenant = matches!(target, Target::Tenant(_));
            let fits = match request.action {
                AccessAction::Search => true,
                action if action.is_governed() => !on_tenant,
                _ => on_tenant,
            };
            if !fits {
                return Err(format!(
                    "action {} does not apply to a {}",
                    request.action.id(),
                    if on_tenant { "tenant" } else { "recording" }
                ));
            }
        }
        let schema = check.then_some(&self.schema);
        let grants: Vec<&AccessGrant> = if self.uses_grants {
            request
                .grants
                .iter()
                .filter(|g| is_grantee(request.principal, g))
                .collect()
        } else {
            Vec::new()
        };
        let training = entities::training_in_force(request.principal, request.now);
        let own = || entities::principal_entities(&self.types, request.principal, training, &grants);
        let theirs = entities::target_entities(&self.types, targets)?;
        let store = if check {
            // Everything built afresh and checked against the schema.
            let mut list = own()?;
            list.extend(theirs);
            Entities::from_entities(list, schema).map_err(|e| e.to_string())?
        } else {
            self.principals
                .get_or_build(request.principal, training, &grants, || {
                    Entities::from_entities(own()?, None).map_err(|e| e.to_string())
                })?
                .add_entities(theirs, None)
                .map_err(|e| e.to_string())?
        };
        let principal = self.types.user(&request.principal.id);
        let action = self.types.action(request.action.id());
        let mut tried = HashSet::new();
        let mut grants: Vec<&AccessGrant> = grants.into_iter().filter(|g| tried.insert(g.id.as_str())).collect();
        // The grant reaching furthest first: the one most likely to allow (an expired one
        // cannot), so a person holding an old and a new grant is decided in one evaluation.
        grants.sort_by_key(|g| std::cmp::Reverse(g.expires_at));
        // The context of an evaluation without a grant (0), then under grant i (i + 1),
        // each built when first needed and shared by the targets.
        let contexts: Vec<std::cell::OnceCell<Context>> =
            (0..=grants.len()).map(|_| std::cell::OnceCell::new()).collect();
        let context = |which: usize| -> Result<Context, String> {
            if let Some(built) = contexts[which].get() {
                return Ok(built.clone());
            }
            let grant = which.checked_sub(1).map(|i| grants[i]);
            let built = entities::context(&self.types, request, grant)?;
            Ok(contexts[which].get_or_init(|| built).clone())
        };
        let mut decisions = Vec::with_capacity(targets.len());
        for target in targets {
            let on_tenant = matches!(target, Target::Tenant(_));
            let resource = match target {
                Target::Recording(recording) => self.types.recording(&recording.id),
                Target::Tenant(tenant) => self.types.tenant(tenant),
            };
            let policies = &self.slices[slice(request.action, on_tenant)];
            let once = |which: usize| -> Result<Decision, String> {
                let grant = which.checked_sub(1).map(|i| grants[i]);
                let cedar_request = Request::new(
                    principal.clone(),
                    action.clone(),
                    resource.clone(),
                    context(which)?,
                    schema,
                )
                .map_err(|e| e.to_string())?;
                let response = self.cedar.is_authorized(&cedar_request, policies, &store);
                let reasons: Vec<String> = response.diagnostics().reason().map(ToString::to_string).collect();
                let errors: Vec<String> = response.diagnostics().errors().map(ToString::to_string).collect();
                let cedar_allowed = response.decision() == cedar_policy::Decision::Allow;
                if !errors.is_empty() {
                    // Fail closed: a rule that could not be evaluated may have been a forbid.
                    let reasons = if cedar_allowed || reasons.is_empty() {
                        vec!["evaluation-error".to_owned()]
                    } else {
                        reasons
                    };
                    return Ok(Decision::new(false, reasons, None, errors));
                }
                Ok(Decision::new(
                    cedar_allowed,
                    reasons,
                    grant.filter(|_| cedar_allowed).map(|g| g.id.clone()),
                    errors,
                ))
            };
            decisions.push(self.under_grants(grants.len(), once)?);
        }
        Ok(decisions)
    }

    /// One decision from evaluations without a grant (`once(0)`) and under grant `i`
    /// (`once(i + 1)`), in the order the rules need.
    fn under_grants(
        &self,
        grants: usize,
        once: impl Fn(usize) -> Result<Decision, String>,
    ) -> Result<Decision, String> {
        if grants == 0 || self.cedar_uses_grants {
            // Without grants, then under each grant in turn.
            let first = once(0)?;
            if first.is_allowed() {
                return Ok(first);
            }
            for which in 1..=grants {
                let with_grant = once(which)?;
                if with_grant.is_allowed() {
                    return Ok(with_grant);
                }
            }
            return Ok(first);
        }
        // The generated rules mention a grant only in permits, as one more condition: a request
        // allowed without a grant is allowed under any grant, so trying each grant suffices.
        let mut first_denial = None;
        for which in 1..=grants {
            let mut decision = once(which)?;
            if decision.is_allowed() {
                if !decision.reasons().iter().any(|r| self.grant_rules.contains(r)) {
                    decision.clear_grant();
                }
                return Ok(decision);
            }
            first_denial.get_or_insert(decision);
        }
        first_denial.ok_or_else(|| "no grant evaluated".to_owned())
    }
}

/// The index of the slice for `action` on a tenant (`true`) or a recording.
fn slice(action: AccessAction, on_tenant: bool) -> usize {
    let position = AccessAction::ALL.iter().position(|a| *a == action).unwrap_or(0);
    position * 2 + usize::from(on_tenant)
}

/// One policy set per (action, kind of target), holding every policy whose action and
/// resource scope can match it; a generated rule over several actions is held as its
/// one-action form (`GeneratedRule::for_action`). A policy left out could never be satisfied
/// by such a request, so each slice decides exactly as the whole set would.
fn slices(all: &PolicySet, generated: &[GeneratedRule]) -> Result<Vec<PolicySet>, String> {
    let mut out = Vec::with_capacity(AccessAction::ALL.len() * 2);
    for action in AccessAction::ALL {
        for on_tenant in [false, true] {
            let uid: EntityUid = format!("Callvault::Action::{:?}", action.id())
                .parse()
                .map_err(|e| format!("action uid: {e}"))?;
            let kind = if on_tenant {
                "Callvault::Tenant"
            } else {
                "Callvault::Recording"
            };
            let mut set = PolicySet::new();
            for policy in all.policies() {
                let id = policy.id().to_string();
                let narrowed = match generated.iter().find(|rule| rule.id == id) {
                    Some(rule) if rule.has_action_list() => match rule.for_action(action) {
                        Some(text) => cedar_policy::Policy::parse(Some(policy.id().clone()), &text)
                            .map_err(|e| format!("{id} for {}: {e}", action.id()))?,
                        None => continue,
                    },
                    _ => policy.clone(),
                };
                let action_fits = match narrowed.action_constraint() {
                    ActionConstraint::Any => true,
                    ActionConstraint::Eq(one) => one == uid,
                    ActionConstraint::In(list) => list.contains(&uid),
                };
                let resource_fits = match narrowed.resource_constraint() {
                    ResourceConstraint::Is(name) | ResourceConstraint::IsIn(name, _) => name.to_string() == kind,
                    ResourceConstraint::Any | ResourceConstraint::In(_) | ResourceConstraint::Eq(_) => true,
                };
                if action_fits && resource_fits {
                    set.add(narrowed).map_err(|e| e.to_string())?;
                }
            }
            out.push(set);
        }
    }
    Ok(out)
}
