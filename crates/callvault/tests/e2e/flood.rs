//! An INVITE flood while a call is being recorded: admission control (`[sip]`
//! `max_calls`, `invite_rate`, `invite_burst`) answers the excess `503 Service
//! Unavailable` with `Retry-After`, counts it in `/metrics`, and the recorded call
//! stays complete.

use std::collections::{HashMap, HashSet};
use std::net::{SocketAddr, UdpSocket};
use std::time::{Duration, Instant};

use crate::live::*;
use crate::support::*;

const G711A_PCAP: &str = "/usr/share/sip-tester/g711a.pcap";

/// A SIPREC INVITE like SIPp's (customer then agent, one PCMA stream, notice played).
fn flood_invite(i: usize, local: SocketAddr, server: SocketAddr) -> String {
    let body = format!(
        "--b\r\nContent-Type: application/sdp\r\n\r\n\
         v=0\r\no=flood {i} 1 IN IP4 127.0.0.2\r\ns=-\r\nc=IN IP4 127.0.0.2\r\nt=0 0\r\n\
         m=audio 9 RTP/AVP 8\r\na=rtpmap:8 PCMA/8000\r\na=sendonly\r\na=label:1\r\n\
         --b\r\nContent-Type: application/rs-metadata+xml\r\n\r\n\
         <?xml version=\"1.0\"?><recording xmlns=\"urn:ietf:params:xml:ns:recording:1\">\
         <datamode>complete</datamode>\
         <participant participant_id=\"c\"><nameID aor=\"sip:+447700900999@carrier.example\"/></participant>\
         <participant participant_id=\"a\"><nameID aor=\"sip:alice@pbx.example.com\"/></participant>\
         <stream stream_id=\"s1\" session_id=\"x\"><label>1</label></stream>\
         <participantstreamassoc participant_id=\"c\"><send>s1</send></participantstreamassoc>\
         </recording>\r\n--b--\r\n"
    );
    format!(
        "INVITE sip:srs@{server} SIP/2.0\r\n\
         Via: SIP/2.0/UDP {local};branch=z9hG4bK-flood-{i}\r\n\
         From: <sip:flood@{local}>;tag=flood{i}\r\n\
         To: <sip:srs@{server}>\r\n\
         Call-ID: flood-{i}@127.0.0.2\r\n\
         CSeq: 1 INVITE\r\n\
         Contact: <sip:flood@{local}>;+sip.src\r\n\
         Max-Forwards: 70\r\n\
         Require: siprec\r\n\
         Recording-Notice: played\r\n\
         Content-Type: multipart/mixed;boundary=b\r\n\
         Content-Length: {}\r\n\r\n{body}",
        body.len()
    )
}

/// A request in the dialog or transaction of flood INVITE `i` (`ACK` or `BYE`).
fn flood_request(
    method: &str,
    i: usize,
    branch: &str,
    to_tag: &str,
    cseq: u32,
    local: SocketAddr,
    server: SocketAddr,
) -> String {
    format!(
        "{method} sip:srs@{server} SIP/2.0\r\n\
         Via: SIP/2.0/UDP {local};branch={branch}\r\n\
         From: <sip:flood@{local}>;tag=flood{i}\r\n\
         To: <sip:srs@{server}>;tag={to_tag}\r\n\
         Call-ID: flood-{i}@127.0.0.2\r\n\
         CSeq: {cseq} {method}\r\n\
         Max-Forwards: 70\r\n\
         Content-Length: 0\r\n\r\n"
    )
}

fn header<'a>(message: &'a str, name: &str) -> Option<&'a str> {
    message.lines().find_map(|l| {
        let (n, v) = l.split_once(':')?;
        n.trim().eq_ignore_ascii_case(name).then(|| v.trim())
    })
}

/// What the flood got back: per INVITE index, the final status and its Retry-After.
struct FloodOutcome {
    finals: HashMap<usize, (u16, Option<String>)>,
}

