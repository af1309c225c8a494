//! The vault on real files: recovery seals after a crash, tamper detection, wrong
//! master keys, crypto-shredding and the key directory's placement.

use chrono::{DateTime, TimeDelta, Utc};
use governance::{Actor, ReadPermit, ReadRequest};
use uuid::Uuid;
use vault::*;

fn now() -> DateTime<Utc> {
    "2026-11-23T10:00:00Z".parse().unwrap()
}

fn policy() -> policy::Policy {
    let file = concat!(env!("CARGO_MANIFEST_DIR"), "/../../policies/posti.toml");
    policy::parse_policy(file, &std::fs::read_to_string(file).unwrap()).unwrap()
}

fn permit(id: Uuid) -> ReadPermit {
    let actor = Actor::LocalAdministrator;
    governance::authorize_read(
        &policy(),
        &ReadRequest {
            actor: &actor,
            recording_id: id,
            purpose: "verify-agreement",
            reason: "test",
        },
    )
    .unwrap()
}

struct Dirs {
    _root: tempfile::TempDir,
    data: std::path::PathBuf,
    keys: std::path::PathBuf,
}

fn dirs() -> Dirs {
    let root = tempfile::tempdir().unwrap();
    let data = root.path().join("data");
    let keys = root.path().join("keys");
    Dirs {
        _root: root,
        data,
        keys,
    }
}

async fn with_tenant(vault: &Vault) {
    let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../policies/posti.toml")).unwrap();
    let tenant = TenantRecord {
        name: "posti".into(),
        policy_id: "posti".into(),
        recording_enabled: true,
        retention: None,
        service_numbers: vec![],
        agent_patterns: vec![],
        country: None,
        provider: false,
        created_at: now(),
    };
    let version = PolicyVersionRecord {
        tenant: "posti".into(),
        version: 1,
        policy_id: "posti".into(),
        document_version: "1".into(),
        source_file: "posti.toml".into(),
        source_text: text,
        sha256: "x".into(),
        state: PolicyVersionState::Active,
        created_at: now(),
        created_by: "test".into(),
        approved_at: None,
        approved_by: None,
    };
    vault.catalog().create_tenant(&tenant, &version).await.unwrap();
}

fn entry(source: RecordingSource, streams: usize) -> RecordingEntry {
    let id = Uuid::now_v7();
    RecordingEntry {
        recording: RecordingRecord {
            id,
            tenant: "posti".into(),
            policy_version: 1,
            state: RecordingState::Writing,
            source,
            direction: "inbound".into(),
            started_at: now(),
            ended_at: None,
            duration_ms: None,
            service_number: None,
            customer_number: None,
            customer_number_hash: None,
            customer_name: None,
            agent: None,
            purposes: vec!["verify-agreement".into()],
            legal_basis: "legitimate-interest".into(),
            consent: serde_json::json!({}),
            retain_until: now() + TimeDelta::days(180),
            notes: vec![],
            created_at: now(),
            sealed_at: None,
        },
        participants: vec![],
        streams: (0..streams)
            .map(|i| StreamRecord {
                idx: i as i64,
                label: format!("s{i}"),
                participant: None,
                codec: "pcmu".into(),
                sample_rate: 8000,
                object_path: object_path("posti", id, i as i64),
                chunks: 0,
                audio_bytes: 0,
                packets_lost: 0,
                seal: StreamSeal::Open,
            })
            .collect(),
    }
}

fn second(n: u8) -> Vec<u8> {
    vec![n; 8000]
}

/// An imported recording of one stream (half a second of the byte `n`), sealed.
async fn one_sealed(vault: &Vault, n: u8) -> Uuid {
    let mut writer = vault.begin(entry(RecordingSource::Ingest, 1)).await.unwrap();
    writer.put_stream(0, second(n).into(), 4000).await.unwrap();
    writer.seal(None, None, now()).await.unwrap()
}

