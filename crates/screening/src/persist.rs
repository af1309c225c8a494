//! The register file: a versioned binary format, written atomically (temporary
//! file, fsync, rename, fsync of the directory) and checked when loaded.
//!
//! ```text
//! "CVSCREEN"  u32 format  u32 header length  header (JSON: RegisterInfo)
//! set         u32 shift, u64 n + n×u64 segment starts, n×u32 lengths, n×u32 index offsets,
//!             u64 n + n×u32 bucket starts, u64 n + n×u16 suffixes
//! provenance  a set as above, then u64 n + n×u16 source indexes
//! u64 checksum of everything before it
//! ```
//! All integers little-endian. The checksum catches truncation and corruption;
//! it is not a signature.

use std::fs::File;
use std::io::{Read, Write};
use std::path::Path;

use crate::error::ScreeningError;
use crate::register::{Register, RegisterInfo};
use crate::set::NumberSet;

const MAGIC: &[u8; 8] = b"CVSCREEN";
/// The format this build writes and reads.
pub const FORMAT: u32 = 1;

/// The bytes of a register file.
pub fn encode(register: &Register) -> Vec<u8> {
    let header = serde_json::to_vec(&register.info).expect("register info always serialises");
    let mut out = Vec::with_capacity(64 + header.len() + register.heap_bytes() + 64);
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(&FORMAT.to_le_bytes());
    out.extend_from_slice(&(header.len() as u32).to_le_bytes());
    out.extend_from_slice(&header);
    encode_set(&mut out, &register.set);
    encode_set(&mut out, &register.provenance);
    put_u16s(&mut out, &register.provenance_source);
    let sum = checksum(&out);
    out.extend_from_slice(&sum.to_le_bytes());
    out
}

/// Reads a register file's bytes; `path` names it in errors.
pub fn decode(path: &Path, bytes: &[u8]) -> Result<Register, ScreeningError> {
    decode_from(path, bytes, bytes.len() as u64)
}

/// Reads a register file, streaming: memory holds the register, not the file too.
pub fn read(path: &Path) -> Result<Register, ScreeningError> {
    let read_error = |source| ScreeningError::Read {
        path: path.to_owned(),
        source,
    };
    let file = File::open(path).map_err(read_error)?;
    let len = file.metadata().map_err(read_error)?.len();
    decode_from(path, std::io::BufReader::with_capacity(CHUNK, file), len)
}

/// Decodes `len` bytes of a register file from `source`.
fn decode_from(path: &Path, source: impl Read, len: u64) -> Result<Register, ScreeningError> {
    let corrupt = |what: &str| ScreeningError::Corrupt {
        path: path.to_owned(),
        what: what.to_owned(),
    };
    if len < 24 {
        return Err(ScreeningError::NotARegister { path: path.to_owned() });
    }
    let mut reader = Reader {
        source,
        remaining: len - 8,
        sum: Checksum::default(),
        buf: Vec::new(),
    };
    let head = reader.bytes(12).map_err(|e| corrupt(&e))?;
    if &head[..8] != MAGIC {
        return Err(ScreeningError::NotARegister { path: path.to_owned() });
    }
    let format = u32::from_le_bytes(head[8..12].try_into().expect("4 bytes"));
    if format != FORMAT {
        return Err(ScreeningError::UnsupportedFormat {
            path: path.to_owned(),
            found: format,
            supported: FORMAT,
        });
    }
    let header_len = reader.u32().map_err(|e| corrupt(&format!("header length: {e}")))? as usize;
    let header = reader.bytes(header_len).map_err(|e| corrupt(&format!("header: {e}")))?;
    let info: Result<RegisterInfo, _> = serde_json::from_slice(header);
    let set = decode_set(&mut reader).map_err(|e| corrupt(&format!("number set: {e}")));
    let provenance = decode_set(&mut reader).map_err(|e| corrupt(&format!("provenance set: {e}")));
    let provenance_source = reader
        .len()
        .and_then(|n| reader.u16s(n))
        .map_err(|e| corrupt(&format!("provenance sources: {e}")));
    // The checksum first: damage anywhere is reported as damage, whatever it broke.
    let trailer = reader.trailer().map_err(|e| corrupt(&e))?;
    if reader.remaining != 0 || reader.sum.finish() != trailer {
        return Err(corrupt("checksum mismatch (truncated or altered)"));
    }
    let info = info.map_err(|e| corrupt(&format!("header: {e}")))?;
    let (set, provenance, provenance_source) = (set?, provenance?, provenance_source?);
    if set.len() as u64 != info.numbers
        || provenance_source.len() != provenance.len()
        || info.sources.is_empty()
        || provenance_source.iter().any(|&s| usize::from(s) >= info.sources.len())
    {
        return Err(corrupt("counts do not agree with the header"));
    }
    Ok(Register {
        info,
        set,
        provenance,
        provenance_source,
    })
}

