//! A live stream's writer: each chunk (about a second of audio) is encrypted on the
//! caller's thread and handed to the shared segment spool, which commits in groups.
//! Nothing is written unencrypted, and the hot path never waits for the disk.

use crate::crypto::{ChunkSealer, MAX_CHUNK_PLAINTEXT, SecretKey, StreamBinding};
use crate::error::VaultError;
use crate::reader::StreamTrailer;
use crate::records::StreamSeal;
use crate::segments::SegmentSpool;

/// Appends encrypted chunks of one stream to the spool.
pub struct SpoolWriter {
    spool: SegmentSpool,
    sealer: ChunkSealer,
    binding: StreamBinding,
    chunks: u64,
    audio_bytes: u64,
    digest: blake3::Hasher,
    buffer: Vec<u8>,
}

impl SpoolWriter {
    pub(crate) fn create(spool: SegmentSpool, key: &SecretKey, binding: StreamBinding) -> Self {
        SpoolWriter {
            spool,
            sealer: ChunkSealer::new(key, binding),
            binding,
            chunks: 0,
            audio_bytes: 0,
            digest: blake3::Hasher::new(),
            buffer: Vec::new(),
        }
    }

    /// Encrypts and appends audio as one chunk (split when over the chunk limit).
    pub fn append(&mut self, audio: &[u8]) -> Result<(), VaultError> {
        for piece in audio.chunks(MAX_CHUNK_PLAINTEXT) {
            self.buffer.clear();
            self.sealer.seal(self.chunks, false, piece, &mut self.buffer);
            self.spool.append(self.binding, self.chunks, false, &self.buffer)?;
            self.chunks += 1;
            self.audio_bytes += piece.len() as u64;
            self.digest.update(piece);
        }
        Ok(())
    }

    /// Waits until everything appended so far is on disk.
    pub fn sync(&mut self) -> Result<(), VaultError> {
        self.spool.sync()
    }

    /// Audio bytes appended so far.
    pub fn audio_bytes(&self) -> u64 {
        self.audio_bytes
    }

    /// Appends the final (trailer) chunk; returns what the object store needs.
    pub(crate) fn finish(mut self) -> Result<(SegmentSpool, StreamBinding, StreamTrailer), VaultError> {
        let trailer = StreamTrailer {
            seal: StreamSeal::Sealed.as_str().into(),
            chunks: self.chunks,
            audio_bytes: self.audio_bytes,
            blake3: self.digest.finalize().to_hex().to_string(),
            cut: None,
        };
        self.buffer.clear();
        self.sealer
            .seal(self.chunks, true, &trailer.to_bytes(), &mut self.buffer);
        self.spool.append(self.binding, self.chunks, true, &self.buffer)?;
        Ok((self.spool, self.binding, trailer))
    }
}
