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
use std::io::Write;
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
    let corrupt = |what: &str| ScreeningError::Corrupt {
        path: path.to_owned(),
        what: what.to_owned(),
    };
    if bytes.len() < 16 || &bytes[..8] != MAGIC {
        return Err(ScreeningError::NotARegister { path: path.to_owned() });
    }
    let format = u32::from_le_bytes(bytes[8..12].try_into().expect("4 bytes"));
    if format != FORMAT {
        return Err(ScreeningError::UnsupportedFormat {
            path: path.to_owned(),
            found: format,
            supported: FORMAT,
        });
    }
    let (body, sum) = bytes.split_at(bytes.len() - 8);
    if checksum(body) != u64::from_le_bytes(sum.try_into().expect("8 bytes")) {
        return Err(corrupt("checksum mismatch (truncated or altered)"));
    }
    let mut reader = Reader { bytes: body, pos: 12 };
    let header_len = reader.u32().ok_or_else(|| corrupt("header length"))? as usize;
    let header = reader.take(header_len).ok_or_else(|| corrupt("header"))?;
    let info: RegisterInfo = serde_json::from_slice(header).map_err(|e| corrupt(&format!("header: {e}")))?;
    let set = decode_set(&mut reader).map_err(|e| corrupt(&format!("number set: {e}")))?;
    let provenance = decode_set(&mut reader).map_err(|e| corrupt(&format!("provenance set: {e}")))?;
    let n = reader.len().ok_or_else(|| corrupt("provenance sources"))?;
    let provenance_source = reader.u16s(n).ok_or_else(|| corrupt("provenance sources"))?;
    if reader.pos != body.len() {
        return Err(corrupt("trailing bytes"));
    }
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
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
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

fn decode_set(reader: &mut Reader<'_>) -> Result<NumberSet, String> {
    let shift = reader.u32().ok_or("shift")?;
    let segments = reader.len().ok_or("segment count")?;
    let seg_first = reader.u64s(segments).ok_or("segment starts")?;
    let seg_len = reader.u32s(segments).ok_or("segment lengths")?;
    let seg_at = reader.u32s(segments).ok_or("segment offsets")?;
    let n = reader.len().ok_or("bucket count")?;
    let starts = reader.u32s(n).ok_or("bucket index")?;
    let n = reader.len().ok_or("key count")?;
    let lows = reader.u16s(n).ok_or("keys")?;
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

struct Reader<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        let slice = self.bytes.get(self.pos..self.pos.checked_add(n)?)?;
        self.pos += n;
        Some(slice)
    }

    fn u32(&mut self) -> Option<u32> {
        Some(u32::from_le_bytes(self.take(4)?.try_into().ok()?))
    }

    /// A count, sanity-checked against the bytes left.
    fn len(&mut self) -> Option<usize> {
        let n = usize::try_from(u64::from_le_bytes(self.take(8)?.try_into().ok()?)).ok()?;
        (n <= self.bytes.len() - self.pos).then_some(n)
    }

    fn u64s(&mut self, n: usize) -> Option<Vec<u64>> {
        let bytes = self.take(n.checked_mul(8)?)?;
        Some(bytes.chunks_exact(8).map(|c| u64::from_le_bytes(c.try_into().expect("8"))).collect())
    }

    fn u32s(&mut self, n: usize) -> Option<Vec<u32>> {
        let bytes = self.take(n.checked_mul(4)?)?;
        Some(bytes.chunks_exact(4).map(|c| u32::from_le_bytes(c.try_into().expect("4"))).collect())
    }

    fn u16s(&mut self, n: usize) -> Option<Vec<u16>> {
        let bytes = self.take(n.checked_mul(2)?)?;
        Some(bytes.chunks_exact(2).map(|c| u16::from_le_bytes([c[0], c[1]])).collect())
    }
}

/// A fast 64-bit checksum: four independent multiply-rotate lanes over 8-byte words.
fn checksum(bytes: &[u8]) -> u64 {
    const K: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut lanes = [0x243f_6a88_85a3_08d3u64, 0x1319_8a2e_0370_7344, 0xa409_3822_299f_31d0, 0x082e_fa98_ec4e_6c89];
    let mut blocks = bytes.chunks_exact(32);
    for block in &mut blocks {
        for (lane, word) in lanes.iter_mut().zip(block.chunks_exact(8)) {
            let w = u64::from_le_bytes(word.try_into().expect("8"));
            *lane = (*lane ^ w).wrapping_mul(K).rotate_left(31);
        }
    }
    let mut h = bytes.len() as u64;
    for lane in lanes {
        h = (h ^ lane).wrapping_mul(K).rotate_left(27);
    }
    for &b in blocks.remainder() {
        h = (h ^ u64::from(b)).wrapping_mul(K).rotate_left(13);
    }
    h ^ (h >> 29)
}
