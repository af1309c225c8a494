//! ITU-T G.711 µ-law and A-law companding: 16-bit linear PCM to and from 8-bit codes.
//!
//! Encoding uses the standard segment (exponent/mantissa) algorithm of the ITU-T
//! reference (as in the classic Sun `g711.c`); decoding uses 256-entry lookup tables
//! computed at compile time from the inverse of that algorithm.

/// µ-law bias added before segment search (0x84 = 132).
const ULAW_BIAS: i32 = 0x84;
/// Largest magnitude µ-law can represent before clipping (32635 + 132 = 32767).
const ULAW_CLIP: i32 = 32635;

/// µ-law code to linear PCM, indexed by the code byte.
static ULAW_TO_LINEAR: [i16; 256] = build_ulaw_table();
/// A-law code to linear PCM, indexed by the code byte.
static ALAW_TO_LINEAR: [i16; 256] = build_alaw_table();

const fn ulaw_decode_const(code: u8) -> i16 {
    let u = !code;
    let exponent = ((u & 0x70) >> 4) as i32;
    let mantissa = (u & 0x0F) as i32;
    let magnitude = (((mantissa << 3) + ULAW_BIAS) << exponent) - ULAW_BIAS;
    if u & 0x80 != 0 {
        -magnitude as i16
    } else {
        magnitude as i16
    }
}

const fn alaw_decode_const(code: u8) -> i16 {
    let a = code ^ 0x55;
    let segment = ((a & 0x70) >> 4) as i32;
    let mut magnitude = ((a & 0x0F) as i32) << 4;
    magnitude = match segment {
        0 => magnitude + 8,
        1 => magnitude + 0x108,
        _ => (magnitude + 0x108) << (segment - 1),
    };
    if a & 0x80 != 0 {
        magnitude as i16
    } else {
        -magnitude as i16
    }
}

const fn build_ulaw_table() -> [i16; 256] {
    let mut table = [0i16; 256];
    let mut i = 0;
    while i < 256 {
        table[i] = ulaw_decode_const(i as u8);
        i += 1;
    }
    table
}

const fn build_alaw_table() -> [i16; 256] {
    let mut table = [0i16; 256];
    let mut i = 0;
    while i < 256 {
        table[i] = alaw_decode_const(i as u8);
        i += 1;
    }
    table
}

/// Index (0-based) of the highest set bit of a non-zero value; 0 for 0.
fn highest_bit(value: i32) -> i32 {
    if value <= 0 {
        0
    } else {
        31 - value.leading_zeros() as i32
    }
}

/// Encodes one 16-bit linear PCM sample as a G.711 µ-law byte.
///
/// Magnitudes above 32635 are clipped, as in the ITU-T reference.
pub fn ulaw_encode(sample: i16) -> u8 {
    let value = i32::from(sample);
    let (sign, magnitude) = if value < 0 { (0x80, -value) } else { (0x00, value) };
    let biased = magnitude.min(ULAW_CLIP) + ULAW_BIAS;
    // `biased` is in 132..=32767, so `biased >> 7` is in 1..=255: exponent 0..=7.
    let exponent = highest_bit(biased >> 7);
    let mantissa = (biased >> (exponent + 3)) & 0x0F;
    !((sign | (exponent << 4) | mantissa) as u8)
}

/// Decodes one G.711 µ-law byte to a 16-bit linear PCM sample.
pub fn ulaw_decode(code: u8) -> i16 {
    ULAW_TO_LINEAR[usize::from(code)]
}

/// Encodes one 16-bit linear PCM sample as a G.711 A-law byte.
pub fn alaw_encode(sample: i16) -> u8 {
    // A-law works on 13-bit magnitudes.
    let value = i32::from(sample) >> 3;
    let (mask, magnitude) = if value >= 0 {
        (0xD5u8, value)
    } else {
        (0x55u8, -value - 1)
    };
    // `magnitude` is in 0..=4095. Segment 0 covers 0..=31, segment s >= 1 covers
    // 2^(s+4)..2^(s+5).
    let segment = (highest_bit(magnitude) - 4).max(0);
    let mantissa = if segment < 2 {
        (magnitude >> 1) & 0x0F
    } else {
        (magnitude >> segment) & 0x0F
    };
    ((segment << 4) | mantissa) as u8 ^ mask
}