/// Sends `count` new-call INVITEs from 127.0.0.2 as fast as the socket takes them
/// (re-sent, like a client's timer A, while unanswered), ACKs every final answer and,
/// once every INVITE has one, ends the admitted calls with BYE.
fn flood(server: SocketAddr, count: usize) -> FloodOutcome {
    let socket = UdpSocket::bind("127.0.0.2:0").expect("bind 127.0.0.2 (loopback)");
    let local = socket.local_addr().unwrap();
    socket.set_read_timeout(Some(Duration::from_millis(50))).unwrap();
    let invites: Vec<String> = (0..count).map(|i| flood_invite(i, local, server)).collect();
    for invite in &invites {
        socket.send_to(invite.as_bytes(), server).unwrap();
    }
    let mut finals: HashMap<usize, (u16, Option<String>)> = HashMap::new();
    let mut byes_answered: HashSet<usize> = HashSet::new();
    let mut admitted_tags: HashMap<usize, String> = HashMap::new();
    let mut byes_sent = false;
    let deadline = Instant::now() + Duration::from_secs(20);
    let mut last_resend = Instant::now();
    let mut buf = vec![0u8; 65536];
    while Instant::now() < deadline {
        if finals.len() == count {
            if admitted_tags.keys().all(|i| byes_answered.contains(i)) {
                break;
            }
            if !byes_sent {
                for (i, to_tag) in &admitted_tags {
                    let bye = flood_request("BYE", *i, &format!("z9hG4bK-flood-bye-{i}"), to_tag, 2, local, server);
                    socket.send_to(bye.as_bytes(), server).unwrap();
                }
                byes_sent = true;
            }
        }
        if last_resend.elapsed() > Duration::from_millis(500) {
            for (i, invite) in invites.iter().enumerate() {
                if !finals.contains_key(&i) {
                    socket.send_to(invite.as_bytes(), server).unwrap();
                }
            }
            last_resend = Instant::now();
        }
        let Ok((n, _)) = socket.recv_from(&mut buf) else {
            continue;
        };
        let text = String::from_utf8_lossy(&buf[..n]).to_string();
        let Some(status) = text
            .strip_prefix("SIP/2.0 ")
            .and_then(|s| s.get(..3))
            .and_then(|s| s.parse::<u16>().ok())
        else {
            continue;
        };
        let Some(i) = header(&text, "Call-ID")
            .and_then(|c| c.strip_prefix("flood-"))
            .and_then(|c| c.split('@').next())
            .and_then(|c| c.parse::<usize>().ok())
        else {
            continue;
        };
        let cseq = header(&text, "CSeq").unwrap_or_default().to_owned();
        let to_tag = header(&text, "To")
            .and_then(|t| t.split(";tag=").nth(1))
            .unwrap_or_default()
            .to_owned();
        if cseq.ends_with("BYE") {
            byes_answered.insert(i);
            continue;
        }
        if status < 200 {
            continue;
        }
        if status == 200 {
            let ack = flood_request("ACK", i, &format!("z9hG4bK-flood-ack-{i}"), &to_tag, 1, local, server);
            socket.send_to(ack.as_bytes(), server).unwrap();
            admitted_tags.insert(i, to_tag.clone());
        } else {
            // The ACK of a non-2xx answer belongs to the INVITE's transaction.
            let ack = flood_request("ACK", i, &format!("z9hG4bK-flood-{i}"), &to_tag, 1, local, server);
            socket.send_to(ack.as_bytes(), server).unwrap();
        }
        finals
            .entry(i)
            .or_insert((status, header(&text, "Retry-After").map(str::to_owned)));
    }
    FloodOutcome { finals }
}

/// The value of a labelled counter in the Prometheus text.
fn refused(metrics: &str, reason: &str) -> u64 {
    let prefix = format!("callvault_recorder_calls_refused_total{{reason=\"{reason}\"}} ");
    metrics
        .lines()
        .find_map(|l| l.strip_prefix(&prefix))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or_else(|| panic!("no {prefix} in /metrics:\n{metrics}"))
}

