//! The valid-message table: real messages (SIPREC INVITE, compact forms, folding,
//! several Via, RFC 4475 torture tests) and what the typed accessors must read.

use sip::headers::Contact;
use sip::{HeaderName, Method, SipMessage, SipUri, StartLine, Transport, parse_message};

use crate::support::{data, sip_files};

/// What a valid file must parse to.
struct Case {
    file: &'static str,
    transport: Transport,
    start: &'static str,
    call_id: &'static str,
    cseq: (u32, &'static str),
    from_tag: Option<&'static str>,
    to_tag: Option<&'static str>,
    /// (transport, host, port, branch) of every Via entry in order.
    vias: &'static [(&'static str, &'static str, Option<u16>, &'static str)],
    body_len: usize,
    /// Further checks particular to the file.
    more: fn(&SipMessage<'_>),
}

fn nothing(_: &SipMessage<'_>) {}

fn cases() -> Vec<Case> {
    vec![
        Case {
            file: "invite_siprec.sip",
            transport: Transport::Udp,
            start: "INVITE",
            call_id: "siprec-call-1@sbc.example.com",
            cseq: (101, "INVITE"),
            from_tag: Some("src-tag-1"),
            to_tag: None,
            vias: &[("UDP", "192.0.2.10", Some(5060), "z9hG4bKsiprec1")],
            body_len: 2340,
            more: |m| {
                assert_eq!(m.request_uri(), Some("sip:srs@192.0.2.1:5060;transport=udp"));
                let uri = SipUri::parse(m.request_uri().unwrap()).expect("sip uri");
                assert_eq!((uri.user, uri.host, uri.port), (Some("srs"), "192.0.2.1", Some(5060)));
                assert_eq!(uri.params.value("transport"), Some("udp"));
                assert!(m.requires("siprec"));
                assert_eq!(m.supported(), Some(vec!["timer", "replaces", "100rel"]));
                let contact = m.contact().expect("contact");
                assert_eq!(contact.uri, "sip:src@192.0.2.10:5060");
                assert!(contact.params.contains("+sip.src"));
                let content_type = m.content_type().expect("content type");
                assert!(content_type.is("multipart", "mixed"));
                assert_eq!(content_type.boundary(), Some("unique-boundary-1"));
                let se = m.session_expires().flatten().expect("session expires");
                assert_eq!((se.seconds, se.refresher()), (1800, Some("uac")));
                assert_eq!(m.min_se(), Some(Some(90)));
                assert_eq!(m.max_forwards(), Some(70));
                assert_eq!(m.from().display_name, Some("SBC Recorder"));
                assert_eq!(m.from().uri, "sip:src@sbc.example.com");
                assert_eq!(
                    m.record_route(),
                    vec!["<sip:proxy1.example.com;lr>", "<sip:proxy2.example.com;lr>"]
                );
                assert_eq!(m.history_info().len(), 2);
                assert!(m.history_info()[1].contains("index=1.1"));
                assert_eq!(
                    m.diversion(),
                    vec!["<sip:+15551230000@pbx.example.com>;reason=unconditional;counter=1"]
                );
                assert_eq!(m.referred_by(), Some("<sip:agent7@pbx.example.com>"));
                assert_eq!(m.header_str("recording-notice"), Some("played"));
                assert!(m.body().starts_with(b"\r\n--unique-boundary-1\r\n"));
                assert!(m.top_via().expect("via").rport() == Some(None));
            },
        },
        Case {
            file: "invite_compact.sip",
            transport: Transport::Tcp,
            start: "INVITE",
            call_id: "compact-1@client.example.com",
            cseq: (7, "INVITE"),
            from_tag: Some("compact-from"),
            to_tag: None,
            vias: &[("TCP", "client.example.com", Some(5070), "z9hG4bKcompact1")],
            body_len: 187,
            more: |m| {
                assert_eq!(m.from().display_name, Some("Alice"));
                assert_eq!(m.to().uri, "sip:srs@example.com");
                assert_eq!(
                    m.contact().expect("contact").uri,
                    "sip:alice@client.example.com:5070;transport=tcp"
                );
                assert!(m.supports("TIMER"));
                assert_eq!(m.header(HeaderName::Subject), Some("compact forms"));
                assert_eq!(m.session_expires().flatten().map(|se| se.seconds), Some(600));
                assert_eq!(m.content_type().expect("type").essence(), "application/sdp");
                let names: Vec<&str> = m.headers().iter().map(|h| h.name.as_str()).collect();
                assert_eq!(
                    names,
                    [
                        "Via",
                        "Max-Forwards",
                        "From",
                        "To",
                        "Call-ID",
                        "CSeq",
                        "Contact",
                        "Supported",
                        "Subject",
                        "Session-Expires",
                        "Content-Type",
                        "Content-Length"
                    ]
                );
            },
        },
        Case {
            file: "invite_folded.sip",
            transport: Transport::Udp,
            start: "INVITE",
            call_id: "folded-1@example.com",
            cseq: (1, "INVITE"),
            from_tag: Some("folded-tag"),
            to_tag: None,
            vias: &[("UDP", "folded.example.com", Some(5060), "z9hG4bKfolded1")],
            body_len: 0,
            more: |m| {
                assert_eq!(m.from().display_name, Some("Folded Name"));
                assert_eq!(
                    m.header(HeaderName::Subject),
                    Some("a subject that continues on the next line and the one after")
                );
                assert!(matches!(
                    m.headers()
                        .iter()
                        .find(|h| h.name == HeaderName::Subject)
                        .map(|h| &h.value),
                    Some(std::borrow::Cow::Owned(_))
                ));
                assert!(matches!(
                    m.headers()
                        .iter()
                        .find(|h| h.name == HeaderName::CallId)
                        .map(|h| &h.value),
                    Some(std::borrow::Cow::Borrowed(_))
                ));
            },
        },
        Case {
            file: "invite_multiple_via.sip",
            transport: Transport::Udp,
            start: "INVITE",
            call_id: "multi-via-1",
            cseq: (42, "INVITE"),
            from_tag: Some("via-from"),
            to_tag: None,
            vias: &[
                ("UDP", "edge.example.com", Some(5060), "z9hG4bKtop"),
                ("TCP", "[2001:db8::9]", Some(5080), "z9hG4bKsecond"),
                ("UDP", "core.example.com", None, "z9hG4bKthird"),
                ("TLS", "last.example.com", Some(5061), "z9hG4bKfourth"),
            ],
            body_len: 0,
            more: |m| {
                let top = m.top_via().expect("via");
                assert_eq!(top.received(), Some("198.51.100.7"));
                assert_eq!(top.rport(), Some(Some(5062)));
                assert_eq!(top.sent_by(), "edge.example.com:5060");
                assert_eq!(m.vias()[3].params.value("maddr"), Some("203.0.113.1"));
                assert_eq!(m.max_forwards(), Some(67));
            },
        },
        Case {
            file: "options_no_content_length.sip",
            transport: Transport::Udp,
            start: "OPTIONS",
            call_id: "options-1@sbc.example.com",
            cseq: (1, "OPTIONS"),
            from_tag: Some("ping-1"),
            to_tag: None,
            vias: &[("UDP", "192.0.2.10", Some(5060), "z9hG4bKoptions1")],
            body_len: 0,
            more: |m| assert_eq!(m.header(HeaderName::Accept), Some("application/sdp")),
        },
        Case {
            file: "bye_in_dialog.sip",
            transport: Transport::Udp,
            start: "BYE",
            call_id: "siprec-call-1@sbc.example.com",
            cseq: (102, "BYE"),
            from_tag: Some("src-tag-1"),
            to_tag: Some("srs-tag-1"),
            vias: &[("UDP", "192.0.2.10", Some(5060), "z9hG4bKbye1")],
            body_len: 0,
            more: nothing,
        },
        Case {
            file: "cancel.sip",
            transport: Transport::Udp,
            start: "CANCEL",
            call_id: "siprec-call-1@sbc.example.com",
            cseq: (101, "CANCEL"),
            from_tag: Some("src-tag-1"),
            to_tag: None,
            vias: &[("UDP", "192.0.2.10", Some(5060), "z9hG4bKsiprec1")],
            body_len: 0,
            more: nothing,
        },
        Case {
            file: "response_200.sip",
            transport: Transport::Udp,
            start: "200",
            call_id: "siprec-call-1@sbc.example.com",
            cseq: (1, "BYE"),
            from_tag: Some("srs-tag-1"),
            to_tag: Some("src-tag-1"),
            vias: &[("UDP", "192.0.2.1", Some(5060), "z9hG4bKbyefromsrs")],
            body_len: 0,
            more: |m| assert_eq!(m.reason(), Some("OK")),
        },
        Case {
            file: "response_no_reason.sip",
            transport: Transport::Udp,
            start: "100",
            call_id: "noreason-1",
            cseq: (1, "INVITE"),
            from_tag: Some("a"),
            to_tag: None,
            vias: &[("UDP", "192.0.2.1", Some(5060), "z9hG4bKnoreason")],
            body_len: 0,
            more: |m| assert_eq!(m.reason(), Some("")),
        },
        Case {
            file: "rfc4475_wsinv.sip",
            transport: Transport::Udp,
            start: "INVITE",
            call_id: "wsinv.ndaksdj@192.0.2.1",
            cseq: (9, "INVITE"),
            from_tag: Some("98asjd8"),
            to_tag: Some("1918181833n"),
            vias: &[
                ("UDP", "192.0.2.2", None, "390skdjuw"),
                ("TCP", "spindle.example.com", None, "z9hG4bK9ikj8"),
                ("UDP", "192.168.255.111", None, "z9hG4bK30239"),
            ],
            body_len: 150,
            more: |m| {
                assert_eq!(m.from().display_name, Some(r#"J Rosenberg \\\""#));
                assert_eq!(m.to().uri, "sip:vivekg@chair-dnrc.example.com");
                assert_eq!(m.max_forwards(), Some(68));
                assert_eq!(
                    m.header_str("NewFangledHeader"),
                    Some("newfangled value continued newfangled value")
                );
                assert_eq!(m.header(HeaderName::Subject), Some(""));
                let contact = m.contact().expect("contact");
                assert_eq!(contact.display_name, Some(r#"Quoted string \"\""#));
                assert_eq!(contact.params.value("newparam"), Some("newvalue"));
                assert_eq!(contact.params.get("secondparam"), Some(None));
                assert_eq!(contact.params.value("q"), Some("0.33"));
                assert!(!m.top_via().expect("via").has_rfc3261_branch());
            },
        },
        Case {
            file: "rfc4475_intmeth.sip",
            transport: Transport::Udp,
            start: "!interesting-Method0123456789_*+`.%indeed'~",
            call_id: "intmeth.word%ZK-!.*_+'@word`~)(><:\\/\"][?}{",
            cseq: (139122385, "!interesting-Method0123456789_*+`.%indeed'~"),
            from_tag: Some("_token~1'+`*%!-."),
            to_tag: None,
            vias: &[("TCP", "host1.example.com", None, "z9hG4bK-.!%66*_+`'~")],
            body_len: 0,
            more: |m| {
                assert_eq!(m.method(), Some(Method::Extension));
                assert_eq!(m.from().display_name, Some("token1~` token2'+_ token3*%!.-"));
                assert_eq!(m.from().params.value("fromParam''~+*_!.-%"), Some("работающий"));
                assert_eq!(m.header_str("extensionHeader-!.%*+_`'~"), Some("\u{feff}大停電"));
            },
        },
        Case {
            file: "rfc4475_dblreq.sip",
            transport: Transport::Udp,
            start: "REGISTER",
            call_id: "dblreq.0ha0isndaksdj99sdfafnl3lk233412",
            cseq: (8, "REGISTER"),
            from_tag: Some("43251j3j324"),
            to_tag: None,
            vias: &[("UDP", "192.0.2.125", None, "z9hG4bKkdjuw23492")],
            body_len: 0,
            more: |m| {
                let bytes = m.as_bytes();
                assert!(bytes.ends_with(b"Content-Length: 0\r\n\r\n") || bytes.ends_with(b"Content-Length: 0\n\n"));
                assert!(!m.as_bytes().windows(6).any(|w| w == b"INVITE"));
                assert!(matches!(m.contacts()[0], Contact::Address(_)));
            },
        },
        Case {
            file: "rfc4475_lwsdisp.sip",
            transport: Transport::Udp,
            start: "OPTIONS",
            call_id: "lwsdisp.1234abcd@funky.example.com",
            cseq: (60, "OPTIONS"),
            from_tag: Some("323"),
            to_tag: None,
            vias: &[("UDP", "funky.example.com", None, "z9hG4bKkdjuw")],
            body_len: 0,
            more: |m| assert_eq!(m.from().display_name, Some("caller")),
        },
        Case {
            file: "keepalive_prefix_lf.sip",
            transport: Transport::Tcp,
            start: "OPTIONS",
            call_id: "lf-1@sbc.example.com",
            cseq: (1, "OPTIONS"),
            from_tag: Some("lf-1"),
            to_tag: None,
            vias: &[("UDP", "192.0.2.10", Some(5060), "z9hG4bKlf1")],
            body_len: 0,
            more: |m| assert!(m.as_bytes().starts_with(b"OPTIONS ")),
        },
    ]
}

fn check(case: &Case, message: &SipMessage<'_>) {
    let file = case.file;
    match message.start_line() {
        StartLine::Request { method, .. } => assert_eq!(method, case.start, "{file}"),
        StartLine::Response { status, .. } => assert_eq!(status.to_string(), case.start, "{file}"),
    }
    assert_eq!(message.call_id(), case.call_id, "{file}");
    let cseq = message.cseq();
    assert_eq!((cseq.number, cseq.method_name), case.cseq, "{file}");
    assert_eq!(message.from().tag(), case.from_tag, "{file}");
    assert_eq!(message.to().tag(), case.to_tag, "{file}");
    let vias: Vec<_> = message
        .vias()
        .iter()
        .map(|v| (v.transport, v.host, v.port, v.branch().unwrap_or_default()))
        .collect();
    assert_eq!(vias, case.vias, "{file}");
    assert_eq!(message.body().len(), case.body_len, "{file}");
    (case.more)(message);
}

#[test]
fn every_valid_file_parses_to_its_expected_fields() {
    for case in cases() {
        let bytes = data(&format!("valid/{}", case.file));
        let message =
            parse_message(&bytes, case.transport).unwrap_or_else(|e| panic!("{}: {} ({})", case.file, e, e.code()));
        check(&case, &message);
    }
}

#[test]
fn every_valid_file_is_in_the_table() {
    let listed: Vec<&str> = cases().iter().map(|case| case.file).collect();
    for file in sip_files("valid") {
        assert!(listed.contains(&file.as_str()), "{file} has no case in parse_valid.rs");
    }
}

#[test]
fn valid_files_parse_the_same_with_bare_lf_line_ends_in_the_headers() {
    for case in cases().into_iter().filter(|case| case.body_len == 0) {
        let bytes = data(&format!("valid/{}", case.file));
        let lf: Vec<u8> = String::from_utf8(bytes)
            .expect("utf-8")
            .replace("\r\n", "\n")
            .into_bytes();
        let message = parse_message(&lf, case.transport).unwrap_or_else(|e| panic!("{}: {e}", case.file));
        check(&case, &message);
    }
}

#[test]
fn header_names_match_in_any_case_and_compact_form() {
    let table = [
        ("i", "Call-ID"),
        ("CALL-id", "Call-ID"),
        ("m", "Contact"),
        ("f", "From"),
        ("t", "To"),
        ("v", "Via"),
        ("l", "Content-Length"),
        ("c", "Content-Type"),
        ("k", "Supported"),
        ("s", "Subject"),
        ("e", "Content-Encoding"),
        ("o", "Event"),
        ("r", "Refer-To"),
        ("b", "Referred-By"),
        ("x", "Session-Expires"),
        ("u", "Allow-Events"),
        ("a", "Accept-Contact"),
        ("y", "Identity"),
        ("j", "Reject-Contact"),
        ("d", "Request-Disposition"),
        ("min-se", "Min-SE"),
        ("cseq", "CSeq"),
        ("X-Custom", "X-Custom"),
    ];
    for (written, canonical) in table {
        assert_eq!(HeaderName::parse(written).as_str(), canonical, "{written}");
        assert_eq!(HeaderName::parse(written), HeaderName::parse(canonical), "{written}");
    }
    assert_eq!(HeaderName::parse("x-custom"), HeaderName::Other("X-CUSTOM"));
    assert_eq!(HeaderName::CallId.compact_form(), Some('i'));
}

#[test]
fn every_interop_offer_parses_as_an_invite_body_with_crlf_and_lf() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/interop/siprec-offers");
    let Ok(entries) = std::fs::read_dir(&dir) else {
        eprintln!("skipped: {} is not there", dir.display());
        return;
    };
    let head = String::from_utf8(data("valid/invite_siprec.sip")).expect("utf-8");
    let head = &head[..head.find("Content-Length:").expect("content length")];
    for entry in entries {
        let path = entry.expect("entry").path();
        let body = std::fs::read_to_string(&path).expect("offer");
        for body in [
            body.replace("\r\n", "\n"),
            body.replace("\r\n", "\n").replace('\n', "\r\n"),
        ] {
            let message = format!("{head}Content-Length: {}\r\n\r\n{body}", body.len());
            let parsed =
                parse_message(message.as_bytes(), Transport::Tcp).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            assert_eq!(parsed.body(), body.as_bytes(), "{}", path.display());
        }
    }
}
