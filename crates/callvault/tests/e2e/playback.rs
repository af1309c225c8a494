//! Supervised playback (POSTI-SUPERVISED) through a running server and a real HTTP
//! client: a Posti access request is fulfilled by a time-limited session in which the
//! visiting data subject listens (streamed, with `Range`), never by a copy or a download;
//! closing or expiry ends it (410); every open, stream, close and use after expiry is in
//! the audit log, which still verifies and holds no number.

use reqwest::blocking::{Client, Response};
use serde_json::{Value, json};

use crate::http::{Server, serve};
use crate::requests::{ADMIN_PW, CLERK_PW, HANDLER_PW, actions, as_user, call, people};
use crate::support::*;

struct Api<'a> {
    client: Client,
    server: &'a Server,
}

impl Api<'_> {
    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.server.base)
    }

    fn login(&self, name: &str, password: &str) -> String {
        let answer: Value = self
            .client
            .post(self.url("/v1/login"))
            .json(&json!({"tenant": "posti", "name": name, "password": password}))
            .send()
            .unwrap()
            .json()
            .unwrap();
        answer["token"].as_str().expect("a session").to_owned()
    }

    /// `POST path` with `body` as `bearer`: (status, JSON).
    fn post(&self, bearer: &str, path: &str, body: Value) -> (u16, Value) {
        let r = self
            .client
            .post(self.url(path))
            .bearer_auth(bearer)
            .json(&body)
            .send()
            .unwrap();
        (r.status().as_u16(), r.json().unwrap_or(Value::Null))
    }

    fn get(&self, bearer: &str, path: &str) -> Response {
        self.client.get(self.url(path)).bearer_auth(bearer).send().unwrap()
    }
}

fn code(response: Response) -> (u16, String) {
    let status = response.status().as_u16();
    let body: Value = response.json().unwrap_or(Value::Null);
    (status, body["error"]["code"].as_str().unwrap_or_default().to_owned())
}

