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

// ---- policy changes: proposal, approval by the named role, review dates -------------

const ADMIN_PW: &str = "policy-admin-pw-0001";
const SECURITY_PW: &str = "policy-security-pw-0002";
pub const COMPLIANCE_PW: &str = "policy-compliance-pw-0003";

/// The tenant's first administrator (`admin`), a security officer (`sec`) and a
/// compliance officer (`dpo`).
pub fn people(env: &Env, tenant: &str) {
    admin_init(env, tenant, "admin", ADMIN_PW);
    let admin = format!("{tenant}/admin");
    for (name, role, password) in [
        ("sec", "security-officer", SECURITY_PW),
        ("dpo", "compliance", COMPLIANCE_PW),
    ] {
        let args = [
            "user",
            "add",
            name,
            "--tenant",
            tenant,
            "--role",
            role,
            "--password-stdin",
        ];
        as_user_stdin(env, &admin, ADMIN_PW, &args, &format!("{password}\n")).unwrap();
    } // The e2e fixture reader (support.rs) is added by this administrator.
    env.register_admin(tenant, "admin", ADMIN_PW);
}

/// The tenant's first version (`policies/<id>.toml` with the e2e fixture reader, as
/// `Env::create_tenant` binds it) with a new purpose `fraud` before `[recording]`.
fn with_fraud_purpose(id: &str) -> String {
    let text = policy_with_reader(id);
    assert!(text.contains("\n[recording]\n"));
    text.replacen(
        "\n[recording]\n",
        "\n[[purposes]]\nid = \"fraud\"\ndescription = \"Preventing fraud\"\n\n[recording]\n",
        1,
    )
}

fn arlo_consent() -> serde_json::Value {
    json!({"consent": {"granted": true, "digit": "1", "at": "2026-11-20T10:00:05Z"}})
}

fn events(env: &Env, action: &str) -> Vec<serde_json::Value> {
    env.audit().into_iter().filter(|e| e["action"] == action).collect()
}

