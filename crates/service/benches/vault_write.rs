//! Foundation (issue 2) figure: vault write throughput, encrypted, against a plain
//! unencrypted write of the same bytes to the same object store directory, in the same
//! run. Goal: the encrypted path reaches at least 80 % of the plain one.
//!
//! Encrypted: `Vault::begin(entry)` → `RecordingWriter::put_stream` per stream → `seal`
//! (catalog row, data key wrapped and committed in the key store, AES-256-GCM chunks,
//! BLAKE3 trailer, object put — pipelined in parts for large streams —, fsync of the
//! object and its directory, sealing transaction). Plain: `LocalFileSystem::put` of the
//! same audio bytes per stream into the same `objects/` directory (zero-copy payload),
//! followed by the same fsyncs. Both are durable.
//!
//! Then the same with N writers at once (a server ingests many calls together): N
//! tasks each writing recordings one after another, against N tasks doing plain
//! writes, judged on the time until all are durable.
//!
//! `cargo bench -p service --bench vault_write` (optional argument: MB written per
//! case and path, default 150; `VAULT_WRITE_WRITERS=4,16` the concurrent writer
//! counts, `0` for none; `VAULT_WRITE_CASES=1,2` which cases, by number).

mod common;

use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use chrono::{DateTime, Months, Utc};
use media::SampleEncoding;
use object_store::ObjectStore;
use object_store::local::LocalFileSystem;
use object_store::path::Path as ObjectPath;
use uuid::Uuid;
use vault::{RecordingEntry, RecordingRecord, RecordingSource, RecordingState, StreamRecord, StreamSeal};

struct Case {
    label: &'static str,
    encoding: SampleEncoding,
    sample_rate: u32,
    channels: u16,
    seconds: u32,
}

const CASES: &[Case] = &[
    Case {
        label: "1 min mono µ-law 8 kHz",
        encoding: SampleEncoding::MuLaw,
        sample_rate: 8000,
        channels: 1,
        seconds: 60,
    },
    Case {
        label: "10 min mono µ-law 8 kHz",
        encoding: SampleEncoding::MuLaw,
        sample_rate: 8000,
        channels: 1,
        seconds: 600,
    },
    Case {
        label: "10 min stereo PCM16 8 kHz",
        encoding: SampleEncoding::Pcm16,
        sample_rate: 8000,
        channels: 2,
        seconds: 600,
    },
    Case {
        label: "60 min stereo PCM16 8 kHz",
        encoding: SampleEncoding::Pcm16,
        sample_rate: 8000,
        channels: 2,
        seconds: 3600,
    },
];

#[derive(Default)]
struct Times {
    total: Vec<Duration>,
    begin: Duration,
    put: Duration,
    seal: Duration,
}

fn entry(case: &Case, now: DateTime<Utc>) -> RecordingEntry {
    let id = Uuid::now_v7();
    let streams = (0..case.channels)
        .map(|c| StreamRecord {
            idx: i64::from(c),
            label: if case.channels == 1 {
                "mixed".into()
            } else {
                format!("channel-{c}")
            },
            participant: None,
            codec: case.encoding.codec_name().into(),
            sample_rate: i64::from(case.sample_rate),
            object_path: vault::object_path("posti", id, i64::from(c)),
            chunks: 0,
            audio_bytes: 0,
            packets_lost: 0,
            seal: StreamSeal::Open,
        })
        .collect();
    RecordingEntry {
        recording: RecordingRecord {
            id,
            tenant: "posti".into(),
            policy_version: 1,
            state: RecordingState::Writing,
            source: RecordingSource::Ingest,
            direction: "inbound".into(),
            started_at: now,
            ended_at: None,
            duration_ms: None,
            service_number: None,
            customer_number: Some("+3584012345xxx".into()),
            customer_number_hash: Some("0".repeat(64)),
            customer_name: None,
            agent: Some("agent-1".into()),
            purposes: vec!["verify-agreement".into()],
            legal_basis: "legitimate-interest".into(),
            consent: serde_json::json!({"basis": "legitimate-interest", "notice_played": false}),
            retain_until: now.checked_add_months(Months::new(6)).unwrap(),
            notes: Vec::new(),
            created_at: now,
            sealed_at: None,
        },
        participants: Vec::new(),
        streams,
    }
}

