//! Test support: a fresh data and key directory, the real `callvault` binary, and
//! generated audio and metadata.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

pub const BIN: &str = env!("CARGO_BIN_EXE_callvault");

/// The repository root (for `policies/` and `examples/`).
pub fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .expect("repo root")
}

pub fn policy_file(name: &str) -> PathBuf {
    repo().join("policies").join(format!("{name}.toml"))
}

/// One isolated installation: its own working directory, data and keys.
pub struct Env {
    pub dir: tempfile::TempDir,
}

impl Env {
    /// A fresh installation whose object store declares `region`.
    pub fn new(region: Option<&str>) -> Self {
        let dir = tempfile::tempdir().expect("tempdir");
        if let Some(region) = region {
            std::fs::write(
                dir.path().join("callvault.toml"),
                format!("[storage]\nregion = \"{region}\"\n"),
            )
            .unwrap();
        }
        Env { dir }
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    pub fn data(&self) -> PathBuf {
        self.path().join("data")
    }

    pub fn keys(&self) -> PathBuf {
        self.path().join("keys")
    }

    /// Runs the binary in this installation's directory (so its callvault.toml applies).
    pub fn run(&self, args: &[&str]) -> Output {
        self.run_env(args, &[])
    }

    pub fn run_env(&self, args: &[&str], env: &[(&str, &str)]) -> Output {
        let mut command = Command::new(BIN);
        command.current_dir(self.path()).args(args).env_remove("RUST_LOG");
        for (k, v) in env {
            command.env(k, v);
        }
        command.output().expect("run callvault")
    }

    /// Runs and expects success; returns stdout.
    pub fn ok(&self, args: &[&str]) -> String {
        let out = self.run(args);
        assert!(
            out.status.success(),
            "callvault {args:?} failed: {}\n{}",
            String::from_utf8_lossy(&out.stderr),
            String::from_utf8_lossy(&out.stdout)
        );
        String::from_utf8(out.stdout).expect("utf-8 stdout")
    }

    /// Runs and expects failure; returns the error code printed as `error[CODE]`.
    pub fn fails(&self, args: &[&str]) -> String {
        let out = self.run(args);
        assert!(
            !out.status.success(),
            "callvault {args:?} should fail but printed {}",
            String::from_utf8_lossy(&out.stdout)
        );
        let stderr = String::from_utf8_lossy(&out.stderr).to_string();
        assert_eq!(
            stderr.trim().lines().filter(|l| l.contains("error")).count(),
            1,
            "one error line: {stderr}"
        );
        error_code(&stderr).unwrap_or_else(|| stderr.trim().to_owned())
    }

    pub fn json(&self, args: &[&str]) -> Value {
        serde_json::from_str(&self.ok(args)).expect("JSON output")
    }

    pub fn create_tenant(&self, name: &str, policy: &str) {
        let file = policy_file(policy);
        self.ok(&["tenant", "create", name, "--policy", file.to_str().unwrap()]);
    }

    /// Writes a file in the installation directory and returns its path as a string.
    pub fn write(&self, name: &str, bytes: &[u8]) -> String {
        let path = self.path().join(name);
        std::fs::write(&path, bytes).unwrap();
        path.to_str().unwrap().to_owned()
    }

    /// Ingests `wav` with `meta`; Ok(id) or Err(code).
    pub fn ingest(&self, tenant: &str, wav: &[u8], meta: &Value) -> Result<String, String> {
        let audio = self.write("in.wav", wav);
        let meta = self.write("in.meta.json", meta.to_string().as_bytes());
        let out = self.run(&["ingest", &audio, "--tenant", tenant, "--meta", &meta]);
        if out.status.success() {
            Ok(String::from_utf8(out.stdout).unwrap().trim().to_owned())
        } else {
            let stderr = String::from_utf8_lossy(&out.stderr);
            Err(error_code(&stderr).unwrap_or_else(|| stderr.trim().to_owned()))
        }
    }

    pub fn list(&self) -> Vec<Value> {
        self.json(&["recordings", "list", "--json"])
            .as_array()
            .expect("array")
            .clone()
    }

    pub fn audit(&self) -> Vec<Value> {
        self.ok(&["audit", "export"])
            .lines()
            .map(|l| serde_json::from_str(l).expect("JSON line"))
            .collect()
    }

    /// Every regular file under `dir`, with its bytes.
    pub fn files_under(dir: &Path) -> Vec<(PathBuf, Vec<u8>)> {
        let mut out = Vec::new();
        let mut stack = vec![dir.to_owned()];
        while let Some(d) = stack.pop() {
            for entry in std::fs::read_dir(&d).unwrap().flatten() {
                let path = entry.path();
                if path.is_dir() {
                    stack.push(path);
                } else {
                    out.push((path.clone(), std::fs::read(&path).unwrap()));
                }
            }
        }
        out
    }
}

/// The code in a `callvault: error[CODE]: ...` line.
pub fn error_code(stderr: &str) -> Option<String> {
    let start = stderr.find("error[")? + "error[".len();
    let end = stderr[start..].find(']')? + start;
    Some(stderr[start..end].to_owned())
}

/// A deterministic noise-like PCM16 sample sequence (so any run of it is distinctive).
pub fn samples(seed: u32, count: usize) -> Vec<i16> {
    let mut x = seed.wrapping_mul(2_654_435_761).max(1);
    (0..count)
        .map(|i| {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            ((f64::from(i as u32) * 0.07).sin() * 6000.0) as i16 + (x % 2000) as i16 - 1000
        })
        .collect()
}

/// A PCM16 WAV with one channel per element of `channels`.
pub fn wav_pcm16(channels: &[Vec<i16>]) -> Vec<u8> {
    media::write_wav_pcm16(8000, channels)
}

/// A two-channel (customer, agent) call of `seconds`.
pub fn stereo_call(seconds: usize) -> Vec<u8> {
    wav_pcm16(&[samples(1, 8000 * seconds), samples(2, 8000 * seconds)])
}

/// Metadata for a call, with the fields every policy needs and `extra` merged in.
pub fn meta(direction: &str, purposes: &[&str], extra: Value) -> Value {
    let mut meta = serde_json::json!({
        "direction": direction,
        "started_at": "2026-11-20T10:00:00Z",
        "customer_number": "+447700900123",
        "service_number": "+442080999077",
        "agent": "Alex Agent",
        "purposes": purposes,
        "participants": [
            {"role": "customer", "channel": 0},
            {"role": "agent", "name": "Alex Agent", "channel": 1}
        ]
    });
    if let (Some(base), Some(extra)) = (meta.as_object_mut(), extra.as_object()) {
        for (k, v) in extra {
            base.insert(k.clone(), v.clone());
        }
    }
    meta
}
