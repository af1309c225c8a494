//! Data-subject requests over the HTTP API (`/v1/requests…`) of a running server with a
//! real HTTP client: a Webeo copy request from receipt to the signed bundle in the answer
//! (WEBEO-REQUEST, WEBEO-NOSHARE), and bad input answered with 4xx codes: malformed
//! JSON, unknown fields and ids, invalid times and decisions, another tenant's request.

use std::collections::HashMap;

use base64::Engine;
use reqwest::blocking::Client;
use serde_json::{Value, json};

use crate::http::serve;
use crate::requests::{CLERK_PW, HANDLER_PW, call, people};
use crate::support::*;

struct Api {
    client: Client,
    base: String,
}

impl Api {
    fn login(&self, tenant: &str, name: &str, password: &str) -> String {
        let answer: Value = self
            .client
            .post(format!("{}/v1/login", self.base))
            .json(&json!({"tenant": tenant, "name": name, "password": password}))
            .send()
            .unwrap()
            .json()
            .unwrap();
        answer["token"].as_str().expect("a session").to_owned()
    }

    /// (status, JSON body) of `method path` with a JSON `body` (or none).
    fn call(&self, method: &str, bearer: &str, path: &str, body: Option<Value>) -> (u16, Value) {
        let url = format!("{}{path}", self.base);
        let mut builder = match method {
            "GET" => self.client.get(url),
            "DELETE" => self.client.delete(url),
            _ => self.client.post(url),
        };
        if !bearer.is_empty() {
            builder = builder.bearer_auth(bearer);
        }
        if let Some(body) = body {
            builder = builder.json(&body);
        }
        let r = builder.send().unwrap();
        (r.status().as_u16(), r.json().unwrap_or(Value::Null))
    }

    fn post(&self, bearer: &str, path: &str, body: Value) -> (u16, Value) {
        self.call("POST", bearer, path, Some(body))
    }

    /// The error code of `method path`, with its status.
    fn refused(&self, method: &str, bearer: &str, path: &str, body: Option<Value>) -> (u16, String) {
        let (status, body) = self.call(method, bearer, path, body);
        (status, body["error"]["code"].as_str().unwrap_or_default().to_owned())
    }

    /// A raw body with a content type, for malformed JSON.
    fn raw(&self, bearer: &str, path: &str, content_type: &str, body: &str) -> (u16, String) {
        let r = self
            .client
            .post(format!("{}{path}", self.base))
            .bearer_auth(bearer)
            .header("content-type", content_type)
            .body(body.to_owned())
            .send()
            .unwrap();
        let status = r.status().as_u16();
        let body: Value = r.json().unwrap_or(Value::Null);
        (status, body["error"]["code"].as_str().unwrap_or_default().to_owned())
    }
}

fn err(status: u16, code: &str) -> (u16, String) {
    (status, code.to_owned())
}

