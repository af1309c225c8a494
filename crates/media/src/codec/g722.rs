//! ITU-T G.722 at 64 kbit/s: sub-band ADPCM, 16 kHz PCM16 to one byte per two samples.
//!
//! A pure-Rust implementation of the algorithm as in the public-domain SpanDSP
//! reference (Steve Underwood, after the CMU codec): the transmit and receive
//! quadrature mirror filters, the 6-bit low band and the 2-bit high band. Only the
//! 64 kbit/s mode is implemented (the one RTP payload type 9 carries). The RTP
//! clock of G.722 is 8000 Hz (RFC 3551), one tick per byte, while the audio is
//! sampled at 16 kHz.

mod band;

use band::{
    Band, HIGH_INDEX_TO_WEIGHT, HIGH_INVERSE_QUANT, HIGH_LOG_WEIGHTS, LOW_INDEX_TO_WEIGHT, LOW_INVERSE_QUANT4,
    LOW_LOG_WEIGHTS, QMF_COEFFICIENTS, saturate,
};

/// Inverse quantiser of the 6-bit low band, used for reconstruction (`QM6`).
const LOW_INVERSE_QUANT6: [i32; 64] = [
    -136, -136, -136, -136, -24808, -21904, -19008, -16704, -14984, -13512, -12280, -11192, -10232, -9360, -8576,
    -7856, -7192, -6576, -6000, -5456, -4944, -4464, -4008, -3576, -3168, -2776, -2400, -2032, -1688, -1360, -1040,
    -728, 24808, 21904, 19008, 16704, 14984, 13512, 12280, 11192, 10232, 9360, 8576, 7856, 7192, 6576, 6000, 5456,
    4944, 4464, 4008, 3576, 3168, 2776, 2400, 2032, 1688, 1360, 1040, 728, 432, 136, -432, -136,
];
/// Low-band quantiser decision levels (`Q6`).
const LOW_DECISION_LEVELS: [i32; 32] = [
    0, 35, 72, 110, 150, 190, 233, 276, 323, 370, 422, 473, 530, 587, 650, 714, 786, 858, 940, 1023, 1121, 1219, 1339,
    1458, 1612, 1765, 1980, 2195, 2557, 2919, 0, 0,
];
/// Low-band code for a negative difference by decision interval (`ILN`).
const LOW_CODE_NEGATIVE: [i32; 32] = [
    0, 63, 62, 31, 30, 29, 28, 27, 26, 25, 24, 23, 22, 21, 20, 19, 18, 17, 16, 15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5,
    4, 0,
];
/// Low-band code for a non-negative difference by decision interval (`ILP`).
const LOW_CODE_POSITIVE: [i32; 32] = [
    0, 61, 60, 59, 58, 57, 56, 55, 54, 53, 52, 51, 50, 49, 48, 47, 46, 45, 44, 43, 42, 41, 40, 39, 38, 37, 36, 35, 34,
    33, 32, 0,
];

const LOW_MAX_NB: i32 = 18432;
const HIGH_MAX_NB: i32 = 22528;

/// The bands of one direction, in their reset state.
fn reset_bands() -> [Band; 2] {
    [Band::with_scale(32), Band::with_scale(8)]
}

/// Decodes G.722 (64 kbit/s) to 16 kHz PCM16. Keeps state across packets of a stream.
#[derive(Debug, Clone)]
pub struct G722Decoder {
    bands: [Band; 2],
    /// Receive QMF history.
    x: [i32; 24],
}

impl Default for G722Decoder {
    fn default() -> Self {
        G722Decoder::new()
    }
}

impl G722Decoder {
    /// A decoder in its reset state.
    pub fn new() -> G722Decoder {
        G722Decoder {
            bands: reset_bands(),
            x: [0; 24],
        }
    }

    /// Appends two 16 kHz samples per input byte to `out`. Every byte is valid input.
    pub fn decode(&mut self, bytes: &[u8], out: &mut Vec<i16>) {
        out.reserve(bytes.len() * 2);
        for &code in bytes {
            let code = i32::from(code);
            let [low, high] = &mut self.bands;

            // Low band: reconstruct with the 6-bit inverse quantiser (5L, 6L), adapt
            // with the 4-bit one (2L, 3L, 4).
            let low6 = (code & 0x3F) as usize;
            let low4 = low6 >> 2;
            let rlow = (low.s + ((low.det * LOW_INVERSE_QUANT6[low6]) >> 15)).clamp(-16384, 16383);
            let dlow = (low.det * LOW_INVERSE_QUANT4[low4]) >> 15;
            low.adapt_scale(LOW_LOG_WEIGHTS[LOW_INDEX_TO_WEIGHT[low4]], LOW_MAX_NB, 8);
            low.update(dlow);

            // High band (2H, 5H, 6H, 3H, 4).
            let ihigh = ((code >> 6) & 0x03) as usize;
            let dhigh = (high.det * HIGH_INVERSE_QUANT[ihigh]) >> 15;
            let rhigh = (dhigh + high.s).clamp(-16384, 16383);
            high.adapt_scale(HIGH_LOG_WEIGHTS[HIGH_INDEX_TO_WEIGHT[ihigh]], HIGH_MAX_NB, 10);
            high.update(dhigh);

            // Receive QMF: two output samples per band pair.
            self.x.copy_within(2.., 0);
            self.x[22] = rlow + rhigh;
            self.x[23] = rlow - rhigh;
            let (mut even, mut odd) = (0i32, 0i32);
            for i in 0..12 {
                even += self.x[2 * i] * QMF_COEFFICIENTS[i];
                odd += self.x[2 * i + 1] * QMF_COEFFICIENTS[11 - i];
            }
            out.push(saturate(odd >> 11) as i16);
            out.push(saturate(even >> 11) as i16);
        }
    }
}

