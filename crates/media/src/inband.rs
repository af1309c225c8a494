//! In-band DTMF detection in PCM16 audio, for recording clients that send no
//! RFC 4733 events: Goertzel filters at the eight DTMF frequencies over blocks of
//! 12.75 ms, with level, twist, purity and relative-peak tests, then a duration
//! and gap state machine.
//!
//! A block "hits" a key when the strongest row and column tones are loud enough,
//! within the twist limits, clearly above the other tones of their group, and
//! together hold most of the block's energy (speech and noise spread theirs). A key
//! is recognised after enough consecutive hits to cover the minimum duration, and
//! ends after enough misses to cover the minimum gap, so a short dropout inside a
//! tone does not split it and a held key counts once.

use crate::dtmf::DtmfDigit;

/// Row (low group) frequencies in Hz.
const ROW_HZ: [f32; 4] = [697.0, 770.0, 852.0, 941.0];
/// Column (high group) frequencies in Hz.
const COLUMN_HZ: [f32; 4] = [1209.0, 1336.0, 1477.0, 1633.0];
/// Keys by [row][column].
const KEYS: [[DtmfDigit; 4]; 4] = [
    [DtmfDigit::D1, DtmfDigit::D2, DtmfDigit::D3, DtmfDigit::A],
    [DtmfDigit::D4, DtmfDigit::D5, DtmfDigit::D6, DtmfDigit::B],
    [DtmfDigit::D7, DtmfDigit::D8, DtmfDigit::D9, DtmfDigit::C],
    [DtmfDigit::Star, DtmfDigit::D0, DtmfDigit::Hash, DtmfDigit::D],
];
/// Block length in seconds (102 samples at 8 kHz).
const BLOCK_SECONDS: f32 = 0.012_75;

/// Thresholds of an [`InbandDetector`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct InbandDetectorConfig {
    /// Sample rate of the PCM (8000..=48000).
    pub sample_rate: u32,
    /// Every tone at least this long is recognised (ITU-T Q.24: 40 ms).
    pub min_tone_ms: u32,
    /// Silence at least this long separates two presses of a key.
    pub min_gap_ms: u32,
    /// Weakest accepted level of each of the two tones, in dB below full scale.
    pub min_level_dbfs: f32,
    /// Largest accepted excess of the row tone over the column tone, in dB.
    pub max_normal_twist_db: f32,
    /// Largest accepted excess of the column tone over the row tone, in dB.
    pub max_reverse_twist_db: f32,
    /// Each tone must exceed the others of its group by this much, in dB.
    pub min_relative_peak_db: f32,
    /// Share of the block's energy the two tones must hold (0..1).
    pub min_tone_share: f32,
}

impl InbandDetectorConfig {
    /// Defaults for `sample_rate`: 40 ms tones, 25 ms gaps, -40 dBFS per tone,
    /// twist 8 dB either way, 6 dB relative peak, 55 % of the energy in the pair.
    ///
    /// With these, at 8 kHz a key needs 3 blocks (38 ms) of hits: every 40 ms tone
    /// is recognised and no tone under 25 ms is (ITU-T Q.24: accept 40, reject 23);
    /// a key ends after 2 blocks of misses, so a 10 ms dropout does not split it.
    pub fn new(sample_rate: u32) -> InbandDetectorConfig {
        InbandDetectorConfig {
            sample_rate,
            min_tone_ms: 40,
            min_gap_ms: 25,
            min_level_dbfs: -40.0,
            max_normal_twist_db: 8.0,
            max_reverse_twist_db: 8.0,
            min_relative_peak_db: 6.0,
            min_tone_share: 0.55,
        }
    }
}

/// A key press found in the audio.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InbandDigit {
    /// The key.
    pub digit: DtmfDigit,
    /// First sample of the first block that held the tone, counted from the first
    /// sample the detector was given.
    pub start_sample: u64,
    /// One past the last sample of the last block that held the tone.
    pub end_sample: u64,
}

impl InbandDigit {
    /// Start in milliseconds at `sample_rate`.
    pub fn start_ms(&self, sample_rate: u32) -> u64 {
        self.start_sample.saturating_mul(1000) / u64::from(sample_rate.max(1))
    }

    /// End in milliseconds at `sample_rate`.
    pub fn end_ms(&self, sample_rate: u32) -> u64 {
        self.end_sample.saturating_mul(1000) / u64::from(sample_rate.max(1))
    }
}

/// A key being tracked by the state machine.
#[derive(Debug, Clone, Copy)]
struct Run {
    digit: DtmfDigit,
    start: u64,
    end: u64,
    /// Consecutive hits (candidate) or consecutive misses (active).
    count: u32,
}