#[tokio::test]
async fn an_unsealed_capture_gets_a_recovery_seal_on_the_next_start_and_stays_readable() {
    let d = dirs();
    let id;
    {
        let vault = Vault::open(&d.data, &d.keys).await.unwrap();
        with_tenant(&vault).await;
        let writer = vault.begin(entry(RecordingSource::Capture, 2)).await.unwrap();
        id = writer.id();
        let mut first = writer.spool(0).unwrap();
        for n in 1..=3 {
            first.append(&second(n)).unwrap();
        }
        first.sync().unwrap();
        // The second stream never got any audio. Then the process dies: nothing is sealed.
        let _second = writer.spool(1).unwrap();
        assert!(
            vault
                .catalog()
                .list(&RecordingFilter::default())
                .await
                .unwrap()
                .is_empty(),
            "not visible while writing"
        );
        vault.close().await;
    }
    // A torn write at the end of the spool: the start of a record that never finished.
    let (_, segment) = existing_segments(&d.data.join("spool/segments"))
        .unwrap()
        .pop()
        .unwrap();
    let mut bytes = std::fs::read(&segment).unwrap();
    bytes.extend_from_slice(b"CVSR\x01\x02\x03");
    std::fs::write(&segment, bytes).unwrap();

    let vault = Vault::open(&d.data, &d.keys).await.unwrap();
    let report = vault.recover(now() + TimeDelta::hours(1), now()).await.unwrap();
    assert_eq!(report.recovered, vec![id]);
    let entry = vault.catalog().visible_entry(id).await.unwrap();
    assert_eq!(entry.recording.state, RecordingState::Interrupted);
    let stream = vault.read_stream(&permit(id), &entry, 0).await.unwrap();
    assert_eq!(
        stream.audio,
        [second(1), second(2), second(3)].concat(),
        "every verified chunk kept"
    );
    assert_eq!(stream.trailer.seal, "recovered");
    assert!(
        stream
            .trailer
            .cut
            .as_deref()
            .unwrap()
            .contains("process stopped: 3 verified chunks kept"),
        "{:?}",
        stream.trailer.cut
    );
    let empty = vault.read_stream(&permit(id), &entry, 1).await.unwrap();
    assert!(empty.audio.is_empty());
    assert!(
        existing_segments(&d.data.join("spool/segments")).unwrap().is_empty(),
        "spool cleaned"
    );
    // Running recovery again changes nothing.
    assert_eq!(
        vault.recover(now() + TimeDelta::hours(1), now()).await.unwrap(),
        RecoveryReport::default()
    );
}

/// The catalog's insert and seal each run as one statement list in one transaction:
/// a seal changes nothing unless the recording is being written and has every stream it
/// names, and a failed insert leaves nothing behind and no transaction open.
#[tokio::test]
async fn a_seal_changes_nothing_unless_the_recording_is_being_written_with_its_streams() {
    let d = dirs();
    let vault = Vault::open(&d.data, &d.keys).await.unwrap();
    with_tenant(&vault).await;
    let catalog = vault.catalog();
    let late = [ParticipantRecord {
        idx: 0,
        role: "customer".into(),
        name: None,
        number: None,
        number_hash: None,
    }];
    fn seal<'a>(streams: &'a [StreamRecord], new_participants: &'a [ParticipantRecord]) -> SealUpdate<'a> {
        SealUpdate {
            state: RecordingState::Sealed,
            ended_at: None,
            duration_ms: Some(500),
            streams,
            notes: None,
            new_participants,
            sealed_at: now(),
        }
    }

    // Sealed already: a second seal is refused and adds no party.
    let sealed = one_sealed(&vault, 1).await;
    let stored = catalog.entry(sealed).await.unwrap();
    let again = catalog.mark_sealed(sealed, seal(&stored.streams, &late)).await;
    assert!(matches!(again, Err(VaultError::Conflict(_))), "{again:?}");
    let after = catalog.entry(sealed).await.unwrap();
    assert!(after.participants.is_empty());
    assert_eq!(after.recording.duration_ms, stored.recording.duration_ms);

    // Being written, but the seal names a stream it lacks: it stays unsealed.
    let writing = entry(RecordingSource::Capture, 1);
    let id = writing.recording.id;
    catalog.insert_writing(&writing).await.unwrap();
    let mut unknown = writing.streams.clone();
    unknown[0].idx = 7;
    let refused = catalog.mark_sealed(id, seal(&unknown, &[])).await;
    assert!(matches!(refused, Err(VaultError::Conflict(_))), "{refused:?}");
    assert_eq!(
        catalog.entry(id).await.unwrap().recording.state,
        RecordingState::Writing
    );
    // With its own stream it seals, and the late party is stored with it.
    catalog.mark_sealed(id, seal(&writing.streams, &late)).await.unwrap();
    let now_sealed = catalog.entry(id).await.unwrap();
    assert_eq!(now_sealed.recording.state, RecordingState::Sealed);
    assert_eq!(now_sealed.participants.len(), 1);

    // The same id again: the insert fails part-way (its streams would collide too) and
    // leaves nothing; every pooled connection still works afterwards.
    let failed = catalog.insert_writing(&writing).await;
    assert!(failed.is_err());
    assert_eq!(catalog.entry(id).await.unwrap().participants.len(), 1);
    for _ in 0..10 {
        let fresh = entry(RecordingSource::Capture, 2);
        catalog.insert_writing(&fresh).await.unwrap();
        catalog
            .mark_sealed(fresh.recording.id, seal(&fresh.streams, &[]))
            .await
            .unwrap();
    }
}

