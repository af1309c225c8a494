//! Shared set-up for the Foundation (issue 2) benches: a service over a temporary data
//! directory on the same disk as the checkout, the Posti tenant, synthetic audio, a
//! small deterministic PRNG and percentiles. Each bench uses a part of it.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::time::Duration;

use chrono::{DateTime, TimeZone, Utc};
use governance::Actor;
use media::{SampleEncoding, WavAudio};
use service::{Service, ServiceSettings, TenantChange};

/// The allocator the `callvault` binary runs with (`crates/callvault/src/main.rs`), so
/// that the benches measure the service as it is shipped.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// The workspace root (benches run with the package directory as working directory).
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .expect("workspace root")
}

/// A temporary directory under `target/`, i.e. on the same disk as the checkout.
pub fn bench_dir(label: &str) -> tempfile::TempDir {
    let base = workspace_root().join("target").join("bench-tmp");
    std::fs::create_dir_all(&base).expect("create target/bench-tmp");
    tempfile::Builder::new()
        .prefix(label)
        .tempdir_in(base)
        .expect("tempdir")
}

/// The fixed "now" of every bench (the service takes time as a parameter).
pub fn bench_now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 6, 1, 12, 0, 0).unwrap()
}

pub fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("tokio runtime")
}

/// Opens the service over `dir/data` (keys in `dir/keys`) as an earlier run left it.
pub async fn open_service(dir: &Path) -> Service {
    let settings = ServiceSettings {
        storage_region: Some("eu-eea".into()),
        chunk_ms: 1000,
    };
    Service::open(&dir.join("data"), &dir.join("keys"), settings)
        .await
        .expect("open service")
}

/// Opens a service over `dir/data` (keys in `dir/keys`) with the Posti tenant (country
/// FI) created from `policies/posti.toml`, as the operator would set it up.
pub async fn posti_service(dir: &Path) -> Service {
    let service = open_service(dir).await;
    let text = std::fs::read_to_string(workspace_root().join("policies/posti.toml")).expect("read posti.toml");
    let now = bench_now();
    service
        .create_tenant("posti", "policies/posti.toml", &text, &Actor::LocalAdministrator, now)
        .await
        .expect("create tenant posti");
    service
        .set_tenant(
            "posti",
            TenantChange {
                country: Some("FI".into()),
                ..Default::default()
            },
            &Actor::LocalAdministrator,
            now,
        )
        .await
        .expect("set tenant posti");
    service
}

/// xorshift64*: deterministic, dependency-free, good enough for test data.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }

    pub fn next_u64(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// Uniform in `0..n` (n > 0; the bias is irrelevant here).
    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n
    }
}

/// Speech-like 16-bit samples: a few drifting tones under an envelope, plus noise, so
/// that the bytes are not trivially repetitive.
pub fn synth_pcm16(frames: usize, sample_rate: u32, seed: u64) -> Vec<i16> {
    let mut rng = Rng::new(seed);
    let sr = f64::from(sample_rate);
    let base = 110.0 + (seed % 97) as f64;
    (0..frames)
        .map(|i| {
            let t = i as f64 / sr;
            let envelope = 0.5 + 0.5 * (2.0 * std::f64::consts::PI * 3.1 * t).sin().abs();
            let voice = (2.0 * std::f64::consts::PI * base * t).sin() * 0.5
                + (2.0 * std::f64::consts::PI * base * 2.7 * t).sin() * 0.25
                + (2.0 * std::f64::consts::PI * base * 5.3 * t).sin() * 0.1;
            let noise = (rng.below(2001) as f64 - 1000.0) / 1000.0 * 0.05;
            ((voice * envelope + noise) * 12_000.0) as i16
        })
        .collect()
}

