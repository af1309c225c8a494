//! RTCP on the shared port (issue 3, "Media"): a raw-UDP recording client sends RTP on
//! both streams of a Cisco-style SIPREC call and RTCP to the port announced with
//! `a=rtcp:`; sender reports and BYE land on the stream whose SSRC they name (kept as
//! notes of the sealed recording), unknown SSRCs are counted in `/metrics`.

use std::net::{SocketAddr, UdpSocket};
use std::time::Duration;

use serde_json::Value;

use crate::support::*;

const OFFER: &str = include_str!("../../../../../shared/interop/siprec-offers/cisco-siprec-offer.txt");

/// The Cisco offer with decidable parties (the customer first: inbound) and CRLF ends.
fn offer() -> String {
    OFFER
        .replace("sip:7301@35.162.237.204", "sip:+358401234567@carrier.example")
        .replace("sip:7300@35.162.237.204", "sip:anna@pbx.posti.example")
        .replace("172.31.93.236", "127.0.0.1")
        .trim_start_matches('\n')
        .replace('\n', "\r\n")
}

fn request(method: &str, server: SocketAddr, local: SocketAddr, cseq: u32, to_tag: Option<&str>) -> String {
    let to_tag = to_tag.map(|t| format!(";tag={t}")).unwrap_or_default();
    format!(
        "{method} sip:srs@{server} SIP/2.0\r\nVia: SIP/2.0/UDP {local};branch=z9hG4bK-rtcp-{cseq}-{method}\r\nMax-Forwards: 70\r\nFrom: <sip:sbc@{local}>;tag=sbc1\r\nTo: <sip:srs@{server}>{to_tag}\r\nCall-ID: e2e-rtcp@127.0.0.1\r\nCSeq: {cseq} {method}\r\n"
    )
}

/// Reads SIP responses until one with `status` for `method` arrives.
fn wait_response(socket: &UdpSocket, status: u16, method: &str) -> String {
    let mut buf = vec![0u8; 65536];
    loop {
        let (n, _) = socket
            .recv_from(&mut buf)
            .unwrap_or_else(|e| panic!("no {status} to {method}: {e}"));
        let text = String::from_utf8_lossy(&buf[..n]).into_owned();
        let cseq_method = text
            .lines()
            .find(|l| l.to_ascii_lowercase().starts_with("cseq:"))
            .and_then(|l| l.split_whitespace().last())
            .unwrap_or_default()
            .to_owned();
        if text.starts_with(&format!("SIP/2.0 {status} ")) && cseq_method == method {
            return text;
        }
    }
}

fn sender_report(ssrc: u32, packets: u32, octets: u32) -> Vec<u8> {
    let mut p = vec![0x80, 200, 0, 6];
    for word in [ssrc, 0xE000_0000, 0, 160, packets, octets] {
        p.extend_from_slice(&word.to_be_bytes());
    }
    p
}

fn bye(ssrc: u32) -> Vec<u8> {
    let mut p = vec![0x81, 203, 0, 1];
    p.extend_from_slice(&ssrc.to_be_bytes());
    p
}

fn rtp(seq: u16, ssrc: u32) -> Vec<u8> {
    let mut p = vec![0x80, 0];
    p.extend_from_slice(&seq.to_be_bytes());
    p.extend_from_slice(&(u32::from(seq) * 160).to_be_bytes());
    p.extend_from_slice(&ssrc.to_be_bytes());
    p.extend_from_slice(&[0xd5; 160]);
    p
}

fn metric(text: &str, name: &str) -> u64 {
    text.lines()
        .find_map(|l| l.strip_prefix(name)?.strip_prefix(' ')?.parse().ok())
        .unwrap_or_else(|| panic!("{name} in /metrics:\n{text}"))
}

