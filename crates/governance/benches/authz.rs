//! Authorization decision latency: `cargo bench -p governance --bench authz`.
//!
//! Builds the Authorizer from the real `policies/posti.toml` (training required) and
//! `policies/arlo-europe.toml` (grants), times a mix of allowed and denied decisions one by
//! one, and in the same run the trivial baseline `governance::authorize_read` (reason and
//! purpose checks only) over the same requests; then the same requests made by people the
//! Authorizer has not seen before (their entities built, not found kept). Prints
//! p50/p99/p99.9 and the ratio.

use std::hint::black_box;
use std::time::{Duration, Instant};

use chrono::{DateTime, TimeDelta, Utc};
use governance::authz::{
    AccessAction, AccessGrant, AccessRequest, Authorizer, GrantScope, Grantee, Principal, RecordingFacts, Target,
    TrainingAttestation,
};
use governance::{Actor, ReadRequest, authorize_read};

/// The allocator the `callvault` binary runs with (`crates/callvault/src/main.rs`).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

const ROUNDS: usize = 100_000;
const REPEATS: usize = 3;

fn load(id: &str) -> policy::Policy {
    // CALLVAULT_POLICIES: where policies/ is when the binary runs away from its source tree.
    let dir = std::env::var("CALLVAULT_POLICIES")
        .unwrap_or_else(|_| format!("{}/../../policies", env!("CARGO_MANIFEST_DIR")));
    let path = format!("{dir}/{id}.toml");
    let text = std::fs::read_to_string(&path).expect("policy file");
    policy::parse_policy(&path, &text).expect("valid policy")
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let index = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[index.min(sorted.len() - 1)]
}

fn report(name: &str, mut samples: Vec<Duration>) -> Duration {
    samples.sort();
    let p50 = percentile(&samples, 0.50);
    let p99 = percentile(&samples, 0.99);
    let p999 = percentile(&samples, 0.999);
    let mean = samples.iter().sum::<Duration>() / samples.len() as u32;
    println!(
        "{name:<40} n={} mean={:>7.2} us p50={:>7.2} us p99={:>7.2} us p99.9={:>7.2} us",
        samples.len(),
        mean.as_secs_f64() * 1e6,
        p50.as_secs_f64() * 1e6,
        p99.as_secs_f64() * 1e6,
        p999.as_secs_f64() * 1e6,
    );
    p99
}

struct Case {
    principal: Principal,
    recording: RecordingFacts,
    action: AccessAction,
    purpose: &'static str,
    grants: Vec<AccessGrant>,
}

fn cases(now: DateTime<Utc>, arlo: bool) -> Vec<Case> {
    let training = vec![TrainingAttestation {
        completed_at: now - TimeDelta::days(30),
        expires_at: Some(now + TimeDelta::days(300)),
    }];
    let person = |id: &str, role: &str, manages: bool| Principal {
        id: id.into(),
        tenant: "tenant-a".into(),
        roles: vec![role.into()],
        teams: vec!["team-a".into()],
        managed_teams: if manages { vec!["team-a".into()] } else { vec![] },
        training: training.clone(),
    };
    let recording = |agent: &str, team: &str, tenant: &str| RecordingFacts {
        id: format!("rec-{agent}-{team}"),
        tenant: tenant.into(),
        agent: Some(agent.into()),
        team: Some(team.into()),
        parent_teams: vec![],
        direction: Some(policy::Direction::Inbound),
    };
    let grant = |grantee: &str, days: i64| AccessGrant {
        id: format!("grant-{grantee}-{days}"),
        tenant: "tenant-a".into(),
        grantee: Grantee::User(grantee.into()),
        scope: GrantScope::Tenant,
        purpose: "quality".into(),
        issued_by: "officer".into(),
        issued_by_role: "security-officer".into(),
        expires_at: now + TimeDelta::days(days),
    };
    if arlo {
        return vec![
            Case {
                principal: person("lm1", "line-manager", false),
                recording: recording("a1", "team-b", "tenant-a"),
                action: AccessAction::Listen,
                purpose: "quality",
                grants: vec![grant("lm1", -1), grant("lm1", 30)],
            },
            Case {
                principal: person("lm2", "line-manager", false),
                recording: recording("a1", "team-b", "tenant-a"),
                action: AccessAction::Listen,
                purpose: "quality",
                grants: vec![grant("lm2", -1)],
            },
            Case {
                principal: person("ag", "agent", false),
                recording: recording("ag", "team-a", "tenant-a"),
                action: AccessAction::Metadata,
                purpose: "quality",
                grants: vec![],
            },
        ];
    }
    vec![
        Case {
            principal: person("agent-1", "agent", false),
            recording: recording("agent-1", "team-a", "tenant-a"),
            action: AccessAction::Listen,
            purpose: "internal-training",
            grants: vec![],
        },
        Case {
            principal: person("mgr-1", "team-manager", true),
            recording: recording("agent-2", "team-a", "tenant-a"),
            action: AccessAction::Listen,
            purpose: "verify-agreement",
            grants: vec![],
        },
        Case {
            principal: person("admin-1", "system-administrator", false),
            recording: recording("agent-2", "team-a", "tenant-a"),
            action: AccessAction::Listen,
            purpose: "verify-agreement",
            grants: vec![],
        },
        Case {
            principal: person("agent-3", "agent", false),
            recording: recording("agent-9", "team-z", "tenant-b"),
            action: AccessAction::Metadata,
            purpose: "marketing",
            grants: vec![],
        },
    ]
}

