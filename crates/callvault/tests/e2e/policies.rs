//! For each of the five seed policies: a call the policy permits is kept, and calls it
//! refuses are refused with the code of the rule that refuses them.

use serde_json::json;

use crate::support::*;

#[test]
fn csi_works_keeps_both_directions_and_refuses_foreign_purposes() {
    let env = Env::new(None);
    env.create_tenant("csi", "csi-works");
    // CSI's policy states no retention period: the tenant must set one first.
    let call = meta("outbound", &["quality-control"], json!({}));
    assert_eq!(
        env.ingest("csi", &stereo_call(1), &call),
        Err("retention-not-set".into())
    );
    env.ok(&["tenant", "set", "csi", "--retention", "2 years"]);
    env.ingest("csi", &stereo_call(1), &call)
        .expect("outbound call kept (CSI-SCOPE)");
    let transferred = meta(
        "inbound",
        &["complaint-facts"],
        json!({"transferred_from": "Clover Customer Support"}),
    );
    let id = env
        .ingest("csi", &stereo_call(1), &transferred)
        .expect("transferred call kept");
    let shown = env.json(&["recordings", "show", &id, "--json"]);
    assert!(
        shown["notes"]
            .to_string()
            .contains("transferred-from: Clover Customer Support"),
        "{shown}"
    );
    // CSI-OPTOUT: no consent mechanism, so no consent evidence is needed.
    assert_eq!(shown["consent"]["basis"]["kind"], "not-required");
    assert_eq!(
        env.ingest("csi", &stereo_call(1), &meta("inbound", &["marketing"], json!({}))),
        Err("purpose-not-in-policy".into())
    );
}

#[test]
fn telephone_office_records_only_enabled_tenants_after_the_notice() {
    let env = Env::new(None);
    env.create_tenant("acme", "telephone-office");
    let with_notice = meta(
        "inbound",
        &["quality-training"],
        json!({"consent": {"notice_played": true}}),
    );
    // TO-OPTIONAL: off until the customer enables it.
    assert_eq!(
        env.ingest("acme", &stereo_call(1), &with_notice),
        Err("recording-not-enabled".into())
    );
    env.ok(&["tenant", "set", "acme", "--recording", "on", "--retention", "1 year"]);
    // TO-NOTICE: without the client's indication that the notice was played, nothing is kept.
    let without_notice = meta("inbound", &["quality-training"], json!({}));
    assert_eq!(
        env.ingest("acme", &stereo_call(1), &without_notice),
        Err("notice-not-played".into())
    );
    let id = env.ingest("acme", &stereo_call(1), &with_notice).expect("kept");
    let shown = env.json(&["recordings", "show", &id, "--json"]);
    assert_eq!(shown["consent"]["basis"]["kind"], "implied-by-notice");
    // TO-OWNLINES: the provider's own tenant records without the customer opt-in.
    env.create_tenant("telephone-office", "telephone-office");
    env.ok(&[
        "tenant",
        "set",
        "telephone-office",
        "--provider",
        "on",
        "--retention",
        "1 year",
    ]);
    env.ingest("telephone-office", &stereo_call(1), &with_notice)
        .expect("own lines recorded");
    assert_eq!(env.list().len(), 2);
}

#[test]
fn arlo_europe_keeps_only_inbound_calls_with_consent() {
    let env = Env::new(Some("eu-eea"));
    env.create_tenant("arlo", "arlo-europe");
    let consent = |granted: bool, digit: &str| json!({"consent": {"granted": granted, "digit": digit, "at": "2026-11-20T10:00:05Z"}});
    let id = env
        .ingest(
            "arlo",
            &stereo_call(1),
            &meta("inbound", &["training"], consent(true, "1")),
        )
        .expect("kept");
    let shown = env.json(&["recordings", "show", &id, "--json"]);
    assert_eq!(shown["consent"]["basis"]["kind"], "explicit");
    assert_eq!(shown["legal_basis"], "consent");
    assert_eq!(
        shown["retain_until"], "2027-02-18T10:00:00Z",
        "90 days (ARLO-RETENTION)"
    );
    let cases = [
        (
            meta("outbound", &["training"], consent(true, "1")),
            "direction-not-recorded",
        ),
        (meta("inbound", &["training"], consent(false, "2")), "consent-declined"),
        (meta("inbound", &["training"], json!({})), "consent-missing"),
        (meta("unknown", &["training"], consent(true, "1")), "direction-unknown"),
        (
            meta("inbound", &["marketing"], consent(true, "1")),
            "purpose-not-in-policy",
        ),
    ];
    for (call, code) in cases {
        assert_eq!(env.ingest("arlo", &stereo_call(1), &call), Err(code.into()), "{call}");
    }
    assert_eq!(env.list().len(), 1, "refused calls leave nothing in the catalog");
}

