//! The README's quickstart, run as written: create a tenant, ingest a WAV, list it,
//! export it, and get back the same PCM samples.

use std::process::Command;

use crate::support::*;

/// The shell block between `<!-- quickstart -->` and `<!-- /quickstart -->` in README.md.
fn quickstart_block() -> String {
    let readme = std::fs::read_to_string(repo().join("README.md")).expect("README.md");
    let start = readme.find("<!-- quickstart -->").expect("quickstart marker");
    let end = readme.find("<!-- /quickstart -->").expect("end marker");
    let block = &readme[start..end];
    let code_start = block.find("```sh\n").expect("sh block") + "```sh\n".len();
    let code_end = block[code_start..].find("```").unwrap() + code_start;
    block[code_start..code_end].to_owned()
}

#[test]
fn readme_quickstart_round_trips_the_example_call() {
    let dir = tempfile::tempdir().unwrap();
    for item in ["callvault.toml", "policies", "examples"] {
        let status = Command::new("cp")
            .args(["-r"])
            .arg(repo().join(item))
            .arg(dir.path())
            .status()
            .unwrap();
        assert!(status.success());
    }
    let bin_dir = std::path::Path::new(BIN).parent().unwrap();
    let path = format!("{}:{}", bin_dir.display(), std::env::var("PATH").unwrap_or_default());
    let out = Command::new("bash")
        .args(["-euo", "pipefail", "-c", &quickstart_block()])
        .current_dir(dir.path())
        .env("PATH", path)
        .env_remove("RUST_LOG")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "quickstart failed:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("+447700900123") && stdout.contains("inbound"),
        "the listing shows the call (Telephone Office keeps the full number):\n{stdout}"
    );
    let original = media::parse_wav(&std::fs::read(repo().join("examples/call.wav")).unwrap()).unwrap();
    let exported = media::parse_wav(&std::fs::read(dir.path().join("call-export.wav")).unwrap()).unwrap();
    assert_eq!(exported.channels, original.channels);
    assert_eq!(exported.sample_rate, original.sample_rate);
    assert_eq!(exported.data, original.data, "the same PCM samples");
}
