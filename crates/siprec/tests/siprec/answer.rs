//! The answer rules: codec choice, telephone-event, rejection reasons, directions, addresses.

use siprec::sdp::RejectReason;
use siprec::{AnswerParams, CodecKind, Direction, StreamOutcome, build_answer, parse_sdp};

use crate::support::{RTCP_PORT, answer_params, sdp_with};

/// Per stream: `Ok("NAME/RATE pt te")` or `Err(reject code)`.
type Expected = &'static [Result<&'static str, &'static str>];

/// (name, media sections, expected per stream).
const CASES: &[(&str, &str, Expected)] = &[
    (
        "first offered supported codec wins (G.729 skipped)",
        "m=audio 1000 RTP/AVP 18 9 0\na=rtpmap:18 G729/8000\n",
        &[Ok("G722/8000 9 -")],
    ),
    (
        "static types without rtpmap",
        "m=audio 1000 RTP/AVP 8 0\n",
        &[Ok("PCMA/8000 8 -")],
    ),
    (
        "dynamic type without rtpmap is not a codec",
        "m=audio 1000 RTP/AVP 96 0\n",
        &[Ok("PCMU/8000 0 -")],
    ),
    (
        "opus with 48 kHz telephone-event preferred",
        "m=audio 1000 RTP/AVP 111 101 110\na=rtpmap:111 opus/48000/2\na=rtpmap:101 telephone-event/8000\na=rtpmap:110 telephone-event/48000\n",
        &[Ok("opus/48000 111 110")],
    ),
    (
        "opus without /2 is not opus",
        "m=audio 1000 RTP/AVP 111\na=rtpmap:111 opus/48000\n",
        &[Err("stream-no-supported-codec")],
    ),
    (
        "telephone-event with another clock rate still kept",
        "m=audio 1000 RTP/AVP 0 101\na=rtpmap:101 telephone-event/48000\n",
        &[Ok("PCMU/8000 0 101")],
    ),
    (
        "no supported codec",
        "m=audio 1000 RTP/AVP 18 3\na=rtpmap:18 G729/8000\n",
        &[Err("stream-no-supported-codec")],
    ),
    (
        "SRTP profile",
        "m=audio 1000 RTP/SAVP 0\na=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:x\n",
        &[Err("stream-srtp-not-supported")],
    ),
    (
        "unknown protocol",
        "m=audio 1000 UDP/TLS/UDPTL t38\n",
        &[Err("stream-unsupported-protocol")],
    ),
    ("video", "m=video 1000 RTP/AVP 96\n", &[Err("stream-not-audio")]),
    (
        "disabled in offer",
        "m=audio 0 RTP/AVP 0\n",
        &[Err("stream-disabled-in-offer")],
    ),
    (
        "one rejected stream among accepted ones keeps the order",
        "m=audio 1000 RTP/AVP 0\na=label:1\nm=video 1002 RTP/AVP 96\na=label:v\nm=audio 1004 RTP/AVPF 8\na=label:2\n",
        &[Ok("PCMU/8000 0 -"), Err("stream-not-audio"), Ok("PCMA/8000 8 -")],
    ),
];

fn describe(outcome: &StreamOutcome) -> Result<String, &'static str> {
    match outcome {
        StreamOutcome::Receiving(r) => Ok(format!(
            "{}/{} {} {}",
            r.codec.name(),
            r.codec.clock_rate,
            r.codec.payload_type,
            r.telephone_event_pt.map_or("-".to_owned(), |pt| pt.to_string())
        )),
        StreamOutcome::Rejected(reason) => Err(reason.code()),
    }
}

#[test]
fn answer_table() {
    for (name, media, expected) in CASES {
        let offer = parse_sdp(sdp_with(media).as_bytes()).unwrap_or_else(|e| panic!("{name}: {e}"));
        let (text, streams) = build_answer(&offer, &answer_params(offer.media.len()));
        let got: Vec<Result<String, &str>> = streams.iter().map(|s| describe(&s.outcome)).collect();
        let want: Vec<Result<String, &str>> = expected.iter().map(|e| e.map(str::to_owned)).collect();
        assert_eq!(got, want, "{name}");
        let answer = parse_sdp(text.as_bytes()).unwrap_or_else(|e| panic!("{name}: answer: {e}\n{text}"));
        assert_eq!(
            answer.media.len(),
            offer.media.len(),
            "{name}: one m-line per offered m-line"
        );
        for ((offered, answered), stream) in offer.media.iter().zip(&answer.media).zip(&streams) {
            assert_eq!(answered.media, offered.media, "{name}: media type echoed");
            assert_eq!(answered.protocol, offered.protocol, "{name}: protocol echoed");
            assert_eq!(answered.label, offered.label, "{name}: label echoed");
            assert_eq!(answered.port == 0, stream.is_rejected(), "{name}: port 0 iff rejected");
            assert!(answered.crypto.is_empty(), "{name}: never answers crypto");
            if !stream.is_rejected() {
                assert_eq!(answered.rtcp.as_ref().map(|r| r.port), Some(RTCP_PORT), "{name}");
            }
        }
    }
}

