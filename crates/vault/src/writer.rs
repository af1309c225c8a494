//! Writing one recording: encrypted stream objects, then the seal that makes it visible.
//!
//! An import hides its fixed costs behind the work on the audio: the catalog row
//! (`writing`, invisible) is inserted and the data key committed to the key store while
//! the first stream is encrypted and written. An object reaches its final path only
//! after the row exists (so start-up recovery can always find and discard it), and the
//! seal, which makes the recording visible, waits for the row, the durable objects and
//! the durable key. Data keys of imports running at the same time are committed
//! together (group commit: one key-store fsync for the batch).

use std::io::Write;
use std::path::{Path, PathBuf};

use chrono::{DateTime, NaiveDate, Utc};
use object_store::path::Path as ObjectPath;
use uuid::Uuid;

use crate::Vault;
use crate::crypto::{ChunkSealer, MAX_CHUNK_PLAINTEXT, SecretKey, StreamBinding, sealed_chunk_len, stream_header};
use crate::error::VaultError;
use crate::keystore::KeyStore;
use crate::reader::StreamTrailer;
use crate::records::{ParticipantRecord, RecordingEntry, RecordingState, StreamSeal};
use crate::spool::SpoolWriter;

/// Plaintext per part of a pipelined object write to a remote store (S3 needs parts
/// of at least 5 MiB): part k is written while part k+1 is encrypted. Streams up to
/// this size take one write.
const REMOTE_PART_BYTES: usize = 8 << 20;

/// Parts written concurrently with the encryption of the next one.
const PARTS_IN_FLIGHT: usize = 4;

/// At most this many data keys go into one key-store transaction.
const MAX_KEY_BATCH: usize = 256;

/// The key store's commit of a new data key, running while the objects are written.
pub(crate) type KeyCommit = tokio::task::JoinHandle<Result<(), VaultError>>;

/// Waits for a data key's durable commit.
pub(crate) async fn join_key_commit(commit: KeyCommit) -> Result<(), VaultError> {
    commit
        .await
        .map_err(|e| VaultError::Corrupt(format!("key store task: {e}")))?
}

/// The insert of an import's catalog row (`writing`), running while its first stream is
/// encrypted.
type RowInsert = tokio::task::JoinHandle<Result<(), VaultError>>;

async fn join_row(row: RowInsert) -> Result<(), VaultError> {
    row.await
        .map_err(|e| VaultError::Corrupt(format!("catalog insert task: {e}")))?
}

impl Vault {
    /// Starts an import: the catalog row and the data key's commit start now and run
    /// while the caller encrypts and writes the streams (see the module documentation).
    pub(crate) fn begin_import(&self, entry: RecordingEntry) -> RecordingWriter {
        let id = entry.recording.id;
        let day = entry.recording.retain_until.date_naive();
        let key = SecretKey::random();
        let row = {
            let (catalog, entry) = (self.catalog().clone(), entry.clone());
            tokio::spawn(async move { catalog.insert_writing(&entry).await })
        };
        let commit = self
            .key_commits
            .get_or_init(|| KeyCommitQueue::start(self.keystore().clone()))
            .commit(id, day, &key);
        let mut writer = RecordingWriter::new(self.clone(), entry, key, Some(commit));
        writer.row = Some(row);
        writer
    }
}

/// Group commit of imports' data keys: keys asked for while a key-store transaction
/// runs go together into the next one, so N concurrent imports pay about one fsync of
/// the key store instead of N (`synchronous = FULL`). A lone import waits for nothing.
#[derive(Clone)]
pub(crate) struct KeyCommitQueue {
    keystore: KeyStore,
    requests: tokio::sync::mpsc::UnboundedSender<KeyRequest>,
}

struct KeyRequest {
    recording: Uuid,
    day: NaiveDate,
    key: SecretKey,
    done: tokio::sync::oneshot::Sender<Result<(), VaultError>>,
}

impl KeyCommitQueue {
    /// Starts the committing task on the current runtime.
    pub(crate) fn start(keystore: KeyStore) -> Self {
        let (requests, receiver) = tokio::sync::mpsc::unbounded_channel();
        tokio::spawn(commit_key_batches(keystore.clone(), receiver));
        KeyCommitQueue { keystore, requests }
    }

