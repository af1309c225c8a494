//! Codecs: G.711 through the decoder, G.722 round trip and reference vectors, Opus
//! round trip and concealment, silence.

use std::time::Duration;

use crate::support::*;
use media::codec::{AudioCodec, G722Decoder, G722Encoder, OpusEncoder};

/// SNR in dB of `decoded` against `reference`, at the lag (0..max_lag) that fits best,
/// over the samples from `skip` on.
fn best_snr(reference: &[i16], decoded: &[i16], max_lag: usize, skip: usize) -> (f64, usize) {
    let mut best = (f64::MIN, 0);
    for lag in 0..max_lag {
        let (mut signal, mut noise) = (0.0f64, 0.0f64);
        for i in skip..reference.len().min(decoded.len().saturating_sub(lag)) {
            let r = f64::from(reference[i]);
            let e = r - f64::from(decoded[i + lag]);
            signal += r * r;
            noise += e * e;
        }
        let snr = 10.0 * (signal / noise.max(1e-9)).log10();
        if snr > best.0 {
            best = (snr, lag);
        }
    }
    best
}

fn tones_at(rate: u32, ms: u32, tones: &[(f64, f64)]) -> Vec<i16> {
    let mut signal = Vec::new();
    push_tones(&mut signal, rate, ms, tones);
    to_pcm16(&signal)
}

#[test]
fn g711_and_l16_through_the_decoder() {
    let cases: &[(AudioCodec, &[u8], &[i16])] = &[
        (AudioCodec::Pcmu, &[0xFF, 0x00, 0x80], &[0, -32124, 32124]),
        (AudioCodec::Pcma, &[0xD5, 0x55], &[8, -8]),
        (
            AudioCodec::L16 { clock_rate: 16000 },
            &[0x7F, 0xFF, 0x80, 0x00],
            &[32767, -32768],
        ),
    ];
    for &(codec, payload, pcm) in cases {
        assert_eq!(codec.decoder().unwrap().decode(payload).unwrap(), pcm, "{codec:?}");
    }
    let err = AudioCodec::L16 { clock_rate: 8000 }
        .decoder()
        .unwrap()
        .decode(&[1, 2, 3])
        .unwrap_err();
    assert_eq!(err.code(), "codec-partial-sample");
}

#[test]
fn codec_descriptions() {
    // (codec, rtp clock, pcm rate, codec of its static pt, ticks of a 160-byte payload)
    type Case = (AudioCodec, u32, u32, Option<AudioCodec>, Option<u32>);
    let cases: &[Case] = &[
        (
            AudioCodec::Pcmu,
            8000,
            8000,
            AudioCodec::from_static_payload_type(0),
            Some(160),
        ),
        (
            AudioCodec::Pcma,
            8000,
            8000,
            AudioCodec::from_static_payload_type(8),
            Some(160),
        ),
        (
            AudioCodec::G722,
            8000,
            16000,
            AudioCodec::from_static_payload_type(9),
            Some(160),
        ),
        (AudioCodec::L16 { clock_rate: 16000 }, 16000, 16000, None, Some(80)),
    ];
    for &(codec, clock, rate, from_pt, ticks) in cases {
        assert_eq!(
            (codec.rtp_clock_rate(), codec.sample_rate()),
            (clock, rate),
            "{codec:?}"
        );
        if let Some(p) = from_pt {
            assert_eq!(p, codec);
        }
        assert_eq!(codec.payload_ticks(&[0; 160]), ticks, "{codec:?}");
    }
    assert_eq!(AudioCodec::Opus.payload_ticks(&[0x08, 0]), Some(960));
    assert_eq!(AudioCodec::G722.silence_for(Duration::from_millis(20)).len(), 320);
    assert_eq!(AudioCodec::Opus.silence_for(Duration::from_millis(20)), vec![0; 960]);
}

#[test]
fn g722_round_trip_snr() {
    // (tones, minimum SNR dB, expected delay): tones in the low and the high sub-band.
    // A pure 5 kHz tone repeats every 3.2 samples, so its best lag is ambiguous.
    type Case<'a> = (&'a [(f64, f64)], f64, Option<usize>);
    let cases: &[Case] = &[
        (&[(440.0, -10.0)], 50.0, Some(22)),
        (&[(1000.0, -6.0), (2500.0, -12.0)], 35.0, Some(22)),
        (&[(5000.0, -10.0)], 20.0, None),
        (&[(300.0, -20.0), (3400.0, -20.0), (6000.0, -26.0)], 20.0, Some(22)),
    ];
    for &(tones, min_snr, delay) in cases {
        let pcm = tones_at(16000, 1000, tones);
        let mut encoded = Vec::new();
        G722Encoder::new().encode(&pcm, &mut encoded);
        assert_eq!(encoded.len(), pcm.len() / 2);
        let decoded = AudioCodec::G722.decoder().unwrap().decode(&encoded).unwrap();
        assert_eq!(decoded.len(), pcm.len());
        let (snr, lag) = best_snr(&pcm, &decoded, 40, 1600);
        assert!(snr >= min_snr, "{tones:?}: SNR {snr:.1} dB at lag {lag}");
        if let Some(delay) = delay {
            assert_eq!(lag, delay, "{tones:?}: the QMF pair delays by 22 samples");
        }
    }
}

