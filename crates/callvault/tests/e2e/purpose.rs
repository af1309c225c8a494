//! ALL-PURPOSE, ALL-VERSION and ARLO-REVIEW.

use serde_json::json;

use crate::support::*;

#[test]
fn all_purpose_every_read_names_a_purpose_of_the_recordings_policy() {
    let env = Env::new(Some("eu-eea"));
    env.posti_tenant();
    let id = env
        .ingest(
            "posti",
            &stereo_call(1),
            &meta("inbound", &["verify-agreement"], json!({})),
        )
        .unwrap();
    let out = env.path().join("out.wav");
    let export = |purpose: &str, reason: &str| {
        env.run(&[
            "recordings",
            "export",
            &id,
            "--out",
            out.to_str().unwrap(),
            "--purpose",
            purpose,
            "--reason",
            reason,
        ])
    };
    let code = |o: std::process::Output| error_code(&String::from_utf8_lossy(&o.stderr));
    assert_eq!(
        code(export("marketing", "why not")).as_deref(),
        Some("purpose-not-in-policy")
    );
    assert_eq!(
        code(export("data-subject-request", "outside the workflow")).as_deref(),
        Some("purpose-reserved")
    );
    assert_eq!(
        code(export("legal-claim", "outside the workflow")).as_deref(),
        Some("purpose-reserved")
    );
    assert_eq!(
        code(export("internal-training", " ")).as_deref(),
        Some("reason-required")
    );
    assert!(!out.exists());
    assert!(export("internal-training", "coaching session 12").status.success());
    // A search by number is a read too.
    let search = [
        "recordings",
        "list",
        "--tenant",
        "posti",
        "--customer-number",
        "+447700900123",
        "--purpose",
        "marketing",
        "--reason",
        "x",
    ];
    assert_eq!(env.fails(&search), "purpose-not-in-policy");
    let no_reason = [
        "recordings",
        "list",
        "--tenant",
        "posti",
        "--customer-number",
        "+447700900123",
        "--purpose",
        "verify-agreement",
    ];
    assert_eq!(env.fails(&no_reason), "reason-required");

    let events = env.audit();
    let exports: Vec<_> = events.iter().filter(|e| e["action"] == "recording.download").collect();
    let outcomes: Vec<(&str, &str)> = exports
        .iter()
        .map(|e| (e["purpose"].as_str().unwrap(), e["outcome"].as_str().unwrap()))
        .collect();
    assert_eq!(
        outcomes,
        [
            ("marketing", "denied"),
            ("data-subject-request", "denied"),
            ("legal-claim", "denied"),
            ("internal-training", "denied"),
            ("internal-training", "allowed")
        ]
    );
    assert_eq!(exports[4]["reason"], "coaching session 12");
    assert_eq!(exports[4]["recording_id"], id.as_str());
    let searches: Vec<_> = events
        .iter()
        .filter(|e| e["action"] == "recording.search")
        .map(|e| e["outcome"].clone())
        .collect();
    assert_eq!(searches, [json!("denied"), json!("denied")]);
    assert!(env.ok(&["audit", "verify"]).contains("audit chain ok"));
}

