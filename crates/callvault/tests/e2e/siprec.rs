//! The SIPREC recording server inside `callvault serve`, driven by SIPp as the real
//! recording client (scenarios in `sipp/`). Each test starts its own server on free
//! ports, plays the RTP captures that ship with SIPp (`g711a.pcap`, `dtmf_2833_*.pcap`)
//! and asserts on what is stored: the register, the exported audio against the
//! capture's payload, and the audit trail for calls the policy does not record.
//! Without `sipp` on the PATH every test says why it is skipped.

use std::path::PathBuf;
use std::time::Duration;

use serde_json::Value;

use crate::support::*;

const G711A_PCAP: &str = "/usr/share/sip-tester/g711a.pcap";

/// The customer's speech SIPp sends (G.711 A-law, 236 packets of 30 ms).
fn g711a() -> (Vec<RtpCapture>, Vec<i16>, u64) {
    let packets = read_pcap_rtp(&std::fs::read(G711A_PCAP).expect("g711a.pcap (package sip-tester)"));
    let (samples, ms) = g711_audio(&packets);
    assert!(packets.iter().all(|p| p.payload_type == 8), "g711a.pcap is PCMA only");
    (packets, samples, ms)
}

/// The customer's audio before the consent digit: 2 s of A-law noise-like speech
/// that appears nowhere else, on its own SSRC (written as `prompt.pcap` for SIPp).
fn prompt_packets() -> Vec<RtpCapture> {
    let audio = samples(7, 67 * 240);
    audio
        .chunks(240)
        .enumerate()
        .map(|(i, chunk)| RtpCapture {
            time_us: 1_700_000_000_000_000 + i as u64 * 30_000,
            marker: i == 0,
            payload_type: 8,
            seq: 1000 + i as u16,
            timestamp: 48_000 + i as u32 * 240,
            ssrc: 0x5052_4f4d,
            payload: chunk.iter().map(|&s| media::alaw_encode(s)).collect(),
        })
        .collect()
}

/// The tail of the server's log and SIPp's logs, for assertion messages.
fn context(server: &SipServer, sipp: &str) -> String {
    let log = server.log();
    let tail: String = log
        .char_indices()
        .rev()
        .nth(6000)
        .map_or(log.as_str(), |(at, _)| &log[at..])
        .to_owned();
    format!("---- sipp:\n{sipp}\n---- serve (tail):\n{tail}")
}

/// Asserts that SIPp ran its scenario to the end.
fn assert_sipp_ok(outcome: &SippOutcome, server: &SipServer) {
    assert!(
        outcome.success(),
        "sipp exited with {:?}\n{}",
        outcome.code,
        context(server, &outcome.log)
    );
}

/// The register as `recordings list --json` prints it, tolerating a CLI that cannot
/// read the catalog at this instant (the server writes to it).
fn try_list(env: &Env) -> Option<Vec<Value>> {
    let out = env.run(&["recordings", "list", "--json"]);
    if !out.status.success() {
        return None;
    }
    serde_json::from_slice::<Value>(&out.stdout).ok()?.as_array().cloned()
}

/// Waits (up to 15 s) for `n` sealed recordings and returns the register.
fn wait_sealed(env: &Env, server: &SipServer, n: usize) -> Vec<Value> {
    wait_for(Duration::from_secs(15), || {
        try_list(env).filter(|list| list.iter().filter(|r| r["state"] == "sealed").count() >= n)
    })
    .unwrap_or_else(|| {
        panic!(
            "no {n} sealed recording(s) after the call; register: {:?}\n{}",
            try_list(env),
            context(server, "")
        )
    })
}

/// Audit events `recording.not-recorded`, waiting (up to 10 s) for at least one.
fn wait_not_recorded(env: &Env, server: &SipServer) -> Vec<Value> {
    wait_for(Duration::from_secs(10), || {
        let out = env.run(&["audit", "export"]);
        let events: Vec<Value> = String::from_utf8_lossy(&out.stdout)
            .lines()
            .filter_map(|l| serde_json::from_str::<Value>(l).ok())
            .filter(|e| e["action"] == "recording.not-recorded")
            .collect();
        (!events.is_empty()).then_some(events)
    })
    .unwrap_or_else(|| {
        panic!(
            "no recording.not-recorded audit event; audit:\n{}\n{}",
            String::from_utf8_lossy(&env.run(&["audit", "export"]).stdout),
            context(server, "")
        )
    })
}

/// Exports `id` (one stream or stereo) and returns the WAV's rate and channels.
fn export(env: &Env, id: &str, purpose: &str, args: &[&str], name: &str) -> (u32, Vec<Vec<i16>>) {
    let out = env.path().join(name);
    let mut command = vec![
        "recordings",
        "export",
        id,
        "--out",
        out.to_str().unwrap(),
        "--purpose",
        purpose,
        "--reason",
        "e2e check of a live-recorded call",
    ];
    command.extend_from_slice(args);
    env.ok(&command);
    wav_channels(&out)
}

/// The stream of `recording` with `label`.
fn stream<'a>(recording: &'a Value, label: &str) -> &'a Value {
    recording["streams"]
        .as_array()
        .and_then(|s| s.iter().find(|s| s["label"] == label))
        .unwrap_or_else(|| panic!("no stream labelled {label}: {recording}"))
}

fn duration_ms(recording: &Value) -> i64 {
    recording["duration_ms"]
        .as_i64()
        .unwrap_or_else(|| panic!("duration_ms: {recording}"))
}

/// `ended_at - started_at` of a recording, in ms.
fn span_ms(recording: &Value) -> i64 {
    let at = |field: &str| {
        chrono::DateTime::parse_from_rfc3339(recording[field].as_str().unwrap_or_default())
            .unwrap_or_else(|e| panic!("{field}: {e}: {recording}"))
    };
    (at("ended_at") - at("started_at")).num_milliseconds()
}

