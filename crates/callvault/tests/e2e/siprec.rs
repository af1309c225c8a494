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
    let decoded = |p: &RtpCapture| p.payload.iter().map(|&b| media::alaw_decode(b)).collect::<Vec<i16>>();
    // Packets that are not pure silence, and how many of them the export holds.
    let count = |range: std::ops::Range<usize>| {
        let voiced: Vec<&RtpCapture> = packets[range]
            .iter()
            .filter(|p| p.payload.iter().any(|&b| b != p.payload[0]))
            .collect();
        let found = voiced
            .iter()
            .filter(|p| find_run(&channels[0], &decoded(p)).is_some())
            .count();
        (found, voiced.len())
    };
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
