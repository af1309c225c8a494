//! The server on real sockets: `SipServer` on 127.0.0.1:0, UDP and TCP, driven by raw
//! sockets and a tiny application that answers INVITE and BYE.

use std::net::SocketAddr;
use std::sync::atomic::Ordering;
use std::time::Duration;

use sip::{
    Method, SipEvent, SipHandle, SipServer, SipServerConfig, TransactionConfig, Transport, frame_stream, parse_message,
};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpStream, UdpSocket};
use tokio::sync::mpsc;

/// T1 shortened so that retransmissions happen within a test's patience.
const T1: Duration = Duration::from_millis(100);

async fn start(event_capacity: usize) -> SipServer {
    SipServer::start(SipServerConfig {
        listen: "127.0.0.1:0".parse().expect("addr"),
        transaction: TransactionConfig {
            t1: T1,
            t2: T1 * 4,
            ..TransactionConfig::default()
        },
        event_capacity,
        ..SipServerConfig::default()
    })
    .await
    .expect("server starts")
}

/// Answers INVITE 200 (with SDP) and BYE 200; reports every event's name.
fn spawn_application(mut server: SipServer) -> (SipHandle, mpsc::UnboundedReceiver<String>) {
    let handle = server.handle();
    let (report, reports) = mpsc::unbounded_channel();
    let answer = handle.clone();
    tokio::spawn(async move {
        while let Some(event) = server.next_event().await {
            let name = match &event {
                SipEvent::Request(request) => format!("{:?}", request.method),
                SipEvent::Ack(_) => "Ack".to_owned(),
                SipEvent::Cancelled(_) => "Cancelled".to_owned(),
                SipEvent::Response(response) => format!("Response {}", response.status),
                SipEvent::Timeout(timeout) => format!("Timeout {}", timeout.kind.code()),
            };
            if let SipEvent::Request(request) = &event {
                let response = match request.method {
                    Method::Invite => request
                        .response(200, "OK")
                        .expect("builder")
                        .to_tag("srs-tag")
                        .header("Contact", "<sip:srs@127.0.0.1>;+sip.srs")
                        .body("application/sdp", b"v=0\r\n".to_vec())
                        .build(),
                    _ => request.response(200, "OK").expect("builder").to_tag("srs-tag").build(),
                };
                answer.respond(request.transaction, response).expect("server running");
            }
            let _ = report.send(name);
        }
    });
    (handle, reports)
}

