//! A synthetic TPS register in the real file format, generated fast from a seed,
//! whose truth is arithmetic: any number can be checked without a second copy.
//!
//! The candidate space is three blocks of a billion UK national significant
//! numbers (01…, 02…, 07…). The i-th listed number sits in slot
//! `i * STRIDE + h(i) % STRIDE`, so a number is listed exactly when its slot is
//! the one its index chose. Change files remove about 0.1% and add as many
//! numbers from the other slots; a second one re-adds half the removed and
//! removes half the added.

#![allow(dead_code)]

use std::io::Write;
use std::path::Path;

/// Slots per listed number (the space holds `count * STRIDE` slots).
pub const STRIDE: u64 = 150;
const BLOCK: u64 = 1_000_000_000;
const BLOCK_START: [u64; 3] = [1_000_000_000, 2_000_000_000, 7_000_000_000];
const UK: u64 = 440_000_000_000;

/// A deterministic 64-bit mix of (i, stream) for a seed.
pub fn h(seed: u64, i: u64, stream: u64) -> u64 {
    let mut z = seed ^ i.wrapping_mul(0x9e37_79b9_7f4a_7c15) ^ stream.wrapping_mul(0xd1b5_4a32_d192_ed03);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// What the register holds after each file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    Full,
    Changes1,
    Changes2,
}

#[derive(Debug, Clone, Copy)]
pub struct Synthetic {
    pub count: u64,
    pub seed: u64,
}

impl Synthetic {
    pub fn new(count: u64, seed: u64) -> Self {
        assert!(count * STRIDE <= 3 * BLOCK, "the space holds at most 20 million");
        Synthetic { count, seed }
    }

    fn key_of_slot(slot: u64) -> u64 {
        UK + BLOCK_START[(slot / BLOCK) as usize] + slot % BLOCK
    }

    /// The slot of a key, if the key is in the candidate space.
    fn slot_of_key(key: u64) -> Option<u64> {
        let nsn = key.checked_sub(UK)?;
        let block = BLOCK_START.iter().position(|&s| (s..s + BLOCK).contains(&nsn))?;
        Some(block as u64 * BLOCK + nsn - BLOCK_START[block])
    }

    /// The key of the i-th number of the full file.
    pub fn base_key(&self, i: u64) -> u64 {
        Self::key_of_slot(i * STRIDE + h(self.seed, i, 0) % STRIDE)
    }

    /// The key change file 1 may add for index j (a slot the full file left empty).
    pub fn alt_key(&self, j: u64) -> u64 {
        let base = h(self.seed, j, 0) % STRIDE;
        Self::key_of_slot(j * STRIDE + (base + 1 + h(self.seed, j, 3) % (STRIDE - 1)) % STRIDE)
    }

    pub fn removed1(&self, i: u64) -> bool {
        h(self.seed, i, 1).is_multiple_of(1000)
    }

    pub fn added1(&self, j: u64) -> bool {
        h(self.seed, j, 2).is_multiple_of(1000)
    }

    pub fn readded2(&self, i: u64) -> bool {
        self.removed1(i) && h(self.seed, i, 4).is_multiple_of(2)
    }

    pub fn removed2(&self, j: u64) -> bool {
        self.added1(j) && h(self.seed, j, 5).is_multiple_of(2)
    }

    /// Whether `key` is listed after `stage`, and which file listed it.
    pub fn truth(&self, key: u64, stage: Stage) -> Option<Stage> {
        let slot = Self::slot_of_key(key)?;
        let i = slot / STRIDE;
        if i >= self.count {
            return None;
        }
        if key == self.base_key(i) {
            return match stage {
                Stage::Full => Some(Stage::Full),
                _ if !self.removed1(i) => Some(Stage::Full),
                Stage::Changes2 if self.readded2(i) => Some(Stage::Changes2),
                _ => None,
            };
        }
        if key == self.alt_key(i) && self.added1(i) {
            return match stage {
                Stage::Full => None,
                Stage::Changes1 => Some(Stage::Changes1),
                Stage::Changes2 if self.removed2(i) => None,
                Stage::Changes2 => Some(Stage::Changes1),
            };
        }
        None
    }

