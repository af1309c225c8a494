//! Fuzz target: the SIP parser, the stream framer and every typed accessor must never
//! panic, and a response built for any accepted request must parse back.

#![no_main]

use libfuzzer_sys::fuzz_target;
use sip::{ResponseBuilder, SipUri, Transport, error_response, frame_stream, parse_message};

fuzz_target!(|data: &[u8]| {
    for transport in [Transport::Udp, Transport::Tcp] {
        match parse_message(data, transport) {
            Ok(message) => {
                let _ = (message.call_id(), message.cseq().method(), message.from().tag(), message.to().tag());
                let vias = message.vias();
                assert!(!vias.is_empty(), "an accepted message has a Via");
                for via in &vias {
                    let _ = (via.branch(), via.rport(), via.received(), via.sent_by(), via.has_rfc3261_branch());
                }
                let _ = (message.contacts(), message.contact(), message.content_type().map(|c| c.essence()));
                let _ = (message.require(), message.supported(), message.allow(), message.max_forwards());
                let _ = (message.session_expires(), message.min_se(), message.expires());
                let _ = (message.history_info(), message.diversion(), message.referred_by(), message.record_route());
                if let Some(uri) = message.request_uri() {
                    let _ = SipUri::parse(uri);
                }
                assert!(message.body().len() <= data.len());
                if message.is_request() {
                    let source = "192.0.2.1:5060".parse().expect("addr");
                    let response = ResponseBuilder::new(&message, 200, "OK")
                        .via_received(source)
                        .to_tag("fuzz")
                        .build();
                    let parsed = parse_message(&response, Transport::Tcp).expect("our response parses");
                    assert_eq!(parsed.call_id(), message.call_id());
                    assert_eq!(parsed.vias().len(), vias.len());
                }
            }
            Err(error) => {
                let _ = (error.code(), error.status(), error.reason_phrase());
                if let Some(response) = error_response(data, &error) {
                    assert!(response.starts_with(b"SIP/2.0 "));
                }
            }
        }
    }
    if let Ok(Some(len)) = frame_stream(data) {
        assert!(len <= data.len());
        let _ = parse_message(&data[..len], Transport::Tcp);
    }
});
