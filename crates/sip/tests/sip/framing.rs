//! Stream framing: `frame_stream` splits a TCP byte stream into messages.

use sip::{Limits, Transport, frame_stream, frame_stream_with, parse_message};

use crate::support::data;

const OPTIONS: &[u8] = b"OPTIONS sip:a@b SIP/2.0\r\nVia: SIP/2.0/TCP h;branch=z9hG4bK1\r\nFrom: <sip:x@y>;tag=1\r\nTo: <sip:a@b>\r\nCall-ID: c1\r\nCSeq: 1 OPTIONS\r\nl: 5\r\nContent-Type: text/plain\r\n\r\nhello";

/// What framing a buffer must give: a length, "need more", or an error code.
type Expected = Result<Option<usize>, &'static str>;

#[test]
fn framing_table() {
    let len = OPTIONS.len();
    let with = |prefix: &[u8], suffix: &[u8]| [prefix, OPTIONS, suffix].concat();
    let table: Vec<(&str, Vec<u8>, Expected)> = vec![
        ("whole message", OPTIONS.to_vec(), Ok(Some(len))),
        ("message and part of the next", with(b"", b"INVITE sip:"), Ok(Some(len))),
        ("keep-alives before", with(b"\r\n\r\n", b""), Ok(Some(len + 4))),
        ("only keep-alives", b"\r\n\r\n".to_vec(), Ok(None)),
        ("empty", Vec::new(), Ok(None)),
        ("headers unfinished", OPTIONS[..40].to_vec(), Ok(None)),
        ("body unfinished", OPTIONS[..len - 2].to_vec(), Ok(None)),
        (
            "no Content-Length",
            b"OPTIONS sip:a@b SIP/2.0\r\nVia: SIP/2.0/TCP h\r\n\r\n".to_vec(),
            Err("sip-missing-content-length"),
        ),
        (
            "bad Content-Length",
            b"OPTIONS sip:a@b SIP/2.0\r\nContent-Length: x1\r\n\r\n".to_vec(),
            Err("sip-bad-content-length"),
        ),
        (
            "disagreeing Content-Lengths",
            b"OPTIONS sip:a@b SIP/2.0\r\nContent-Length: 1\r\nl: 2\r\n\r\n".to_vec(),
            Err("sip-bad-content-length"),
        ),
        (
            "announced body too large",
            b"OPTIONS sip:a@b SIP/2.0\r\nContent-Length: 1000000000\r\n\r\n".to_vec(),
            Err("sip-message-too-large"),
        ),
        ("endless line", vec![b'A'; 9000], Err("sip-line-too-long")),
    ];
    for (name, bytes, expected) in table {
        let got = frame_stream(&bytes).map_err(|e| e.code());
        assert_eq!(got, expected, "{name}");
    }
}

#[test]
fn endless_headers_hit_the_message_limit() {
    let limits = Limits {
        max_message_size: 1000,
        ..Limits::DEFAULT
    };
    let mut bytes = b"OPTIONS sip:a@b SIP/2.0\r\n".to_vec();
    while bytes.len() < 2000 {
        bytes.extend_from_slice(b"X-Filler: yes\r\n");
    }
    let error = frame_stream_with(&bytes, &limits).expect_err("too large");
    assert_eq!(error.code(), "sip-message-too-large");
}

#[test]
fn a_stream_fed_byte_by_byte_yields_each_message_once() {
    let invite = data("valid/invite_siprec.sip");
    let stream = [b"\r\n\r\n".as_slice(), OPTIONS, &invite, OPTIONS].concat();
    let mut buffer = Vec::new();
    let mut frames = Vec::new();
    for byte in stream {
        buffer.push(byte);
        while let Some(len) = frame_stream(&buffer).expect("framing") {
            frames.push(buffer.drain(..len).collect::<Vec<u8>>());
        }
    }
    assert!(buffer.is_empty());
    let methods: Vec<String> = frames
        .iter()
        .map(|frame| {
            let message = parse_message(frame, Transport::Tcp).expect("frame parses");
            message.method_name().expect("request").to_owned()
        })
        .collect();
    assert_eq!(methods, ["OPTIONS", "INVITE", "OPTIONS"]);
}