/// Asserts that `exported` holds the whole of `sent` as one contiguous run.
fn assert_contains_audio(exported: &[i16], sent: &[i16], what: &str) {
    if find_run(exported, sent).is_some() {
        return;
    }
    // Say how much of it is there, packet by packet (240 samples), for the diagnosis.
    let packets: Vec<bool> = sent.chunks(240).map(|p| find_run(exported, p).is_some()).collect();
    let found = packets.iter().filter(|f| **f).count();
    let missing: Vec<usize> = packets
        .iter()
        .enumerate()
        .filter(|(_, f)| !**f)
        .map(|(i, _)| i)
        .take(20)
        .collect();
    panic!(
        "{what}: the exported {} samples do not hold the {} sent samples as one run; \
         {found} of {} packets are found one by one (first missing packets: {missing:?})",
        exported.len(),
        sent.len(),
        packets.len()
    );
}

/// A tenant bound to `policy` whose agents are at pbx.example.com (the scenarios'
/// agent is sip:alice@pbx.example.com, so their customer-first calls are inbound).
fn tenant_with_agents(env: &Env, name: &str, policy: &str) {
    env.create_tenant(name, policy);
    env.ok(&["tenant", "set", name, "--agent-pattern", "pbx.example.com"]);
}

fn data_audio_files(env: &Env) -> std::collections::BTreeMap<PathBuf, u64> {
    let mut files = file_sizes(&env.data().join("spool"));
    files.extend(file_sizes(&env.data().join("objects")));
    files
}

fn relative(env: &Env, paths: &[PathBuf]) -> Vec<String> {
    paths
        .iter()
        .map(|p| p.strip_prefix(env.path()).unwrap_or(p).display().to_string())
        .collect()
}

// ---------------------------------------------------------------------------------

/// A recorded call: INVITE with a SIPREC offer from SIPp, 100/200, ACK, g711a.pcap on
/// the customer's stream, BYE from the client. The call is sealed with the duration of
/// what was sent, both streams as offered, and the customer's stream exports as the
/// capture's A-law payload decoded.
#[test]
fn siprec_records_a_g711_call_from_sipp() {
    if !sipp_available("siprec_records_a_g711_call_from_sipp") {
        return;
    }
    let (_, sent, sent_ms) = g711a();
    assert_eq!(sent_ms, 7080, "g711a.pcap: 236 packets of 240 samples");
    let env = Env::new(Some("eu-eea"));
    tenant_with_agents(&env, "posti", "posti");
    let server = env.serve_sip("posti", None);

    let outcome = run_sipp(&env, "call", "siprec_call.xml", &server);
    assert_sipp_ok(&outcome, &server);
    let answer = answer_of(&outcome.messages);
    assert!(
        answer.contains("+sip.srs"),
        "the 200 OK's Contact has +sip.srs:\n{answer}"
    );
    let ports: Vec<u16> = answer
        .lines()
        .filter_map(|l| l.trim().strip_prefix("m=audio "))
        .filter_map(|l| l.split(' ').next()?.parse().ok())
        .collect();
    assert_eq!(ports.len(), 2, "one m-line per offered stream:\n{answer}");
    assert!(
        ports
            .iter()
            .all(|p| (server.rtp_ports.0..=server.rtp_ports.1).contains(p)),
        "RTP ports {ports:?} from the configured range {:?}",
        server.rtp_ports
    );
    for wanted in ["a=recvonly", "a=label:1", "a=label:2", "PCMA/8000"] {
        assert!(answer.contains(wanted), "{wanted} in the answer:\n{answer}");
    }

    let list = wait_sealed(&env, &server, 1);
    assert_eq!(list.len(), 1, "{list:?}");
    let rec = &list[0];
    eprintln!("recorded: {rec}");
    assert_eq!(rec["tenant"], "posti");
    assert_eq!(rec["direction"], "inbound", "customer listed first: {rec}");
    assert_eq!(rec["state"], "sealed");
    let labels: Vec<&str> = rec["streams"]
        .as_array()
        .expect("streams")
        .iter()
        .filter_map(|s| s["label"].as_str())
        .collect();
    assert_eq!(labels, ["1", "2"], "one stream per offered m-line, in order: {rec}");
    let customer = stream(rec, "1");
    assert_eq!(customer["codec"], "pcma", "{rec}");
    assert_eq!(customer["packets_lost"], 0, "{rec}");
    assert_eq!(stream(rec, "2")["codec"], "pcma", "{rec}");
    let duration = duration_ms(rec);
    assert!(
        (duration - sent_ms as i64).abs() <= 100,
        "duration {duration} ms, sent {sent_ms} ms: {rec}"
    );
    assert!(
        (span_ms(rec) - duration).abs() <= 1000,
        "ended_at - started_at agrees with duration_ms: {rec}"
    );

    // The customer's stream is the capture's payload, decoded.
    let id = rec["id"].as_str().unwrap();
    let (rate, channels) = export(&env, id, "verify-agreement", &["--stream", "1"], "label1.wav");
    assert_eq!((rate, channels.len()), (8000, 1));
    assert_contains_audio(&channels[0], &sent, "label 1");

    // Stereo: customer left, agent right (the agent's stream carried no RTP).
    let (rate, channels) = export(&env, id, "verify-agreement", &["--format", "wav-stereo"], "stereo.wav");
    assert_eq!((rate, channels.len()), (8000, 2));
    assert_contains_audio(&channels[0], &sent, "stereo left (customer)");
    assert!(
        find_run(&channels[1], &sent[8000..8240]).is_none(),
        "the customer's audio is not on the right (agent) channel"
    );
    // Nothing of the audio is stored in the clear.
    let plain = relative(&env, &files_containing_payload(&env.data(), &[sent_payload()]));
    assert!(plain.is_empty(), "plaintext audio in {plain:?}");
    // The metadata's stream-to-participant mapping is stored.
    assert_eq!(
        (
            customer["participant"].as_str(),
            stream(rec, "2")["participant"].as_str()
        ),
        (Some("customer"), Some("agent")),
        "each stream names its participant (label 1 the customer, label 2 the agent): {rec}"
    );
    // Posti's register keeps the customer's number masked (POSTI-FIELDS).
    assert_eq!(rec["customer_number"], "+447700900xxx", "{rec}");
    let clear: Vec<PathBuf> = file_sizes(&env.data())
        .into_keys()
        .filter(|path| std::fs::read(path).is_ok_and(|b| b.windows(12).any(|w| w == b"447700900123")))
        .collect();
    assert!(clear.is_empty(), "the full number is in {:?}", relative(&env, &clear));
    if server.log().contains("447700900123") {
        eprintln!("note: the serve log (RUST_LOG=debug) holds the customer's full number");
    }
}

