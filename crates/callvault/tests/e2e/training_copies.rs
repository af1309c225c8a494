//! ARLO-PSEUDO over HTTP: Arlo trains only on pseudonymised recordings. A line manager with
//! a grant from the security officer (ARLO-GRANTS) asks for a call for purpose `training`:
//! the original audio and transcript are refused, a training copy is made and served, it
//! names nobody (pseudonymous participants, no numbers or names) and its redacted spans are
//! silent; a line manager whose grant has expired is denied. Seed policy as it is.

use std::time::Duration;

use chrono::{TimeDelta, Utc};
use serde_json::{Value, json};

use crate::redaction_support::{Http, assert_redacted, call_audio, whisper};
use crate::support::*;

const PW: &str = "arlo-person-password-01";

/// The agent greets by name; the customer gives her own number.
const AGENT_WORDS: &[(&str, u64, u64)] = &[
    ("hei", 400, 700),
    ("dette", 700, 1000),
    ("er", 1000, 1100),
    ("Kari", 1100, 1500),
];
const CUSTOMER_WORDS: &[(&str, u64, u64)] = &[
    ("nummeret", 2000, 2500),
    ("mitt", 2500, 2800),
    ("er", 2800, 2900),
    ("91234567", 2900, 3800),
    ("takk", 4200, 4600),
];

