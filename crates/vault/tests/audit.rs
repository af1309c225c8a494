//! The audit log on a real SQLite catalog and a real key directory: group commit,
//! tampering named by event, signed checkpoints (stored, kept, forged), alerts on
//! repeated denials, and logs written before the record format.

use std::borrow::Cow;

use chrono::{DateTime, TimeDelta, Utc};
use governance::{ALERT_ACTION, AuditEvent, DenialRule, GENESIS_HASH, Outcome, Problem};
use sqlx::Row;
use vault::{AuditSettings, Catalog, Checkpoint, SigningKey};

struct Log {
    dir: tempfile::TempDir,
    catalog: Catalog,
}

impl Log {
    async fn open() -> Self {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("keys")).unwrap();
        let catalog = open_catalog(dir.path()).await;
        Log { dir, catalog }
    }

    async fn reopen(&mut self) {
        self.catalog.close().await;
        self.catalog = open_catalog(self.dir.path()).await;
    }

    fn keys(&self) -> std::path::PathBuf {
        self.dir.path().join("keys")
    }

    async fn append(&self, n: i64) {
        for i in 0..n {
            self.catalog
                .audit()
                .append(event(i, "alice", Outcome::Allowed))
                .await
                .unwrap();
        }
    }

    async fn sql(&self, statement: &str) {
        sqlx::query(statement)
            .execute(self.catalog.audit().pool())
            .await
            .unwrap();
    }

    async fn fault(&self, kept: Option<&Checkpoint>) -> Option<(i64, Problem)> {
        let report = self.catalog.audit().verify(kept).await.unwrap();
        report.fault.map(|f| (f.seq, f.problem))
    }
}

async fn open_catalog(dir: &std::path::Path) -> Catalog {
    Catalog::open_with_audit_keys(&dir.join("catalog.sqlite"), Some(&dir.join("keys")))
        .await
        .unwrap()
}

fn at(second: i64) -> DateTime<Utc> {
    DateTime::from_timestamp(1_800_000_000 + second, 0).unwrap()
}