/// Streaming in-band DTMF detector for one mono PCM16 stream.
#[derive(Debug, Clone)]
pub struct InbandDetector {
    config: InbandDetectorConfig,
    block_len: usize,
    hits_needed: u32,
    misses_needed: u32,
    min_amplitude: f32,
    coefficients: [f32; 8],
    /// Goertzel states (s1, s2) of the current block.
    state: [(f32, f32); 8],
    energy: f32,
    filled: usize,
    /// Samples consumed before the current block.
    position: u64,
    candidate: Option<Run>,
    active: Option<Run>,
}

impl InbandDetector {
    /// A detector with `config` (sample rate clamped to 8000..=48000).
    pub fn new(config: InbandDetectorConfig) -> InbandDetector {
        let rate = config.sample_rate.clamp(8000, 48000);
        let config = InbandDetectorConfig {
            sample_rate: rate,
            ..config
        };
        let block_len = (rate as f32 * BLOCK_SECONDS).round() as usize;
        // A block hits when the tone fills about `min_tone_share` of it (the share of
        // a partly covered block's energy in the tone is about the part covered), and
        // misses when the pause fills the rest. Require as many as every tone (pause)
        // of the minimum length gives, however it is aligned with the blocks.
        let ms_to_samples = |ms: u32| (u64::from(ms) * u64::from(rate) / 1000) as usize;
        let hit_overlap = (config.min_tone_share * block_len as f32).ceil() as usize;
        let miss_overlap = block_len.saturating_sub(hit_overlap).saturating_add(1);
        let hits_needed = guaranteed_blocks(ms_to_samples(config.min_tone_ms), block_len, hit_overlap);
        let misses_needed = guaranteed_blocks(ms_to_samples(config.min_gap_ms), block_len, miss_overlap);
        let mut coefficients = [0.0; 8];
        for (c, hz) in coefficients.iter_mut().zip(ROW_HZ.iter().chain(COLUMN_HZ.iter())) {
            *c = 2.0 * (2.0 * std::f32::consts::PI * hz / rate as f32).cos();
        }
        InbandDetector {
            config,
            block_len,
            hits_needed,
            misses_needed,
            min_amplitude: 32768.0 * 10f32.powf(config.min_level_dbfs / 20.0),
            coefficients,
            state: [(0.0, 0.0); 8],
            energy: 0.0,
            filled: 0,
            position: 0,
            candidate: None,
            active: None,
        }
    }

    /// A detector with the default thresholds for `sample_rate`.
    pub fn with_sample_rate(sample_rate: u32) -> InbandDetector {
        InbandDetector::new(InbandDetectorConfig::new(sample_rate))
    }

    /// The thresholds in force.
    pub fn config(&self) -> &InbandDetectorConfig {
        &self.config
    }

    /// The key held now, if recognised and not yet ended: (digit, start sample).
    pub fn in_progress(&self) -> Option<(DtmfDigit, u64)> {
        self.active.map(|a| (a.digit, a.start))
    }

    /// Feeds the next samples; appends each key press that ends within them to `out`.
    pub fn process(&mut self, samples: &[i16], out: &mut Vec<InbandDigit>) {
        for &sample in samples {
            let x = f32::from(sample);
            for (state, &coefficient) in self.state.iter_mut().zip(&self.coefficients) {
                let s0 = x + coefficient * state.0 - state.1;
                *state = (s0, state.0);
            }
            self.energy += x * x;
            self.filled += 1;
            if self.filled == self.block_len {
                let hit = self.classify_block();
                let start = self.position;
                self.position += self.block_len as u64;
                self.step(hit, start, self.position, out);
                self.state = [(0.0, 0.0); 8];
                self.energy = 0.0;
                self.filled = 0;
            }
        }
    }

    /// Ends the stream: reports a key still held.
    pub fn finish(&mut self, out: &mut Vec<InbandDigit>) {
        if let Some(active) = self.active.take() {
            out.push(InbandDigit {
                digit: active.digit,
                start_sample: active.start,
                end_sample: active.end,
            });
        }
        self.candidate = None;
    }

