//! The local spool for live streams: encrypted chunks appended to a file as they
//! arrive, so a crash loses at most the unsynced tail, and recovery can seal the rest.

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};


use crate::crypto::{MAX_CHUNK_PLAINTEXT, SecretKey, StreamBinding, seal_chunk, stream_header};
use crate::error::VaultError;
use crate::reader::StreamTrailer;
use crate::records::StreamSeal;

/// Appends encrypted chunks of one stream to its spool file.
pub struct SpoolWriter {
    path: PathBuf,
    file: File,
    key: SecretKey,
    binding: StreamBinding,
    chunks: u64,
    audio_bytes: u64,
    digest: ring::digest::Context,
    buffer: Vec<u8>,
}

/// The spool file of a stream.
pub fn spool_path(spool_dir: &Path, binding: StreamBinding) -> PathBuf {
    spool_dir
        .join(binding.recording_id.to_string())
        .join(format!("{}.cvs", binding.stream_index))
}

impl SpoolWriter {
    pub(crate) fn create(spool_dir: &Path, key: SecretKey, binding: StreamBinding) -> Result<Self, VaultError> {
        let path = spool_path(spool_dir, binding);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)?;
        }
        let mut file = OpenOptions::new().create_new(true).append(true).open(&path)?;
        file.write_all(&stream_header(binding))?;
        Ok(SpoolWriter {
            path,
            file,
            key,
            binding,
            chunks: 0,
            audio_bytes: 0,
            digest: ring::digest::Context::new(&ring::digest::SHA256),
            buffer: Vec::new(),
        })
    }

    /// Encrypts and appends one chunk (about a second of audio).
    pub fn append(&mut self, audio: &[u8]) -> Result<(), VaultError> {
        for piece in audio.chunks(MAX_CHUNK_PLAINTEXT) {
            self.buffer.clear();
            seal_chunk(&self.key, self.binding, self.chunks, false, piece, &mut self.buffer);
            self.file.write_all(&self.buffer)?;
            self.chunks += 1;
            self.audio_bytes += piece.len() as u64;
            self.digest.update(piece);
        }
        Ok(())
    }

    /// Forces what has been appended to disk.
    pub fn sync(&mut self) -> Result<(), VaultError> {
        self.file.sync_data()?;
        Ok(())
    }

    /// Writes the final (trailer) chunk and syncs; returns the file and its trailer.
    pub(crate) fn finish(mut self) -> Result<(PathBuf, StreamTrailer), VaultError> {
        let trailer = StreamTrailer {
            seal: StreamSeal::Sealed.as_str().into(),
            chunks: self.chunks,
            audio_bytes: self.audio_bytes,
            sha256: hex::encode(self.digest.clone().finish()),
            cut: None,
        };
        self.buffer.clear();
        seal_chunk(
            &self.key,
            self.binding,
            self.chunks,
            true,
            &trailer.to_bytes(),
            &mut self.buffer,
        );
        self.file.write_all(&self.buffer)?;
        self.file.sync_all()?;
        Ok((self.path, trailer))
    }
}
