//! `compliance report`: the checks a DPO runs, through the real binary with a
//! controllable clock.

use serde_json::{Value, json};

use crate::support::*;

fn report(env: &Env, now: &str) -> Value {
    env.json(&["compliance", "report", "--tenant", "posti", "--now", now])
}

#[test]
fn the_compliance_report_shows_retention_holds_reads_review_and_the_audit_chain() {
    let env = Env::new(Some("eu-eea"));
    env.posti_tenant();
    let call = meta("inbound", &["verify-agreement"], json!({}));
    let kept = env.ingest("posti", &stereo_call(1), &call).expect("kept");
    let held = env.ingest("posti", &stereo_call(1), &call).expect("kept");
    let out = env.path().join("x.wav");
    env.ok(&[
        "recordings",
        "export",
        &kept,
        "--out",
        out.to_str().unwrap(),
        "--purpose",
        "verify-agreement",
        "--reason",
        "customer disputes the agreement",
    ]);
    env.ok(&["hold", "place", &held, "--reason", "legal-claim: case 7"]);

    let today = report(&env, "2026-11-23T12:00:00Z");
    let posti = &today["tenants"][0];
    assert_eq!(posti["policy_id"], "posti");
    assert_eq!(posti["recordings"], 2);
    assert_eq!(posti["past_retention_not_deleted"], 0);
    assert_eq!(
        posti["reads_without_purpose"],
        json!([]),
        "the export named its purpose"
    );
    assert_eq!(posti["holds"].as_array().unwrap().len(), 1);
    assert_eq!(posti["holds"][0]["recording_id"], held.as_str());
    assert_eq!(posti["requests"]["tracked"], true);
    assert_eq!(today["audit"]["ok"], true);
    assert_eq!(today["problems"], json!([]));

    // Seven months on, before any sweep: one recording overdue for deletion (must be 0),
    // the held one counted apart; --strict turns the finding into a failure.
    let late = report(&env, "2027-06-20T12:00:00Z");
    assert_eq!(late["tenants"][0]["past_retention_not_deleted"], 1);
    assert_eq!(late["tenants"][0]["past_retention_held"], 1);
    assert!(
        late["problems"][0]
            .as_str()
            .unwrap()
            .contains("past retention not deleted"),
        "{late}"
    );
    let strict = env.run(&["compliance", "report", "--now", "2027-06-20T12:00:00Z", "--strict"]);
    assert!(!strict.status.success());
    // After the sweep the finding is gone; the hold still keeps its recording.
    env.ok(&["retention", "run", "--now", "2027-06-20T12:00:00Z"]);
    let swept = report(&env, "2027-06-20T12:00:01Z");
    assert_eq!(swept["tenants"][0]["past_retention_not_deleted"], 0);
    assert_eq!(swept["tenants"][0]["past_retention_held"], 1);
    assert!(swept["tenants"][0]["last_retention_sweep"].is_string());

    // The HTML form is one self-contained page with the same findings.
    let html = env.ok(&[
        "compliance",
        "report",
        "--format",
        "html",
        "--now",
        "2027-06-20T12:00:01Z",
    ]);
    assert!(
        html.starts_with("<!doctype html>") && html.contains("Tenant posti"),
        "{html}"
    );
    assert!(
        !html.contains("<script") && !html.contains("http"),
        "no scripts, nothing fetched"
    );
    // Reading the report is audited.
    assert!(env.audit().iter().any(|e| e["action"] == "compliance.report"));
}

#[test]
fn a_broken_audit_chain_shows_in_the_compliance_report() {
    let env = Env::new(Some("eu-eea"));
    env.posti_tenant();
    env.ingest(
        "posti",
        &stereo_call(1),
        &meta("inbound", &["verify-agreement"], json!({})),
    )
    .expect("kept");
    audit_sql(&env, &["DELETE FROM audit_log WHERE seq = 2"]);
    let broken = report(&env, "2026-11-23T12:00:00Z");
    assert_eq!(broken["audit"]["ok"], false);
    assert!(broken["audit"]["fault"].as_str().unwrap().contains('2'), "{broken}");
    assert!(
        broken["problems"][0]
            .as_str()
            .unwrap()
            .starts_with("audit chain broken"),
        "{broken}"
    );
}