#[tokio::test]
async fn an_unfinished_import_is_discarded_not_recovered() {
    let d = dirs();
    let vault = Vault::open(&d.data, &d.keys).await.unwrap();
    with_tenant(&vault).await;
    let mut writer = vault.begin(entry(RecordingSource::Ingest, 2)).await.unwrap();
    let id = writer.id();
    writer.put_stream(0, second(1).into(), 8000).await.unwrap();
    drop(writer);
    // Too recent: another process may still be writing it.
    assert_eq!(
        vault.recover(now() - TimeDelta::minutes(10), now()).await.unwrap(),
        RecoveryReport::default()
    );
    let report = vault.recover(now() + TimeDelta::minutes(1), now()).await.unwrap();
    assert_eq!(report.discarded, vec![id]);
    assert!(matches!(vault.catalog().entry(id).await, Err(VaultError::NotFound(_))));
    assert!(!d.data.join("objects/posti").join(id.to_string()).join("0.cvs").exists());
}

#[tokio::test]
async fn a_stream_spliced_from_another_recording_is_rejected() {
    let d = dirs();
    let vault = Vault::open(&d.data, &d.keys).await.unwrap();
    with_tenant(&vault).await;
    let mut ids = Vec::new();
    for n in 0..2 {
        ids.push(one_sealed(&vault, n).await);
    }
    let path = |id: Uuid| d.data.join("objects/posti").join(id.to_string()).join("0.cvs");
    std::fs::copy(path(ids[1]), path(ids[0])).unwrap();
    let entry = vault.catalog().visible_entry(ids[0]).await.unwrap();
    let err = vault.read_stream(&permit(ids[0]), &entry, 0).await.unwrap_err();
    assert_eq!(err.code(), "integrity-failure");
    // A permit for one recording does not open another.
    let other = vault.catalog().visible_entry(ids[1]).await.unwrap();
    assert!(vault.read_stream(&permit(ids[0]), &other, 0).await.is_err());
}

/// Imports `len` bytes of varied audio in `chunk`-byte chunks as one stream, seals it and
/// checks that it reads back byte for byte with the right trailer. Returns the audio and
/// the sealed entry.
async fn import_large(vault: &Vault, len: u32, chunk: usize) -> (Vec<u8>, RecordingEntry) {
    with_tenant(vault).await;
    let audio: Vec<u8> = (0..len).map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8).collect();
    let mut writer = vault.begin(entry(RecordingSource::Ingest, 1)).await.unwrap();
    writer.put_stream(0, audio.clone().into(), chunk).await.unwrap();
    let id = writer.seal(None, None, now()).await.unwrap();
    let entry = vault.catalog().visible_entry(id).await.unwrap();
    let stream = vault.read_stream(&permit(id), &entry, 0).await.unwrap();
    assert_eq!(stream.audio.len(), audio.len());
    assert!(stream.audio == audio, "the audio reads back byte for byte");
    assert_eq!(stream.trailer.chunks, audio.len().div_ceil(chunk) as u64);
    assert_eq!(stream.trailer.blake3, blake3::hash(&audio).to_hex().to_string());
    (audio, entry)
}

#[tokio::test]
async fn a_large_import_written_in_pieces_reads_back_whole_and_truncation_is_detected() {
    let d = dirs();
    let vault = Vault::open(&d.data, &d.keys).await.unwrap();
    // 21 MB in 16,000-byte chunks: 41 pieces written (and written back) one after another.
    let (_, entry) = import_large(&vault, 21_000_000, 16_000).await;
    let id = entry.recording.id;
    // Cut in half: the reader notices the missing tail.
    let path = d.data.join("objects/posti").join(id.to_string()).join("0.cvs");
    let bytes = std::fs::read(&path).unwrap();
    std::fs::write(&path, &bytes[..bytes.len() / 2]).unwrap();
    let err = vault.read_stream(&permit(id), &entry, 0).await.unwrap_err();
    assert_eq!(err.code(), "integrity-failure");
}

