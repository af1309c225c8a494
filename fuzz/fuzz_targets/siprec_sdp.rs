//! Fuzz target: `parse_sdp` must never panic; for an accepted description the answer has one
//! m-line per offered m-line, parses back, and says recvonly/inactive with the offered label.

#![no_main]

use libfuzzer_sys::fuzz_target;
use siprec::sdp::MAX_MEDIA_SECTIONS;
use siprec::{AnswerParams, CodecKind, Direction, build_answer, parse_sdp};

fuzz_target!(|data: &[u8]| {
    let Ok(offer) = parse_sdp(data) else {
        return;
    };
    assert!(offer.media.len() <= MAX_MEDIA_SECTIONS);
    // Every third stream gets no port, to exercise rejection too.
    let ports = (0..offer.media.len()).map(|i| if i % 3 == 2 { 0 } else { 30000 + 2 * i as u16 }).collect();
    let params = AnswerParams {
        local_ip: "2001:db8::1".parse().unwrap(),
        ports,
        rtcp_port: 29999,
        session_id: 7,
        session_version: 2,
        codecs: CodecKind::ALL.to_vec(),
    };
    let (text, streams) = build_answer(&offer, &params);
    assert_eq!(streams.len(), offer.media.len());
    let answer = parse_sdp(text.as_bytes()).expect("the answer parses");
    assert_eq!(answer.media.len(), offer.media.len());
    for ((answered, offered), stream) in answer.media.iter().zip(&offer.media).zip(&streams) {
        assert_eq!(answered.port == 0, stream.is_rejected());
        assert_eq!(answered.label, offered.label);
        if let Some(receiving) = stream.receiving() {
            assert_eq!(answered.port, receiving.local_port);
            let direction = if receiving.paused { Direction::Inactive } else { Direction::RecvOnly };
            assert_eq!(answered.direction, Some(direction));
            assert_eq!(answered.rtcp.as_ref().map(|r| r.port), Some(29999));
            assert_eq!(answered.payload_types().first(), Some(&receiving.codec.payload_type));
        }
    }
});
