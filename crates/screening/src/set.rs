//! The exact membership structure: a sorted set of number keys, stored as 16-bit
//! suffixes grouped in buckets of consecutive keys, with a bucket index.
//!
//! A key `k` lives in bucket `k >> shift`; the bucket's suffixes `k & mask` are kept
//! sorted in one `u16` array, and `starts` says where each bucket begins. Runs of
//! buckets with keys in them (and short gaps) form segments, so the index costs
//! nothing for the empty parts of the numbering plan. `shift` is chosen from the
//! data so that a bucket holds about [`TARGET_PER_BUCKET`] keys: a lookup reads the
//! segment table (a few entries, cached), two adjacent `starts` and one short run
//! of suffixes — no false answers, about two cache misses, about 2.2 bytes a key.

/// Keys per non-empty bucket the shift aims at.
pub const TARGET_PER_BUCKET: u64 = 16;
/// Empty buckets bridged inside a segment before a new segment is cheaper.
const MAX_GAP: u64 = 8;
/// Largest shift: suffixes are `u16`.
const MAX_SHIFT: u32 = 16;
/// Batches from this size are put in key-range order before their lookups...
const LOCALITY_BATCH: usize = 1 << 12;
/// ...this many keys at a time (a 4 MiB buffer).
const LOCALITY_CHUNK: usize = 1 << 18;

/// An immutable sorted set of `u64` keys.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct NumberSet {
    pub(crate) shift: u32,
    /// First bucket of each segment, ascending.
    pub(crate) seg_first: Vec<u64>,
    /// Buckets in each segment.
    pub(crate) seg_len: Vec<u32>,
    /// Index into `starts` of each segment's first bucket.
    pub(crate) seg_at: Vec<u32>,
    /// Per segment: where each bucket's suffixes begin in `lows`, then where the last ends.
    pub(crate) starts: Vec<u32>,
    /// The suffixes, bucket after bucket, ascending within a bucket.
    pub(crate) lows: Vec<u16>,
}

impl NumberSet {
    /// Builds the set from strictly ascending keys.
    ///
    /// # Panics
    /// When the keys are not strictly ascending, or there are 2^32 or more.
    pub fn from_sorted(keys: &[u64]) -> NumberSet {
        assert!(keys.windows(2).all(|w| w[0] < w[1]), "keys must be strictly ascending");
        assert!(u32::try_from(keys.len()).is_ok(), "at most 2^32 - 1 keys");
        let shift = choose_shift(keys);
        let mask = (1u64 << shift) - 1;
        let mut set = NumberSet {
            shift,
            lows: Vec::with_capacity(keys.len()),
            ..NumberSet::default()
        };
        let n = keys.len();
        let mut i = 0;
        while i < n {
            let first = keys[i] >> shift;
            let at = set.starts.len();
            let mut bucket = first;
            loop {
                set.starts.push(i as u32);
                while i < n && keys[i] >> shift == bucket {
                    set.lows.push((keys[i] & mask) as u16);
                    i += 1;
                }
                if i == n {
                    break;
                }
                let next = keys[i] >> shift;
                if next - bucket - 1 > MAX_GAP {
                    break;
                }
                bucket += 1;
                while bucket < next {
                    set.starts.push(i as u32);
                    bucket += 1;
                }
            }
            set.starts.push(i as u32);
            set.seg_first.push(first);
            set.seg_len.push((bucket - first + 1) as u32);
            set.seg_at.push(at as u32);
        }
        set
    }

    /// Number of keys.
    pub fn len(&self) -> usize {
        self.lows.len()
    }

    pub fn is_empty(&self) -> bool {
        self.lows.is_empty()
    }

    /// Bytes held by the structure (its arrays).
    pub fn heap_bytes(&self) -> usize {
        self.seg_first.len() * 8
            + (self.seg_len.len() + self.seg_at.len() + self.starts.len()) * 4
            + self.lows.len() * 2
    }

    /// Segments in the index (for figures).
    pub fn segments(&self) -> usize {
        self.seg_first.len()
    }

    /// The index into `starts` of the bucket of `key`, if a segment covers it.
    #[inline]
    fn bucket_index(&self, key: u64) -> Option<usize> {
        let bucket = key >> self.shift;
        let s = self.seg_first.partition_point(|&f| f <= bucket).checked_sub(1)?;
        let rel = bucket - self.seg_first[s];
        if rel >= u64::from(self.seg_len[s]) {
            return None;
        }
        Some(self.seg_at[s] as usize + rel as usize)
    }

    /// The range of `lows` holding the bucket of `key`, if any.
    #[inline]
    fn bucket_range(&self, key: u64) -> Option<(usize, usize)> {
        let i = self.bucket_index(key)?;
        Some((self.starts[i] as usize, self.starts[i + 1] as usize))
    }

