//! Round trips through the writer and reader, chunk skipping and streaming sizes.

use crate::support::*;
use media::wav::{SampleEncoding, decode_to_pcm16, encode_from_pcm16, parse_wav, write_wav, write_wav_pcm16};

#[test]
fn round_trip_every_encoding_mono_and_stereo() {
    for encoding in ENCODINGS {
        for channels in [1u16, 2] {
            // 801 frames: odd, so 8-bit mono exercises the data pad byte.
            let audio = sample_audio(encoding, channels, 801);
            let bytes = write_wav(&audio);
            let parsed = parse_wav(&bytes).unwrap_or_else(|e| {
                panic!("{encoding:?} x{channels}: {e} ({})", e.code());
            });
            assert_eq!(parsed, audio, "{encoding:?} x{channels}");
            assert_eq!(parsed.duration_ms(), 100);
            let split = parsed.split_channels();
            assert_eq!(split.len(), usize::from(channels));
            for (c, bytes) in split.iter().enumerate() {
                let expected = encode_from_pcm16(encoding, &tone(801, c));
                assert_eq!(bytes, &expected, "{encoding:?} channel {c}");
            }
        }
    }
}

#[test]
fn g711_channels_decode_close_to_source() {
    for encoding in [SampleEncoding::MuLaw, SampleEncoding::ALaw] {
        let audio = sample_audio(encoding, 2, 400);
        let parsed = parse_wav(&write_wav(&audio)).unwrap();
        for (c, bytes) in parsed.split_channels().iter().enumerate() {
            let decoded = decode_to_pcm16(encoding, bytes);
            for (a, b) in decoded.iter().zip(tone(400, c)) {
                // Largest G.711 half step is 1024 (µ-law also clips at 32635).
                assert!((i32::from(*a) - i32::from(b)).abs() <= 1024, "{a} vs {b}");
            }
        }
    }
}

#[test]
fn write_wav_pcm16_round_trips_and_pads_short_channels() {
    let left = tone(100, 0);
    let right = tone(60, 1);
    let bytes = write_wav_pcm16(16000, &[left.clone(), right.clone()]);
    assert_eq!(bytes.len(), 44 + 100 * 2 * 2);
    let parsed = parse_wav(&bytes).unwrap();
    assert_eq!(parsed.encoding, SampleEncoding::Pcm16);
    assert_eq!((parsed.sample_rate, parsed.channels), (16000, 2));
    let mut padded = right;
    padded.resize(100, 0);
    assert_eq!(parsed.to_pcm16_channels(), vec![left, padded]);
}

#[test]
fn extensible_format_is_accepted_for_every_codec() {
    for (sub_tag, bits, encoding) in [
        (1u16, 16u16, SampleEncoding::Pcm16),
        (7, 8, SampleEncoding::MuLaw),
        (6, 8, SampleEncoding::ALaw),
    ] {
        let audio = sample_audio(encoding, 2, 50);
        let bytes = riff(&[
            (b"fmt ", fmt_extensible(sub_tag, 2, 44100, bits)),
            (b"data", audio.data.clone()),
        ]);
        let parsed = parse_wav(&bytes).unwrap();
        assert_eq!(parsed.encoding, encoding);
        assert_eq!(parsed.sample_rate, 44100);
        assert_eq!(parsed.data, audio.data);
    }
}

#[test]
fn unknown_chunks_are_skipped_with_pad_bytes() {
    let data = encode_from_pcm16(SampleEncoding::Pcm16, &tone(10, 0));
    let cases: Vec<(&str, Vec<u8>)> = vec![
        (
            "odd LIST before fmt",
            riff(&[
                (b"LIST", b"abc".to_vec()),
                (b"fmt ", pcm16_mono_fmt()),
                (b"data", data.clone()),
            ]),
        ),
        (
            "odd chunk between fmt and data, then fact",
            riff(&[
                (b"fmt ", pcm16_mono_fmt()),
                (b"junk", vec![1; 7]),
                (b"fact", 10u32.to_le_bytes().to_vec()),
                (b"data", data.clone()),
            ]),
        ),
        (
            "data before fmt",
            riff(&[(b"data", data.clone()), (b"fmt ", pcm16_mono_fmt())]),
        ),
        (
            "trailing chunks and junk after data",
            [
                riff(&[
                    (b"fmt ", pcm16_mono_fmt()),
                    (b"data", data.clone()),
                    (b"LIST", vec![0; 5]),
                ]),
                vec![0xEE; 3],
            ]
            .concat(),
        ),
    ];
    for (name, bytes) in cases {
        let parsed = parse_wav(&bytes).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(parsed.data, data, "{name}");
    }
}

#[test]
fn odd_data_without_final_pad_byte_is_tolerated() {
    let mut bytes = riff(&[(b"fmt ", fmt(7, 1, 8000, 1, 8)), (b"data", vec![0xFF; 5])]);
    bytes.pop(); // writers often omit the final pad byte
    assert_eq!(parse_wav(&bytes).unwrap().data, vec![0xFF; 5]);
}

#[test]
fn streaming_sizes_read_to_end_of_file() {
    let full = canonical();
    let cases: Vec<(&str, Vec<u8>, usize)> = vec![
        ("data size 0xFFFFFFFF", patch_u32(full.clone(), 40, u32::MAX), 20),
        (
            "RIFF and data sizes 0",
            patch_u32(patch_u32(full.clone(), 4, 0), 40, 0),
            20,
        ),
        (
            "RIFF 0xFFFFFFFF, data 0",
            patch_u32(patch_u32(full.clone(), 4, u32::MAX), 40, 0),
            20,
        ),
        (
            "cut mid-frame: partial frame dropped",
            [patch_u32(full.clone(), 40, u32::MAX), vec![0x11]].concat(),
            20,
        ),
    ];
    for (name, bytes, len) in cases {
        let parsed = parse_wav(&bytes).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(parsed.data.len(), len, "{name}");
        assert_eq!(parsed.data, full[44..], "{name}");
    }
}
