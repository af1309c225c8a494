//! Audit log throughput on this machine, with baselines measured in the same run:
//! appends (hashing + group commit, fsync per batch) against one transaction per event,
//! and verification (streamed records) against raw SHA-256 of the same bytes and the
//! old twelve-column rows. `cargo bench -p vault --bench audit [-- EVENTS]`.

use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use futures::TryStreamExt;
use governance::{AuditEvent, Outcome};
use sha2::Digest;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqliteSynchronous};
use sqlx::{ConnectOptions, Connection, Row};
use std::str::FromStr;

fn event(i: u64) -> AuditEvent {
    let at = DateTime::<Utc>::from_timestamp(1_800_000_000 + (i / 1000) as i64, (i % 1000) as u32 * 1000).unwrap();
    AuditEvent::new(
        at,
        &format!("agent{:03}", i % 500),
        "recording.export",
        Outcome::Allowed,
    )
    .tenant("posti")
    .recording(uuid::Uuid::from_u128(
        0x0190_a0b0_0000_7000_8000_0000_0000_0000 + u128::from(i),
    ))
    .purpose("quality", "QA review of a customer complaint")
    .detail(serde_json::json!({"format": "wav", "streams": 2, "bytes": 1_234_567}))
}

fn rate(n: u64, d: Duration) -> f64 {
    n as f64 / d.as_secs_f64()
}