fn request(method: &str, via: &str, to_tag: &str, cseq: u32, branch: &str, call: &str, body: &str) -> Vec<u8> {
    let to_tag = if to_tag.is_empty() {
        String::new()
    } else {
        format!(";tag={to_tag}")
    };
    let (content_type, contact) = match method {
        "INVITE" => ("Content-Type: application/sdp\r\n", "Contact: <sip:src@127.0.0.1>\r\n"),
        _ => ("", ""),
    };
    format!(
        "{method} sip:srs@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/{via};branch={branch}\r\nMax-Forwards: 70\r\nFrom: <sip:src@example.com>;tag=src\r\nTo: <sip:srs@127.0.0.1>{to_tag}\r\nCall-ID: {call}\r\nCSeq: {cseq} {method}\r\n{contact}{content_type}Content-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}

struct UdpClient {
    socket: UdpSocket,
    server: SocketAddr,
}

impl UdpClient {
    async fn new(server: SocketAddr) -> UdpClient {
        UdpClient {
            socket: UdpSocket::bind("127.0.0.1:0").await.expect("bind"),
            server,
        }
    }

    fn via(&self) -> String {
        format!("UDP {};rport", self.socket.local_addr().expect("addr"))
    }

    async fn send(&self, bytes: &[u8]) {
        self.socket.send_to(bytes, self.server).await.expect("send");
    }

    /// The status and CSeq method of the next response, or `None` after `wait`.
    async fn recv(&self, wait: Duration) -> Option<(u16, String)> {
        let mut buf = vec![0u8; 65_535];
        let (len, _) = tokio::time::timeout(wait, self.socket.recv_from(&mut buf))
            .await
            .ok()?
            .ok()?;
        let text = String::from_utf8_lossy(&buf[..len]).into_owned();
        match parse_message(&buf[..len], Transport::Udp) {
            Ok(message) => Some((message.status()?, message.cseq().method_name.to_owned())),
            // Error responses to broken requests echo only what could be read.
            Err(_) => {
                let status = text.get(8..11)?.parse().ok()?;
                let cseq = text.lines().find_map(|line| line.strip_prefix("CSeq: "))?;
                Some((status, cseq.split(' ').nth(1)?.to_owned()))
            }
        }
    }
}

async fn next_report(reports: &mut mpsc::UnboundedReceiver<String>) -> String {
    tokio::time::timeout(Duration::from_secs(5), reports.recv())
        .await
        .expect("an application event")
        .expect("application running")
}

#[tokio::test]
async fn udp_invite_gets_100_and_the_200_is_retransmitted_until_the_ack() {
    let (handle, mut reports) = spawn_application(start(64).await);
    let client = UdpClient::new(handle.udp_local_addr()).await;
    let via = client.via();
    client
        .send(&request("INVITE", &via, "", 1, "z9hG4bK-u1", "call-u1", "v=0\r\n"))
        .await;
    let wait = Duration::from_secs(2);
    assert_eq!(client.recv(wait).await, Some((100, "INVITE".into())));
    assert_eq!(next_report(&mut reports).await, "Invite");
    assert_eq!(client.recv(wait).await, Some((200, "INVITE".into())));
    // Not acknowledged: the 200 comes again after T1.
    assert_eq!(client.recv(wait).await, Some((200, "INVITE".into())));
    client
        .send(&request("ACK", &via, "srs-tag", 1, "z9hG4bK-u1ack", "call-u1", ""))
        .await;
    assert_eq!(next_report(&mut reports).await, "Ack");
    // Drain a retransmission that may have crossed the ACK, then silence.
    while let Some(response) = client.recv(T1 * 6).await {
        assert_eq!(response, (200, "INVITE".into()));
    }
    client
        .send(&request("BYE", &via, "srs-tag", 2, "z9hG4bK-u1bye", "call-u1", ""))
        .await;
    assert_eq!(client.recv(wait).await, Some((200, "BYE".into())));
    assert_eq!(next_report(&mut reports).await, "Bye");
    let counters = handle.counters();
    assert!(counters.retransmissions_sent.load(Ordering::Relaxed) >= 1);
    assert_eq!(counters.parse_errors.load(Ordering::Relaxed), 0);
    handle.shutdown();
}

#[tokio::test]
async fn udp_options_is_answered_by_the_server_and_garbage_is_dropped_and_counted() {
    let (handle, mut reports) = spawn_application(start(64).await);
    let client = UdpClient::new(handle.udp_local_addr()).await;
    let wait = Duration::from_secs(2);
    client.send(b"\x00\x01garbage that is not SIP\xff").await;
    client.send(b"").await;
    client
        .send(&request("OPTIONS", &client.via(), "", 1, "z9hG4bK-opt", "call-opt", ""))
        .await;
    // The first thing that comes back is the OPTIONS answer: garbage gets nothing.
    assert_eq!(client.recv(wait).await, Some((200, "OPTIONS".into())));
    // A request that parses far enough to be answered gets its 4xx.
    let missing_call_id = String::from_utf8(request("OPTIONS", &client.via(), "", 2, "z9hG4bK-bad", "call-bad", ""))
        .expect("utf-8")
        .replace("Call-ID: call-bad\r\n", "");
    client.send(missing_call_id.as_bytes()).await;
    assert_eq!(client.recv(wait).await, Some((400, "OPTIONS".into())));
    let counters = handle.counters();
    assert_eq!(counters.parse_errors.load(Ordering::Relaxed), 3);
    assert_eq!(counters.messages_received.load(Ordering::Relaxed), 4);
    assert_eq!(counters.options_answered.load(Ordering::Relaxed), 1);
    assert!(
        tokio::time::timeout(Duration::from_millis(200), reports.recv())
            .await
            .is_err(),
        "OPTIONS and garbage reach no application"
    );
    handle.shutdown();
}

#[tokio::test]
async fn tcp_invite_ack_bye_with_keepalives_and_pipelining() {
    let (handle, mut reports) = spawn_application(start(64).await);
    let mut stream = TcpStream::connect(handle.tcp_local_addr()).await.expect("connect");
    let via = format!("TCP {}", stream.local_addr().expect("addr"));
    let mut buffer = Vec::new();

    stream.write_all(b"\r\n\r\n").await.expect("ping");
    read_frames(&mut stream, &mut buffer, 0).await;
    assert!(buffer.starts_with(b"\r\n"), "pong: {buffer:?}");

    let mut pipelined = request("INVITE", &via, "", 1, "z9hG4bK-t1", "call-t1", "v=0\r\n");
    pipelined.extend(request("OPTIONS", &via, "", 1, "z9hG4bK-t1opt", "call-t1", ""));
    stream.write_all(&pipelined).await.expect("write");
    let responses = read_frames(&mut stream, &mut buffer, 3).await;
    let mut got: Vec<(u16, String)> = responses.into_iter().collect();
    got.sort();
    assert_eq!(
        got,
        [(100, "INVITE".into()), (200, "INVITE".into()), (200, "OPTIONS".into())]
    );
    assert_eq!(next_report(&mut reports).await, "Invite");

    stream
        .write_all(&request("ACK", &via, "srs-tag", 1, "z9hG4bK-t1ack", "call-t1", ""))
        .await
        .expect("write");
    assert_eq!(next_report(&mut reports).await, "Ack");
    stream
        .write_all(&request("BYE", &via, "srs-tag", 2, "z9hG4bK-t1bye", "call-t1", ""))
        .await
        .expect("write");
    assert_eq!(read_frames(&mut stream, &mut buffer, 1).await, [(200, "BYE".into())]);
    assert_eq!(next_report(&mut reports).await, "Bye");
    assert_eq!(handle.counters().tcp_connections_accepted.load(Ordering::Relaxed), 1);
    handle.shutdown();
}

#[tokio::test]
async fn tcp_message_without_content_length_gets_400_and_the_connection_closes() {
    let (handle, _reports) = spawn_application(start(64).await);
    let mut stream = TcpStream::connect(handle.tcp_local_addr()).await.expect("connect");
    let via = format!("TCP {}", stream.local_addr().expect("addr"));
    let bytes = String::from_utf8(request("OPTIONS", &via, "", 1, "z9hG4bK-nocl", "call-nocl", ""))
        .expect("utf-8")
        .replace("Content-Length: 0\r\n", "");
    stream.write_all(bytes.as_bytes()).await.expect("write");
    let mut received = Vec::new();
    tokio::time::timeout(Duration::from_secs(5), stream.read_to_end(&mut received))
        .await
        .expect("server closes the connection")
        .expect("read");
    let text = String::from_utf8(received).expect("utf-8");
    assert!(text.starts_with("SIP/2.0 400 Missing Content-Length\r\n"), "{text}");
    assert_eq!(handle.counters().parse_errors.load(Ordering::Relaxed), 1);
    handle.shutdown();
}

#[tokio::test]
async fn requests_the_application_cannot_take_get_503() {
    let server = start(1).await;
    let handle = server.handle();
    let client = UdpClient::new(handle.udp_local_addr()).await;
    let via = client.via();
    let wait = Duration::from_secs(2);
    // Nobody reads events: the first INVITE fills the queue, the second is refused.
    client
        .send(&request("INVITE", &via, "", 1, "z9hG4bK-o1", "call-o1", "v=0\r\n"))
        .await;
    assert_eq!(client.recv(wait).await, Some((100, "INVITE".into())));
    client
        .send(&request("INVITE", &via, "", 1, "z9hG4bK-o2", "call-o2", "v=0\r\n"))
        .await;
    assert_eq!(client.recv(wait).await, Some((100, "INVITE".into())));
    assert_eq!(client.recv(wait).await, Some((503, "INVITE".into())));
    assert_eq!(handle.counters().events_dropped.load(Ordering::Relaxed), 1);
    handle.shutdown();
    drop(server);
}

/// Reads until `count` complete messages arrived (keep-alive line ends are left in
/// `buffer` when `count` is 0); returns their status and CSeq method.
async fn read_frames(stream: &mut TcpStream, buffer: &mut Vec<u8>, count: usize) -> Vec<(u16, String)> {
    let mut frames = Vec::new();
    let mut chunk = [0u8; 4096];
    loop {
        if count == 0 && !buffer.is_empty() {
            return frames;
        }
        while let Some(len) = frame_stream(buffer).expect("server frames correctly") {
            let frame: Vec<u8> = buffer.drain(..len).collect();
            let message = parse_message(&frame, Transport::Tcp).expect("valid SIP");
            frames.push((
                message.status().expect("response"),
                message.cseq().method_name.to_owned(),
            ));
        }
        if count > 0 && frames.len() >= count {
            return frames;
        }
        let len = tokio::time::timeout(Duration::from_secs(5), stream.read(&mut chunk))
            .await
            .expect("data in time")
            .expect("read");
        assert!(len > 0, "connection closed early");
        buffer.extend_from_slice(&chunk[..len]);
    }
}

#[tokio::test]
async fn the_application_can_end_a_dialog_with_bye() {
    let mut server = start(64).await;
    let handle = server.handle();
    let client = UdpClient::new(handle.udp_local_addr()).await;
    let via = client.via();
    let wait = Duration::from_secs(2);
    client
        .send(&request("INVITE", &via, "", 1, "z9hG4bK-b1", "call-b1", "v=0\r\n"))
        .await;
    let Some(SipEvent::Request(invite)) = server.next_event().await else {
        panic!("INVITE expected");
    };
    let ok = invite.response(200, "OK").expect("builder").to_tag("srs-tag").build();
    handle.respond(invite.transaction, ok).expect("running");
    assert_eq!(client.recv(wait).await, Some((100, "INVITE".into())));
    assert_eq!(client.recv(wait).await, Some((200, "INVITE".into())));
    client
        .send(&request("ACK", &via, "srs-tag", 1, "z9hG4bK-b1ack", "call-b1", ""))
        .await;
    let Some(SipEvent::Ack(ack)) = server.next_event().await else {
        panic!("ACK expected");
    };
    handle
        .send_bye(ack.dialog.clone().expect("in a dialog"))
        .expect("running");

    let mut buf = vec![0u8; 65_535];
    let (len, from) = tokio::time::timeout(wait, client.socket.recv_from(&mut buf))
        .await
        .expect("BYE in time")
        .expect("recv");
    assert_eq!(from, handle.udp_local_addr());
    let bye = parse_message(&buf[..len], Transport::Udp).expect("BYE parses");
    assert_eq!(bye.method(), Some(Method::Bye));
    assert_eq!(bye.from().tag(), Some("srs-tag"));
    assert_eq!(bye.to().tag(), Some("src"));
    assert_eq!(bye.call_id(), "call-b1");
    assert_eq!(
        bye.top_via().expect("via").sent_by(),
        handle.udp_local_addr().to_string()
    );
    let answer = sip::ResponseBuilder::new(&bye, 200, "OK").build();
    client.socket.send_to(&answer, from).await.expect("send");
    match tokio::time::timeout(wait, server.next_event())
        .await
        .expect("event in time")
    {
        Some(SipEvent::Response(response)) => assert_eq!(response.status, 200),
        other => panic!("response expected, got {other:?}"),
    }
    handle.shutdown();
}
