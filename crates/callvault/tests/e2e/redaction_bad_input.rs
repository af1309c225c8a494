//! Bad input to the redaction endpoints over HTTP: malformed JSON, unknown formats, kinds
//! and fills, bad ranges, padding and span times, spans outside the recording or the clip,
//! unknown and other tenants' ids. Every answer is a 4xx with a JSON error code (checked by
//! `Http::raw`), never a panic or a plain-text body.

use reqwest::Method;
use serde_json::{Value, json};

use crate::redaction_http::{CUSTOMER_WORDS, csi, import_both};
use crate::redaction_support::*;

/// One request and the answer it must get: method, path, bearer, body (content type and
/// text), status, code.
type Case<'a> = (
    Method,
    String,
    &'a str,
    Option<(&'static str, String)>,
    u16,
    &'static str,
);

const GET: Method = Method::GET;
const POST: Method = Method::POST;
const DELETE: Method = Method::DELETE;

const UNKNOWN: &str = "01890a5d-ac96-774b-bcce-b302099a8057";

fn run(http: &Http, cases: Vec<Case>) {
    for (method, path, token, body, status, code) in cases {
        let what = format!("{method} {path}");
        let answer = http.raw(method, &path, Some(token), body);
        assert_eq!(
            (answer.status, answer.code()),
            (status, code),
            "{what}: {}",
            answer.json
        );
    }
}

/// `base` with the fields of `extra` replaced, as a JSON body.
fn with(base: &Value, extra: Value) -> Option<(&'static str, String)> {
    let mut body = base.clone();
    for (k, v) in extra.as_object().unwrap() {
        body[k] = v.clone();
    }
    Some(("application/json", body.to_string()))
}

fn raw_json(text: &str) -> Option<(&'static str, String)> {
    Some(("application/json", text.to_owned()))
}

