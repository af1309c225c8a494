//! A table of malformed inputs, each mapped to its stable error code, and messages.

use crate::support::*;
use media::wav::{SampleEncoding, encode_from_pcm16, parse_wav};

#[test]
fn malformed_inputs_give_the_right_error_code() {
    let data = encode_from_pcm16(SampleEncoding::Pcm16, &tone(10, 0));
    let with_fmt = |f: Vec<u8>| riff(&[(b"fmt ", f), (b"data", data.clone())]);
    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        ("empty", vec![], "wav-empty"),
        ("RIFF only", b"RIFF".to_vec(), "wav-truncated"),
        ("RIFF and size only", b"RIFF\x24\0\0\0".to_vec(), "wav-truncated"),
        ("short prefix", b"RI".to_vec(), "wav-truncated"),
        ("wrong magic", b"OggS\0\0\0\0WAVE".to_vec(), "wav-not-riff"),
        ("big-endian RIFX", b"RIFX\0\0\0\x24WAVE".to_vec(), "wav-not-riff"),
        ("RIFF AVI", b"RIFF\x04\0\0\0AVI ".to_vec(), "wav-not-riff"),
        ("text file", b"hello".to_vec(), "wav-not-riff"),
        (
            "fmt chunk too short",
            with_fmt(pcm16_mono_fmt()[..14].to_vec()),
            "wav-bad-format",
        ),
        ("24-bit PCM", with_fmt(fmt(1, 1, 8000, 3, 24)), "wav-unsupported-codec"),
        ("8-bit PCM", with_fmt(fmt(1, 1, 8000, 1, 8)), "wav-unsupported-codec"),
        ("IEEE float", with_fmt(fmt(3, 1, 8000, 4, 32)), "wav-unsupported-codec"),
        (
            "MP3 tag 0x55",
            with_fmt(fmt(0x55, 1, 8000, 1, 0)),
            "wav-unsupported-codec",
        ),
        (
            "extensible float subformat",
            with_fmt(fmt_extensible(3, 1, 8000, 32)),
            "wav-unsupported-codec",
        ),
        (
            "extensible too short",
            with_fmt(fmt_extensible(1, 1, 8000, 16)[..30].to_vec()),
            "wav-bad-format",
        ),
        ("µ-law with 16 bits", with_fmt(fmt(7, 1, 8000, 2, 16)), "wav-bad-format"),
        ("0 channels", with_fmt(fmt(1, 0, 8000, 0, 16)), "wav-bad-format"),
        ("9 channels", with_fmt(fmt(1, 9, 8000, 18, 16)), "wav-too-many-channels"),
        ("sample rate 0", with_fmt(fmt(1, 1, 0, 2, 16)), "wav-bad-sample-rate"),
        (
            "sample rate 96000",
            with_fmt(fmt(1, 1, 96000, 2, 16)),
            "wav-bad-sample-rate",
        ),
        ("wrong block align", with_fmt(fmt(1, 2, 8000, 2, 16)), "wav-bad-format"),
        ("data size past EOF", patch_u32(canonical(), 40, 100), "wav-truncated"),
        ("data cut short", canonical()[..60].to_vec(), "wav-truncated"),
        (
            "misaligned data",
            riff(&[(b"fmt ", pcm16_mono_fmt()), (b"data", vec![0; 7])]),
            "wav-misaligned-data",
        ),
        (
            "no data chunk",
            riff(&[(b"fmt ", pcm16_mono_fmt()), (b"LIST", vec![0; 4])]),
            "wav-no-data",
        ),
        (
            "empty data chunk",
            riff(&[(b"fmt ", pcm16_mono_fmt()), (b"data", vec![])]),
            "wav-no-data",
        ),
        ("no fmt chunk", riff(&[(b"data", data.clone())]), "wav-bad-format"),
        (
            "two fmt chunks",
            riff(&[(b"fmt ", pcm16_mono_fmt()), (b"fmt ", pcm16_mono_fmt())]),
            "wav-bad-format",
        ),
        (
            "huge chunk size 0xFFFFFFF0",
            patch_u32(
                riff(&[
                    (b"LIST", vec![0; 4]),
                    (b"fmt ", pcm16_mono_fmt()),
                    (b"data", data.clone()),
                ]),
                16,
                0xFFFF_FFF0,
            ),
            "wav-truncated",
        ),
        (
            "huge data size 0xFFFFFFF0",
            patch_u32(canonical(), 40, 0xFFFF_FFF0),
            "wav-truncated",
        ),
        (
            "data size 0 with a real RIFF size",
            patch_u32(canonical(), 40, 0),
            "wav-no-data",
        ),
    ];
    for (name, bytes, code) in cases {
        match parse_wav(&bytes) {
            Ok(audio) => panic!("{name}: parsed as {:?}", audio.encoding),
            Err(e) => {
                assert_eq!(e.code(), code, "{name}: {e}");
                assert!(!e.to_string().is_empty());
            }
        }
    }
}

#[test]
fn error_messages_name_the_problem() {
    let data = vec![0u8; 4];
    let mp3 = riff(&[(b"fmt ", fmt(0x55, 1, 8000, 1, 0)), (b"data", data.clone())]);
    assert_eq!(
        parse_wav(&mp3).unwrap_err().to_string(),
        "unsupported WAV codec: format tag 85 (MPEG Layer 3); supported: PCM 16-bit, µ-law, A-law"
    );
    let pcm24 = riff(&[(b"fmt ", fmt(1, 1, 8000, 3, 24)), (b"data", data)]);
    assert!(parse_wav(&pcm24).unwrap_err().to_string().contains("PCM 24-bit"));
    let past_eof = parse_wav(&patch_u32(canonical(), 40, 100)).unwrap_err();
    assert!(
        past_eof.to_string().contains("\"data\" declares 100 bytes"),
        "{past_eof}"
    );
}