/// The case's person renamed `{id}-{n}` (their personal grants and own recording with
/// them): someone the Authorizer has not decided about before.
fn stranger(case: &Case, n: usize) -> (Principal, Vec<AccessGrant>, RecordingFacts) {
    let id = format!("{}-{n}", case.principal.id);
    let mut recording = case.recording.clone();
    if recording.agent.as_ref() == Some(&case.principal.id) {
        recording.agent = Some(id.clone());
    }
    let grants = case
        .grants
        .iter()
        .map(|g| AccessGrant {
            id: format!("{}-{n}", g.id),
            grantee: Grantee::User(id.clone()),
            ..g.clone()
        })
        .collect();
    (
        Principal {
            id,
            ..case.principal.clone()
        },
        grants,
        recording,
    )
}

/// p99 of `Authorizer::decide` for people seen before, of `authorize_read`, and of
/// `Authorizer::decide` for a person asking for the first time.
struct Figures {
    decide: Duration,
    baseline: Duration,
    first: Duration,
}

fn run(name: &str, policy_id: &str, arlo: bool, now: DateTime<Utc>) -> Figures {
    let policy = load(policy_id);
    let started = Instant::now();
    let authorizer = Authorizer::new(&policy).expect("rules compile");
    println!(
        "{policy_id}: Authorizer::new {:.2} ms ({} Cedar policies)",
        started.elapsed().as_secs_f64() * 1e3,
        authorizer.policy_set().policies().count()
    );
    let cases = cases(now, arlo);
    let strangers: Vec<(Principal, Vec<AccessGrant>, RecordingFacts)> = (0..ROUNDS)
        .map(|round| stranger(&cases[round % cases.len()], round))
        .collect();
    let mut allowed = 0usize;
    let mut allowed_first = 0usize;
    let mut cedar = Vec::with_capacity(ROUNDS);
    let mut baseline = Vec::with_capacity(ROUNDS);
    let mut first = Vec::with_capacity(ROUNDS);
    let actor = Actor::LocalAdministrator;
    for round in 0..ROUNDS {
        let case = &cases[round % cases.len()];
        let request = AccessRequest {
            principal: &case.principal,
            action: case.action,
            target: Target::Recording(&case.recording),
            purpose: case.purpose,
            reason: "ticket 4711",
            workflow: None,
            grants: &case.grants,
            now,
        };
        let started = Instant::now();
        let decision = black_box(authorizer.decide(black_box(&request)));
        cedar.push(started.elapsed());
        allowed += usize::from(decision.is_allowed());

        let read = ReadRequest {
            actor: &actor,
            recording_id: uuid::Uuid::nil(),
            purpose: case.purpose,
            reason: "ticket 4711",
        };
        let started = Instant::now();
        let permit = black_box(authorize_read(&policy, black_box(&read)));
        baseline.push(started.elapsed());
        drop(permit);
    }
    // Then the same requests, each from a person not seen before.
    for (round, (principal, grants, recording)) in strangers.iter().enumerate() {
        let case = &cases[round % cases.len()];
        let request = AccessRequest {
            principal,
            action: case.action,
            target: Target::Recording(recording),
            purpose: case.purpose,
            reason: "ticket 4711",
            workflow: None,
            grants,
            now,
        };
        let started = Instant::now();
        let decision = black_box(authorizer.decide(black_box(&request)));
        first.push(started.elapsed());
        allowed_first += usize::from(decision.is_allowed());
    }
    println!("{name}: {allowed} of {ROUNDS} decisions allowed ({allowed_first} for people asking the first time)");
    assert_eq!(
        allowed, allowed_first,
        "a person's first decision answers as the next ones"
    );
    Figures {
        decide: report(&format!("{name} Authorizer::decide"), cedar),
        baseline: report(&format!("{name} authorize_read (baseline)"), baseline),
        first: report(&format!("{name} decide, person's first"), first),
    }
}

fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .unwrap_or_default()
        .trim()
        .to_owned()
}

fn main() {
    let now: DateTime<Utc> = "2026-03-01T12:00:00Z".parse().expect("time");
    let cores = std::thread::available_parallelism().map_or(0, usize::from);
    println!("cores: {cores}, load average before: {}", load_average());
    let verdict = |p99: Duration| {
        if p99 < Duration::from_micros(50) {
            "met"
        } else {
            "NOT met"
        }
    };
    for repeat in 1..=REPEATS {
        for (name, policy_id, arlo) in [("posti", "posti", false), ("arlo", "arlo-europe", true)] {
            let name = format!("{name} #{repeat}");
            let figures = run(&name, policy_id, arlo, now);
            println!(
                "{name}: p99 ratio decide / authorize_read = {:.1}x (goal: decide p99 under 50 us: {}; \
                 a person's first decision: {}); load {}",
                figures.decide.as_secs_f64() / figures.baseline.as_secs_f64().max(1e-9),
                verdict(figures.decide),
                verdict(figures.first),
                load_average()
            );
        }
    }
}
