//! Compound RTCP: sender reports, receiver reports, SDES skipped, BYE, and malformed
//! datagrams with their error codes.

use media::rtcp::{ReportBlock, RtcpCompound, RtcpPacket, looks_like_rtcp};

fn word(v: u32) -> [u8; 4] {
    v.to_be_bytes()
}

/// One RTCP packet: header with `count` and `pt`, body padded to words by the caller.
fn packet(count: u8, pt: u8, body: &[u8]) -> Vec<u8> {
    assert_eq!(body.len() % 4, 0);
    let mut v = vec![0x80 | count, pt];
    v.extend_from_slice(&((body.len() / 4) as u16).to_be_bytes());
    v.extend_from_slice(body);
    v
}

fn report_block(ssrc: u32, fraction: u8, lost: i32, highest: u32) -> Vec<u8> {
    let mut v = word(ssrc).to_vec();
    v.push(fraction);
    v.extend_from_slice(&lost.to_be_bytes()[1..]);
    v.extend_from_slice(&word(highest));
    v.extend_from_slice(&word(33)); // jitter
    v.extend_from_slice(&word(0x1234_5678)); // LSR
    v.extend_from_slice(&word(65536)); // DLSR
    v
}

fn sender_report() -> Vec<u8> {
    let mut body = word(0xAAAA_0001).to_vec();
    body.extend_from_slice(&word(3_913_056_000)); // NTP seconds: 2024-01-01T00:00:00Z
    body.extend_from_slice(&word(0x8000_0000)); // .5 s
    body.extend_from_slice(&word(160_000));
    body.extend_from_slice(&word(500));
    body.extend_from_slice(&word(80_000));
    body.extend_from_slice(&report_block(0xBBBB_0002, 64, -3, 70_000));
    packet(1, 200, &body)
}

fn sdes() -> Vec<u8> {
    // One chunk: SSRC, CNAME "ab", end, padding to a word.
    let mut body = word(0xAAAA_0001).to_vec();
    body.extend_from_slice(&[1, 2, b'a', b'b', 0, 0, 0, 0]);
    packet(1, 202, &body)
}

fn bye(ssrcs: &[u32], reason: &[u8]) -> Vec<u8> {
    let mut body: Vec<u8> = ssrcs.iter().flat_map(|&s| word(s)).collect();
    if !reason.is_empty() {
        body.push(reason.len() as u8);
        body.extend_from_slice(reason);
    }
    while !body.len().is_multiple_of(4) {
        body.push(0);
    }
    packet(ssrcs.len() as u8, 203, &body)
}

#[test]
fn sender_report_sdes_and_bye_in_one_compound() {
    let datagram = [sender_report(), sdes(), bye(&[0xAAAA_0001, 0xCCCC_0003], b"hangup")].concat();
    assert!(looks_like_rtcp(&datagram));
    let compound = RtcpCompound::parse(&datagram).unwrap();
    let packets: Vec<_> = compound.packets().collect();
    assert_eq!(packets.len(), 3);
    let RtcpPacket::SenderReport(sr) = packets[0] else {
        panic!("{:?}", packets[0])
    };
    assert_eq!(
        (sr.ssrc, sr.rtp_timestamp, sr.packet_count, sr.octet_count),
        (0xAAAA_0001, 160_000, 500, 80_000)
    );
    assert_eq!(sr.ntp_unix_ms(), Some(1_704_067_200_500));
    let blocks: Vec<ReportBlock> = sr.reports.iter().collect();
    assert_eq!(
        blocks,
        vec![ReportBlock {
            ssrc: 0xBBBB_0002,
            fraction_lost: 64,
            cumulative_lost: -3,
            highest_sequence: 70_000,
            jitter: 33,
            last_sr: 0x1234_5678,
            delay_since_last_sr: 65536,
        }]
    );
    assert_eq!(packets[1], RtcpPacket::SourceDescription { chunks: 1 });
    let RtcpPacket::Goodbye(goodbye) = packets[2] else {
        panic!()
    };
    assert_eq!(goodbye.ssrcs().collect::<Vec<_>>(), vec![0xAAAA_0001, 0xCCCC_0003]);
    assert_eq!(goodbye.reason, Some(&b"hangup"[..]));
}

#[test]
fn receiver_report_and_unknown_types() {
    let mut rr_body = word(7).to_vec();
    rr_body.extend(report_block(1, 0, 5, 2));
    rr_body.extend(report_block(2, 255, 0x7F_FFFF, 3));
    let datagram = [packet(2, 201, &rr_body), packet(3, 206, &[0; 8])].concat();
    let packets: Vec<_> = RtcpCompound::parse(&datagram).unwrap().packets().collect();
    let RtcpPacket::ReceiverReport(rr) = packets[0] else {
        panic!()
    };
    assert_eq!(rr.ssrc, 7);
    let lost: Vec<(u32, u8, i32)> = rr
        .reports
        .iter()
        .map(|b| (b.ssrc, b.fraction_lost, b.cumulative_lost))
        .collect();
    assert_eq!(lost, vec![(1, 0, 5), (2, 255, 0x7F_FFFF)]);
    assert_eq!(
        packets[1],
        RtcpPacket::Other {
            packet_type: 206,
            count: 3,
            body: &[0; 8]
        }
    );
}

#[test]
fn malformed_compounds_are_refused_with_codes() {
    let sr = sender_report();
    let mut padded_first = sdes();
    padded_first[0] |= 0x20;
    let mut bad_version = sr.clone();
    bad_version[0] = 0x40 | 1;
    let mut short_sr = packet(1, 200, &[0; 24]); // count 1 but no report block
    short_sr.truncate(28);
    let mut padded_last = bye(&[0x100], b""); // last body byte 0: padding count 0
    padded_last[0] |= 0x20;
    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        ("empty", vec![], "rtcp-empty"),
        ("three bytes", vec![0x80, 200, 0], "rtcp-truncated"),
        ("length past the end", sr[..sr.len() - 4].to_vec(), "rtcp-truncated"),
        ("trailing garbage", [sr.clone(), vec![0x80]].concat(), "rtcp-truncated"),
        ("version 1", bad_version, "rtcp-bad-version"),
        (
            "padding on a packet that is not last",
            [padded_first, sr.clone()].concat(),
            "rtcp-bad-padding",
        ),
        (
            "padding count of zero",
            [sr.clone(), padded_last].concat(),
            "rtcp-bad-padding",
        ),
        ("SR count without blocks", short_sr, "rtcp-bad-count"),
        ("BYE count past the packet", packet(2, 203, &word(1)), "rtcp-bad-count"),
        (
            "BYE reason past the packet",
            packet(1, 203, &[0, 0, 0, 1, 9, b'x', 0, 0]),
            "rtcp-bad-count",
        ),
    ];
    for (name, bytes, code) in cases {
        assert_eq!(
            RtcpCompound::parse(&bytes).map(|_| ()).map_err(|e| e.code()),
            Err(code),
            "{name}"
        );
    }
}

#[test]
fn demultiplexing_rtp_from_rtcp() {
    assert!(!looks_like_rtcp(&[0x80, 0x00, 0, 0]));
    assert!(!looks_like_rtcp(&[0x80, 0xE5]));
    assert!(looks_like_rtcp(&[0x81, 0xC8]));
    assert!(!looks_like_rtcp(&[0x01, 0xC8]));
    assert!(!looks_like_rtcp(&[0x80]));
}