#[tokio::main(flavor = "multi_thread")]
async fn main() {
    let total: u64 = std::env::args()
        .skip(1)
        .find_map(|a| a.parse().ok())
        .unwrap_or(1_000_000);
    let dir = tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).unwrap();
    std::fs::create_dir(dir.path().join("keys")).unwrap();
    let catalog =
        vault::Catalog::open_with_audit_keys(&dir.path().join("catalog.sqlite"), Some(&dir.path().join("keys")))
            .await
            .unwrap();
    let audit = catalog.audit().clone();
    println!(
        "machine: {} cores, {}; events {total}",
        std::thread::available_parallelism().map_or(0, |n| n.get()),
        cpu_model()
    );

    // 1. Concurrent callers, each awaiting durability of every event (group commit).
    let callers = 1000u64;
    let each = 100u64;
    let start = Instant::now();
    let tasks: Vec<_> = (0..callers)
        .map(|c| {
            let audit = audit.clone();
            tokio::spawn(async move {
                for i in 0..each {
                    audit.append(event(c * each + i)).await.unwrap();
                }
            })
        })
        .collect();
    for task in tasks {
        task.await.unwrap();
    }
    let concurrent = rate(callers * each, start.elapsed());
    println!(
        "append, {callers} concurrent callers awaiting durability: {concurrent:.0} events/s ({} events)",
        callers * each
    );

    // 2. Bulk appends (a sweep's events), 4096 per call, up to `total` events.
    let start = Instant::now();
    let mut done = callers * each;
    while done < total {
        let n = 4096.min(total - done);
        let events: Vec<_> = (done..done + n).map(event).collect();
        audit.append_bulk(events, Utc::now()).await.unwrap();
        done += n;
    }
    let bulk_events = total.saturating_sub(callers * each);
    let bulk = rate(bulk_events, start.elapsed());
    println!("append, bulk batches of 4096: {bulk:.0} events/s ({bulk_events} events)");

    // Baseline: one transaction per event (the previous append: immediate transaction,
    // head read, twelve-column insert, commit), fsync at each commit, and without.
    let baseline_file = dir.path().join("baseline.sqlite");
    let mut baseline = SqliteConnectOptions::from_str(&format!("sqlite://{}", baseline_file.display()))
        .unwrap()
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Wal)
        .synchronous(SqliteSynchronous::Full)
        .connect()
        .await
        .unwrap();
    sqlx::raw_sql(include_str!("../migrations/catalog/0001_catalog.sql"))
        .execute(&mut baseline)
        .await
        .unwrap();
    let start = Instant::now();
    for i in 0..2000 {
        old_append(&mut baseline, &event(i)).await;
    }
    let per_event_fsync = rate(2000, start.elapsed());
    sqlx::query("PRAGMA synchronous = NORMAL")
        .execute(&mut baseline)
        .await
        .unwrap();
    let start = Instant::now();
    for i in 2000..12_000 {
        old_append(&mut baseline, &event(i)).await;
    }
    let per_event_normal = rate(10_000, start.elapsed());
    println!("baseline, one transaction per event, fsync each: {per_event_fsync:.0} events/s");
    println!(
        "baseline, one transaction per event, no fsync (synchronous=NORMAL, the old setting): {per_event_normal:.0} events/s"
    );
    println!(
        "ratios: concurrent group commit / per-event fsync = x{:.1}; bulk / per-event fsync = x{:.1}; concurrent / per-event without fsync = x{:.1}",
        concurrent / per_event_fsync,
        bulk / per_event_fsync,
        concurrent / per_event_normal
    );

    // 3. Verify the whole log (chain + checkpoint signatures): once straight after the
    // appends (pages still in the WAL), then three runs after a WAL checkpoint, as a
    // later `callvault audit verify` finds the file.
    let wal = dir.path().join("catalog.audit.sqlite-wal");
    let wal_size = || std::fs::metadata(&wal).map_or(0, |m| m.len()) / (1 << 20);
    let start = Instant::now();
    let report = audit.verify(None).await.unwrap();
    println!(
        "verify with a {} MiB WAL: {:.0} events/s",
        wal_size(),
        rate(report.events as u64, start.elapsed())
    );
    sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)")
        .execute(catalog.audit().pool())
        .await
        .unwrap();
    println!("WAL checkpointed ({} MiB left)", wal_size());
    let mut best = 0f64;
    for run in 0..3 {
        let start = Instant::now();
        let report = audit.verify(None).await.unwrap();
        let elapsed = start.elapsed();
        assert!(report.fault.is_none(), "{:?}", report.fault);
        let r = rate(report.events as u64, elapsed);
        best = best.max(r);
        println!(
            "verify run {run}: {} events, {} checkpoints in {:.3} s = {r:.0} events/s",
            report.events,
            report.checkpoints,
            elapsed.as_secs_f64()
        );
    }

    // Baseline: sqlx streaming the same three columns, doing nothing with them.
    let mut conn = SqliteConnectOptions::from_str(&format!(
        "sqlite://{}",
        dir.path().join("catalog.audit.sqlite").display()
    ))
    .unwrap()
    .row_buffer_size(4096)
    .connect()
    .await
    .unwrap();
    let start = Instant::now();
    let mut rows = sqlx::query("SELECT seq, record, hash FROM audit_log ORDER BY seq").fetch(&mut conn);
    let (mut n, mut bytes) = (0u64, 0usize);
    while let Some(row) = rows.try_next().await.unwrap() {
        bytes += row.try_get_unchecked::<&[u8], _>(1).unwrap().len();
        n += 1;
    }
    drop(rows);
    let stream_only = rate(n, start.elapsed());
    println!(
        "baseline, sqlx streaming the same rows without verifying: {stream_only:.0} rows/s ({bytes} record bytes)"
    );
    println!("ratio: verify / sqlx streaming alone = {:.2}", best / stream_only);

    // Baseline: SHA-256 of the same record bytes, in memory (no database).
    let mut records = Vec::new();
    let mut reader = SqliteConnectOptions::from_str(&format!(
        "sqlite://{}",
        dir.path().join("catalog.audit.sqlite").display()
    ))
    .unwrap()
    .connect()
    .await
    .unwrap();
    let mut rows = sqlx::query("SELECT record FROM audit_log ORDER BY seq LIMIT 500000").fetch(&mut reader);
    while let Some(row) = rows.try_next().await.unwrap() {
        records.push(row.get::<Vec<u8>, _>(0));
    }
    drop(rows);
    let bytes: usize = records.iter().map(Vec::len).sum();
    let start = Instant::now();
    let mut x = 0u8;
    for record in &records {
        x ^= sha2::Sha256::digest(record)[0];
    }
    let raw = rate(records.len() as u64, start.elapsed());
    println!(
        "baseline, raw SHA-256 of the same records in memory: {raw:.0} records/s (mean record {} bytes; {x})",
        bytes / records.len().max(1)
    );
    println!("ratio: verify / raw SHA-256 = {:.2}", best / raw);

    // Baseline: the old verification (twelve columns a row through sqlx, JSON canonical
    // form rebuilt per event), over the rows of the per-event baseline.
    sqlx::query("PRAGMA synchronous = OFF")
        .execute(&mut baseline)
        .await
        .unwrap();
    let mut tx = baseline.begin().await.unwrap();
    let mut prev = old_head(&mut tx).await;
    for i in 12_000..200_000u64 {
        prev = old_insert(&mut tx, i as i64 + 1, &prev, &event(i)).await;
    }
    tx.commit().await.unwrap();
    let start = Instant::now();
    let mut rows = sqlx::query("SELECT * FROM audit_events ORDER BY seq").fetch(&mut baseline);
    let mut prev = governance::GENESIS_HASH.to_owned();
    let mut n = 0u64;
    while let Some(row) = rows.try_next().await.unwrap() {
        let stored = old_event(&row);
        let hash = governance::chain_hash(&prev, &stored);
        assert_eq!(hash, row.get::<String, _>("hash"));
        prev = hash;
        n += 1;
    }
    let old_verify = rate(n, start.elapsed());
    println!("baseline, previous verify (12 columns + JSON canonical form): {old_verify:.0} events/s ({n} events)");
    println!("ratio: verify / previous verify = x{:.1}", best / old_verify);
    drop(rows);
    catalog.close().await;
}