/// Writes `bytes` to `path` so that readers see the old file or the new one, never part of one.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), ScreeningError> {
    let write_error = |source| ScreeningError::Write {
        path: path.to_owned(),
        source,
    };
    let dir = path.parent().unwrap_or(Path::new("."));
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = dir.join(format!(".{name}.tmp-{}", std::process::id()));
    let written = (|| {
        let mut file = File::create(&tmp)?;
        file.write_all(bytes)?;
        file.sync_all()
    })();
    if let Err(err) = written {
        let _ = std::fs::remove_file(&tmp);
        return Err(write_error(err));
    }
    if let Err(err) = std::fs::rename(&tmp, path) {
        let _ = std::fs::remove_file(&tmp);
        return Err(write_error(err));
    }
    // The rename itself is durable once the directory is.
    File::open(dir).and_then(|d| d.sync_all()).map_err(write_error)
}

fn encode_set(out: &mut Vec<u8>, set: &NumberSet) {
    out.extend_from_slice(&set.shift.to_le_bytes());
    out.extend_from_slice(&(set.seg_first.len() as u64).to_le_bytes());
    for v in &set.seg_first {
        out.extend_from_slice(&v.to_le_bytes());
    }
    for v in set.seg_len.iter().chain(&set.seg_at) {
        out.extend_from_slice(&v.to_le_bytes());
    }
    out.extend_from_slice(&(set.starts.len() as u64).to_le_bytes());
    for v in &set.starts {
        out.extend_from_slice(&v.to_le_bytes());
    }
    put_u16s(out, &set.lows);
}

fn put_u16s(out: &mut Vec<u8>, values: &[u16]) {
    out.extend_from_slice(&(values.len() as u64).to_le_bytes());
    for v in values {
        out.extend_from_slice(&v.to_le_bytes());
    }
}

fn decode_set(reader: &mut Reader<impl Read>) -> Result<NumberSet, String> {
    let shift = reader.u32()?;
    let segments = reader.len()?;
    let seg_first = reader.u64s(segments)?;
    let seg_len = reader.u32s(segments)?;
    let seg_at = reader.u32s(segments)?;
    let n = reader.len()?;
    let starts = reader.u32s(n)?;
    let n = reader.len()?;
    let lows = reader.u16s(n)?;
    let set = NumberSet {
        shift,
        seg_first,
        seg_len,
        seg_at,
        starts,
        lows,
    };
    if set.seg_first.is_empty() && set.starts.is_empty() && set.lows.is_empty() {
        return Ok(NumberSet::default());
    }
    set.validate()?;
    Ok(set)
}

/// Bytes read at a time.
const CHUNK: usize = 1 << 16;

/// Reads the body of a register file, checksumming as it goes.
struct Reader<R> {
    source: R,
    /// Body bytes not read yet (the trailer excluded).
    remaining: u64,
    sum: Checksum,
    buf: Vec<u8>,
}

impl<R: Read> Reader<R> {
    /// The next `n` bytes of the body (`n` up to a chunk, or a header).
    fn bytes(&mut self, n: usize) -> Result<&[u8], String> {
        if n as u64 > self.remaining {
            return Err("truncated".into());
        }
        self.buf.resize(n, 0);
        self.source.read_exact(&mut self.buf).map_err(|e| e.to_string())?;
        self.remaining -= n as u64;
        self.sum.update(&self.buf);
        Ok(&self.buf)
    }

    fn u32(&mut self) -> Result<u32, String> {
        Ok(u32::from_le_bytes(self.bytes(4)?.try_into().expect("4")))
    }

    /// A count, sanity-checked against the bytes left.
    fn len(&mut self) -> Result<usize, String> {
        let n = u64::from_le_bytes(self.bytes(8)?.try_into().expect("8"));
        if n > self.remaining {
            return Err("count larger than the file".into());
        }
        Ok(n as usize)
    }