/// The 200 OKs SIPp received, in order, as its message log shows them.
fn answers(log: &str) -> Vec<String> {
    log.split("\n----")
        .filter_map(|message| message.find("SIP/2.0 200").map(|at| message[at..].to_owned()))
        .collect()
}

/// The 200 OK to the first INVITE.
fn answer_of(log: &str) -> String {
    answers(log)
        .into_iter()
        .find(|a| a.contains("INVITE"))
        .unwrap_or_default()
}

/// The A-law bytes of g711a.pcap, concatenated.
fn sent_payload() -> Vec<u8> {
    g711a().0.into_iter().flat_map(|p| p.payload).collect()
}

/// A call the client never ends: when its RTP stops for longer than
/// `inactivity_timeout_s` the recorder sends BYE, SIPp answers it, and the call is sealed
/// with all of its audio.
#[test]
fn siprec_bye_from_the_recorder_after_rtp_inactivity() {
    if !sipp_available("siprec_bye_from_the_recorder_after_rtp_inactivity") {
        return;
    }
    let (_, sent, sent_ms) = g711a();
    let env = Env::new(Some("eu-eea"));
    tenant_with_agents(&env, "posti", "posti");
    let server = env.serve_sip("posti", Some(2));

    let outcome = run_sipp(&env, "bye-from-server", "siprec_bye_from_server.xml", &server);
    assert_sipp_ok(&outcome, &server);
    let list = wait_sealed(&env, &server, 1);
    let rec = &list[0];
    let duration = duration_ms(rec);
    assert!(
        (sent_ms as i64 - 100..=sent_ms as i64 + 2000 + 1500).contains(&duration),
        "duration {duration} ms for {sent_ms} ms sent and a 2 s inactivity timeout: {rec}"
    );
    let id = rec["id"].as_str().unwrap();
    let (_, channels) = export(&env, id, "verify-agreement", &["--stream", "1"], "label1.wav");
    assert_contains_audio(&channels[0], &sent, "label 1");
}

/// CANCEL before the answer: 200 OK for the CANCEL, 487 for the INVITE (ACKed), and
/// nothing stored.
#[test]
fn siprec_cancel_before_answer_gets_487() {
    if !sipp_available("siprec_cancel_before_answer_gets_487") {
        return;
    }
    let env = Env::new(Some("eu-eea"));
    tenant_with_agents(&env, "posti", "posti");
    let server = env.serve_sip("posti", None);
    let outcome = run_sipp(&env, "cancel", "siprec_cancel.xml", &server);
    assert!(
        outcome.success(),
        "sipp exited with {:?} (if it received 200 for the INVITE before the CANCEL's answer, \
         the recorder answered before the CANCEL could arrive)\n{}",
        outcome.code,
        context(&server, &outcome.log)
    );
    std::thread::sleep(Duration::from_millis(500));
    assert_eq!(env.list(), Vec::<Value>::new(), "nothing stored");
    assert!(data_audio_files(&env).is_empty(), "{:?}", data_audio_files(&env));
}

/// An SBC keep-alive: OPTIONS is answered 200 OK.
#[test]
fn siprec_options_ping() {
    if !sipp_available("siprec_options_ping") {
        return;
    }
    let env = Env::new(Some("eu-eea"));
    tenant_with_agents(&env, "posti", "posti");
    let server = env.serve_sip("posti", None);
    let outcome = run_sipp(&env, "options", "options_ping.xml", &server);
    assert_sipp_ok(&outcome, &server);
}

/// An ordinary INVITE (no Require: siprec, no +sip.src, a plain SDP body) is refused
/// with a 4xx and nothing is stored.
#[test]
fn siprec_refuses_non_siprec_invite() {
    if !sipp_available("siprec_refuses_non_siprec_invite") {
        return;
    }
    let env = Env::new(Some("eu-eea"));
    tenant_with_agents(&env, "posti", "posti");
    let server = env.serve_sip("posti", None);
    let outcome = run_sipp(&env, "non-siprec", "non_siprec_invite.xml", &server);
    assert_sipp_ok(&outcome, &server);
    let status = outcome
        .messages
        .lines()
        .find(|l| l.starts_with("SIP/2.0 4"))
        .unwrap_or_default()
        .to_owned();
    eprintln!("non-SIPREC INVITE answered: {status}");
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(env.list(), Vec::<Value>::new(), "nothing stored");
}

