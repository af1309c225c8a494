//! The HTTP API of a running `callvault serve`, driven with a real HTTP client.

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use reqwest::blocking::{Client, multipart};
use serde_json::{Value, json};

use crate::support::*;

/// A running server, stopped when dropped.
pub(crate) struct Server {
    pub(crate) child: Child,
    pub(crate) base: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Server {
    /// A bearer token for `tenant`/`name` (`POST /v1/login` with the password).
    pub(crate) fn token(&self, tenant: &str, name: &str, password: &str) -> String {
        let answer: serde_json::Value = reqwest::blocking::Client::new()
            .post(format!("{}/v1/login", self.base))
            .json(&serde_json::json!({"tenant": tenant, "name": name, "password": password}))
            .send()
            .unwrap()
            .json()
            .unwrap();
        answer["token"].as_str().expect("token").to_owned()
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

pub(crate) fn serve(env: &Env) -> Server {
    let port = free_port();
    let child = Command::new(BIN)
        .current_dir(env.path())
        .args([
            "serve",
            "--http-listen",
            &format!("127.0.0.1:{port}"),
            "--sip-listen",
            "127.0.0.1:0",
        ])
        .env("RUST_LOG", "debug")
        .stdout(Stdio::null())
        // A file, not a pipe nobody reads: a full pipe would stall the server.
        .stderr(std::fs::File::create(env.path().join("serve-http.log")).expect("log file"))
        .spawn()
        .expect("start serve");
    let server = Server {
        child,
        base: format!("http://127.0.0.1:{port}"),
    };
    let deadline = Instant::now() + Duration::from_secs(30);
    while Instant::now() < deadline {
        if reqwest::blocking::get(format!("{}/healthz", server.base)).is_ok_and(|r| r.status().is_success()) {
            return server;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    panic!("server did not become healthy");
}

pub(crate) fn post(client: &Client, server: &Server, tenant: &str, meta: &Value, wav: Vec<u8>) -> (u16, Value) {
    let form = multipart::Form::new()
        .text("tenant", tenant.to_owned())
        .part(
            "meta",
            multipart::Part::bytes(meta.to_string().into_bytes())
                .mime_str("application/json")
                .unwrap(),
        )
        .part(
            "audio",
            multipart::Part::bytes(wav)
                .file_name("call.wav")
                .mime_str("audio/wav")
                .unwrap(),
        );
    let response = client
        .post(format!("{}/v1/recordings", server.base))
        .multipart(form)
        .send()
        .unwrap();
    let status = response.status().as_u16();
    (status, response.json().unwrap_or(Value::Null))
}

#[test]
fn http_ingest_keeps_permitted_calls_and_refuses_with_codes() {
    let env = Env::new(Some("eu-eea"));
    env.create_tenant("arlo", "arlo-europe");
    let server = serve(&env);
    let client = Client::new();

    let health: Value = client
        .get(format!("{}/healthz", server.base))
        .send()
        .unwrap()
        .json()
        .unwrap();
    assert_eq!(health["status"], "ok");

    let consent = json!({"consent": {"granted": true, "digit": "1", "at": "2026-11-20T10:00:03Z"}, "customer_number": "+4791234567"});
    let (status, body) = post(
        &client,
        &server,
        "arlo",
        &meta("inbound", &["quality"], consent.clone()),
        stereo_call(1),
    );
    assert_eq!(status, 201, "{body}");
    let id = body["id"].as_str().unwrap().to_owned();
    assert_eq!(body["policy_version"], 1);

    let (status, body) = post(
        &client,
        &server,
        "arlo",
        &meta("outbound", &["quality"], consent.clone()),
        stereo_call(1),
    );
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (422, Some("direction-not-recorded"))
    );
    assert_eq!(body["error"]["rule"], "recording.directions");

    let (status, body) = post(
        &client,
        &server,
        "nobody",
        &meta("inbound", &["quality"], consent.clone()),
        stereo_call(1),
    );
    assert_eq!((status, body["error"]["code"].as_str()), (404, Some("tenant-unknown")));

    let (status, body) = post(
        &client,
        &server,
        "arlo",
        &json!({"direction": "inbound"}),
        stereo_call(1),
    );
    assert_eq!((status, body["error"]["code"].as_str()), (400, Some("meta-invalid")));

    let (status, body) = post(
        &client,
        &server,
        "arlo",
        &meta("inbound", &["quality"], consent),
        b"RIFFxxxxWAVE".to_vec(),
    );
    assert_eq!((status, body["error"]["code"].as_str()), (400, Some("wav-bad-format")));

    // Not multipart at all; an unknown route; a wrong method.
    let r = client
        .post(format!("{}/v1/recordings", server.base))
        .body("hello")
        .send()
        .unwrap();
    assert_eq!(r.status().as_u16(), 400);
    assert_eq!(r.json::<Value>().unwrap()["error"]["code"], "multipart-invalid");
    let r = client.get(format!("{}/v1/nothing", server.base)).send().unwrap();
    assert_eq!(
        (r.status().as_u16(), r.json::<Value>().unwrap()["error"]["code"].clone()),
        (404, json!("route-not-found"))
    );
    let r = client.delete(format!("{}/v1/recordings", server.base)).send().unwrap();
    assert_eq!(r.status().as_u16(), 405);

    let metrics = client
        .get(format!("{}/metrics", server.base))
        .send()
        .unwrap()
        .text()
        .unwrap();
    assert!(
        metrics.contains("callvault_ingest_total{outcome=\"stored\",code=\"\"} 1"),
        "{metrics}"
    );
    assert!(metrics.contains("code=\"direction-not-recorded\""));
    assert!(!metrics.contains("91234567"));
    // The recorder's and the SIP layer's counters are exported too, and the exposition
    // still ends with its EOF marker.
    assert!(
        metrics.contains("callvault_recorder_calls_recorded_total 0"),
        "{metrics}"
    );
    assert!(metrics.contains("callvault_sip_parse_errors_total"), "{metrics}");
    assert!(metrics.trim_end().ends_with("# EOF"));

    drop(server);
    // What the server stored is visible to the CLI.
    let listed = env.list();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0]["id"], id.as_str());
}

#[test]
fn http_an_upload_over_the_limit_is_refused_with_413() {
    let env = Env::new(Some("eu-eea"));
    std::fs::write(
        env.path().join("callvault.toml"),
        "[storage]\nregion = \"eu-eea\"\n[http]\nmax_upload_mb = 1\n",
    )
    .unwrap();
    env.create_tenant("posti", "posti");
    let server = serve(&env);
    // A raw client: the server answers 413 as soon as the limit is passed and closes
    // the connection, so the rest of the body may not be accepted.
    use std::io::{Read, Write};
    let boundary = "XbOuNdArY";
    let mut body = format!("--{boundary}\r\nContent-Disposition: form-data; name=\"tenant\"\r\n\r\nposti\r\n--{boundary}\r\nContent-Disposition: form-data; name=\"audio\"; filename=\"a.wav\"\r\n\r\n").into_bytes();
    body.extend(stereo_call(40));
    body.extend(format!("\r\n--{boundary}--\r\n").into_bytes());
    let address = server.base.trim_start_matches("http://");
    let mut stream = std::net::TcpStream::connect(address).unwrap();
    let head = format!(
        "POST /v1/recordings HTTP/1.1\r\nHost: {address}\r\nContent-Type: multipart/form-data; boundary={boundary}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    stream.write_all(head.as_bytes()).unwrap();
    let _ = stream.write_all(&body);
    let mut answer = String::new();
    let _ = stream.read_to_string(&mut answer);
    assert!(
        answer.starts_with("HTTP/1.1 413"),
        "{}",
        answer.lines().next().unwrap_or_default()
    );
    assert!(answer.contains("\"code\":\"body-too-large\""), "{answer}");
    drop(server);
    assert!(env.list().is_empty());
}

#[test]
fn http_serve_refuses_to_listen_beyond_loopback_without_authentication() {
    let env = Env::new(None);
    let out = env.run(&["serve", "--http-listen", "0.0.0.0:0"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("no authentication"));
}

#[test]
fn http_openapi_document_lists_every_route_the_server_answers() {
    let env = Env::new(Some("eu-eea"));
    let server = serve(&env);
    let client = Client::new();
    let doc: Value = client
        .get(format!("{}/openapi.json", server.base))
        .send()
        .unwrap()
        .json()
        .expect("JSON");
    assert!(doc["openapi"].as_str().unwrap().starts_with("3.1"), "{doc}");
    let paths = doc["paths"].as_object().expect("paths");
    let mut documented: Vec<(String, String)> = paths
        .iter()
        .flat_map(|(path, item)| {
            item.as_object()
                .unwrap()
                .keys()
                .map(move |method| (method.clone(), path.clone()))
        })
        .collect();
    documented.sort();
    let expected = [
        ("delete", "/v1/derivatives/{id}/spans/{index}"),
        ("delete", "/v1/grants/{id}"),
        ("delete", "/v1/playback/{session}"),
        ("delete", "/v1/recordings/{id}"),
        ("get", "/healthz"),
        ("get", "/metrics"),
        ("get", "/openapi.json"),
        ("get", "/v1/attestations"),
        ("get", "/v1/audit/events"),
        ("get", "/v1/audit/verify"),
        ("get", "/v1/derivatives"),
        ("get", "/v1/derivatives/{id}"),
        ("get", "/v1/derivatives/{id}/download"),
        ("get", "/v1/derivatives/{id}/spans"),
        ("get", "/v1/derivatives/{id}/transcript"),
        ("get", "/v1/grants"),
        ("get", "/v1/playback/{session}/audio"),
        ("get", "/v1/policies"),
        ("get", "/v1/policies/{version}/render"),
        ("get", "/v1/recordings"),
        ("get", "/v1/recordings/{id}"),
        ("get", "/v1/recordings/{id}/audio"),
        ("get", "/v1/recordings/{id}/download"),
        ("get", "/v1/recordings/{id}/transcripts"),
        ("get", "/v1/requests"),
        ("get", "/v1/requests/{id}"),
        ("get", "/v1/teams"),
        ("get", "/v1/users"),
        ("post", "/v1/attestations"),
        ("post", "/v1/derivatives"),
        ("post", "/v1/derivatives/{id}/approval"),
        ("post", "/v1/derivatives/{id}/spans"),
        ("post", "/v1/grants"),
        ("post", "/v1/login"),
        ("post", "/v1/logout"),
        ("post", "/v1/recordings"),
        ("post", "/v1/recordings/{id}/findings"),
        ("post", "/v1/recordings/{id}/transcripts"),
        ("post", "/v1/requests"),
        ("post", "/v1/requests/{id}/close"),
        ("post", "/v1/requests/{id}/consents"),
        ("post", "/v1/requests/{id}/decisions"),
        ("post", "/v1/requests/{id}/fulfil"),
        ("post", "/v1/requests/{id}/lift-restriction"),
        ("post", "/v1/requests/{id}/playback"),
        ("post", "/v1/requests/{id}/search"),
        ("post", "/v1/requests/{id}/verify"),
        ("post", "/v1/screening"),
        ("post", "/v1/teams"),
        ("post", "/v1/tokens"),
        ("post", "/v1/users"),
        ("post", "/v1/users/{name}/team"),
    ];
    assert_eq!(documented, expected.map(|(m, p)| (m.to_owned(), p.to_owned())).to_vec());
    // Every documented operation is really routed: no "route-not-found" or
    // "method-not-allowed" answer, whatever else the empty request earns.
    for (method, path) in &documented {
        let url = format!("{}{path}", server.base);
        let answer = match method.as_str() {
            "get" => client.get(&url).send().unwrap(),
            "delete" => client.delete(&url).send().unwrap(),
            _ => client.post(&url).send().unwrap(),
        };
        let status = answer.status().as_u16();
        let body = answer.text().unwrap_or_default();
        assert!(
            status != 404 && status != 405 || !body.contains("route-not-found") && !body.contains("method-not-allowed"),
            "{method} {path}: {status} {body}"
        );
    }
    // The error envelope and the bearer scheme are part of the document.
    assert!(doc["components"]["schemas"]["ErrorBody"].is_object(), "{doc}");
    assert_eq!(doc["components"]["securitySchemes"]["bearer"]["scheme"], "bearer");
    // An undocumented path is not served.
    let missing = client.get(format!("{}/v1/nothing", server.base)).send().unwrap();
    assert_eq!(missing.status().as_u16(), 404);
}