    /// Queues `key` as the data key of `recording` (wrapped by the KEK of `day`); the
    /// handle answers once it is durable. Should the committing task be gone (its
    /// runtime shut down), the key is committed on its own.
    fn commit(&self, recording: Uuid, day: NaiveDate, key: &SecretKey) -> KeyCommit {
        let (done, answer) = tokio::sync::oneshot::channel();
        let request = KeyRequest {
            recording,
            day,
            key: key.clone(),
            done,
        };
        let keystore = self.keystore.clone();
        let key = key.clone();
        let queued = self.requests.send(request).is_ok();
        tokio::spawn(async move {
            if queued && let Ok(result) = answer.await {
                return result;
            }
            keystore.store_data_key(recording, day, &key).await
        })
    }
}

/// The committing task: one transaction for every request waiting when it starts.
async fn commit_key_batches(keystore: KeyStore, mut requests: tokio::sync::mpsc::UnboundedReceiver<KeyRequest>) {
    let mut batch: Vec<KeyRequest> = Vec::new();
    while let Some(first) = requests.recv().await {
        batch.push(first);
        while batch.len() < MAX_KEY_BATCH {
            match requests.try_recv() {
                Ok(next) => batch.push(next),
                Err(_) => break,
            }
        }
        let keys: Vec<(Uuid, NaiveDate, SecretKey)> =
            batch.iter().map(|r| (r.recording, r.day, r.key.clone())).collect();
        let result = keystore.store_data_keys(&keys).await;
        match result {
            Ok(()) => {
                for request in batch.drain(..) {
                    let _ = request.done.send(Ok(()));
                }
            }
            Err(err) if batch.len() == 1 => {
                if let Some(request) = batch.pop() {
                    let _ = request.done.send(Err(err));
                }
            }
            Err(_) => {
                // One bad key must not fail the others: each is committed on its own.
                for request in batch.drain(..) {
                    let result = keystore
                        .store_data_key(request.recording, request.day, &request.key)
                        .await;
                    let _ = request.done.send(result);
                }
            }
        }
    }
}

/// A recording being written. Dropping it without `seal` leaves a `writing` row that
/// start-up recovery discards (ingest) or closes with a recovery seal (capture).
pub struct RecordingWriter {
    vault: Vault,
    entry: RecordingEntry,
    key: SecretKey,
    /// How many participants the catalog row already has.
    stored_participants: usize,
    /// The data key's commit when it still runs (imports); awaited before sealing.
    key_commit: Option<KeyCommit>,
    /// The catalog row's insert when it still runs (imports); awaited before the first
    /// object reaches its final path, and before sealing.
    row: Option<RowInsert>,
}

impl RecordingWriter {
    pub(crate) fn new(vault: Vault, entry: RecordingEntry, key: SecretKey, key_commit: Option<KeyCommit>) -> Self {
        let stored_participants = entry.participants.len();
        RecordingWriter {
            vault,
            entry,
            key,
            stored_participants,
            key_commit,
            row: None,
        }
    }

    /// Waits until the data key is durable in the key store.
    async fn key_durable(&mut self) -> Result<(), VaultError> {
        match self.key_commit.take() {
            Some(commit) => join_key_commit(commit).await,
            None => Ok(()),
        }
    }

    /// Waits until the catalog row exists.
    async fn row_written(&mut self) -> Result<(), VaultError> {
        match self.row.take() {
            Some(row) => join_row(row).await,
            None => Ok(()),
        }
    }

    pub fn id(&self) -> uuid::Uuid {
        self.entry.recording.id
    }

    fn binding(&self, idx: i64) -> Result<StreamBinding, VaultError> {
        let stream_index = u32::try_from(idx).map_err(|_| VaultError::Corrupt(format!("stream index {idx}")))?;
        Ok(StreamBinding {
            recording_id: self.id(),
            stream_index,
        })
    }

    fn stream_position(&self, idx: i64) -> Result<usize, VaultError> {
        self.entry
            .streams
            .iter()
            .position(|s| s.idx == idx)
            .ok_or_else(|| VaultError::NotFound(format!("stream {idx} of recording {}", self.id())))
    }

