//! ALL-SECURITY, POSTI-FIELDS and crypto-shredding: what is on disk, and what can be
//! recovered from it.

use serde_json::json;

use crate::support::*;

/// True when `haystack` contains any 32-byte window of `needle` (taken every 16 bytes).
fn contains_any_run(haystack: &[u8], needle: &[u8]) -> bool {
    needle
        .windows(32)
        .step_by(16)
        .any(|run| haystack.windows(run.len()).any(|w| w == run))
}

#[test]
fn all_security_no_plaintext_audio_anywhere_in_the_data_directory() {
    let env = Env::new(Some("eu-eea"));
    env.posti_tenant();
    let wav = stereo_call(3);
    let pcm = media::parse_wav(&wav).unwrap().data;
    let id = env
        .ingest("posti", &wav, &meta("inbound", &["verify-agreement"], json!({})))
        .unwrap();
    let files = Env::files_under(&env.data());
    assert!(
        files.iter().any(|(p, _)| p.to_string_lossy().contains(&id)),
        "the recording's objects exist"
    );
    for (path, bytes) in &files {
        assert!(
            !bytes.windows(4).any(|w| w == b"RIFF" || w == b"WAVE"),
            "WAV header in {}",
            path.display()
        );
        assert!(
            !contains_any_run(bytes, &pcm),
            "a run of the original PCM in {}",
            path.display()
        );
    }
    // The keys live apart: the data directory holds no key file, key files are 0600.
    assert!(files.iter().all(|(p, _)| !p.to_string_lossy().contains("key")));
    for (path, _) in Env::files_under(&env.keys()) {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode & 0o077, 0, "{} is mode {mode:o}", path.display());
    }
    // And it still comes back intact.
    let out = env.path().join("out.wav");
    env.ok(&[
        "recordings",
        "export",
        &id,
        "--out",
        out.to_str().unwrap(),
        "--purpose",
        "verify-agreement",
        "--reason",
        "check",
        "--format",
        "wav-stereo",
    ]);
    assert_eq!(media::parse_wav(&std::fs::read(out).unwrap()).unwrap().data, pcm);
}

#[test]
fn all_security_a_tampered_object_is_detected_on_read() {
    let env = Env::new(Some("eu-eea"));
    env.posti_tenant();
    let id = env
        .ingest(
            "posti",
            &stereo_call(2),
            &meta("inbound", &["verify-agreement"], json!({})),
        )
        .unwrap();
    let (path, mut bytes) = Env::files_under(&env.data().join("objects"))
        .into_iter()
        .find(|(p, _)| p.ends_with("1.cvs"))
        .unwrap();
    let middle = bytes.len() / 2;
    bytes[middle] ^= 0x01;
    std::fs::write(&path, &bytes).unwrap();
    let out = env.path().join("out.wav");
    let export = [
        "recordings",
        "export",
        &id,
        "--out",
        out.to_str().unwrap(),
        "--purpose",
        "verify-agreement",
        "--reason",
        "check",
    ];
    assert_eq!(env.fails(&export), "integrity-failure");
    assert!(!out.exists(), "nothing is written when integrity fails");
    // A stream that lost its tail is detected too.
    bytes[middle] ^= 0x01;
    std::fs::write(&path, &bytes[..bytes.len() - 40]).unwrap();
    assert_eq!(env.fails(&export), "integrity-failure");
}

#[test]
fn all_security_a_wrong_master_key_is_refused() {
    let env = Env::new(Some("eu-eea"));
    env.posti_tenant();
    std::fs::write(env.keys().join("master.key"), "11".repeat(32)).unwrap();
    assert_eq!(env.fails(&["recordings", "list"]), "wrong-master-key");
}

