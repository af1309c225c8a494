//! Foundation (issue 2) figure: ingest of generated one-minute recordings (8 kHz mono
//! µ-law WAV, 480 kB of audio each) into an empty catalog, through the real path
//! `Service::ingest` (WAV parse, policy decision, masking and hashing of numbers, data
//! key, encryption, object store, catalog, audit), under the Posti policy.
//!
//! `cargo bench -p service --bench ingest` ingests 10,000 recordings one after another.
//! A different count: `cargo bench -p service --bench ingest -- 2000` or
//! `INGEST_COUNT=2000`. `INGEST_CONCURRENCY=4` runs that many ingests at a time (at the
//! time of writing that fails with `database is locked` from the key store's
//! `create_data_key`; see BENCHMARKS.md).

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use chrono::TimeDelta;
use governance::Actor;
use media::SampleEncoding;
use service::Service;
use service::wire::{IngestMeta, ParticipantMeta};

const SECONDS: u32 = 60;
const RATE: u32 = 8000;

/// Two minutes of synthetic µ-law; each recording is a one-minute window of it.
fn source_audio() -> Vec<u8> {
    common::synth_audio(SampleEncoding::MuLaw, RATE, 1, 2 * SECONDS, 42)
}

/// The WAV file and metadata of recording `k` of `count`.
fn recording(source: &[u8], k: usize, count: usize) -> (Vec<u8>, IngestMeta) {
    let len = (RATE * SECONDS) as usize;
    let offset = (k * 7919) % (source.len() - len);
    let wav = common::wav_file(SampleEncoding::MuLaw, RATE, 1, source[offset..offset + len].to_vec());
    let now = common::bench_now();
    // Calls spread over the last 30 days, oldest first.
    let started_at =
        now - TimeDelta::seconds(((count - k) as i64 * 30 * 86_400) / count as i64) - TimeDelta::minutes(2);
    // A different Finnish mobile number per recording, in national form (normalised by the service).
    let customer = format!("040 {:07}", (1_000_003 + k * 7_919) % 10_000_000);
    let meta = IngestMeta {
        direction: if k.is_multiple_of(3) { "outbound" } else { "inbound" }.into(),
        started_at,
        ended_at: None,
        customer_number: Some(customer.clone()),
        service_number: Some("0600 94320".into()),
        agent: Some(format!("agent-{}", k % 40)),
        purposes: vec!["verify-agreement".into()],
        consent: None,
        participants: vec![
            ParticipantMeta {
                role: "customer".into(),
                name: None,
                number: Some(customer),
                channel: None,
            },
            ParticipantMeta {
                role: "agent".into(),
                name: Some(format!("Agent {}", k % 40)),
                number: None,
                channel: None,
            },
        ],
        withheld_caller_id: false,
        transferred_from: None,
    };
    (wav, meta)
}

async fn run(service: Service, count: usize, concurrency: usize) -> (Duration, Vec<Duration>) {
    let source = Arc::new(source_audio());
    let next = Arc::new(AtomicUsize::new(0));
    let progress_every = (count / 10).max(1);
    let start = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..concurrency {
        let (service, source, next) = (service.clone(), source.clone(), next.clone());
        tasks.push(tokio::spawn(async move {
            let mut latencies = Vec::new();
            loop {
                let k = next.fetch_add(1, Ordering::Relaxed);
                if k >= count {
                    break;
                }
                let (wav, meta) = recording(&source, k, count);
                let t0 = Instant::now();
                service
                    .ingest("posti", &wav, &meta, &Actor::LocalAdministrator, common::bench_now())
                    .await
                    .unwrap_or_else(|e| panic!("ingest {k} refused or failed: {e:?}"));
                latencies.push(t0.elapsed());
                if (k + 1).is_multiple_of(progress_every) {
                    eprintln!("  {} / {count} ingested, {:.1} s", k + 1, start.elapsed().as_secs_f64());
                }
            }
            latencies
        }));
    }
    let mut all = Vec::with_capacity(count);
    for task in tasks {
        all.extend(task.await.expect("ingest task"));
    }
    (start.elapsed(), all)
}

fn main() {
    let count = common::count_arg("INGEST_COUNT", 10_000);
    let concurrency: usize = std::env::var("INGEST_CONCURRENCY")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1)
        .max(1);
    let dir = common::bench_dir("ingest-");
    let rt = common::runtime();
    let service = rt.block_on(common::posti_service(dir.path()));

    println!("ingest: {count} one-minute 8 kHz mono µ-law WAV recordings (480,000 audio bytes each), tenant posti");
    println!(
        "into an empty catalog, {concurrency} at a time; directory {}",
        dir.path().display()
    );
    let (wall, mut latencies) = rt.block_on(run(service.clone(), count, concurrency));

    let sealed: i64 = rt.block_on(async {
        sqlx::query_scalar("SELECT COUNT(*) FROM recordings WHERE state = 'sealed' AND tenant = 'posti'")
            .fetch_one(service.vault().catalog().pool())
            .await
            .expect("count")
    });
    assert_eq!(sealed as usize, count, "every ingest is sealed in the catalog");
    let data_bytes = common::dir_bytes(&dir.path().join("data"));
    rt.block_on(service.close());

    latencies.sort();
    let in_ingest: Duration = latencies.iter().sum();
    println!();
    println!(
        "| recordings | concurrency | wall s | recordings/s | audio MB/s | p50 ms | p99 ms | max ms | data dir MB |"
    );
    println!(
        "|-----------:|------------:|-------:|-------------:|-----------:|-------:|-------:|-------:|------------:|"
    );
    println!(
        "| {count} | {concurrency} | {:.1} | {:.1} | {:.1} | {:.2} | {:.2} | {:.2} | {:.0} |",
        wall.as_secs_f64(),
        count as f64 / wall.as_secs_f64(),
        count as f64 * f64::from(RATE * SECONDS) / 1e6 / wall.as_secs_f64(),
        common::ms(common::percentile(&latencies, 0.5)),
        common::ms(common::percentile(&latencies, 0.99)),
        common::ms(*latencies.last().unwrap()),
        data_bytes as f64 / 1e6,
    );
    println!();
    println!(
        "wall includes generating each WAV ({:.1} s of it was inside Service::ingest); latencies are per Service::ingest call.",
        in_ingest.as_secs_f64()
    );
    drop(dir);
}