    /// Encrypts a whole stream (import path) in chunks of `chunk_bytes` and stores it
    /// durably. On the local file system the stream is encrypted into a staging file
    /// on a blocking thread, piece by piece with the disk writing each piece back while
    /// the next is encrypted (BLAKE3 on a second thread), renamed into place once the
    /// catalog row exists, and fsynced ([`write_local_object`]); for a remote store it
    /// is written after the row exists, in pipelined parts.
    pub async fn put_stream(&mut self, idx: i64, audio: bytes::Bytes, chunk_bytes: usize) -> Result<(), VaultError> {
        let pos = self.stream_position(idx)?;
        let binding = self.binding(idx)?;
        let chunk_bytes = chunk_bytes.clamp(1, MAX_CHUNK_PLAINTEXT);
        let chunks = audio.len().div_ceil(chunk_bytes);
        let trailer_len = trailer(chunks, audio.len(), &blake3::Hasher::new()).len();
        let header = stream_header(binding);
        let sealer = ChunkSealer::new(&self.key, binding);
        let path = ObjectPath::from(self.entry.streams[pos].object_path.as_str());
        let trailer_chunk = sealed_chunk_len(trailer_len);
        let audio_bytes = audio.len();
        let local_root = self.vault.local_root.clone();
        match local_root {
            Some(root) => {
                let file = root.join(path.as_ref());
                let row = self.row.take();
                let runtime = tokio::runtime::Handle::current();
                tokio::task::spawn_blocking(move || {
                    write_local_object(&file, &header, &sealer, &audio, chunk_bytes, row.map(|r| (r, runtime)))
                })
                .await
                .map_err(|e| VaultError::Corrupt(format!("object write task: {e}")))??;
            }
            None => {
                self.row_written().await?;
                if audio.len() <= REMOTE_PART_BYTES {
                    // One allocation of the exact object size, filled piece by piece.
                    let mut object =
                        Vec::with_capacity(header.len() + audio.len() + sealed_chunk_len(0) * chunks + trailer_chunk);
                    write_pieces(&mut object, &header, &sealer, &audio, chunk_bytes, |_, _, _| {})?;
                    debug_assert_eq!(object.len(), object.capacity());
                    self.vault.objects().put(&path, object.into()).await?;
                } else {
                    let mut upload = self.vault.objects().put_multipart(&path).await?;
                    let layout = PartLayout {
                        chunk_bytes,
                        part_bytes: REMOTE_PART_BYTES,
                        trailer_chunk,
                    };
                    let written = put_parts(upload.as_mut(), &sealer, &header, &audio, layout).await;
                    match written {
                        Ok(()) => {
                            upload.complete().await?;
                        }
                        Err(err) => {
                            let _ = upload.abort().await;
                            return Err(err);
                        }
                    }
                }
            }
        }
        let stream = &mut self.entry.streams[pos];
        stream.chunks = chunks as i64;
        stream.audio_bytes = audio_bytes as i64;
        stream.seal = StreamSeal::Sealed;
        Ok(())
    }

    /// A writer for a live stream (capture path), on the shared segment spool (the
    /// capture's data key is durable before `Vault::begin` returns).
    pub fn spool(&self, idx: i64) -> Result<SpoolWriter, VaultError> {
        self.stream_position(idx)?;
        Ok(SpoolWriter::create(
            self.vault.segment_spool()?,
            &self.key,
            self.binding(idx)?,
        ))
    }

    /// Moves a finished live stream from the spool into the object store.
    pub async fn put_spooled(&mut self, idx: i64, spool: SpoolWriter) -> Result<(), VaultError> {
        let pos = self.stream_position(idx)?;
        let (segments, binding, trailer) = spool.finish()?;
        let object = segments.assemble(binding)?;
        let path = ObjectPath::from(self.entry.streams[pos].object_path.as_str());
        self.vault.objects().put(&path, object.into()).await?;
        self.vault.make_durable(&path).await?;
        segments.release(binding);
        let stream = &mut self.entry.streams[pos];
        stream.chunks = trailer.chunks as i64;
        stream.audio_bytes = trailer.audio_bytes as i64;
        stream.seal = StreamSeal::Sealed;
        Ok(())
    }

    /// Adds a party who joined after the recording began (stored when it is sealed);
    /// its `idx` is assigned here.
    pub fn add_participant(&mut self, mut participant: ParticipantRecord) {
        participant.idx = self.entry.participants.len() as i64;
        self.entry.participants.push(participant);
    }

