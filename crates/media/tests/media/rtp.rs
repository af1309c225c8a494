//! RTP header parsing: a table of datagrams with the fields or error code each gives.

use media::rtp::{RtpExtension, RtpPacket};

/// What a datagram parses to: (marker, pt, seq, ts, ssrc, csrcs, extension, payload, padding).
type Fields = (bool, u8, u16, u32, u32, Vec<u32>, Option<(u16, Vec<u8>)>, Vec<u8>, u8);

fn fields(p: &RtpPacket<'_>) -> Fields {
    (
        p.marker,
        p.payload_type,
        p.sequence_number,
        p.timestamp,
        p.ssrc,
        p.csrcs().collect(),
        p.extension.map(|e| (e.profile, e.data.to_vec())),
        p.payload.to_vec(),
        p.padding,
    )
}

const HEADER: [u8; 12] = [0x80, 0x00, 0xFF, 0xFF, 0x00, 0x00, 0x00, 0xA0, 0x11, 0x22, 0x33, 0x44];

fn with(b0: u8, b1: u8, rest: &[u8]) -> Vec<u8> {
    let mut v = HEADER.to_vec();
    v[0] = b0;
    v[1] = b1;
    v.extend_from_slice(rest);
    v
}

#[test]
fn datagrams_parse_to_fields_or_error_codes() {
    let ok = |f: Fields| Ok::<Fields, &str>(f);
    let cases: Vec<(&str, Vec<u8>, Result<Fields, &str>)> = vec![
        (
            "plain PCMU",
            with(0x80, 0x00, &[0xFF, 0x7F]),
            ok((false, 0, 65535, 160, 0x1122_3344, vec![], None, vec![0xFF, 0x7F], 0)),
        ),
        (
            "marker and PT 101",
            with(0x80, 0xE5, &[]),
            ok((true, 101, 65535, 160, 0x1122_3344, vec![], None, vec![], 0)),
        ),
        (
            "two CSRCs",
            with(0x82, 0x08, &[0, 0, 0, 1, 0, 0, 0, 2, 9]),
            ok((false, 8, 65535, 160, 0x1122_3344, vec![1, 2], None, vec![9], 0)),
        ),
        (
            "one-byte header extension",
            with(0x90, 0x09, &[0xBE, 0xDE, 0x00, 0x01, 0x10, 0xAA, 0x00, 0x00, 7, 7]),
            ok((
                false,
                9,
                65535,
                160,
                0x1122_3344,
                vec![],
                Some((0xBEDE, vec![0x10, 0xAA, 0, 0])),
                vec![7, 7],
                0,
            )),
        ),
        (
            "padding of 3",
            with(0xA0, 0x00, &[1, 2, 0, 0, 3]),
            ok((false, 0, 65535, 160, 0x1122_3344, vec![], None, vec![1, 2], 3)),
        ),
        (
            "padding covering the payload",
            with(0xA0, 0x00, &[1, 2]),
            ok((false, 0, 65535, 160, 0x1122_3344, vec![], None, vec![], 2)),
        ),
        ("empty", vec![], Err("rtp-too-short")),
        ("11 bytes", HEADER[..11].to_vec(), Err("rtp-too-short")),
        ("version 1", with(0x40, 0x00, &[1]), Err("rtp-bad-version")),
        ("version 0 (STUN-like)", with(0x00, 0x01, &[1]), Err("rtp-bad-version")),
        (
            "CSRC count past the end",
            with(0x83, 0x00, &[0, 0, 0, 1, 0, 0, 0, 2]),
            Err("rtp-truncated-csrc"),
        ),
        (
            "extension header cut",
            with(0x90, 0x00, &[0xBE, 0xDE, 0x00]),
            Err("rtp-truncated-extension"),
        ),
        (
            "extension words past the end",
            with(0x90, 0x00, &[0xBE, 0xDE, 0x00, 0x02, 1, 2, 3, 4]),
            Err("rtp-truncated-extension"),
        ),
        (
            "padding count zero",
            with(0xA0, 0x00, &[1, 2, 0]),
            Err("rtp-bad-padding"),
        ),
        (
            "padding count too large",
            with(0xA0, 0x00, &[1, 9]),
            Err("rtp-bad-padding"),
        ),
        (
            "padding bit, nothing after header",
            with(0xA0, 0x00, &[]),
            Err("rtp-bad-padding"),
        ),
    ];
    for (name, bytes, expected) in cases {
        let got = RtpPacket::parse(&bytes).map(|p| fields(&p)).map_err(|e| e.code());
        assert_eq!(got, expected, "{name}");
    }
}

#[test]
fn written_packets_parse_back() {
    let ext = [1u8, 2, 3, 4, 5, 6, 7, 8];
    let csrcs = [0u8, 0, 0, 7, 0xFF, 0xFF, 0xFF, 0xFF];
    let payload = [0xD5u8; 160];
    let mut packets = vec![
        RtpPacket::new(0, 0, 0, 0, &[]),
        RtpPacket::new(8, 65535, u32::MAX, 0xDEAD_BEEF, &payload),
    ];
    let mut full = RtpPacket::new(111, 1234, 5678, 42, &payload[..33]);
    full.marker = true;
    full.csrc_bytes = &csrcs;
    full.extension = Some(RtpExtension {
        profile: 0x1000,
        data: &ext,
    });
    full.padding = 4;
    packets.push(full);
    for p in packets {
        let bytes = p.to_bytes();
        assert_eq!(RtpPacket::parse(&bytes), Ok(p));
    }
}
