//! Redaction over HTTP (CSI-FAQ): a running `callvault serve`, a real HTTP client, people
//! with bearer tokens. Transcripts imported (Whisper JSON and WebVTT), PII detected, an FAQ
//! clip made, refused for export while a draft, reviewed (spans added and removed), approved
//! by the role CSI's policy names, exported, and gone with its source. The speech itself is
//! tested with espeak-ng in `redaction.rs`; here the audio is noise under a transcript whose
//! word times are known.

use reqwest::Method;
use serde_json::{Value, json};

use crate::redaction_support::*;
use crate::support::*;

const ADMIN_PW: &str = "csi-admin-password-01";
const PW: &str = "csi-person-password-02";

pub(crate) struct Csi {
    pub(crate) env: Env,
    pub(crate) http: Http,
    pub(crate) faq: String,
    pub(crate) ceo: String,
    pub(crate) reader: String,
    pub(crate) stranger: String,
    pub(crate) id: String,
}

pub(crate) fn csi() -> Csi {
    let env = Env::new(None);
    for tenant in ["csi", "other"] {
        env.create_tenant(tenant, "csi-works");
        env.ok(&["tenant", "set", tenant, "--retention", "30 days"]);
        admin_init(&env, tenant, "admin", ADMIN_PW);
        env.register_admin(tenant, "admin", ADMIN_PW);
    }
    // The fixture reader (CSI names nobody who may erase a recording).
    env.reader("csi");
    let http = Http::start(&env);
    let admin = http.login("csi", "admin", ADMIN_PW);
    for (name, role) in [("faq", "faq-content-manager"), ("ceo", "ceo")] {
        let added = http.post(
            "/v1/users",
            &admin,
            json!({"name": name, "roles": [role], "password": PW}),
        );
        http.ok(added, "user");
    }
    let other_admin = http.login("other", "admin", ADMIN_PW);
    let added = http.post(
        "/v1/users",
        &other_admin,
        json!({"name": "faq", "roles": ["faq-content-manager"], "password": PW}),
    );
    http.ok(added, "other user");
    let meta = meta("inbound", &["faq-content"], json!({}));
    let id = http.ingest("csi", &meta, wav_pcm16(&call_audio()));
    Csi {
        faq: http.login("csi", "faq", PW),
        ceo: http.login("csi", "ceo", PW),
        reader: http.login("csi", "reader", READER_PASSWORD),
        stranger: http.login("other", "faq", PW),
        env,
        http,
        id,
    }
}

/// The customer gives a phone number and a card number; the agent says her name
/// (gaps of 200 ms or more around the PII, wider than the 150 ms padding).
pub(crate) const CUSTOMER_WORDS: &[(&str, u64, u64)] = &[
    ("my", 2000, 2200),
    ("number", 2200, 2400),
    ("is", 2400, 2500),
    ("07700", 2700, 3000),
    ("900123", 3000, 3300),
    ("and", 3500, 3600),
    ("card", 3600, 3800),
    ("4111", 4000, 4200),
    ("1111", 4200, 4400),
    ("1111", 4400, 4600),
    ("1111", 4600, 4800),
    ("thanks", 5200, 5500),
];
const AGENT_VTT: &str = "WEBVTT\n\n00:00:00.400 --> 00:00:01.600\n<v Alex Agent>hello this is Alex\n";

pub(crate) fn import_both(c: &Csi) {
    let path = format!("/v1/recordings/{}/transcripts", c.id);
    let customer = c.http.post(
        &path,
        &c.faq,
        json!({"format": "whisper", "document": whisper(CUSTOMER_WORDS), "stream": "customer",
               "purpose": "faq-content", "reason": "FAQ-12 clip"}),
    );
    let body = c.http.ok(customer, "import whisper");
    assert_eq!(body["words"], CUSTOMER_WORDS.len());
    let agent = c.http.post(
        &path,
        &c.faq,
        json!({"format": "vtt", "document": AGENT_VTT, "stream": "agent",
               "purpose": "faq-content", "reason": "FAQ-12 clip"}),
    );
    let body = c.http.ok(agent, "import vtt");
    assert_eq!(body["words"], CUSTOMER_WORDS.len() + 4);
}