/// Runs an Arlo-style consent call (`arlo_consent_press_{digit}.xml`): a tenant on
/// Arlo's policy (dtmf-opt-in), 2 s of the customer's audio before the prompt's digit,
/// the digit as RFC 4733 events, then g711a.pcap and BYE. Midway through the audio
/// before the digit, checks that nothing of the call is on disk. Returns the
/// environment, the server and SIPp's outcome.
fn arlo_consent_call(digit: char) -> (Env, SipServer, SippOutcome, Vec<RtpCapture>) {
    let env = Env::new(None);
    tenant_with_agents(&env, "arlo", "arlo-europe");
    let server = env.serve_sip("arlo", None);
    let before = data_audio_files(&env);
    let prompt = prompt_packets();
    let sipp = Sipp::prepare(&env, &format!("press-{digit}"));
    std::fs::write(sipp.dir.join("prompt.pcap"), write_pcap_rtp(&prompt)).unwrap();
    let mut sipp = sipp.start(&format!("arlo_consent_press_{digit}.xml"), &server, &[]);

    // Answered (SIPp logged the 200 OK), then 1 s into the customer's audio: the
    // digit comes 3 s after the answer.
    let answered = wait_for(Duration::from_secs(15), || {
        sipp.messages().contains("SIP/2.0 200").then_some(())
    });
    assert!(
        answered.is_some(),
        "the call was not answered\n{}",
        context(&server, &sipp.logs())
    );
    std::thread::sleep(Duration::from_millis(1000));
    assert!(sipp.running(), "SIPp ended before the digit\n{}", sipp.logs());
    let during = data_audio_files(&env);
    let plain = files_containing_payload(&env.data(), &[prompt.iter().flat_map(|p| p.payload.clone()).collect()]);
    assert!(sipp.running(), "the check ran before the digit");
    assert_eq!(
        during, before,
        "before the consent digit nothing of the call may be written to the spool or objects"
    );
    assert!(
        plain.is_empty(),
        "the customer's audio before consent is in {:?}",
        relative(&env, &plain)
    );

    let outcome = sipp.wait();
    (env, server, outcome, prompt)
}

/// ARLO-CONSENT-DTMF: the customer presses 1: the call is recorded from the digit on.
/// Nothing from before it is stored (checked on disk mid-call, and in the export), and
/// everything after it is.
#[test]
fn arlo_consent_dtmf_press_1_records_after_consent() {
    if !sipp_available("arlo_consent_dtmf_press_1_records_after_consent") {
        return;
    }
    let (_, sent, sent_ms) = g711a();
    let (env, server, outcome, prompt) = arlo_consent_call('1');
    assert_sipp_ok(&outcome, &server);
    let list = wait_sealed(&env, &server, 1);
    assert_eq!(list.len(), 1, "{list:?}");
    let rec = &list[0];
    assert_eq!(rec["direction"], "inbound", "{rec}");
    let id = rec["id"].as_str().unwrap();
    let (_, channels) = export(&env, id, "quality", &["--stream", "1"], "label1.wav");
    assert_contains_audio(&channels[0], &sent, "label 1 after consent");
    let (prompt_audio, _) = g711_audio(&prompt);
    let leaked = prompt_audio
        .chunks(240)
        .filter(|p| find_run(&channels[0], p).is_some())
        .count();
    assert_eq!(leaked, 0, "packets of the audio before consent are in the export");
    let plain = relative(&env, &files_containing_payload(&env.data(), &[sent_payload()]));
    assert!(plain.is_empty(), "plaintext audio in {plain:?}");
    assert_eq!(rec["consent"]["digit"], "1", "consent evidence: {rec}");
    // From the digit (3 s after the answer) to the BYE: 0.5 s, then the 7.08 s capture.
    let duration = duration_ms(rec);
    assert!(
        (sent_ms as i64 - 100..=sent_ms as i64 + 500 + 600).contains(&duration),
        "duration {duration} ms (export: {} ms of audio): the recording starts at the digit, \
         0.5 s before {sent_ms} ms of speech: {rec}",
        channels[0].len() / 8
    );
}

/// ARLO-CONSENT-DTMF: the customer presses 2: no audio is stored, not even after the
/// digit; only the declined consent is kept, as an audit event with its reason.
#[test]
fn arlo_consent_dtmf_press_2_records_nothing() {
    if !sipp_available("arlo_consent_dtmf_press_2_records_nothing") {
        return;
    }
    let (env, server, outcome, prompt) = arlo_consent_call('2');
    assert_sipp_ok(&outcome, &server);
    let events = wait_not_recorded(&env, &server);
    assert_eq!(events.len(), 1, "{events:?}");
    assert_eq!(events[0]["detail"]["code"], "consent-declined", "{}", events[0]);
    assert_eq!(env.list(), Vec::<Value>::new(), "nothing stored");
    let files = data_audio_files(&env);
    assert!(files.values().all(|&size| size == 0) || files.is_empty(), "{files:?}");
    let payloads = [sent_payload(), prompt.iter().flat_map(|p| p.payload.clone()).collect()];
    let plain = relative(&env, &files_containing_payload(&env.data(), &payloads));
    assert!(plain.is_empty(), "plaintext audio in {plain:?}");
}

/// ARLO-CONSENT-DTMF: no digit before the prompt's timeout: no audio is stored and the
/// reason is audited. Arlo's policy with its 30 s timeout shortened to 3 s, and a call
/// of 7 s of speech without any digit.
#[test]
fn arlo_consent_dtmf_timeout_records_nothing() {
    if !sipp_available("arlo_consent_dtmf_timeout_records_nothing") {
        return;
    }
    let env = Env::new(None);
    let policy = std::fs::read_to_string(policy_file("arlo-europe")).unwrap();
    assert!(policy.contains("timeout = \"30 seconds\""));
    let policy = env.write(
        "arlo-3s.toml",
        policy
            .replace("timeout = \"30 seconds\"", "timeout = \"3 seconds\"")
            .as_bytes(),
    );
    env.ok(&["tenant", "create", "arlo", "--policy", &policy]);
    env.ok(&["tenant", "set", "arlo", "--agent-pattern", "pbx.example.com"]);
    let server = env.serve_sip("arlo", None);
    let outcome = run_sipp(&env, "timeout", "siprec_call.xml", &server);
    assert_sipp_ok(&outcome, &server);
    let events = wait_not_recorded(&env, &server);
    assert_eq!(events.len(), 1, "{events:?}");
    assert_eq!(events[0]["detail"]["code"], "consent-timeout", "{}", events[0]);
    assert_eq!(env.list(), Vec::<Value>::new(), "nothing stored");
    let files = data_audio_files(&env);
    assert!(files.values().all(|&size| size == 0), "{files:?}");
    let plain = relative(&env, &files_containing_payload(&env.data(), &[sent_payload()]));
    assert!(plain.is_empty(), "plaintext audio in {plain:?}");
}