    /// Parties known to the recording so far.
    pub fn participant_count(&self) -> usize {
        self.entry.participants.len()
    }

    /// Adds a note to the recording (stored when it is sealed).
    pub fn add_note(&mut self, note: String) {
        if !self.entry.recording.notes.contains(&note) {
            self.entry.recording.notes.push(note);
        }
    }

    /// Sets a stream's loss count before sealing.
    pub fn set_packets_lost(&mut self, idx: i64, lost: i64) -> Result<(), VaultError> {
        let pos = self.stream_position(idx)?;
        self.entry.streams[pos].packets_lost = lost;
        Ok(())
    }

    /// Seals the recording: it becomes visible in the catalog, in one transaction.
    pub async fn seal(
        mut self,
        ended_at: Option<DateTime<Utc>>,
        duration_ms: Option<i64>,
        now: DateTime<Utc>,
    ) -> Result<uuid::Uuid, VaultError> {
        if let Err(err) = self.row_written().await {
            self.abort().await?;
            return Err(err);
        }
        if let Err(err) = self.key_durable().await {
            // Without its key the recording is unreadable: it never counts as stored.
            self.abort().await?;
            return Err(err);
        }
        if let Some(open) = self.entry.streams.iter().find(|s| s.seal == StreamSeal::Open) {
            return Err(VaultError::Conflict(format!(
                "stream {} has not been written",
                open.label
            )));
        }
        let id = self.id();
        self.vault
            .catalog()
            .mark_sealed(
                id,
                crate::catalog::SealUpdate {
                    state: RecordingState::Sealed,
                    ended_at,
                    duration_ms,
                    streams: &self.entry.streams,
                    notes: Some(&self.entry.recording.notes),
                    new_participants: &self.entry.participants[self.stored_participants..],
                    sealed_at: now,
                },
            )
            .await?;
        Ok(id)
    }

    /// Abandons the recording: key destroyed, objects deleted, row removed.
    pub async fn abort(mut self) -> Result<(), VaultError> {
        let id = self.id();
        // A key commit or row insert still running would otherwise store the key after
        // its destruction, or the row after its removal.
        let _ = self.key_durable().await;
        let _ = self.row_written().await;
        self.vault.keystore().destroy_data_key(id).await?;
        for stream in &self.entry.streams {
            self.vault.delete_object(&stream.object_path).await?;
        }
        self.vault.catalog().discard_writing(id).await
    }
}

thread_local! {
    /// A thread's piece buffer, kept between objects so that encrypting one
    /// does not fault in fresh pages each time. It only ever holds ciphertext: each
    /// chunk is encrypted in place right after it is copied in.
    static PIECE_BUFFER: std::cell::RefCell<Vec<u8>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// Plaintext per write of a local object: each piece is written, and its write-back to
/// the disk started, while the next one is encrypted.
const LOCAL_PIECE_BYTES: usize = 512 << 10;

/// Where an object is written before it is renamed into place (the local object
/// store's own convention: `<path>#<suffix>`).
fn staging_path(file: &Path) -> PathBuf {
    let mut staging = file.as_os_str().to_owned();
    staging.push(format!("#{}", rand::random::<u32>()));
    staging.into()
}

/// Blocking: encrypts `audio` into a staging file next to `file`, piece by piece, each
/// piece's write-back to the disk started as soon as it is written (so the disk works
/// while the rest is encrypted); then, once the catalog row exists (`row`, waited for on
/// `runtime`), renames it into place and fsyncs the file and its directory. An object
/// at its final path before the fsyncs is harmless: its recording is not sealed, and
/// start-up recovery discards it. A failure leaves no file behind.
fn write_local_object(
    file: &Path,
    header: &[u8],
    sealer: &ChunkSealer,
    audio: &[u8],
    chunk_bytes: usize,
    row: Option<(RowInsert, tokio::runtime::Handle)>,
) -> Result<(), VaultError> {
    let dir = file
        .parent()
        .ok_or_else(|| VaultError::Corrupt("object path without a directory".into()))?;
    std::fs::create_dir_all(dir)?;
    let staging = staging_path(file);
    let mut placed = false;
    let written = (|| -> Result<(), VaultError> {
        let mut out = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&staging)?;
        write_pieces(&mut out, header, sealer, audio, chunk_bytes, start_writeback)?;
        if let Some((row, runtime)) = row {
            // The object becomes findable only once its recording's row exists.
            runtime.block_on(join_row(row))?;
        }
        std::fs::rename(&staging, file)?;
        placed = true;
        // After the rename, as a plain durable write does: the file's fsync commits the
        // rename with it, and the directory's fsync then finds little left to do.
        out.sync_all()?;
        std::fs::File::open(dir)?.sync_all()?;
        Ok(())
    })();
    if written.is_err() {
        let _ = std::fs::remove_file(if placed { file } else { &staging });
    }
    written
}