#[test]
fn webeo_keeps_outbound_calls_in_the_uk_and_flags_withheld_caller_id() {
    let env = Env::new(Some("uk"));
    env.create_tenant("webeo", "webeo");
    let id = env
        .ingest(
            "webeo",
            &stereo_call(1),
            &meta("outbound", &["quality-assessment"], json!({})),
        )
        .expect("kept");
    assert!(
        env.json(&["recordings", "show", &id, "--json"])["notes"]
            .as_array()
            .unwrap()
            .is_empty()
    );
    let withheld = meta("outbound", &["quality-assessment"], json!({"withheld_caller_id": true}));
    let flagged = env
        .ingest("webeo", &stereo_call(1), &withheld)
        .expect("kept, flagged (WEBEO-OUTBOUND)");
    assert!(
        env.json(&["recordings", "show", &flagged, "--json"])["notes"]
            .to_string()
            .contains("withheld-caller-id")
    );
    assert_eq!(
        env.ingest(
            "webeo",
            &stereo_call(1),
            &meta("inbound", &["quality-assessment"], json!({}))
        ),
        Err("direction-not-recorded".into())
    );
    let shown = env.json(&["recordings", "show", &id, "--json"]);
    assert_eq!(
        shown["retain_until"], "2027-11-20T10:00:00Z",
        "12 months (WEBEO-RETENTION)"
    );
}

#[test]
fn webeo_uk_residency_refuses_a_store_outside_the_uk() {
    let env = Env::new(Some("eu-eea"));
    let file = policy_file("webeo");
    assert_eq!(
        env.fails(&["tenant", "create", "webeo", "--policy", file.to_str().unwrap()]),
        "residency-violation"
    );
    let undeclared = Env::new(None);
    assert_eq!(
        undeclared.fails(&["tenant", "create", "webeo", "--policy", file.to_str().unwrap()]),
        "residency-undeclared"
    );
}

#[test]
fn posti_keeps_its_four_purposes_only_and_stays_in_the_eea() {
    let env = Env::new(Some("eu-eea"));
    env.posti_tenant();
    let id = env
        .ingest(
            "posti",
            &stereo_call(1),
            &meta("inbound", &["verify-agreement"], json!({})),
        )
        .expect("kept");
    let shown = env.json(&["recordings", "show", &id, "--json"]);
    assert_eq!(
        shown["retain_until"], "2027-05-20T10:00:00Z",
        "six calendar months (POSTI-RETENTION)"
    );
    assert_eq!(
        env.ingest("posti", &stereo_call(1), &meta("outbound", &["marketing"], json!({}))),
        Err("purpose-not-in-policy".into())
    );
    let uk = Env::new(Some("uk"));
    let file = policy_file("posti");
    assert_eq!(
        uk.fails(&["tenant", "create", "posti", "--policy", file.to_str().unwrap()]),
        "residency-violation"
    );
}

#[test]
fn policy_refusals_are_audited_with_their_rule() {
    let env = Env::new(Some("uk"));
    env.create_tenant("webeo", "webeo");
    let _ = env.ingest(
        "webeo",
        &stereo_call(1),
        &meta("inbound", &["quality-assessment"], json!({})),
    );
    let denied: Vec<_> = env
        .audit()
        .into_iter()
        .filter(|e| e["action"] == "recording.ingest" && e["outcome"] == "denied")
        .collect();
    assert_eq!(denied.len(), 1);
    assert_eq!(denied[0]["detail"]["code"], "direction-not-recorded");
    assert_eq!(denied[0]["detail"]["rule"], "recording.directions");
}