    /// Whether `low` is in a bucket's run of suffixes.
    #[inline]
    fn run_contains(run: &[u16], low: u16) -> bool {
        if run.len() <= 64 {
            // Branch-free scan of a short run: vectorises, no mispredicted branches.
            run.iter().fold(false, |found, &v| found | (v == low))
        } else {
            run.binary_search(&low).is_ok()
        }
    }

    /// Whether `key` is in the set.
    #[inline]
    pub fn contains(&self, key: u64) -> bool {
        match self.bucket_range(key) {
            Some((lo, hi)) => Self::run_contains(&self.lows[lo..hi], (key & ((1u64 << self.shift) - 1)) as u16),
            None => false,
        }
    }

    /// The rank of `key` (its index in ascending order), if it is in the set.
    pub fn rank(&self, key: u64) -> Option<usize> {
        let (lo, hi) = self.bucket_range(key)?;
        let low = (key & ((1u64 << self.shift) - 1)) as u16;
        self.lows[lo..hi].binary_search(&low).ok().map(|p| lo + p)
    }

    /// Answers for many keys at once, in their order.
    ///
    /// Large batches first go through one counting-sort pass by key range, so that
    /// lookups touching nearby memory run together (caches and TLB stay warm);
    /// then lookups go in groups whose memory reads are issued together (all
    /// bucket indexes, then all runs, then the searches), so that their cache
    /// misses overlap instead of queueing.
    pub fn contains_many(&self, keys: &[u64], out: &mut Vec<bool>) {
        out.clear();
        out.resize(keys.len(), false);
        if keys.len() < LOCALITY_BATCH {
            self.grouped(keys.iter().copied().enumerate(), out);
            return;
        }
        let mut order = Vec::with_capacity(LOCALITY_CHUNK);
        let mut starts = Vec::new();
        for (c, chunk) in keys.chunks(LOCALITY_CHUNK).enumerate() {
            let (min, max) = chunk.iter().fold((u64::MAX, 0), |(lo, hi), &k| (lo.min(k), hi.max(k)));
            let parts_bits = (chunk.len() / 64).clamp(2, 1 << 16).ilog2();
            let part_shift = (64 - (max - min).leading_zeros()).saturating_sub(parts_bits);
            starts.clear();
            starts.resize((1usize << parts_bits) + 1, 0u32);
            for &k in chunk {
                starts[((k - min) >> part_shift) as usize + 1] += 1;
            }
            for p in 1..starts.len() {
                starts[p] += starts[p - 1];
            }
            order.clear();
            order.resize(chunk.len(), (0u64, 0u32));
            for (i, &k) in chunk.iter().enumerate() {
                let slot = &mut starts[((k - min) >> part_shift) as usize];
                order[*slot as usize] = (k, i as u32);
                *slot += 1;
            }
            let base = c * LOCALITY_CHUNK;
            self.grouped(order.iter().map(|&(k, i)| (base + i as usize, k)), out);
        }
    }

    /// Lookups of (answer index, key) in groups of overlapping memory reads.
    fn grouped(&self, keys: impl Iterator<Item = (usize, u64)>, out: &mut [bool]) {
        const GROUP: usize = 16;
        let mask = (1u64 << self.shift) - 1;
        let mut pending = [(0usize, 0u64, 0usize, 0usize); GROUP];
        let mut keys = keys.peekable();
        while keys.peek().is_some() {
            let mut n = 0;
            for (slot, (index, key)) in pending.iter_mut().zip(keys.by_ref()) {
                let (lo, hi) = self.bucket_range(key).unwrap_or((0, 0));
                *slot = (index, key, lo, hi);
                n += 1;
            }
            let mut touched = 0u16;
            for &(_, _, lo, hi) in &pending[..n] {
                if lo < hi {
                    touched ^= self.lows[lo] ^ self.lows[hi - 1];
                }
            }
            std::hint::black_box(touched);
            for &(index, key, lo, hi) in &pending[..n] {
                out[index] = Self::run_contains(&self.lows[lo..hi], (key & mask) as u16);
            }
        }
    }

