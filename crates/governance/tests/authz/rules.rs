//! The engine's own rules, one behaviour at a time: hierarchy, grant scopes, training dates,
//! reasons in decisions, forbid rules over a policy's own Cedar, and rules rejected at load.

use chrono::TimeDelta;
use governance::authz::{
    AccessAction, AccessGrant, AccessRequest, Authorizer, AuthzError, DEFAULT_DENY, GrantScope, Grantee, Principal,
    RecordingFacts, Target, TrainingAttestation, Workflow, cedar_text, ids,
};

use crate::support::{HOME, REASON, authorizer, now, parse, policy_text};

fn trained() -> Vec<TrainingAttestation> {
    vec![TrainingAttestation {
        completed_at: now() - TimeDelta::days(10),
        expires_at: None,
    }]
}

fn person(id: &str, role: &str, manages: &[&str]) -> Principal {
    Principal {
        id: id.into(),
        tenant: HOME.into(),
        roles: vec![role.into()],
        teams: vec![],
        managed_teams: manages.iter().map(|t| t.to_string()).collect(),
        training: trained(),
    }
}

fn recording(agent: &str, team: &str, parents: &[&str]) -> RecordingFacts {
    RecordingFacts {
        id: format!("rec-{agent}-{team}"),
        tenant: HOME.into(),
        agent: Some(agent.into()),
        team: Some(team.into()),
        parent_teams: parents.iter().map(|t| t.to_string()).collect(),
        direction: Some(policy::Direction::Outbound),
    }
}

fn ask<'a>(
    principal: &'a Principal,
    action: AccessAction,
    recording: &'a RecordingFacts,
    purpose: &'a str,
    grants: &'a [AccessGrant],
) -> AccessRequest<'a> {
    AccessRequest {
        principal,
        action,
        target: Target::Recording(recording),
        purpose,
        reason: REASON,
        workflow: None,
        grants,
        now: now(),
    }
}

fn grant(scope: GrantScope, days: i64) -> AccessGrant {
    AccessGrant {
        id: format!("grant-{scope:?}-{days}"),
        tenant: HOME.into(),
        grantee: Grantee::User("lm".into()),
        scope,
        purpose: "quality".into(),
        issued_by: "officer".into(),
        issued_by_role: "security-officer".into(),
        expires_at: now() + TimeDelta::days(days),
    }
}

#[test]
fn posti_group_manager_hears_the_teams_under_their_group() {
    let posti = authorizer("posti");
    let manager = person("mgr", "team-manager", &["group-north"]);
    let below = recording("agent-1", "team-north-2", &["group-north"]);
    let elsewhere = recording("agent-2", "team-south-1", &["group-south"]);
    let allowed = posti.decide(&ask(&manager, AccessAction::Listen, &below, "verify-agreement", &[]));
    assert!(allowed.is_allowed(), "{:?}", allowed.reasons());
    assert_eq!(allowed.reasons(), ["access.rules[2]"]);
    let denied = posti.decide(&ask(
        &manager,
        AccessAction::Listen,
        &elsewhere,
        "verify-agreement",
        &[],
    ));
    assert!(!denied.is_allowed());
    assert_eq!(denied.reasons(), [DEFAULT_DENY]);
    assert_eq!(denied.code(), "no-rule-allowed");
}

#[test]
fn posti_training_attestation_dates_are_compared_with_now() {
    let posti = authorizer("posti");
    let own = recording("agent-1", "team-a", &[]);
    let mut agent = person("agent-1", "agent", &[]);
    let at = |agent: &Principal| posti.decide(&ask(agent, AccessAction::Listen, &own, "internal-training", &[]));
    assert!(at(&agent).is_allowed(), "an attestation without expiry stays in force");
    agent.training = vec![TrainingAttestation {
        completed_at: now() + TimeDelta::days(1),
        expires_at: None,
    }];
    let future = at(&agent);
    assert!(!future.is_allowed());
    assert_eq!(future.reasons(), [ids::TRAINING_REQUIRED]);
    agent.training = vec![
        TrainingAttestation {
            completed_at: now() - TimeDelta::days(800),
            expires_at: Some(now() - TimeDelta::days(400)),
        },
        TrainingAttestation {
            completed_at: now() - TimeDelta::days(100),
            expires_at: Some(now() + TimeDelta::seconds(1)),
        },
    ];
    assert!(
        at(&agent).is_allowed(),
        "the newer attestation is in force for one more second"
    );
    agent.training[1].expires_at = Some(now());
    assert_eq!(at(&agent).code(), ids::TRAINING_REQUIRED, "expiry is exclusive");
}

