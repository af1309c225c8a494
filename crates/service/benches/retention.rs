//! Lifecycle (issue 5) figure: a retention sweep over N due recordings (default
//! 1,000,000): the time until every due key is destroyed (goal under 30 s) and the time
//! until every object is gone, through `Service::retention_sweep` (batches of 1,000,
//! one audit event per batch, signed certificate).
//!
//! Set-up (not measured): catalog rows by direct SQL in big transactions (tenant posti,
//! one stream each, retention ended on one of the last 180 days or earlier today), their
//! data keys stored in the key store in bulk (wrapped under their retention day's KEK),
//! and one small object file per recording where the vault keeps it. Baseline in the
//! same run: deleting the same number of plain files with `std::fs::remove_file` in a
//! loop (the floor for "every object gone").
//!
//! `cargo bench -p service --bench retention` (`RETENTION_ROWS` = N).

mod common;

use std::time::{Duration, Instant};

use chrono::{DateTime, TimeDelta, Utc};
use sqlx::{QueryBuilder, Sqlite};
use uuid::Uuid;
use vault::{SecretKey, ts};

const ROWS_PER_STATEMENT: usize = 500;
const ROWS_PER_TRANSACTION: usize = 50_000;
const OBJECT_BYTES: usize = 200;

struct Row {
    id: Uuid,
    retain_until: DateTime<Utc>,
}

fn rows(n: usize, now: DateTime<Utc>) -> Vec<Row> {
    let mut rng = common::Rng::new(11);
    (0..n)
        .map(|_| {
            // Mostly past days; about one in 180 due earlier today.
            let back = rng.below(180 * 86_400) as i64 + 1;
            let retain_until = now - TimeDelta::seconds(back);
            Row {
                id: Uuid::now_v7(),
                retain_until,
            }
        })
        .collect()
}

async fn fill_catalog(service: &service::Service, rows: &[Row]) {
    let pool = service.vault().catalog().pool();
    for in_tx in rows.chunks(ROWS_PER_TRANSACTION) {
        let mut tx = pool.begin().await.expect("begin");
        for batch in in_tx.chunks(ROWS_PER_STATEMENT) {
            let mut q: QueryBuilder<Sqlite> = QueryBuilder::new(
                "INSERT INTO recordings (id, tenant, policy_version, state, source, direction, started_at, ended_at, duration_ms,
                    service_number, customer_number, customer_number_hash, customer_name, agent, purposes, legal_basis, consent,
                    retain_until, notes, created_at, sealed_at) ",
            );
            q.push_values(batch, |mut b, r| {
                let started = r.retain_until - TimeDelta::days(183);
                b.push_bind(r.id.to_string())
                    .push_bind("posti")
                    .push_bind(1_i64)
                    .push_bind("sealed")
                    .push_bind("ingest")
                    .push_bind("inbound")
                    .push_bind(ts(started))
                    .push_bind(ts(started + TimeDelta::seconds(60)))
                    .push_bind(60_000_i64)
                    .push_bind("+358600943200")
                    .push_bind("+358401234xxx")
                    .push_bind("0".repeat(64))
                    .push_bind(None::<String>)
                    .push_bind("agent-1")
                    .push_bind(r#"["verify-agreement"]"#)
                    .push_bind("legitimate-interest")
                    .push_bind(r#"{"basis":"legitimate-interest","notice_played":false}"#)
                    .push_bind(ts(r.retain_until))
                    .push_bind("[]")
                    .push_bind(ts(started))
                    .push_bind(ts(started));
            });
            q.build().execute(&mut *tx).await.expect("insert recordings");
            let mut q: QueryBuilder<Sqlite> = QueryBuilder::new(
                "INSERT INTO streams (recording_id, idx, label, participant, codec, sample_rate, object_path, chunks, audio_bytes, packets_lost, seal) ",
            );
            q.push_values(batch, |mut b, r| {
                b.push_bind(r.id.to_string())
                    .push_bind(0_i64)
                    .push_bind("mixed")
                    .push_bind(None::<i64>)
                    .push_bind("mulaw")
                    .push_bind(8000_i64)
                    .push_bind(vault::object_path("posti", r.id, 0))
                    .push_bind(1_i64)
                    .push_bind(OBJECT_BYTES as i64)
                    .push_bind(0_i64)
                    .push_bind("sealed");
            });
            q.build().execute(&mut *tx).await.expect("insert streams");
        }
        tx.commit().await.expect("commit");
    }
}

fn write_objects(root: &std::path::Path, rows: &[Row]) {
    let body = vec![0x5a_u8; OBJECT_BYTES];
    for r in rows {
        let file = root.join(vault::object_path("posti", r.id, 0));
        std::fs::create_dir_all(file.parent().unwrap()).expect("object dir");
        std::fs::write(&file, &body).expect("object");
    }
}

fn main() {
    let n = common::count_arg("RETENTION_ROWS", 1_000_000);
    let dir = common::bench_dir("retention-");
    let rt = common::runtime();
    let service = rt.block_on(common::posti_service(dir.path()));
    let now = common::bench_now();
    let objects = dir.path().join("data/objects");
    let plain = dir.path().join("plain");
    println!("retention sweep over {n} due recordings (tenant posti, one object each, due over the last 180 days)");

    let set_up = Instant::now();
    let rows = rows(n, now);
    rt.block_on(fill_catalog(&service, &rows));
    let keys: Vec<(Uuid, chrono::NaiveDate, SecretKey)> = rows
        .iter()
        .map(|r| (r.id, r.retain_until.date_naive(), SecretKey::random()))
        .collect();
    for chunk in keys.chunks(100_000) {
        rt.block_on(service.vault().keystore().store_data_keys(chunk))
            .expect("store keys");
    }
    write_objects(&objects, &rows);
    write_objects(&plain, &rows);
    println!("set-up: {:.1} s (not measured)", set_up.elapsed().as_secs_f64());

    // Baseline: the same number of plain files removed one by one.
    let baseline = Instant::now();
    for r in &rows {
        let file = plain.join(vault::object_path("posti", r.id, 0));
        std::fs::remove_file(&file).expect("remove");
        let _ = std::fs::remove_dir(file.parent().unwrap());
    }
    let baseline = baseline.elapsed();

    let report = rt.block_on(service.retention_sweep(now, 1000, now)).expect("sweep");
    assert_eq!(report.certificate.deleted, n, "every due recording deleted");
    assert!(report.certificate.signature_valid());
    let left = common::dir_bytes(&objects);
    let days = report.certificate.kek_days_destroyed.len();
    rt.block_on(service.close());

    let secs = |d: Duration| d.as_secs_f64();
    println!();
    println!(
        "| N | keys destroyed after | objects gone after (whole sweep) | plain remove_file loop | sweep / plain | KEK days destroyed | batches |"
    );
    println!("|---:|---:|---:|---:|---:|---:|---:|");
    println!(
        "| {n} | {:.3} s | {:.1} s | {:.1} s | {:.2}x | {days} | {} |",
        secs(report.keys_destroyed_after),
        secs(report.objects_gone_after),
        secs(baseline),
        secs(report.objects_gone_after) / secs(baseline),
        report.certificate.batches,
    );
    assert_eq!(left, 0, "no object bytes left");
    if report.keys_destroyed_after > Duration::from_secs(30) {
        println!(
            "GOAL MISSED: every due key destroyed after {:.1} s (goal < 30 s)",
            secs(report.keys_destroyed_after)
        );
        std::process::exit(1);
    }
    println!(
        "goal met: every due key destroyed after {:.3} s (goal < 30 s)",
        secs(report.keys_destroyed_after)
    );
}