#[test]
fn csi_faq_review_over_http_draft_refused_then_reviewed_approved_exported_and_erased() {
    let c = csi();
    let (http, faq) = (&c.http, c.faq.as_str());
    import_both(&c);
    let read = "purpose=faq-content&reason=FAQ-12";
    let shown = http.ok(
        http.get(&format!("/v1/recordings/{}/transcripts?{read}", c.id), faq),
        "transcript",
    );
    let texts: Vec<&str> = shown["words"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| w["text"].as_str().unwrap())
        .collect();
    assert!(texts.contains(&"Alex") && texts.contains(&"4111"), "{texts:?}");

    // Detection: the agent's name, the customer's own number, the card; never the values.
    let findings = http.ok(
        http.post(
            &format!("/v1/recordings/{}/findings", c.id),
            faq,
            json!({"purpose": "faq-content", "reason": "FAQ-12"}),
        ),
        "findings",
    );
    let kinds: Vec<&str> = findings
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["kind"].as_str().unwrap())
        .collect();
    for kind in ["name", "known-number", "card-number"] {
        assert!(kinds.contains(&kind), "{kind} in {findings}");
    }
    for secret in ["Alex", "4111", "07700", "900123"] {
        assert!(!findings.to_string().contains(secret), "{secret} in {findings}");
    }

    // An FAQ clip of the whole call: a draft.
    let clip = http.ok(
        http.post(
            "/v1/derivatives",
            faq,
            json!({"source": c.id, "kind": "faq-clip", "purpose": "faq-content", "reason": "FAQ-12 clip", "fill": "silence"}),
        ),
        "create",
    );
    let clip_id = clip["id"].as_str().unwrap().to_owned();
    assert_eq!(clip["state"], "draft");
    let download = format!("/v1/derivatives/{clip_id}/download?purpose=faq-content&reason=publish");
    let refused = http.get(&download, faq);
    assert_eq!((refused.status, refused.code()), (422, "derivative-not-approved"));
    let transcript = http.get(
        &format!("/v1/derivatives/{clip_id}/transcript?purpose=faq-content&reason=publish"),
        faq,
    );
    assert_eq!(transcript.code(), "derivative-not-approved");

    // Review: the CEO may not; the FAQ content manager adds two spans and drops one.
    let spans_path = format!("/v1/derivatives/{clip_id}/spans");
    let ceo = http.post(
        &spans_path,
        &c.ceo,
        json!({"start_ms": 5200, "end_ms": 5500, "reason": "x"}),
    );
    assert_eq!((ceo.status, ceo.code()), (403, "approver-role-required"));
    let detected = clip["spans"].as_array().unwrap().len();
    for (start, end) in [(5200, 5500), (200, 300)] {
        let added = http.post(
            &spans_path,
            faq,
            json!({"start_ms": start, "end_ms": end, "reason": "FAQ-12 review"}),
        );
        assert_eq!(added.status, 201, "{}", added.json);
    }
    let spans = http.ok(http.get(&spans_path, faq), "spans");
    assert_eq!(spans.as_array().unwrap().len(), detected + 2);
    let early = spans
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["start_ms"] == 200 && s["origin"] == "manual")
        .expect("the manual span at 200 ms");
    let index = early["index"].as_u64().unwrap();
    let removed = http.call(
        Method::DELETE,
        &format!("{spans_path}/{index}?reason=FAQ-12%20review"),
        faq,
        None,
    );
    let view = http.ok(removed, "remove span");
    let manual: Vec<&Value> = view["spans"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["kind"] == "manual")
        .collect();
    assert_eq!(manual.len(), 1, "{view}");
    assert_eq!(
        (manual[0]["start_ms"].as_u64(), manual[0]["end_ms"].as_u64()),
        (Some(5200), Some(5500))
    );

    // Approval by the role CSI's policy names (faq-content-manager), not by the CEO.
    let approval = format!("/v1/derivatives/{clip_id}/approval");
    let by_ceo = http.raw(Method::POST, &approval, Some(&c.ceo), None);
    assert_eq!((by_ceo.status, by_ceo.code()), (403, "approver-role-required"));
    let approved = http.ok(http.raw(Method::POST, &approval, Some(faq), None), "approve");
    assert_eq!(approved["state"], "approved");
    assert!(approved["approved_by"].as_str().unwrap().contains("faq"), "{approved}");
    let late = http.post(&spans_path, faq, json!({"start_ms": 100, "end_ms": 150, "reason": "x"}));
    assert_eq!((late.status, late.code()), (409, "derivative-approved"));

    // Exported: silent spans, every other sample unchanged; a transcript without the PII.
    let exported = http.get(&download, faq);
    assert_eq!(exported.status, 200);
    let digest = sha256_hex(&exported.bytes);
    assert_eq!(exported.sha256.as_deref(), Some(digest.as_str()));
    assert_redacted(&approved, &exported.bytes, &call_audio());
    let t = http.ok(
        http.get(
            &format!("/v1/derivatives/{clip_id}/transcript?purpose=faq-content&reason=publish"),
            faq,
        ),
        "clip transcript",
    );
    let text = t.to_string();
    assert!(text.contains("[redacted]") && text.contains("card"), "{text}");
    for secret in ["Alex", "4111", "1111", "07700", "900123", "thanks"] {
        assert!(!text.contains(secret), "{secret} in {text}");
    }
    // The CEO has no export rule in CSI's policy.
    assert_eq!(http.get(&download, &c.ceo).status, 403);

    // An anonymous clip of the thanks at the end survives its source.
    let kept = http.ok(
        http.post(
            "/v1/derivatives",
            faq,
            json!({"source": c.id, "kind": "faq-clip", "purpose": "faq-content", "reason": "FAQ-13",
                   "from_ms": 5100, "to_ms": 6000}),
        ),
        "second clip",
    );
    let kept_id = kept["id"].as_str().unwrap().to_owned();
    let declared = http.post(
        &format!("/v1/derivatives/{kept_id}/approval"),
        faq,
        json!({"anonymous": true}),
    );
    assert_eq!(http.ok(declared, "anonymous")["anonymous"], true);
    let listed = http.ok(http.get(&format!("/v1/derivatives?source={}", c.id), faq), "list");
    assert_eq!(listed.as_array().unwrap().len(), 2);

    // Erasing the source takes the non-anonymous clip with it.
    let erased = http.call(
        Method::DELETE,
        &format!("/v1/recordings/{}?reason=erasure%20request%2042", c.id),
        &c.reader,
        None,
    );
    http.ok(erased, "erase");
    for path in [format!("/v1/derivatives/{clip_id}"), download.clone(), spans_path] {
        let gone = http.get(&path, faq);
        assert_eq!((gone.status, gone.code()), (404, "not-found"), "{path}");
    }
    let survivor = http.ok(http.get(&format!("/v1/derivatives/{kept_id}"), faq), "survivor");
    assert!(survivor["source_erased_at"].is_string(), "{survivor}");
    let left: Vec<String> = Env::files_under(&c.env.data().join("objects"))
        .into_iter()
        .map(|(p, _)| p.to_string_lossy().into_owned())
        .filter(|p| p.contains(&clip_id) || p.contains(&c.id))
        .collect();
    assert!(left.is_empty(), "{left:?}");
}