/// Raw sample bytes of `seconds` of `channels` channels in `encoding` (interleaved).
pub fn synth_audio(encoding: SampleEncoding, sample_rate: u32, channels: u16, seconds: u32, seed: u64) -> Vec<u8> {
    let frames = sample_rate as usize * seconds as usize;
    let per_channel: Vec<Vec<i16>> = (0..channels)
        .map(|c| synth_pcm16(frames, sample_rate, seed.wrapping_add(u64::from(c) * 7919)))
        .collect();
    let mut interleaved = Vec::with_capacity(frames * usize::from(channels));
    for i in 0..frames {
        for channel in &per_channel {
            interleaved.push(channel[i]);
        }
    }
    media::encode_from_pcm16(encoding, &interleaved)
}

/// A complete WAV file.
pub fn wav_file(encoding: SampleEncoding, sample_rate: u32, channels: u16, data: Vec<u8>) -> Vec<u8> {
    media::write_wav(&WavAudio {
        encoding,
        sample_rate,
        channels,
        data,
    })
}

/// The `q`-quantile (0..=1) of sorted durations, nearest rank.
pub fn percentile(sorted: &[Duration], q: f64) -> Duration {
    assert!(!sorted.is_empty());
    let rank = ((q * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len());
    sorted[rank - 1]
}

/// Latency percentiles of one path.
pub struct Stats {
    pub p50: Duration,
    pub p90: Duration,
    pub p99: Duration,
    pub max: Duration,
    pub mean: Duration,
}

/// The percentiles of `times` (any order; at least one).
pub fn stats(mut times: Vec<Duration>) -> Stats {
    times.sort();
    let mean = times.iter().sum::<Duration>() / u32::try_from(times.len()).unwrap_or(u32::MAX);
    Stats {
        p50: percentile(&times, 0.5),
        p90: percentile(&times, 0.9),
        p99: percentile(&times, 0.99),
        max: *times.last().expect("some times"),
        mean,
    }
}

/// CPU time this process has used so far (user, system), from `/proc/self/stat`, so
/// that a phase can be judged by the CPU it takes as well as by its latencies (which
/// swing with whatever else the machine runs).
pub fn process_cpu() -> (Duration, Duration) {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    // Fields after the command name (which may hold spaces) ends with ')'.
    let rest = stat.rsplit_once(')').map_or("", |(_, r)| r);
    let fields: Vec<u64> = rest.split_whitespace().map(|f| f.parse().unwrap_or(0)).collect();
    // utime and stime are fields 14 and 15 of the line: 11 and 12 counting from the
    // state (field 3) as 0. Clock ticks of 10 ms (USER_HZ is 100 on Linux).
    let ticks = |i: usize| Duration::from_millis(fields.get(i).copied().unwrap_or(0) * 10);
    (ticks(11), ticks(12))
}

pub fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// Prints a Markdown table of latency percentiles, one row per labelled path.
pub fn print_latency_table(rows: &[(&str, &Stats)]) {
    println!("| path | p50 ms | p90 ms | p99 ms | max ms | mean ms |");
    println!("|------|-------:|-------:|-------:|-------:|--------:|");
    for (label, s) in rows {
        println!(
            "| {label} | {:.3} | {:.3} | {:.3} | {:.3} | {:.3} |",
            ms(s.p50),
            ms(s.p90),
            ms(s.p99),
            ms(s.max),
            ms(s.mean)
        );
    }
}

/// A count from the first CLI argument that parses as a number, else `env`, else `default`.
pub fn count_arg(env: &str, default: usize) -> usize {
    std::env::args()
        .skip(1)
        .find_map(|a| a.replace('_', "").parse().ok())
        .or_else(|| std::env::var(env).ok().and_then(|v| v.replace('_', "").parse().ok()))
        .unwrap_or(default)
}

/// Size of a directory tree in bytes.
pub fn dir_bytes(path: &Path) -> u64 {
    let mut total = 0;
    if let Ok(entries) = std::fs::read_dir(path) {
        for entry in entries.flatten() {
            match entry.file_type() {
                Ok(t) if t.is_dir() => total += dir_bytes(&entry.path()),
                Ok(_) => total += entry.metadata().map(|m| m.len()).unwrap_or(0),
                Err(_) => {}
            }
        }
    }
    total
}
