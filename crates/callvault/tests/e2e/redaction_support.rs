//! Helpers of the redaction tests over HTTP: a client for a running `callvault serve`
//! (bearer tokens, JSON or raw bodies, answers with their error code), Whisper JSON from
//! known word times, a noise call, and the check that a derivative's redacted ranges are
//! silent while every other sample is the source's.

use std::time::Duration;

use reqwest::Method;
use reqwest::blocking::Client;
use serde_json::{Value, json};

use crate::http::{Server, post, serve};
use crate::support::*;

const RATE: usize = 8000;
/// The call lasts this long (two channels of noise).
const SECONDS: usize = 6;

/// A running server and a client for it.
pub(crate) struct Http {
    pub(crate) server: Server,
    pub(crate) client: Client,
}

/// An answer: status, JSON body (`Null` if none), raw body, `X-Content-SHA256`.
pub(crate) struct Answer {
    pub(crate) status: u16,
    pub(crate) json: Value,
    pub(crate) bytes: Vec<u8>,
    pub(crate) sha256: Option<String>,
}

impl Answer {
    /// The error code of a JSON error answer ("" if none).
    pub(crate) fn code(&self) -> &str {
        self.json["error"]["code"].as_str().unwrap_or_default()
    }
}

impl Http {
    pub(crate) fn start(env: &Env) -> Http {
        Http {
            server: serve(env),
            client: Client::builder().timeout(Duration::from_secs(120)).build().unwrap(),
        }
    }

    /// `method path` with an optional bearer token and body (JSON value or raw text).
    pub(crate) fn raw(&self, method: Method, path: &str, token: Option<&str>, body: Option<(&str, String)>) -> Answer {
        let mut request = self.client.request(method, format!("{}{path}", self.server.base));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        if let Some((content_type, text)) = body {
            request = request.header("content-type", content_type).body(text);
        }
        let response = request.send().unwrap();
        let status = response.status().as_u16();
        let sha256 = response
            .headers()
            .get("x-content-sha256")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let bytes = response.bytes().unwrap().to_vec();
        let json = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        if status >= 400 {
            assert!(
                json["error"]["code"].is_string(),
                "{status} without a JSON code: {json}"
            );
        }
        Answer {
            status,
            json,
            bytes,
            sha256,
        }
    }

    pub(crate) fn call(&self, method: Method, path: &str, token: &str, body: Option<Value>) -> Answer {
        self.raw(
            method,
            path,
            Some(token),
            body.map(|b| ("application/json", b.to_string())),
        )
    }

    pub(crate) fn get(&self, path: &str, token: &str) -> Answer {
        self.call(Method::GET, path, token, None)
    }

    pub(crate) fn post(&self, path: &str, token: &str, body: Value) -> Answer {
        self.call(Method::POST, path, token, Some(body))
    }

    /// Expects a success; returns the JSON body.
    pub(crate) fn ok(&self, answer: Answer, what: &str) -> Value {
        assert!(
            (200..300).contains(&answer.status),
            "{what}: {} {}",
            answer.status,
            answer.json
        );
        answer.json
    }

    pub(crate) fn login(&self, tenant: &str, name: &str, password: &str) -> String {
        let answer = self.raw(
            Method::POST,
            "/v1/login",
            None,
            Some((
                "application/json",
                json!({"tenant": tenant, "name": name, "password": password}).to_string(),
            )),
        );
        let body = self.ok(answer, "login");
        body["token"].as_str().unwrap().to_owned()
    }

    /// Ingests a call over HTTP; returns its id.
    pub(crate) fn ingest(&self, tenant: &str, meta: &Value, wav: Vec<u8>) -> String {
        let (status, body) = post(&self.client, &self.server, tenant, meta, wav);
        assert_eq!(status, 201, "ingest: {body}");
        body["id"].as_str().unwrap().to_owned()
    }
}

/// Whisper JSON of `(word, start_ms, end_ms)`.
pub(crate) fn whisper(words: &[(&str, u64, u64)]) -> Value {
    let list: Vec<Value> = words
        .iter()
        .map(|(w, s, e)| json!({"word": format!(" {w}"), "start": *s as f64 / 1000.0, "end": *e as f64 / 1000.0}))
        .collect();
    json!({"segments": [{"id": 0, "start": 0.0, "end": SECONDS as f64, "text": "", "words": list}]})
}

/// Every redacted sample range of a derivative is `fill` (0 here: silence) and every
/// other sample equals the source's, channel by channel (customer left).
pub(crate) fn assert_redacted(view: &Value, wav: &[u8], source: &[Vec<i16>]) {
    let parsed = media::parse_wav(wav).expect("a WAV");
    let got = parsed.to_pcm16_channels();
    assert_eq!(got.len(), source.len());
    let mut filled = 0;
    for stream in view["streams"].as_array().unwrap() {
        let channel = stream["idx"].as_u64().unwrap() as usize;
        let ranges: Vec<(usize, usize)> = stream["redacted_samples"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| (r[0].as_u64().unwrap() as usize, r[1].as_u64().unwrap() as usize))
            .collect();
        let offset = view["from_ms"].as_u64().unwrap() as usize * RATE / 1000;
        for (i, sample) in got[channel].iter().enumerate() {
            if ranges.iter().any(|(s, e)| (*s..*e).contains(&i)) {
                assert_eq!(*sample, 0, "channel {channel} sample {i} is not silent");
                filled += 1;
            } else {
                assert_eq!(
                    *sample,
                    source[channel][offset + i],
                    "channel {channel} sample {i} changed"
                );
            }
        }
    }
    assert!(filled > 0, "nothing was redacted: {view}");
}

/// The noise of the call's two channels (customer, agent).
pub(crate) fn call_audio() -> Vec<Vec<i16>> {
    vec![samples(21, RATE * SECONDS), samples(22, RATE * SECONDS)]
}

/// Tenants `csi` (people: admin, faq, ceo, the fixture reader who may erase) and `other`
/// under CSI's policy, a served installation, one call in `csi` with its tokens.
/// SHA-256 of `bytes`, hex.
pub(crate) fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(bytes))
}