/// The Authorizer keeps a person's entities between requests; whatever changes about the
/// person (a grant expiring under the same id, a grant withdrawn, a role taken away, a
/// managed team handed over) is decided on the new facts, never on the kept ones.
#[test]
fn a_person_asking_again_is_decided_on_their_facts_of_now() {
    let arlo = authorizer("arlo-europe");
    let rec = recording("agent-1", "team-b", &[]);
    let mut manager = person("lm", "line-manager", &[]);
    let valid = [grant(GrantScope::Tenant, 5)];
    let mut lapsed = valid.clone();
    lapsed[0].expires_at = now() - TimeDelta::seconds(1);
    let decide = |who: &Principal, grants: &[AccessGrant]| {
        let request = ask(who, AccessAction::Listen, &rec, "quality", grants);
        let decision = arlo.decide(&request);
        assert_eq!(
            decision,
            arlo.decide_checked(&request),
            "kept entities answer as fresh ones"
        );
        decision.is_allowed()
    };
    assert!(decide(&manager, &valid));
    assert!(decide(&manager, &valid), "asked again");
    assert!(!decide(&manager, &lapsed), "the same grant, now expired");
    assert!(!decide(&manager, &[]), "the grant withdrawn");
    manager.roles = vec!["agent".into()];
    assert!(!decide(&manager, &valid), "no longer a line manager");
    manager.roles = vec!["line-manager".into()];
    assert!(decide(&manager, &valid), "the first facts again");

    let posti = authorizer("posti");
    let mut head = person("mgr", "team-manager", &["team-b"]);
    let listen = |who: &Principal| {
        let request = ask(who, AccessAction::Listen, &rec, "verify-agreement", &[]);
        let decision = posti.decide(&request);
        assert_eq!(decision, posti.decide_checked(&request));
        decision.is_allowed()
    };
    assert!(listen(&head));
    head.managed_teams = vec!["team-c".into()];
    assert!(!listen(&head), "the team handed over");
    head.managed_teams = vec!["team-b".into()];
    head.training.clear();
    assert!(!listen(&head), "no training attestation");
}

#[test]
fn arlo_grant_scopes_reach_a_team_or_one_recording() {
    let arlo = authorizer("arlo-europe");
    let manager = person("lm", "line-manager", &[]);
    let in_team_b = recording("agent-1", "team-b", &[]);
    let in_team_b_sub = recording("agent-3", "team-b-evening", &["team-b"]);
    let in_team_c = recording("agent-2", "team-c", &[]);
    let team_grant = [grant(GrantScope::Team("team-b".into()), 5)];
    let listen = |rec: &RecordingFacts, grants: &[AccessGrant]| {
        arlo.decide(&ask(&manager, AccessAction::Listen, rec, "quality", grants))
    };
    let allowed = listen(&in_team_b, &team_grant);
    assert!(allowed.is_allowed());
    assert_eq!(allowed.grant(), Some(team_grant[0].id.as_str()));
    assert!(
        listen(&in_team_b_sub, &team_grant).is_allowed(),
        "teams under the granted team"
    );
    assert!(!listen(&in_team_c, &team_grant).is_allowed());

    let one = [grant(GrantScope::Recording(in_team_c.id.clone()), 5)];
    assert!(listen(&in_team_c, &one).is_allowed());
    assert!(!listen(&in_team_b, &one).is_allowed());

    // The first grant that allows wins; expired ones and other tenants' are passed over.
    let mut foreign = grant(GrantScope::Tenant, 5);
    foreign.tenant = "tenant-b".into();
    foreign.id = "foreign".into();
    let several = [grant(GrantScope::Tenant, -3), foreign, grant(GrantScope::Tenant, 3)];
    let decision = listen(&in_team_c, &several);
    assert_eq!(decision.grant(), Some("grant-Tenant-3"));
    assert!(!listen(&in_team_c, &several[..2]).is_allowed());
}

#[test]
fn a_grant_for_download_does_not_widen_the_rule() {
    // Grants satisfy the rule's `requires_grant`; they never add actions the rule lacks.
    let arlo = authorizer("arlo-europe");
    let manager = person("lm", "line-manager", &[]);
    let rec = recording("agent-1", "team-b", &[]);
    let grants = [grant(GrantScope::Tenant, 5)];
    let decision = arlo.decide(&ask(&manager, AccessAction::Download, &rec, "quality", &grants));
    assert!(!decision.is_allowed());
}

#[test]
fn forbid_rules_win_over_a_policys_own_cedar() {
    let text = policy_text("csi-works").replacen(
        "[access]\n",
        "[access]\ncedar = '''\n@id(\"everything\")\npermit (principal, action, resource);\n'''\n",
        1,
    );
    let open = Authorizer::new(&parse("csi-works", &text)).expect("valid rules");
    let agent = person("agent-1", "agent", &[]);
    let own = recording("agent-1", "team-a", &[]);
    let allowed = open.decide(&ask(&agent, AccessAction::Download, &own, "quality-control", &[]));
    assert_eq!(allowed.reasons(), ["everything"]);
    let mut foreign = own.clone();
    foreign.tenant = "tenant-b".into();
    let other_tenant = open.decide(&ask(&agent, AccessAction::Download, &foreign, "quality-control", &[]));
    assert_eq!(other_tenant.reasons(), [ids::TENANT_ISOLATION]);
    let unlisted = open.decide(&ask(&agent, AccessAction::Download, &own, "marketing", &[]));
    assert_eq!(unlisted.reasons(), [ids::PURPOSE_NOT_IN_POLICY]);
    let mut no_reason = ask(&agent, AccessAction::Download, &own, "marketing", &[]);
    no_reason.reason = "";
    let both = open.decide(&no_reason);
    assert_eq!(both.reasons(), [ids::PURPOSE_NOT_IN_POLICY, ids::REASON_REQUIRED]);
}

