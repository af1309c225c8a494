//! Bad input gets a clear error and leaves the vault consistent: nothing half-written
//! becomes visible, no orphan object stays behind.

use serde_json::json;

use crate::support::*;

fn posti() -> Env {
    let env = Env::new(Some("eu-eea"));
    env.create_tenant("posti", "posti");
    env
}

fn assert_vault_empty(env: &Env) {
    assert!(env.list().is_empty(), "nothing visible");
    let objects = Env::files_under(&env.data().join("objects"));
    assert!(
        objects.is_empty(),
        "no orphan objects: {:?}",
        objects.iter().map(|(p, _)| p).collect::<Vec<_>>()
    );
}

#[test]
fn bad_audio_is_refused_with_a_code() {
    let env = posti();
    let good = stereo_call(1);
    let mut mp3 = good.clone();
    mp3[20] = 0x55; // format tag 85: MPEG Layer 3
    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        ("empty file", vec![], "wav-empty"),
        ("not a WAV", b"ID3\x03\x00 this is an mp3".to_vec(), "wav-not-riff"),
        ("truncated", good[..good.len() / 2].to_vec(), "wav-truncated"),
        ("unknown codec", mp3, "wav-unsupported-codec"),
        ("header cut off", good[..44].to_vec(), "wav-truncated"),
        ("no samples", wav_pcm16(&[vec![]]), "wav-no-data"),
        (
            "random bytes",
            samples(9, 4000).iter().flat_map(|s| s.to_le_bytes()).collect(),
            "wav-not-riff",
        ),
    ];
    for (what, bytes, code) in cases {
        let result = env.ingest("posti", &bytes, &meta("inbound", &["verify-agreement"], json!({})));
        assert_eq!(result, Err(code.to_owned()), "{what}");
    }
    assert_vault_empty(&env);
}

#[test]
fn bad_metadata_is_refused_without_echoing_values() {
    let env = posti();
    let wav = stereo_call(1);
    let mut missing = meta("inbound", &["verify-agreement"], json!({}));
    missing.as_object_mut().unwrap().remove("started_at");
    let cases: Vec<(&str, serde_json::Value, &str)> = vec![
        ("missing started_at", missing, "meta-invalid"),
        (
            "bad direction",
            meta("sideways", &["verify-agreement"], json!({})),
            "meta-invalid",
        ),
        (
            "number as a JSON number",
            meta(
                "inbound",
                &["verify-agreement"],
                json!({"customer_number": 358401234567u64}),
            ),
            "meta-invalid",
        ),
        (
            "unknown field",
            meta("inbound", &["verify-agreement"], json!({"colour": "blue"})),
            "meta-invalid",
        ),
        (
            "bad time",
            meta("inbound", &["verify-agreement"], json!({"started_at": "yesterday"})),
            "meta-invalid",
        ),
        (
            "channel out of range",
            meta(
                "inbound",
                &["verify-agreement"],
                json!({"participants": [{"role": "customer", "channel": 5}]}),
            ),
            "meta-invalid",
        ),
        (
            "not a number",
            meta(
                "inbound",
                &["verify-agreement"],
                json!({"customer_number": "call me maybe"}),
            ),
            "customer-number-invalid",
        ),
        (
            "national number, no country",
            meta(
                "inbound",
                &["verify-agreement"],
                json!({"customer_number": "040 123 4567"}),
            ),
            "customer-number-invalid",
        ),
        ("no purpose", meta("inbound", &[], json!({})), "purpose-required"),
        (
            "unknown purpose",
            meta("inbound", &["gossip"], json!({})),
            "purpose-not-in-policy",
        ),
        (
            "bad consent digit",
            meta(
                "inbound",
                &["verify-agreement"],
                json!({"consent": {"granted": true, "digit": "12"}}),
            ),
            "meta-invalid",
        ),
    ];
    for (what, meta, code) in cases {
        assert_eq!(env.ingest("posti", &wav, &meta), Err(code.to_owned()), "{what}");
    }
    // The message names the field but never repeats the number.
    let file = env.write(
        "m.json",
        meta(
            "inbound",
            &["verify-agreement"],
            json!({"customer_number": 358401234567u64}),
        )
        .to_string()
        .as_bytes(),
    );
    let audio = env.write("a.wav", &wav);
    let out = env.run(&["ingest", &audio, "--tenant", "posti", "--meta", &file]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("customer_number") && !stderr.contains("358401234567"),
        "{stderr}"
    );
    // Malformed JSON.
    let broken = env.write("b.json", b"{\"direction\": ");
    let out = env.run(&["ingest", &audio, "--tenant", "posti", "--meta", &broken]);
    assert_eq!(
        error_code(&String::from_utf8_lossy(&out.stderr)).as_deref(),
        Some("meta-invalid")
    );
    assert_vault_empty(&env);
}

