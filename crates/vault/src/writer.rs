//! Writing one recording: encrypted stream objects, then the seal that makes it visible.

use chrono::{DateTime, Utc};
use object_store::path::Path as ObjectPath;

use crate::Vault;
use crate::crypto::{ChunkSealer, MAX_CHUNK_PLAINTEXT, SecretKey, StreamBinding, sealed_chunk_len, stream_header};
use crate::error::VaultError;
use crate::reader::StreamTrailer;
use crate::records::{ParticipantRecord, RecordingEntry, RecordingState, StreamSeal};
use crate::spool::SpoolWriter;

/// Parts at least this large are hashed on a second thread while they are encrypted
/// (smaller ones are hashed inline: a thread per part would cost more than it saves).
const PARALLEL_DIGEST_BYTES: usize = 4 << 20;

/// Plaintext per part of a pipelined object write on the local file system: part k
/// is written while part k+1 is encrypted. Streams up to this size take one put.
const LOCAL_PART_BYTES: usize = 1 << 20;

/// The same for remote stores (S3 needs parts of at least 5 MiB).
const REMOTE_PART_BYTES: usize = 8 << 20;

/// Parts written concurrently with the encryption of the next one.
const PARTS_IN_FLIGHT: usize = 4;

/// The key store's commit of a new data key, running while the objects are written.
pub(crate) type KeyCommit = tokio::task::JoinHandle<Result<(), VaultError>>;

/// Waits for a data key's durable commit.
pub(crate) async fn join_key_commit(commit: KeyCommit) -> Result<(), VaultError> {
    commit
        .await
        .map_err(|e| VaultError::Corrupt(format!("key store task: {e}")))?
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
        }
    }

    /// Waits until the data key is durable in the key store.
    async fn key_durable(&mut self) -> Result<(), VaultError> {
        match self.key_commit.take() {
            Some(commit) => join_key_commit(commit).await,
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

    /// Encrypts a whole stream (import path) in chunks of `chunk_bytes` and stores it.
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
        let part_bytes = if self.vault.is_local() {
            LOCAL_PART_BYTES
        } else {
            REMOTE_PART_BYTES
        };
        if audio.len() <= part_bytes {
            // One allocation of the exact object size; each chunk is copied and encrypted in place.
            let mut object =
                Vec::with_capacity(header.len() + audio.len() + sealed_chunk_len(0) * chunks + trailer_chunk);
            object.extend_from_slice(&header);
            let mut hasher = blake3::Hasher::new();
            seal_chunks(&sealer, &audio, chunk_bytes, 0, &mut object, &mut hasher);
            sealer.seal(chunks as u64, true, &trailer(chunks, audio.len(), &hasher), &mut object);
            debug_assert_eq!(object.len(), object.capacity());
            self.vault.objects().put(&path, object.into()).await?;
        } else {
            let mut upload = self.vault.objects().put_multipart(&path).await?;
            let layout = PartLayout {
                chunk_bytes,
                part_bytes,
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
        self.vault.make_durable(&path).await?;
        let stream = &mut self.entry.streams[pos];
        stream.chunks = chunks as i64;
        stream.audio_bytes = audio.len() as i64;
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
        // A key commit still running would otherwise store the key after its destruction.
        let _ = self.key_durable().await;
        self.vault.keystore().destroy_data_key(id).await?;
        for stream in &self.entry.streams {
            self.vault.delete_object(&stream.object_path).await?;
        }
        self.vault.catalog().discard_writing(id).await
    }
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

/// Seals `audio` as chunks numbered from `first_chunk` into `out` and feeds the
/// plaintext to `digest`; a large part is hashed on a second thread meanwhile.
fn seal_chunks(
    sealer: &ChunkSealer,
    audio: &[u8],
    chunk_bytes: usize,
    first_chunk: u64,
    out: &mut Vec<u8>,
    digest: &mut blake3::Hasher,
) {
    let seal_all = |out: &mut Vec<u8>| {
        for (i, chunk) in audio.chunks(chunk_bytes).enumerate() {
            sealer.seal(first_chunk + i as u64, false, chunk, out);
        }
    };
    if audio.len() >= PARALLEL_DIGEST_BYTES {
        std::thread::scope(|scope| {
            let hashing = scope.spawn(|| {
                digest.update(audio);
            });
            seal_all(out);
            hashing.join().expect("hashing does not panic");
        });
    } else {
        seal_all(out);
        digest.update(audio);
    }
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
