//! What each shipped policy decides about concrete calls: kept (on which basis,
//! until when) or refused (with which stable code and rule).

use chrono::{DateTime, NaiveDate, Utc};
use policy::{
    CallFacts, ConsentAnswer, ConsentBasis, ConsentEvidence, Direction, LegalBasis, PolicyDuration, ReviewStatus,
    TenantSettings, decide_recording, retain_until, review_status,
};

use crate::support::{POLICIES, load};

use Direction::{Inbound, Outbound};

/// The consent evidence a recording client supplied.
#[derive(Clone, Copy)]
enum Evidence {
    Nothing,
    NoticePlayed,
    /// A DTMF digit; `granted` is what the client concluded from it.
    Digit(char, bool),
}

/// What the policy should answer.
enum Want {
    /// Kept until this instant (RFC 3339), on this basis.
    Kept { until: &'static str, basis: Basis },
    /// Refused with this code, following from this policy field.
    Refused { code: &'static str, rule: &'static str },
}

#[derive(Debug, PartialEq)]
enum Basis {
    NotRequired,
    ImpliedByNotice,
    Digit(char),
}

struct Row {
    name: &'static str,
    policy: &'static str,
    tenant: TenantSettings,
    direction: Option<Direction>,
    purposes: &'static [&'static str],
    evidence: Evidence,
    answered_at: &'static str,
    want: Want,
}

/// A tenant of an `always` policy with a fixed retention: nothing to set.
fn plain() -> TenantSettings {
    TenantSettings::default()
}

fn tenant(enabled: bool, retention: Option<PolicyDuration>, provider: bool) -> TenantSettings {
    TenantSettings {
        recording_enabled: enabled,
        retention,
        provider,
    }
}

const T0: &str = "2026-03-10T08:00:00Z";