fn event(i: i64, actor: &str, outcome: Outcome) -> AuditEvent {
    AuditEvent::new(at(i), actor, "recording.export", outcome)
        .tenant("posti")
        .purpose("quality", &format!("QA review {i:04}"))
        .detail(serde_json::json!({"format": "wav", "n": i}))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_appends_are_committed_in_batches_as_one_unbroken_chain() {
    let log = Log::open().await;
    let tasks: Vec<_> = (0..300)
        .map(|i| {
            let audit = log.catalog.audit().clone();
            tokio::spawn(async move { audit.append(event(i, "alice", Outcome::Allowed)).await.unwrap() })
        })
        .collect();
    let mut seqs = Vec::new();
    for task in tasks {
        let stored = task.await.unwrap();
        assert_eq!(stored.hash.len(), 64);
        seqs.push(stored.seq);
    }
    seqs.sort();
    assert_eq!(seqs, (1..=300).collect::<Vec<_>>());
    let report = log.catalog.audit().verify(None).await.unwrap();
    assert_eq!((report.events, report.fault), (300, None));
    let events = log.catalog.audit_events().await.unwrap();
    assert_eq!(events.len(), 300);
    assert_eq!(events[0].prev_hash, GENESIS_HASH);
    assert!(events.windows(2).all(|w| w[1].prev_hash == w[0].hash));
    assert_eq!(events.last().unwrap().hash, report.head_hash);
}

#[tokio::test]
async fn the_chain_continues_after_a_reopen() {
    let mut log = Log::open().await;
    log.append(3).await;
    log.reopen().await;
    let stored = log.catalog.append_audit(&event(9, "bob", Outcome::Done)).await.unwrap();
    assert_eq!(stored.seq, 4);
    let events = log.catalog.audit_events().await.unwrap();
    assert_eq!(events[3].prev_hash, events[2].hash);
    assert_eq!(events[3].event, event(9, "bob", Outcome::Done));
    assert_eq!(log.fault(None).await, None);
}

/// Each tampering, done with SQL on the catalog file, and the event `audit verify` must name.
#[tokio::test]
async fn tampering_is_found_and_names_the_first_bad_event() {
    let flip_a_byte = "UPDATE audit_log SET record = CAST(replace(CAST(record AS TEXT), 'QA review 0003', 'QA review 0004') AS BLOB) WHERE seq = 4";
    type Case = (&'static str, Vec<&'static str>, i64, fn(&Problem) -> bool);
    let cases: Vec<Case> = vec![
        ("flip a byte", vec![flip_a_byte], 4, |p| *p == Problem::Altered),
        (
            "flip a byte of a hash",
            vec!["UPDATE audit_log SET hash = zeroblob(32) WHERE seq = 6"],
            6,
            |p| *p == Problem::Altered,
        ),
        (
            "delete one event",
            vec!["DELETE FROM audit_log WHERE seq = 5"],
            5,
            |p| matches!(p, Problem::Missing { next_stored: 6 }),
        ),
        (
            "swap two events",
            vec![
                "UPDATE audit_log SET seq = -1 WHERE seq = 3",
                "UPDATE audit_log SET seq = 3 WHERE seq = 7",
                "UPDATE audit_log SET seq = 7 WHERE seq = -1",
            ],
            3,
            |p| matches!(p, Problem::Misplaced { holds: 7 }),
        ),
        (
            "truncate the tail",
            vec!["DELETE FROM audit_log WHERE seq > 8"],
            9,
            |p| {
                matches!(
                    p,
                    Problem::Truncated {
                        last: 8,
                        covered: 10,
                        ..
                    }
                )
            },
        ),
        (
            "replace a record by garbage",
            vec!["UPDATE audit_log SET record = 'garbage' WHERE seq = 2"],
            2,
            |p| matches!(p, Problem::Undecodable(_)),
        ),
        (
            "alter the head of a stored checkpoint",
            vec![
                "UPDATE audit_checkpoints SET hash = (SELECT lower(hex(hash)) FROM audit_log WHERE seq = 9), seq = 9 WHERE seq = 10",
            ],
            9,
            |p| matches!(p, Problem::BadSignature { .. }),
        ),
    ];
    for (name, statements, seq, expected) in cases {
        let log = Log::open().await;
        log.append(10).await;
        log.catalog.audit().checkpoint(at(100)).await.unwrap().unwrap();
        assert_eq!(log.fault(None).await, None, "{name}: untouched");
        for statement in statements {
            log.sql(statement).await;
        }
        let (found, problem) = log.fault(None).await.unwrap_or_else(|| panic!("{name}: not found"));
        assert_eq!(found, seq, "{name}: {problem:?}");
        assert!(expected(&problem), "{name}: {problem:?}");
    }
}

/// Verification reads 16,384 events at a time: faults in a later chunk and at a chunk
/// boundary are named like any other.
#[tokio::test]
async fn a_long_log_is_verified_in_chunks_and_faults_across_them_are_named() {
    let cases: [(&str, i64); 4] = [
        ("", 0),
        ("UPDATE audit_log SET hash = zeroblob(32) WHERE seq = 17000", 17000),
        ("DELETE FROM audit_log WHERE seq = 16385", 16385),
        ("DELETE FROM audit_log WHERE seq = 16384", 16384),
    ];
    for (statement, seq) in cases {
        let log = Log::open().await;
        for start in (0..20_000).step_by(5000) {
            let events = (start..start + 5000)
                .map(|i| event(i, "system", Outcome::Done))
                .collect();
            log.catalog.audit().append_bulk(events, at(30_000)).await.unwrap();
        }
        if statement.is_empty() {
            let report = log.catalog.audit().verify(None).await.unwrap();
            assert_eq!((report.events, report.fault), (20_000, None));
            continue;
        }
        log.sql(statement).await;
        let (found, _) = log.fault(None).await.expect(statement);
        assert_eq!(found, seq, "{statement}");
    }
}

#[tokio::test]
async fn a_kept_checkpoint_proves_the_log_still_extends_it() {
    let log = Log::open().await;
    log.append(5).await;
    let kept = log.catalog.audit().checkpoint(at(50)).await.unwrap().unwrap();
    assert_eq!(kept.seq, 5);
    log.append(3).await;
    let report = log.catalog.audit().verify(Some(&kept)).await.unwrap();
    assert_eq!((report.events, report.kept, report.fault), (8, Some(5), None));

    // Whoever holds the data directory rewrites event 3 and every hash after it, and
    // removes the stored checkpoints: only the kept checkpoint tells.
    let mut rows: Vec<(i64, AuditEvent)> = log
        .catalog
        .audit_events()
        .await
        .unwrap()
        .into_iter()
        .map(|e| (e.seq, e.event))
        .collect();
    rows[2].1.reason = Some("nothing to see".into());
    log.sql("DELETE FROM audit_checkpoints").await;
    let mut prev_hash = log.catalog.audit_events().await.unwrap()[1].hash.clone();
    for (seq, event) in rows.iter().skip(2) {
        let record = governance::encode_record(*seq, &prev_hash, event);
        let hash = governance::record_hash(&record);
        sqlx::query("UPDATE audit_log SET record = ?, hash = ? WHERE seq = ?")
            .bind(&record)
            .bind(hash.as_slice())
            .bind(seq)
            .execute(log.catalog.audit().pool())
            .await
            .unwrap();
        prev_hash = hex::encode(hash);
    }
    assert_eq!(
        log.fault(None).await,
        None,
        "a consistent rewrite passes without the kept checkpoint"
    );
    let (seq, problem) = log.fault(Some(&kept)).await.unwrap();
    assert_eq!(seq, 5);
    assert!(matches!(problem, Problem::DiffersFromCheckpoint { .. }), "{problem:?}");

    // Cut back to 4 events: the kept checkpoint of event 5 names event 5 as missing.
    log.sql("DELETE FROM audit_log WHERE seq > 4").await;
    assert!(matches!(
        log.fault(Some(&kept)).await,
        Some((5, Problem::Truncated { last: 4, .. }))
    ));
}

#[tokio::test]
async fn a_forged_kept_checkpoint_is_refused() {
    let log = Log::open().await;
    log.append(4).await;
    let kept = log.catalog.audit().checkpoint(at(50)).await.unwrap().unwrap();

    let mut altered = kept.clone();
    altered.seq = 3;
    assert!(matches!(
        log.fault(Some(&altered)).await,
        Some((3, Problem::BadSignature { .. }))
    ));

    // Signed by another key: valid signature, but not this log's key.
    let other_keys = tempfile::tempdir().unwrap();
    let other = SigningKey::load_or_create(other_keys.path()).unwrap();
    let forged = other.sign(kept.seq, &kept.hash, kept.at);
    assert!(forged.signature_valid());
    match log.fault(Some(&forged)).await {
        Some((4, Problem::UnknownKey { key_id, .. })) => assert_eq!(key_id, forged.key_id),
        other => panic!("{other:?}"),
    }

    // The signing key is in the key directory, mode 0600; the data directory holds none.
    let key_file = log.keys().join(vault::SIGNING_KEY_FILE);
    let mode = std::os::unix::fs::PermissionsExt::mode(&std::fs::metadata(key_file).unwrap().permissions());
    assert_eq!(mode & 0o777, 0o600);
}

#[tokio::test]
async fn checkpoints_come_every_n_events_at_intervals_and_after_bulk_operations() {
    let log = Log::open().await;
    log.catalog
        .audit()
        .configure(AuditSettings {
            checkpoint_every: 10,
            checkpoint_interval: Some(TimeDelta::seconds(1000)),
            ..AuditSettings::default()
        })
        .await
        .unwrap();
    log.append(25).await; // one at event 1 (the first), 11, 21
    let seqs = |c: Vec<Checkpoint>| c.iter().map(|c| c.seq).collect::<Vec<_>>();
    assert_eq!(seqs(log.catalog.audit().checkpoints().await.unwrap()), vec![1, 11, 21]);
    // Event time passes the interval: the next append is checkpointed.
    log.catalog
        .audit()
        .append(event(5000, "alice", Outcome::Done))
        .await
        .unwrap();
    assert_eq!(
        seqs(log.catalog.audit().checkpoints().await.unwrap()),
        vec![1, 11, 21, 26]
    );
    // A bulk operation: one checkpoint after its events.
    let bulk: Vec<_> = (0..3).map(|i| event(5001 + i, "system", Outcome::Done)).collect();
    log.catalog.audit().append_bulk(bulk, at(5010)).await.unwrap();
    let all = log.catalog.audit().checkpoints().await.unwrap();
    assert_eq!(seqs(all.clone()), vec![1, 11, 21, 26, 29]);
    assert!(all.iter().all(Checkpoint::signature_valid));
    assert_eq!(log.fault(None).await, None);
}

#[tokio::test]
async fn repeated_denials_by_one_user_raise_one_alert_and_appear_in_the_report() {
    let log = Log::open().await;
    let rule = DenialRule {
        threshold: 3,
        window: TimeDelta::seconds(60),
    };
    log.catalog
        .audit()
        .configure(AuditSettings {
            denials: rule,
            ..AuditSettings::default()
        })
        .await
        .unwrap();
    // eve: denied at 0, 10, 20, 30 (the 4th exceeds 3 in 60 s), 40; bob: at 0 and 100.
    for (second, actor) in [
        (0, "eve"),
        (0, "bob"),
        (10, "eve"),
        (20, "eve"),
        (30, "eve"),
        (40, "eve"),
        (100, "bob"),
    ] {
        log.catalog
            .audit()
            .append(event(second, actor, Outcome::Denied))
            .await
            .unwrap();
    }
    // Far apart, eve's denials never exceed the window's threshold again.
    for second in [1000, 1100, 1200, 1300] {
        log.catalog
            .audit()
            .append(event(second, "eve", Outcome::Denied))
            .await
            .unwrap();
    }
    let events = log.catalog.audit_events().await.unwrap();
    let alerts: Vec<_> = events.iter().filter(|e| e.event.action == ALERT_ACTION).collect();
    assert_eq!(alerts.len(), 1, "{alerts:?}");
    let alert = alerts[0];
    assert_eq!(alert.seq, 6, "right after eve's 4th denial (event 5)");
    assert_eq!((alert.event.at, alert.event.actor.as_str()), (at(30), "system"));
    assert_eq!(alert.event.detail["user"], "eve");
    assert_eq!(alert.event.detail["denials"], 4);

    let report = log
        .catalog
        .audit()
        .denial_report(Some(at(0)), Some(at(120)))
        .await
        .unwrap();
    let users: Vec<_> = report
        .users
        .iter()
        .map(|u| (u.user.as_str(), u.denials, u.alerts))
        .collect();
    assert_eq!(users, vec![("eve", 5, 1), ("bob", 2, 0)]);
    assert_eq!(report.alerts.len(), 1);
    assert_eq!(log.fault(None).await, None);
}

/// A catalog written before the record format (0001 only, the old hash over JSON) is
/// migrated into records of format 1 that still verify, and new events follow them.
#[tokio::test]
async fn a_log_from_before_the_record_format_still_verifies_after_migration() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("catalog.sqlite");
    let pool = sqlx::SqlitePool::connect(&format!("sqlite://{}?mode=rwc", file.display()))
        .await
        .unwrap();
    let all = sqlx::migrate!("./migrations/catalog");
    let mut first = sqlx::migrate!("./migrations/catalog");
    first.migrations = Cow::Owned(all.migrations.iter().take(1).cloned().collect());
    first.run(&pool).await.unwrap();
    let mut prev = GENESIS_HASH.to_owned();
    let old = [
        event(1, "admin", Outcome::Done),
        event(2, "eve", Outcome::Denied).detail(serde_json::json!({"code": "purpose-not-allowed", "x": [1, 2.5]})),
        AuditEvent::new(at(3), "admin", "tenant.create", Outcome::Done),
    ];
    for (i, e) in old.iter().enumerate() {
        let hash = governance::chain_hash(&prev, e);
        sqlx::query("INSERT INTO audit_events (seq, at, actor, action, outcome, tenant, recording_id, purpose, reason, detail, prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")
            .bind(i as i64 + 1)
            .bind(vault::ts(e.at))
            .bind(&e.actor)
            .bind(&e.action)
            .bind(e.outcome.as_str())
            .bind(&e.tenant)
            .bind(&e.recording_id)
            .bind(&e.purpose)
            .bind(&e.reason)
            .bind(e.detail.to_string())
            .bind(&prev)
            .bind(&hash)
            .execute(&pool)
            .await
            .unwrap();
        prev = hash;
    }
    pool.close().await;

    std::fs::create_dir(dir.path().join("keys")).unwrap();
    let catalog = open_catalog(dir.path()).await;
    let events = catalog.audit_events().await.unwrap();
    assert_eq!(events.iter().map(|e| e.event.clone()).collect::<Vec<_>>(), old.to_vec());
    assert_eq!(events[2].hash, prev);
    let added = catalog.append_audit(&event(4, "admin", Outcome::Done)).await.unwrap();
    assert_eq!((added.seq, added.prev_hash.as_str()), (4, prev.as_str()));
    assert_eq!(catalog.audit().verify(None).await.unwrap().fault, None);

    sqlx::query(
        "UPDATE audit_log SET record = CAST(replace(CAST(record AS TEXT), '4:done', '6:failed') AS BLOB) WHERE seq = 3",
    )
    .execute(catalog.audit().pool())
    .await
    .unwrap();
    let fault = catalog.audit().verify(None).await.unwrap().fault.unwrap();
    assert_eq!((fault.seq, fault.problem), (3, Problem::Altered));
    let denials: i64 = sqlx::query("SELECT count(*) FROM audit_denials WHERE actor = 'eve'")
        .fetch_one(catalog.audit().pool())
        .await
        .unwrap()
        .get(0);
    assert_eq!(denials, 1);
}