#[tokio::test]
async fn a_large_import_to_a_remote_store_goes_up_in_parts_and_reads_back_whole() {
    let d = dirs();
    let store: std::sync::Arc<dyn object_store::ObjectStore> =
        std::sync::Arc::new(object_store::memory::InMemory::new());
    let vault = Vault::open_with_store(&d.data, &d.keys, store.clone()).await.unwrap();
    // 20 MB: three multipart parts of 8 MiB of plaintext, the last one short.
    let (audio, entry) = import_large(&vault, 20_000_000, 8000).await;
    let path = object_store::path::Path::from(entry.streams[0].object_path.as_str());
    let stored = store.get(&path).await.unwrap().bytes().await.unwrap();
    assert!(
        !stored.windows(4096).any(|w| w == &audio[4096..8192]),
        "the remote store holds no plaintext"
    );
}

#[tokio::test]
async fn keys_must_live_outside_the_data_directory_and_match_the_key_store() {
    let d = dirs();
    let inside = d.data.join("keys");
    assert_eq!(Vault::open(&d.data, &inside).await.unwrap_err().code(), "key-directory");
    Vault::open(&d.data, &d.keys).await.unwrap().close().await;
    std::fs::write(d.keys.join("master.key"), "ab".repeat(32)).unwrap();
    assert_eq!(
        Vault::open(&d.data, &d.keys).await.unwrap_err().code(),
        "wrong-master-key"
    );
    std::fs::write(d.keys.join("master.key"), "not hex").unwrap();
    assert_eq!(Vault::open(&d.data, &d.keys).await.unwrap_err().code(), "key-directory");
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(d.keys.join("master.key"), std::fs::Permissions::from_mode(0o644)).unwrap();
    assert!(
        Vault::open(&d.data, &d.keys)
            .await
            .unwrap_err()
            .to_string()
            .contains("readable by others")
    );
}