fn rows() -> Vec<Row> {
    use Evidence::*;
    let one_year = Some(PolicyDuration::Days(365));
    let six_months = Some(PolicyDuration::Months(6));
    vec![
        // --- CSI Works: both directions, no in-call consent, operator-set retention.
        Row {
            name: "csi inbound call for abuse protection is kept for the operator's period",
            policy: "csi-works",
            tenant: tenant(false, one_year, false),
            direction: Some(Inbound),
            purposes: &["abuse-protection"],
            evidence: Nothing,
            answered_at: T0,
            want: Want::Kept {
                until: "2027-03-10T08:00:00Z",
                basis: Basis::NotRequired,
            },
        },
        Row {
            name: "csi outbound call for FAQ content is kept",
            policy: "csi-works",
            tenant: tenant(false, one_year, false),
            direction: Some(Outbound),
            purposes: &["faq-content", "quality-control"],
            evidence: Nothing,
            answered_at: T0,
            want: Want::Kept {
                until: "2027-03-10T08:00:00Z",
                basis: Basis::NotRequired,
            },
        },
        Row {
            name: "csi records both directions, so an unknown direction is still kept",
            policy: "csi-works",
            tenant: tenant(false, one_year, false),
            direction: None,
            purposes: &["complaint-facts"],
            evidence: Nothing,
            answered_at: T0,
            want: Want::Kept {
                until: "2027-03-10T08:00:00Z",
                basis: Basis::NotRequired,
            },
        },
        Row {
            name: "csi with no retention set keeps nothing",
            policy: "csi-works",
            tenant: plain(),
            direction: Some(Inbound),
            purposes: &["abuse-protection"],
            evidence: Nothing,
            answered_at: T0,
            want: Want::Refused {
                code: "retention-not-set",
                rule: "retention.default",
            },
        },
        Row {
            name: "csi call for a purpose outside the policy",
            policy: "csi-works",
            tenant: tenant(false, one_year, false),
            direction: Some(Inbound),
            purposes: &["marketing"],
            evidence: Nothing,
            answered_at: T0,
            want: Want::Refused {
                code: "purpose-not-in-policy",
                rule: "purposes",
            },
        },
        Row {
            name: "csi call with no purpose",
            policy: "csi-works",
            tenant: tenant(false, one_year, false),
            direction: Some(Inbound),
            purposes: &[],
            evidence: Nothing,
            answered_at: T0,
            want: Want::Refused {
                code: "purpose-required",
                rule: "purposes",
            },
        },
        // --- Telephone Office: tenant opt-in, notice implies consent, tenant-set retention.
        Row {
            name: "to enabled tenant with the notice played is kept, consent implied by notice",
            policy: "telephone-office",
            tenant: tenant(true, six_months, false),
            direction: Some(Inbound),
            purposes: &["quality-training"],
            evidence: NoticePlayed,
            answered_at: "2026-08-31T10:00:00Z",
            want: Want::Kept {
                until: "2027-02-28T10:00:00Z",
                basis: Basis::ImpliedByNotice,
            },
        },
        Row {
            name: "to tenant that has not enabled recording",
            policy: "telephone-office",
            tenant: tenant(false, six_months, false),
            direction: Some(Inbound),
            purposes: &["quality-training"],
            evidence: NoticePlayed,
            answered_at: T0,
            want: Want::Refused {
                code: "recording-not-enabled",
                rule: "consent.enablement",
            },
        },
        Row {
            name: "to enabled tenant whose client did not play the notice",
            policy: "telephone-office",
            tenant: tenant(true, six_months, false),
            direction: Some(Outbound),
            purposes: &["dispute-resolution"],
            evidence: Nothing,
            answered_at: T0,
            want: Want::Refused {
                code: "notice-not-played",
                rule: "consent.mechanism",
            },
        },
        Row {
            name: "to provider's own lines are recorded without the opt-in",
            policy: "telephone-office",
            tenant: tenant(false, one_year, true),
            direction: Some(Outbound),
            purposes: &["fraud-prevention"],
            evidence: NoticePlayed,
            answered_at: T0,
            want: Want::Kept {
                until: "2027-03-10T08:00:00Z",
                basis: Basis::ImpliedByNotice,
            },
        },
        Row {
            name: "to provider's own lines still need the notice",
            policy: "telephone-office",
            tenant: tenant(false, one_year, true),
            direction: Some(Inbound),
            purposes: &["fraud-prevention"],
            evidence: Nothing,
            answered_at: T0,
            want: Want::Refused {
                code: "notice-not-played",
                rule: "consent.mechanism",
            },
        },
        Row {
            name: "to enabled tenant with no retention set",
            policy: "telephone-office",
            tenant: tenant(true, None, false),
            direction: Some(Inbound),
            purposes: &["verification"],
            evidence: NoticePlayed,
            answered_at: T0,
            want: Want::Refused {
                code: "retention-not-set",
                rule: "retention.default",
            },
        },
        // --- Arlo Europe: inbound only, press 1 to consent, 90 days.
        Row {
            name: "arlo inbound call with 1 pressed is kept 90 days",
            policy: "arlo-europe",
            tenant: plain(),
            direction: Some(Inbound),
            purposes: &["training"],
            evidence: Digit('1', true),
            answered_at: "2026-01-15T09:30:00Z",
            want: Want::Kept {
                until: "2026-04-15T09:30:00Z",
                basis: Basis::Digit('1'),
            },
        },
        Row {
            name: "arlo outbound call",
            policy: "arlo-europe",
            tenant: plain(),
            direction: Some(Outbound),
            purposes: &["quality"],
            evidence: Digit('1', true),
            answered_at: T0,
            want: Want::Refused {
                code: "direction-not-recorded",
                rule: "recording.directions",
            },
        },
        Row {
            name: "arlo call of unknown direction",
            policy: "arlo-europe",
            tenant: plain(),
            direction: None,
            purposes: &["quality"],
            evidence: Digit('1', true),
            answered_at: T0,
            want: Want::Refused {
                code: "direction-unknown",
                rule: "recording.directions",
            },
        },
        Row {
            name: "arlo caller pressed 2",
            policy: "arlo-europe",
            tenant: plain(),
            direction: Some(Inbound),
            purposes: &["training"],
            evidence: Digit('2', false),
            answered_at: T0,
            want: Want::Refused {
                code: "consent-declined",
                rule: "consent.mechanism",
            },
        },
        Row {
            name: "arlo caller pressed 2 even if the client called it a grant",
            policy: "arlo-europe",
            tenant: plain(),
            direction: Some(Inbound),
            purposes: &["training"],
            evidence: Digit('2', true),
            answered_at: T0,
            want: Want::Refused {
                code: "consent-declined",
                rule: "consent.mechanism",
            },
        },
        Row {
            name: "arlo caller pressed nothing",
            policy: "arlo-europe",
            tenant: plain(),
            direction: Some(Inbound),
            purposes: &["training"],
            evidence: Nothing,
            answered_at: T0,
            want: Want::Refused {
                code: "consent-missing",
                rule: "consent.mechanism",
            },
        },
        Row {
            name: "arlo prompt played but no answer",
            policy: "arlo-europe",
            tenant: plain(),
            direction: Some(Inbound),
            purposes: &["quality"],
            evidence: NoticePlayed,
            answered_at: T0,
            want: Want::Refused {
                code: "consent-missing",
                rule: "consent.mechanism",
            },
        },
        Row {
            name: "arlo caller pressed a digit that is not the accept digit",
            policy: "arlo-europe",
            tenant: plain(),
            direction: Some(Inbound),
            purposes: &["quality"],
            evidence: Digit('5', true),
            answered_at: T0,
            want: Want::Refused {
                code: "consent-missing",
                rule: "consent.accept_digit",
            },
        },
        Row {
            name: "arlo call for a purpose outside the policy",
            policy: "arlo-europe",
            tenant: plain(),
            direction: Some(Inbound),
            purposes: &["marketing"],
            evidence: Digit('1', true),
            answered_at: T0,
            want: Want::Refused {
                code: "purpose-not-in-policy",
                rule: "purposes",
            },
        },
        // --- Webeo: outbound only, 12 months.
        Row {
            name: "webeo outbound call is kept 12 months",
            policy: "webeo",
            tenant: plain(),
            direction: Some(Outbound),
            purposes: &["training-development", "protection"],
            evidence: Nothing,
            answered_at: "2024-02-29T12:00:00Z",
            want: Want::Kept {
                until: "2025-02-28T12:00:00Z",
                basis: Basis::NotRequired,
            },
        },
        Row {
            name: "webeo inbound call",
            policy: "webeo",
            tenant: plain(),
            direction: Some(Inbound),
            purposes: &["quality-assessment"],
            evidence: Nothing,
            answered_at: T0,
            want: Want::Refused {
                code: "direction-not-recorded",
                rule: "recording.directions",
            },
        },
        Row {
            name: "webeo call of unknown direction",
            policy: "webeo",
            tenant: plain(),
            direction: None,
            purposes: &["quality-assessment"],
            evidence: Nothing,
            answered_at: T0,
            want: Want::Refused {
                code: "direction-unknown",
                rule: "recording.directions",
            },
        },
        // --- Posti: both directions, four purposes, six calendar months.
        Row {
            name: "posti inbound call is kept six calendar months",
            policy: "posti",
            tenant: plain(),
            direction: Some(Inbound),
            purposes: &["verify-agreement"],
            evidence: Nothing,
            answered_at: "2026-08-31T10:00:00Z",
            want: Want::Kept {
                until: "2027-02-28T10:00:00Z",
                basis: Basis::NotRequired,
            },
        },
        Row {
            name: "posti outbound telesales call is kept six months",
            policy: "posti",
            tenant: plain(),
            direction: Some(Outbound),
            purposes: &["internal-training", "security-misuse-prevention"],
            evidence: Nothing,
            answered_at: T0,
            want: Want::Kept {
                until: "2026-09-10T08:00:00Z",
                basis: Basis::NotRequired,
            },
        },
        Row {
            name: "posti call for marketing",
            policy: "posti",
            tenant: plain(),
            direction: Some(Inbound),
            purposes: &["marketing"],
            evidence: Nothing,
            answered_at: T0,
            want: Want::Refused {
                code: "purpose-not-in-policy",
                rule: "purposes",
            },
        },
        Row {
            name: "posti call naming a purpose reserved for the engine",
            policy: "posti",
            tenant: plain(),
            direction: Some(Inbound),
            purposes: &["legal-claim"],
            evidence: Nothing,
            answered_at: T0,
            want: Want::Refused {
                code: "purpose-not-in-policy",
                rule: "purposes",
            },
        },
    ]
}