/// The header, the sealed chunks and the trailer, written to `out` (a staging file, or
/// a remote object's buffer) in pieces of about [`LOCAL_PIECE_BYTES`] of plaintext,
/// `written` told of each piece but the last. The plaintext's digest is computed chunk
/// by chunk as each is sealed (the chunk is still in the cache), or, for a stream of
/// several pieces, on a second thread meanwhile.
fn write_pieces<W: Write>(
    out: &mut W,
    header: &[u8],
    sealer: &ChunkSealer,
    audio: &[u8],
    chunk_bytes: usize,
    written: impl Fn(&W, u64, usize),
) -> Result<(), VaultError> {
    let chunks = audio.len().div_ceil(chunk_bytes);
    let piece_bytes = (LOCAL_PIECE_BYTES / chunk_bytes).max(1) * chunk_bytes;
    let pieces = audio.len().div_ceil(piece_bytes).max(1);
    // `inline`: the digest made here; otherwise `parallel` gives the second thread's.
    let write_all = |mut inline: Option<blake3::Hasher>, parallel: &mut dyn FnMut() -> blake3::Hasher, out: &mut W| {
        PIECE_BUFFER.with_borrow_mut(|buf| -> std::io::Result<()> {
            let mut offset = 0u64;
            for k in 0..pieces {
                let piece = &audio[(k * piece_bytes).min(audio.len())..((k + 1) * piece_bytes).min(audio.len())];
                buf.clear();
                if k == 0 {
                    buf.extend_from_slice(header);
                }
                let first_chunk = (k * piece_bytes / chunk_bytes) as u64;
                for (i, chunk) in piece.chunks(chunk_bytes).enumerate() {
                    sealer.seal(first_chunk + i as u64, false, chunk, buf);
                    if let Some(digest) = inline.as_mut() {
                        digest.update(chunk);
                    }
                }
                if k + 1 == pieces {
                    let digest = inline.take().unwrap_or_else(&mut *parallel);
                    sealer.seal(chunks as u64, true, &trailer(chunks, audio.len(), &digest), buf);
                }
                out.write_all(buf)?;
                if k + 1 < pieces {
                    // The last piece is left to the fsync that follows.
                    written(out, offset, buf.len());
                }
                offset += buf.len() as u64;
            }
            // Keep the buffer for the next object only while it is of an ordinary size.
            if buf.capacity() > 2 * LOCAL_PIECE_BYTES {
                *buf = Vec::new();
            }
            Ok(())
        })
    };
    if pieces > 1 {
        std::thread::scope(|scope| {
            let mut hashing = Some(scope.spawn(|| {
                let mut digest = blake3::Hasher::new();
                digest.update(audio);
                digest
            }));
            write_all(
                None,
                &mut || {
                    let handle = hashing.take().expect("the digest is asked for once");
                    handle.join().expect("hashing does not panic")
                },
                out,
            )
        })?;
    } else {
        // One piece: a thread would start, and compete with the catalog and key store
        // for the other core, for less than it saves.
        write_all(Some(blake3::Hasher::new()), &mut blake3::Hasher::new, out)?;
    }
    Ok(())
}

