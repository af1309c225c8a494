//! Writing one recording: encrypted stream objects, then the seal that makes it visible.

use chrono::{DateTime, Utc};
use object_store::path::Path as ObjectPath;

use crate::Vault;
use crate::crypto::{ChunkSealer, MAX_CHUNK_PLAINTEXT, SecretKey, StreamBinding, sealed_chunk_len, stream_header};
use crate::error::VaultError;
use crate::reader::StreamTrailer;
use crate::records::{ParticipantRecord, RecordingEntry, RecordingState, StreamSeal};
use crate::spool::SpoolWriter;

/// Streams at least this large are hashed on a second thread while they are encrypted.
const PARALLEL_DIGEST_BYTES: usize = 1 << 20;

/// A recording being written. Dropping it without `seal` leaves a `writing` row that
/// start-up recovery discards (ingest) or closes with a recovery seal (capture).
pub struct RecordingWriter {
    vault: Vault,
    entry: RecordingEntry,
    key: SecretKey,
    /// How many participants the catalog row already has.
    stored_participants: usize,
}

impl RecordingWriter {
    pub(crate) fn new(vault: Vault, entry: RecordingEntry, key: SecretKey) -> Self {
        let stored_participants = entry.participants.len();
        RecordingWriter {
            vault,
            entry,
            key,
            stored_participants,
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
    pub async fn put_stream(&mut self, idx: i64, audio: &[u8], chunk_bytes: usize) -> Result<(), VaultError> {
        let pos = self.stream_position(idx)?;
        let binding = self.binding(idx)?;
        let chunk_bytes = chunk_bytes.clamp(1, MAX_CHUNK_PLAINTEXT);
        let chunks = audio.len().div_ceil(chunk_bytes);
        let trailer_len = StreamTrailer {
            seal: StreamSeal::Sealed.as_str().into(),
            chunks: chunks as u64,
            audio_bytes: audio.len() as u64,
            blake3: "0".repeat(64),
            cut: None,
        }
        .to_bytes()
        .len();
        let header = stream_header(binding);
        // One allocation of the exact object size; each chunk is copied and encrypted in place.
        let mut object = Vec::with_capacity(
            header.len() + audio.len() + sealed_chunk_len(0) * chunks + sealed_chunk_len(trailer_len),
        );
        object.extend_from_slice(&header);
        let sealer = ChunkSealer::new(&self.key, binding);
        let seal_all = |object: &mut Vec<u8>| {
            for (i, chunk) in audio.chunks(chunk_bytes).enumerate() {
                sealer.seal(i as u64, false, chunk, object);
            }
        };
        // The digest of the plaintext and the encryption are independent: on a large
        // stream they run on two cores.
        let digest = if audio.len() >= PARALLEL_DIGEST_BYTES {
            std::thread::scope(|scope| {
                let hashing = scope.spawn(|| blake3::hash(audio));
                seal_all(&mut object);
                hashing.join().expect("hashing does not panic")
            })
        } else {
            seal_all(&mut object);
            blake3::hash(audio)
        };
        let trailer = StreamTrailer {
            seal: StreamSeal::Sealed.as_str().into(),
            chunks: chunks as u64,
            audio_bytes: audio.len() as u64,
            blake3: digest.to_hex().to_string(),
            cut: None,
        };
        sealer.seal(chunks as u64, true, &trailer.to_bytes(), &mut object);
        debug_assert_eq!(object.len(), object.capacity());
        let path = ObjectPath::from(self.entry.streams[pos].object_path.as_str());
        self.vault.objects().put(&path, object.into()).await?;
        self.vault.make_durable(&path).await?;
        let stream = &mut self.entry.streams[pos];
        stream.chunks = chunks as i64;
        stream.audio_bytes = audio.len() as i64;
        stream.seal = StreamSeal::Sealed;
        Ok(())
    }

    /// A writer for a live stream (capture path), on the shared segment spool.
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
        self,
        ended_at: Option<DateTime<Utc>>,
        duration_ms: Option<i64>,
        now: DateTime<Utc>,
    ) -> Result<uuid::Uuid, VaultError> {
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
    pub async fn abort(self) -> Result<(), VaultError> {
        let id = self.id();
        self.vault.keystore().destroy_data_key(id).await?;
        for stream in &self.entry.streams {
            self.vault.delete_object(&stream.object_path).await?;
        }
        self.vault.catalog().discard_writing(id).await
    }
}