#[test]
fn unknown_tenant_and_missing_files_are_clear_errors() {
    let env = posti();
    assert_eq!(
        env.ingest(
            "nobody",
            &stereo_call(1),
            &meta("inbound", &["verify-agreement"], json!({}))
        ),
        Err("tenant-unknown".into())
    );
    let out = env.run(&[
        "ingest",
        "/nonexistent.wav",
        "--tenant",
        "posti",
        "--meta",
        "/nonexistent.json",
    ]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("cannot read /nonexistent.wav"));
    assert_eq!(env.fails(&["recordings", "show", "not-a-uuid"]), "not-found");
    assert_eq!(
        env.fails(&["recordings", "show", "0190d6d8-0000-7000-8000-000000000000"]),
        "not-found"
    );
    assert_eq!(
        env.fails(&["tenant", "set", "posti", "--retention", "forever"]),
        "retention-fixed-by-policy"
    );
    assert_eq!(
        env.fails(&["tenant", "set", "posti", "--country", "XX"]),
        "country-invalid"
    );
    assert_eq!(
        env.fails(&[
            "tenant",
            "create",
            "Bad Name",
            "--policy",
            policy_file("posti").to_str().unwrap()
        ]),
        "tenant-name-invalid"
    );
    assert_eq!(
        env.fails(&[
            "tenant",
            "create",
            "posti",
            "--policy",
            policy_file("posti").to_str().unwrap()
        ]),
        "conflict"
    );
    // clap names the bad argument.
    let out = env.run(&[
        "recordings",
        "export",
        "x",
        "--out",
        "y",
        "--purpose",
        "p",
        "--reason",
        "r",
        "--format",
        "mp3",
    ]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("--format"));
    let out = env.run(&["recordings", "list", "--from", "last tuesday"]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("--from"));
    assert_vault_empty(&env);
}

#[test]
fn a_broken_policy_names_file_line_and_field() {
    let env = Env::new(None);
    let text = std::fs::read_to_string(policy_file("arlo-europe"))
        .unwrap()
        .replace("mechanism = \"dtmf-opt-in\"", "mechanism = \"dtmf\"");
    let line = text
        .lines()
        .position(|l| l.starts_with("mechanism = \"dtmf\""))
        .unwrap()
        + 1;
    let file = env.write("broken.toml", text.as_bytes());
    let out = env.run(&["policy", "check", &file]);
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains(&format!("broken.toml:{line}: consent.mechanism:")),
        "{stderr}"
    );
    assert_eq!(error_code(&stderr).as_deref(), Some("policy-invalid"));
    // A tenant cannot be bound to it either.
    assert_eq!(
        env.fails(&["tenant", "create", "arlo", "--policy", &file]),
        "policy-invalid"
    );
    let config = env.write("bad.toml", b"[storage]\nregoin = \"uk\"\n");
    let out = env.run(&["--config", &config, "recordings", "list"]);
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("bad.toml:2"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn policy_cedar_rules_that_do_not_type_check_are_refused_at_load() {
    let env = Env::new(Some("eu-eea"));
    let text = std::fs::read_to_string(policy_file("posti")).unwrap().replace(
        "[access]\n",
        "[access]\ncedar = \"\"\"permit(principal, action, resource) when { principal.shoe_size > 3 };\"\"\"\n",
    );
    assert!(text.contains("shoe_size"), "the access table exists");
    let file = env.write("cedar.toml", text.as_bytes());
    let out = env.run(&["policy", "check", &file]);
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("cedar.toml: access.cedar"), "{stderr}");
    assert_eq!(error_code(&stderr).as_deref(), Some("policy-invalid"));
    assert_eq!(
        env.fails(&["tenant", "create", "posti", "--policy", &file]),
        "policy-invalid"
    );
    // The shipped file itself compiles.
    env.ok(&["policy", "check", policy_file("posti").to_str().unwrap()]);
}
