//! The adaptive predictor of one G.722 sub-band (ITU-T G.722 blocks 3 and 4), shared
//! by encoder and decoder, and the quantiser tables both sides use.
//!
//! All values stay within 16 bits by saturation, so the fixed-point arithmetic
//! cannot overflow `i32` whatever the input.

/// Log-scale factor adaptation for the 4-bit low-band index (`WL` in the reference).
pub(super) const LOW_LOG_WEIGHTS: [i32; 8] = [-60, -30, 58, 172, 334, 538, 1198, 3042];
/// Maps a 4-bit low-band index to its `LOW_LOG_WEIGHTS` entry (`RL42`).
pub(super) const LOW_INDEX_TO_WEIGHT: [usize; 16] = [0, 7, 6, 5, 4, 3, 2, 1, 7, 6, 5, 4, 3, 2, 1, 0];
/// Inverse log-base-2 table for the scale factors (`ILB`).
pub(super) const INVERSE_LOG2: [i32; 32] = [
    2048, 2093, 2139, 2186, 2233, 2282, 2332, 2383, 2435, 2489, 2543, 2599, 2656, 2714, 2774, 2834, 2896, 2960, 3025,
    3091, 3158, 3228, 3298, 3371, 3444, 3520, 3597, 3676, 3756, 3838, 3922, 4008,
];
/// Log-scale factor adaptation for the 2-bit high-band index (`WH`).
pub(super) const HIGH_LOG_WEIGHTS: [i32; 3] = [0, -214, 798];
/// Maps a 2-bit high-band index to its `HIGH_LOG_WEIGHTS` entry (`RH2`).
pub(super) const HIGH_INDEX_TO_WEIGHT: [usize; 4] = [2, 1, 2, 1];
/// Inverse quantiser of the high band (`QM2`).
pub(super) const HIGH_INVERSE_QUANT: [i32; 4] = [-7408, -1616, 7408, 1616];
/// Inverse quantiser of the 4-bit low band, used for prediction (`QM4`).
pub(super) const LOW_INVERSE_QUANT4: [i32; 16] = [
    0, -20456, -12896, -8968, -6288, -4240, -2584, -1200, 20456, 12896, 8968, 6288, 4240, 2584, 1200, 0,
];
/// Quadrature mirror filter coefficients (`QMF_COEFFS`).
pub(super) const QMF_COEFFICIENTS: [i32; 12] = [3, -11, 12, 32, -210, 951, 3876, -805, 362, -156, 53, -11];

/// Clamps to the 16-bit range.
pub(super) fn saturate(value: i32) -> i32 {
    value.clamp(i32::from(i16::MIN), i32::from(i16::MAX))
}

/// The state of one sub-band's ADPCM predictor.
#[derive(Debug, Clone, Default)]
pub(super) struct Band {
    /// Predicted signal.
    pub s: i32,
    /// Pole-section prediction.
    sp: i32,
    /// Zero-section prediction.
    sz: i32,
    /// Reconstructed signal history.
    r: [i32; 3],
    /// Pole coefficients.
    a: [i32; 3],
    ap: [i32; 3],
    /// Partially reconstructed signal history.
    p: [i32; 3],
    /// Quantised difference history.
    d: [i32; 7],
    /// Zero coefficients.
    b: [i32; 7],
    bp: [i32; 7],
    sg: [i32; 7],
    /// Log scale factor.
    pub nb: i32,
    /// Scale factor.
    pub det: i32,
}

impl Band {
    /// A band in its reset state with initial scale factor `det` (32 for the low
    /// band, 8 for the high band, as the reference initialises them).
    pub fn with_scale(det: i32) -> Band {
        Band { det, ..Band::default() }
    }

    /// Blocks 3L/3H: updates the log scale factor with `weight`, limited to
    /// `max_nb`, and derives the linear scale factor (`shift_base` is 8 for the low
    /// band, 10 for the high band).
    pub fn adapt_scale(&mut self, weight: i32, max_nb: i32, shift_base: i32) {
        self.nb = (((self.nb * 127) >> 7) + weight).clamp(0, max_nb);
        let mantissa = INVERSE_LOG2[((self.nb >> 6) & 31) as usize];
        let shift = shift_base - (self.nb >> 11);
        let scaled = if shift < 0 {
            mantissa << (-shift)
        } else {
            mantissa >> shift
        };
        self.det = scaled << 2;
    }

    /// Block 4: reconstruction, pole and zero predictor adaptation, and the new
    /// prediction, given the quantised difference `d`.
    pub fn update(&mut self, d: i32) {
        // RECONS and PARREC.
        self.d[0] = d;
        self.r[0] = saturate(self.s + d);
        self.p[0] = saturate(self.sz + d);

        // UPPOL2: second pole coefficient.
        for i in 0..3 {
            self.sg[i] = self.p[i] >> 15;
        }
        let wd1 = saturate(self.a[1] << 2);
        let wd2 = if self.sg[0] == self.sg[1] { -wd1 } else { wd1 }.min(32767);
        let mut wd3 = (wd2 >> 7) + if self.sg[0] == self.sg[2] { 128 } else { -128 };
        wd3 += (self.a[2] * 32512) >> 15;
        self.ap[2] = wd3.clamp(-12288, 12288);

        // UPPOL1: first pole coefficient, limited by the second.
        self.sg[0] = self.p[0] >> 15;
        self.sg[1] = self.p[1] >> 15;
        let wd1 = if self.sg[0] == self.sg[1] { 192 } else { -192 };
        let wd2 = (self.a[1] * 32640) >> 15;
        let limit = saturate(15360 - self.ap[2]);
        self.ap[1] = saturate(wd1 + wd2).clamp(-limit, limit);

        // UPZERO: zero coefficients.
        let step = if d == 0 { 0 } else { 128 };
        self.sg[0] = d >> 15;
        for i in 1..7 {
            self.sg[i] = self.d[i] >> 15;
            let sign_step = if self.sg[i] == self.sg[0] { step } else { -step };
            self.bp[i] = saturate(sign_step + ((self.b[i] * 32640) >> 15));
        }

        // DELAYA: shift the histories.
        for i in (1..7).rev() {
            self.d[i] = self.d[i - 1];
            self.b[i] = self.bp[i];
        }
        for i in (1..3).rev() {
            self.r[i] = self.r[i - 1];
            self.p[i] = self.p[i - 1];
            self.a[i] = self.ap[i];
        }

        // FILTEP, FILTEZ, PREDIC.
        let pole1 = (self.a[1] * saturate(self.r[1] + self.r[1])) >> 15;
        let pole2 = (self.a[2] * saturate(self.r[2] + self.r[2])) >> 15;
        self.sp = saturate(pole1 + pole2);
        let mut sz = 0;
        for i in 1..7 {
            sz += (self.b[i] * saturate(self.d[i] + self.d[i])) >> 15;
        }
        self.sz = saturate(sz);
        self.s = saturate(self.sp + self.sz);
    }
}
