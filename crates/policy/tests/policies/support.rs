//! Where the policy files and the seeds are, and loading them.

use std::path::PathBuf;

use policy::{Policy, parse_policy};

/// The shipped policies: (policy id, seed number).
pub const POLICIES: [(&str, &str); 5] = [
    ("csi-works", "000"),
    ("telephone-office", "001"),
    ("arlo-europe", "002"),
    ("webeo", "003"),
    ("posti", "004"),
];

fn manifest_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// `policies/` at the workspace root.
pub fn policies_dir() -> PathBuf {
    manifest_dir().join("../../policies")
}

/// The shared seeds directory, next to the workspace.
pub fn seeds_dir() -> PathBuf {
    manifest_dir().join("../../../shared/seeds")
}

/// This crate's test data directory.
pub fn data_dir() -> PathBuf {
    manifest_dir().join("tests/data")
}

/// Reads and parses `policies/<id>.toml`, panicking with every issue if it does not validate.
pub fn load(id: &str) -> Policy {
    let path = policies_dir().join(format!("{id}.toml"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()));
    parse_policy(&format!("policies/{id}.toml"), &text)
        .unwrap_or_else(|e| panic!("policy {id} does not validate:\n{e}"))
}

/// The text of seed `NNN_*.txt`.
pub fn seed_text(number: &str) -> String {
    let dir = seeds_dir();
    let entries = std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("reading {}: {e}", dir.display()));
    let mut found = Vec::new();
    for entry in entries {
        let path = entry.expect("directory entry").path();
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or_default().to_owned();
        if name.starts_with(&format!("{number}_")) && name.ends_with(".txt") {
            found.push(path);
        }
    }
    assert_eq!(
        found.len(),
        1,
        "exactly one seed {number}_*.txt in {}: {found:?}",
        dir.display()
    );
    std::fs::read_to_string(&found[0]).unwrap_or_else(|e| panic!("reading {}: {e}", found[0].display()))
}

/// Collapses every run of whitespace to one space and trims the ends.
pub fn normalise(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}
