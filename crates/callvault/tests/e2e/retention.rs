//! Retention and legal holds through the real binary with a controllable clock
//! (`retention run --now`): each policy's period ends in deletion (crypto-shred,
//! objects gone, tombstone without personal data, one audit event per batch, a signed
//! deletion certificate); a legal hold keeps a recording through sweeps and erasure.

use serde_json::{Value, json};

use crate::support::*;

/// Runs a sweep as of `now` and returns its certificate (checked for its signature).
fn sweep(env: &Env, now: &str, extra: &[&str]) -> Value {
    let mut args = vec!["retention", "run", "--now", now, "--json"];
    args.extend_from_slice(extra);
    let text = env.ok(&args);
    let certificate: service::DeletionCertificate = serde_json::from_str(text.trim()).expect("certificate JSON");
    assert!(certificate.signature_valid(), "the certificate verifies: {text}");
    let mut forged = certificate.clone();
    forged.deleted += 1;
    assert!(!forged.signature_valid(), "a changed certificate no longer verifies");
    serde_json::from_str(text.trim()).unwrap()
}

fn ids(certificate: &Value) -> Vec<String> {
    certificate["recording_ids"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap().to_owned())
        .collect()
}

fn listed(env: &Env, id: &str) -> bool {
    env.list().iter().any(|r| r["id"] == id)
}

/// No file under `dir` holds `needle`.
fn nowhere_in(dir: &std::path::Path, needle: &str) -> bool {
    Env::files_under(dir)
        .iter()
        .all(|(_, bytes)| !bytes.windows(needle.len()).any(|w| w == needle.as_bytes()))
}

/// Asserts that `id` is gone for good: not listed, not readable, no object, no key,
/// and a tombstone (no personal data) with its audit trail.
fn assert_deleted(env: &Env, id: &str) {
    assert!(!listed(env, id), "{id} no longer listed");
    let out = env.run(&[
        "recordings",
        "export",
        id,
        "--out",
        "/dev/null",
        "--purpose",
        "verify-agreement",
        "--reason",
        "check",
    ]);
    assert!(!out.status.success(), "{id} cannot be exported any more");
    assert!(
        nowhere_in(&env.keys(), id),
        "no trace of {id}'s data key in the key directory"
    );
    assert!(
        !env.data().join("objects").join("posti").join(id).exists()
            && Env::files_under(&env.data().join("objects"))
                .iter()
                .all(|(p, _)| !p.to_string_lossy().contains(id)),
        "{id}'s objects are gone"
    );
}

#[test]
fn posti_retention_six_months_then_destroyed_automatically() {
    let env = Env::new(Some("eu-eea"));
    env.posti_tenant();
    let call = meta(
        "inbound",
        &["verify-agreement"],
        json!({"customer_number": "+358401234567"}),
    );
    let id = env.ingest("posti", &stereo_call(1), &call).expect("kept");
    // The day before six months have passed, nothing happens.
    let early = sweep(&env, "2027-05-20T09:59:59Z", &[]);
    assert_eq!(early["deleted"], 0);
    assert!(listed(&env, &id));
    // Six months and a day after the call: unreadable, key gone, tombstone only.
    let certificate = env.path().join("certificate.json");
    let done = sweep(
        &env,
        "2027-05-21T10:00:00Z",
        &["--certificate", certificate.to_str().unwrap()],
    );
    assert_eq!(ids(&done), vec![id.clone()]);
    assert_eq!(
        done["kek_days_destroyed"],
        json!(["2027-05-20"]),
        "the retention day's key went at once"
    );
    let kept: Value = serde_json::from_str(&std::fs::read_to_string(&certificate).unwrap()).unwrap();
    assert_eq!(kept, done, "the certificate file is the printed certificate");
    assert_deleted(&env, &id);
    // The tombstone and everything else left holds no trace of the number.
    for form in ["358401234567", "0401234567", "401234567"] {
        assert!(
            nowhere_in(&env.data(), form),
            "{form} appears nowhere in the data directory"
        );
    }
    let events = env.audit();
    let batch = events
        .iter()
        .find(|e| e["action"] == "retention.delete")
        .expect("a batch event");
    assert_eq!(batch["detail"]["recording_ids"], json!([id]));
    assert_eq!(batch["detail"]["tombstones_sha256"], done["tombstones_sha256"]);
    env.ok(&["audit", "verify"]);
    // Sweeping again finds nothing: the sweep is idempotent.
    assert_eq!(sweep(&env, "2027-05-22T10:00:00Z", &[])["deleted"], 0);
}

#[test]
fn arlo_retention_90_days_then_deleted_automatically() {
    let env = Env::new(Some("eu-eea"));
    env.create_tenant("arlo", "arlo-europe");
    let consent = json!({"consent": {"granted": true, "digit": "1", "at": "2026-11-20T10:00:05Z"}});
    let id = env
        .ingest("arlo", &stereo_call(1), &meta("inbound", &["training"], consent))
        .expect("kept");
    assert_eq!(
        sweep(&env, "2027-02-18T09:59:00Z", &[])["deleted"],
        0,
        "day 89 and 23 hours: kept"
    );
    let done = sweep(&env, "2027-02-18T10:00:00Z", &[]);
    assert_eq!(ids(&done), vec![id.clone()], "deleted on day 90");
    assert_eq!(
        done["kek_days_destroyed"],
        json!([]),
        "the day is not over: the key is destroyed by itself"
    );
    assert!(!listed(&env, &id));
    assert!(nowhere_in(&env.keys(), &id));
}