#[tokio::test]
async fn erasure_destroys_the_key_before_anything_else_and_leaves_a_tombstone() {
    let d = dirs();
    let vault = Vault::open(&d.data, &d.keys).await.unwrap();
    with_tenant(&vault).await;
    let id = one_sealed(&vault, 9).await;
    let tombstone = vault.erase(id, "consent withdrawn", now()).await.unwrap();
    assert_eq!(vault.catalog().tombstone(id).await.unwrap(), Some(tombstone));
    assert!(matches!(vault.catalog().entry(id).await, Err(VaultError::NotFound(_))));
    // The key store file no longer holds the wrapped key, and its WAL was checkpointed.
    let wal = d.keys.join("keystore.sqlite-wal");
    assert!(
        !wal.exists() || std::fs::metadata(&wal).unwrap().len() == 0,
        "WAL truncated after erasure"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_writers_do_not_collide_in_the_key_store_or_catalog() {
    let d = dirs();
    let vault = Vault::open(&d.data, &d.keys).await.unwrap();
    with_tenant(&vault).await;
    let tasks: Vec<_> = (0..24u8)
        .map(|n| {
            let vault = vault.clone();
            tokio::spawn(async move {
                let mut writer = vault.begin(entry(RecordingSource::Ingest, 1)).await?;
                writer.put_stream(0, second(n).into(), 4000).await?;
                writer.seal(None, None, now()).await
            })
        })
        .collect();
    for task in tasks {
        task.await.unwrap().expect("every concurrent write succeeds");
    }
    assert_eq!(
        vault.catalog().list(&RecordingFilter::default()).await.unwrap().len(),
        24
    );
}

#[tokio::test]
async fn a_stream_stored_whole_before_the_crash_is_kept_by_recovery() {
    let d = dirs();
    let id;
    {
        let vault = Vault::open(&d.data, &d.keys).await.unwrap();
        with_tenant(&vault).await;
        let mut writer = vault.begin(entry(RecordingSource::Capture, 2)).await.unwrap();
        id = writer.id();
        let mut first = writer.spool(0).unwrap();
        first.append(&second(1)).unwrap();
        first.append(&second(2)).unwrap();
        // Stream 0 reaches the object store whole; then the process dies before sealing.
        writer.put_spooled(0, first).await.unwrap();
        let mut other = writer.spool(1).unwrap();
        other.append(&second(3)).unwrap();
        other.sync().unwrap();
        vault.close().await;
    }
    let vault = Vault::open(&d.data, &d.keys).await.unwrap();
    assert_eq!(vault.recover(now(), now()).await.unwrap().recovered, vec![id]);
    let entry = vault.catalog().visible_entry(id).await.unwrap();
    let kept = vault.read_stream(&permit(id), &entry, 0).await.unwrap();
    assert_eq!(kept.audio, [second(1), second(2)].concat());
    assert_eq!(kept.trailer.seal, "sealed", "the whole object is kept, not rebuilt");
    let recovered = vault.read_stream(&permit(id), &entry, 1).await.unwrap();
    assert_eq!(recovered.audio, second(3));
    assert_eq!(recovered.trailer.seal, "recovered");
}

#[tokio::test]
async fn a_search_under_a_kept_tenant_finds_nothing_once_the_tenant_changed_until_it_is_read_again() {
    let d = dirs();
    let vault = Vault::open(&d.data, &d.keys).await.unwrap();
    with_tenant(&vault).await;
    let id = one_sealed(&vault, 1).await;
    let filter = RecordingFilter {
        tenant: Some("posti".into()),
        ..Default::default()
    };
    let mut conn = vault.catalog().search_connection().await.unwrap();
    let first = conn.search_tenant("posti").await.unwrap();
    assert!(first.checked, "nothing kept yet: read from the catalog");
    assert_eq!((first.country.as_deref(), first.version), (None, 1));
    let page = conn.search_page(&filter, &first).await.unwrap();
    assert_eq!(page.entries.len(), 1);
    assert_eq!(page.entries[0].recording.id, id);
    assert_eq!(
        page.entries[0].streams.len(),
        1,
        "the streams come with their recording"
    );

    let kept = conn.search_tenant("posti").await.unwrap();
    assert!(!kept.checked, "the second search uses the kept copy");
    assert_eq!(conn.search_page(&filter, &kept).await.unwrap().entries.len(), 1);

    // Another writer (here the pool; in production possibly another process) changes
    // the country: the kept copy no longer matches, so the page comes back empty ...
    let mut tenant = vault.catalog().tenant("posti").await.unwrap();
    tenant.country = Some("FI".into());
    vault.catalog().update_tenant(&tenant).await.unwrap();
    assert!(conn.search_page(&filter, &kept).await.unwrap().entries.is_empty());
    // ... and once read again the search finds the recording under the new country.
    let fresh = conn.checked_search_tenant("posti").await.unwrap();
    assert_eq!(
        (fresh.country.as_deref(), fresh.version, fresh.checked),
        (Some("FI"), 1, true)
    );
    assert_eq!(conn.search_page(&filter, &fresh).await.unwrap().entries.len(), 1);

    // A newly approved policy version outdates the kept copy the same way.
    let catalog = vault.catalog();
    let mut version = catalog.policy_versions("posti").await.unwrap().remove(0);
    version.version = 2;
    version.state = PolicyVersionState::Pending;
    let change = PolicyChangeRecord {
        tenant: "posti".into(),
        version: 2,
        from_version: 1,
        approver_role: "compliance".into(),
        diff: "{}".into(),
        decision: None,
        decided_at: None,
        decided_by: None,
        reason: None,
    };
    catalog.propose_policy_version(version, change).await.unwrap();
    catalog
        .decide_policy_change("posti", 2, PolicyDecision::Approved, "dpo", now(), None)
        .await
        .unwrap();
    let kept = conn.search_tenant("posti").await.unwrap();
    assert_eq!((kept.version, kept.checked), (1, false));
    assert!(conn.search_page(&filter, &kept).await.unwrap().entries.is_empty());
    let fresh = conn.checked_search_tenant("posti").await.unwrap();
    assert_eq!(fresh.version, 2);
    assert_eq!(conn.search_page(&filter, &fresh).await.unwrap().entries.len(), 1);
    assert_eq!(
        conn.search_tenant("posti").await.unwrap().version,
        2,
        "kept for the next search"
    );
}