/// Starts writing `len` bytes of `file` from `offset` back to the disk without waiting
/// for them (Linux: `posix_fadvise(DONTNEED)` starts write-back of dirty pages, as
/// PostgreSQL's `pg_flush_data` does where `sync_file_range` is missing); the pages
/// are not needed again, as a recording is not read back right after it is stored.
/// Elsewhere a no-op: the final fsync writes everything.
fn start_writeback(file: &std::fs::File, offset: u64, len: usize) {
    #[cfg(target_os = "linux")]
    {
        let (Ok(offset), Ok(len)) = (i64::try_from(offset), i64::try_from(len)) else {
            return;
        };
        // Advice only: the fsync that follows is what makes the object durable.
        let _ = nix::fcntl::posix_fadvise(file, offset, len, nix::fcntl::PosixFadviseAdvice::POSIX_FADV_DONTNEED);
    }
    #[cfg(not(target_os = "linux"))]
    let _ = (file, offset, len);
}

/// The sealed trailer's plaintext for a whole stream.
fn trailer(chunks: usize, audio_bytes: usize, digest: &blake3::Hasher) -> Vec<u8> {
    StreamTrailer {
        seal: StreamSeal::Sealed.as_str().into(),
        chunks: chunks as u64,
        audio_bytes: audio_bytes as u64,
        blake3: digest.finalize().to_hex().to_string(),
        cut: None,
    }
    .to_bytes()
}

/// How a pipelined stream is cut: chunk size, plaintext per part, sealed trailer size.
#[derive(Clone, Copy)]
struct PartLayout {
    chunk_bytes: usize,
    part_bytes: usize,
    trailer_chunk: usize,
}

/// Writes a large stream as parts of whole chunks: part k is written by the object
/// store while part k+1 is encrypted, at most `PARTS_IN_FLIGHT` at a time.
async fn put_parts(
    upload: &mut dyn object_store::MultipartUpload,
    sealer: &ChunkSealer,
    header: &[u8],
    audio: &bytes::Bytes,
    layout: PartLayout,
) -> Result<(), VaultError> {
    let PartLayout {
        chunk_bytes,
        trailer_chunk,
        ..
    } = layout;
    let chunks = audio.len().div_ceil(chunk_bytes);
    let part_bytes = (layout.part_bytes / chunk_bytes).max(1) * chunk_bytes;
    let parts = audio.len().div_ceil(part_bytes);
    // The plaintext digest runs on a blocking thread over the whole stream while the
    // parts are encrypted here and written by the object store.
    let mut hashing = Some(tokio::task::spawn_blocking({
        let audio = audio.clone();
        move || {
            let mut digest = blake3::Hasher::new();
            digest.update(&audio);
            digest
        }
    }));
    let mut in_flight = std::collections::VecDeque::with_capacity(PARTS_IN_FLIGHT);
    for (k, part) in audio.chunks(part_bytes).enumerate() {
        let (first, last) = (k == 0, k + 1 == parts);
        let part_chunks = part.len().div_ceil(chunk_bytes);
        let mut buf = Vec::with_capacity(
            if first { header.len() } else { 0 }
                + part.len()
                + sealed_chunk_len(0) * part_chunks
                + if last { trailer_chunk } else { 0 },
        );
        if first {
            buf.extend_from_slice(header);
        }
        let first_chunk = (k * part_bytes / chunk_bytes) as u64;
        for (i, chunk) in part.chunks(chunk_bytes).enumerate() {
            sealer.seal(first_chunk + i as u64, false, chunk, &mut buf);
        }
        if let Some(digest) = hashing.take_if(|_| last) {
            let digest = digest
                .await
                .map_err(|e| VaultError::Corrupt(format!("digest task: {e}")))?;
            sealer.seal(chunks as u64, true, &trailer(chunks, audio.len(), &digest), &mut buf);
        }
        if in_flight.len() == PARTS_IN_FLIGHT {
            finish_part(in_flight.pop_front()).await?;
        }
        in_flight.push_back(tokio::spawn(upload.put_part(buf.into())));
    }
    while let Some(part) = in_flight.pop_front() {
        finish_part(Some(part)).await?;
    }
    Ok(())
}

async fn finish_part(part: Option<tokio::task::JoinHandle<object_store::Result<()>>>) -> Result<(), VaultError> {
    let Some(part) = part else { return Ok(()) };
    part.await
        .map_err(|e| VaultError::Corrupt(format!("object write task: {e}")))??;
    Ok(())
}

#[cfg(test)]
mod tests {
    //! The import path's overlaps: concurrent imports share key commits and read back
    //! whole; an import whose catalog row cannot be written stores no object.

    use chrono::TimeDelta;
    use governance::{Actor, ReadRequest};