async fn old_head(conn: &mut sqlx::SqliteConnection) -> String {
    let last: Option<(String,)> = sqlx::query_as("SELECT hash FROM audit_events ORDER BY seq DESC LIMIT 1")
        .fetch_optional(&mut *conn)
        .await
        .unwrap();
    last.map_or_else(|| governance::GENESIS_HASH.to_owned(), |l| l.0)
}

/// The previous append: one immediate transaction per event.
async fn old_append(conn: &mut sqlx::SqliteConnection, event: &AuditEvent) {
    let mut tx = conn.begin_with("BEGIN IMMEDIATE").await.unwrap();
    let last: Option<(i64, String)> = sqlx::query_as("SELECT seq, hash FROM audit_events ORDER BY seq DESC LIMIT 1")
        .fetch_optional(&mut *tx)
        .await
        .unwrap();
    let (seq, prev) = last.map_or((1, governance::GENESIS_HASH.to_owned()), |(s, h)| (s + 1, h));
    old_insert(&mut tx, seq, &prev, event).await;
    tx.commit().await.unwrap();
}

async fn old_insert(conn: &mut sqlx::SqliteConnection, seq: i64, prev: &str, e: &AuditEvent) -> String {
    let hash = governance::chain_hash(prev, e);
    sqlx::query(
        "INSERT INTO audit_events (seq, at, actor, action, outcome, tenant, recording_id, purpose, reason, detail, prev_hash, hash)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
    )
    .bind(seq)
    .bind(vault::ts(e.at))
    .bind(&e.actor)
    .bind(&e.action)
    .bind(e.outcome.as_str())
    .bind(&e.tenant)
    .bind(&e.recording_id)
    .bind(&e.purpose)
    .bind(&e.reason)
    .bind(e.detail.to_string())
    .bind(prev)
    .bind(&hash)
    .execute(conn)
    .await
    .unwrap();
    hash
}

fn old_event(row: &sqlx::sqlite::SqliteRow) -> AuditEvent {
    AuditEvent {
        at: DateTime::parse_from_rfc3339(&row.get::<String, _>("at"))
            .unwrap()
            .with_timezone(&Utc),
        actor: row.get("actor"),
        action: row.get("action"),
        outcome: Outcome::parse(&row.get::<String, _>("outcome")).unwrap(),
        tenant: row.get("tenant"),
        recording_id: row.get("recording_id"),
        purpose: row.get("purpose"),
        reason: row.get("reason"),
        detail: serde_json::from_str(&row.get::<String, _>("detail")).unwrap(),
    }
}

fn cpu_model() -> String {
    std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|c| {
            c.lines()
                .find(|l| l.starts_with("model name"))
                .map(|l| l.split(':').nth(1).unwrap_or("").trim().to_owned())
        })
        .unwrap_or_else(|| "unknown CPU".into())
}
