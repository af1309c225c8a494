//! Session timers (RFC 4028) with SIPp: a refresh by an offerless re-INVITE keeps the
//! recording going, and an interval below Min-SE is refused with 422.

use crate::live::*;
use crate::support::*;

const G711A_PCAP: &str = "/usr/share/sip-tester/g711a.pcap";

/// The INVITE asks for a 1800 s session timer; 1 s in, a re-INVITE without a body
/// refreshes it. Both 200s carry `Session-Expires: 1800;refresher=uac` and `Require:
/// timer`; the refresh's 200 offers the same streams on the same ports (RFC 3261
/// §14.2). The call is recorded whole across the refresh.
#[test]
fn session_refresh_by_reinvite_keeps_the_call() {
    if !sipp_available("session_refresh_by_reinvite_keeps_the_call") {
        return;
    }
    let packets = read_pcap_rtp(&std::fs::read(G711A_PCAP).expect("g711a.pcap (package sip-tester)"));
    let (sent, sent_ms) = g711_audio(&packets);
    let env = Env::new(Some("eu-eea"));
    tenant_with_agents(&env, "posti", "posti");
    let server = env.serve_sip("posti", None);
    let outcome = Sipp::prepare(&env, "refresh")
        .start(
            "siprec_reinvite_refresh.xml",
            &server,
            &["-key", "session_expires", "1800"],
        )
        .wait();
    assert_sipp_ok(&outcome, &server);
    let answers = responses_to(&outcome.messages, "INVITE");
    assert_eq!(answers.len(), 2, "{answers:?}");
    for answer in &answers {
        assert!(answer.starts_with("SIP/2.0 200"), "{answer}");
        assert_eq!(
            header_value(answer, "Session-Expires").as_deref(),
            Some("1800;refresher=uac"),
            "{answer}"
        );
        assert!(
            answer
                .lines()
                .any(|l| l.to_ascii_lowercase().starts_with("require:") && l.contains("timer")),
            "{answer}"
        );
    }
    let ports = answer_ports(&answers[0]);
    assert_eq!(ports.len(), 2, "{}", answers[0]);
    assert_eq!(
        answer_ports(&answers[1]),
        ports,
        "the refresh offers the same ports: {}",
        answers[1]
    );

    let list = wait_sealed(&env, &server, 1);
    let rec = &list[0];
    let duration = duration_ms(rec);
    assert!(
        (duration - sent_ms as i64).abs() <= 100,
        "duration {duration} ms, sent {sent_ms} ms: {rec}"
    );
    let (_, channels) = export_wav(&env, rec["id"].as_str().unwrap(), &["--stream", "1"], "refresh.wav");
    assert!(
        find_run(&channels[0], &sent).is_some(),
        "the customer's stream holds the whole capture across the refresh"
    );
}

/// An INVITE with `Session-Expires: 30` (below the minimum of 90 s) is answered 422
/// Session Interval Too Small with `Min-SE: 90`, and nothing is recorded.
#[test]
fn session_interval_below_min_se_gets_422() {
    if !sipp_available("session_interval_below_min_se_gets_422") {
        return;
    }
    let env = Env::new(Some("eu-eea"));
    tenant_with_agents(&env, "posti", "posti");
    let server = env.serve_sip("posti", None);
    let outcome = Sipp::prepare(&env, "too-small")
        .start(
            "siprec_session_too_small.xml",
            &server,
            &["-key", "session_expires", "30"],
        )
        .wait();
    assert_sipp_ok(&outcome, &server);
    let answers = responses_to(&outcome.messages, "INVITE");
    assert_eq!(answers.len(), 1, "{answers:?}");
    assert!(answers[0].starts_with("SIP/2.0 422"), "{}", answers[0]);
    assert_eq!(
        header_value(&answers[0], "Min-SE").as_deref(),
        Some("90"),
        "{}",
        answers[0]
    );
    assert_eq!(env.list(), Vec::<serde_json::Value>::new(), "nothing recorded");
}