fn at(text: &str) -> DateTime<Utc> {
    text.parse().unwrap_or_else(|e| panic!("{text}: {e}"))
}

fn evidence(e: Evidence, answered_at: DateTime<Utc>) -> ConsentEvidence {
    match e {
        Evidence::Nothing => ConsentEvidence::default(),
        Evidence::NoticePlayed => ConsentEvidence {
            notice_played: true,
            answer: None,
        },
        Evidence::Digit(d, granted) => ConsentEvidence {
            notice_played: true,
            answer: Some(ConsentAnswer {
                granted,
                digit: Some(d),
                at: answered_at,
            }),
        },
    }
}

#[test]
fn each_policy_keeps_and_refuses_calls_as_written() {
    let rows = rows();
    for (id, _) in POLICIES {
        assert!(
            rows.iter()
                .any(|r| r.policy == id && matches!(r.want, Want::Kept { .. })),
            "{id}: no kept call"
        );
        assert!(
            rows.iter()
                .any(|r| r.policy == id && matches!(r.want, Want::Refused { .. })),
            "{id}: no refused call"
        );
    }
    let mut failures = Vec::new();
    for row in &rows {
        let policy = load(row.policy);
        let answered_at = at(row.answered_at);
        let purposes: Vec<String> = row.purposes.iter().map(|p| (*p).to_owned()).collect();
        let consent = evidence(row.evidence, answered_at);
        let call = CallFacts {
            direction: row.direction,
            purposes: &purposes,
            consent: &consent,
            answered_at,
        };
        let got = decide_recording(&policy, &row.tenant, &call);
        match (&row.want, got) {
            (Want::Kept { until, basis }, Ok(decision)) => {
                let got_basis = match decision.consent {
                    ConsentBasis::NotRequired => Basis::NotRequired,
                    ConsentBasis::ImpliedByNotice => Basis::ImpliedByNotice,
                    ConsentBasis::Explicit { digit, at } => {
                        assert_eq!(at, answered_at, "{}: consent time", row.name);
                        Basis::Digit(digit.unwrap_or('?'))
                    }
                };
                if decision.retain_until != at(until) || &got_basis != basis {
                    failures.push(format!(
                        "{}: kept until {} on {got_basis:?}, want until {until} on {basis:?}",
                        row.name,
                        decision.retain_until.to_rfc3339()
                    ));
                }
                if decision.legal_basis != policy.consent.legal_basis {
                    failures.push(format!("{}: legal basis {:?}", row.name, decision.legal_basis));
                }
            }
            (Want::Refused { code, rule }, Err(refusal)) => {
                if refusal.code != *code || refusal.rule != *rule {
                    failures.push(format!(
                        "{}: refused {} ({}), want {code} ({rule}): {}",
                        row.name, refusal.code, refusal.rule, refusal.message
                    ));
                }
            }
            (Want::Kept { .. }, Err(refusal)) => failures.push(format!("{}: refused: {refusal}", row.name)),
            (Want::Refused { code, .. }, Ok(d)) => failures.push(format!("{}: kept ({d:?}), want {code}", row.name)),
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} rows failed:\n{}",
        failures.len(),
        rows.len(),
        failures.join("\n")
    );
}

