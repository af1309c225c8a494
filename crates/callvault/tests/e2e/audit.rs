//! The audit log end to end (issue 4, ARLO-SECURITY): the real binary on a real catalog
//! file. An untouched log verifies; a byte flipped on disk, a deleted, swapped or cut-off
//! event, a forged or foreign checkpoint make `audit verify` exit non-zero naming the
//! event; repeated denials raise one alert that `audit alerts` reports.

use serde_json::Value;

use crate::support::*;

/// Posti's tenant plus `n` more `tenant.set` events (2 + n events in all).
fn with_events(n: usize) -> Env {
    let env = Env::new(Some("eu-eea"));
    env.posti_tenant();
    for i in 0..n {
        env.ok(&[
            "tenant",
            "set",
            "posti",
            "--country",
            if i % 2 == 0 { "SE" } else { "FI" },
        ]);
    }
    env
}

/// `audit verify [args]` fails with `audit-chain-broken`; returns its message.
fn verify_fails(env: &Env, args: &[&str]) -> String {
    let out = env.run(&[&["audit", "verify"], args].concat());
    let stderr = String::from_utf8_lossy(&out.stderr).to_string();
    assert!(
        !out.status.success(),
        "verify passed: {}",
        String::from_utf8_lossy(&out.stdout)
    );
    assert_eq!(error_code(&stderr).as_deref(), Some("audit-chain-broken"), "{stderr}");
    stderr
}

#[test]
fn an_untouched_log_verifies_and_a_byte_flipped_on_disk_is_named() {
    let env = with_events(4);
    let verified = env.ok(&["audit", "verify"]);
    assert!(verified.contains("audit chain ok: 6 events"), "{verified}");
    let report: Value = serde_json::from_str(&env.ok(&["audit", "verify", "--json"])).unwrap();
    assert_eq!(
        (report["ok"].clone(), report["events"].clone()),
        (Value::Bool(true), 6.into())
    );

    // Event 4's time, as stored, appears once in the audit file: change one digit.
    let at = env.audit()[3]["at"].as_str().unwrap().to_owned();
    let stored = chrono::DateTime::parse_from_rfc3339(&at)
        .unwrap()
        .format("%Y-%m-%dT%H:%M:%S%.6fZ")
        .to_string();
    let file = env.data().join("catalog.audit.sqlite");
    let mut bytes = std::fs::read(&file).unwrap();
    let positions: Vec<usize> = bytes
        .windows(stored.len())
        .enumerate()
        .filter(|(_, w)| *w == stored.as_bytes())
        .map(|(i, _)| i)
        .collect();
    assert_eq!(positions.len(), 1, "event 4's time is stored once in the file");
    let digit = positions[0] + stored.len() - 2;
    bytes[digit] = if bytes[digit] == b'1' { b'2' } else { b'1' };
    std::fs::write(&file, bytes).unwrap();

    let message = verify_fails(&env, &[]);
    assert!(
        message.contains("event 4: its content does not match its hash"),
        "{message}"
    );
}

/// Each tampering, as SQL on the audit file, and the event the error must name.
#[test]
fn deleted_swapped_and_cut_off_events_are_named() {
    let cases: [(&str, &[&str], &str); 3] = [
        (
            "delete one",
            &["DELETE FROM audit_log WHERE seq = 3"],
            "event 3: is missing (deleted",
        ),
        (
            "swap two",
            &[
                "UPDATE audit_log SET seq = -1 WHERE seq = 2",
                "UPDATE audit_log SET seq = 2 WHERE seq = 5",
                "UPDATE audit_log SET seq = 5 WHERE seq = -1",
            ],
            "event 2: holds the record of event 5",
        ),
        (
            "truncate the tail",
            &["DELETE FROM audit_log WHERE seq > 4"],
            "event 5: is missing (truncated",
        ),
    ];
    for (name, statements, expected) in cases {
        let env = with_events(4);
        env.ok(&[
            "audit",
            "checkpoint",
            "--out",
            env.path().join("kept.json").to_str().unwrap(),
        ]);
        audit_sql(&env, statements);
        let message = verify_fails(&env, &[]);
        assert!(message.contains(expected), "{name}: {message}");
    }
}