    /// The keys in ascending order.
    pub fn iter(&self) -> impl Iterator<Item = u64> + '_ {
        let shift = self.shift;
        (0..self.seg_first.len()).flat_map(move |s| {
            let at = self.seg_at[s] as usize;
            (0..self.seg_len[s] as usize).flat_map(move |rel| {
                let bucket = (self.seg_first[s] + rel as u64) << shift;
                let (lo, hi) = (self.starts[at + rel] as usize, self.starts[at + rel + 1] as usize);
                self.lows[lo..hi].iter().map(move |&low| bucket | u64::from(low))
            })
        })
    }

    /// Checks the invariants of a set decoded from a file.
    pub(crate) fn validate(&self) -> Result<(), String> {
        let segs = self.seg_first.len();
        if self.shift == 0 || self.shift > MAX_SHIFT {
            return Err(format!("shift {} out of range", self.shift));
        }
        if self.seg_len.len() != segs || self.seg_at.len() != segs {
            return Err("segment arrays differ in length".into());
        }
        let mut expected_at = 0usize;
        let mut prev_end: Option<u64> = None;
        let mut prev_pos = 0u32;
        for s in 0..segs {
            let (first, len, at) = (self.seg_first[s], self.seg_len[s], self.seg_at[s] as usize);
            if len == 0 || at != expected_at || prev_end.is_some_and(|e| first <= e) {
                return Err(format!("segment {s} is out of order"));
            }
            let end = first.checked_add(u64::from(len) - 1).ok_or("segment overflows")?;
            if end > (u64::MAX >> self.shift) {
                return Err(format!("segment {s} is out of range"));
            }
            let starts = self
                .starts
                .get(at..=at + len as usize)
                .ok_or_else(|| format!("segment {s} points past the index"))?;
            if starts[0] != prev_pos || starts.windows(2).any(|w| w[0] > w[1]) {
                return Err(format!("segment {s} has a bad bucket index"));
            }
            for w in starts.windows(2) {
                let run = self
                    .lows
                    .get(w[0] as usize..w[1] as usize)
                    .ok_or("bucket points past the keys")?;
                if run.windows(2).any(|p| p[0] >= p[1]) || run.iter().any(|&l| u32::from(l) >> self.shift != 0) {
                    return Err(format!("segment {s} has unsorted or oversized suffixes"));
                }
            }
            prev_pos = starts[len as usize];
            expected_at = at + len as usize + 1;
            prev_end = Some(end);
        }
        if expected_at != self.starts.len() || prev_pos as usize != self.lows.len() {
            return Err("index and keys differ in length".into());
        }
        Ok(())
    }
}

/// The smallest shift (most buckets) whose non-empty buckets still hold about
/// [`TARGET_PER_BUCKET`] keys on average; one pass over the keys.
fn choose_shift(keys: &[u64]) -> u32 {
    // Consecutive keys fall in different buckets at shift s exactly when their
    // highest differing bit is at s or above.
    let mut highest_bit = [0u64; 64];
    for w in keys.windows(2) {
        highest_bit[63 - (w[0] ^ w[1]).leading_zeros() as usize] += 1;
    }
    let n = keys.len() as u64;
    (1..=MAX_SHIFT)
        .find(|&s| {
            let buckets = 1 + highest_bit[s as usize..].iter().sum::<u64>();
            n >= TARGET_PER_BUCKET * buckets
        })
        .unwrap_or(MAX_SHIFT)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exact_on_small_sets() {
        let cases: &[&[u64]] = &[
            &[],
            &[0],
            &[1, 2, 3],
            &[5, 1 << 20, (1 << 20) + 1, 1 << 40, u64::MAX >> 1],
            &[4721234567, 442073787244, 442073787245, 447860338653],
        ];
        for keys in cases {
            let set = NumberSet::from_sorted(keys);
            assert_eq!(set.len(), keys.len());
            assert_eq!(set.iter().collect::<Vec<_>>(), *keys);
            set.validate().unwrap();
            for (i, &k) in keys.iter().enumerate() {
                assert!(set.contains(k));
                assert_eq!(set.rank(k), Some(i));
                for probe in [k.wrapping_add(1), k.wrapping_sub(1), k ^ (1 << 17)] {
                    assert_eq!(set.contains(probe), keys.contains(&probe), "{probe}");
                }
            }
        }
    }

    #[test]
    fn dense_and_gappy_keys() {
        let keys: Vec<u64> = (0..100_000u64)
            .map(|i| 440_000_000_000 + i * 3 + (i / 1000) * 1_000_000)
            .collect();
        let set = NumberSet::from_sorted(&keys);
        set.validate().unwrap();
        assert!(set.segments() > 1);
        assert_eq!(set.iter().collect::<Vec<_>>(), keys);
        let probes: Vec<u64> = (0..200_000u64)
            .map(|i| match i % 2 {
                0 => keys[(i.wrapping_mul(0x9e37_79b9) % keys.len() as u64) as usize],
                _ => keys[0] - 7 + i.wrapping_mul(0x9e37_79b9) % 400_000_000,
            })
            .collect();
        for batch in [&probes[..100], &probes[..]] {
            let mut answers = Vec::new();
            set.contains_many(batch, &mut answers);
            let single: Vec<bool> = batch.iter().map(|&k| set.contains(k)).collect();
            assert_eq!(answers, single);
            assert!(answers.iter().any(|&a| a) && answers.iter().any(|&a| !a));
        }
        let mut expected = keys.iter().peekable();
        for probe in keys[0] - 10..keys[5000] + 10 {
            let want = expected.next_if(|&&k| k == probe).is_some();
            assert_eq!(set.contains(probe), want, "{probe}");
        }
    }
}
