//! Screening benchmark (issue 7): import time for a 20-million-number TPS file,
//! resident memory of the loaded register, single-lookup latency and batch
//! throughput on numbers in random order — against a sorted `Vec<u64>` with
//! binary search and a `HashSet<u64>`, each measured in its own child process
//! so that its resident memory is its own.
//!
//! `cargo bench -p screening` prints a Markdown section for BENCHMARKS.md.

use std::collections::HashSet;
use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use chrono::Utc;
use screening::{Format, ImportRequest, Mode, ParseOptions, Parser, Register, RegisterStore, Source, SourceKind};
use serde_json::{Value, json};

#[path = "../tests/screening/synthetic.rs"]
mod synthetic;

use synthetic::{Synthetic, h};

const COUNT: u64 = 20_000_000;
const SEED: u64 = 0x5eed_be4c;
/// Distinct queries (8 MB), each pass over them in the same random order.
const QUERIES: usize = 1_000_000;
const PASSES: usize = 10;
/// Individually timed lookups for the latency percentiles.
const TIMED: usize = 300_000;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if let Some(at) = args.iter().position(|a| a == "--child") {
        child(&args[at + 1], Path::new(&args[at + 2]));
        return;
    }
    if args.iter().any(|a| a == "--test" || a == "--list") {
        return; // `cargo test --benches` runs nothing heavy
    }
    parent();
}

/// VmRSS and VmHWM of this process, in KiB.
fn memory_kib() -> (u64, u64) {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let field = |name: &str| {
        status
            .lines()
            .find(|l| l.starts_with(name))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|v| v.parse().ok())
            .unwrap_or(0)
    };
    (field("VmRSS:"), field("VmHWM:"))
}

fn queries(syn: &Synthetic) -> Vec<u64> {
    (0..QUERIES as u64)
        .map(|d| {
            if d % 2 == 0 {
                syn.base_key(h(SEED, d, 20) % COUNT)
            } else {
                syn.random_key(h(SEED, d, 21))
            }
        })
        .collect()
}

/// Latency percentiles (ns) of single lookups and batch throughput (lookups/s).
fn measure(contains: &dyn Fn(u64) -> bool, batch_api: &dyn Fn(&[u64], &mut Vec<bool>)) -> Value {
    let syn = Synthetic::new(COUNT, SEED);
    let queries = queries(&syn);
    // Warm-up pass, and the expected answers' count as a check across structures.
    let hits = queries.iter().filter(|&&q| contains(q)).count();
    let mut answers = Vec::with_capacity(QUERIES);
    let started = Instant::now();
    let mut found = 0usize;
    for _ in 0..PASSES {
        batch_api(black_box(&queries), &mut answers);
        found += answers.iter().filter(|&&a| a).count();
    }
    let batch = started.elapsed();
    assert_eq!(found, hits * PASSES, "the batch answers as the single lookups do");
    drop(answers);
    let started = Instant::now();
    let mut found = 0usize;
    for _ in 0..PASSES {
        for &q in &queries {
            found += usize::from(contains(black_box(q)));
        }
    }
    let looped = started.elapsed();
    assert_eq!(found, hits * PASSES);
    let mut overhead: Vec<u64> = (0..TIMED)
        .map(|_| {
            let t = Instant::now();
            black_box(());
            t.elapsed().as_nanos() as u64
        })
        .collect();
    overhead.sort_unstable();
    let mut latencies: Vec<u64> = queries
        .iter()
        .step_by(QUERIES / TIMED)
        .map(|&q| {
            let t = Instant::now();
            black_box(contains(black_box(q)));
            t.elapsed().as_nanos() as u64
        })
        .collect();
    latencies.sort_unstable();
    let pct = |v: &[u64], p: f64| v[((v.len() as f64 * p) as usize).min(v.len() - 1)];
    drop(queries);
    let (rss, hwm) = memory_kib();
    json!({
        "hits": hits,
        "lookups_per_s": (QUERIES * PASSES) as f64 / batch.as_secs_f64(),
        "loop_lookups_per_s": (QUERIES * PASSES) as f64 / looped.as_secs_f64(),
        "p50_ns": pct(&latencies, 0.50), "p99_ns": pct(&latencies, 0.99), "p999_ns": pct(&latencies, 0.999),
        "timer_overhead_p50_ns": pct(&overhead, 0.50),
        "rss_kib_after_lookups": rss, "hwm_kib": hwm,
    })
}

fn load(path: &Path) -> (Register, f64) {
    let started = Instant::now();
    let register = screening::read_register(path).expect("register");
    (register, started.elapsed().as_secs_f64())
}