fn remove_object(root: &std::path::Path, path: &str) {
    let _ = std::fs::remove_file(root.join(path));
}

/// Forces an object file and its directory entry to disk (the supplementary, durable mode).
fn sync_object(root: &std::path::Path, path: &str) {
    let file = root.join(path);
    std::fs::File::open(&file)
        .and_then(|f| f.sync_all())
        .expect("fsync object");
    std::fs::File::open(file.parent().unwrap())
        .and_then(|d| d.sync_all())
        .expect("fsync directory");
}

/// Writes every dirty page out (`sync(1)`), outside the measured time.
fn flush_filesystems() {
    let status = std::process::Command::new("sync").status().expect("run sync");
    assert!(status.success(), "sync failed");
}

struct Outcome {
    ratio: f64,
}

#[allow(clippy::too_many_arguments)]
fn measure(
    rt: &tokio::runtime::Runtime,
    vault: &vault::Vault,
    plain: &Arc<dyn ObjectStore>,
    objects_dir: &std::path::Path,
    case: &Case,
    case_no: usize,
    mb_per_case: f64,
    durable: bool,
) -> Outcome {
    let now = common::bench_now();
    let audio = common::synth_audio(
        case.encoding,
        case.sample_rate,
        case.channels,
        case.seconds,
        case_no as u64 + 1,
    );
    let wav = media::parse_wav(&common::wav_file(case.encoding, case.sample_rate, case.channels, audio))
        .expect("own WAV parses");
    let streams: Vec<Bytes> = wav.split_channels().into_iter().map(Bytes::from).collect();
    let bytes: usize = streams.iter().map(Bytes::len).sum();
    let chunk_bytes = case.sample_rate as usize * wav.bytes_per_sample(); // chunk_ms = 1000, as the service
    let reps = ((mb_per_case * 1e6 / bytes as f64).ceil() as usize).clamp(7, 400);

    let mut vault_times = Times::default();
    let mut plain_times = Vec::new();
    // One warm-up round, then `reps` measured rounds; which path goes first alternates.
    for round in 0..=reps {
        let measured = round > 0;
        let mut run_vault = || {
            rt.block_on(async {
                let entry = entry(case, now);
                let paths: Vec<String> = entry.streams.iter().map(|s| s.object_path.clone()).collect();
                let t0 = Instant::now();
                let mut writer = vault.begin(entry).await.expect("begin");
                let t1 = Instant::now();
                for (idx, stream) in streams.iter().enumerate() {
                    writer
                        .put_stream(idx as i64, stream.clone(), chunk_bytes)
                        .await
                        .expect("put_stream");
                }
                // The vault fsyncs each object and its directory itself before sealing.
                let t2 = Instant::now();
                writer.seal(None, None, now).await.expect("seal");
                let t3 = Instant::now();
                if measured {
                    vault_times.total.push(t3 - t0);
                    vault_times.begin += t1 - t0;
                    vault_times.put += t2 - t1;
                    vault_times.seal += t3 - t2;
                }
                for p in paths {
                    remove_object(objects_dir, &p);
                }
            })
        };
        let mut run_plain = || {
            rt.block_on(async {
                let id = Uuid::now_v7();
                let paths: Vec<String> = (0..streams.len()).map(|i| format!("plain/{id}/{i}.raw")).collect();
                let t0 = Instant::now();
                for (stream, path) in streams.iter().zip(&paths) {
                    plain
                        .put(&ObjectPath::from(path.as_str()), stream.clone().into())
                        .await
                        .expect("put");
                }
                if durable {
                    for p in &paths {
                        sync_object(objects_dir, p);
                    }
                }
                let t1 = Instant::now();
                if measured {
                    plain_times.push(t1 - t0);
                }
                for p in paths {
                    remove_object(objects_dir, &p);
                }
                let _ = std::fs::remove_dir(objects_dir.join("plain").join(id.to_string()));
            })
        };
        // Each path starts with no dirty pages of the other one: on ext4 (data=ordered)
        // an fsync also flushes data other writers left in the journal's way.
        if round.is_multiple_of(2) {
            flush_filesystems();
            run_vault();
            flush_filesystems();
            run_plain();
        } else {
            flush_filesystems();
            run_plain();
            flush_filesystems();
            run_vault();
        }
    }

    let total_vault: Duration = vault_times.total.iter().sum();
    let total_plain: Duration = plain_times.iter().sum();
    let mbs = |d: Duration| (bytes * reps) as f64 / 1e6 / d.as_secs_f64();
    let (vault_mbs, plain_mbs) = (mbs(total_vault), mbs(total_plain));
    let total_ratio = vault_mbs / plain_mbs;
    // The two paths of one round run back to back: the median of the per-round ratios
    // is what a noisy shared machine cannot skew with one slow fsync.
    let mut paired: Vec<f64> = vault_times
        .total
        .iter()
        .zip(&plain_times)
        .map(|(v, p)| p.as_secs_f64() / v.as_secs_f64())
        .collect();
    paired.sort_by(f64::total_cmp);
    let ratio = paired[paired.len() / 2];
    vault_times.total.sort();
    plain_times.sort();
    println!(
        "| {} | {} | {} | {:.1} | {:.1} | {:.1} % | {:.1} % | {:.2} | {:.2} | {:.2} | {:.1} | {:.2} |",
        case.label,
        bytes,
        reps,
        vault_mbs,
        plain_mbs,
        total_ratio * 100.0,
        ratio * 100.0,
        common::ms(common::percentile(&vault_times.total, 0.5)),
        common::ms(common::percentile(&plain_times, 0.5)),
        common::ms(vault_times.begin) / reps as f64,
        mbs(vault_times.put),
        common::ms(vault_times.seal) / reps as f64,
    );
    Outcome { ratio }
}

