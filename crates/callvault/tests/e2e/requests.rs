//! Data-subject requests through the real binary, acting `--as` the person holding the
//! role the policy names: identity before anything is shared (WEBEO-REQUEST), due dates
//! and the overdue report (WEBEO-30DAYS), a denied erasure reported to the authority
//! while retention still applies (WEBEO-ERASURE), consent withdrawal that erases at once
//! (ARLO-WITHDRAW), copies only with every party's consent (CSI-COPY), the signed copy
//! bundle as the only export to an outsider (WEBEO-NOSHARE, POSTI-NODISCLOSE, ALL-DSAR),
//! the request types a policy offers and restriction (POSTI-RIGHTS).

use std::collections::HashMap;
use std::process::Output;

use serde_json::{Value, json};

use crate::support::*;

pub(crate) const ADMIN_PW: &str = "admin-password-0001";
pub(crate) const HANDLER_PW: &str = "handler-password-0002";
pub(crate) const CLERK_PW: &str = "clerk-password-0003";

fn run_with(env: &Env, args: &[&str], vars: &[(&str, &str)], stdin: &str) -> Output {
    env.run_stdin(args, vars, stdin)
}

/// Runs `args` as `user`; Ok(stdout) or Err(error code).
pub(crate) fn as_user(env: &Env, user: &str, password: &str, args: &[&str], stdin: &str) -> Result<String, String> {
    let mut full = vec!["--as", user];
    full.extend_from_slice(args);
    let out = run_with(env, &full, &[("CALLVAULT_PASSWORD", password)], stdin);
    if out.status.success() {
        Ok(String::from_utf8(out.stdout).unwrap())
    } else {
        let stderr = String::from_utf8_lossy(&out.stderr);
        Err(error_code(&stderr).unwrap_or_else(|| stderr.trim().to_owned()))
    }
}

/// Tenant `tenant` under `policy` with an administrator, `handler` holding `role` (the
/// policy's request handler) and `clerk`, an agent.
pub(crate) fn people(env: &Env, tenant: &str, policy: &str, role: &str) {
    env.create_tenant(tenant, policy);
    let out = run_with(
        env,
        &["admin", "init", "--tenant", tenant, "admin", "--password-stdin"],
        &[],
        &format!("{ADMIN_PW}\n"),
    );
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let admin = format!("{tenant}/admin");
    for (name, role, password) in [("handler", role, HANDLER_PW), ("clerk", "agent", CLERK_PW)] {
        let args = [
            "user",
            "add",
            name,
            "--tenant",
            tenant,
            "--role",
            role,
            "--password-stdin",
        ];
        as_user(env, &admin, ADMIN_PW, &args, &format!("{password}\n")).unwrap();
    }
}

/// Runs a `request` subcommand as the handler of `tenant`.
pub(crate) fn request(env: &Env, tenant: &str, args: &[&str]) -> Result<String, String> {
    let mut full = vec!["request"];
    full.extend_from_slice(args);
    as_user(env, &format!("{tenant}/handler"), HANDLER_PW, &full, "")
}

pub(crate) fn request_json(env: &Env, tenant: &str, args: &[&str]) -> Value {
    let mut full = args.to_vec();
    full.push("--json");
    serde_json::from_str(&request(env, tenant, &full).expect("request command")).expect("JSON")
}

/// Opens a request and returns its id.
pub(crate) fn open(env: &Env, tenant: &str, kind: &str, channel: &str, extra: &[&str]) -> Result<String, String> {
    let mut args = vec![
        "open",
        "--type",
        kind,
        "--channel",
        channel,
        "--requester",
        "Jane Caller",
    ];
    args.extend_from_slice(extra);
    request(env, tenant, &args).map(|out| out.trim().to_owned())
}

/// A call of `number` starting at `started_at`.
pub(crate) fn call(
    env: &Env,
    tenant: &str,
    direction: &str,
    purposes: &[&str],
    number: &str,
    started_at: &str,
    extra: Value,
) -> String {
    let mut fields = json!({"customer_number": number, "started_at": started_at});
    for (k, v) in extra.as_object().unwrap() {
        fields[k] = v.clone();
    }
    env.ingest(tenant, &stereo_call(1), &meta(direction, purposes, fields))
        .expect("recording kept")
}

