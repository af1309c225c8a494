//! Chunked AEAD for audio streams: AES-256-GCM with the chunk index, the stream and a
//! final-chunk flag bound into nonce and associated data, so that reordering,
//! truncation, splicing between streams and tampering are all detected on read.

use rand::RngCore;
use ring::aead::{AES_256_GCM, Aad, LessSafeKey, Nonce, UnboundKey};
use zeroize::{Zeroize, ZeroizeOnDrop};

use crate::error::VaultError;

/// Magic and version at the start of every stream object.
pub const STREAM_MAGIC: &[u8; 8] = b"CVSTRM01";
/// Upper bound of one chunk's plaintext (a little more than 1 s of 48 kHz PCM16 stereo).
pub const MAX_CHUNK_PLAINTEXT: usize = 256 * 1024;
const TAG_LEN: usize = 16;

/// A 256-bit key that is wiped from memory when dropped.
#[derive(Clone, Zeroize, ZeroizeOnDrop)]
pub struct SecretKey(pub(crate) [u8; 32]);

impl SecretKey {
    pub fn random() -> Self {
        let mut key = [0u8; 32];
        rand::rngs::OsRng.fill_bytes(&mut key);
        SecretKey(key)
    }

    pub fn from_bytes(bytes: &[u8]) -> Result<Self, VaultError> {
        let array: [u8; 32] = bytes
            .try_into()
            .map_err(|_| VaultError::Corrupt("key has the wrong length".into()))?;
        Ok(SecretKey(array))
    }

    pub fn expose(&self) -> &[u8; 32] {
        &self.0
    }

    fn cipher(&self) -> Gcm {
        Gcm(LessSafeKey::new(
            UnboundKey::new(&AES_256_GCM, &self.0).expect("a 32-byte AES-256 key"),
        ))
    }
}

impl std::fmt::Debug for SecretKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SecretKey(..)")
    }
}

/// Wraps `key` under `wrapping` with a random nonce; `context` is bound as associated data.
pub fn wrap_key(wrapping: &SecretKey, key: &SecretKey, context: &str) -> Vec<u8> {
    seal_with_random_nonce(wrapping, key.expose(), context.as_bytes())
}

/// Unwraps a key made by [`wrap_key`] with the same `context`.
pub fn unwrap_key(wrapping: &SecretKey, wrapped: &[u8], context: &str) -> Result<SecretKey, VaultError> {
    let plain = open_with_random_nonce(wrapping, wrapped, context.as_bytes())?;
    SecretKey::from_bytes(&plain)
}

pub fn seal_with_random_nonce(key: &SecretKey, plaintext: &[u8], aad: &[u8]) -> Vec<u8> {
    let mut nonce = [0u8; 12];
    rand::rngs::OsRng.fill_bytes(&mut nonce);
    let mut out = nonce.to_vec();
    key.cipher().seal_appending(nonce, aad, plaintext, &mut out);
    out
}

pub fn open_with_random_nonce(key: &SecretKey, sealed: &[u8], aad: &[u8]) -> Result<Vec<u8>, VaultError> {
    if sealed.len() < 12 + TAG_LEN {
        return Err(VaultError::Integrity("wrapped value too short".into()));
    }
    let (nonce, ciphertext) = sealed.split_at(12);
    let nonce: [u8; 12] = nonce.try_into().expect("split at 12");
    key.cipher()
        .open(nonce, aad, ciphertext)
        .ok_or_else(|| VaultError::Integrity("authentication failed".into()))
}

/// AES-256-GCM (ring: AES-NI/VAES and carry-less multiply where the CPU has them).
/// The output is standard GCM: ciphertext followed by the 16-byte tag.
pub(crate) struct Gcm(LessSafeKey);

impl Gcm {
    /// Appends `plaintext` encrypted, then its tag, to `out`.
    fn seal_appending(&self, nonce: [u8; 12], aad: &[u8], plaintext: &[u8], out: &mut Vec<u8>) {
        let start = out.len();
        out.extend_from_slice(plaintext);
        let tag = self
            .0
            .seal_in_place_separate_tag(Nonce::assume_unique_for_key(nonce), Aad::from(aad), &mut out[start..])
            .expect("AES-GCM sealing of a bounded chunk cannot fail");
        out.extend_from_slice(tag.as_ref());
    }

    /// The plaintext of `ciphertext ‖ tag`, or `None` when authentication fails.
    fn open(&self, nonce: [u8; 12], aad: &[u8], sealed: &[u8]) -> Option<Vec<u8>> {
        let mut buffer = sealed.to_vec();
        let len = self
            .0
            .open_in_place(Nonce::assume_unique_for_key(nonce), Aad::from(aad), &mut buffer)
            .ok()?
            .len();
        buffer.truncate(len);
        Some(buffer)
    }
}

/// Identifies one stream of one recording; bound into every chunk.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StreamBinding {
    pub recording_id: uuid::Uuid,
    pub stream_index: u32,
}