/// While SIPp's call is being recorded (g711a.pcap, 7.08 s), another source floods the
/// recorder with 300 new-call INVITEs. With `max_calls = 2`, `invite_rate = 2` and
/// `invite_burst = 3`, one flood call is admitted (and ended by the flooder);
/// every other INVITE is answered 503 with Retry-After, the excess of the burst as
/// rate-limited and the rest as over the ceiling, both counted in /metrics. The
/// recorded call is complete: its duration within 100 ms of what was sent, and the
/// customer's stream holds the whole capture.
#[test]
fn invite_flood_is_refused_with_503_and_the_recorded_call_stays_complete() {
    if !sipp_available("invite_flood_is_refused_with_503_and_the_recorded_call_stays_complete") {
        return;
    }
    const FLOOD: usize = 300;
    let packets = read_pcap_rtp(&std::fs::read(G711A_PCAP).expect("g711a.pcap (package sip-tester)"));
    let (sent, sent_ms) = g711_audio(&packets);
    let env = Env::new(Some("eu-eea"));
    tenant_with_agents(&env, "posti", "posti");
    let server = env.serve_sip_with("posti", None, "max_calls = 2\ninvite_rate = 2\ninvite_burst = 3");
    let mut sipp = Sipp::prepare(&env, "recorded").start("siprec_call.xml", &server, &[]);
    let answered = wait_for(Duration::from_secs(15), || {
        sipp.messages().contains("SIP/2.0 200").then_some(())
    });
    assert!(
        answered.is_some(),
        "SIPp's call was not answered\n{}",
        context(&server, &sipp.logs())
    );
    // Let the capture run a moment, then flood in the middle of it.
    std::thread::sleep(Duration::from_millis(1000));
    let started = Instant::now();
    let outcome = flood(server.sip, FLOOD);
    eprintln!("flood answered in {:?}", started.elapsed());
    assert!(sipp.running(), "SIPp's call is still on after the flood");
    let recorded = sipp.wait();
    assert_sipp_ok(&recorded, &server);

    let statuses: Vec<u16> = (0..FLOOD)
        .map(|i| outcome.finals.get(&i).map_or(0, |(s, _)| *s))
        .collect();
    let admitted = statuses.iter().filter(|s| **s == 200).count();
    let unavailable = statuses.iter().filter(|s| **s == 503).count();
    // The first INVITE takes the second of the two places; a later one could only be
    // admitted if SIPp's call had ended before the flood was answered (a slow machine).
    assert!(
        (1..=3).contains(&admitted) && admitted + unavailable == FLOOD,
        "one admitted, the rest 503; statuses: {statuses:?}\n{}",
        context(&server, "")
    );
    for (i, (status, retry_after)) in &outcome.finals {
        if *status == 503 {
            let seconds: u32 = retry_after
                .as_deref()
                .and_then(|r| r.split(';').next()?.trim().parse().ok())
                .unwrap_or_else(|| panic!("INVITE {i}: 503 without a Retry-After in seconds: {retry_after:?}"));
            assert!((1..=3600).contains(&seconds), "INVITE {i}: Retry-After {seconds}");
        }
    }
    let metrics = reqwest::blocking::get(format!("{}/metrics", server.http))
        .and_then(|r| r.text())
        .expect("/metrics");
    let (max_calls, rate_limited) = (refused(&metrics, "max-calls"), refused(&metrics, "rate-limited"));
    eprintln!("refused: max-calls {max_calls}, rate-limited {rate_limited}");
    assert_eq!(
        max_calls + rate_limited,
        (FLOOD - 1) as u64,
        "every refusal counted once"
    );
    assert!(
        max_calls >= 2,
        "the burst's 2nd and 3rd INVITEs meet the ceiling: {max_calls}"
    );
    assert!(
        rate_limited >= (FLOOD - 10) as u64,
        "past the burst the source is rate-limited: {rate_limited}"
    );

    // SIPp's call and the admitted flood calls are sealed; SIPp's is complete.
    let list = wait_sealed(&env, &server, 1 + admitted);
    let rec = list.iter().max_by_key(|r| duration_ms(r)).expect("a recording");
    let duration = duration_ms(rec);
    assert!(
        (duration - sent_ms as i64).abs() <= 100,
        "duration {duration} ms, sent {sent_ms} ms: {rec}"
    );
    assert_eq!(stream(rec, "1")["packets_lost"], 0, "{rec}");
    let id = rec["id"].as_str().unwrap();
    let (_, channels) = export_wav(&env, id, &["--stream", "1"], "recorded.wav");
    assert!(
        find_run(&channels[0], &sent).is_some(),
        "the customer's stream holds the whole capture as one run ({} samples exported, {} sent)",
        channels[0].len(),
        sent.len()
    );
}