#[test]
fn legal_bases_follow_the_seeds() {
    let cases = [
        ("csi-works", LegalBasis::LegitimateInterest),
        ("telephone-office", LegalBasis::Consent),
        ("arlo-europe", LegalBasis::Consent),
        ("webeo", LegalBasis::LegitimateInterest),
        ("posti", LegalBasis::LegitimateInterest),
    ];
    for (id, basis) in cases {
        assert_eq!(load(id).consent.legal_basis, basis, "{id}");
    }
}

#[test]
fn retention_periods() {
    // (policy, tenant retention, answered at, retained until)
    let cases = [
        ("posti", None, "2026-08-31T10:00:00Z", "2027-02-28T10:00:00Z"), // six calendar months, clamped
        ("posti", None, "2026-01-31T23:59:59Z", "2026-07-31T23:59:59Z"),
        ("arlo-europe", None, "2026-01-15T09:30:00Z", "2026-04-15T09:30:00Z"), // 90 days
        ("arlo-europe", None, "2026-12-31T00:00:00Z", "2027-03-31T00:00:00Z"),
        ("webeo", None, "2026-03-10T08:00:00Z", "2027-03-10T08:00:00Z"), // 12 months
        ("webeo", None, "2024-02-29T12:00:00Z", "2025-02-28T12:00:00Z"),
        (
            "telephone-office",
            Some(PolicyDuration::Days(30)),
            "2026-03-10T08:00:00Z",
            "2026-04-09T08:00:00Z",
        ),
        (
            "csi-works",
            Some(PolicyDuration::Months(24)),
            "2026-03-10T08:00:00Z",
            "2028-03-10T08:00:00Z",
        ),
    ];
    for (id, retention, answered, until) in cases {
        let policy = load(id);
        let tenant = TenantSettings {
            retention,
            ..TenantSettings::default()
        };
        let purposes = vec![policy.purposes[0].id.clone()];
        let got = retain_until(&policy, &tenant, &purposes, at(answered)).unwrap_or_else(|r| panic!("{id}: {r}"));
        assert_eq!(got, at(until), "{id} answered {answered}");
    }
}