/// Runs a short call (`scenario`) for a tenant on Arlo's policy; returns the reason
/// code of its `recording.not-recorded` audit event, after checking nothing is stored.
fn arlo_short_call_not_recorded(scenario: &str, agents: bool) -> String {
    let env = Env::new(None);
    if agents {
        tenant_with_agents(&env, "arlo", "arlo-europe");
    } else {
        env.create_tenant("arlo", "arlo-europe");
    }
    let server = env.serve_sip("arlo", None);
    let outcome = run_sipp(&env, "short", scenario, &server);
    assert_sipp_ok(&outcome, &server);
    let events = wait_not_recorded(&env, &server);
    assert_eq!(events.len(), 1, "{events:?}");
    assert_eq!(env.list(), Vec::<Value>::new(), "nothing stored");
    assert!(data_audio_files(&env).is_empty(), "{:?}", data_audio_files(&env));
    events[0]["detail"]["code"].as_str().unwrap_or_default().to_owned()
}

/// ARLO-INBOUND: an outbound call (the agent listed first) is answered, stores
/// nothing even when the customer presses 1, and the reason is audited.
#[test]
fn arlo_inbound_outbound_call_stores_nothing() {
    if !sipp_available("arlo_inbound_outbound_call_stores_nothing") {
        return;
    }
    assert_eq!(
        arlo_short_call_not_recorded("siprec_short_call_outbound.xml", true),
        "direction-not-recorded"
    );
}

/// ARLO-INBOUND, ARLO-CONSENT-DTMF: when the tenant's settings cannot tell agent from
/// customer the direction is unknown; Arlo's policy then stores nothing and says why.
#[test]
fn arlo_direction_unknown_stores_nothing() {
    if !sipp_available("arlo_direction_unknown_stores_nothing") {
        return;
    }
    assert_eq!(
        arlo_short_call_not_recorded("siprec_short_call.xml", false),
        "direction-unknown"
    );
}

/// A re-INVITE with a=inactive pauses the call, a second one resumes it: no audio is
/// stored for the paused span, audio before and after it is.
#[test]
fn siprec_reinvite_inactive_pauses_then_resumes() {
    if !sipp_available("siprec_reinvite_inactive_pauses_then_resumes") {
        return;
    }
    let (packets, _, _) = g711a();
    let env = Env::new(Some("eu-eea"));
    tenant_with_agents(&env, "posti", "posti");
    let server = env.serve_sip("posti", None);
    let outcome = run_sipp(&env, "reinvite", "siprec_reinvite_inactive.xml", &server);
    assert_sipp_ok(&outcome, &server);
    let invites: Vec<String> = answers(&outcome.messages)
        .into_iter()
        .filter(|a| a.contains(" INVITE"))
        .collect();
    assert_eq!(invites.len(), 3, "{invites:?}");
    assert!(
        invites[1].contains("a=inactive") && !invites[2].contains("a=inactive"),
        "the answer to the pausing re-INVITE has a=inactive, the one to the resuming one not: {invites:?}"
    );
    let list = wait_sealed(&env, &server, 1);
    let rec = &list[0];
    let id = rec["id"].as_str().unwrap();
    let (_, channels) = export(&env, id, "verify-agreement", &["--stream", "1"], "label1.wav");
    // Packets are 30 ms; the pause spans 1.5 s to 4.5 s after the capture starts.
    // Voiced packets, and how many of them the export holds.
    let count = |range: std::ops::Range<usize>| voiced_alaw_packets_found(&packets, range, &channels[0]);
    // The pause starts at packet 50 (1.5 s) and ends at packet 150 (4.5 s).
    let (before, paused, after) = (count(20..45), count(60..140), count(160..230));
    eprintln!("packets found/voiced: before the pause {before:?}, paused {paused:?}, after {after:?}; {rec}");
    assert_eq!(paused.0, 0, "audio from the paused span is stored: {rec}");
    let notes = rec["notes"].to_string();
    assert!(
        notes.contains("pause") && notes.contains("resume"),
        "the pause itself is recorded: {rec}"
    );
    assert!(
        before.0 + 2 >= before.1 && after.0 + 2 >= after.1,
        "audio around the pause is stored: before {before:?}, after {after:?}: {rec}"
    );
}

// ---------------------------------------------------------------------------------
// In-band consent on an Oracle/Acme offer, a metadata update that adds a participant,
// and notice-based consent (Telephone Office).

/// Audit events `recording.not-recorded`, waiting (up to 10 s) for at least `n`.
fn wait_not_recorded_n(env: &Env, server: &SipServer, n: usize) -> Vec<Value> {
    wait_for(Duration::from_secs(10), || {
        let out = env.run(&["audit", "export"]);
        let events: Vec<Value> = String::from_utf8_lossy(&out.stdout)
            .lines()
            .filter_map(|l| serde_json::from_str::<Value>(l).ok())
            .filter(|e| e["action"] == "recording.not-recorded")
            .collect();
        (events.len() >= n).then_some(events)
    })
    .unwrap_or_else(|| {
        panic!(
            "fewer than {n} recording.not-recorded audit events; audit:\n{}\n{}",
            String::from_utf8_lossy(&env.run(&["audit", "export"]).stdout),
            context(server, "")
        )
    })
}

/// The ports of the m-lines of an SDP answer, in order.
fn answer_ports(answer: &str) -> Vec<u16> {
    answer
        .lines()
        .filter_map(|l| l.trim().strip_prefix("m=audio "))
        .filter_map(|l| l.split(' ').next()?.parse().ok())
        .collect()
}

