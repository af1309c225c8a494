//! Table tests of `parse_sdp`: accepted variations and broken descriptions with code and line.

use siprec::{Direction, parse_sdp};

use crate::support::sdp_with;

const HEAD: &str = "v=0\no=- 1 1 IN IP4 192.0.2.1\ns=-\nc=IN IP4 192.0.2.1\nt=0 0\n";

/// `Ok(number of m-lines)` or `Err((code, line))`.
type Expected = Result<usize, (&'static str, usize)>;

/// (name, SDP, expected).
fn cases() -> Vec<(&'static str, String, Expected)> {
    vec![
        ("empty", String::new(), Err(("sdp-empty", 0))),
        ("only blank lines", "\r\n\n  \n".into(), Err(("sdp-empty", 0))),
        ("wrong version", "v=1\n".into(), Err(("sdp-bad-version", 1))),
        ("version not first", "s=-\nv=0\n".into(), Err(("sdp-bad-version", 1))),
        ("missing o=", "v=0\ns=-\nt=0 0\n".into(), Err(("sdp-bad-origin", 0))),
        (
            "o= with five fields",
            "v=0\no=- 1 1 IN IP4\ns=-\n".into(),
            Err(("sdp-bad-origin", 2)),
        ),
        (
            "missing s=",
            "v=0\no=- 1 1 IN IP4 192.0.2.1\nt=0 0\n".into(),
            Err(("sdp-missing-session-name", 0)),
        ),
        (
            "line without =",
            format!("{HEAD}garbage\n"),
            Err(("sdp-malformed-line", 6)),
        ),
        (
            "two-letter type",
            format!("{HEAD}ab=c\n"),
            Err(("sdp-malformed-line", 6)),
        ),
        (
            "upper-case type",
            format!("{HEAD}A=sendonly\n"),
            Err(("sdp-malformed-line", 6)),
        ),
        (
            "bare CR inside a line",
            format!("{HEAD}m=audio 1 RTP/AVP 0\na=label:1\rx\n"),
            Err(("sdp-malformed-line", 7)),
        ),
        (
            "c= with two fields",
            "v=0\no=- 1 1 IN IP4 h\ns=-\nc=IN IP4\n".into(),
            Err(("sdp-bad-connection", 4)),
        ),
        (
            "m= port not a number",
            sdp_with("m=audio port RTP/AVP 0\n"),
            Err(("sdp-bad-media", 6)),
        ),
        (
            "m= port too large",
            sdp_with("m=audio 70000 RTP/AVP 0\n"),
            Err(("sdp-bad-media", 6)),
        ),
        (
            "m= negative port",
            sdp_with("m=audio -1 RTP/AVP 0\n"),
            Err(("sdp-bad-media", 6)),
        ),
        (
            "m= without formats",
            sdp_with("m=audio 4000 RTP/AVP\n"),
            Err(("sdp-bad-media", 6)),
        ),
        (
            "m= bad port count",
            sdp_with("m=audio 4000/x RTP/AVP 0\n"),
            Err(("sdp-bad-media", 6)),
        ),
        (
            "payload type 128",
            sdp_with("m=audio 4000 RTP/AVP 128\n"),
            Err(("sdp-bad-payload-type", 6)),
        ),
        (
            "payload type not a number",
            sdp_with("m=audio 4000 RTP/AVP PCMU\n"),
            Err(("sdp-bad-payload-type", 6)),
        ),
        (
            "rtpmap without rate",
            sdp_with("m=audio 4000 RTP/AVP 0\na=rtpmap:0 PCMU\n"),
            Err(("sdp-bad-rtpmap", 7)),
        ),
        (
            "rtpmap rate 0",
            sdp_with("m=audio 4000 RTP/AVP 0\na=rtpmap:0 PCMU/0\n"),
            Err(("sdp-bad-rtpmap", 7)),
        ),
        (
            "rtpmap pt 200",
            sdp_with("m=audio 4000 RTP/AVP 0\na=rtpmap:200 x/8000\n"),
            Err(("sdp-bad-rtpmap", 7)),
        ),
        (
            "rtpmap four fields",
            sdp_with("m=audio 4000 RTP/AVP 0\na=rtpmap:0 PCMU/8000/1/2\n"),
            Err(("sdp-bad-rtpmap", 7)),
        ),
        (
            "ptime not a number",
            sdp_with("m=audio 4000 RTP/AVP 0\na=ptime:abc\n"),
            Err(("sdp-bad-attribute", 7)),
        ),
        (
            "rtcp not a port",
            sdp_with("m=audio 4000 RTP/AVP 0\na=rtcp:x\n"),
            Err(("sdp-bad-attribute", 7)),
        ),
        (
            "rtcp with two fields",
            sdp_with("m=audio 4000 RTP/AVP 0\na=rtcp:5000 IN\n"),
            Err(("sdp-bad-attribute", 7)),
        ),
        (
            "fmtp without parameters",
            sdp_with("m=audio 4000 RTP/AVP 0\na=fmtp:101\n"),
            Err(("sdp-bad-attribute", 7)),
        ),
        (
            "too many m-lines",
            sdp_with(&"m=audio 4000 RTP/AVP 0\n".repeat(33)),
            Err(("sdp-too-many-media", 38)),
        ),
        ("no m-lines", HEAD.into(), Ok(0)),
        ("32 m-lines", sdp_with(&"m=audio 4000 RTP/AVP 0\n".repeat(32)), Ok(32)),
        (
            "CRLF and unknown line types",
            format!("{HEAD}x=unknown\r\nb=AS:64\r\nm=audio 1 RTP/AVP 0\r\n"),
            Ok(1),
        ),
        (
            "non-RTP media with * format",
            sdp_with("m=application 0 udp/bfcp *\n"),
            Ok(1),
        ),
        (
            "replacement character in session name",
            "v=0\no=- 1 1 IN IP4 h\ns=\u{fffd}\n".into(),
            Ok(0),
        ),
    ]
}

#[test]
fn sdp_table() {
    for (name, text, expected) in cases() {
        let result = parse_sdp(text.as_bytes());
        match (result, expected) {
            (Ok(sdp), Ok(count)) => assert_eq!(sdp.media.len(), count, "{name}"),
            (Err(error), Err((code, line))) => {
                assert_eq!((error.code(), error.line), (code, line), "{name}: {error}");
            }
            (result, expected) => panic!("{name}: got {result:?}, expected {expected:?}"),
        }
    }
}

#[test]
fn attributes_are_read() {
    let text = "v=0\r\no=user 5 6 IN IP6 2001:db8::1\r\ns=x\r\na=sendonly\r\nt=0 0\r\n\
        m=audio 4000/2 RTP/AVP 08 101\r\nc=IN IP4 203.0.113.5/127\r\na=rtpmap:8 PCMA/8000\r\n\
        a=rtpmap:101 telephone-event/8000\r\na=fmtp:101 0-15\r\na=ptime:20.0\r\na=label:leg-a\r\n\
        a=rtcp:4001 IN IP4 203.0.113.6\r\na=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:abc\r\n\
        m=audio 4002 RTP/AVP 0\r\na=inactive\r\na=rtcp:4003\r\n";
    let sdp = parse_sdp(text.as_bytes()).expect("valid");
    assert_eq!(sdp.origin.username, "user");
    assert_eq!(sdp.origin.address.ip, "2001:db8::1".parse().ok());
    assert_eq!(sdp.direction, Some(Direction::SendOnly));
    let first = &sdp.media[0];
    assert_eq!((first.port, first.port_count), (4000, Some(2)));
    assert_eq!(first.formats, ["8", "101"], "payload types in canonical form");
    assert_eq!(first.connection.as_ref().and_then(|c| c.ip), "203.0.113.5".parse().ok());
    assert_eq!(first.rtpmap(101).map(|m| m.encoding.as_str()), Some("telephone-event"));
    assert_eq!(first.fmtp(101), Some("0-15"));
    assert_eq!(first.ptime, Some(20));
    assert_eq!(first.label.as_deref(), Some("leg-a"));
    let rtcp = first.rtcp.as_ref().expect("rtcp");
    assert_eq!(rtcp.port, 4001);
    assert_eq!(rtcp.connection.as_ref().and_then(|c| c.ip), "203.0.113.6".parse().ok());
    assert_eq!(first.crypto.len(), 1);
    assert_eq!(
        sdp.effective_direction(first),
        Direction::SendOnly,
        "session level applies"
    );
    let second = &sdp.media[1];
    assert_eq!(sdp.effective_direction(second), Direction::Inactive);
    assert_eq!(
        sdp.effective_connection(second).and_then(|c| c.ip),
        None,
        "IP6 origin only; no c="
    );
    assert_eq!(second.rtcp.as_ref().map(|r| r.port), Some(4003));
}

#[test]
fn placeholder_address_is_kept_as_text() {
    let sdp = parse_sdp(b"v=0\no=BroadWorks 1 1 IN IP4 X.X.X.X\ns=-\nc=IN IP4 X.X.X.X\nt=0 0\n").expect("valid");
    let connection = sdp.connection.expect("c=");
    assert_eq!(connection.address, "X.X.X.X");
    assert_eq!(connection.ip, None);
}

#[test]
fn error_messages_do_not_echo_lines() {
    let text = sdp_with("m=audio 4000 RTP/AVP 0\na=rtpmap:0 +441632960123\n");
    let error = parse_sdp(text.as_bytes()).expect_err("bad rtpmap");
    assert!(!error.to_string().contains("441632960123"), "{error}");
}