    use super::*;
    use crate::records::{
        PolicyVersionRecord, PolicyVersionState, RecordingRecord, RecordingSource, StreamRecord, TenantRecord,
    };

    fn now() -> DateTime<Utc> {
        "2026-11-23T10:00:00Z".parse().unwrap()
    }

    fn posti_text() -> String {
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../policies/posti.toml")).unwrap()
    }

    async fn open() -> (tempfile::TempDir, Vault) {
        let root = tempfile::tempdir().unwrap();
        let vault = Vault::open(&root.path().join("data"), &root.path().join("keys"))
            .await
            .unwrap();
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
            source_text: posti_text(),
            sha256: "x".into(),
            state: PolicyVersionState::Active,
            created_at: now(),
            created_by: "test".into(),
            approved_at: None,
            approved_by: None,
        };
        vault.catalog().create_tenant(&tenant, &version).await.unwrap();
        (root, vault)
    }

    fn entry(tenant: &str, streams: i64) -> RecordingEntry {
        let id = Uuid::now_v7();
        RecordingEntry {
            recording: RecordingRecord {
                id,
                tenant: tenant.into(),
                policy_version: 1,
                state: RecordingState::Writing,
                source: RecordingSource::Ingest,
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
                    idx: i,
                    label: format!("s{i}"),
                    participant: None,
                    codec: "pcmu".into(),
                    sample_rate: 8000,
                    object_path: crate::object_path(tenant, id, i),
                    chunks: 0,
                    audio_bytes: 0,
                    packets_lost: 0,
                    seal: StreamSeal::Open,
                })
                .collect(),
        }
    }

    fn files_under(dir: &Path) -> Vec<PathBuf> {
        let mut out = Vec::new();
        for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
            let path = entry.path();
            if path.is_dir() {
                out.extend(files_under(&path));
            } else {
                out.push(path);
            }
        }
        out
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn concurrent_imports_commit_their_keys_together_and_read_back_whole() {
        let (root, vault) = open().await;
        let tasks: Vec<_> = (0..12u8)
            .map(|n| {
                let vault = vault.clone();
                tokio::spawn(async move {
                    let mut writer = vault.begin(entry("posti", 2)).await?;
                    // One small stream (one staging file) and one over 1 MiB (parts).
                    writer.put_stream(0, vec![n; 16_000].into(), 8000).await?;
                    writer.put_stream(1, vec![n; 1_100_000].into(), 8000).await?;
                    writer.seal(None, None, now()).await.map(|id| (n, id))
                })
            })
            .collect();
        let policy = policy::parse_policy("posti.toml", &posti_text()).unwrap();
        for task in tasks {
            let (n, id) = task.await.unwrap().unwrap();
            let permit = governance::authorize_read(
                &policy,
                &ReadRequest {
                    actor: &Actor::LocalAdministrator,
                    recording_id: id,
                    purpose: "verify-agreement",
                    reason: "test",
                },
            )
            .unwrap();
            let entry = vault.catalog().visible_entry(id).await.unwrap();
            for (idx, len) in [(0, 16_000), (1, 1_100_000)] {
                let stream = vault.read_stream(&permit, &entry, idx).await.unwrap();
                assert!(stream.audio == vec![n; len], "recording {n} stream {idx} reads back");
            }
        }
        let staged: Vec<_> = files_under(&root.path().join("data/objects"))
            .into_iter()
            .filter(|p| p.to_string_lossy().contains('#'))
            .collect();
        assert!(staged.is_empty(), "no staging file is left: {staged:?}");
    }

    #[tokio::test]
    async fn an_import_whose_row_cannot_be_written_stores_no_object() {
        let (root, vault) = open().await;
        // No tenant "nobody": the catalog refuses the row (foreign key).
        let mut writer = vault.begin(entry("nobody", 1)).await.unwrap();
        let id = writer.id();
        assert!(writer.put_stream(0, vec![7; 16_000].into(), 8000).await.is_err());
        assert!(
            files_under(&root.path().join("data/objects/nobody")).is_empty(),
            "neither the object nor its staging file exists"
        );
        writer.abort().await.unwrap();
        assert!(matches!(
            vault.keystore().data_key(id).await,
            Err(VaultError::KeyDestroyed(_))
        ));
    }
}