/// The audit log lives in its own file. A catalog from before the split had its events
/// moved there at open (above); a move cut short after the audit file committed (both
/// hold the same chain) is finished at the next open, and two different chains are
/// refused rather than merged.
#[tokio::test]
async fn events_left_in_the_catalog_by_a_cut_short_move_are_dropped_and_a_different_chain_refused() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("keys")).unwrap();
    let catalog = open_catalog(dir.path()).await;
    for i in 1..=3 {
        catalog.append_audit(&event(i, "admin", Outcome::Done)).await.unwrap();
    }
    catalog.close().await;
    let audit_file = vault::audit_file_of(&dir.path().join("catalog.sqlite"));
    assert!(audit_file.exists(), "{audit_file:?}");

    // The state a crash between the two commits of the move leaves: the same chain in both.
    let copy_back = |extra: &'static str| {
        let dir = dir.path().to_owned();
        let audit_file = audit_file.clone();
        async move {
            let catalog_file = dir.join("catalog.sqlite");
            let pool = sqlx::SqlitePool::connect(&format!("sqlite://{}", catalog_file.display()))
                .await
                .unwrap();
            let mut conn = pool.acquire().await.unwrap();
            sqlx::query("ATTACH DATABASE ? AS a")
                .bind(audit_file.to_str().unwrap())
                .execute(&mut *conn)
                .await
                .unwrap();
            sqlx::query("INSERT INTO main.audit_log SELECT * FROM a.audit_log")
                .execute(&mut *conn)
                .await
                .unwrap();
            if !extra.is_empty() {
                sqlx::query(extra).execute(&mut *conn).await.unwrap();
            }
            drop(conn);
            pool.close().await;
        }
    };
    copy_back("").await;
    let catalog = open_catalog(dir.path()).await;
    let left: i64 = sqlx::query("SELECT count(*) FROM audit_log")
        .fetch_one(catalog.pool())
        .await
        .unwrap()
        .get(0);
    assert_eq!(left, 0, "the catalog's copy is dropped");
    assert_eq!(catalog.audit_events().await.unwrap().len(), 3);
    assert_eq!(catalog.audit().verify(None).await.unwrap().fault, None);
    catalog.close().await;

    // A catalog holding a chain that is not the audit file's is refused, not merged.
    copy_back("DELETE FROM main.audit_log WHERE seq = 3").await;
    let refused =
        Catalog::open_with_audit_keys(&dir.path().join("catalog.sqlite"), Some(&dir.path().join("keys"))).await;
    assert!(
        matches!(&refused, Err(vault::VaultError::Corrupt(m)) if m.contains("not the same ones")),
        "{:?}",
        refused.err()
    );
}