#[test]
fn all_retention_erasure_crypto_shreds_so_a_backup_of_catalog_and_objects_is_useless() {
    let env = Env::new(Some("eu-eea"));
    env.posti_tenant();
    let id = env
        .ingest(
            "posti",
            &stereo_call(1),
            &meta("inbound", &["verify-agreement"], json!({})),
        )
        .unwrap();
    // A "backup" of the data directory (catalog and objects), taken before the erasure.
    let reader = env.reader("posti");
    let backup = tempfile::tempdir().unwrap();
    for (path, bytes) in Env::files_under(&env.data()) {
        let relative = path.strip_prefix(env.data()).unwrap();
        let target = backup.path().join(relative);
        std::fs::create_dir_all(target.parent().unwrap()).unwrap();
        std::fs::write(target, bytes).unwrap();
    }
    env.ok(&["recordings", "erase", &id, "--reason", "test erasure"]);
    assert!(env.list().is_empty());
    let erase = env
        .audit()
        .into_iter()
        .find(|e| e["action"] == "recording.erase")
        .expect("audited");
    assert_eq!(erase["recording_id"], id.as_str());
    // The restored backup with the current key directory cannot be decrypted.
    let out = env.path().join("restored.wav");
    let restored = env.run_raw(
        &[
            "--as",
            &reader,
            "--data",
            backup.path().to_str().unwrap(),
            "recordings",
            "export",
            &id,
            "--out",
            out.to_str().unwrap(),
            "--purpose",
            "verify-agreement",
            "--reason",
            "restore test",
        ],
        &[("CALLVAULT_PASSWORD", READER_PASSWORD)],
    );
    assert!(!restored.status.success());
    assert_eq!(
        error_code(&String::from_utf8_lossy(&restored.stderr)).as_deref(),
        Some("recording-erased")
    );
    assert!(!out.exists());
    // And the objects are gone from the live store; a tombstone remains without personal data.
    assert!(
        Env::files_under(&env.data().join("objects"))
            .iter()
            .all(|(p, _)| !p.to_string_lossy().contains(&id))
    );
}

#[test]
fn posti_fields_full_number_appears_nowhere_in_data_directory_logs_or_audit() {
    let env = Env::new(Some("eu-eea"));
    env.posti_tenant();
    // One call given in E.164, one in national form; both the same person.
    let numbers = ["+358401234567", "040 123 4567"];
    for number in numbers {
        let call = meta(
            "inbound",
            &["verify-agreement"],
            json!({"customer_number": number, "participants": [{"role": "customer", "name": "Kalle Kund", "number": number, "channel": 0}, {"role": "agent", "name": "Anna", "channel": 1}]}),
        );
        let audio = env.write("p.wav", &stereo_call(1));
        let meta = env.write("p.json", call.to_string().as_bytes());
        let out = env.run_env(
            &["ingest", &audio, "--tenant", "posti", "--meta", &meta],
            &[("RUST_LOG", "trace")],
        );
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        let logs = String::from_utf8_lossy(&out.stderr);
        for form in ["358401234567", "0401234567", "401234567", "123 4567"] {
            assert!(!logs.contains(form), "log contains {form}");
        }
    }
    let listed = env.list();
    assert_eq!(listed.len(), 2);
    for r in &listed {
        assert_eq!(r["customer_number"], "+358401234xxx", "last three digits masked");
        assert_eq!(r["service_number"], "+442080999077");
        assert_eq!(r["agent"], "Alex Agent");
    }
    // The person can still be found by number (ALL-DSAR), in either form.
    for number in numbers {
        let found = env.json(&[
            "recordings",
            "list",
            "--tenant",
            "posti",
            "--customer-number",
            number,
            "--purpose",
            "verify-agreement",
            "--reason",
            "DSAR 17",
            "--json",
        ]);
        assert_eq!(found.as_array().unwrap().len(), 2);
    }
    let audit = env.ok(&["audit", "export"]);
    for (path, bytes) in Env::files_under(&env.data())
        .into_iter()
        .chain([(env.path().join("audit"), audit.into_bytes())])
    {
        for form in ["358401234567", "0401234567", "401234567"] {
            assert!(
                !bytes.windows(form.len()).any(|w| w == form.as_bytes()),
                "{form} found in {}",
                path.display()
            );
        }
        // The customer's name is not one of Posti's register fields.
        assert!(
            !bytes.windows(10).any(|w| w == b"Kalle Kund"),
            "customer name found in {}",
            path.display()
        );
    }
}