#[test]
fn rtcp_sender_reports_and_bye_on_the_shared_port_reach_their_streams() {
    let env = Env::new(Some("eu-eea"));
    env.create_tenant("posti", "posti");
    env.ok(&[
        "tenant",
        "set",
        "posti",
        "--country",
        "FI",
        "--agent-pattern",
        "pbx.posti.example",
    ]);
    let server = env.serve_sip("posti", None);
    let sbc = UdpSocket::bind("127.0.0.1:0").expect("bind");
    sbc.set_read_timeout(Some(Duration::from_secs(10))).expect("timeout");
    let local = sbc.local_addr().expect("addr");

    let body = offer();
    let invite = request("INVITE", server.sip, local, 1, None)
        + &format!(
            "Contact: <sip:sbc@{local}>;+sip.src\r\nRequire: siprec\r\nContent-Type: multipart/mixed;boundary=uniqueBoundary\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        );
    sbc.send_to(invite.as_bytes(), server.sip).expect("send");
    let ok = wait_response(&sbc, 200, "INVITE");
    let to_tag = ok
        .lines()
        .find(|l| l.to_ascii_lowercase().starts_with("to:"))
        .and_then(|l| l.split(";tag=").nth(1))
        .map(|t| t.trim().to_owned())
        .expect("To tag");
    let port_after = |prefix: &str| -> Vec<u16> {
        ok.lines()
            .filter_map(|l| l.trim().strip_prefix(prefix)?.split(' ').next()?.parse().ok())
            .collect()
    };
    let (ports, rtcp_ports) = (port_after("m=audio "), port_after("a=rtcp:"));
    assert_eq!(ports.len(), 2, "two streams answered:\n{ok}");
    let rtcp_port = *rtcp_ports
        .first()
        .unwrap_or_else(|| panic!("a=rtcp: in the answer:\n{ok}"));
    assert!(
        rtcp_ports.iter().all(|p| *p == rtcp_port),
        "one shared RTCP port:\n{ok}"
    );
    let ack = request("ACK", server.sip, local, 1, Some(&to_tag)) + "Content-Length: 0\r\n\r\n";
    sbc.send_to(ack.as_bytes(), server.sip).expect("send");

    // (stream port, SSRC): 50 packets of 20 ms on each stream.
    let media = UdpSocket::bind("127.0.0.1:0").expect("bind");
    let streams = [(ports[0], 0x1111_1111u32), (ports[1], 0x2222_2222)];
    for seq in 0..50u16 {
        for (port, ssrc) in streams {
            media.send_to(&rtp(seq, ssrc), ("127.0.0.1", port)).expect("send");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let rtcp = UdpSocket::bind("127.0.0.1:0").expect("bind");
    for datagram in [
        sender_report(0x1111_1111, 50, 8000),
        [sender_report(0x2222_2222, 50, 8000), bye(0x2222_2222)].concat(),
        sender_report(0x3333_3333, 7, 1120),
        b"not rtcp".to_vec(),
    ] {
        rtcp.send_to(&datagram, ("127.0.0.1", rtcp_port)).expect("send");
    }
    std::thread::sleep(Duration::from_millis(300));
    let bye_request = request("BYE", server.sip, local, 2, Some(&to_tag)) + "Content-Length: 0\r\n\r\n";
    sbc.send_to(bye_request.as_bytes(), server.sip).expect("send");
    wait_response(&sbc, 200, "BYE");

    let sealed = wait_for(Duration::from_secs(15), || {
        let out = env.run(&["recordings", "list", "--json"]);
        let list: Vec<Value> = serde_json::from_slice::<Value>(&out.stdout).ok()?.as_array()?.clone();
        list.into_iter().find(|r| r["state"] == "sealed")
    })
    .unwrap_or_else(|| panic!("no sealed recording:\n{}", server.log()));
    let notes: Vec<&str> = sealed["notes"]
        .as_array()
        .map(|n| n.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    for wanted in [
        "stream 0: sender reported 50 packets, 8000 octets in 1 RTCP sender reports",
        "stream 1: sender reported 50 packets, 8000 octets in 1 RTCP sender reports; RTCP BYE received",
    ] {
        assert!(notes.contains(&wanted), "note {wanted:?} in {notes:?}: {sealed}");
    }
    let metrics = reqwest::blocking::get(format!("{}/metrics", server.http))
        .and_then(|r| r.text())
        .expect("metrics");
    let counted: Vec<u64> = [
        "callvault_recorder_rtcp_packets_total",
        "callvault_recorder_rtcp_sender_reports_total",
        "callvault_recorder_rtcp_byes_total",
        "callvault_recorder_rtcp_unknown_ssrc_total",
        "callvault_recorder_rtcp_malformed_total",
    ]
    .iter()
    .map(|name| metric(&metrics, name))
    .collect();
    assert_eq!(counted, [4, 2, 1, 1, 1], "RTCP counters in /metrics");
}