#[test]
fn opus_answer_carries_channels_and_fmtp() {
    let offer = parse_sdp(
        sdp_with("m=audio 1000 RTP/AVP 111\na=rtpmap:111 opus/48000/2\na=fmtp:111 useinbandfec=1\na=ptime:20\n")
            .as_bytes(),
    )
    .expect("offer");
    let (text, _) = build_answer(&offer, &answer_params(1));
    assert!(
        text.contains("a=rtpmap:111 opus/48000/2\r\na=fmtp:111 useinbandfec=1\r\n"),
        "{text}"
    );
    assert!(text.contains("a=ptime:20\r\n"), "{text}");
}

#[test]
fn directions_in_the_answer() {
    // (offered direction lines, expected answered direction, paused)
    let cases = [
        ("a=sendonly\n", Direction::RecvOnly, false),
        ("", Direction::RecvOnly, false),
        ("a=sendrecv\n", Direction::RecvOnly, false),
        ("a=inactive\n", Direction::Inactive, true),
        ("a=recvonly\n", Direction::Inactive, true),
    ];
    for (attribute, answered, paused) in cases {
        let offer = parse_sdp(sdp_with(&format!("m=audio 1000 RTP/AVP 0\n{attribute}")).as_bytes()).expect("offer");
        let (text, streams) = build_answer(&offer, &answer_params(1));
        let answer = parse_sdp(text.as_bytes()).expect("answer");
        assert_eq!(answer.media[0].direction, Some(answered), "{attribute:?}");
        assert_eq!(streams[0].paused(), paused, "{attribute:?}");
    }
    let offer = parse_sdp(b"v=0\no=- 1 1 IN IP4 h\ns=-\na=inactive\nm=audio 1000 RTP/AVP 0\n").expect("offer");
    let (_, streams) = build_answer(&offer, &answer_params(1));
    assert!(streams[0].paused(), "session-level a=inactive applies to the stream");
}

#[test]
fn ports_decide_rejection() {
    let offer =
        parse_sdp(sdp_with("m=audio 1000 RTP/AVP 0\nm=audio 1002 RTP/AVP 0\nm=audio 1004 RTP/AVP 0\n").as_bytes())
            .expect("offer");
    let params = AnswerParams {
        ports: vec![30000, 0],
        ..answer_params(0)
    };
    let (text, streams) = build_answer(&offer, &params);
    assert_eq!(streams[0].receiving().map(|r| r.local_port), Some(30000));
    assert_eq!(
        streams[1].outcome,
        StreamOutcome::Rejected(RejectReason::NoPortAssigned)
    );
    assert_eq!(
        streams[2].outcome,
        StreamOutcome::Rejected(RejectReason::NoPortAssigned)
    );
    assert_eq!(text.matches("m=audio 0 RTP/AVP 0\r\n").count(), 2, "{text}");
}

#[test]
fn codec_list_restricts_the_choice() {
    let offer = parse_sdp(sdp_with("m=audio 1000 RTP/AVP 0 8\n").as_bytes()).expect("offer");
    let params = AnswerParams {
        codecs: vec![CodecKind::Pcma],
        ..answer_params(1)
    };
    let (_, streams) = build_answer(&offer, &params);
    assert_eq!(streams[0].codec().map(|c| c.kind), Some(CodecKind::Pcma));
}

#[test]
fn crypto_on_plain_rtp_is_noted_and_not_answered() {
    let offer = parse_sdp(sdp_with("m=audio 1000 RTP/AVP 0\na=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:x\n").as_bytes())
        .expect("offer");
    let (text, streams) = build_answer(&offer, &answer_params(1));
    assert!(streams[0].crypto_offered);
    assert!(!streams[0].is_rejected());
    assert!(!text.contains("crypto"), "{text}");
}

#[test]
fn session_lines_and_ipv6() {
    let offer = parse_sdp(sdp_with("m=audio 1000 RTP/AVP 0\n").as_bytes()).expect("offer");
    let params = AnswerParams {
        local_ip: "2001:db8::7".parse().expect("ip"),
        session_id: 77,
        session_version: 3,
        ..answer_params(1)
    };
    let (text, streams) = build_answer(&offer, &params);
    assert!(
        text.starts_with(
            "v=0\r\no=callvault 77 3 IN IP6 2001:db8::7\r\ns=callvault\r\nc=IN IP6 2001:db8::7\r\nt=0 0\r\n"
        ),
        "{text}"
    );
    assert_eq!(streams[0].remote_addr, "192.0.2.1".parse().ok());
    assert_eq!(streams[0].remote_port, 1000);
}