/// Writes `per_writer` recordings of `case` from each of `writers` tasks at once, vault
/// and plain alternating by round; returns the median of per-round plain/vault ratios.
#[allow(clippy::too_many_arguments)]
fn measure_concurrent(
    rt: &tokio::runtime::Runtime,
    vault: &vault::Vault,
    plain: &Arc<dyn ObjectStore>,
    objects_dir: &std::path::Path,
    case: &'static Case,
    case_no: usize,
    writers: usize,
    mb_per_case: f64,
) -> Outcome {
    let now = common::bench_now();
    let audio = common::synth_audio(
        case.encoding,
        case.sample_rate,
        case.channels,
        case.seconds,
        case_no as u64 + 1,
    );
    let wav = media::parse_wav(&common::wav_file(case.encoding, case.sample_rate, case.channels, audio))
        .expect("own WAV parses");
    let streams: Arc<Vec<Bytes>> = Arc::new(wav.split_channels().into_iter().map(Bytes::from).collect());
    let bytes: usize = streams.iter().map(Bytes::len).sum();
    let chunk_bytes = case.sample_rate as usize * wav.bytes_per_sample();
    // Each round writes about 1/8 of the MB budget, in at least 7 rounds.
    let per_writer = ((mb_per_case * 1e6 / 8.0 / (bytes * writers) as f64).ceil() as usize).clamp(1, 50);
    let rounds = ((mb_per_case * 1e6 / (bytes * writers * per_writer) as f64).ceil() as usize).clamp(7, 60);
    let objects_dir = Arc::new(objects_dir.to_path_buf());

    let mut vault_times = Vec::new();
    let mut plain_times = Vec::new();
    for round in 0..=rounds {
        let measured = round > 0;
        let run_vault = || -> Duration {
            rt.block_on(async {
                let t0 = Instant::now();
                let tasks: Vec<_> = (0..writers)
                    .map(|_| {
                        let (vault, streams) = (vault.clone(), streams.clone());
                        tokio::spawn(async move {
                            let mut paths = Vec::new();
                            for _ in 0..per_writer {
                                let entry = entry(case, now);
                                paths.extend(entry.streams.iter().map(|s| s.object_path.clone()));
                                let mut writer = vault.begin(entry).await.expect("begin");
                                for (idx, stream) in streams.iter().enumerate() {
                                    writer
                                        .put_stream(idx as i64, stream.clone(), chunk_bytes)
                                        .await
                                        .expect("put_stream");
                                }
                                writer.seal(None, None, now).await.expect("seal");
                            }
                            paths
                        })
                    })
                    .collect();
                let mut paths = Vec::new();
                for task in tasks {
                    paths.extend(task.await.expect("writer task"));
                }
                let elapsed = t0.elapsed();
                for p in paths {
                    remove_object(&objects_dir, &p);
                }
                elapsed
            })
        };
        let run_plain = || -> Duration {
            rt.block_on(async {
                let t0 = Instant::now();
                let tasks: Vec<_> = (0..writers)
                    .map(|_| {
                        let (plain, streams, objects_dir) = (plain.clone(), streams.clone(), objects_dir.clone());
                        tokio::spawn(async move {
                            let mut paths = Vec::new();
                            for _ in 0..per_writer {
                                let id = Uuid::now_v7();
                                for (i, stream) in streams.iter().enumerate() {
                                    let path = format!("plain/{id}/{i}.raw");
                                    plain
                                        .put(&ObjectPath::from(path.as_str()), stream.clone().into())
                                        .await
                                        .expect("put");
                                    let dir = objects_dir.clone();
                                    let synced = path.clone();
                                    tokio::task::spawn_blocking(move || sync_object(&dir, &synced))
                                        .await
                                        .expect("fsync task");
                                    paths.push(path);
                                }
                            }
                            paths
                        })
                    })
                    .collect();
                let mut paths = Vec::new();
                for task in tasks {
                    paths.extend(task.await.expect("writer task"));
                }
                let elapsed = t0.elapsed();
                for p in &paths {
                    remove_object(&objects_dir, p);
                    if let Some(dir) = std::path::Path::new(p).parent() {
                        let _ = std::fs::remove_dir(objects_dir.join(dir));
                    }
                }
                elapsed
            })
        };
        let (v, p) = if round.is_multiple_of(2) {
            flush_filesystems();
            let v = run_vault();
            flush_filesystems();
            (v, run_plain())
        } else {
            flush_filesystems();
            let p = run_plain();
            flush_filesystems();
            (run_vault(), p)
        };
        if measured {
            vault_times.push(v);
            plain_times.push(p);
        }
    }
    let per_round = (bytes * writers * per_writer) as f64;
    let total_vault: Duration = vault_times.iter().sum();
    let total_plain: Duration = plain_times.iter().sum();
    let mbs = |d: Duration| per_round * rounds as f64 / 1e6 / d.as_secs_f64();
    let mut paired: Vec<f64> = vault_times
        .iter()
        .zip(&plain_times)
        .map(|(v, p)| p.as_secs_f64() / v.as_secs_f64())
        .collect();
    paired.sort_by(f64::total_cmp);
    let ratio = paired[paired.len() / 2];
    let recordings_per_s = |d: Duration| (writers * per_writer * rounds) as f64 / d.as_secs_f64();
    println!(
        "| {} | {} | {} | {} | {:.1} | {:.1} | {:.0} | {:.0} | {:.1} % | {:.1} % |",
        case.label,
        writers,
        writers * per_writer,
        rounds,
        mbs(total_vault),
        mbs(total_plain),
        recordings_per_s(total_vault),
        recordings_per_s(total_plain),
        mbs(total_vault) / mbs(total_plain) * 100.0,
        ratio * 100.0,
    );
    Outcome { ratio }
}

