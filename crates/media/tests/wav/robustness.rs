//! No-panic loops: random bytes, mutated valid files and every prefix of a file.

use crate::support::*;
use media::wav::{SampleEncoding, decode_to_pcm16, parse_wav, write_wav};

/// Parses `bytes` and, on success, exercises every accessor.
fn exercise(bytes: &[u8]) {
    match parse_wav(bytes) {
        Ok(audio) => {
            assert!(!audio.data.is_empty());
            assert_eq!(audio.data.len() % audio.block_align(), 0);
            let _ = audio.duration_ms();
            for channel in audio.split_channels() {
                let _ = decode_to_pcm16(audio.encoding, &channel);
            }
        }
        Err(e) => assert!(e.code().starts_with("wav-")),
    }
}

#[test]
fn parse_never_panics_on_random_bytes() {
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    for _ in 0..20_000 {
        let len = rng.below(128);
        let mut bytes: Vec<u8> = (0..len).map(|_| rng.next() as u8).collect();
        // Half the time, start with a valid header so the chunk walker is reached.
        if rng.below(2) == 0 && len >= 12 {
            bytes[..4].copy_from_slice(b"RIFF");
            bytes[8..12].copy_from_slice(b"WAVE");
        }
        exercise(&bytes);
    }
}

#[test]
fn parse_never_panics_on_mutated_valid_files() {
    let seeds: Vec<Vec<u8>> = ENCODINGS
        .iter()
        .flat_map(|&e| [1u16, 2].map(|c| write_wav(&sample_audio(e, c, 7))))
        .chain([riff(&[
            (b"LIST", b"abc".to_vec()),
            (b"fmt ", fmt_extensible(7, 2, 8000, 8)),
            (b"data", vec![0xFF; 6]),
        ])])
        .collect();
    let mut rng = Rng(42);
    for _ in 0..50_000 {
        let mut bytes = seeds[rng.below(seeds.len())].clone();
        for _ in 0..1 + rng.below(4) {
            let at = rng.below(bytes.len());
            match rng.below(5) {
                0 => bytes[at] = rng.next() as u8,
                1 => bytes[at] ^= 1 << rng.below(8),
                2 => bytes.truncate(at),
                3 => {
                    // Overwrite a u32 with a boundary-ish value.
                    let v = [0, 1, 0xFFFF_FFFF, 0xFFFF_FFF0, 0x8000_0000, rng.next() as u32][rng.below(6)];
                    let end = (at + 4).min(bytes.len());
                    bytes[at..end].copy_from_slice(&v.to_le_bytes()[..end - at]);
                }
                _ => bytes.insert(at, rng.next() as u8),
            }
            if bytes.is_empty() {
                break;
            }
        }
        exercise(&bytes);
    }
}

#[test]
fn every_prefix_of_a_valid_file_is_handled() {
    let bytes = write_wav(&sample_audio(SampleEncoding::ALaw, 2, 9));
    for len in 0..bytes.len() {
        exercise(&bytes[..len]);
        assert!(parse_wav(&bytes[..len]).is_err(), "prefix {len} accepted");
    }
}