#[test]
fn reserved_purposes_only_inside_their_workflow_and_only_for_its_handler() {
    let webeo = authorizer("webeo");
    let team = person("dct", "data-compliance-team", &[]);
    let rec = recording("agent-1", "team-a", &[]);
    let mut request = ask(&team, AccessAction::Export, &rec, "data-subject-request", &[]);
    assert_eq!(webeo.decide(&request).code(), ids::PURPOSE_NOT_IN_POLICY);
    request.workflow = Some(Workflow::DataSubjectRequest);
    assert_eq!(webeo.decide(&request).reasons(), [ids::DATA_SUBJECT_REQUEST]);
    request.workflow = Some(Workflow::LegalClaim);
    assert_eq!(
        webeo.decide(&request).code(),
        ids::PURPOSE_NOT_IN_POLICY,
        "the other workflow's purpose"
    );
    request.purpose = "legal-claim";
    assert_eq!(
        webeo.decide(&request).code(),
        "no-rule-allowed",
        "no policy rule opens legal claims yet"
    );
}

#[test]
fn an_action_on_the_wrong_kind_of_target_is_denied() {
    let posti = authorizer("posti");
    let admin = person("admin", "administrator", &[]);
    let rec = recording("agent-1", "team-a", &[]);
    let decision = posti.decide(&ask(&admin, AccessAction::ManageUsers, &rec, "", &[]));
    assert!(!decision.is_allowed());
    assert_eq!(decision.reasons(), ["request-invalid"]);
    assert!(!decision.errors().is_empty());
}

#[test]
fn policy_cedar_that_does_not_parse_or_type_check_is_refused_at_load() {
    for (cedar, expected) in [
        ("permit (principal, action, resource) when { ", "access.cedar"),
        (
            "permit (principal, action == Callvault::Action::\"listen\", resource) when { resource.colour == \"red\" };",
            "access.cedar",
        ),
        (
            "permit (principal in Callvault::Robot::\"r2\", action, resource);",
            "access.cedar",
        ),
        (
            "permit (principal, action == Callvault::Action::\"fly\", resource);",
            "access.cedar",
        ),
        ("permit (principal == ?principal, action, resource);", "access.cedar"),
    ] {
        let text = policy_text("posti").replacen("[access]\n", &format!("[access]\ncedar = '''\n{cedar}\n'''\n"), 1);
        match Authorizer::new(&parse("posti", &text)) {
            Err(AuthzError::Rule { field, message }) => assert_eq!(field, expected, "{cedar}: {message}"),
            other => panic!("{cedar}: expected a rule error, got {other:?}"),
        }
    }
}

#[test]
fn cedar_policies_without_an_id_are_named_by_position() {
    let text = policy_text("posti").replacen(
        "[access]\n",
        "[access]\ncedar = '''\nforbid (principal, action, resource) when { context.purpose == \"internal-training\" };\n\
         permit (principal in Callvault::Role::\"auditor\", action == Callvault::Action::\"read-audit\", resource);\n'''\n",
        1,
    );
    let posti = Authorizer::new(&parse("posti", &text)).expect("valid");
    let agent = person("agent-1", "agent", &[]);
    let own = recording("agent-1", "team-a", &[]);
    let decision = posti.decide(&ask(&agent, AccessAction::Listen, &own, "internal-training", &[]));
    assert_eq!(decision.reasons(), ["access.cedar[0]"]);
}

#[test]
fn generated_cedar_names_each_rule_after_its_policy_field() {
    let text = cedar_text(&parse("posti", &policy_text("posti")));
    for id in [
        "access.rules[0]",
        "access.rules[1]",
        "access.rules[2]",
        "access.rules[2].search",
        ids::TRAINING_REQUIRED,
        ids::TENANT_ISOLATION,
        ids::DATA_SUBJECT_REQUEST,
    ] {
        assert!(text.contains(&format!("@id(\"{id}\")")), "{id} missing from:\n{text}");
    }
    let posti = authorizer("posti");
    // 5 forbid rules, 3 access rules (+3 for their search of the register), the data-subject
    // request workflow, 8 administrative permits (users, list users, list grants, issue grants,
    // policy, approval, audit, requests).
    assert_eq!(posti.policy_set().policies().count(), 20);
}

#[test]
fn an_authorizer_can_be_shared_between_threads() {
    fn shared<T: Send + Sync>(_: &T) {}
    shared(&authorizer("webeo"));
}
