//! The 20-million-number register, generated in the real file format: import,
//! exact answers for listed, removed and never-listed numbers, reload from disk,
//! change files, and the swap to a new register while readers look up.

use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use screening::{ImportRequest, MarketingRules, Mode, RegisterStore, Snapshot};

use crate::synthetic::{Stage, Synthetic, h};

const COUNT: u64 = 20_000_000;
const SEED: u64 = 0x5eed_7e57_0007;
const FILES: [(Stage, &str); 3] = [
    (Stage::Full, "TPS-FULL-20260501.txt"),
    (Stage::Changes1, "TPS-CHANGES-20260502.txt"),
    (Stage::Changes2, "TPS-CHANGES-20260503.txt"),
];

fn now() -> DateTime<Utc> {
    "2026-05-03T08:00:00Z".parse().unwrap()
}

fn import(store: &RegisterStore, path: &Path, mode: Mode) -> screening::wire::ImportReport {
    let request = ImportRequest {
        register: "tps".into(),
        path: path.to_owned(),
        format: None,
        mode,
        country: "GB".into(),
        column: None,
        date: None,
        now: now(),
    };
    store.import(&request, &mut |_, _| {}).expect("import")
}

fn file_of(stage: Stage) -> &'static str {
    FILES.iter().find(|(s, _)| *s == stage).unwrap().1
}

/// Exact answers after `stage`: random numbers of the whole space (nearly all never
/// listed), listed numbers and their neighbours, every number a change file touched.
fn check(snapshot: &Snapshot, syn: &Synthetic, stage: Stage, changed: &[u64]) {
    let register = snapshot.register("tps").expect("tps imported");
    let mut listed = 0u64;
    let mut probes = 0u64;
    let mut probe = |key: u64| {
        let want = syn.truth(key, stage);
        assert_eq!(register.contains(key), want.is_some(), "key {key} after {stage:?}");
        if let Some(stage_listing) = want {
            listed += 1;
            let source = register.source_of(key).expect("listed numbers have a source");
            assert_eq!(source.file, file_of(stage_listing), "key {key} after {stage:?}");
        }
        probes += 1;
    };
    for d in 0..1_000_000 {
        probe(syn.random_key(h(SEED, d, 9)));
    }
    for d in 0..200_000 {
        let key = syn.base_key(h(SEED, d, 10) % COUNT);
        for k in [key - 1, key, key + 1] {
            probe(k);
        }
    }
    for &key in changed {
        probe(key);
    }
    // Outside the space: other lengths and countries are never listed.
    for key in [4721234567u64, 44_100_000_000, 441_000_000_000 - 1, 448_000_000_000, 1] {
        assert!(!register.contains(key), "{key}");
    }
    assert!(listed > 200_000 && probes > 1_600_000, "{listed} listed of {probes}");
}

