//! SDP and metadata in UPDATE (RFC 3311) and session-timer refreshes (RFC 4028), with
//! SIPp as the recording client (`sipp/siprec_update.xml`).

use crate::live::*;
use crate::support::*;

const G711A_PCAP: &str = "/usr/share/sip-tester/g711a.pcap";

/// An UPDATE with a SIPREC body pauses the call (`a=inactive`) and adds a participant,
/// an UPDATE with plain SDP resumes it, and a body-less UPDATE refreshes the session
/// timer, and an UPDATE whose body is metadata alone adds another participant: each is
/// answered 200 OK (with the SDP answer on the same ports when it carried an offer,
/// with none when it did not), and the INVITE and the UPDATEs that ask for a session
/// timer get `Session-Expires: 1800;refresher=uac` plus `Require: timer`. No audio of
/// the paused span is stored, audio around it is; the pause, the resume and both
/// participants who joined mid-call are recorded, and nothing marks the call as
/// transferred.
#[test]
fn siprec_update_pauses_adds_a_participant_resumes_and_refreshes() {
    if !sipp_available("siprec_update_pauses_adds_a_participant_resumes_and_refreshes") {
        return;
    }
    let packets = read_pcap_rtp(&std::fs::read(G711A_PCAP).expect("g711a.pcap (package sip-tester)"));
    let env = Env::new(Some("eu-eea"));
    tenant_with_agents(&env, "posti", "posti");
    let server = env.serve_sip("posti", None);
    let outcome = run_sipp(&env, "update", "siprec_update.xml", &server);
    assert_sipp_ok(&outcome, &server);

    let invite = responses_to(&outcome.messages, "INVITE");
    let updates = responses_to(&outcome.messages, "UPDATE");
    assert_eq!(invite.len(), 1, "{invite:?}");
    assert_eq!(updates.len(), 4, "four UPDATEs answered: {updates:?}");
    let ports = answer_ports(&invite[0]);
    assert_eq!(ports.len(), 2, "{}", invite[0]);
    for (i, answer) in invite.iter().chain(&updates[..3]).enumerate() {
        assert!(answer.starts_with("SIP/2.0 200"), "answer {i}: {answer}");
        assert_eq!(
            header_value(answer, "Session-Expires").as_deref(),
            Some("1800;refresher=uac"),
            "answer {i} accepts the session timer, the client refreshing: {answer}"
        );
        assert!(
            answer
                .lines()
                .any(|l| l.to_ascii_lowercase().starts_with("require:") && l.contains("timer")),
            "answer {i} has Require: timer: {answer}"
        );
    }
    assert_eq!(answer_ports(&updates[0]), ports, "same ports: {}", updates[0]);
    assert!(updates[0].contains("a=inactive"), "paused: {}", updates[0]);
    assert_eq!(answer_ports(&updates[1]), ports, "same ports: {}", updates[1]);
    assert!(
        !updates[1].contains("a=inactive") && updates[1].contains("a=recvonly"),
        "resumed: {}",
        updates[1]
    );
    for update in &updates[2..] {
        assert!(update.starts_with("SIP/2.0 200"), "{update}");
        assert!(
            answer_ports(update).is_empty(),
            "an UPDATE without an offer gets no SDP: {update}"
        );
    }

    let list = wait_sealed(&env, &server, 1);
    let rec = &list[0];
    let id = rec["id"].as_str().unwrap();
    let (_, channels) = export_wav(&env, id, &["--stream", "1"], "label1.wav");
    // Voiced packets, and how many of them the export holds.
    let count = |range: std::ops::Range<usize>| voiced_alaw_packets_found(&packets, range, &channels[0]);
    // 30 ms packets: the pause spans packets 50 (1.5 s) to 150 (4.5 s).
    let (before, paused, after) = (count(20..45), count(60..140), count(160..230));
    eprintln!("packets found/voiced: before {before:?}, paused {paused:?}, after {after:?}; {rec}");
    assert_eq!(paused.0, 0, "audio from the paused span is stored: {rec}");
    assert!(
        before.0 + 2 >= before.1 && after.0 + 2 >= after.1,
        "audio around the pause is stored: before {before:?}, after {after:?}: {rec}"
    );

    let shown = env.json(&["recordings", "show", id, "--json"]);
    eprintln!("show: {shown}");
    let notes: Vec<&str> = shown["notes"]
        .as_array()
        .unwrap_or_else(|| panic!("notes: {shown}"))
        .iter()
        .filter_map(|n| n.as_str())
        .collect();
    assert!(
        notes.iter().any(|n| n.starts_with("paused at")) && notes.iter().any(|n| n.starts_with("resumed at")),
        "the pause is recorded: {notes:?}"
    );
    let joined: Vec<i64> = notes
        .iter()
        .filter_map(|n| {
            n.strip_prefix("participant joined mid-call at ")?
                .strip_suffix(" ms")?
                .parse()
                .ok()
        })
        .collect();
    assert_eq!(joined.len(), 2, "{notes:?}");
    assert!(
        (1300..=3500).contains(&joined[0]) && (5300..=7500).contains(&joined[1]),
        "joined at {joined:?} ms; the UPDATEs came 1.5 s and 5.5 s after the answer"
    );
    assert!(
        !notes.iter().any(|n| n.contains("transferred")),
        "a participant joining is not a transfer: {notes:?}"
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
        participants.contains(&("other (joined mid-call)".to_owned(), Some("Bob Consultant".to_owned()))),
        "the participant the UPDATE added is stored as joined mid-call: {participants:?}"
    );
    assert!(
        participants.contains(&("other (joined mid-call)".to_owned(), Some("Dana Supervisor".to_owned()))),
        "the participant added by metadata alone is stored too: {participants:?}"
    );
}