    /// The key a finished block holds, if any.
    fn classify_block(&self) -> Option<DtmfDigit> {
        let n = self.block_len as f32;
        let amplitude = |(s1, s2): (f32, f32), coefficient: f32| {
            let power = (s1 * s1 + s2 * s2 - coefficient * s1 * s2).max(0.0);
            2.0 * power.sqrt() / n
        };
        let mut amplitudes = [0.0f32; 8];
        for ((a, &state), &coefficient) in amplitudes.iter_mut().zip(&self.state).zip(&self.coefficients) {
            *a = amplitude(state, coefficient);
        }
        let (rows, columns) = amplitudes.split_at(4);
        let (row, row_amplitude) = strongest(rows)?;
        let (column, column_amplitude) = strongest(columns)?;
        let config = &self.config;
        if row_amplitude < self.min_amplitude || column_amplitude < self.min_amplitude {
            return None;
        }
        let twist_db = 20.0 * (row_amplitude / column_amplitude).log10();
        if twist_db > config.max_normal_twist_db || -twist_db > config.max_reverse_twist_db {
            return None;
        }
        let peak = 10f32.powf(config.min_relative_peak_db / 20.0);
        let clear = |group: &[f32], best: usize, amplitude: f32| {
            group
                .iter()
                .enumerate()
                .all(|(i, &other)| i == best || other * peak <= amplitude)
        };
        if !clear(rows, row, row_amplitude) || !clear(columns, column, column_amplitude) {
            return None;
        }
        // A sine of amplitude A has mean square A²/2.
        let tone_energy = (row_amplitude * row_amplitude + column_amplitude * column_amplitude) / 2.0 * n;
        if tone_energy < config.min_tone_share * self.energy {
            return None;
        }
        KEYS.get(row)?.get(column).copied()
    }

    /// Advances the state machine by one block `[start, end)`.
    fn step(&mut self, hit: Option<DtmfDigit>, start: u64, end: u64, out: &mut Vec<InbandDigit>) {
        // Candidate run of consecutive hits of one key.
        self.candidate = match (self.candidate, hit) {
            (Some(c), Some(d)) if c.digit == d => Some(Run {
                end,
                count: c.count + 1,
                ..c
            }),
            (_, Some(digit)) => Some(Run {
                digit,
                start,
                end,
                count: 1,
            }),
            (_, None) => None,
        };
        if let Some(mut active) = self.active {
            if hit == Some(active.digit) {
                active.end = end;
                active.count = 0;
                self.candidate = None;
                self.active = Some(active);
                return;
            }
            active.count += 1;
            if active.count < self.misses_needed {
                self.active = Some(active);
                return;
            }
            out.push(InbandDigit {
                digit: active.digit,
                start_sample: active.start,
                end_sample: active.end,
            });
            self.active = None;
        }
        if let Some(candidate) = self.candidate.filter(|c| c.count >= self.hits_needed) {
            self.active = Some(Run { count: 0, ..candidate });
            self.candidate = None;
        }
    }
}

/// How many blocks of `block` samples overlap the span `[offset, offset + len)` by at
/// least `min_overlap` samples.
fn blocks_covered(offset: usize, len: usize, block: usize, min_overlap: usize) -> u32 {
    let end = offset + len;
    (0..end.div_ceil(block))
        .filter(|i| {
            let start = i * block;
            (start + block).min(end).saturating_sub(start.max(offset)) >= min_overlap
        })
        .count() as u32
}

/// The fewest blocks that a span of `len` samples covers by at least `min_overlap`,
/// over every alignment of the span; at least 1.
fn guaranteed_blocks(len: usize, block: usize, min_overlap: usize) -> u32 {
    let block = block.max(1);
    (0..block)
        .map(|offset| blocks_covered(offset, len, block, min_overlap))
        .min()
        .unwrap_or(0)
        .max(1)
}

/// The index and value of the largest amplitude.
fn strongest(group: &[f32]) -> Option<(usize, f32)> {
    group.iter().copied().enumerate().max_by(|a, b| a.1.total_cmp(&b.1))
}

/// Every key press in a whole mono PCM16 signal, with the default thresholds.
pub fn detect_dtmf(samples: &[i16], sample_rate: u32) -> Vec<InbandDigit> {
    let mut detector = InbandDetector::with_sample_rate(sample_rate);
    let mut out = Vec::new();
    detector.process(samples, &mut out);
    detector.finish(&mut out);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocks_needed_follow_itu_limits_at_8khz() {
        let detector = InbandDetector::with_sample_rate(8000);
        assert_eq!(
            (detector.block_len, detector.hits_needed, detector.misses_needed),
            (102, 3, 2)
        );
        let hit_overlap = 57; // ceil(0.55 * 102)
        // A 23 ms tone (184 samples) never covers 3 blocks enough, whatever its
        // alignment; a 40 ms one (320) always does.
        let most_for_23ms = (0..102)
            .map(|offset| blocks_covered(offset, 184, 102, hit_overlap))
            .max();
        assert_eq!(most_for_23ms, Some(2));
        let least_for_40ms = (0..102)
            .map(|offset| blocks_covered(offset, 320, 102, hit_overlap))
            .min();
        assert_eq!(least_for_40ms, Some(3));
        assert_eq!(guaranteed_blocks(0, 102, 1), 1);
    }
}