#[test]
fn posti_supervised_playback_streams_only_and_expires() {
    let env = Env::new(Some("eu-eea"));
    people(&env, "posti", "posti", "compliance");
    env.ok(&["tenant", "set", "posti", "--country", "FI"]);
    for user in ["handler", "clerk"] {
        let args = [
            "attest",
            "add",
            user,
            "--training",
            "call-recording-basics",
            "--date",
            "2026-11-01",
        ];
        as_user(&env, "posti/admin", ADMIN_PW, &args, "").unwrap();
    }
    // The clerk took the call: Posti lets an agent listen to their own calls.
    let recording = call(
        &env,
        "posti",
        "inbound",
        &["verify-agreement"],
        "040 1234567",
        "2026-11-20T10:00:00Z",
        json!({"agent": "clerk"}),
    );
    let server = serve(&env);
    let api = Api {
        client: Client::new(),
        server: &server,
    };
    let handler = api.login("handler", HANDLER_PW);
    let clerk = api.login("clerk", CLERK_PW);

    // The request, through the HTTP API: received in person, identity, search, decision.
    let (status, opened) = api.post(
        &handler,
        "/v1/requests",
        json!({"type": "access", "channel": "in-person", "requester": "Jane Caller", "numbers": ["040 1234567"]}),
    );
    assert_eq!(status, 201, "{opened}");
    assert_eq!(opened["fulfilment"], "supervised-playback");
    let id = opened["id"].as_str().unwrap().to_owned();
    let path = |tail: &str| format!("/v1/requests/{id}{tail}");
    let (status, _) = api.post(&handler, &path("/verify"), json!({"method": "passport at the counter"}));
    assert_eq!(status, 200);
    let (status, found) = api.post(
        &handler,
        &path("/search"),
        json!({"date": "2026-11-20", "time": "10:05"}),
    );
    assert_eq!(
        (status, found["recordings"][0]["recording_id"].as_str()),
        (200, Some(recording.as_str()))
    );
    let (status, decided) = api.post(
        &handler,
        &path("/decisions"),
        json!({"recording": recording, "decision": "fulfil"}),
    );
    assert_eq!((status, decided["state"].as_str()), (200, Some("decided")));
    // Not fulfilled (and never a copy) before the subject listened.
    let (status, refused) = api.post(&handler, &path("/fulfil"), json!({}));
    assert_eq!(
        (status, refused["error"]["code"].as_str()),
        (409, Some("playback-not-held"))
    );
    // Only the request handler opens a session.
    let (status, refused) = api.post(&clerk, &path("/playback"), json!({"recording": recording}));
    assert_eq!(
        (status, refused["error"]["code"].as_str()),
        (403, Some("role-required"))
    );

    let (status, session) = api.post(
        &handler,
        &path("/playback"),
        json!({"recording": recording, "minutes": 30}),
    );
    assert_eq!(status, 201, "{session}");
    let token = session["token"].as_str().unwrap().to_owned();
    let session_id = session["session"]["id"].as_str().unwrap().to_owned();
    let audio = session["audio_path"].as_str().unwrap().to_owned();
    assert_eq!(audio, format!("/v1/playback/{session_id}/audio"));
    assert_eq!(session["session"]["state"], "active");

    // Streamed with Range, inline and not stored; the same bytes as the listen endpoint
    // gives a person the policy lets listen (the agent, own call).
    let ranged = api
        .client
        .get(api.url(&audio))
        .bearer_auth(&token)
        .header("Range", "bytes=0-1023")
        .send()
        .unwrap();
    assert_eq!(ranged.status().as_u16(), 206);
    let headers = ranged.headers().clone();
    assert_eq!(headers["content-type"], "audio/wav");
    assert_eq!(headers["content-disposition"], "inline");
    assert_eq!(headers["cache-control"], "no-store");
    let total: usize = headers["content-range"]
        .to_str()
        .unwrap()
        .rsplit('/')
        .next()
        .unwrap()
        .parse()
        .unwrap();
    let first_kib = ranged.bytes().unwrap().to_vec();
    let listened = api.get(
        &clerk,
        &format!("/v1/recordings/{recording}/audio?purpose=verify-agreement&reason=customer+dispute"),
    );
    assert_eq!(listened.status().as_u16(), 200);
    let listened = listened.bytes().unwrap().to_vec();
    assert_eq!(listened.len(), total);
    assert_eq!(first_kib, listened[..1024]);
    // An <audio> element cannot send headers: ?token= works too, for the whole file.
    let whole = api
        .client
        .get(api.url(&format!("{audio}?token={token}")))
        .send()
        .unwrap();
    assert_eq!(whole.status().as_u16(), 200);
    assert_eq!(whole.bytes().unwrap().to_vec(), listened);

    // No download path: none for the session, and Posti's policy refuses the normal one.
    let none = api
        .client
        .get(api.url(&format!("/v1/playback/{session_id}/download")))
        .bearer_auth(&token)
        .send()
        .unwrap();
    assert_eq!(code(none), (404, "route-not-found".to_owned()));
    for bearer in [&handler, &clerk] {
        let download = api.get(
            bearer,
            &format!("/v1/recordings/{recording}/download?purpose=verify-agreement&reason=customer+dispute"),
        );
        assert_eq!(download.status().as_u16(), 403);
    }
    // The reserved purpose is no way around it, and the session token is no API credential.
    let reserved = api.get(
        &handler,
        &format!("/v1/recordings/{recording}/audio?purpose=data-subject-request&reason=visit"),
    );
    assert_eq!(code(reserved), (403, "purpose-reserved".to_owned()));
    assert_eq!(
        code(api.get(
            &token,
            &format!("/v1/recordings/{recording}?purpose=verify-agreement&reason=x")
        )),
        (401, "token-invalid".to_owned())
    );
    // Without the token, or with the handler's own: refused.
    let bare = api.client.get(api.url(&audio)).send().unwrap();
    assert_eq!(code(bare), (401, "playback-token-required".to_owned()));
    assert_eq!(
        code(api.get(&handler, &audio)),
        (401, "playback-token-invalid".to_owned())
    );

    // Closed early: gone.
    let closed = api
        .client
        .delete(api.url(&format!("/v1/playback/{session_id}")))
        .bearer_auth(&handler)
        .send()
        .unwrap();
    assert_eq!(closed.status().as_u16(), 200);
    assert_eq!(code(api.get(&token, &audio)), (410, "playback-closed".to_owned()));

    // Expired: a session opened (CLI) 31 minutes ago for 30 minutes is gone now.
    let earlier = (chrono::Utc::now() - chrono::TimeDelta::minutes(31)).to_rfc3339();
    let args = [
        "request",
        "playback",
        "open",
        &id,
        "--recording",
        &recording,
        "--minutes",
        "30",
        "--now",
        &earlier,
        "--json",
    ];
    let opened: Value = serde_json::from_str(&as_user(&env, "posti/handler", HANDLER_PW, &args, "").unwrap()).unwrap();
    let expires: chrono::DateTime<chrono::Utc> = opened["expires_at"].as_str().unwrap().parse().unwrap();
    assert!(expires < chrono::Utc::now(), "expired a minute ago");
    let late = api
        .client
        .get(api.url(opened["audio_path"].as_str().unwrap()))
        .bearer_auth(opened["token"].as_str().unwrap())
        .send()
        .unwrap();
    assert_eq!(code(late), (410, "playback-expired".to_owned()));
    let future = (chrono::Utc::now() + chrono::TimeDelta::hours(1)).to_rfc3339();
    let mut ahead = args;
    ahead[9] = &future;
    assert!(
        as_user(&env, "posti/handler", HANDLER_PW, &ahead, "").is_err(),
        "never opened in the future"
    );

    // A copy request (Posti portability) never opens a session.
    let (_, copy) = api.post(
        &handler,
        "/v1/requests",
        json!({"type": "portability", "channel": "email", "requester": "Jane Caller", "numbers": ["040 1234567"]}),
    );
    let copy_id = copy["id"].as_str().unwrap();
    api.post(
        &handler,
        &format!("/v1/requests/{copy_id}/verify"),
        json!({"method": "signed scan"}),
    );
    api.post(&handler, &format!("/v1/requests/{copy_id}/search"), json!({}));
    api.post(
        &handler,
        &format!("/v1/requests/{copy_id}/decisions"),
        json!({"recording": recording, "decision": "fulfil"}),
    );
    let (status, refused) = api.post(
        &handler,
        &format!("/v1/requests/{copy_id}/playback"),
        json!({"recording": recording}),
    );
    assert_eq!(
        (status, refused["error"]["code"].as_str()),
        (422, Some("request-not-supervised-playback"))
    );

    // Fulfilled by supervised playback: recorded with the sessions, and no bundle.
    let (status, done) = api.post(&handler, &path("/fulfil"), json!({}));
    assert_eq!(status, 200, "{done}");
    assert_eq!(done["bundle"], Value::Null);
    assert_eq!(done["request"]["state"], "fulfilled");
    assert_eq!(done["request"]["recordings"][0]["outcome"], "played-supervised");
    let sessions = done["request"]["playback_sessions"].as_array().unwrap();
    assert_eq!(sessions.len(), 2);
    let first = sessions.iter().find(|s| s["id"] == session_id.as_str()).unwrap();
    assert_eq!(first["opened_by"], "user:posti/handler");
    assert_eq!(first["end"], "closed");
    let late = sessions.iter().find(|s| s["id"] != session_id.as_str()).unwrap();
    assert_eq!((late["state"].as_str(), late["end"].as_str()), (Some("expired"), None));
    drop(server);

    // Audited: open, stream, close, use after expiry; no number; the chain verifies.
    let done = |action: &str| {
        actions(&env, action)
            .into_iter()
            .filter(|e| e["outcome"] == "done")
            .count()
    };
    assert_eq!(done("playback.open"), 2);
    assert!(
        actions(&env, "playback.open")
            .iter()
            .any(|e| e["detail"]["code"] == "request-not-supervised-playback"),
        "the refusal for a copy request is audited"
    );
    let streams = actions(&env, "playback.stream");
    assert!(streams.iter().filter(|e| e["outcome"] == "allowed").count() >= 2);
    assert!(streams.iter().all(|e| e["purpose"] == "data-subject-request"));
    assert!(streams.iter().any(|e| e["detail"]["code"] == "playback-closed"));
    assert_eq!(done("playback.close"), 1);
    let expired = actions(&env, "playback.expired-use");
    assert_eq!(expired.len(), 1);
    assert_eq!(expired[0]["detail"]["code"], "playback-expired");
    assert!(
        actions(&env, "recording.play")
            .iter()
            .any(|e| e["purpose"] == "data-subject-request" && e["actor"] == "user:posti/handler")
    );
    assert!(actions(&env, "recording.export").is_empty(), "no copy was made");
    let text = serde_json::to_string(&env.audit()).unwrap();
    assert!(!text.contains("1234567"), "the audit log holds no number");
    assert!(!text.contains(&token), "nor a token");
    env.ok(&["audit", "verify"]);
}