/// The reference signal of the ffmpeg vectors: two triangle waves and LCG noise at
/// 16 kHz, in integer arithmetic so that it is reproduced exactly.
fn g722_reference_input() -> Vec<i16> {
    let mut state: u64 = 12345;
    (0..4000u64)
        .map(|i| {
            let triangle = |p: u64| if p < 32768 { p as i64 } else { 65535 - p as i64 };
            let (t1, t2) = (triangle(i * 1229 % 65536), triangle(i * 13107 % 65536));
            state = (state * 1_103_515_245 + 12345) % (1 << 31);
            let noise = ((state >> 16) % 2001) as i64 - 1000;
            let v = (t1 - 16384).div_euclid(2) + (t2 - 16384).div_euclid(4) + noise;
            v.clamp(-32768, 32767) as i16
        })
        .collect()
}

#[test]
fn g722_matches_an_independent_implementation() {
    // Vectors made once with FFmpeg 5.1's G.722 encoder and decoder (libavcodec,
    // 64 kbit/s, no trellis) from `g722_reference_input`; no ITU-T test vectors can
    // be fetched here. Both directions must agree bit for bit.
    let encoded_reference = include_bytes!("fixtures/g722_ffmpeg.g722");
    let decoded_reference: Vec<i16> = include_bytes!("fixtures/g722_ffmpeg_decoded.s16le")
        .chunks_exact(2)
        .map(|b| i16::from_le_bytes([b[0], b[1]]))
        .collect();
    let mut encoded = Vec::new();
    G722Encoder::new().encode(&g722_reference_input(), &mut encoded);
    assert_eq!(encoded.len(), encoded_reference.len());
    let first_difference = encoded.iter().zip(encoded_reference).position(|(a, b)| a != b);
    assert_eq!(first_difference, None, "encoder output differs from FFmpeg's");
    let mut decoded = Vec::new();
    G722Decoder::new().decode(encoded_reference, &mut decoded);
    let first_difference = decoded.iter().zip(&decoded_reference).position(|(a, b)| a != b);
    assert_eq!(first_difference, None, "decoder output differs from FFmpeg's");
    assert_eq!(decoded.len(), decoded_reference.len());
}

#[test]
fn g722_speech_like_round_trip_and_split_calls() {
    let pcm = to_pcm16(&speech_like(16000, 3000, &mut Rng(5)));
    let mut whole = Vec::new();
    G722Encoder::new().encode(&pcm, &mut whole);
    // Odd-sized calls give the same bytes as one call.
    let mut encoder = G722Encoder::new();
    let mut pieces = Vec::new();
    for chunk in pcm.chunks(161) {
        encoder.encode(chunk, &mut pieces);
    }
    assert_eq!(pieces, whole);
    let mut decoded = Vec::new();
    G722Decoder::new().decode(&whole, &mut decoded);
    let (snr, _) = best_snr(&pcm, &decoded, 40, 1600);
    assert!(snr >= 12.0, "speech-like SNR {snr:.1} dB");
}

#[test]
fn g722_decoder_takes_any_bytes() {
    let mut rng = Rng(11);
    let bytes: Vec<u8> = (0..50_000).map(|_| rng.next() as u8).collect();
    let mut out = Vec::new();
    G722Decoder::new().decode(&bytes, &mut out);
    assert_eq!(out.len(), 100_000);
}

#[test]
fn opus_round_trip() {
    let pcm = tones_at(48000, 1000, &[(440.0, -10.0), (1200.0, -16.0)]);
    let mut encoder = OpusEncoder::new(48000, 32_000).unwrap();
    let mut decoder = AudioCodec::Opus.decoder().unwrap();
    let mut decoded = Vec::new();
    for frame in pcm.chunks(960) {
        let packet = encoder.encode(frame).unwrap();
        assert!(!packet.is_empty() && packet.len() < 400);
        assert_eq!(AudioCodec::Opus.payload_ticks(&packet), Some(960));
        assert_eq!(decoder.decode_into(&packet, &mut decoded).unwrap(), 960);
    }
    let (snr, lag) = best_snr(&pcm, &decoded, 700, 4800);
    assert!(snr >= 10.0, "Opus SNR {snr:.1} dB at lag {lag}");
}

#[test]
fn opus_concealment_and_errors() {
    let mut decoder = AudioCodec::Opus.decoder().unwrap();
    let mut encoder = OpusEncoder::new(48000, 24_000).unwrap();
    let packet = encoder.encode(&tones_at(48000, 20, &[(500.0, -10.0)])).unwrap();
    let mut out = Vec::new();
    decoder.decode_into(&packet, &mut out).unwrap();
    decoder.conceal_into(1920, &mut out).unwrap();
    assert_eq!(out.len(), 960 + 1920);
    decoder.conceal_into(100, &mut out).unwrap(); // below 2.5 ms: zeros
    assert_eq!(out.len(), 960 + 1920 + 100);
    assert_eq!(decoder.decode(&[]).unwrap_err().code(), "codec-empty-payload");
    let mut pcmu = AudioCodec::Pcmu.decoder().unwrap();
    let mut zeros = Vec::new();
    pcmu.conceal_into(160, &mut zeros).unwrap();
    assert_eq!(zeros, vec![0; 160]);
    let mut g722 = AudioCodec::G722.decoder().unwrap();
    let mut wide = Vec::new();
    g722.conceal_into(160, &mut wide).unwrap();
    assert_eq!(wide.len(), 320);
}