/// Encodes 16 kHz PCM16 to G.722 (64 kbit/s). Keeps state across calls; an odd
/// trailing sample is held until the next call.
#[derive(Debug, Clone)]
pub struct G722Encoder {
    bands: [Band; 2],
    /// Transmit QMF history.
    x: [i32; 24],
    pending: Option<i16>,
}

impl Default for G722Encoder {
    fn default() -> Self {
        G722Encoder::new()
    }
}

impl G722Encoder {
    /// An encoder in its reset state.
    pub fn new() -> G722Encoder {
        G722Encoder {
            bands: reset_bands(),
            x: [0; 24],
            pending: None,
        }
    }

    /// Appends one byte per two input samples to `out`.
    pub fn encode(&mut self, samples: &[i16], out: &mut Vec<u8>) {
        out.reserve(samples.len() / 2 + 1);
        let mut rest = samples;
        if let Some(first) = self.pending.take() {
            match rest.split_first() {
                Some((&second, tail)) => {
                    out.push(self.encode_pair(first, second));
                    rest = tail;
                }
                None => {
                    self.pending = Some(first);
                    return;
                }
            }
        }
        let mut pairs = rest.chunks_exact(2);
        for pair in &mut pairs {
            if let [a, b] = *pair {
                out.push(self.encode_pair(a, b));
            }
        }
        self.pending = pairs.remainder().first().copied();
    }

    fn encode_pair(&mut self, first: i16, second: i16) -> u8 {
        // Transmit QMF: split into low and high band at 8 kHz.
        self.x.copy_within(2.., 0);
        self.x[22] = i32::from(first);
        self.x[23] = i32::from(second);
        let (mut sum_odd, mut sum_even) = (0i32, 0i32);
        for i in 0..12 {
            sum_odd += self.x[2 * i] * QMF_COEFFICIENTS[i];
            sum_even += self.x[2 * i + 1] * QMF_COEFFICIENTS[11 - i];
        }
        let xlow = (sum_even + sum_odd) >> 14;
        let xhigh = (sum_even - sum_odd) >> 14;
        let [low, high] = &mut self.bands;

        // Low band: SUBTRA, QUANTL, INVQAL, LOGSCL, SCALEL, block 4.
        let el = saturate(xlow - low.s);
        let magnitude = if el >= 0 { el } else { -(el + 1) };
        let mut interval = 1;
        while interval < 30 && magnitude >= (LOW_DECISION_LEVELS[interval] * low.det) >> 12 {
            interval += 1;
        }
        let ilow = if el < 0 {
            LOW_CODE_NEGATIVE[interval]
        } else {
            LOW_CODE_POSITIVE[interval]
        };
        let low4 = (ilow >> 2) as usize;
        let dlow = (low.det * LOW_INVERSE_QUANT4[low4]) >> 15;
        low.adapt_scale(LOW_LOG_WEIGHTS[LOW_INDEX_TO_WEIGHT[low4]], LOW_MAX_NB, 8);
        low.update(dlow);

        // High band: SUBTRA, QUANTH, INVQAH, LOGSCH, SCALEH, block 4.
        let eh = saturate(xhigh - high.s);
        let magnitude = if eh >= 0 { eh } else { -(eh + 1) };
        let large = magnitude >= (564 * high.det) >> 12;
        let ihigh: usize = match (eh < 0, large) {
            (true, false) => 1,
            (true, true) => 0,
            (false, false) => 3,
            (false, true) => 2,
        };
        let dhigh = (high.det * HIGH_INVERSE_QUANT[ihigh]) >> 15;
        high.adapt_scale(HIGH_LOG_WEIGHTS[HIGH_INDEX_TO_WEIGHT[ihigh]], HIGH_MAX_NB, 10);
        high.update(dhigh);

        ((ihigh as i32) << 6 | ilow) as u8
    }
}
