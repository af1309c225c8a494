//! Start-up recovery: recordings left in state `writing` by a crash. Imports are
//! discarded (they were never visible); live captures get an authenticated recovery
//! seal on what their spool holds, and become visible as `interrupted`.

use chrono::{DateTime, Utc};
use object_store::path::Path as ObjectPath;

use crate::Vault;
use crate::crypto::{ChunkReader, StreamBinding, seal_chunk, stream_header};
use crate::error::VaultError;
use crate::reader::StreamTrailer;
use crate::records::{RecordingSource, RecordingState, StreamSeal};
use crate::segments::{remove_segments, scan_segments};

/// What recovery did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct RecoveryReport {
    /// Imports that never completed, removed.
    pub discarded: Vec<uuid::Uuid>,
    /// Captures closed with a recovery seal.
    pub recovered: Vec<uuid::Uuid>,
}

impl Vault {
    /// Recovers every `writing` capture, and every `writing` import created before
    /// `started_before` (a younger one may still be written by a concurrent process).
    /// Only the process that owns capture for this data directory may call it.
    pub async fn recover(
        &self,
        started_before: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<RecoveryReport, VaultError> {
        let mut report = RecoveryReport::default();
        let mut spooled = scan_segments(&self.segments_dir())?;
        for recording in self.catalog().writing().await? {
            if recording.source == RecordingSource::Ingest && recording.created_at >= started_before {
                continue;
            }
            let entry = self.catalog().entry(recording.id).await?;
            let key = match (recording.source, self.keystore().data_key(recording.id).await) {
                (RecordingSource::Capture, Ok(key)) => key,
                _ => {
                    let _ = self.keystore().destroy_data_key(recording.id).await;
                    for stream in &entry.streams {
                        self.delete_object(&stream.object_path).await?;
                    }
                    self.catalog().discard_writing(recording.id).await?;
                    report.discarded.push(recording.id);
                    continue;
                }
            };
            let mut streams = entry.streams.clone();
            for stream in &mut streams {
                if stream.seal != StreamSeal::Open {
                    continue;
                }
                let binding = StreamBinding {
                    recording_id: recording.id,
                    stream_index: u32::try_from(stream.idx).map_err(|_| VaultError::Corrupt("stream index".into()))?,
                };
                // A stream whose complete object was stored before the crash (the
                // crash came between storing it and sealing the row) is kept as it is.
                let object_path = ObjectPath::from(stream.object_path.as_str());
                if let Ok(existing) = self.objects().get(&object_path).await
                    && let Ok(bytes) = existing.bytes().await
                    && let Ok((_, trailer)) = crate::reader::open_object(&key, binding, &bytes)
                {
                    stream.chunks = trailer.chunks as i64;
                    stream.audio_bytes = trailer.audio_bytes as i64;
                    stream.seal = StreamSeal::Sealed;
                    continue;
                }
                // The stream as the spool holds it: header and its chunks in order, up
                // to the first missing one.
                let mut bytes = stream_header(binding);
                if let Some(chunks) = spooled.remove(&(recording.id, binding.stream_index)) {
                    for (expected, (index, chunk)) in chunks.into_iter().enumerate() {
                        if index != expected as u64 {
                            break;
                        }
                        bytes.extend_from_slice(&chunk);
                    }
                }
                let (object, trailer) = recovery_seal(&key, binding, &bytes);
                self.objects().put(&object_path, object.into()).await?;
                self.make_durable(&object_path).await?;
                stream.chunks = trailer.chunks as i64;
                stream.audio_bytes = trailer.audio_bytes as i64;
                stream.seal = StreamSeal::Recovered;
            }
            self.catalog()
                .mark_sealed(
                    recording.id,
                    crate::catalog::SealUpdate {
                        state: RecordingState::Interrupted,
                        ended_at: recording.ended_at,
                        duration_ms: recording.duration_ms,
                        streams: &streams,
                        notes: None,
                        new_participants: &[],
                        sealed_at: now,
                    },
                )
                .await?;
            report.recovered.push(recording.id);
        }
        // Every capture the segments held is now sealed or discarded. Only the process
        // that captures calls this, before it starts capturing.
        if self.segments_started() {
            return Ok(report);
        }
        remove_segments(&self.segments_dir())?;
        Ok(report)
    }
}

/// Keeps every chunk of `spooled` that verifies, in order, and closes the stream with
/// an authenticated trailer that records the cut.
fn recovery_seal(key: &crate::SecretKey, binding: StreamBinding, spooled: &[u8]) -> (Vec<u8>, StreamTrailer) {
    let mut object = stream_header(binding);
    let mut digest = blake3::Hasher::new();
    let mut chunks = 0u64;
    let mut audio_bytes = 0u64;
    let mut dropped = spooled.len();
    if let Ok(mut reader) = ChunkReader::new(key, binding, spooled) {
        dropped = reader.remaining();
        while let Ok(Some(chunk)) = reader.next_chunk() {
            if chunk.last {
                break;
            }
            seal_chunk(key, binding, chunks, false, &chunk.plaintext, &mut object);
            digest.update(&chunk.plaintext);
            chunks += 1;
            audio_bytes += chunk.plaintext.len() as u64;
            dropped = reader.remaining();
        }
    }
    let trailer = StreamTrailer {
        seal: StreamSeal::Recovered.as_str().into(),
        chunks,
        audio_bytes,
        blake3: digest.finalize().to_hex().to_string(),
        cut: Some(match dropped {
            0 => format!("process stopped: {chunks} verified chunks kept"),
            n => format!("process stopped: {chunks} verified chunks kept, {n} unverifiable bytes dropped"),
        }),
    };
    seal_chunk(key, binding, chunks, true, &trailer.to_bytes(), &mut object);
    (object, trailer)
}
