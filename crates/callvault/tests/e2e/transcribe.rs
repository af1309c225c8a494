//! `transcript transcribe` with the operator's `[stt]` engine, both kinds: an external
//! command (a shell script reading the stream's WAV on stdin) and an HTTP endpoint (a real
//! TCP server in this test answering a multipart POST with Whisper JSON). Each stream's
//! words are stored, read back governed, and the transcription is audited.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::sync::mpsc;

use serde_json::{Value, json};

use crate::support::*;

/// What the engine answers for any stream: two words.
fn whisper_answer() -> String {
    json!({"segments": [{"start": 0.2, "end": 1.0, "text": "hello there",
        "words": [{"word": "hello", "start": 0.2, "end": 0.5}, {"word": "there", "start": 0.6, "end": 1.0}]}]})
    .to_string()
}

fn call(env: &Env) -> (String, String) {
    env.create_tenant("csi", "csi-works");
    env.ok(&["tenant", "set", "csi", "--retention", "30 days"]);
    let id = env
        .ingest("csi", &stereo_call(2), &meta("inbound", &["faq-content"], json!({})))
        .expect("ingest");
    (id, env.reader("csi"))
}

fn transcript(env: &Env, reader: &str, id: &str, args: &[&str]) -> std::process::Output {
    let mut full = vec!["--as", reader, "transcript"];
    full.extend_from_slice(args);
    full.extend_from_slice(&[id, "--purpose", "faq-content", "--reason", "FAQ-7 transcript"]);
    env.run_raw(&full, &[("CALLVAULT_PASSWORD", READER_PASSWORD)])
}

fn words_shown(env: &Env, reader: &str, id: &str) -> usize {
    let out = transcript(env, reader, id, &["show", "--json"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let shown: Value = serde_json::from_slice(&out.stdout).unwrap();
    shown["words"].as_array().unwrap().len()
}

fn set_stt(env: &Env, section: &str) {
    std::fs::write(env.path().join("callvault.toml"), format!("[stt]\n{section}\n")).unwrap();
}

#[test]
fn transcribe_with_an_external_command_on_stdin() {
    let env = Env::new(None);
    let (id, reader) = call(&env);
    // No engine configured: a message naming the setting.
    let out = transcript(&env, &reader, &id, &["transcribe"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("[stt]"));

    // The script checks it got a WAV on stdin, counts the calls, and answers two words.
    let answer = env.write("answer.json", whisper_answer().as_bytes());
    let calls = env.path().join("calls");
    let script = env.write(
        "stt.sh",
        format!(
            "#!/bin/sh\nhead -c 4 | grep -q RIFF || exit 3\ncat > /dev/null\necho x >> {}\ncat {answer}\n",
            calls.display()
        )
        .as_bytes(),
    );
    set_stt(&env, &format!("command = [\"sh\", \"{script}\"]\ninput = \"stdin\""));
    let out = transcript(&env, &reader, &id, &["transcribe"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(
        std::fs::read_to_string(&calls).unwrap().lines().count(),
        2,
        "one call per stream"
    );
    assert_eq!(words_shown(&env, &reader, &id), 4, "two words in each of two streams");
    let audited = env
        .audit()
        .iter()
        .filter(|e| e["action"] == "transcript.transcribe")
        .count();
    assert_eq!(audited, 1);

    // An engine that fails or prints garbage: a code, and the stored transcript is kept.
    set_stt(&env, "command = [\"sh\", \"-c\", \"exit 1\"]\ninput = \"stdin\"");
    let out = transcript(&env, &reader, &id, &["transcribe"]);
    assert_eq!(
        error_code(&String::from_utf8_lossy(&out.stderr)).as_deref(),
        Some("stt-failed")
    );
    set_stt(&env, "command = [\"echo\", \"not json\"]\ninput = \"stdin\"");
    let out = transcript(&env, &reader, &id, &["transcribe"]);
    assert_eq!(
        error_code(&String::from_utf8_lossy(&out.stderr)).as_deref(),
        Some("stt-output-invalid")
    );
    assert_eq!(words_shown(&env, &reader, &id), 4);

    // Someone without a read of the recording gets nothing transcribed.
    let out = env.run_raw(
        &[
            "--as",
            "csi/nobody",
            "transcript",
            "transcribe",
            &id,
            "--purpose",
            "faq-content",
            "--reason",
            "x",
        ],
        &[("CALLVAULT_PASSWORD", READER_PASSWORD)],
    );
    assert!(!out.status.success());
}

/// Reads one HTTP request (headers and a Content-Length body) and answers `status` with `body`.
fn answer_one(listener: &TcpListener, status: &str, body: &str) -> (String, Vec<u8>) {
    let (stream, _) = listener.accept().unwrap();
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    let mut head = String::new();
    loop {
        let mut line = String::new();
        reader.read_line(&mut line).unwrap();
        if line == "\r\n" || line.is_empty() {
            break;
        }
        head.push_str(&line);
    }
    let length: usize = head
        .lines()
        .find_map(|l| {
            l.to_ascii_lowercase()
                .strip_prefix("content-length:")
                .map(|v| v.trim().parse().unwrap())
        })
        .expect("content-length");
    let mut payload = vec![0; length];
    reader.read_exact(&mut payload).unwrap();
    let mut stream = stream;
    write!(
        stream,
        "HTTP/1.1 {status}\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    (head, payload)
}

#[test]
fn transcribe_with_an_http_endpoint() {
    let env = Env::new(None);
    let (id, reader) = call(&env);
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let (sent, received) = mpsc::channel();
    let server = std::thread::spawn(move || {
        for status in ["200 OK", "200 OK", "503 Service Unavailable"] {
            sent.send(answer_one(&listener, status, &whisper_answer())).unwrap();
        }
    });
    set_stt(
        &env,
        &format!(
            "url = \"http://127.0.0.1:{port}/inference\"\nmultipart_field = \"file\"\n\
             form = {{ response_format = \"verbose_json\" }}\ntoken_env = \"STT_TOKEN\"\ntimeout_s = 30"
        ),
    );
    let mut full = vec!["--as", reader.as_str(), "transcript", "transcribe", &id];
    full.extend_from_slice(&["--purpose", "faq-content", "--reason", "FAQ-7"]);
    let out = env.run_raw(
        &full,
        &[
            ("CALLVAULT_PASSWORD", READER_PASSWORD),
            ("STT_TOKEN", "engine-token-123"),
        ],
    );
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    for _ in 0..2 {
        let (head, payload) = received.recv().unwrap();
        assert!(head.starts_with("POST /inference "), "{head}");
        assert!(head.contains("Bearer engine-token-123"), "{head}");
        assert!(head.to_ascii_lowercase().contains("multipart/form-data"), "{head}");
        let text = String::from_utf8_lossy(&payload);
        assert!(
            text.contains("name=\"file\"") && text.contains("RIFF"),
            "the WAV as field file"
        );
        assert!(text.contains("name=\"response_format\"") && text.contains("verbose_json"));
    }
    assert_eq!(words_shown(&env, &reader, &id), 4);

    // The engine failing: a code, nothing of the URL or token in the message.
    let out = env.run_raw(
        &full,
        &[
            ("CALLVAULT_PASSWORD", READER_PASSWORD),
            ("STT_TOKEN", "engine-token-123"),
        ],
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(error_code(&stderr).as_deref(), Some("stt-failed"), "{stderr}");
    assert!(
        stderr.contains("503") && !stderr.contains("engine-token-123"),
        "{stderr}"
    );
    server.join().unwrap();
    assert_eq!(words_shown(&env, &reader, &id), 4);
}
