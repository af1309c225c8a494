//! Server transactions in virtual time, as scenario tables: each step (a message
//! arrives, the application answers, the clock advances) lists the actions the layer
//! must return, summarised as short strings.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use sip::{
    Action, IncomingRequest, SipEvent, TransactionConfig, TransactionId, TransactionLayer, Transport, parse_message,
};

const SBC: &str = "192.0.2.10:5060";

/// The origin of the virtual clock: any instant will do, the layer only compares them.
#[allow(clippy::disallowed_methods)]
fn epoch() -> Instant {
    Instant::now()
}

/// One step of a scenario, at a time in milliseconds from the start.
#[derive(Debug, Clone, Copy)]
enum Step {
    /// A catalogue message arrives over UDP from the SBC.
    Recv(&'static str),
    /// A catalogue message arrives over TCP.
    RecvTcp(&'static str),
    /// The application answers the INVITE it was last given.
    RespondInvite(u16),
    /// The application answers the last request it was given.
    Respond(u16),
    /// The clock reaches this step's time: timers fire.
    Timer,
    /// The application ends the dialog with BYE.
    SendBye,
    /// A response to the layer's BYE arrives.
    ByeResponse(u16),
}

use Step::*;

/// A message of the catalogue.
fn message(name: &str) -> String {
    let invite = |branch: &str, extra: &str| {
        format!(
            "INVITE sip:srs@192.0.2.1 SIP/2.0\r\nVia: SIP/2.0/UDP 192.0.2.10:5060;branch={branch}\r\nMax-Forwards: 70\r\nFrom: <sip:src@sbc.example.com>;tag=src\r\nTo: <sip:srs@192.0.2.1>\r\nCall-ID: call-1\r\nCSeq: 1 INVITE\r\nContact: <sip:src@192.0.2.10>\r\n{extra}Content-Length: 0\r\n\r\n"
        )
    };
    let request = |method: &str, uri: &str, branch: &str, to_tag: &str, cseq: u32, extra: &str| {
        let to_tag = if to_tag.is_empty() {
            String::new()
        } else {
            format!(";tag={to_tag}")
        };
        format!(
            "{method} {uri} SIP/2.0\r\nVia: SIP/2.0/UDP 192.0.2.10:5060;branch={branch}\r\nMax-Forwards: 70\r\nFrom: <sip:src@sbc.example.com>;tag=src\r\nTo: <sip:srs@192.0.2.1>{to_tag}\r\nCall-ID: call-1\r\nCSeq: {cseq} {method}\r\n{extra}Content-Length: 0\r\n\r\n"
        )
    };
    let uri = "sip:srs@192.0.2.1";
    match name {
        "invite" => invite("z9hG4bK-inv", ""),
        "invite-require-foo" => invite("z9hG4bK-inv", "Require: foo, timer\r\n"),
        "invite-legacy" => invite("legacy-1", ""),
        "cancel-legacy" => request("CANCEL", uri, "legacy-1", "", 1, ""),
        "ack-2xx" => request("ACK", uri, "z9hG4bK-ack", "srs-tag", 1, ""),
        "ack-failure" => request("ACK", uri, "z9hG4bK-inv", "any", 1, ""),
        "cancel" => request("CANCEL", uri, "z9hG4bK-inv", "", 1, ""),
        "cancel-unknown" => request("CANCEL", uri, "z9hG4bK-other", "", 1, ""),
        "bye" => request("BYE", uri, "z9hG4bK-bye", "srs-tag", 2, ""),
        "bye-old-cseq" => request("BYE", uri, "z9hG4bK-bye0", "srs-tag", 1, ""),
        "bye-unknown-dialog" => request("BYE", uri, "z9hG4bK-bye2", "nope", 2, ""),
        "bye-no-to-tag" => request("BYE", uri, "z9hG4bK-bye3", "", 2, ""),
        "reinvite" => request(
            "INVITE",
            uri,
            "z9hG4bK-re",
            "srs-tag",
            3,
            "Contact: <sip:src@192.0.2.10>\r\n",
        ),
        "ack-reinvite" => request("ACK", uri, "z9hG4bK-reack", "srs-tag", 3, ""),
        "update" => request("UPDATE", uri, "z9hG4bK-upd", "srs-tag", 4, ""),
        "options" => request("OPTIONS", uri, "z9hG4bK-opt", "", 1, ""),
        "register" => request("REGISTER", uri, "z9hG4bK-reg", "", 1, ""),
        "foo" => request("FOO", uri, "z9hG4bK-foo", "", 1, ""),
        "mailto" => request("OPTIONS", "mailto:srs@example.com", "z9hG4bK-mail", "", 1, ""),
        other => panic!("no message {other}"),
    }
}

/// Runs the layer through `steps` and checks each step's summarised actions.
fn run(name: &str, steps: &[(u64, Step, &[&str])]) {
    let start = epoch();
    let mut layer = TransactionLayer::new(TransactionConfig::default());
    let sbc: SocketAddr = SBC.parse().expect("addr");
    let mut last_request: Option<IncomingRequest> = None;
    let mut last_invite: Option<IncomingRequest> = None;
    let mut bye: Option<(TransactionId, Vec<u8>)> = None;
    let mut dialog = None;
    for (index, (at, step, expected)) in steps.iter().enumerate() {
        let now = start + Duration::from_millis(*at);
        let actions = match *step {
            Recv(which) | RecvTcp(which) => {
                let transport = if matches!(step, RecvTcp(_)) {
                    Transport::Tcp
                } else {
                    Transport::Udp
                };
                let bytes = message(which).replace("SIP/2.0/UDP", &format!("SIP/2.0/{transport}"));
                let parsed = parse_message(bytes.as_bytes(), transport).expect("catalogue message parses");
                layer.on_request(&parsed, sbc, transport, now)
            }
            RespondInvite(status) | Respond(status) => {
                let request = if matches!(step, RespondInvite(_)) {
                    &last_invite
                } else {
                    &last_request
                };
                let request = request.as_ref().expect("a request to answer");
                let mut response = request.response(status, "Reason").expect("builder").to_tag("srs-tag");
                if (200..300).contains(&status) && request.method == sip::Method::Invite {
                    response = response.header("Contact", "<sip:srs@192.0.2.1>;+sip.srs");
                }
                match layer.respond(request.transaction, response.build(), now) {
                    Ok(actions) => actions,
                    Err(error) => {
                        assert_eq!(
                            *expected,
                            &[format!("error {}", error.code()).as_str()],
                            "{name}: step {index}"
                        );
                        continue;
                    }
                }
            }
            Timer => {
                assert_eq!(
                    layer.next_deadline(),
                    Some(now),
                    "{name}: step {index} is not at the next deadline"
                );
                layer.on_timer(now)
            }
            SendBye => {
                let (id, actions) = layer.send_bye(dialog.as_ref().expect("a dialog"), now).expect("bye");
                let request = actions
                    .iter()
                    .find_map(|a| match a {
                        Action::Send { bytes, .. } => Some(bytes.clone()),
                        _ => None,
                    })
                    .expect("BYE sent");
                bye = Some((id, request));
                actions
            }
            ByeResponse(status) => {
                let (_, request) = bye.as_ref().expect("a BYE");
                let request = parse_message(request, Transport::Udp).expect("our BYE parses");
                let response = sip::ResponseBuilder::new(&request, status, "OK").build();
                layer.on_response(&parse_message(&response, Transport::Udp).expect("parses"), now)
            }
        };
        let mut summary = Vec::new();
        for action in &actions {
            summary.push(summarise(action));
            if let Action::Deliver(SipEvent::Request(request)) = action {
                if request.method == sip::Method::Invite {
                    last_invite = Some(request.clone());
                }
                last_request = Some(request.clone());
            }
        }
        for action in &actions {
            if let Action::Send { bytes, .. } = action {
                let parsed = parse_message(bytes, Transport::Udp).expect("sent bytes parse");
                if let Some(id) = parsed
                    .status()
                    .filter(|s| (200..300).contains(s))
                    .and(layer.dialogs().next())
                {
                    dialog = Some(id.id.clone());
                }
            }
        }
        assert_eq!(summary, *expected, "{name}: step {index} at {at} ms ({step:?})");
    }
}

fn summarise(action: &Action) -> String {
    match action {
        Action::Send { bytes, .. } => {
            let parsed = parse_message(bytes, Transport::Udp).expect("sent bytes parse");
            match parsed.status() {
                Some(status) => format!("send {status} {}", parsed.cseq().method_name),
                None => format!("send {}", parsed.method_name().unwrap_or_default()),
            }
        }
        Action::Deliver(SipEvent::Request(request)) => {
            let in_dialog = if request.dialog.is_some() { " in dialog" } else { "" };
            format!("deliver {:?}{in_dialog}", request.method).to_uppercase()
        }
        Action::Deliver(SipEvent::Ack(_)) => "deliver ACK".to_owned(),
        Action::Deliver(SipEvent::Cancelled(_)) => "cancelled".to_owned(),
        Action::Deliver(SipEvent::Response(response)) => format!("response {}", response.status),
        Action::Deliver(SipEvent::Timeout(timeout)) | Action::TransactionTimeout(timeout) => {
            format!("timeout {}", timeout.kind.code())
        }
    }
}

#[test]
fn invite_retransmissions_are_absorbed_and_100_trying_is_sent_at_once() {
    run(
        "retransmitted INVITE",
        &[
            (0, Recv("invite"), &["send 100 INVITE", "DELIVER INVITE"]),
            (500, Recv("invite"), &["send 100 INVITE"]),
            (600, RespondInvite(180), &["send 180 INVITE"]),
            (1500, Recv("invite"), &["send 180 INVITE"]),
        ],
    );
}

#[test]
fn a_2xx_is_retransmitted_with_doubling_intervals_until_the_ack() {
    run(
        "200 until ACK",
        &[
            (0, Recv("invite"), &["send 100 INVITE", "DELIVER INVITE"]),
            (10, RespondInvite(200), &["send 200 INVITE"]),
            (510, Timer, &["send 200 INVITE"]),
            (1510, Timer, &["send 200 INVITE"]),
            (3510, Timer, &["send 200 INVITE"]),
            (7510, Timer, &["send 200 INVITE"]),
            (11510, Timer, &["send 200 INVITE"]),
            (12000, Recv("invite"), &["send 200 INVITE"]),
            (12100, Recv("ack-2xx"), &["deliver ACK"]),
            (12200, Recv("ack-2xx"), &[]),
            // Only timer L is left; it ends the transaction silently.
            (32010, Timer, &[]),
            (40000, Recv("bye"), &["DELIVER BYE IN DIALOG"]),
            (40010, Respond(200), &["send 200 BYE"]),
            (40500, Recv("bye"), &["send 200 BYE"]),
            (72010, Timer, &[]),
            (73000, Recv("ack-2xx"), &[]),
        ],
    );
}

#[test]
fn a_2xx_without_ack_gives_up_after_64_t1_and_reports_it() {
    let mut steps: Vec<(u64, Step, &[&str])> = vec![
        (0, Recv("invite"), &["send 100 INVITE", "DELIVER INVITE"]),
        (0, RespondInvite(200), &["send 200 INVITE"]),
    ];
    for at in [500, 1500, 3500, 7500, 11500, 15500, 19500, 23500, 27500, 31500] {
        steps.push((at, Timer, &["send 200 INVITE"]));
    }
    steps.push((32000, Timer, &["timeout ack-for-2xx"]));
    // The dialog stays so that the application can send BYE.
    steps.push((32100, SendBye, &["send BYE"]));
    steps.push((32600, Timer, &["send BYE"]));
    steps.push((33000, ByeResponse(200), &["response 200"]));
    steps.push((38000, Timer, &[]));
    run("200 without ACK", &steps);
}

#[test]
fn cancel_gets_200_and_the_invite_487() {
    run(
        "CANCEL",
        &[
            (0, Recv("invite"), &["send 100 INVITE", "DELIVER INVITE"]),
            (
                300,
                Recv("cancel"),
                &["send 200 CANCEL", "send 487 INVITE", "cancelled"],
            ),
            (400, Recv("cancel"), &["send 200 CANCEL"]),
            (450, RespondInvite(200), &["error sip-respond-final-already-sent"]),
            (800, Timer, &["send 487 INVITE"]),
            (900, Recv("ack-failure"), &[]),
            (950, Recv("invite"), &[]),
            (5900, Timer, &[]),
        ],
    );
}

#[test]
fn cancel_after_the_answer_only_gets_200() {
    run(
        "late CANCEL",
        &[
            (0, Recv("invite"), &["send 100 INVITE", "DELIVER INVITE"]),
            (100, RespondInvite(200), &["send 200 INVITE"]),
            (200, Recv("cancel"), &["send 200 CANCEL"]),
            (300, Recv("ack-2xx"), &["deliver ACK"]),
        ],
    );
}

#[test]
fn cancel_for_nothing_gets_481() {
    run("CANCEL unknown", &[(0, Recv("cancel-unknown"), &["send 481 CANCEL"])]);
}

#[test]
fn a_failure_response_is_retransmitted_until_its_ack_and_timer_h_is_reported() {
    run(
        "486 until timer H",
        &[
            (0, Recv("invite"), &["send 100 INVITE", "DELIVER INVITE"]),
            (0, RespondInvite(486), &["send 486 INVITE"]),
            (500, Timer, &["send 486 INVITE"]),
            (1500, Timer, &["send 486 INVITE"]),
            (3500, Timer, &["send 486 INVITE"]),
            (7500, Timer, &["send 486 INVITE"]),
            (11500, Timer, &["send 486 INVITE"]),
            (15500, Timer, &["send 486 INVITE"]),
            (19500, Timer, &["send 486 INVITE"]),
            (23500, Timer, &["send 486 INVITE"]),
            (27500, Timer, &["send 486 INVITE"]),
            (31500, Timer, &["send 486 INVITE"]),
            (32000, Timer, &["timeout timer-h"]),
        ],
    );
    run(
        "486 acknowledged",
        &[
            (0, Recv("invite"), &["send 100 INVITE", "DELIVER INVITE"]),
            (0, RespondInvite(486), &["send 486 INVITE"]),
            (500, Timer, &["send 486 INVITE"]),
            (700, Recv("ack-failure"), &[]),
            (800, Recv("ack-failure"), &[]),
            (900, Recv("invite"), &[]),
            // Timer I (T4) ends the transaction; the INVITE is then new again.
            (5700, Timer, &[]),
        ],
    );
    run(
        "486 over TCP",
        &[
            (0, RecvTcp("invite"), &["send 100 INVITE", "DELIVER INVITE"]),
            (0, RespondInvite(486), &["send 486 INVITE"]),
            (32000, Timer, &["timeout timer-h"]),
        ],
    );
}

#[test]
fn non_invite_retransmissions_are_answered_from_the_stored_response() {
    run(
        "BYE and timer J",
        &[
            (0, Recv("invite"), &["send 100 INVITE", "DELIVER INVITE"]),
            (0, RespondInvite(200), &["send 200 INVITE"]),
            (100, Recv("ack-2xx"), &["deliver ACK"]),
            (1000, Recv("bye"), &["DELIVER BYE IN DIALOG"]),
            (1100, Recv("bye"), &[]),
            (1200, Respond(200), &["send 200 BYE"]),
            (1300, Recv("bye"), &["send 200 BYE"]),
            (32000, Timer, &[]),
            (33200, Timer, &[]),
            // The dialog ended with the 200 to BYE: a new BYE is for nothing.
            (34000, Recv("bye"), &["send 481 BYE"]),
        ],
    );
    run(
        "application never answers",
        &[
            (0, Recv("invite"), &["send 100 INVITE", "DELIVER INVITE"]),
            (0, RespondInvite(200), &["send 200 INVITE"]),
            (100, Recv("ack-2xx"), &["deliver ACK"]),
            (1000, Recv("update"), &["DELIVER UPDATE IN DIALOG"]),
            (32000, Timer, &[]),
            (33000, Timer, &["timeout no-application-response"]),
        ],
    );
}

#[test]
fn in_dialog_requests_are_recognised_and_others_get_481() {
    run(
        "dialog",
        &[
            (0, Recv("bye-unknown-dialog"), &["send 481 BYE"]),
            (0, Recv("bye-no-to-tag"), &["send 481 BYE"]),
            (10, Recv("invite"), &["send 100 INVITE", "DELIVER INVITE"]),
            (20, RespondInvite(200), &["send 200 INVITE"]),
            (30, Recv("ack-2xx"), &["deliver ACK"]),
            (40, Recv("reinvite"), &["send 100 INVITE", "DELIVER INVITE IN DIALOG"]),
            (50, RespondInvite(200), &["send 200 INVITE"]),
            (60, Recv("ack-reinvite"), &["deliver ACK"]),
            (70, Recv("update"), &["DELIVER UPDATE IN DIALOG"]),
            (80, Respond(200), &["send 200 UPDATE"]),
            (90, Recv("bye-old-cseq"), &["send 500 BYE"]),
            (100, Recv("bye-unknown-dialog"), &["send 481 BYE"]),
        ],
    );
}

#[test]
fn the_layer_answers_options_and_refuses_what_it_cannot_handle() {
    run(
        "checks",
        &[
            (0, Recv("options"), &["send 200 OPTIONS"]),
            (0, Recv("options"), &["send 200 OPTIONS"]),
            (0, Recv("register"), &["send 405 REGISTER"]),
            (0, Recv("foo"), &["send 501 FOO"]),
            (0, Recv("mailto"), &["send 416 OPTIONS"]),
            (0, Recv("invite-require-foo"), &["send 420 INVITE"]),
        ],
    );
}

#[test]
fn rfc_2543_transactions_match_without_a_magic_cookie() {
    run(
        "RFC 2543",
        &[
            (0, Recv("invite-legacy"), &["send 100 INVITE", "DELIVER INVITE"]),
            (500, Recv("invite-legacy"), &["send 100 INVITE"]),
            (
                600,
                Recv("cancel-legacy"),
                &["send 200 CANCEL", "send 487 INVITE", "cancelled"],
            ),
        ],
    );
}

#[test]
fn the_options_answer_lists_allow_accept_and_supported() {
    let mut layer = TransactionLayer::new(TransactionConfig {
        supported: vec!["siprec".into(), "timer".into()],
        accept: vec!["application/sdp".into(), "multipart/mixed".into()],
        ..TransactionConfig::default()
    });
    let bytes = message("options");
    let request = parse_message(bytes.as_bytes(), Transport::Udp).expect("parses");
    let actions = layer.on_request(&request, SBC.parse().expect("addr"), Transport::Udp, epoch());
    let [Action::Send { bytes, to, .. }] = &actions[..] else {
        panic!("{actions:?}");
    };
    assert_eq!(to.to_string(), SBC);
    let response = parse_message(bytes, Transport::Udp).expect("parses");
    assert_eq!(
        response.header_str("Allow"),
        Some("INVITE, ACK, BYE, CANCEL, OPTIONS, UPDATE, INFO")
    );
    assert_eq!(response.header_str("Accept"), Some("application/sdp, multipart/mixed"));
    assert_eq!(response.header_str("Supported"), Some("siprec, timer"));
    assert!(response.to().tag().is_some());
}

#[test]
fn responses_go_to_the_via_port_or_with_rport_to_the_source_port() {
    let table = [
        (
            "SIP/2.0/UDP 192.0.2.10:5062;branch=z9hG4bK1",
            Transport::Udp,
            "192.0.2.10:5062",
        ),
        (
            "SIP/2.0/UDP 192.0.2.10;branch=z9hG4bK2",
            Transport::Udp,
            "192.0.2.10:5060",
        ),
        (
            "SIP/2.0/UDP 192.0.2.10:5062;branch=z9hG4bK3;rport",
            Transport::Udp,
            "192.0.2.10:40000",
        ),
        (
            "SIP/2.0/UDP nat.example.com:5062;branch=z9hG4bK4",
            Transport::Udp,
            "192.0.2.10:5062",
        ),
        (
            "SIP/2.0/TCP 192.0.2.10:5062;branch=z9hG4bK5",
            Transport::Tcp,
            "192.0.2.10:40000",
        ),
    ];
    let source: SocketAddr = "192.0.2.10:40000".parse().expect("addr");
    for (via, transport, expected) in table {
        let mut layer = TransactionLayer::new(TransactionConfig::default());
        let bytes = message("options").replace("SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bK-opt", via);
        let request = parse_message(bytes.as_bytes(), transport).expect("parses");
        let actions = layer.on_request(&request, source, transport, epoch());
        let [Action::Send { to, .. }] = &actions[..] else {
            panic!("{actions:?}");
        };
        assert_eq!(to.to_string(), expected, "{via}");
    }
}

#[test]
fn the_application_s_response_must_belong_to_the_transaction() {
    let mut layer = TransactionLayer::new(TransactionConfig::default());
    let now = epoch();
    let sbc: SocketAddr = SBC.parse().expect("addr");
    let bytes = message("invite");
    let invite = parse_message(bytes.as_bytes(), Transport::Udp).expect("parses");
    let actions = layer.on_request(&invite, sbc, Transport::Udp, now);
    let Some(Action::Deliver(SipEvent::Request(request))) = actions.last() else {
        panic!("{actions:?}");
    };
    let id = request.transaction;
    let other = message("options");
    let other = parse_message(other.as_bytes(), Transport::Udp).expect("parses");
    let table: Vec<(&str, Vec<u8>, &str)> = vec![
        ("garbage", b"nonsense".to_vec(), "sip-respond-malformed"),
        ("a request", bytes.clone().into_bytes(), "sip-respond-not-a-response"),
        (
            "another request's response",
            sip::ResponseBuilder::new(&other, 200, "OK").to_tag("x").build(),
            "sip-respond-mismatch",
        ),
        (
            "200 without To tag",
            request.response(200, "OK").expect("builder").build(),
            "sip-respond-missing-to-tag",
        ),
    ];
    for (name, response, code) in table {
        let error = layer.respond(id, response, now).expect_err(name);
        assert_eq!(error.code(), code, "{name}");
    }
}