/// Runs a consent call (`scenario`, with `files` written into SIPp's working directory
/// first) and, once it is answered and 1 s into the customer's audio (well before any
/// digit), checks that nothing of the call is on disk: no spool or object file, and
/// no plaintext of `before_consent` anywhere in the data directory.
fn consent_call_checked(
    env: &Env,
    server: &SipServer,
    name: &str,
    scenario: &str,
    files: &[(&str, Vec<u8>)],
    before_consent: &[u8],
) -> SippOutcome {
    let before = data_audio_files(env);
    let sipp = Sipp::prepare(env, name);
    for (file, bytes) in files {
        std::fs::write(sipp.dir.join(file), bytes).unwrap();
    }
    let mut sipp = sipp.start(scenario, server, &[]);
    let answered = wait_for(Duration::from_secs(15), || {
        sipp.messages().contains("SIP/2.0 200").then_some(())
    });
    assert!(
        answered.is_some(),
        "the call was not answered\n{}",
        context(server, &sipp.logs())
    );
    std::thread::sleep(Duration::from_millis(1000));
    assert!(sipp.running(), "SIPp ended before the digit\n{}", sipp.logs());
    let during = data_audio_files(env);
    let plain = files_containing_payload(&env.data(), &[before_consent.to_vec()]);
    assert!(sipp.running(), "the check ran before the digit");
    assert_eq!(
        during, before,
        "before the consent digit nothing of the call may be written to the spool or objects"
    );
    assert!(
        plain.is_empty(),
        "the customer's audio before consent is in {:?}",
        relative(env, &plain)
    );
    sipp.wait()
}

/// The customer's stream of `arlo_acme_inband_press_1.xml` (µ-law, 20 ms packets):
/// 2 s of the customer's audio while the prompt plays, 1 s of silence, the key 1 as
/// in-band tones (697 Hz + 1209 Hz, 100 ms), 0.5 s of silence, then g711a.pcap's
/// 7.08 s of speech transcoded to µ-law. The parts are as the recorder stores them
/// (µ-law round trip).
struct InbandStream {
    packets: Vec<RtpCapture>,
    prompt: Vec<i16>,
    tone: Vec<i16>,
    speech: Vec<i16>,
    /// Where the tone and the speech start, in ms from the stream's first packet.
    tone_at_ms: u64,
    speech_at_ms: u64,
}

fn acme_inband_stream() -> InbandStream {
    let prompt = samples(13, 2 * 8000);
    // Each tone at -12 dBFS (the detector accepts down to -40 dBFS).
    let tone = dtmf_tone(697.0, 1209.0, 100, 8000.0);
    let (_, speech, _) = g711a();
    let mut audio = prompt.clone();
    audio.extend(std::iter::repeat_n(0i16, 8000));
    let tone_at_ms = audio.len() as u64 / 8;
    audio.extend(&tone);
    audio.extend(std::iter::repeat_n(0i16, 4000));
    let speech_at_ms = audio.len() as u64 / 8;
    audio.extend(&speech);
    InbandStream {
        packets: ulaw_rtp_packets(&audio, 0x4143_4d45),
        prompt: ulaw_round_trip(&prompt),
        tone: ulaw_round_trip(&tone),
        speech: ulaw_round_trip(&speech),
        tone_at_ms,
        speech_at_ms,
    }
}

