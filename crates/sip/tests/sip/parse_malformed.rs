//! The malformed-message table (`tests/data/malformed/EXPECTED`): every file must give
//! its error code and SIP status, and every file must be listed.

use sip::{ParseError, Transport, error_response, parse_message};

use crate::support::{data, sip_files};

struct Case {
    file: String,
    transport: Transport,
    code: String,
    status: u16,
}

fn cases() -> Vec<Case> {
    let manifest = String::from_utf8(data("malformed/EXPECTED")).expect("utf-8 manifest");
    manifest
        .lines()
        .filter(|line| !line.trim().is_empty() && !line.starts_with('#'))
        .map(|line| {
            let fields: Vec<&str> = line.split_whitespace().collect();
            let [file, transport, code, status] = fields[..] else {
                panic!("bad manifest line: {line}");
            };
            Case {
                file: file.to_owned(),
                transport: match transport {
                    "udp" => Transport::Udp,
                    "tcp" => Transport::Tcp,
                    other => panic!("unknown transport {other}"),
                },
                code: code.to_owned(),
                status: status.parse().expect("status"),
            }
        })
        .collect()
}

#[test]
fn every_malformed_file_gives_its_code_and_status() {
    let mut failures = Vec::new();
    for case in cases() {
        let bytes = data(&format!("malformed/{}", case.file));
        match parse_message(&bytes, case.transport) {
            Ok(_) => failures.push(format!("{}: parsed, expected {}", case.file, case.code)),
            Err(error) if error.code() != case.code || error.status() != case.status => failures.push(format!(
                "{}: got {} {} ({error}), expected {} {}",
                case.file,
                error.code(),
                error.status(),
                case.code,
                case.status
            )),
            Err(_) => {}
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn every_malformed_file_is_in_the_table() {
    let listed: Vec<String> = cases().into_iter().map(|case| case.file).collect();
    for file in sip_files("malformed") {
        assert!(listed.contains(&file), "{file} has no line in malformed/EXPECTED");
    }
}

#[test]
fn malformed_requests_with_a_via_get_an_error_response_naming_the_problem() {
    let table: Vec<(&str, &str)> = vec![
        ("missing_call_id.sip", "SIP/2.0 400 Missing Call-ID Header\r\n"),
        ("version_7.sip", "SIP/2.0 505 Version Not Supported\r\n"),
        (
            "clerr_content_length_exceeds.sip",
            "SIP/2.0 400 Content-Length Exceeds Body\r\n",
        ),
        ("cseq_method_mismatch.sip", "SIP/2.0 400 CSeq Method Mismatch\r\n"),
        ("huge_header_line.sip", "SIP/2.0 400 Header Line Too Long\r\n"),
    ];
    for (file, status_line) in table {
        let bytes = data(&format!("malformed/{file}"));
        let error = parse_message(&bytes, Transport::Udp).expect_err(file);
        let response = error_response(&bytes, &error).unwrap_or_else(|| panic!("{file}: no response"));
        let text = String::from_utf8(response).expect("utf-8");
        assert!(text.starts_with(status_line), "{file}: {text}");
        assert!(
            text.contains("Via: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bKbad1\r\n"),
            "{file}: {text}"
        );
        assert!(text.ends_with("Content-Length: 0\r\n\r\n"), "{file}: {text}");
    }
}

#[test]
fn garbage_responses_and_acks_get_no_error_response() {
    let ack = b"ACK sip:a@b SIP/7.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\n\r\n";
    let table: Vec<(&str, Vec<u8>)> = vec![
        ("garbage", data("malformed/garbage_text.sip")),
        ("binary", data("malformed/garbage_binary.sip")),
        ("status 99", data("malformed/status_code_99.sip")),
        ("no via", data("malformed/missing_via.sip")),
        ("ACK", ack.to_vec()),
    ];
    for (name, bytes) in table {
        let error = parse_message(&bytes, Transport::Udp).expect_err(name);
        assert_eq!(error_response(&bytes, &error), None, "{name}");
    }
    assert_eq!(error_response(b"", &ParseError::Empty), None);
}

#[test]
fn oversized_messages_are_413() {
    let mut message = data("valid/options_no_content_length.sip");
    message.extend(std::iter::repeat_n(b'x', 70_000));
    let error = parse_message(&message, Transport::Udp).expect_err("too large");
    assert_eq!((error.code(), error.status()), ("sip-message-too-large", 413));
    let response = String::from_utf8(error_response(&message, &error).expect("response")).expect("utf-8");
    assert!(
        response.starts_with("SIP/2.0 413 Request Entity Too Large\r\n"),
        "{response}"
    );
}