#[test]
fn webeo_request_lifecycle_over_http_with_bad_input_codes() {
    let env = Env::new(Some("uk"));
    people(&env, "webeo", "webeo", "data-compliance-team");
    env.ok(&["tenant", "set", "webeo", "--country", "GB"]);
    // A second Webeo tenant with its own handler: another tenant's requests do not exist for it.
    people(&env, "webeo2", "webeo", "data-compliance-team");
    let recording = call(
        &env,
        "webeo",
        "outbound",
        &["protection"],
        "+447700900123",
        "2026-11-20T10:00:00Z",
        json!({}),
    );
    let server = serve(&env);
    let api = Api {
        client: Client::new(),
        base: server.base.clone(),
    };
    let handler = api.login("webeo", "handler", HANDLER_PW);
    let clerk = api.login("webeo", "clerk", CLERK_PW);
    let stranger = api.login("webeo2", "handler", HANDLER_PW);
    let new = json!({"type": "copy", "channel": "phone", "requester": "Jane Caller", "numbers": ["07700 900123"]});

    // Bad input to `POST /v1/requests`: each a 4xx with its code, nothing stored.
    assert_eq!(
        api.raw(&handler, "/v1/requests", "application/json", "{\"type\": "),
        err(400, "json-invalid")
    );
    assert_eq!(
        api.raw(&handler, "/v1/requests", "text/plain", "hello"),
        err(415, "content-type-invalid")
    );
    let mut unknown_field = new.clone();
    unknown_field["priority"] = json!("high");
    assert_eq!(
        api.refused("POST", &handler, "/v1/requests", Some(unknown_field)),
        err(400, "json-invalid")
    );
    let mut bad_type = new.clone();
    bad_type["type"] = json!("everything");
    assert_eq!(
        api.refused("POST", &handler, "/v1/requests", Some(bad_type)),
        err(400, "request-type-unknown")
    );
    let mut bad_number = new.clone();
    bad_number["numbers"] = json!(["not a number"]);
    assert_eq!(
        api.refused("POST", &handler, "/v1/requests", Some(bad_number)),
        err(400, "number-invalid")
    );
    assert_eq!(
        api.refused("POST", "", "/v1/requests", Some(new.clone())),
        err(401, "auth-required")
    );
    assert_eq!(
        api.refused("POST", &clerk, "/v1/requests", Some(new.clone())),
        err(403, "role-required")
    );
    let (status, listed) = api.call("GET", &handler, "/v1/requests", None);
    assert_eq!((status, listed), (200, json!([])));

    let (status, opened) = api.post(&handler, "/v1/requests", new.clone());
    assert_eq!(status, 201, "{opened}");
    assert_eq!(
        (opened["state"].as_str(), opened["due_on"].is_string()),
        (Some("received"), true)
    );
    assert_eq!(opened["numbers"], json!(["+447700900xxx"]));
    let id = opened["id"].as_str().unwrap().to_owned();
    let path = |tail: &str| format!("/v1/requests/{id}{tail}");

    // Unknown ids, and another tenant's request, answer 404 alike.
    let missing = "/v1/requests/0190c0de-0000-7000-8000-000000000000";
    assert_eq!(
        api.refused("GET", &handler, missing, None),
        err(404, "request-not-found")
    );
    assert_eq!(
        api.refused("GET", &handler, "/v1/requests/nope", None),
        err(404, "request-not-found")
    );
    assert_eq!(
        api.refused("GET", &stranger, &path(""), None),
        err(404, "request-not-found")
    );
    assert_eq!(
        api.refused("POST", &stranger, &path("/verify"), Some(json!({"method": "x"}))),
        err(404, "request-not-found")
    );
    assert_eq!(
        api.refused("GET", &stranger, "/v1/requests?tenant=webeo", None).0,
        403,
        "another tenant's list"
    );
    assert_eq!(
        api.refused("GET", &handler, "/v1/requests?sort=asc", None),
        err(400, "query-invalid")
    );

    // WEBEO-REQUEST: nothing is searched before the identity is verified.
    assert_eq!(
        api.refused("POST", &handler, &path("/search"), Some(json!({}))),
        err(422, "identity-not-verified")
    );
    assert_eq!(
        api.refused("POST", &handler, &path("/verify"), Some(json!({"method": ""}))),
        err(400, "verification-method-invalid")
    );
    let (status, verified) = api.post(&handler, &path("/verify"), json!({"method": "security questions"}));
    assert_eq!((status, verified["state"].as_str()), (200, Some("identity-verified")));
    assert_eq!(
        api.refused("POST", &handler, &path("/verify"), Some(json!({"method": "again"}))),
        err(409, "request-already-verified")
    );
    for (body, expected) in [
        (json!({"time": "10:00"}), err(400, "time-without-date")),
        (json!({"date": "2026-11-20", "time": "25:99"}), err(400, "time-invalid")),
        (json!({"date": "20/11/2026"}), err(400, "json-invalid")),
        (
            json!({"date": "2026-11-20", "window_minutes": 100000}),
            err(400, "window-invalid"),
        ),
    ] {
        assert_eq!(api.refused("POST", &handler, &path("/search"), Some(body)), expected);
    }
    let (status, found) = api.post(
        &handler,
        &path("/search"),
        json!({"date": "2026-11-20", "time": "10:10"}),
    );
    assert_eq!(status, 200, "{found}");
    assert_eq!(found["recordings"][0]["recording_id"], recording.as_str());
    assert_eq!(found["state"], "searched");

    for (body, expected) in [
        (
            json!({"recording": recording, "decision": "maybe"}),
            err(400, "decision-invalid"),
        ),
        (
            json!({"recording": recording, "decision": "deny"}),
            err(400, "decision-invalid"),
        ),
        (
            json!({"recording": recording, "decision": "deny", "reason": "because"}),
            err(400, "deny-reason-unknown"),
        ),
        (
            json!({"recording": "0190c0de-0000-7000-8000-000000000000", "decision": "fulfil"}),
            err(409, "recording-not-in-request"),
        ),
    ] {
        assert_eq!(api.refused("POST", &handler, &path("/decisions"), Some(body)), expected);
    }
    let (status, decided) = api.post(
        &handler,
        &path("/decisions"),
        json!({"recording": recording, "decision": "fulfil"}),
    );
    assert_eq!((status, decided["state"].as_str()), (200, Some("decided")));
    // A copy request never opens a playback session.
    assert_eq!(
        api.refused(
            "POST",
            &handler,
            &path("/playback"),
            Some(json!({"recording": recording}))
        ),
        err(422, "request-not-supervised-playback")
    );

    // Fulfilled: the signed bundle is in the answer and verifies as its recipient would.
    let (status, done) = api.call("POST", &handler, &path("/fulfil"), None);
    assert_eq!(status, 200, "{done}");
    assert_eq!(done["request"]["state"], "fulfilled");
    assert_eq!(done["request"]["recordings"][0]["outcome"], "copied");
    let files: HashMap<String, Vec<u8>> = done["bundle"]["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            let bytes = base64::engine::general_purpose::STANDARD
                .decode(f["content_base64"].as_str().unwrap())
                .unwrap();
            assert_eq!(f["size"].as_u64(), Some(bytes.len() as u64));
            (f["name"].as_str().unwrap().to_owned(), bytes)
        })
        .collect();
    let manifest = service::bundle::verify_bundle(&files).expect("the bundle verifies");
    assert_eq!(manifest["request_id"], id.as_str());
    assert_eq!(manifest["recordings"][0]["metadata"]["subject_number"], "+447700900123");
    assert!(files.contains_key(&format!("recordings/{recording}.wav")));
    assert_eq!(
        api.refused("POST", &handler, &path("/fulfil"), None),
        err(409, "request-finished")
    );
    let (_, shown) = api.call("GET", &handler, &path(""), None);
    assert_eq!(shown["state"], "fulfilled");

    // Close: a reason is required; the overdue list is empty; listings show the requests.
    let (_, second) = api.post(&handler, "/v1/requests", new);
    let second = second["id"].as_str().unwrap().to_owned();
    let close = format!("/v1/requests/{second}/close");
    assert_eq!(
        api.refused("POST", &handler, &close, Some(json!({"reason": " "}))),
        err(400, "reason-required")
    );
    assert_eq!(
        api.refused("POST", &handler, &close, None),
        err(415, "content-type-invalid")
    );
    let (status, closed) = api.post(&handler, &close, json!({"reason": "withdrawn by the requester"}));
    assert_eq!((status, closed["state"].as_str()), (200, Some("closed")));
    let (_, all) = api.call("GET", &handler, "/v1/requests", None);
    assert_eq!(all.as_array().unwrap().len(), 2);
    let (status, overdue) = api.call("GET", &handler, "/v1/requests?overdue=true", None);
    assert_eq!((status, overdue), (200, json!([])));
    assert_eq!(
        api.refused("POST", &handler, &path("/lift-restriction"), None),
        err(409, "no-restriction")
    );
    drop(server);
    let exported = env.ok(&["audit", "export"]);
    assert!(!exported.contains("900123"), "the audit log holds no number");
    assert!(exported.contains("\"request.bundle\""));
    env.ok(&["audit", "verify"]);
}