fn chunk_nonce(binding: StreamBinding, index: u64, last: bool) -> [u8; 12] {
    // 4 bytes stream index, 7 bytes chunk counter, 1 byte final flag: unique per
    // (stream, chunk) under a key that belongs to exactly one recording.
    let mut nonce = [0u8; 12];
    nonce[..4].copy_from_slice(&binding.stream_index.to_be_bytes());
    nonce[4..11].copy_from_slice(&index.to_be_bytes()[1..]);
    nonce[11] = u8::from(last);
    nonce
}

fn chunk_aad(binding: StreamBinding, index: u64, last: bool) -> [u8; 37] {
    let mut aad = [0u8; 37];
    aad[..8].copy_from_slice(STREAM_MAGIC);
    aad[8..24].copy_from_slice(binding.recording_id.as_bytes());
    aad[24..28].copy_from_slice(&binding.stream_index.to_be_bytes());
    aad[28..36].copy_from_slice(&index.to_be_bytes());
    aad[36] = u8::from(last);
    aad
}

/// The object header: magic, recording id, stream index.
pub fn stream_header(binding: StreamBinding) -> Vec<u8> {
    let mut out = Vec::with_capacity(28);
    out.extend_from_slice(STREAM_MAGIC);
    out.extend_from_slice(binding.recording_id.as_bytes());
    out.extend_from_slice(&binding.stream_index.to_be_bytes());
    out
}

/// Encrypts chunk `index` and appends it, length-prefixed, to `out`.
pub fn seal_chunk(
    key: &SecretKey,
    binding: StreamBinding,
    index: u64,
    last: bool,
    plaintext: &[u8],
    out: &mut Vec<u8>,
) {
    ChunkSealer::new(key, binding).seal(index, last, plaintext, out);
}

/// Bytes one sealed chunk of `plaintext_len` bytes takes in a stream object.
pub const fn sealed_chunk_len(plaintext_len: usize) -> usize {
    4 + plaintext_len + TAG_LEN
}

/// Seals the chunks of one stream with the key expanded once (the same bytes as
/// [`seal_chunk`], without a key schedule and a ciphertext allocation per chunk).
pub struct ChunkSealer {
    cipher: Gcm,
    binding: StreamBinding,
}

impl ChunkSealer {
    pub fn new(key: &SecretKey, binding: StreamBinding) -> Self {
        ChunkSealer {
            cipher: key.cipher(),
            binding,
        }
    }

    /// Encrypts chunk `index` in place at the end of `out`: length prefix, ciphertext, tag.
    pub fn seal(&self, index: u64, last: bool, plaintext: &[u8], out: &mut Vec<u8>) {
        debug_assert!(index < 1 << 56);
        let nonce = chunk_nonce(self.binding, index, last);
        let aad = chunk_aad(self.binding, index, last);
        out.reserve(sealed_chunk_len(plaintext.len()));
        out.extend_from_slice(&((plaintext.len() + TAG_LEN) as u32).to_be_bytes());
        self.cipher.seal_appending(nonce, &aad, plaintext, out);
    }
}

/// One chunk read back: its plaintext and whether it was the final one.
pub struct OpenedChunk {
    pub plaintext: Vec<u8>,
    pub last: bool,
}

/// Reads a stream object chunk by chunk, verifying each one in order.
pub struct ChunkReader<'a> {
    key: &'a SecretKey,
    binding: StreamBinding,
    rest: &'a [u8],
    index: u64,
    finished: bool,
}

impl<'a> ChunkReader<'a> {
    /// Checks the header against `binding` and positions at the first chunk.
    pub fn new(key: &'a SecretKey, binding: StreamBinding, object: &'a [u8]) -> Result<Self, VaultError> {
        let header = stream_header(binding);
        if object.len() < header.len() || object[..header.len()] != header[..] {
            return Err(VaultError::Integrity(
                "stream header does not match this recording and stream".into(),
            ));
        }
        Ok(ChunkReader {
            key,
            binding,
            rest: &object[header.len()..],
            index: 0,
            finished: false,
        })
    }

    /// Bytes not yet consumed (for recovery: what follows the last good chunk).
    pub fn remaining(&self) -> usize {
        self.rest.len()
    }

    pub fn chunks_read(&self) -> u64 {
        self.index
    }