fn header(title: &str) {
    println!();
    println!("{title}");
    println!();
    println!(
        "| recording | audio bytes | reps | vault MB/s | plain MB/s | vault/plain (totals) | vault/plain (median of rounds) | vault ms (p50) | plain ms (p50) | begin ms (mean) | put_stream MB/s | seal ms (mean) |"
    );
    println!("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
}

fn main() {
    let mb_per_case = common::count_arg("VAULT_WRITE_MB", 150) as f64;
    let dir = common::bench_dir("vault-write-");
    let rt = common::runtime();
    let service = rt.block_on(common::posti_service(dir.path()));
    let vault = service.vault().clone();
    let objects_dir = dir.path().join("data/objects");
    let plain: Arc<dyn ObjectStore> = Arc::new(LocalFileSystem::new_with_prefix(&objects_dir).expect("object store"));

    println!("vault write throughput: encrypted (Vault::begin → put_stream per stream → seal) vs plain");
    println!(
        "LocalFileSystem::put of the same audio bytes, same directory {}",
        objects_dir.display()
    );
    println!("MB = 10^6 bytes of audio; MB/s = audio bytes of all measured reps / total time of the path.");
    println!("The goal is judged on the median over rounds of plain time / vault time (both paths of a round");
    println!("run back to back, alternating which goes first); the ratio of totals is shown beside it.");

    header(
        "Both durable: the vault fsyncs each object and its directory before sealing; the plain write \
         does the same fsyncs (goal: vault/plain ≥ 80 %)",
    );
    let selected: Vec<usize> = std::env::var("VAULT_WRITE_CASES")
        .ok()
        .map(|text| text.split(',').filter_map(|n| n.trim().parse::<usize>().ok()).collect())
        .unwrap_or_else(|| (1..=CASES.len()).collect());
    let writer_counts: Vec<usize> = std::env::var("VAULT_WRITE_WRITERS")
        .ok()
        .map(|text| {
            text.split(',')
                .filter_map(|n| n.trim().parse::<usize>().ok())
                .filter(|n| *n > 0)
                .collect()
        })
        .unwrap_or_else(|| vec![4, 16]);
    let mut worst = f64::INFINITY;
    for (case_no, case) in CASES.iter().enumerate() {
        if !selected.contains(&(case_no + 1)) {
            continue;
        }
        let outcome = measure(&rt, &vault, &plain, &objects_dir, case, case_no, mb_per_case, true);
        worst = worst.min(outcome.ratio);
    }
    println!();
    println!("begin: catalog row + data key (key store commits with synchronous = FULL); seal: sealing transaction;");
    println!("put_stream MB/s: BLAKE3 (second thread) + AES-256-GCM + object put + fsync.");
    let mut worst_concurrent = f64::INFINITY;
    if !writer_counts.is_empty() {
        println!();
        println!(
            "Concurrent writers: N tasks each write recordings one after another (vault: begin → put_stream → seal;"
        );
        println!(
            "plain: put + fsync of object and directory); time until all are durable; rounds alternate the order."
        );
        println!();
        println!(
            "| recording | writers | recordings per round | rounds | vault MB/s | plain MB/s | vault rec/s | plain rec/s | vault/plain (totals) | vault/plain (median of rounds) |"
        );
        println!("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
        for (case_no, case) in CASES.iter().enumerate().take(2) {
            if !selected.contains(&(case_no + 1)) {
                continue;
            }
            for &writers in &writer_counts {
                let outcome =
                    measure_concurrent(&rt, &vault, &plain, &objects_dir, case, case_no, writers, mb_per_case);
                worst_concurrent = worst_concurrent.min(outcome.ratio);
            }
        }
    }
    if worst_concurrent.is_finite() {
        println!();
        println!(
            "concurrent writers: the encrypted path reaches ≥ {:.1} % of the plain writes (median of rounds)",
            worst_concurrent * 100.0
        );
    }
    rt.block_on(service.close());
    drop(dir);
    if worst < 0.80 {
        println!(
            "GOAL MISSED: the encrypted path reaches {:.1} % of the plain write (goal ≥ 80 %)",
            worst * 100.0
        );
        std::process::exit(1);
    }
    println!(
        "goal met: the encrypted path reaches ≥ {:.1} % of the plain write (goal ≥ 80 %)",
        worst * 100.0
    );
}
