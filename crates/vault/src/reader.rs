//! Reading a stream back: every chunk authenticated in order, the trailer checked
//! against what was read (count, length, BLAKE3 digest), on every read.

use object_store::path::Path as ObjectPath;
use serde::{Deserialize, Serialize};

use crate::Vault;
use crate::crypto::{ChunkReader, StreamBinding};
use crate::error::VaultError;
use crate::records::{RecordingEntry, StreamRecord};

/// The authenticated final chunk of a stream.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StreamTrailer {
    /// `sealed`, or `recovered` for a recovery seal after a crash.
    pub seal: String,
    pub chunks: u64,
    pub audio_bytes: u64,
    /// BLAKE3 of the plaintext audio, hex.
    pub blake3: String,
    /// For a recovery seal: what was cut (bytes of damaged tail dropped).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cut: Option<String>,
}

impl StreamTrailer {
    pub(crate) fn to_bytes(&self) -> Vec<u8> {
        serde_json::to_vec(self).expect("trailer serialises")
    }

    fn parse(bytes: &[u8]) -> Result<Self, VaultError> {
        serde_json::from_slice(bytes).map_err(|_| VaultError::Integrity("final chunk is not a stream trailer".into()))
    }
}

/// Decrypted, verified audio of one stream.
#[derive(Debug, Clone)]
pub struct StreamAudio {
    pub stream: StreamRecord,
    pub audio: Vec<u8>,
    pub trailer: StreamTrailer,
}

/// Reads and verifies every chunk of `object`; the audio and the trailer.
pub(crate) fn open_object(
    key: &crate::SecretKey,
    binding: StreamBinding,
    object: &[u8],
) -> Result<(Vec<u8>, StreamTrailer), VaultError> {
    let mut reader = ChunkReader::new(key, binding, object)?;
    let mut audio = Vec::with_capacity(object.len());
    let mut digest = blake3::Hasher::new();
    let mut trailer = None;
    while let Some(chunk) = reader.next_chunk()? {
        if chunk.last {
            trailer = Some(StreamTrailer::parse(&chunk.plaintext)?);
        } else {
            digest.update(&chunk.plaintext);
            audio.extend_from_slice(&chunk.plaintext);
        }
    }
    let trailer = trailer.ok_or_else(|| VaultError::Integrity("no final chunk".into()))?;
    if trailer.chunks + 1 != reader.chunks_read()
        || trailer.audio_bytes != audio.len() as u64
        || trailer.blake3 != digest.finalize().to_hex().as_str()
    {
        return Err(VaultError::Integrity("stream does not match its sealed digest".into()));
    }
    Ok((audio, trailer))
}

impl Vault {
    /// Decrypts one stream of a recording. Requires a permit for that recording.
    pub async fn read_stream(
        &self,
        permit: &governance::ReadPermit,
        entry: &RecordingEntry,
        idx: i64,
    ) -> Result<StreamAudio, VaultError> {
        let id = entry.recording.id;
        if permit.recording_id() != id {
            return Err(VaultError::Conflict("the read permit is for another recording".into()));
        }
        let stream = entry
            .streams
            .iter()
            .find(|s| s.idx == idx)
            .ok_or_else(|| VaultError::NotFound(format!("stream {idx} of recording {id}")))?
            .clone();
        let key = self.keystore().data_key(id).await?;
        let object = self
            .objects()
            .get(&ObjectPath::from(stream.object_path.as_str()))
            .await?
            .bytes()
            .await?;
        let binding = StreamBinding {
            recording_id: id,
            stream_index: u32::try_from(idx).map_err(|_| VaultError::Corrupt("stream index".into()))?,
        };
        let (audio, trailer) = open_object(&key, binding, &object)?;
        if trailer.chunks != stream.chunks as u64 || trailer.audio_bytes != stream.audio_bytes as u64 {
            return Err(VaultError::Integrity(format!(
                "stream {} does not match its catalog entry",
                stream.label
            )));
        }
        Ok(StreamAudio { stream, audio, trailer })
    }
}