    /// The next verified chunk, `Ok(None)` after the final one.
    pub fn next_chunk(&mut self) -> Result<Option<OpenedChunk>, VaultError> {
        if self.finished {
            if !self.rest.is_empty() {
                return Err(VaultError::Integrity("data after the final chunk".into()));
            }
            return Ok(None);
        }
        if self.rest.is_empty() {
            return Err(VaultError::Integrity(format!(
                "stream truncated after chunk {}: no final chunk",
                self.index
            )));
        }
        if self.rest.len() < 4 {
            return Err(VaultError::Integrity("stream truncated inside a chunk length".into()));
        }
        let len = u32::from_be_bytes([self.rest[0], self.rest[1], self.rest[2], self.rest[3]]) as usize;
        if !(TAG_LEN..=MAX_CHUNK_PLAINTEXT + TAG_LEN).contains(&len) || self.rest.len() < 4 + len {
            return Err(VaultError::Integrity(format!(
                "chunk {} has an impossible length or is truncated",
                self.index
            )));
        }
        let ciphertext = &self.rest[4..4 + len];
        let cipher = self.key.cipher();
        for last in [false, true] {
            let nonce = chunk_nonce(self.binding, self.index, last);
            let aad = chunk_aad(self.binding, self.index, last);
            if let Some(plaintext) = cipher.open(nonce, &aad, ciphertext) {
                self.rest = &self.rest[4 + len..];
                self.index += 1;
                self.finished = last;
                return Ok(Some(OpenedChunk { plaintext, last }));
            }
        }
        Err(VaultError::Integrity(format!(
            "chunk {} failed authentication (tampered, reordered or from another stream)",
            self.index
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn binding() -> StreamBinding {
        StreamBinding {
            recording_id: uuid::Uuid::from_u128(7),
            stream_index: 1,
        }
    }

    fn object(key: &SecretKey, chunks: &[&[u8]]) -> Vec<u8> {
        let mut out = stream_header(binding());
        for (i, chunk) in chunks.iter().enumerate() {
            seal_chunk(key, binding(), i as u64, i + 1 == chunks.len(), chunk, &mut out);
        }
        out
    }

    fn read_all(key: &SecretKey, bytes: &[u8]) -> Result<Vec<Vec<u8>>, VaultError> {
        let mut reader = ChunkReader::new(key, binding(), bytes)?;
        let mut out = Vec::new();
        while let Some(chunk) = reader.next_chunk()? {
            out.push(chunk.plaintext);
        }
        Ok(out)
    }

    #[test]
    fn round_trip_and_every_kind_of_damage_is_detected() {
        let key = SecretKey::random();
        let good = object(&key, &[b"one", b"two", b"three"]);
        assert_eq!(
            read_all(&key, &good).unwrap(),
            vec![b"one".to_vec(), b"two".to_vec(), b"three".to_vec()]
        );

        let mut flipped = good.clone();
        let at = flipped.len() - 5;
        flipped[at] ^= 1;
        assert!(read_all(&key, &flipped).is_err(), "tampered byte");

        let first_chunk_end = 28 + 4 + 3 + 16;
        let truncated = &good[..first_chunk_end];
        assert!(read_all(&key, truncated).is_err(), "truncated after a chunk");

        let mut swapped = stream_header(binding());
        let mut a = Vec::new();
        seal_chunk(&key, binding(), 0, false, b"one", &mut a);
        let mut b = Vec::new();
        seal_chunk(&key, binding(), 1, true, b"two", &mut b);
        swapped.extend_from_slice(&b);
        swapped.extend_from_slice(&a);
        assert!(read_all(&key, &swapped).is_err(), "reordered");

        let other = SecretKey::random();
        assert!(read_all(&other, &good).is_err(), "wrong key");

        let mut extra = good.clone();
        extra.extend_from_slice(b"junk");
        assert!(read_all(&key, &extra).is_err(), "data after final");
    }

    #[test]
    fn in_place_sealing_gives_the_same_bytes_as_the_aead_api() {
        let key = SecretKey::random();
        let sealer = ChunkSealer::new(&key, binding());
        for (index, last, plaintext) in [
            (0, false, &b""[..]),
            (1, false, &[7u8; 8000][..]),
            (2, true, &b"{}"[..]),
        ] {
            let mut out = vec![0xAA];
            sealer.seal(index, last, plaintext, &mut out);
            let nonce = chunk_nonce(binding(), index, last);
            let aad = chunk_aad(binding(), index, last);
            // The reference: RustCrypto's AES-256-GCM over the same nonce and AAD.
            use aes_gcm::aead::{Aead, KeyInit, Payload};
            let expected = aes_gcm::Aes256Gcm::new(key.expose().into())
                .encrypt(
                    aes_gcm::Nonce::from_slice(&nonce),
                    Payload {
                        msg: plaintext,
                        aad: &aad,
                    },
                )
                .unwrap();
            assert_eq!(out[0], 0xAA);
            assert_eq!(out[1..5], (expected.len() as u32).to_be_bytes());
            assert_eq!(out[5..], expected[..]);
            assert_eq!(out.len() - 1, sealed_chunk_len(plaintext.len()));
        }
    }

    #[test]
    fn wrapped_keys_are_bound_to_their_context() {
        let kek = SecretKey::random();
        let key = SecretKey::random();
        let wrapped = wrap_key(&kek, &key, "dk:1");
        assert_eq!(unwrap_key(&kek, &wrapped, "dk:1").unwrap().expose(), key.expose());
        assert!(unwrap_key(&kek, &wrapped, "dk:2").is_err());
    }
}