fn child(what: &str, path: &Path) {
    let (rss_start, _) = memory_kib();
    let mut out = match what {
        "import" => import_phases(path),
        "callvault" => {
            let (register, load_s) = load(path);
            let mut m = measure(&|k| register.contains(k), &|q, out| {
                register.set().contains_many(q, out)
            });
            m["load_s"] = json!(load_s);
            m["structure_bytes"] = json!(register.heap_bytes());
            m
        }
        "sorted-vec" => {
            let (register, _) = load(path);
            let mut keys: Vec<u64> = Vec::with_capacity(register.info.numbers as usize);
            keys.extend(register.keys());
            drop(register);
            let started = Instant::now();
            keys.sort_unstable(); // already sorted: the build cost of the baseline
            let build_s = started.elapsed().as_secs_f64();
            let mut m = measure(&|k| keys.binary_search(&k).is_ok(), &|q, out| {
                out.clear();
                out.extend(q.iter().map(|k| keys.binary_search(k).is_ok()));
            });
            m["structure_bytes"] = json!(keys.capacity() * 8);
            m["build_s"] = json!(build_s);
            m
        }
        "hash-set" => {
            let (register, _) = load(path);
            let started = Instant::now();
            let mut set: HashSet<u64> = HashSet::with_capacity(register.info.numbers as usize);
            set.extend(register.keys());
            let build_s = started.elapsed().as_secs_f64();
            drop(register);
            let mut m = measure(&|k| set.contains(&k), &|q, out| {
                out.clear();
                out.extend(q.iter().map(|k| set.contains(k)));
            });
            // hashbrown: one control byte per bucket plus the key, buckets a power of two.
            m["structure_bytes"] = json!(set.capacity().next_power_of_two() * 9);
            m["build_s"] = json!(build_s);
            m
        }
        other => panic!("unknown child {other}"),
    };
    out["rss_kib_at_start"] = json!(rss_start);
    println!("{out}");
}

/// The import in phases (read+parse, sort, build, store) and end to end through the store.
fn import_phases(path: &Path) -> Value {
    let bytes_len = std::fs::metadata(path).unwrap().len();
    let t = Instant::now();
    let mut parser = Parser::new(
        ParseOptions {
            format: Format::Register,
            mode: Mode::Full,
            country: "GB".into(),
            column: None,
        },
        bytes_len,
    )
    .unwrap();
    let mut file = std::fs::File::open(path).unwrap();
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let n = std::io::Read::read(&mut file, &mut buf).unwrap();
        if n == 0 {
            break;
        }
        parser.feed(&buf[..n]).unwrap();
    }
    let parsed = parser.finish().unwrap();
    let parse_s = t.elapsed().as_secs_f64();
    let records = parsed.numbers.len() as u64;
    let mut keys = parsed.numbers;
    let t = Instant::now();
    screening::sort_dedup(&mut keys);
    let sort_s = t.elapsed().as_secs_f64();
    let t = Instant::now();
    let source = Source {
        file: "bench".into(),
        date: Utc::now().date_naive(),
        kind: SourceKind::Full,
        imported_at: Utc::now(),
        records: 0,
        added: 0,
        removed: 0,
        unchanged: 0,
        bad_lines: 0,
    };
    let register = Register::from_full("tps", source, &keys, records);
    let build_s = t.elapsed().as_secs_f64();
    drop(keys);
    let t = Instant::now();
    let encoded = screening::encode_register(&register);
    let encode_s = t.elapsed().as_secs_f64();
    let file_bytes = encoded.len();
    drop((encoded, register));

    let dir = tempfile::tempdir_in(path.parent().unwrap()).unwrap();
    let store = RegisterStore::new(dir.path());
    let request = ImportRequest {
        register: "tps".into(),
        path: path.to_owned(),
        format: None,
        mode: Mode::Full,
        country: "GB".into(),
        column: None,
        date: None,
        now: Utc::now(),
    };
    let t = Instant::now();
    let report = store.import(&request, &mut |_, _| {}).unwrap();
    let total_s = t.elapsed().as_secs_f64();
    let (_, hwm) = memory_kib();
    json!({
        "records": records, "numbers": report.numbers, "input_bytes": bytes_len, "register_file_bytes": file_bytes,
        "parse_s": parse_s, "sort_s": sort_s, "build_s": build_s, "encode_s": encode_s,
        "store_import_s": total_s, "hwm_kib": hwm,
    })
}

