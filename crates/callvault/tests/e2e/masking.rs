//! Masking everywhere (POSTI-FIELDS, issue 4): a SIPREC call carries the customer's full
//! number in the From header, the metadata AoR, the display name and a vendor extension,
//! in E.164 and in national form; afterwards no API answer, log line, `/metrics` output or
//! audit export holds it (Posti's policy keeps it masked with a keyed hash beside it).

use std::time::Duration;

use reqwest::blocking::Client;
use serde_json::Value;

use crate::support::*;

/// Every way the number can be written, without the forms' shared separators.
const FORMS: [&str; 4] = ["447700900123", "07700900123", "07700 900123", "7700900123"];

fn holds_number(text: &str) -> Option<&'static str> {
    FORMS.into_iter().find(|form| text.contains(form))
}

#[test]
fn posti_fields_the_full_number_is_in_no_api_answer_log_metric_or_audit_export() {
    if !sipp_available("posti_fields_the_full_number_is_in_no_api_answer_log_metric_or_audit_export") {
        return;
    }
    let env = Env::new(Some("eu-eea"));
    env.create_tenant("posti", "posti");
    env.ok(&[
        "tenant",
        "set",
        "posti",
        "--country",
        "GB",
        "--agent-pattern",
        "pbx.example.com",
    ]);
    let reader = env.reader("posti");
    let server = env.serve_sip("posti", None);
    let outcome = run_sipp(&env, "masking", "siprec_masking.xml", &server);
    assert!(outcome.success(), "sipp: {}\n{}", outcome.log, server.log());
    let client = Client::builder().timeout(Duration::from_secs(30)).build().unwrap();
    let token: Value = client
        .post(format!("{}/v1/login", server.http))
        .json(&serde_json::json!({"tenant": "posti", "name": "reader", "password": READER_PASSWORD}))
        .send()
        .unwrap()
        .json()
        .unwrap();
    let token = token["token"].as_str().expect("token").to_owned();
    let get = |path: &str, query: &[(&str, &str)]| {
        let response = client
            .get(format!("{}{path}", server.http))
            .query(query)
            .bearer_auth(&token)
            .send()
            .unwrap();
        assert!(response.status().is_success(), "{path}: {}", response.status());
        response.text().unwrap()
    };
    let read = [("purpose", "verify-agreement"), ("reason", "masking check")];
    let found = wait_for(Duration::from_secs(15), || {
        let list: Value = serde_json::from_str(&get("/v1/recordings", &read)).ok()?;
        let rows = list.as_array()?.clone();
        rows.iter().any(|r| r["state"] == "sealed").then_some(rows)
    })
    .expect("the call is recorded and sealed");
    let id = found[0]["id"].as_str().unwrap().to_owned();
    assert_eq!(found[0]["customer_number"], "+447700900xxx", "masked in the register");

    // Found by number, in either form, without the number being stored (keyed hash).
    for number in ["+447700900123", "07700 900123"] {
        let by_number = get(
            "/v1/recordings",
            &[
                ("purpose", "verify-agreement"),
                ("reason", "DSAR 9"),
                ("customer_number", number),
            ],
        );
        assert!(by_number.contains(&id), "search by {number}");
        assert_eq!(holds_number(&by_number), None, "search answer: {by_number}");
    }
    let answers = [
        ("search", get("/v1/recordings", &read)),
        ("metadata", get(&format!("/v1/recordings/{id}"), &read)),
        ("metrics", get("/metrics", &[])),
    ];
    for (what, text) in &answers {
        assert_eq!(holds_number(text), None, "{what} answer holds the number: {text}");
    }
    let audit = env.ok(&["audit", "export"]);
    assert_eq!(holds_number(&audit), None, "audit export holds the number");
    let shown = env.run_raw(
        &[
            "--as",
            &reader,
            "recordings",
            "show",
            &id,
            "--purpose",
            "verify-agreement",
            "--reason",
            "masking check",
        ],
        &[("CALLVAULT_PASSWORD", READER_PASSWORD)],
    );
    assert!(shown.status.success(), "{}", String::from_utf8_lossy(&shown.stderr));
    let shown = String::from_utf8_lossy(&shown.stdout).to_string();
    assert_eq!(holds_number(&shown), None, "CLI show: {shown}");
    // The server ran at RUST_LOG=debug for the whole call.
    let log = server.log();
    assert!(log.contains("DEBUG"), "the log is at debug level");
    if let Some(form) = holds_number(&log) {
        let line = log.lines().find(|l| l.contains(form)).unwrap_or_default();
        panic!("the serve log holds {form}: {line}");
    }
}