pub(crate) fn actions(env: &Env, action: &str) -> Vec<Value> {
    env.audit().into_iter().filter(|e| e["action"] == action).collect()
}

/// Every file of a bundle directory by its relative name.
fn bundle_files(dir: &std::path::Path) -> HashMap<String, Vec<u8>> {
    Env::files_under(dir)
        .into_iter()
        .map(|(path, bytes)| (path.strip_prefix(dir).unwrap().to_string_lossy().into_owned(), bytes))
        .collect()
}

fn nowhere_in(dir: &std::path::Path, needle: &str) -> bool {
    Env::files_under(dir)
        .iter()
        .all(|(_, bytes)| !bytes.windows(needle.len()).any(|w| w == needle.as_bytes()))
}

fn sweep(env: &Env, now: &str) -> Vec<String> {
    let text = env.ok(&["retention", "run", "--now", now, "--json"]);
    let certificate: Value = serde_json::from_str(text.trim()).unwrap();
    certificate["recording_ids"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap().to_owned())
        .collect()
}

#[test]
fn webeo_request_nothing_shared_before_identity_verification_and_search_by_number_and_time() {
    let env = Env::new(Some("uk"));
    people(&env, "webeo", "webeo", "data-compliance-team");
    env.ok(&["tenant", "set", "webeo", "--country", "GB"]);
    let ten_am = call(
        &env,
        "webeo",
        "outbound",
        &["protection"],
        "+447700900123",
        "2026-11-20T10:00:00Z",
        json!({}),
    );
    let later = call(
        &env,
        "webeo",
        "outbound",
        &["protection"],
        "+447700900123",
        "2026-11-20T14:00:00Z",
        json!({}),
    );
    let other_phone = call(
        &env,
        "webeo",
        "outbound",
        &["protection"],
        "07700 900456",
        "2026-11-20T10:05:00Z",
        json!({}),
    );
    let stranger = call(
        &env,
        "webeo",
        "outbound",
        &["protection"],
        "+447700900999",
        "2026-11-20T10:01:00Z",
        json!({}),
    );

    // Only the policy's handler role works on requests; the refusal is audited.
    let clerk = as_user(
        &env,
        "webeo/clerk",
        CLERK_PW,
        &[
            "request",
            "open",
            "--type",
            "copy",
            "--channel",
            "phone",
            "--requester",
            "J",
        ],
        "",
    );
    assert_eq!(clerk.unwrap_err(), "role-required");
    assert!(actions(&env, "request.open").iter().any(|e| e["outcome"] == "denied"));

    let id = open(&env, "webeo", "copy", "phone", &["--number", "07700 900123"]).unwrap();
    // WEBEO-REQUEST: nothing before the identity is verified.
    assert_eq!(
        request(
            &env,
            "webeo",
            &["search", &id, "--date", "2026-11-20", "--time", "10:10"]
        )
        .unwrap_err(),
        "identity-not-verified"
    );
    assert_eq!(
        request(&env, "webeo", &["fulfil", &id, "--out", "early"]).unwrap_err(),
        "identity-not-verified"
    );
    assert!(!env.path().join("early").exists());
    let denied = actions(&env, "request.fulfil");
    assert_eq!(denied[0]["outcome"], "denied");
    assert_eq!(denied[0]["detail"]["code"], "identity-not-verified");

    request(
        &env,
        "webeo",
        &["verify", &id, "--method", "security questions on a call-back"],
    )
    .unwrap();
    // Number + date + approximate time ± 15 minutes: the 10:00 call only.
    let found = request_json(
        &env,
        "webeo",
        &["search", &id, "--date", "2026-11-20", "--time", "10:10"],
    );
    let ids: Vec<&str> = found["recordings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["recording_id"].as_str().unwrap())
        .collect();
    assert_eq!(
        ids,
        [ten_am.as_str()],
        "not {later} (4 h later) nor {stranger} (another number)"
    );
    // A person can have several numbers.
    let found = request_json(
        &env,
        "webeo",
        &[
            "search",
            &id,
            "--number",
            "+447700900456",
            "--date",
            "2026-11-20",
            "--time",
            "10:00",
        ],
    );
    assert_eq!(found["recordings"].as_array().unwrap().len(), 2);
    assert_eq!(
        found["numbers"],
        json!(["+447700900xxx", "+447700900xxx"]),
        "numbers shown masked"
    );
    let search = actions(&env, "request.search");
    assert_eq!(search.last().unwrap()["purpose"], "data-subject-request");
    assert_eq!(
        request(&env, "webeo", &["decide", &id, "--recording", &stranger, "--fulfil"]).unwrap_err(),
        "recording-not-in-request"
    );
    request(&env, "webeo", &["decide", &id, "--recording", &ten_am, "--fulfil"]).unwrap();
    assert_eq!(
        request(&env, "webeo", &["fulfil", &id]).unwrap_err(),
        "request-undecided",
        "every recording found needs a decision"
    );
    request(
        &env,
        "webeo",
        &["decide", &id, "--recording", &other_phone, "--deny", "rights-of-others"],
    )
    .unwrap();

    // The copy: signed manifest, SHA-256 of every file, vCon, the subject's number unmasked.
    let out = env.path().join("copy");
    let done = request_json(&env, "webeo", &["fulfil", &id, "--out", out.to_str().unwrap()]);
    assert_eq!(done["state"], "fulfilled");
    let files = bundle_files(&out);
    let manifest = service::bundle::verify_bundle(&files).expect("the bundle verifies");
    assert_eq!(manifest["request_id"], id.as_str());
    assert_eq!(manifest["policy"]["id"], "webeo");
    assert_eq!(
        manifest["withheld"],
        json!([{"recording_id": other_phone, "reason": "rights-of-others"}])
    );
    assert_eq!(manifest["recordings"][0]["metadata"]["subject_number"], "+447700900123");
    let vcon: Value = serde_json::from_slice(&files[&format!("recordings/{ten_am}.vcon.json")]).unwrap();
    assert_eq!(vcon["dialog"][0]["type"], "recording");
    assert_eq!(vcon["dialog"][0]["filename"], format!("recordings/{ten_am}.wav"));
    assert!(
        vcon["dialog"][0]["content_hash"]
            .as_str()
            .unwrap()
            .starts_with("sha512-")
    );
    assert!(
        vcon["parties"]
            .as_array()
            .unwrap()
            .iter()
            .any(|p| p["tel"] == "tel:+447700900123")
    );
    let wav = media::parse_wav(&files[&format!("recordings/{ten_am}.wav")]).expect("a valid WAV");
    assert_eq!(wav.channels, 2, "customer left, agent right");
    // A changed file no longer verifies.
    let mut forged = files.clone();
    forged.get_mut(&format!("recordings/{ten_am}.wav")).unwrap()[60] ^= 1;
    assert!(service::bundle::verify_bundle(&forged).is_err());
    // WEBEO-NOSHARE: the export went to the verified subject under the reserved purpose,
    // logged; the request no longer holds the full number once it ended.
    let export = actions(&env, "recording.export");
    assert_eq!(export.len(), 1);
    assert_eq!(export[0]["purpose"], "data-subject-request");
    assert_eq!(actions(&env, "request.bundle")[0]["detail"]["to"], "data-subject");
    env.ok(&["audit", "verify"]);
}

#[test]
fn webeo_30days_request_overdue_on_day_31() {
    let env = Env::new(Some("uk"));
    people(&env, "webeo", "webeo", "data-compliance-team");
    let id = open(
        &env,
        "webeo",
        "copy",
        "email",
        &["--number", "+447700900123", "--received-at", "2026-11-20T10:00:00Z"],
    )
    .unwrap();
    let shown = request_json(&env, "webeo", &["show", &id]);
    assert_eq!(shown["due_on"], "2026-12-20");
    let overdue = |now: &str| -> Vec<Value> {
        request_json(&env, "webeo", &["overdue", "--now", now])
            .as_array()
            .unwrap()
            .clone()
    };
    assert!(overdue("2026-12-20T23:59:59Z").is_empty(), "day 30: still due");
    let late = overdue("2026-12-21T00:00:00Z");
    assert_eq!(late.len(), 1, "day 31: overdue");
    assert_eq!(late[0]["id"], id.as_str());
    // The compliance report counts open and overdue requests per policy.
    let report = |now: &str| -> Value {
        let text = env.ok(&["compliance", "report", "--tenant", "webeo", "--now", now]);
        serde_json::from_str(&text).unwrap()
    };
    let day_31 = report("2026-12-21T09:00:00Z");
    assert_eq!(
        day_31["tenants"][0]["requests"],
        json!({"tracked": true, "open": 1, "overdue": 1})
    );
    assert!(
        day_31["problems"]
            .as_array()
            .unwrap()
            .iter()
            .any(|p| p.as_str().unwrap().contains("overdue"))
    );
    let html = env.ok(&[
        "compliance",
        "report",
        "--tenant",
        "webeo",
        "--format",
        "html",
        "--now",
        "2026-12-21T09:00:00Z",
    ]);
    assert!(html.contains("1 open / 1 overdue"));
    request(&env, "webeo", &["close", &id, "--reason", "the requester withdrew it"]).unwrap();
    assert_eq!(report("2026-12-21T09:00:00Z")["tenants"][0]["requests"]["open"], 0);
    assert!(overdue("2026-12-22T00:00:00Z").is_empty());
}

#[test]
fn webeo_30days_deadline_worker_reports_an_overdue_request_once() {
    let env = Env::new(Some("uk"));
    people(&env, "webeo", "webeo", "data-compliance-team");
    let id = open(
        &env,
        "webeo",
        "copy",
        "email",
        &["--number", "+447700900123", "--received-at", "2026-09-01T10:00:00Z"],
    )
    .unwrap();
    let server = env.serve_sip("webeo", None);
    let reported = wait_for(std::time::Duration::from_secs(30), || {
        let events = actions(&env, "request.overdue");
        (!events.is_empty()).then_some(events)
    })
    .expect("the deadline worker reports the overdue request");
    assert_eq!(reported.len(), 1);
    assert_eq!(reported[0]["detail"]["request_id"], id.as_str());
    assert_eq!(reported[0]["actor"], "system:request-deadlines");
    assert!(server.log().contains("data-subject request overdue"));
}

#[test]
fn webeo_erasure_denied_for_contract_keeps_recording_until_retention() {
    let env = Env::new(Some("uk"));
    people(&env, "webeo", "webeo", "data-compliance-team");
    let id = call(
        &env,
        "webeo",
        "outbound",
        &["protection"],
        "+447700900123",
        "2026-11-20T10:00:00Z",
        json!({}),
    );
    // Erasure requests are made in writing.
    assert_eq!(
        open(&env, "webeo", "erasure", "phone", &["--number", "+447700900123"]).unwrap_err(),
        "request-not-in-writing"
    );
    let req = open(&env, "webeo", "erasure", "email", &["--number", "+447700900123"]).unwrap();
    request(&env, "webeo", &["verify", &req, "--method", "signed letter"]).unwrap();
    request(
        &env,
        "webeo",
        &["search", &req, "--date", "2026-11-20", "--time", "10:00"],
    )
    .unwrap();
    assert_eq!(
        request(
            &env,
            "webeo",
            &["decide", &req, "--recording", &id, "--deny", "because"]
        )
        .unwrap_err(),
        "deny-reason-unknown"
    );
    request(
        &env,
        "webeo",
        &["decide", &req, "--recording", &id, "--deny", "contract"],
    )
    .unwrap();
    let done = request_json(&env, "webeo", &["fulfil", &req]);
    assert_eq!(done["state"], "fulfilled");
    let notice = &done["authority_notification"];
    assert_eq!(
        notice["authority"],
        "Information Commissioner's Office (ICO), United Kingdom"
    );
    assert_eq!(notice["reasons"], json!(["contract"]));
    assert_eq!(notice["recordings"], json!([id]));
    let notified = actions(&env, "request.authority-notification");
    assert_eq!(notified.len(), 1);
    assert_eq!(notified[0]["detail"]["reasons"], json!(["contract"]));
    let objects = env.data().join("objects").join("webeo").join(&id);
    assert!(objects.exists(), "the early erasure was refused");
    // The 12-month retention still applies: kept until it ends, and no longer.
    assert!(sweep(&env, "2027-11-20T09:59:59Z").is_empty());
    assert!(objects.exists());
    assert_eq!(sweep(&env, "2027-11-20T10:00:00Z"), std::slice::from_ref(&id));
    assert!(!objects.exists());
    assert!(nowhere_in(&env.keys(), &id));
}

#[test]
fn arlo_withdraw_leaves_no_audio_and_no_key() {
    let env = Env::new(Some("eu-eea"));
    people(&env, "arlo", "arlo-europe", "compliance");
    let consent = json!({"consent": {"granted": true, "digit": "1", "at": "2026-11-20T10:00:05Z"}});
    let id = call(
        &env,
        "arlo",
        "inbound",
        &["training"],
        "+4791234567",
        "2026-11-20T10:00:00Z",
        consent,
    );
    let req = open(&env, "arlo", "consent-withdrawal", "web", &["--number", "+4791234567"]).unwrap();
    request(
        &env,
        "arlo",
        &["verify", &req, "--method", "signed-in customer account"],
    )
    .unwrap();
    request(&env, "arlo", &["search", &req]).unwrap();
    assert_eq!(
        request(
            &env,
            "arlo",
            &["decide", &req, "--recording", &id, "--deny", "contract"]
        )
        .unwrap_err(),
        "deny-reason-not-allowed",
        "a withdrawn consent leaves no basis but a legal claim"
    );
    request(&env, "arlo", &["decide", &req, "--recording", &id, "--fulfil"]).unwrap();
    let done = request_json(&env, "arlo", &["fulfil", &req]);
    // Within the same request: no audio and no key afterwards.
    assert_eq!(done["recordings"][0]["outcome"], "erased");
    assert!(!env.data().join("objects").join("arlo").join(&id).exists());
    assert!(
        Env::files_under(&env.data().join("objects"))
            .iter()
            .all(|(p, _)| !p.to_string_lossy().contains(&id)),
        "no object left"
    );
    assert!(nowhere_in(&env.keys(), &id), "no data key left");
    let erased = actions(&env, "recording.erase");
    assert_eq!(erased.len(), 1);
    assert_eq!(erased[0]["recording_id"], id.as_str());
    assert_eq!(erased[0]["actor"], "user:arlo/handler");
    let text = serde_json::to_string(&env.audit()).unwrap();
    assert!(!text.contains("4791234567"), "the audit log holds no number");
    // Where the basis is not consent there is no consent to withdraw.
    let env = Env::new(Some("uk"));
    people(&env, "webeo", "webeo", "data-compliance-team");
    assert_eq!(
        open(&env, "webeo", "consent-withdrawal", "email", &[]).unwrap_err(),
        "request-type-not-offered"
    );
}

#[test]
fn csi_copy_blocked_until_all_parties_consent() {
    let env = Env::new(None);
    people(&env, "csi", "csi-works", "ceo");
    env.ok(&["tenant", "set", "csi", "--retention", "2 years"]);
    let id = call(
        &env,
        "csi",
        "inbound",
        &["quality-control"],
        "+16195550123",
        "2026-11-20T10:00:00Z",
        json!({}),
    );
    // Copies are requested in writing only.
    assert_eq!(
        open(&env, "csi", "copy", "phone", &["--number", "+16195550123"]).unwrap_err(),
        "request-channel-not-offered"
    );
    let req = open(&env, "csi", "copy", "email", &["--number", "+16195550123"]).unwrap();
    request(&env, "csi", &["verify", &req, "--method", "signed request by post"]).unwrap();
    request(&env, "csi", &["search", &req, "--date", "2026-11-20"]).unwrap();
    request(&env, "csi", &["decide", &req, "--recording", &id, "--fulfil"]).unwrap();
    // Blocked until the other party consents; CSI allows no own-voice copy instead.
    let out = env.path().join("copy");
    assert_eq!(
        request(&env, "csi", &["fulfil", &req, "--out", out.to_str().unwrap()]).unwrap_err(),
        "copy-consent-missing"
    );
    assert!(!out.exists());
    assert!(actions(&env, "recording.export").is_empty(), "no audio was read");
    assert_eq!(request_json(&env, "csi", &["show", &req])["state"], "decided");
    request(
        &env,
        "csi",
        &[
            "consent",
            &req,
            "--recording",
            &id,
            "--participant",
            "agent",
            "--evidence",
            "signed consent form",
        ],
    )
    .unwrap();
    request(&env, "csi", &["fulfil", &req, "--out", out.to_str().unwrap()]).unwrap();
    let manifest = service::bundle::verify_bundle(&bundle_files(&out)).expect("verifies");
    assert_eq!(manifest["recordings"][0]["metadata"]["scope"], "whole-call");
    assert_eq!(manifest["signature"]["algorithm"], "Ed25519");
}

#[test]
fn posti_rights_offered_types_and_restriction_freezes_use_but_storage() {
    let env = Env::new(Some("eu-eea"));
    people(&env, "posti", "posti", "compliance");
    env.ok(&["tenant", "set", "posti", "--country", "FI"]);
    for user in ["handler", "clerk"] {
        as_user(
            &env,
            "posti/admin",
            ADMIN_PW,
            &[
                "attest",
                "add",
                user,
                "--training",
                "call-recording-basics",
                "--date",
                "2026-11-01",
            ],
            "",
        )
        .unwrap();
    }
    let id = call(
        &env,
        "posti",
        "inbound",
        &["verify-agreement"],
        "040 1234567",
        "2026-11-20T10:00:00Z",
        json!({}),
    );
    // POSTI-RIGHTS: every type but consent withdrawal (legitimate interest).
    for kind in [
        "information",
        "rectification",
        "completion",
        "erasure",
        "portability",
        "restriction",
        "objection",
    ] {
        let req = open(&env, "posti", kind, "post", &[]).unwrap();
        request(&env, "posti", &["close", &req, "--reason", "test of the offer"]).unwrap();
    }
    assert_eq!(
        open(&env, "posti", "consent-withdrawal", "post", &[]).unwrap_err(),
        "request-type-not-offered"
    );
    // Restriction: every use but storage stops, and retention does not end it meanwhile.
    let req = open(&env, "posti", "restriction", "web", &["--number", "0401234567"]).unwrap();
    request(&env, "posti", &["verify", &req, "--method", "logged in to posti.fi"]).unwrap();
    request(&env, "posti", &["search", &req]).unwrap();
    request(&env, "posti", &["decide", &req, "--recording", &id, "--fulfil"]).unwrap();
    let done = request_json(&env, "posti", &["fulfil", &req]);
    assert_eq!(done["recordings"][0]["outcome"], "restricted");
    let export = as_user(
        &env,
        "posti/clerk",
        CLERK_PW,
        &[
            "recordings",
            "export",
            &id,
            "--out",
            "x.wav",
            "--purpose",
            "verify-agreement",
            "--reason",
            "check",
        ],
        "",
    );
    assert_eq!(export.unwrap_err(), "recording-restricted");
    assert!(sweep(&env, "2027-05-21T10:00:00Z").is_empty(), "kept while restricted");
    request(&env, "posti", &["lift-restriction", &req]).unwrap();
    assert_eq!(
        sweep(&env, "2027-05-21T10:00:00Z"),
        [id],
        "retention ends it once lifted"
    );
}

#[test]
fn to_copy_participant_gets_a_copy_through_the_request_workflow() {
    let env = Env::new(None);
    people(&env, "acme", "telephone-office", "data-protection-team");
    env.ok(&[
        "tenant",
        "set",
        "acme",
        "--recording",
        "on",
        "--retention",
        "1 year",
        "--country",
        "GB",
    ]);
    let notice = json!({"purposes": ["verification"], "consent": {"notice_played": true}});
    let id = call(
        &env,
        "acme",
        "inbound",
        &["verification"],
        "07700 900123",
        "2026-11-20T09:30:00Z",
        notice,
    );
    // Telephone Office offers copies only; the handler is its data protection team.
    assert_eq!(
        open(&env, "acme", "erasure", "email", &[]).unwrap_err(),
        "request-type-not-offered"
    );
    let req = open(&env, "acme", "copy", "phone", &["--number", "07700 900123"]).unwrap();
    request(
        &env,
        "acme",
        &["verify", &req, "--method", "account security questions"],
    )
    .unwrap();
    let found = request_json(
        &env,
        "acme",
        &["search", &req, "--date", "2026-11-20", "--time", "09:40"],
    );
    assert_eq!(found["recordings"][0]["recording_id"], id.as_str());
    request(&env, "acme", &["decide", &req, "--recording", &id, "--fulfil"]).unwrap();
    let out = env.path().join("copy");
    request(&env, "acme", &["fulfil", &req, "--out", out.to_str().unwrap()]).unwrap();
    let manifest = service::bundle::verify_bundle(&bundle_files(&out)).expect("verifies");
    assert_eq!(manifest["request_type"], "copy");
    assert_eq!(manifest["recordings"][0]["metadata"]["subject_number"], "+447700900123");
}
