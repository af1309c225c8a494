//! Helpers for the live-capture tests beside `siprec.rs` (UPDATE, flood, codecs,
//! transfer): waiting for the register, reading SIPp's message log, exporting, and
//! measuring a tone in exported audio.

use std::time::Duration;

use serde_json::Value;

use crate::support::*;

/// The tail of the server's log and SIPp's logs, for assertion messages.
pub fn context(server: &SipServer, sipp: &str) -> String {
    let log = server.log();
    let tail: String = log
        .char_indices()
        .rev()
        .nth(6000)
        .map_or(log.as_str(), |(at, _)| &log[at..])
        .to_owned();
    format!("---- sipp:\n{sipp}\n---- serve (tail):\n{tail}")
}

/// Asserts that SIPp ran its scenario to the end.
pub fn assert_sipp_ok(outcome: &SippOutcome, server: &SipServer) {
    assert!(
        outcome.success(),
        "sipp exited with {:?}\n{}",
        outcome.code,
        context(server, &outcome.log)
    );
}

/// The register, tolerating a CLI that cannot read the catalog at this instant.
pub fn try_list(env: &Env) -> Option<Vec<Value>> {
    let out = env.run(&["recordings", "list", "--json"]);
    if !out.status.success() {
        return None;
    }
    serde_json::from_slice::<Value>(&out.stdout).ok()?.as_array().cloned()
}

/// Waits (up to 15 s) for `n` sealed recordings and returns the register.
pub fn wait_sealed(env: &Env, server: &SipServer, n: usize) -> Vec<Value> {
    wait_for(Duration::from_secs(15), || {
        try_list(env).filter(|list| list.iter().filter(|r| r["state"] == "sealed").count() >= n)
    })
    .unwrap_or_else(|| {
        panic!(
            "no {n} sealed recording(s); register: {:?}\n{}",
            try_list(env),
            context(server, "")
        )
    })
}

/// The final responses in SIPp's message log that answer `method` (status line onwards).
pub fn responses_to(log: &str, method: &str) -> Vec<String> {
    let cseq = format!(" {method}");
    log.split("\n----")
        .filter_map(|message| message.find("SIP/2.0 ").map(|at| message[at..].to_owned()))
        .filter(|m| !m.starts_with("SIP/2.0 1"))
        .filter(|m| {
            m.lines()
                .any(|l| l.to_ascii_lowercase().starts_with("cseq:") && l.trim_end().ends_with(&cseq))
        })
        .collect()
}

/// The ports of the m-lines of an SDP answer, in order.
pub fn answer_ports(answer: &str) -> Vec<u16> {
    answer
        .lines()
        .filter_map(|l| l.trim().strip_prefix("m=audio "))
        .filter_map(|l| l.split(' ').next()?.parse().ok())
        .collect()
}

/// The value of header `name` in a message, if present.
pub fn header_value(message: &str, name: &str) -> Option<String> {
    let prefix = format!("{}:", name.to_ascii_lowercase());
    message
        .lines()
        .take_while(|l| !l.trim().is_empty())
        .find(|l| l.to_ascii_lowercase().starts_with(&prefix))
        .map(|l| l[prefix.len()..].trim().to_owned())
}

/// A tenant bound to `policy` whose agents are at pbx.example.com (the scenarios'
/// agent), so that customer-first calls are inbound.
pub fn tenant_with_agents(env: &Env, name: &str, policy: &str) {
    env.create_tenant(name, policy);
    env.ok(&["tenant", "set", name, "--agent-pattern", "pbx.example.com"]);
}

/// Exports `id` to `name` in the installation directory; returns the file's path.
pub fn export_file(env: &Env, id: &str, args: &[&str], name: &str) -> std::path::PathBuf {
    let out = env.path().join(name);
    let mut command = vec![
        "recordings",
        "export",
        id,
        "--out",
        out.to_str().unwrap(),
        "--purpose",
        "verify-agreement",
        "--reason",
        "e2e check of a live-recorded call",
    ];
    command.extend_from_slice(args);
    env.ok(&command);
    out
}

/// Exports `id` as WAV and returns its rate and channels.
pub fn export_wav(env: &Env, id: &str, args: &[&str], name: &str) -> (u32, Vec<Vec<i16>>) {
    wav_channels(&export_file(env, id, args, name))
}

/// The stream of `recording` with `label`.
pub fn stream<'a>(recording: &'a Value, label: &str) -> &'a Value {
    recording["streams"]
        .as_array()
        .and_then(|s| s.iter().find(|s| s["label"] == label))
        .unwrap_or_else(|| panic!("no stream labelled {label}: {recording}"))
}

pub fn duration_ms(recording: &Value) -> i64 {
    recording["duration_ms"]
        .as_i64()
        .unwrap_or_else(|| panic!("duration_ms: {recording}"))
}

/// The share (0..1) of `samples`' energy at `hz` (Goertzel over the whole run).
pub fn tone_share(samples: &[i16], rate: u32, hz: f64) -> f64 {
    if samples.is_empty() {
        return 0.0;
    }
    let w = 2.0 * std::f64::consts::PI * hz / f64::from(rate);
    let (mut s1, mut s2) = (0.0f64, 0.0f64);
    for &x in samples {
        let s0 = f64::from(x) + 2.0 * w.cos() * s1 - s2;
        s2 = s1;
        s1 = s0;
    }
    let power = s1 * s1 + s2 * s2 - 2.0 * w.cos() * s1 * s2;
    let total: f64 = samples.iter().map(|&x| f64::from(x) * f64::from(x)).sum();
    2.0 * power / (samples.len() as f64 * total.max(1.0))
}

/// The span of `samples` that is not near-silent (|s| > 500), in ms at `rate`.
pub fn sounding_ms(samples: &[i16], rate: u32) -> i64 {
    let first = samples.iter().position(|s| s.unsigned_abs() > 500);
    let last = samples.iter().rposition(|s| s.unsigned_abs() > 500);
    match (first, last) {
        (Some(first), Some(last)) => ((last - first) as i64 * 1000) / i64::from(rate),
        _ => 0,
    }
}

/// A sine of `hz` at `rate`, `ms` long, peak 8000.
pub fn tone(rate: u32, hz: f64, ms: usize) -> Vec<i16> {
    (0..ms * rate as usize / 1000)
        .map(|i| ((2.0 * std::f64::consts::PI * hz * i as f64 / f64::from(rate)).sin() * 8000.0) as i16)
        .collect()
}