fn run_child(what: &str, path: &Path) -> Value {
    let exe = std::env::current_exe().unwrap();
    let out = Command::new(exe)
        .args(["--child", what])
        .arg(path)
        .output()
        .expect("child");
    assert!(
        out.status.success(),
        "child {what}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("child JSON")
}

fn parent() {
    let dir = tempfile::tempdir().unwrap();
    let file: PathBuf = dir.path().join("TPS-FULL.txt");
    let syn = Synthetic::new(COUNT, SEED);
    let t = Instant::now();
    syn.write_full(&file).unwrap();
    eprintln!("generated {} numbers in {:.1} s", COUNT, t.elapsed().as_secs_f64());

    let import = run_child("import", &file);
    eprintln!("import: {import}");
    let store_dir = dir.path().join("screening");
    RegisterStore::new(&store_dir)
        .import(
            &ImportRequest {
                register: "tps".into(),
                path: file.clone(),
                format: None,
                mode: Mode::Full,
                country: "GB".into(),
                column: None,
                date: None,
                now: Utc::now(),
            },
            &mut |_, _| {},
        )
        .unwrap();
    std::fs::remove_file(&file).unwrap();
    let register = store_dir.join("tps.cvreg");
    let only = std::env::var("SCREENING_BENCH_ONLY").ok();
    let results: Vec<(&str, Value)> = ["callvault", "sorted-vec", "hash-set"]
        .into_iter()
        .filter(|w| only.as_deref().is_none_or(|o| o == *w))
        .map(|what| {
            let r = run_child(what, &register);
            eprintln!("{what}: {r}");
            (what, r)
        })
        .collect();
    if results.len() < 3 {
        return;
    }
    let hits = results[0].1["hits"].clone();
    assert!(
        results.iter().all(|(_, r)| r["hits"] == hits),
        "every structure gives the same answers"
    );
    report(&import, &results);
}

fn report(import: &Value, results: &[(&str, Value)]) {
    let f = |v: &Value, k: &str| v[k].as_f64().unwrap_or(0.0);
    let mib = |kib: f64| kib / 1024.0;
    let ours = &results[0].1;
    println!(
        "| | import / build | resident after lookups | structure | load | p50 | p99 | p99.9 | batch, random order | loop of single lookups |"
    );
    println!("|---|---|---|---|---|---|---|---|---|---|");
    for (what, r) in results {
        let build = if *what == "callvault" {
            format!("{:.2} s (whole import)", f(import, "store_import_s"))
        } else {
            format!("{:.2} s", f(r, "build_s"))
        };
        println!(
            "| {what} | {build} | {:.1} MiB ({:.1} MiB over the {:.1} MiB at start) | {:.1} MiB | {} | {} ns | {} ns | {} ns | {:.1} M/s | {:.1} M/s |",
            mib(f(r, "rss_kib_after_lookups")),
            mib(f(r, "rss_kib_after_lookups") - f(r, "rss_kib_at_start")),
            mib(f(r, "rss_kib_at_start")),
            f(r, "structure_bytes") / 1048576.0,
            if *what == "callvault" {
                format!("{:.3} s", f(r, "load_s"))
            } else {
                "–".into()
            },
            f(r, "p50_ns"),
            f(r, "p99_ns"),
            f(r, "p999_ns"),
            f(r, "lookups_per_s") / 1e6,
            f(r, "loop_lookups_per_s") / 1e6
        );
    }
    println!();
    for (what, r) in &results[1..] {
        println!(
            "- vs {what}: batch throughput ×{:.2} (loop of single lookups ×{:.2}), p50 ×{:.2} (lower is better), \
             resident memory ×{:.2}",
            f(ours, "lookups_per_s") / f(r, "lookups_per_s"),
            f(ours, "loop_lookups_per_s") / f(r, "loop_lookups_per_s"),
            f(ours, "p50_ns") / f(r, "p50_ns"),
            (f(ours, "rss_kib_after_lookups") - f(ours, "rss_kib_at_start"))
                / (f(r, "rss_kib_after_lookups") - f(r, "rss_kib_at_start"))
        );
    }
    println!(
        "- import of {} records ({:.0} MB file): read+parse {:.2} s, sort {:.2} s, build {:.2} s, encode {:.2} s; \
         end to end through the store (with fsync) {:.2} s; peak resident {:.0} MiB; register file {:.1} MiB",
        import["records"],
        f(import, "input_bytes") / 1e6,
        f(import, "parse_s"),
        f(import, "sort_s"),
        f(import, "build_s"),
        f(import, "encode_s"),
        f(import, "store_import_s"),
        mib(f(import, "hwm_kib")),
        f(import, "register_file_bytes") / 1048576.0
    );
    println!(
        "- latency: each lookup timed alone with `Instant` (timer overhead p50 {} ns, included); \
         batch: {} lookups ({} random queries, half listed, {} passes), one thread; the batch of callvault is \
         `NumberSet::contains_many` (key-range order in 256 Ki chunks, groups of 16 overlapping reads), the \
         baselines' batch is a loop (they have no batch call)",
        ours["timer_overhead_p50_ns"],
        QUERIES * PASSES,
        QUERIES,
        PASSES
    );
}
