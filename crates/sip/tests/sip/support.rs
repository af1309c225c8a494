//! Shared helpers: reading data files.

use std::path::PathBuf;

/// `tests/data/<relative>`.
pub fn data_path(relative: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data")
        .join(relative)
}

/// The bytes of `tests/data/<relative>`.
pub fn data(relative: &str) -> Vec<u8> {
    let path = data_path(relative);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Every `*.sip` file under `tests/data/<dir>`, sorted.
pub fn sip_files(dir: &str) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(data_path(dir))
        .expect("data directory")
        .filter_map(|entry| entry.ok()?.file_name().into_string().ok())
        .filter(|name| name.ends_with(".sip"))
        .collect();
    names.sort();
    names
}