#[test]
fn all_version_recordings_keep_the_policy_version_they_were_made_under() {
    let env = Env::new(Some("eu-eea"));
    env.create_tenant("posti", "posti");
    // The tenant's version 1: the seed with the e2e fixture reader (support.rs).
    let v1 = policy_with_reader("posti");
    let first = env
        .ingest(
            "posti",
            &stereo_call(1),
            &meta("inbound", &["internal-training"], json!({})),
        )
        .unwrap();

    // Version 2 drops the training purpose.
    let start = v1.find("id = \"internal-training\"").expect("purpose in file");
    let block_start = v1[..start].rfind("[[purposes]]").unwrap();
    let block_end = block_start + v1[block_start + 1..].find("\n[").unwrap() + 1;
    let v2 = format!("{}{}", &v1[..block_start], &v1[block_end..]);
    let file = env.write("posti-v2.toml", v2.as_bytes());
    assert!(env.ok(&["policy", "update", "posti", &file]).contains("version 2"));
    // It takes effect once the role the policy names approves it (default: compliance).
    crate::policies::people(&env, "posti");
    as_user(
        &env,
        "dpo",
        crate::policies::COMPLIANCE_PW,
        &["policy", "approve", "posti", "2"],
    )
    .unwrap();

    assert_eq!(
        env.ingest(
            "posti",
            &stereo_call(1),
            &meta("inbound", &["internal-training"], json!({}))
        ),
        Err("purpose-not-in-policy".into()),
        "new calls follow version 2"
    );
    let second = env
        .ingest(
            "posti",
            &stereo_call(1),
            &meta("inbound", &["verify-agreement"], json!({})),
        )
        .unwrap();
    let version_of = |id: &str| env.json(&["recordings", "show", id, "--json"])["policy_version"].clone();
    assert_eq!(version_of(&first), 1);
    assert_eq!(version_of(&second), 2);

    // The old recording is still read under version 1, the new one under version 2.
    let out = env.path().join("o.wav");
    let read = |id: &str| {
        env.run(&[
            "recordings",
            "export",
            id,
            "--out",
            out.to_str().unwrap(),
            "--purpose",
            "internal-training",
            "--reason",
            "coaching",
        ])
    };
    assert!(read(&first).status.success());
    assert_eq!(
        error_code(&String::from_utf8_lossy(&read(&second).stderr)).as_deref(),
        Some("purpose-not-in-policy")
    );

    // Both versions stay readable, with who approved each.
    let versions = env.json(&["policy", "versions", "posti", "--json"]);
    let states: Vec<_> = versions
        .as_array()
        .unwrap()
        .iter()
        .map(|v| (v["version"].clone(), v["state"].clone()))
        .collect();
    assert_eq!(states, [(json!(1), json!("superseded")), (json!(2), json!("active"))]);
    assert_eq!(versions[1]["approved_by"], "user:posti/dpo");
    assert_eq!(env.ok(&["policy", "show", "posti", "1"]), v1);
    assert_eq!(env.ok(&["policy", "show", "posti", "2"]), v2);
    let change = env
        .audit()
        .into_iter()
        .find(|e| e["action"] == "policy.update")
        .expect("audited");
    assert_eq!(change["detail"]["to_version"], 2);
    // The same file again is not a new version.
    assert_eq!(env.fails(&["policy", "update", "posti", &file]), "policy-unchanged");
}

#[test]
fn arlo_review_warns_when_the_policy_is_past_its_review_date() {
    let env = Env::new(None);
    let file = policy_file("arlo-europe");
    let check = |now: &str| env.run(&["policy", "check", file.to_str().unwrap(), "--now", now]);
    let late = check("2026-11-23T12:00:00Z");
    assert!(late.status.success());
    let stderr = String::from_utf8_lossy(&late.stderr);
    assert!(
        stderr.contains("warning[policy-review-overdue]") && stderr.contains("2024-02-01"),
        "{stderr}"
    );
    let early = check("2023-06-01T12:00:00Z");
    assert!(early.status.success());
    assert!(
        !String::from_utf8_lossy(&early.stderr).contains("warning"),
        "no warning before the review date"
    );
    // Binding a tenant to an overdue policy warns too, and `tenant show` reports it.
    let create = env.run(&["tenant", "create", "arlo", "--policy", file.to_str().unwrap()]);
    assert!(String::from_utf8_lossy(&create.stderr).contains("policy-review-overdue"));
    let shown = env.json(&["tenant", "show", "arlo", "--json"]);
    assert_eq!(shown["review"]["status"], "overdue");
    assert_eq!(shown["review"]["due"], "2024-02-01");
}