#[test]
fn twenty_million_numbers_exact_through_full_and_change_files_with_atomic_swap() {
    let started = Instant::now();
    let dir = tempfile::tempdir().unwrap();
    let syn = Synthetic::new(COUNT, SEED);
    let paths: Vec<_> = FILES.iter().map(|(_, name)| dir.path().join(name)).collect();
    syn.write_full(&paths[0]).unwrap();
    let changes1 = syn.write_changes(&paths[1], Stage::Changes1).unwrap();
    let changes2 = syn.write_changes(&paths[2], Stage::Changes2).unwrap();
    let changed = syn.changed_keys();
    let generated = started.elapsed();

    let store_dir = dir.path().join("screening");
    let store = RegisterStore::new(&store_dir);
    let size = std::fs::metadata(&paths[0]).unwrap().len();
    assert_eq!(size, COUNT * 14, "12 characters and CRLF per record");
    let mut progress_calls = 0;
    let mut last = 0;
    let request = ImportRequest {
        register: "tps".into(),
        path: paths[0].clone(),
        format: None,
        mode: Mode::Full,
        country: "GB".into(),
        column: None,
        date: Some("2026-05-01".parse().unwrap()),
        now: now(),
    };
    let imported = Instant::now();
    let report = store
        .import(&request, &mut |done, total| {
            assert!(done > last && total == size);
            last = done;
            progress_calls += 1;
        })
        .expect("full import");
    let import_time = imported.elapsed();
    assert_eq!((report.records, report.numbers, report.bad_lines), (COUNT, COUNT, 0));
    assert_eq!((last, report.kind.as_str()), (size, "full"));
    assert!(progress_calls > 100, "progress is reported while reading");
    assert!(
        report.memory_bytes < 64 << 20,
        "{} bytes for 20 million",
        report.memory_bytes
    );
    check(&store.snapshot(), &syn, Stage::Full, &changed);

    // What was stored loads again, with the same answers and sources.
    let loaded = Instant::now();
    let reopened = RegisterStore::new(&store_dir).refresh().expect("load");
    let load_time = loaded.elapsed();
    check(&reopened, &syn, Stage::Full, &changed);
    let info = &reopened.register("tps").unwrap().info;
    assert_eq!(
        (info.sources[0].date.to_string(), info.numbers),
        ("2026-05-01".into(), COUNT)
    );

    // Change file 1 replaces the register while readers look up, in this process
    // (memory snapshots) and in "another" (a second store refreshing from disk).
    let removed = syn.base_key((0..COUNT).find(|&i| syn.removed1(i)).unwrap());
    let added = syn.alt_key((0..COUNT).find(|&j| syn.added1(j)).unwrap());
    let stop = AtomicBool::new(false);
    let seen = [
        AtomicU64::new(0),
        AtomicU64::new(0),
        AtomicU64::new(0),
        AtomicU64::new(0),
    ];
    let reader = |snapshot: &Snapshot, saw_new: &mut bool, counters: (&AtomicU64, &AtomicU64)| {
        let register = snapshot.register("tps").expect("the register never disappears");
        match (register.contains(removed), register.contains(added)) {
            (true, false) => {
                assert!(!*saw_new, "an answer went back to the old register");
                counters.0.fetch_add(1, Ordering::Relaxed);
            }
            (false, true) => {
                *saw_new = true;
                counters.1.fetch_add(1, Ordering::Relaxed);
            }
            mixed => panic!("an answer mixed old and new registers: {mixed:?}"),
        }
    };
    let swap_started = Instant::now();
    std::thread::scope(|scope| {
        scope.spawn(|| {
            let mut saw_new = false;
            while !stop.load(Ordering::Relaxed) {
                reader(&store.snapshot(), &mut saw_new, (&seen[0], &seen[1]));
            }
        });
        scope.spawn(|| {
            let other = RegisterStore::new(&store_dir);
            let mut saw_new = false;
            while !stop.load(Ordering::Relaxed) {
                let snapshot = other.refresh().expect("a refresh never sees a half-written register");
                reader(&snapshot, &mut saw_new, (&seen[2], &seen[3]));
                std::thread::sleep(Duration::from_millis(2));
            }
        });
        let report = import(&store, &paths[1], Mode::Changes { unmarked: None });
        let removed1 = (0..COUNT).filter(|&i| syn.removed1(i)).count() as u64;
        assert_eq!(report.records as usize, changes1);
        assert_eq!(
            (report.removed, report.added, report.unchanged),
            (removed1, changes1 as u64 - removed1, 0)
        );
        assert_eq!(report.numbers, COUNT - removed1 + report.added);
        let deadline = Instant::now() + Duration::from_secs(30);
        while (seen[1].load(Ordering::Relaxed) == 0 || seen[3].load(Ordering::Relaxed) == 0)
            && Instant::now() < deadline
        {
            std::thread::sleep(Duration::from_millis(5));
        }
        stop.store(true, Ordering::Relaxed);
    });
    let counts: Vec<u64> = seen.iter().map(|c| c.load(Ordering::Relaxed)).collect();
    assert!(
        counts[0] > 0 && counts[1] > 0 && counts[3] > 0,
        "readers saw both registers: {counts:?}"
    );
    let swap_time = swap_started.elapsed();
    check(&store.snapshot(), &syn, Stage::Changes1, &changed);

    // Change file 2: markers before the record; re-added numbers date from it.
    let report = import(&store, &paths[2], Mode::Changes { unmarked: None });
    assert_eq!(report.records as usize, changes2);
    assert_eq!(report.added + report.removed, changes2 as u64);
    let snapshot = RegisterStore::new(&store_dir).refresh().unwrap();
    check(&snapshot, &syn, Stage::Changes2, &changed);
    assert_eq!(snapshot.register("tps").unwrap().info.sources.len(), 3);

    // The decision for a Webeo-like policy, through the public answer.
    let names = ["tps".to_owned()];
    let rules = MarketingRules {
        registers: &names,
        no_unsolicited_calls_to_listed: true,
    };
    let listed = syn.base_key((0..COUNT).find(|&i| !syn.removed1(i)).unwrap());
    let answer = screening::answer(&snapshot, &screening::e164_of_key(listed), listed, Some(&rules), None);
    assert!(!answer.may_call_for_marketing && answer.registers[0].file == file_of(Stage::Full));
    let answer = screening::answer(&snapshot, &screening::e164_of_key(removed), removed, Some(&rules), None);
    assert_eq!(
        answer.may_call_for_marketing,
        syn.truth(removed, Stage::Changes2).is_none()
    );

    eprintln!(
        "20M register: generated files in {generated:?}, imported in {import_time:?} ({} bytes in memory), \
         loaded in {load_time:?}, change file swapped in {swap_time:?} under readers {counts:?}; total {:?}",
        report.memory_bytes,
        started.elapsed()
    );
}
