//! Building responses and requests: what is copied, what is added, and that the output
//! parses back.

use std::net::SocketAddr;

use sip::{HeaderName, RequestBuilder, ResponseBuilder, Transport, parse_message};

use crate::support::data;

#[test]
fn a_response_copies_every_via_in_order_from_to_call_id_and_cseq() {
    let bytes = data("valid/invite_multiple_via.sip");
    let request = parse_message(&bytes, Transport::Udp).expect("request");
    let response = ResponseBuilder::new(&request, 200, "OK")
        .to_tag("srs-1")
        .header("Contact", "<sip:srs@192.0.2.1>;+sip.srs")
        .body("application/sdp", b"v=0\r\n".to_vec())
        .build();
    let parsed = parse_message(&response, Transport::Tcp).expect("response parses");
    assert_eq!(parsed.status(), Some(200));
    let branches: Vec<&str> = parsed.vias().iter().filter_map(|v| v.branch()).collect();
    assert_eq!(
        branches,
        ["z9hG4bKtop", "z9hG4bKsecond", "z9hG4bKthird", "z9hG4bKfourth"]
    );
    assert_eq!(parsed.from().tag(), Some("via-from"));
    assert_eq!(parsed.to().tag(), Some("srs-1"));
    assert_eq!(parsed.call_id(), "multi-via-1");
    assert_eq!((parsed.cseq().number, parsed.cseq().method_name), (42, "INVITE"));
    assert!(parsed.contact().expect("contact").params.contains("+sip.srs"));
    assert_eq!(parsed.header(HeaderName::ContentLength), Some("5"));
    assert_eq!(parsed.body(), b"v=0\r\n");
}

#[test]
fn to_tag_rules() {
    let invite = data("valid/invite_siprec.sip");
    let bye = data("valid/bye_in_dialog.sip");
    let table: Vec<(&str, &[u8], u16, Option<&str>)> = vec![
        ("added to a 200", &invite, 200, Some("new-tag")),
        ("not added to 100", &invite, 100, None),
        ("kept when the request has one", &bye, 200, Some("srs-tag-1")),
    ];
    for (name, request, status, expected) in table {
        let request = parse_message(request, Transport::Udp).expect("request");
        let response = ResponseBuilder::new(&request, status, "X").to_tag("new-tag").build();
        let parsed = parse_message(&response, Transport::Udp).expect("parses");
        assert_eq!(parsed.to().tag(), expected, "{name}");
        assert_eq!(parsed.header(HeaderName::ContentLength), Some("0"), "{name}");
    }
}

#[test]
fn record_route_is_copied_into_dialog_creating_responses_only() {
    let invite = data("valid/invite_siprec.sip");
    let request = parse_message(&invite, Transport::Udp).expect("request");
    for (status, copied) in [(180, true), (200, true), (100, false), (486, false)] {
        let response = ResponseBuilder::new(&request, status, "X").to_tag("t").build();
        let parsed = parse_message(&response, Transport::Udp).expect("parses");
        assert_eq!(parsed.record_route().len() == 2, copied, "{status}");
    }
}

#[test]
fn via_received_follows_rfc_3261_and_3581() {
    let source: SocketAddr = "203.0.113.9:40000".parse().expect("addr");
    let table = [
        (
            "SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bK1;rport",
            "SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bK1;received=203.0.113.9;rport=40000",
        ),
        (
            "SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bK1",
            "SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bK1;received=203.0.113.9",
        ),
        (
            "SIP/2.0/UDP 203.0.113.9:5060;branch=z9hG4bK1",
            "SIP/2.0/UDP 203.0.113.9:5060;branch=z9hG4bK1",
        ),
        (
            "SIP/2.0/UDP 203.0.113.9;rport;branch=z9hG4bK1",
            "SIP/2.0/UDP 203.0.113.9;branch=z9hG4bK1;received=203.0.113.9;rport=40000",
        ),
    ];
    for (via, expected) in table {
        let request = format!(
            "OPTIONS sip:a@b SIP/2.0\r\nVia: {via}\r\nFrom: <sip:x@y>;tag=1\r\nTo: <sip:a@b>\r\nCall-ID: c\r\nCSeq: 1 OPTIONS\r\n\r\n"
        );
        let request = parse_message(request.as_bytes(), Transport::Udp).expect("request");
        let response = ResponseBuilder::new(&request, 200, "OK").via_received(source).build();
        let parsed = parse_message(&response, Transport::Udp).expect("parses");
        assert_eq!(parsed.header(HeaderName::Via), Some(expected), "{via}");
    }
}

#[test]
fn caller_text_cannot_inject_header_lines() {
    let bytes = data("valid/options_no_content_length.sip");
    let request = parse_message(&bytes, Transport::Udp).expect("request");
    let response = ResponseBuilder::new(&request, 200, "OK\r\nX-Evil: 1")
        .header("X-Note", "a\r\nX-Evil: 2")
        .build();
    let parsed = parse_message(&response, Transport::Udp).expect("parses");
    assert_eq!(parsed.header_str("X-Evil"), None);
    assert_eq!(parsed.header_str("X-Note"), Some("a  X-Evil: 2"));
}

#[test]
fn a_bye_request_builds_and_parses() {
    let bye = RequestBuilder::new("BYE", "sip:src@192.0.2.10:5060")
        .via("SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bKbye;rport")
        .routes(&["<sip:proxy1.example.com;lr>".to_owned()])
        .from("<sip:srs@192.0.2.1>;tag=srs-1")
        .to("\"SBC\" <sip:src@sbc.example.com>;tag=src-1")
        .call_id("call-1")
        .cseq(1)
        .header("Reason", "SIP;cause=408;text=\"session timer\"")
        .build();
    let parsed = parse_message(&bye, Transport::Tcp).expect("parses");
    assert_eq!(parsed.method_name(), Some("BYE"));
    assert_eq!((parsed.cseq().number, parsed.cseq().method_name), (1, "BYE"));
    assert_eq!(parsed.max_forwards(), Some(70));
    assert_eq!(parsed.header(HeaderName::Route), Some("<sip:proxy1.example.com;lr>"));
    assert_eq!(parsed.to().tag(), Some("src-1"));
    assert!(parsed.body().is_empty());
}