    /// `n` values of `width` bytes, read a chunk at a time.
    fn values<T>(&mut self, n: usize, width: usize, decode: impl Fn(&[u8]) -> T) -> Result<Vec<T>, String> {
        let total = n.checked_mul(width).ok_or("count overflows")?;
        if total as u64 > self.remaining {
            return Err("truncated".into());
        }
        let mut out = Vec::with_capacity(n);
        let mut left = total;
        while left > 0 {
            let take = left.min(CHUNK / width * width);
            out.extend(self.bytes(take)?.chunks_exact(width).map(&decode));
            left -= take;
        }
        Ok(out)
    }

    fn u64s(&mut self, n: usize) -> Result<Vec<u64>, String> {
        self.values(n, 8, |c| u64::from_le_bytes(c.try_into().expect("8")))
    }

    fn u32s(&mut self, n: usize) -> Result<Vec<u32>, String> {
        self.values(n, 4, |c| u32::from_le_bytes(c.try_into().expect("4")))
    }

    fn u16s(&mut self, n: usize) -> Result<Vec<u16>, String> {
        self.values(n, 2, |c| u16::from_le_bytes([c[0], c[1]]))
    }

    /// Skips what is left of the body (a damaged file) and reads the stored checksum.
    fn trailer(&mut self) -> Result<u64, String> {
        while self.remaining > 0 {
            let take = self.remaining.min(CHUNK as u64) as usize;
            self.bytes(take)?;
        }
        let mut sum = [0u8; 8];
        self.source.read_exact(&mut sum).map_err(|_| "truncated".to_owned())?;
        Ok(u64::from_le_bytes(sum))
    }
}

const K: u64 = 0x9e37_79b9_7f4a_7c15;

/// A fast 64-bit checksum: four independent multiply-rotate lanes over 8-byte words.
#[derive(Debug, Clone)]
struct Checksum {
    lanes: [u64; 4],
    pending: [u8; 32],
    pending_len: usize,
    total: u64,
}

impl Default for Checksum {
    fn default() -> Self {
        Checksum {
            lanes: [
                0x243f_6a88_85a3_08d3,
                0x1319_8a2e_0370_7344,
                0xa409_3822_299f_31d0,
                0x082e_fa98_ec4e_6c89,
            ],
            pending: [0; 32],
            pending_len: 0,
            total: 0,
        }
    }
}

impl Checksum {
    fn block(&mut self, block: &[u8]) {
        for (lane, word) in self.lanes.iter_mut().zip(block.chunks_exact(8)) {
            let w = u64::from_le_bytes(word.try_into().expect("8"));
            *lane = (*lane ^ w).wrapping_mul(K).rotate_left(31);
        }
    }

    fn update(&mut self, mut bytes: &[u8]) {
        self.total += bytes.len() as u64;
        if self.pending_len > 0 {
            let take = bytes.len().min(32 - self.pending_len);
            self.pending[self.pending_len..self.pending_len + take].copy_from_slice(&bytes[..take]);
            self.pending_len += take;
            bytes = &bytes[take..];
            if self.pending_len < 32 {
                return;
            }
            let block = self.pending;
            self.block(&block);
            self.pending_len = 0;
        }
        let mut blocks = bytes.chunks_exact(32);
        for block in &mut blocks {
            self.block(block);
        }
        let rest = blocks.remainder();
        self.pending[..rest.len()].copy_from_slice(rest);
        self.pending_len = rest.len();
    }

    fn finish(&self) -> u64 {
        let mut h = self.total;
        for lane in self.lanes {
            h = (h ^ lane).wrapping_mul(K).rotate_left(27);
        }
        for &b in &self.pending[..self.pending_len] {
            h = (h ^ u64::from(b)).wrapping_mul(K).rotate_left(13);
        }
        h ^ (h >> 29)
    }
}

/// The checksum of a whole byte string.
fn checksum(bytes: &[u8]) -> u64 {
    let mut sum = Checksum::default();
    sum.update(bytes);
    sum.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checksum_is_the_same_in_any_pieces() {
        let bytes: Vec<u8> = (0..1000u32).map(|i| (i * 7 + i / 13) as u8).collect();
        let whole = checksum(&bytes);
        for piece in [1, 3, 31, 32, 33, 100] {
            let mut sum = Checksum::default();
            for chunk in bytes.chunks(piece) {
                sum.update(chunk);
            }
            assert_eq!(sum.finish(), whole, "pieces of {piece}");
        }
        assert_ne!(checksum(&bytes[1..]), whole);
    }
}