/// Decodes one G.711 A-law byte to a 16-bit linear PCM sample.
pub fn alaw_decode(code: u8) -> i16 {
    ALAW_TO_LINEAR[usize::from(code)]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn every_sample() -> impl Iterator<Item = i16> {
        i16::MIN..=i16::MAX
    }

    #[test]
    fn ulaw_reference_values() {
        let cases: &[(u8, i16)] = &[
            (0xFF, 0),
            (0x7F, 0),
            (0x00, -32124),
            (0x80, 32124),
            (0xFE, 8),
            (0x7E, -8),
            (0xF0, 120),
            (0xEF, 132),
        ];
        for &(code, linear) in cases {
            assert_eq!(ulaw_decode(code), linear, "µ-law decode {code:#04x}");
        }
        assert_eq!(ulaw_encode(0), 0xFF);
        assert_eq!(ulaw_encode(i16::MAX), 0x80);
        assert_eq!(ulaw_encode(i16::MIN), 0x00);
        assert_eq!(ulaw_encode(-32124), 0x00);
    }

    #[test]
    fn alaw_reference_values() {
        let cases: &[(u8, i16)] = &[
            (0xD5, 8),
            (0x55, -8),
            (0xAA, 32256),
            (0x2A, -32256),
            (0xD4, 24),
            (0xC5, 264),
        ];
        for &(code, linear) in cases {
            assert_eq!(alaw_decode(code), linear, "A-law decode {code:#04x}");
        }
        assert_eq!(alaw_encode(0), 0xD5);
        assert_eq!(alaw_encode(-1), 0x55);
        assert_eq!(alaw_encode(i16::MAX), 0xAA);
        assert_eq!(alaw_encode(i16::MIN), 0x2A);
    }

    #[test]
    fn ulaw_round_trip_within_half_step() {
        for x in every_sample() {
            let code = ulaw_encode(x);
            let y = ulaw_decode(code);
            let exponent = i32::from((!code & 0x70) >> 4);
            let half_step = 4 << exponent;
            let clipped = i32::from(x).clamp(-ULAW_CLIP, ULAW_CLIP);
            let err = (clipped - i32::from(y)).abs();
            assert!(err <= half_step, "x={x} code={code:#04x} y={y} err={err}");
        }
    }

    #[test]
    fn alaw_round_trip_within_half_step() {
        for x in every_sample() {
            let code = alaw_encode(x);
            let y = alaw_decode(code);
            let segment = i32::from(((code ^ 0x55) & 0x70) >> 4);
            let half_step = if segment < 2 { 8 } else { 4 << segment };
            let err = (i32::from(x) - i32::from(y)).abs();
            assert!(err <= half_step, "x={x} code={code:#04x} y={y} err={err}");
        }
    }

    #[test]
    fn every_code_re_encodes_to_itself() {
        for code in 0..=u8::MAX {
            assert_eq!(alaw_encode(alaw_decode(code)), code, "A-law {code:#04x}");
            // µ-law has two zero codes (0xFF = +0, 0x7F = -0); +0 is canonical.
            let expected = if code == 0x7F { 0xFF } else { code };
            assert_eq!(ulaw_encode(ulaw_decode(code)), expected, "µ-law {code:#04x}");
        }
    }

    #[test]
    fn decoding_is_monotonic_in_magnitude() {
        let mut ulaw: Vec<i16> = (0..=u8::MAX).map(ulaw_decode).collect();
        let mut alaw: Vec<i16> = (0..=u8::MAX).map(alaw_decode).collect();
        ulaw.sort_unstable();
        ulaw.dedup();
        alaw.sort_unstable();
        alaw.dedup();
        assert_eq!(ulaw.len(), 255, "µ-law has 255 distinct levels");
        assert_eq!(alaw.len(), 256, "A-law has 256 distinct levels");
    }
}
