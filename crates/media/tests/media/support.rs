//! Signal generators and packet builders shared by the media tests.

use std::f64::consts::PI;

/// xorshift64*: a tiny deterministic generator.
pub struct Rng(pub u64);

impl Rng {
    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    pub fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    /// Uniform in [-1, 1).
    pub fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 52) as f64 - 1.0
    }

    /// Roughly Gaussian, unit variance (sum of 12 uniforms).
    pub fn gaussian(&mut self) -> f64 {
        (0..12).map(|_| (self.unit() + 1.0) / 2.0).sum::<f64>() - 6.0
    }
}

/// Amplitude of a sine at `dbfs` below full scale.
pub fn amplitude(dbfs: f64) -> f64 {
    32767.0 * 10f64.powf(dbfs / 20.0)
}

/// Appends `ms` of a two-tone signal (frequencies in Hz, levels in dBFS) at `rate`.
pub fn push_tones(out: &mut Vec<f64>, rate: u32, ms: u32, tones: &[(f64, f64)]) {
    let n = (rate as u64 * ms as u64 / 1000) as usize;
    let start = out.len();
    for i in 0..n {
        let t = (start + i) as f64 / rate as f64;
        out.push(
            tones
                .iter()
                .map(|&(hz, db)| amplitude(db) * (2.0 * PI * hz * t).sin())
                .sum(),
        );
    }
}

/// Appends `ms` of silence.
pub fn push_silence(out: &mut Vec<f64>, rate: u32, ms: u32) {
    out.extend(std::iter::repeat_n(0.0, (rate as u64 * ms as u64 / 1000) as usize));
}

/// Adds white noise at `dbfs` RMS.
pub fn add_noise(signal: &mut [f64], dbfs: f64, rng: &mut Rng) {
    let rms = amplitude(dbfs) / 2f64.sqrt();
    for s in signal.iter_mut() {
        *s += rms * rng.gaussian();
    }
}

/// Rounds and clips to PCM16.
pub fn to_pcm16(signal: &[f64]) -> Vec<i16> {
    signal
        .iter()
        .map(|&s| s.round().clamp(-32768.0, 32767.0) as i16)
        .collect()
}

/// Speech-like audio: voiced segments (a gliding pitch with formant-shaped harmonics)
/// alternating with unvoiced noise bursts and pauses, with a syllable envelope.
pub fn speech_like(rate: u32, ms: u32, rng: &mut Rng) -> Vec<f64> {
    let n = (rate as u64 * ms as u64 / 1000) as usize;
    let mut out = Vec::with_capacity(n);
    let mut phase = 0.0f64;
    let mut i = 0;
    while i < n {
        let segment = (rate as usize / 1000) * (60 + rng.below(200));
        let kind = rng.below(4);
        let f0_start = 90.0 + rng.below(160) as f64;
        let f0_end = 90.0 + rng.below(160) as f64;
        // Vowel formants roughly spanning /a/, /e/, /i/, /o/, /u/.
        let formants = [
            [730.0, 1090.0, 2440.0],
            [530.0, 1840.0, 2480.0],
            [270.0, 2290.0, 3010.0],
            [570.0, 840.0, 2410.0],
            [300.0, 870.0, 2240.0],
        ][rng.below(5)];
        let level = amplitude(-6.0 - rng.below(20) as f64);
        for k in 0..segment.min(n - i) {
            let progress = k as f64 / segment as f64;
            let envelope = (PI * progress).sin();
            let sample = match kind {
                0 | 1 => {
                    let f0 = f0_start + (f0_end - f0_start) * progress;
                    phase += 2.0 * PI * f0 / rate as f64;
                    let mut v = 0.0;
                    for h in 1..40 {
                        let hz = f0 * h as f64;
                        if hz > rate as f64 / 2.0 - 200.0 {
                            break;
                        }
                        let gain: f64 = formants.iter().map(|&f| 1.0 / (1.0 + ((hz - f) / 90.0).powi(2))).sum();
                        v += gain * (phase * h as f64).sin() / (h as f64).sqrt();
                    }
                    v * level / 3.0
                }
                2 => rng.gaussian() * level / 4.0,
                _ => rng.gaussian() * amplitude(-60.0),
            };
            out.push(sample * envelope);
        }
        i += segment;
    }
    out.truncate(n);
    out
}