#[test]
fn webeo_retention_12_months_then_complete_erasure() {
    let env = Env::new(Some("uk"));
    env.create_tenant("webeo", "webeo");
    let id = env
        .ingest(
            "webeo",
            &stereo_call(1),
            &meta("outbound", &["quality-assessment"], json!({})),
        )
        .expect("kept");
    assert_eq!(sweep(&env, "2027-11-19T10:00:00Z", &[])["deleted"], 0);
    let done = sweep(&env, "2027-11-21T00:00:00Z", &[]);
    assert_eq!(ids(&done), vec![id.clone()]);
    assert!(!listed(&env, &id));
    assert!(nowhere_in(&env.keys(), &id));
    assert!(
        Env::files_under(&env.data().join("objects")).is_empty(),
        "complete erasure: no object left"
    );
}

#[test]
fn to_retention_follows_the_tenant_setting() {
    let env = Env::new(None);
    env.create_tenant("acme", "telephone-office");
    env.ok(&["tenant", "set", "acme", "--recording", "on", "--retention", "30 days"]);
    let call = meta(
        "inbound",
        &["quality-training"],
        json!({"consent": {"notice_played": true}}),
    );
    let first = env.ingest("acme", &stereo_call(1), &call).expect("kept");
    // A longer period set later applies to later calls; each keeps its own.
    env.ok(&["tenant", "set", "acme", "--retention", "1 year"]);
    let second = env.ingest("acme", &stereo_call(1), &call).expect("kept");
    let done = sweep(&env, "2026-12-21T00:00:00Z", &[]);
    assert_eq!(ids(&done), vec![first.clone()]);
    assert!(listed(&env, &second), "the 1-year recording stays");
    assert_eq!(ids(&sweep(&env, "2027-11-21T00:00:00Z", &[])), vec![second]);
}

#[test]
fn a_legal_hold_keeps_a_recording_through_retention_and_erasure_until_lifted() {
    let env = Env::new(Some("eu-eea"));
    env.posti_tenant();
    let call = meta("inbound", &["verify-agreement"], json!({}));
    let held = env.ingest("posti", &stereo_call(1), &call).expect("kept");
    let expiring = env.ingest("posti", &stereo_call(1), &call).expect("kept");
    let free = env.ingest("posti", &stereo_call(1), &call).expect("kept");
    assert_eq!(env.fails(&["hold", "place", &held, "--reason", " "]), "reason-required");
    let hold = env.ok(&["hold", "place", &held, "--reason", "legal-claim: case 2026-114"]);
    let hold = hold.trim();
    env.ok(&[
        "hold",
        "place",
        &expiring,
        "--reason",
        "legal-claim: short",
        "--expires",
        "2027-06-01T00:00:00Z",
    ]);
    let active = env.json(&["hold", "list", "--active", "--json"]);
    assert_eq!(active.as_array().unwrap().len(), 2);
    // Erasure is refused while held.
    assert_eq!(
        env.fails(&["recordings", "erase", &held, "--reason", "request"]),
        "conflict"
    );
    // Past retention and past its retention day: only the free recording goes; the
    // held one's key survived its day's key destruction.
    let first = sweep(&env, "2027-05-25T00:00:00Z", &[]);
    assert_eq!(ids(&first), vec![free.clone()]);
    assert_eq!(first["kek_days_destroyed"], json!(["2027-05-20"]));
    let out = env.path().join("held.wav");
    env.ok(&[
        "recordings",
        "export",
        &held,
        "--out",
        out.to_str().unwrap(),
        "--purpose",
        "verify-agreement",
        "--reason",
        "legal claim",
    ]);
    assert_eq!(
        std::fs::read(&out).unwrap()[..4],
        *b"RIFF",
        "the held recording is still readable"
    );
    // The expiring hold ends by itself; the next sweep deletes that one.
    let second = sweep(&env, "2027-06-02T00:00:00Z", &[]);
    assert_eq!(ids(&second), vec![expiring.clone()]);
    assert_eq!(second["holds_released"], 1);
    // Lifted: the next sweep deletes it.
    env.ok(&["hold", "lift", hold]);
    assert_eq!(env.fails(&["hold", "lift", hold]), "conflict");
    let third = sweep(&env, "2027-06-03T00:00:00Z", &[]);
    assert_eq!(ids(&third), vec![held.clone()]);
    assert_deleted(&env, &held);
    let actions: Vec<String> = env
        .audit()
        .iter()
        .map(|e| e["action"].as_str().unwrap().to_owned())
        .collect();
    for action in ["hold.place", "hold.lift", "retention.delete", "retention.sweep"] {
        assert!(actions.iter().any(|a| a == action), "{action} audited: {actions:?}");
    }
}

#[test]
fn a_sweep_works_in_bounded_batches_with_one_audit_event_each() {
    let env = Env::new(Some("eu-eea"));
    env.posti_tenant();
    let call = meta("inbound", &["verify-agreement"], json!({}));
    let mut all: Vec<String> = (0..5)
        .map(|_| env.ingest("posti", &stereo_call(1), &call).expect("kept"))
        .collect();
    let done = sweep(&env, "2027-06-01T00:00:00Z", &["--batch", "2"]);
    assert_eq!(done["batches"], 3);
    let mut deleted = ids(&done);
    deleted.sort();
    all.sort();
    assert_eq!(deleted, all);
    let batches: Vec<Value> = env
        .audit()
        .into_iter()
        .filter(|e| e["action"] == "retention.delete")
        .collect();
    assert_eq!(batches.len(), 3);
    let counts: Vec<u64> = batches.iter().map(|e| e["detail"]["count"].as_u64().unwrap()).collect();
    assert_eq!(counts, vec![2, 2, 1]);
    assert_eq!(
        done["audit_seqs"].as_array().unwrap().len(),
        3,
        "the certificate names the batch events"
    );
    let refused = env.fails(&["retention", "run", "--batch", "0"]);
    assert!(refused.contains("--batch"), "the message names the flag: {refused}");
}
