//! Fuzz target: `split_multipart` and `parse_offer` must never panic; an accepted offer must
//! give an answer with one m-line per offered m-line that parses back.
//!
//! Input: the first line is the Content-Type value, the rest is the body.

#![no_main]

use libfuzzer_sys::fuzz_target;
use siprec::multipart::MAX_PARTS;
use siprec::{AnswerParams, CodecKind, build_answer, parse_offer, parse_sdp, split_multipart};

fuzz_target!(|data: &[u8]| {
    let (head, body) = match data.iter().position(|&b| b == b'\n') {
        Some(newline) => (&data[..newline], &data[newline + 1..]),
        None => (data, &[][..]),
    };
    let content_type = String::from_utf8_lossy(head);
    if let Ok(parts) = split_multipart(&content_type, body) {
        assert!(!parts.is_empty() && parts.len() <= MAX_PARTS);
        let whole = body.as_ptr() as usize..body.as_ptr() as usize + body.len();
        for part in parts.iter().filter(|p| !p.body.is_empty()) {
            let start = part.body.as_ptr() as usize;
            assert!(whole.contains(&start) && start + part.body.len() <= whole.end, "part body inside the body");
        }
    }
    if let Ok(offer) = parse_offer(&content_type, body) {
        assert!(!offer.sdp.media.is_empty());
        let params = AnswerParams {
            local_ip: "192.0.2.10".parse().unwrap(),
            ports: (0..offer.sdp.media.len()).map(|i| 20000 + 2 * i as u16).collect(),
            rtcp_port: 19999,
            session_id: 1,
            session_version: 1,
            codecs: CodecKind::ALL.to_vec(),
        };
        let (answer, streams) = build_answer(&offer.sdp, &params);
        assert_eq!(streams.len(), offer.sdp.media.len());
        let parsed = parse_sdp(answer.as_bytes()).expect("the answer parses");
        assert_eq!(parsed.media.len(), streams.len());
    }
});
