//! Tenant isolation over HTTP (TO-SELFSERVICE, issue 4): another tenant's recording ids
//! answer exactly like ids that do not exist, on every recording path, for a person whose
//! rules cover their whole own tenant; a search covers only the bearer's tenant; and each
//! attempt is audited as denied.

use reqwest::blocking::Client;
use serde_json::{Value, json};

use crate::http::serve;
use crate::support::*;

#[test]
fn to_selfservice_another_tenants_recording_ids_answer_exactly_like_missing_ones() {
    let env = Env::new(Some("eu-eea"));
    env.create_tenant("home", "posti");
    env.create_tenant("other", "posti");
    let call = |tenant: &str| {
        let meta = meta("inbound", &["verify-agreement"], json!({}));
        env.ingest(tenant, &stereo_call(1), &meta).unwrap()
    };
    let mine = call("home");
    let theirs = call("other");
    let missing = "0190d6d8-0000-7000-8000-000000000000";
    let reader = env.reader("home");
    assert_eq!(reader, "home/reader");
    let purpose = "verify-agreement".to_owned();

    let server = serve(&env);
    let client = Client::new();
    let token = server.token("home", "reader", READER_PASSWORD);
    let read = [("purpose", purpose.as_str()), ("reason", "isolation check")];
    let get = |path: String| -> (u16, String) {
        let response = client
            .get(format!("{}{path}", server.base))
            .query(&read)
            .bearer_auth(&token)
            .send()
            .unwrap();
        (response.status().as_u16(), response.text().unwrap())
    };

    // The reader's own tenant answers (so the refusals below are about the tenant).
    for path in [format!("/v1/recordings/{mine}"), format!("/v1/recordings/{mine}/audio")] {
        assert_eq!(get(path.clone()).0, 200, "{path}");
    }
    for suffix in ["", "/audio", "/download", "/transcripts"] {
        let (status, body) = get(format!("/v1/recordings/{theirs}{suffix}"));
        let (missing_status, missing_body) = get(format!("/v1/recordings/{missing}{suffix}"));
        assert_eq!(status, 404, "{suffix}: {body}");
        assert_eq!(
            (status, body.replace(&theirs, "ID")),
            (missing_status, missing_body.replace(missing, "ID")),
            "another tenant's id and a missing one answer alike on {suffix:?}"
        );
        assert!(!body.contains("other"), "the answer names no tenant: {body}");
    }
    // A search covers the bearer's own tenant only: the other tenant's call is not in it,
    // and no query parameter names another tenant.
    let (status, body) = get("/v1/recordings".to_owned());
    assert_eq!(status, 200, "{body}");
    let ids: Vec<String> = serde_json::from_str::<Value>(&body)
        .unwrap()
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(ids, std::slice::from_ref(&mine));
    let named = client
        .get(format!("{}/v1/recordings", server.base))
        .query(&[
            ("tenant", "other"),
            ("purpose", purpose.as_str()),
            ("reason", "isolation check"),
        ])
        .bearer_auth(&token)
        .send()
        .unwrap();
    assert_eq!(named.status().as_u16(), 400);
    drop(server);

    // Every attempt on the other tenant's id is in the audit log as denied, with the
    // recording's id kept only in the home tenant's trail of the attempt.
    let denied: Vec<Value> = env
        .audit()
        .into_iter()
        .filter(|e| e["actor"] == "user:home/reader" && e["outcome"] == "denied")
        .collect();
    let on_theirs = denied.iter().filter(|e| e.to_string().contains(&theirs)).count();
    assert!(on_theirs >= 4, "one denial per path tried: {denied:?}");
    assert!(
        denied.iter().all(|e| e["tenant"] != "other"),
        "the attempts are recorded under the reader's tenant: {denied:?}"
    );
}