#[test]
fn arlo_purpose_change_takes_effect_only_after_approval_by_named_role() {
    let env = Env::new(None);
    env.create_tenant("arlo", "arlo-europe");
    people(&env, "arlo");
    let before = env
        .ingest("arlo", &stereo_call(1), &meta("inbound", &["training"], arlo_consent()))
        .expect("kept under version 1");

    // A new purpose is proposed: recorded pending, with its change and the role that must approve.
    let file = env.write("arlo-v2.toml", with_fraud_purpose("arlo-europe").as_bytes());
    let proposed = env.ok(&["policy", "update", "arlo", &file]);
    assert!(
        proposed.contains("version 2 is pending") && proposed.contains("security-officer"),
        "{proposed}"
    );
    assert!(proposed.contains("+ purposes[fraud]: Preventing fraud"), "{proposed}");
    let versions = env.json(&["policy", "versions", "arlo", "--json"]);
    assert_eq!(versions[0]["state"], "active");
    assert_eq!(versions[1]["state"], "pending");
    assert_eq!(versions[1]["approved_by"], json!(null));
    assert_eq!(versions[1]["change"]["approver_role"], "security-officer");
    assert_eq!(versions[1]["change"]["from_version"], 1);
    assert_eq!(
        versions[1]["change"]["diff"],
        json!([{"area": "purposes", "field": "purposes[fraud]", "kind": "added", "to": "Preventing fraud"}])
    );

    // Until approved, nothing changes: the new purpose is refused, calls keep version 1.
    let fraud_call = meta("inbound", &["fraud"], arlo_consent());
    assert_eq!(
        env.ingest("arlo", &stereo_call(1), &fraud_call),
        Err("purpose-not-in-policy".into())
    );

    // Approval needs an identity, and the role the policy names: the compliance officer is refused.
    assert_eq!(env.fails(&["policy", "approve", "arlo", "2"]), "auth-required");
    assert_eq!(
        as_user(&env, "dpo", COMPLIANCE_PW, &["policy", "approve", "arlo", "2"]),
        Err("policy-approver-role-required".into())
    );
    let denied = events(&env, "policy.approve");
    assert_eq!(denied.len(), 1, "{denied:?}");
    assert_eq!(denied[0]["outcome"], "denied");
    assert_eq!(denied[0]["actor"], "user:arlo/dpo");
    assert_eq!(denied[0]["detail"]["code"], "policy-approver-role-required");
    assert_eq!(denied[0]["detail"]["rule"], "changes.approved_by");
    assert_eq!(
        env.json(&["policy", "versions", "arlo", "--json"])[1]["state"],
        "pending"
    );

    // The security officer approves: version 2 takes effect.
    let approved = as_user(&env, "sec", SECURITY_PW, &["policy", "approve", "arlo", "2"]).unwrap();
    assert!(
        approved.contains("version 2 is active, approved by user:arlo/sec"),
        "{approved}"
    );
    let after = env
        .ingest("arlo", &stereo_call(1), &fraud_call)
        .expect("the new purpose is in effect");
    let version_of = |id: &str| env.json(&["recordings", "show", id, "--json"])["policy_version"].clone();
    assert_eq!(version_of(&before), 1, "recordings keep their version (ALL-VERSION)");
    assert_eq!(version_of(&after), 2);

    // The change is kept with the approver and the time; both versions stay readable.
    let versions = env.json(&["policy", "versions", "arlo", "--json"]);
    assert_eq!(versions[0]["state"], "superseded");
    assert_eq!(versions[1]["state"], "active");
    assert_eq!(versions[1]["approved_by"], "user:arlo/sec");
    assert!(versions[1]["approved_at"].is_string());
    assert_eq!(versions[1]["change"]["decision"], "approved");
    assert_eq!(versions[1]["change"]["decided_by"], "user:arlo/sec");
    let shown = env.json(&["policy", "show", "arlo", "2", "--json"]);
    assert_eq!(shown["approved_by"], "user:arlo/sec");
    assert_eq!(shown["change"]["diff"][0]["field"], "purposes[fraud]");
    assert_eq!(
        env.ok(&["policy", "show", "arlo", "1"]),
        policy_with_reader("arlo-europe")
    );
    let listing = env.ok(&["policy", "versions", "arlo"]);
    assert!(
        listing.contains("approved by user:arlo/sec") && listing.contains("+ purposes[fraud]"),
        "{listing}"
    );

    // A decision is final, and both steps are in the audit chain.
    assert_eq!(
        as_user(&env, "sec", SECURITY_PW, &["policy", "approve", "arlo", "2"]),
        Err("policy-change-decided".into())
    );
    let update = &events(&env, "policy.update")[0];
    assert_eq!(update["detail"]["state"], "pending");
    assert_eq!(update["detail"]["approver_role"], "security-officer");
    assert_eq!(update["detail"]["areas"], json!(["purposes"]));
    let done: Vec<_> = events(&env, "policy.approve")
        .into_iter()
        .filter(|e| e["outcome"] == "done")
        .collect();
    assert_eq!(done.len(), 1);
    assert_eq!(done[0]["detail"]["to_version"], 2);
    assert!(env.ok(&["audit", "verify"]).contains("audit chain ok"));
}