/// ARLO-CONSENT-DTMF with an Oracle/Acme SBC: its offer (the shape of
/// shared/interop/siprec-offers/acme-siprec-offer.txt: pre-RFC metadata with
/// `callingParty`, PCMU only, no telephone-event) gives the recorder no RFC 4733
/// events, so the customer's 1 is heard as tones in the audio. The tenant's agent
/// pattern names the called party (sip:1002@192.168.50.10); the callingParty
/// (sip:9000@192.168.50.102) is then the customer and the call inbound. As with RFC
/// 4733: nothing on disk before the digit, everything after it recorded, and the
/// consent evidence says the digit was detected in-band.
#[test]
fn arlo_consent_in_band_digit_with_the_acme_offer() {
    if !sipp_available("arlo_consent_in_band_digit_with_the_acme_offer") {
        return;
    }
    let customer = acme_inband_stream();
    let sent_ms = customer.speech.len() as i64 / 8;
    // The generated audio holds exactly one key before the speech, a 1, for the
    // recorder's own detector (so a failure below is the recorder's, not the test's).
    let (heard, _) = g711_audio(&customer.packets);
    let mut detector = media::InbandDetector::with_sample_rate(8000);
    let mut digits = Vec::new();
    detector.process(&heard[..customer.speech_at_ms as usize * 8], &mut digits);
    detector.finish(&mut digits);
    assert_eq!(
        digits.iter().map(|d| d.digit.as_char()).collect::<String>(),
        "1",
        "{digits:?}"
    );
    let digit_end_ms = digits[0].end_ms(8000);

    let env = Env::new(None);
    env.create_tenant("arlo", "arlo-europe");
    env.ok(&["tenant", "set", "arlo", "--agent-pattern", "sip:1002@192.168.50.10"]);
    let server = env.serve_sip("arlo", None);
    let prompt_payload: Vec<u8> = customer.packets[..100].iter().flat_map(|p| p.payload.clone()).collect();
    let outcome = consent_call_checked(
        &env,
        &server,
        "acme-inband",
        "arlo_acme_inband_press_1.xml",
        &[("customer.pcap", write_pcap_rtp(&customer.packets))],
        &prompt_payload,
    );
    assert_sipp_ok(&outcome, &server);
    let answer = answer_of(&outcome.messages);
    for wanted in ["a=label:16777227", "a=label:16777228", "PCMU/8000", "a=recvonly"] {
        assert!(answer.contains(wanted), "{wanted} in the answer:\n{answer}");
    }
    assert!(
        !answer.contains("telephone-event"),
        "nothing offered telephone-event:\n{answer}"
    );

    let list = wait_sealed(&env, &server, 1);
    assert_eq!(list.len(), 1, "{list:?}");
    let rec = &list[0];
    eprintln!("recorded: {rec}");
    assert_eq!(
        rec["direction"], "inbound",
        "Acme's callingParty is the customer: {rec}"
    );
    let customer_stream = stream(rec, "16777227");
    assert_eq!(
        (
            customer_stream["participant"].as_str(),
            customer_stream["codec"].as_str(),
            stream(rec, "16777228")["participant"].as_str()
        ),
        (Some("customer"), Some("pcmu"), Some("agent")),
        "label 16777227 is the customer's (PCMU), 16777228 the agent's: {rec}"
    );
    let consent = &rec["consent"];
    assert_eq!(
        (
            consent["digit"].as_str(),
            consent["detected_by"].as_str(),
            consent["basis"].as_str()
        ),
        (Some("1"), Some("in-band"), Some("explicit")),
        "consent evidence: {rec}"
    );
    // The gate opens where the tone ends (3.1 s into the customer's audio, which starts
    // right after the answer).
    let since = consent["ms_after_answer"].as_i64().unwrap_or(-1);
    assert!(
        (digit_end_ms as i64..=digit_end_ms as i64 + 1000).contains(&since),
        "consent at {since} ms after the answer; the tone ends {digit_end_ms} ms into the audio: {rec}"
    );

    let id = rec["id"].as_str().unwrap();
    let (_, channels) = export(&env, id, "quality", &["--stream", "16777227"], "customer.wav");
    assert_contains_audio(&channels[0], &customer.speech, "the customer's speech after the digit");
    let leaked = |audio: &[i16]| {
        audio
            .chunks(160)
            .filter(|p| find_run(&channels[0], p).is_some())
            .count()
    };
    assert_eq!(
        (leaked(&customer.prompt), leaked(&customer.tone)),
        (0, 0),
        "packets of the audio before consent (prompt time, tone) are in the export"
    );
    let speech_payload: Vec<u8> = customer.speech.iter().map(|&s| media::ulaw_encode(s)).collect();
    let plain = relative(
        &env,
        &files_containing_payload(&env.data(), &[speech_payload, prompt_payload]),
    );
    assert!(plain.is_empty(), "plaintext audio in {plain:?}");
    // From the digit (3.1 s) to the BYE (10.8 s after the audio starts): 0.5 s of
    // silence, then the 7.08 s of speech.
    let duration = duration_ms(rec);
    assert!(
        (sent_ms - 100..=sent_ms + 500 + 600).contains(&duration),
        "duration {duration} ms (export: {} ms of audio): the recording starts at the digit, \
         0.5 s before {sent_ms} ms of speech: {rec}",
        channels[0].len() / 8
    );
    // Everything after the digit is kept: the export starts with the 0.5 s of silence
    // between the tone's end and the speech.
    let speech_at = find_run(&channels[0], &customer.speech).unwrap_or_default() as i64 / 8;
    let silence_ms = customer.speech_at_ms as i64 - (customer.tone_at_ms as i64 + 100);
    eprintln!(
        "export: {} ms, the speech {speech_at} ms into it; consent at {since} ms after the answer",
        channels[0].len() / 8
    );
    assert!(
        speech_at >= silence_ms - 60,
        "the export has {speech_at} ms before the speech, the stream {silence_ms} ms between the \
         tone's end and the speech: audio after the digit is missing"
    );
}

/// A re-INVITE that carries the SIPREC offer again, its metadata (a complete
/// snapshot) naming a third participant (sip:bob@consult.example, "Bob Consultant"):
/// the streams go on on the same ports, the audio is whole, and the sealed recording
/// says that a participant joined mid-call: a note "participant joined mid-call at N
/// ms" (N about 2000) and the participant, with role "other (joined mid-call)", among
/// the stored participants.
#[test]
fn siprec_metadata_update_adds_a_participant_mid_call() {
    if !sipp_available("siprec_metadata_update_adds_a_participant_mid_call") {
        return;
    }
    let (_, sent, sent_ms) = g711a();
    let env = Env::new(Some("eu-eea"));
    tenant_with_agents(&env, "posti", "posti");
    let server = env.serve_sip("posti", None);
    let outcome = run_sipp(&env, "add-participant", "siprec_reinvite_add_participant.xml", &server);
    assert_sipp_ok(&outcome, &server);
    let invites: Vec<String> = answers(&outcome.messages)
        .into_iter()
        .filter(|a| a.contains(" INVITE"))
        .collect();
    assert_eq!(invites.len(), 2, "{invites:?}");
    assert_eq!(
        answer_ports(&invites[1]),
        answer_ports(&invites[0]),
        "the update keeps the streams' ports: {invites:?}"
    );
    assert!(
        !invites[1].contains("a=inactive"),
        "the streams stay active: {}",
        invites[1]
    );

    let list = wait_sealed(&env, &server, 1);
    assert_eq!(list.len(), 1, "{list:?}");
    let rec = &list[0];
    let id = rec["id"].as_str().unwrap();
    let duration = duration_ms(rec);
    assert!(
        (duration - sent_ms as i64).abs() <= 300,
        "duration {duration} ms, sent {sent_ms} ms: {rec}"
    );
    let (_, channels) = export(&env, id, "verify-agreement", &["--stream", "1"], "label1.wav");
    assert_contains_audio(&channels[0], &sent, "label 1 across the update");

    let shown = env.json(&["recordings", "show", id, "--json"]);
    eprintln!("show: {shown}");
    let joined: Vec<i64> = shown["notes"]
        .as_array()
        .unwrap_or_else(|| panic!("notes: {shown}"))
        .iter()
        .filter_map(|n| {
            n.as_str()?
                .strip_prefix("participant joined mid-call at ")?
                .strip_suffix(" ms")?
                .parse()
                .ok()
        })
        .collect();
    assert_eq!(joined.len(), 1, "one participant joined mid-call: {shown}");
    assert!(
        (1800..=4000).contains(&joined[0]),
        "joined at {} ms; the update came 2 s after the answer: {shown}",
        joined[0]
    );
    let participants: Vec<(String, Option<String>)> = shown["participants"]
        .as_array()
        .unwrap_or_else(|| panic!("participants: {shown}"))
        .iter()
        .map(|p| {
            (
                p["role"].as_str().unwrap_or_default().to_owned(),
                p["name"].as_str().map(str::to_owned),
            )
        })
        .collect();
    assert!(
        participants.iter().any(|(role, _)| role == "customer") && participants.iter().any(|(role, _)| role == "agent"),
        "the customer and the agent are still there: {participants:?}"
    );
    assert!(
        participants.contains(&("other (joined mid-call)".to_owned(), Some("Bob Consultant".to_owned()))),
        "the participant added by the update is stored, as joined mid-call \
         (Posti keeps names of participants other than the customer): {participants:?}"
    );
    assert_eq!(participants.len(), 3, "{participants:?}");
}