#[test]
fn review_dates() {
    let day = |s: &str| NaiveDate::parse_from_str(s, "%Y-%m-%d").expect("date");
    let due = day("2024-02-01");
    let arlo = load("arlo-europe");
    assert_eq!(
        review_status(&arlo, day("2026-11-23")),
        ReviewStatus::Overdue { due, days: 1026 }
    );
    assert_eq!(
        review_status(&arlo, day("2024-02-02")),
        ReviewStatus::Overdue { due, days: 1 }
    );
    assert_eq!(review_status(&arlo, day("2024-02-01")), ReviewStatus::Current { due });
    assert_eq!(review_status(&arlo, day("2023-06-01")), ReviewStatus::Current { due });
    for id in ["csi-works", "telephone-office", "webeo", "posti"] {
        assert_eq!(
            review_status(&load(id), day("2026-11-23")),
            ReviewStatus::NoDate,
            "{id}"
        );
    }
}

#[test]
fn reads_must_name_one_of_the_policy_purposes() {
    for (id, _) in POLICIES {
        let policy = load(id);
        for purpose in policy.purpose_ids() {
            assert_eq!(policy.check_read_purpose(purpose), Ok(()), "{id}: {purpose}");
        }
        for reserved in ["data-subject-request", "legal-claim"] {
            let refusal = policy.check_read_purpose(reserved).expect_err("reserved");
            assert_eq!(refusal.code, "purpose-reserved", "{id}: {reserved}");
        }
        let refusal = policy.check_read_purpose("marketing").expect_err("not listed");
        assert_eq!(refusal.code, "purpose-not-in-policy", "{id}");
    }
}