#[test]
fn arlo_purpose_change_one_proposal_at_a_time_and_a_rejected_one_never_takes_effect() {
    let env = Env::new(None);
    env.create_tenant("arlo", "arlo-europe");
    people(&env, "arlo");
    let v2 = env.write("arlo-v2.toml", with_fraud_purpose("arlo-europe").as_bytes());
    env.ok(&["policy", "update", "arlo", &v2]);
    let v3_text = with_fraud_purpose("arlo-europe").replace("default = \"90 days\"", "default = \"6 months\"");
    let v3 = env.write("arlo-v3.toml", v3_text.as_bytes());
    assert_eq!(env.fails(&["policy", "update", "arlo", &v3]), "policy-change-pending");

    assert_eq!(
        as_user(&env, "dpo", COMPLIANCE_PW, &["policy", "reject", "arlo", "2"]),
        Err("policy-approver-role-required".into())
    );
    let rejected = as_user(
        &env,
        "sec",
        SECURITY_PW,
        &["policy", "reject", "arlo", "2", "--reason", "purpose not documented"],
    )
    .unwrap();
    assert!(rejected.contains("rejected"), "{rejected}");
    assert_eq!(
        as_user(&env, "sec", SECURITY_PW, &["policy", "approve", "arlo", "2"]),
        Err("policy-change-decided".into())
    );
    assert_eq!(
        env.ingest("arlo", &stereo_call(1), &meta("inbound", &["fraud"], arlo_consent())),
        Err("purpose-not-in-policy".into())
    );

    // The next proposal is compared with the active version 1, not the rejected one.
    let proposed = env.ok(&["policy", "update", "arlo", &v3, "--json"]);
    let proposed: serde_json::Value = serde_json::from_str(&proposed).unwrap();
    assert_eq!(proposed["version"], 3);
    assert_eq!(proposed["change"]["from_version"], 1);
    let fields: Vec<_> = proposed["change"]["diff"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["field"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(fields, ["purposes[fraud]", "retention.default"]);
    let versions = env.json(&["policy", "versions", "arlo", "--json"]);
    let states: Vec<_> = versions
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["state"].clone())
        .collect();
    assert_eq!(states, [json!("active"), json!("rejected"), json!("pending")]);
    assert_eq!(versions[1]["change"]["reason"], "purpose not documented");
    assert_eq!(versions[1]["change"]["decided_by"], "user:arlo/sec");
}

#[test]
fn all_version_without_a_named_approver_the_compliance_role_approves() {
    // Posti's seed names nobody who approves changes: the default role, compliance, does.
    let env = Env::new(Some("eu-eea"));
    env.posti_tenant();
    people(&env, "posti");
    let file = env.write("posti-v2.toml", with_fraud_purpose("posti").as_bytes());
    env.ok(&["policy", "update", "posti", &file]);
    assert_eq!(
        env.json(&["policy", "versions", "posti", "--json"])[1]["change"]["approver_role"],
        "compliance"
    );
    assert_eq!(
        as_user(&env, "sec", SECURITY_PW, &["policy", "approve", "posti", "2"]),
        Err("policy-approver-role-required".into())
    );
    // A compliance officer of another tenant cannot approve.
    env.create_tenant("arlo", "arlo-europe");
    people(&env, "arlo");
    assert_eq!(
        as_user(&env, "arlo/dpo", COMPLIANCE_PW, &["policy", "approve", "posti", "2"]),
        Err("tenant-mismatch".into())
    );
    as_user(&env, "posti/dpo", COMPLIANCE_PW, &["policy", "approve", "posti", "2"]).unwrap();
    assert_eq!(env.json(&["tenant", "show", "posti", "--json"])["policy_version"], 2);
}

#[test]
fn arlo_review_warns_on_check_at_serve_start_up_and_in_the_compliance_report() {
    let env = Env::new(None);
    let file = policy_file("arlo-europe");
    // "Neste gjennomgang: Februar 2024": past due on the day the test runs (after 2024-02-01).
    let check = env.run(&["policy", "check", file.to_str().unwrap()]);
    assert!(check.status.success());
    let stderr = String::from_utf8_lossy(&check.stderr);
    assert!(stderr.contains("warning[policy-review-overdue]"), "{stderr}");

    env.create_tenant("arlo", "arlo-europe");
    let report = env.json(&[
        "compliance",
        "report",
        "--tenant",
        "arlo",
        "--now",
        "2026-11-23T12:00:00Z",
    ]);
    assert_eq!(report["tenants"][0]["review"]["status"], "overdue");
    assert!(
        report["problems"].to_string().contains("arlo: policy review overdue"),
        "{report}"
    );

    let server = env.serve_sip("arlo", None);
    let log = server.log();
    assert!(
        log.contains("warning[policy-review-overdue]: policy arlo-europe was due for review on 2024-02-01"),
        "{log}"
    );
}