#[test]
fn arlo_pseudo_training_reads_only_pseudonymised_copies() {
    let env = Env::new(None);
    env.ok(&[
        "tenant",
        "create",
        "arlo",
        "--policy",
        policy_file("arlo-europe").to_str().unwrap(),
    ]);
    let out = env.run_stdin(
        &["admin", "init", "--tenant", "arlo", "admin", "--password-stdin"],
        &[],
        &format!("{PW}\n"),
    );
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let http = Http::start(&env);
    let admin = http.login("arlo", "admin", PW);
    for (name, role) in [
        ("sec", "security-officer"),
        ("lena", "line-manager"),
        ("lars", "line-manager"),
    ] {
        let added = http.post(
            "/v1/users",
            &admin,
            json!({"name": name, "roles": [role], "password": PW}),
        );
        http.ok(added, "user");
    }
    // The security officer grants both line managers access for training; Lars's grant
    // runs out in a few seconds.
    let sec = http.login("arlo", "sec", PW);
    let soon = Utc::now() + TimeDelta::seconds(3);
    for (grantee, expires) in [("lena", Utc::now() + TimeDelta::days(30)), ("lars", soon)] {
        let granted = http.post(
            "/v1/grants",
            &sec,
            json!({"grantee": grantee, "purpose": "training", "expires_at": expires}),
        );
        http.ok(granted, "grant");
    }
    let lena = http.login("arlo", "lena", PW);
    let lars = http.login("arlo", "lars", PW);

    // An inbound call with consent, the agent Kari Nordmann, the customer's number.
    let mut call = meta(
        "inbound",
        &["training", "quality"],
        json!({"consent": {"granted": true, "digit": "1", "at": "2026-11-20T10:00:03Z"},
               "customer_number": "+4791234567", "agent": "Kari Nordmann"}),
    );
    call["participants"] = json!([
        {"role": "customer", "number": "+4791234567", "channel": 0},
        {"role": "agent", "name": "Kari Nordmann", "channel": 1}
    ]);
    let id = http.ingest("arlo", &call, wav_pcm16(&call_audio()));
    let read = "purpose=training&reason=onboarding%20course%207";
    for (stream, words) in [("customer", CUSTOMER_WORDS), ("agent", AGENT_WORDS)] {
        let imported = http.post(
            &format!("/v1/recordings/{id}/transcripts"),
            &lena,
            json!({"format": "whisper", "document": whisper(words).to_string(), "stream": stream,
                   "purpose": "training", "reason": "onboarding course 7"}),
        );
        http.ok(imported, "transcript");
    }

    // The original is never served for training: audio, transcript (downloads are no
    // line manager's action at all: `access-denied`).
    let download = http.get(&format!("/v1/recordings/{id}/download?{read}"), &lena);
    assert_eq!((download.status, download.code()), (403, "access-denied"));
    for path in [
        format!("/v1/recordings/{id}/audio?{read}"),
        format!("/v1/recordings/{id}/transcripts?{read}"),
    ] {
        let refused = http.get(&path, &lena);
        assert_eq!(
            (refused.status, refused.code()),
            (403, "pseudonymised-copy-only"),
            "{path}"
        );
        assert_eq!(refused.json["error"]["rule"], "purposes.pseudonymised_only");
    }

    // The training copy: made by the line manager, usable at once (no approver named).
    let copy = http.ok(
        http.post(
            "/v1/derivatives",
            &lena,
            json!({"source": id, "kind": "training", "purpose": "training",
                   "reason": "onboarding course 7", "fill": "silence"}),
        ),
        "training copy",
    );
    let copy_id = copy["id"].as_str().unwrap().to_owned();
    assert_eq!(copy["state"], "approved");
    let kinds: Vec<&str> = copy["spans"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["kind"].as_str().unwrap())
        .collect();
    assert!(kinds.contains(&"name") && kinds.contains(&"known-number"), "{kinds:?}");
    let served = http.get(&format!("/v1/derivatives/{copy_id}/download?{read}"), &lena);
    assert_eq!(served.status, 200, "{}", served.json);
    assert_redacted(&copy, &served.bytes, &call_audio());

    // No identifiers: participants by role and pseudonym, no numbers or names anywhere.
    let shown = http.ok(http.get(&format!("/v1/derivatives/{copy_id}"), &lena), "show");
    let participants = shown["metadata"]["participants"].as_array().unwrap();
    assert_eq!(participants.len(), 2);
    for p in participants {
        let pseudonym = p["pseudonym"].as_str().unwrap();
        assert!(pseudonym.starts_with("participant-"), "{p}");
        assert_eq!(p.as_object().unwrap().len(), 2, "role and pseudonym only: {p}");
    }
    let transcript = http.ok(
        http.get(&format!("/v1/derivatives/{copy_id}/transcript?{read}"), &lena),
        "copy transcript",
    );
    assert!(transcript.to_string().contains("[redacted]"), "{transcript}");
    for text in [shown.to_string(), transcript.to_string()] {
        for secret in [
            "Kari",
            "Nordmann",
            "91234567",
            "4791234567",
            "+47",
            "customer_number",
            "agent\":",
        ] {
            assert!(!text.contains(secret), "{secret} in {text}");
        }
    }
    // For another purpose than the copy's, the copy is not served.
    let other = http.get(
        &format!("/v1/derivatives/{copy_id}/download?purpose=quality&reason=x"),
        &lena,
    );
    assert_eq!((other.status, other.code()), (403, "purpose-mismatch"));

    // Lars's grant has expired: neither the copy nor the original.
    while Utc::now() <= soon + TimeDelta::seconds(1) {
        std::thread::sleep(Duration::from_millis(200));
    }
    let denied = http.get(&format!("/v1/derivatives/{copy_id}/download?{read}"), &lars);
    assert_eq!((denied.status, denied.code()), (403, "access-denied"));
    let made = http.post(
        "/v1/derivatives",
        &lars,
        json!({"source": id, "kind": "training", "purpose": "training", "reason": "course 8"}),
    );
    assert_eq!(made.status, 403, "{}", made.json);
    let original = http.get(&format!("/v1/recordings/{id}/audio?{read}"), &lars);
    assert_eq!(original.status, 403, "{}", original.json);

    // Every refusal is audited with its code.
    let audit: Vec<Value> = env.audit();
    assert!(
        audit
            .iter()
            .any(|e| e["outcome"] == "denied" && e["detail"]["code"] == "pseudonymised-copy-only"),
        "the refused original read is audited"
    );
    assert!(
        audit.iter().any(|e| e["action"] == "derivative.export"
            && e["outcome"] == "denied"
            && e["detail"]["code"] == "access-denied"),
        "the expired grant's refusal is audited"
    );
}