    /// Any key in the candidate space (listed or not), from a draw.
    pub fn random_key(&self, draw: u64) -> u64 {
        Self::key_of_slot(draw % (self.count * STRIDE))
    }

    /// The full file: 12-character records and CRLF, both layouts mixed, in a
    /// scrambled order (a full permutation of the indexes).
    pub fn write_full(&self, path: &Path) -> std::io::Result<()> {
        let n = self.count;
        let step = (1..)
            .map(|k| n / 2 + 7 + k)
            .find(|&a| gcd(a, n) == 1)
            .expect("a step coprime with count");
        let mut out = std::io::BufWriter::with_capacity(8 << 20, std::fs::File::create(path)?);
        let mut line = [0u8; 14];
        for k in 0..n {
            let i = (k * step + 3) % n;
            record(self.base_key(i), h(self.seed, i, 6).is_multiple_of(2), &mut line);
            out.write_all(&line)?;
        }
        out.flush()
    }

    /// Change file 1 (removals then additions, markers after the record) and
    /// change file 2 (markers before, mixed).
    pub fn write_changes(&self, path: &Path, which: Stage) -> std::io::Result<usize> {
        let mut out = std::io::BufWriter::new(std::fs::File::create(path)?);
        let mut line = [0u8; 14];
        let mut written = 0;
        for i in 0..self.count {
            let lines = match which {
                Stage::Changes1 => [
                    self.removed1(i).then(|| (self.base_key(i), b'D')),
                    self.added1(i).then(|| (self.alt_key(i), b'A')),
                ],
                _ => [
                    self.readded2(i).then(|| (self.base_key(i), b'A')),
                    self.removed2(i).then(|| (self.alt_key(i), b'D')),
                ],
            };
            for (key, marker) in lines.into_iter().flatten() {
                record(key, i % 2 == 0, &mut line);
                if which == Stage::Changes1 {
                    out.write_all(&line[..12])?;
                    out.write_all(&[marker, b'\r', b'\n'])?;
                } else {
                    out.write_all(&[marker])?;
                    out.write_all(&line)?;
                }
                written += 1;
            }
        }
        out.flush()?;
        Ok(written)
    }

    /// Every key a change file touches, with the index it came from.
    pub fn changed_keys(&self) -> Vec<u64> {
        (0..self.count)
            .flat_map(|i| {
                let mut keys = Vec::new();
                if self.removed1(i) {
                    keys.push(self.base_key(i));
                }
                if self.added1(i) {
                    keys.push(self.alt_key(i));
                }
                keys
            })
            .collect()
    }
}

fn gcd(a: u64, b: u64) -> u64 {
    if b == 0 { a } else { gcd(b, a % b) }
}

/// Writes a UK key as a 12-character record plus CRLF: split layout (dialling
/// code in 5 characters, remainder right-justified in 7) or whole-number layout.
pub fn record(key: u64, split: bool, line: &mut [u8; 14]) {
    let nsn = key - UK;
    let mut digits = [0u8; 11];
    digits[0] = b'0';
    let mut v = nsn;
    for d in digits[1..].iter_mut().rev() {
        *d = b'0' + (v % 10) as u8;
        v /= 10;
    }
    line.fill(b' ');
    if split {
        // 02x numbers: 4-digit code and 7-digit remainder; others: 5 and 6.
        let code = if digits[1] == b'2' { 4 } else { 5 };
        line[..code].copy_from_slice(&digits[..code]);
        let rest = &digits[code..];
        line[12 - rest.len()..12].copy_from_slice(rest);
    } else {
        line[..11].copy_from_slice(&digits);
    }
    line[12] = b'\r';
    line[13] = b'\n';
}