/// TO-OPTIONAL, TO-NOTICE, live: a tenant on Telephone Office's policy. While the
/// tenant has not enabled recording, a call (notice played) stores nothing and the
/// audit says `recording-not-enabled`. With recording on and a retention period, a
/// call whose INVITE lacks `Recording-Notice: played` stores nothing
/// (`notice-not-played`), and one with it is recorded, its consent implied by the
/// notice.
#[test]
fn telephone_office_notice_header_required_live() {
    if !sipp_available("telephone_office_notice_header_required_live") {
        return;
    }
    let tenant = "office-customer";
    let env = Env::new(None);
    tenant_with_agents(&env, tenant, "telephone-office");
    let server = env.serve_sip(tenant, None);
    let assert_nothing_stored = |what: &str| {
        assert_eq!(env.list(), Vec::<Value>::new(), "{what}: nothing stored");
        assert!(
            data_audio_files(&env).is_empty(),
            "{what}: {:?}",
            data_audio_files(&env)
        );
    };
    let assert_streams_rejected = |outcome: &SippOutcome, what: &str| {
        let answer = answer_of(&outcome.messages);
        let ports = answer_ports(&answer);
        assert!(
            ports.len() == 2 && ports.iter().all(|&p| p == 0),
            "{what}: the call is answered with every stream rejected:\n{answer}"
        );
    };

    // Recording not enabled (the notice is played).
    let outcome = run_sipp(&env, "not-enabled", "siprec_short_call.xml", &server);
    assert_sipp_ok(&outcome, &server);
    assert_streams_rejected(&outcome, "recording off");
    let events = wait_not_recorded_n(&env, &server, 1);
    assert_eq!(events.len(), 1, "{events:?}");
    assert_eq!(
        (
            events[0]["detail"]["code"].as_str(),
            events[0]["detail"]["rule"].as_str(),
            events[0]["tenant"].as_str()
        ),
        (Some("recording-not-enabled"), Some("consent.enablement"), Some(tenant)),
        "{}",
        events[0]
    );
    assert_nothing_stored("recording off");

    // Enabled, but the client does not say the notice was played.
    env.ok(&["tenant", "set", tenant, "--recording", "on", "--retention", "1 year"]);
    let outcome = run_sipp(&env, "no-notice", "siprec_short_call_no_notice.xml", &server);
    assert_sipp_ok(&outcome, &server);
    assert_streams_rejected(&outcome, "no notice");
    let events = wait_not_recorded_n(&env, &server, 2);
    assert_eq!(events.len(), 2, "{events:?}");
    assert_eq!(
        (
            events[1]["detail"]["code"].as_str(),
            events[1]["detail"]["rule"].as_str(),
            events[1]["tenant"].as_str()
        ),
        (Some("notice-not-played"), Some("consent.mechanism"), Some(tenant)),
        "{}",
        events[1]
    );
    assert_nothing_stored("no notice");

    // Enabled and the notice played: recorded, consent implied by the notice.
    let (_, sent, sent_ms) = g711a();
    let outcome = run_sipp(&env, "notice", "siprec_call.xml", &server);
    assert_sipp_ok(&outcome, &server);
    let list = wait_sealed(&env, &server, 1);
    assert_eq!(list.len(), 1, "{list:?}");
    let rec = &list[0];
    eprintln!("recorded: {rec}");
    assert_eq!(rec["tenant"], tenant);
    assert_eq!(rec["legal_basis"], "consent", "{rec}");
    assert_eq!(rec["consent"]["basis"], "implied-by-notice", "{rec}");
    assert_eq!(rec["consent"]["ms_after_answer"], 0, "recorded from the answer: {rec}");
    // From the answer to the BYE: the capture's 7.08 s and SIPp's 20 ms to spare (more
    // on a loaded machine: ended_at is taken after the streams are stored).
    let duration = duration_ms(rec);
    assert!(
        (sent_ms as i64 - 100..=sent_ms as i64 + 600).contains(&duration),
        "duration {duration} ms, sent {sent_ms} ms: {rec}"
    );
    let at = |field: &str| {
        chrono::DateTime::parse_from_rfc3339(rec[field].as_str().unwrap_or_default())
            .unwrap_or_else(|e| panic!("{field}: {e}: {rec}"))
    };
    let kept_days = (at("retain_until") - at("started_at")).num_days();
    assert!(
        (364..=367).contains(&kept_days),
        "the tenant's retention (1 year): kept {kept_days} days: {rec}"
    );
    let id = rec["id"].as_str().unwrap();
    let (_, channels) = export(&env, id, "quality-training", &["--stream", "1"], "label1.wav");
    assert_contains_audio(&channels[0], &sent, "label 1");
    let events = wait_not_recorded_n(&env, &server, 2);
    assert_eq!(
        events.len(),
        2,
        "the recorded call adds no not-recorded event: {events:?}"
    );
}