#[test]
fn http_redaction_bad_input_answers_4xx_with_a_code() {
    let c = csi();
    let (http, faq, them) = (&c.http, c.faq.as_str(), c.stranger.as_str());
    import_both(&c);

    // Transcripts and findings.
    let t = format!("/v1/recordings/{}/transcripts", c.id);
    let import = json!({"format": "whisper", "document": whisper(CUSTOMER_WORDS), "stream": "customer",
                        "purpose": "faq-content", "reason": "FAQ-12"});
    let ok = with(&import, json!({}));
    let find = format!("/v1/recordings/{}/findings", c.id);
    let read = "purpose=faq-content&reason=x";
    #[rustfmt::skip]
    let cases: Vec<Case> = vec![
        (POST, t.clone(), faq, raw_json("{\"format\": "), 400, "json-invalid"),
        (POST, t.clone(), faq, Some(("text/plain", import.to_string())), 415, "content-type-invalid"),
        (POST, t.clone(), faq, with(&import, json!({"format": "srt"})), 400, "format-unknown"),
        (POST, t.clone(), faq, with(&import, json!({"document": 7})), 400, "document-invalid"),
        (POST, t.clone(), faq, with(&import, json!({"document": {"segments": 7}})), 400, "transcript-invalid"),
        (POST, t.clone(), faq, with(&import, json!({"format": "vtt", "document": "not a vtt"})), 400, "transcript-invalid"),
        (POST, t.clone(), faq, with(&import, json!({"stream": "nobody"})), 400, "stream-unknown"),
        (POST, t.clone(), faq, with(&import, json!({"surprise": 1})), 400, "json-invalid"),
        (POST, t.clone(), faq, with(&import, json!({"reason": ""})), 403, "reason-required"),
        (POST, format!("/v1/recordings/{UNKNOWN}/transcripts"), faq, ok.clone(), 404, "not-found"),
        (POST, "/v1/recordings/nope/transcripts".into(), faq, ok.clone(), 404, "not-found"),
        (POST, t.clone(), them, ok.clone(), 404, "not-found"),
        (GET, format!("{t}?{read}"), them, None, 404, "not-found"),
        (GET, format!("{t}?{read}&what=1"), faq, None, 400, "query-invalid"),
        (GET, format!("{t}?purpose=marketing&reason=x"), faq, None, 403, "purpose-not-in-policy"),
        (POST, find.clone(), them, raw_json(r#"{"purpose": "faq-content", "reason": "x"}"#), 404, "not-found"),
        (POST, find.clone(), faq, raw_json("[]"), 400, "json-invalid"),
    ];
    run(http, cases);
    let no_token = http.raw(GET, &format!("{t}?{read}"), None, None);
    assert_eq!((no_token.status, no_token.code()), (401, "auth-required"));

    // Derivatives: bad kinds, fills, ranges and padding; spans; unknown and foreign ids.
    let new = json!({"source": c.id, "kind": "faq-clip", "purpose": "faq-content", "reason": "FAQ-12",
                     "from_ms": 1000, "to_ms": 2000});
    let clip = http.ok(
        http.raw(POST, "/v1/derivatives", Some(faq), with(&new, json!({}))),
        "clip",
    );
    let d = format!("/v1/derivatives/{}", clip["id"].as_str().unwrap());
    let span =
        |start: i64, end: i64| raw_json(&json!({"start_ms": start, "end_ms": end, "reason": "review"}).to_string());
    let (all, u) = ("/v1/derivatives".to_owned(), format!("/v1/derivatives/{UNKNOWN}"));
    #[rustfmt::skip]
    let cases: Vec<Case> = vec![
        (POST, all.clone(), faq, with(&new, json!({"kind": "poster"})), 400, "kind-unknown"),
        (POST, all.clone(), faq, with(&new, json!({"fill": "noise"})), 400, "fill-unknown"),
        (POST, all.clone(), faq, with(&new, json!({"from_ms": 3000, "to_ms": 2000})), 400, "range-invalid"),
        (POST, all.clone(), faq, with(&new, json!({"from_ms": -5})), 400, "json-invalid"),
        (POST, all.clone(), faq, with(&new, json!({"from_ms": 999_999_999, "to_ms": 999_999_999_999u64})), 400, "range-invalid"),
        (POST, all.clone(), faq, with(&new, json!({"padding_ms": 99_999})), 400, "padding-invalid"),
        (POST, all.clone(), faq, with(&new, json!({"kind": "training"})), 400, "range-not-allowed"),
        (POST, all.clone(), faq, with(&new, json!({"source": UNKNOWN})), 404, "not-found"),
        (POST, all.clone(), them, with(&new, json!({})), 404, "not-found"),
        (POST, format!("{d}/spans"), faq, span(1500, 1400), 400, "span-invalid"),
        (POST, format!("{d}/spans"), faq, span(1500, 1500), 400, "span-invalid"),
        (POST, format!("{d}/spans"), faq, span(1500, 60_000), 400, "span-outside-recording"),
        (POST, format!("{d}/spans"), faq, span(3000, 3500), 400, "span-outside-clip"),
        (POST, format!("{d}/spans"), faq, span(-1, 1500), 400, "json-invalid"),
        (DELETE, format!("{d}/spans/99?reason=x"), faq, None, 404, "span-unknown"),
        (DELETE, format!("{d}/spans/first?reason=x"), faq, None, 404, "span-unknown"),
        (POST, format!("{d}/approval"), faq, raw_json(r#"{"anonymous": "yes"}"#), 400, "json-invalid"),
        (GET, d.clone(), them, None, 404, "not-found"),
        (GET, format!("{d}/spans"), them, None, 404, "not-found"),
        (POST, format!("{d}/spans"), them, span(1100, 1200), 404, "not-found"),
        (DELETE, format!("{d}/spans/0?reason=x"), them, None, 404, "not-found"),
        (POST, format!("{d}/approval"), them, None, 404, "not-found"),
        (GET, format!("{d}/download?{read}"), them, None, 404, "not-found"),
        (GET, format!("{d}/transcript?{read}"), them, None, 404, "not-found"),
        (GET, u.clone(), faq, None, 404, "not-found"),
        (GET, "/v1/derivatives/nope".into(), faq, None, 404, "not-found"),
        (POST, format!("{u}/approval"), faq, None, 404, "not-found"),
        (GET, format!("{u}/download?{read}"), faq, None, 404, "not-found"),
        (GET, format!("/v1/derivatives?source={UNKNOWN}&x=1"), faq, None, 400, "query-invalid"),
        (GET, format!("{d}/download?{read}"), faq, None, 422, "derivative-not-approved"),
    ];
    run(http, cases);
    // The other tenant sees none of csi's derivatives; the draft is unchanged by all of it.
    assert_eq!(http.ok(http.get("/v1/derivatives", them), "list"), json!([]));
    assert_eq!(http.ok(http.get(&d, faq), "show")["spans"], clip["spans"]);
}