#[test]
fn a_kept_checkpoint_catches_a_rewritten_tail_and_forged_checkpoints_are_refused() {
    let env = with_events(3);
    let kept = env.path().join("kept.json");
    let printed = env.ok(&["audit", "checkpoint", "--out", kept.to_str().unwrap()]);
    assert!(printed.contains("checkpoint of event 5"), "{printed}");
    let file: Value = serde_json::from_str(&std::fs::read_to_string(&kept).unwrap()).unwrap();
    assert_eq!(file["seq"], 5);
    for field in ["hash", "at", "key_id", "public_key", "signature"] {
        assert!(file[field].is_string(), "{field}");
    }
    env.ok(&["tenant", "set", "posti", "--country", "SE"]);
    let extends = env.ok(&["audit", "verify", "--checkpoint", kept.to_str().unwrap()]);
    assert!(extends.contains("extends the kept checkpoint of event 5"), "{extends}");

    // The head altered in the file: the signature no longer verifies.
    let mut altered = file.clone();
    altered["seq"] = 4.into();
    let altered_file = env.write("altered.json", altered.to_string().as_bytes());
    let message = verify_fails(&env, &["--checkpoint", &altered_file]);
    assert!(
        message.contains("event 4: the signature of the kept checkpoint does not verify"),
        "{message}"
    );

    // A checkpoint of another installation (its own key): signed, but not by this log's key.
    let other = with_events(3);
    let foreign = other.path().join("foreign.json");
    other.ok(&["audit", "checkpoint", "--out", foreign.to_str().unwrap()]);
    let message = verify_fails(&env, &["--checkpoint", foreign.to_str().unwrap()]);
    assert!(message.contains("which is not this log's key"), "{message}");

    // Whoever holds the data directory drops everything from event 4 on, with the stored
    // checkpoints: only the kept checkpoint tells.
    audit_sql(
        &env,
        &["DELETE FROM audit_log WHERE seq >= 4", "DELETE FROM audit_checkpoints"],
    );
    assert!(env.ok(&["audit", "verify"]).contains("audit chain ok: 3 events"));
    let message = verify_fails(&env, &["--checkpoint", kept.to_str().unwrap()]);
    assert!(message.contains("event 4: is missing (truncated"), "{message}");
}

#[test]
fn arlo_security_repeated_denied_searches_raise_one_alert_in_the_report() {
    let env = Env::new(Some("eu-eea"));
    env.create_tenant("arlo", "arlo-europe");
    let search = [
        "recordings",
        "list",
        "--tenant",
        "arlo",
        "--customer-number",
        "+447700900123",
        "--purpose",
        "marketing",
        "--reason",
        "curious",
    ];
    for _ in 0..7 {
        assert!(!env.run(&search).status.success());
    }
    let events = env.audit();
    let denied = events.iter().filter(|e| e["outcome"] == "denied").count();
    assert_eq!(denied, 7, "every denied search is audited");
    let alerts: Vec<&Value> = events.iter().filter(|e| e["action"] == "audit.alert").collect();
    assert_eq!(
        alerts.len(),
        1,
        "one alert when the denials first exceed 5 in 10 minutes"
    );
    assert_eq!(alerts[0]["detail"]["denials"], 6);

    let report: Value = serde_json::from_str(&env.ok(&["audit", "alerts", "--json"])).unwrap();
    let user = &report["users"][0];
    assert_eq!((user["denials"].clone(), user["alerts"].clone()), (7.into(), 1.into()));
    assert_eq!(report["alerts"].as_array().unwrap().len(), 1);
    let text = env.ok(&["audit", "alerts"]);
    assert!(text.contains("7 denied") && text.contains("1 alert(s)"), "{text}");
    // A period before any of it reports nothing.
    let before = env.ok(&["audit", "alerts", "--to", "2000-01-01T00:00:00Z"]);
    assert!(before.contains("no denied attempts"), "{before}");
    assert!(env.ok(&["audit", "verify"]).contains("audit chain ok"));

    // The threshold and window come from `[audit]` in callvault.toml.
    let strict = Env::new(Some("eu-eea"));
    let config = strict.path().join("callvault.toml");
    let text = std::fs::read_to_string(&config).unwrap();
    std::fs::write(
        &config,
        format!("{text}[audit]\nalert_denials = 2\nalert_window_s = 3600\n"),
    )
    .unwrap();
    strict.create_tenant("arlo", "arlo-europe");
    for _ in 0..3 {
        assert!(!strict.run(&search).status.success());
    }
    let alerts: Vec<Value> = strict
        .audit()
        .into_iter()
        .filter(|e| e["action"] == "audit.alert")
        .collect();
    assert_eq!(alerts.len(), 1);
    assert_eq!(
        (
            alerts[0]["detail"]["denials"].clone(),
            alerts[0]["detail"]["threshold"].clone()
        ),
        (3.into(), 2.into())
    );
}

#[test]
fn export_writes_json_lines_for_a_period() {
    let env = with_events(2);
    let all = env.audit();
    assert_eq!(all.len(), 4);
    let from = all[1]["at"].as_str().unwrap();
    let to = all[2]["at"].as_str().unwrap();
    let lines = env.ok(&["audit", "export", "--from", from, "--to", to, "--json"]);
    let seqs: Vec<i64> = lines
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap()["seq"].as_i64().unwrap())
        .collect();
    assert_eq!(seqs, vec![2, 3]);
    assert_eq!(all[2]["prev_hash"], all[1]["hash"]);
}
