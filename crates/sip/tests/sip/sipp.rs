//! SIPp (Debian package `sip-tester`) as the real peer: custom UAC scenarios in
//! `tests/data/sipp/` run against `SipServer` over UDP and TCP. Without `sipp` on the
//! PATH the tests say why they are skipped (the project's test script installs it).

use std::net::{SocketAddr, UdpSocket};
use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

use sip::{Method, SipEvent, SipServer, SipServerConfig, Transport};
use tokio::sync::mpsc;

fn sipp_path() -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join("sipp"))
        .find(|candidate| candidate.is_file())
}

/// A local port that was free a moment ago (for SIPp's own socket).
fn free_port() -> u16 {
    let socket = UdpSocket::bind("127.0.0.1:0").expect("bind");
    socket.local_addr().expect("addr").port()
}

/// Starts a server whose application answers INVITE and BYE 200, runs `scenario` with
/// SIPp over `transport`, and returns SIPp's success and the events the application saw.
async fn run_scenario(scenario: &str, transport: Transport) -> (bool, String, Vec<String>) {
    let mut server = SipServer::start(SipServerConfig {
        listen: "127.0.0.1:0".parse().expect("addr"),
        ..SipServerConfig::default()
    })
    .await
    .expect("server");
    let handle = server.handle();
    let (seen_tx, mut seen_rx) = mpsc::unbounded_channel();
    let answer = handle.clone();
    tokio::spawn(async move {
        while let Some(event) = server.next_event().await {
            match event {
                SipEvent::Request(request) => {
                    let mut response = request.response(200, "OK").expect("builder").to_tag("srs-sipp");
                    if request.method == Method::Invite {
                        response = response
                            .header("Contact", "<sip:srs@127.0.0.1>;+sip.srs")
                            .body("application/sdp", b"v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 40000 RTP/AVP 0\r\na=recvonly\r\n".to_vec());
                    }
                    answer.respond(request.transaction, response.build()).expect("running");
                    let _ = seen_tx.send(format!("{:?}", request.method));
                }
                SipEvent::Ack(_) => {
                    let _ = seen_tx.send("Ack".to_owned());
                }
                other => {
                    let _ = seen_tx.send(format!("{other:?}"));
                }
            }
        }
    });
    let target: SocketAddr = match transport {
        Transport::Udp => handle.udp_local_addr(),
        Transport::Tcp => handle.tcp_local_addr(),
    };
    let scenario_path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/sipp")
        .join(scenario);
    let work_dir = std::env::temp_dir().join(format!("callvault-sipp-{}-{}", std::process::id(), free_port()));
    std::fs::create_dir_all(&work_dir).expect("work dir");
    let mode = match transport {
        Transport::Udp => "u1",
        Transport::Tcp => "t1",
    };
    let sipp_dir = work_dir.clone();
    let output = tokio::task::spawn_blocking(move || {
        Command::new("sipp")
            .current_dir(&sipp_dir)
            .args(["-sf", scenario_path.to_str().expect("utf-8 path")])
            .args(["-m", "1", "-t", mode, "-i", "127.0.0.1"])
            .args(["-p", &free_port().to_string()])
            .args(["-timeout", "20s", "-timeout_error", "-nostdin", "-trace_err"])
            .arg(target.to_string())
            .output()
            .expect("sipp runs")
    })
    .await
    .expect("join");
    tokio::time::sleep(Duration::from_millis(100)).await;
    handle.shutdown();
    let errors = std::fs::read_dir(&work_dir)
        .into_iter()
        .flatten()
        .filter_map(|entry| std::fs::read_to_string(entry.ok()?.path()).ok())
        .collect::<Vec<_>>()
        .join("\n");
    let _ = std::fs::remove_dir_all(&work_dir);
    let mut seen = Vec::new();
    while let Ok(event) = seen_rx.try_recv() {
        seen.push(event);
    }
    let log = format!(
        "status {:?}\nerror log:\n{errors}\nstdout:\n{}\nstderr:\n{}",
        output.status,
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    (output.status.success(), log, seen)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sipp_call_invite_200_ack_bye_over_udp_and_tcp() {
    if sipp_path().is_none() {
        eprintln!("skipped: sipp is not installed (Debian package sip-tester; scripts/test installs it)");
        return;
    }
    for transport in [Transport::Udp, Transport::Tcp] {
        let (success, log, seen) = run_scenario("uac_invite_bye.xml", transport).await;
        assert!(success, "{transport}: sipp failed\n{log}");
        assert_eq!(seen, ["Invite", "Ack", "Bye"], "{transport}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sipp_options_ping_is_answered_by_the_sip_layer() {
    if sipp_path().is_none() {
        eprintln!("skipped: sipp is not installed (Debian package sip-tester; scripts/test installs it)");
        return;
    }
    for transport in [Transport::Udp, Transport::Tcp] {
        let (success, log, seen) = run_scenario("uac_options.xml", transport).await;
        assert!(success, "{transport}: sipp failed\n{log}");
        assert!(
            seen.is_empty(),
            "{transport}: OPTIONS reached the application: {seen:?}"
        );
    }
}
