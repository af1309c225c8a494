//! In-band DTMF: generated key tones (two sines, with noise, at various levels,
//! through G.711) must be found with their timing; speech-like audio, noise and
//! other call-progress tones must not be.

use crate::support::*;
use media::dtmf::DtmfDigit;
use media::g711::{alaw_decode, alaw_encode, ulaw_decode, ulaw_encode};
use media::inband::{InbandDetector, detect_dtmf};

/// A key press: (key, tone ms, pause ms after).
type Press = (char, u32, u32);

/// Builds a signal of keys: each (key, tone ms, pause ms after), row and column at
/// `row_db`/`col_db` dBFS, after 100 ms of silence. Returns it with the true
/// (start, end) sample spans.
fn keys(rate: u32, presses: &[Press], row_db: f64, col_db: f64) -> (Vec<f64>, Vec<(u64, u64)>) {
    let mut signal = Vec::new();
    let mut spans = Vec::new();
    push_silence(&mut signal, rate, 100);
    for &(c, tone_ms, pause_ms) in presses {
        let (row, col) = DtmfDigit::from_char(c).unwrap().frequencies();
        let start = signal.len() as u64;
        push_tones(
            &mut signal,
            rate,
            tone_ms,
            &[(row as f64, row_db), (col as f64, col_db)],
        );
        spans.push((start, signal.len() as u64));
        push_silence(&mut signal, rate, pause_ms);
    }
    (signal, spans)
}

fn digits_of(found: &[media::inband::InbandDigit]) -> String {
    found.iter().map(|d| d.digit.as_char()).collect()
}

#[test]
fn keys_at_various_levels_and_noise() {
    let all = "0123456789*#";
    let presses: Vec<Press> = all.chars().map(|c| (c, 70, 60)).collect();
    // (row dBFS, column dBFS, noise dBFS)
    let levels: &[(f64, f64, f64)] = &[
        (-3.0, -3.0, -90.0),
        (-10.0, -8.0, -40.0),
        (-20.0, -18.0, -45.0),
        (-30.0, -30.0, -55.0),
        (-12.0, -12.0, -32.0), // 20 dB SNR
    ];
    let mut rng = Rng(7);
    for &(row_db, col_db, noise_db) in levels {
        let (mut signal, spans) = keys(8000, &presses, row_db, col_db);
        add_noise(&mut signal, noise_db, &mut rng);
        let found = detect_dtmf(&to_pcm16(&signal), 8000);
        assert_eq!(digits_of(&found), all, "levels {row_db}/{col_db} noise {noise_db}");
        for (d, &(start, end)) in found.iter().zip(&spans) {
            // Within about one 102-sample block of the truth at each edge.
            assert!(d.start_sample.abs_diff(start) <= 102, "{d:?} vs {start}");
            assert!(d.end_sample.abs_diff(end) <= 102, "{d:?} vs {end}");
        }
    }
}

#[test]
fn keys_through_g711() {
    let presses: Vec<Press> = "159#*0".chars().map(|c| (c, 50, 50)).collect();
    let (mut signal, _) = keys(8000, &presses, -12.0, -10.0);
    add_noise(&mut signal, -50.0, &mut Rng(3));
    let pcm = to_pcm16(&signal);
    let via_ulaw: Vec<i16> = pcm.iter().map(|&s| ulaw_decode(ulaw_encode(s))).collect();
    let via_alaw: Vec<i16> = pcm.iter().map(|&s| alaw_decode(alaw_encode(s))).collect();
    assert_eq!(digits_of(&detect_dtmf(&via_ulaw, 8000)), "159#*0");
    assert_eq!(digits_of(&detect_dtmf(&via_alaw, 8000)), "159#*0");
}

#[test]
fn duration_and_gap_limits() {
    // (what, presses, expected keys)
    let cases: Vec<(&str, Vec<Press>, &str)> = vec![
        ("20 ms tone is too short", vec![('5', 20, 100)], ""),
        ("40 ms tone counts", vec![('5', 40, 100)], "5"),
        (
            "same key after a 40 ms pause counts twice",
            vec![('1', 60, 40), ('1', 60, 100)],
            "11",
        ),
        (
            "different keys after a 40 ms pause",
            vec![('1', 60, 40), ('2', 60, 100)],
            "12",
        ),
        (
            "a 10 ms dropout does not split a key",
            vec![('3', 60, 10), ('3', 60, 100)],
            "3",
        ),
    ];
    for (name, presses, expected) in cases {
        // Every alignment of the tone against the 102-sample blocks.
        for offset in (0..102).step_by(17) {
            let (signal, _) = keys(8000, &presses, -10.0, -10.0);
            let mut pcm = vec![0i16; offset];
            pcm.extend(to_pcm16(&signal));
            assert_eq!(digits_of(&detect_dtmf(&pcm, 8000)), expected, "{name}, offset {offset}");
        }
    }
}

#[test]
fn twist_limits() {
    let cases: &[(f64, f64, &str)] = &[
        (-10.0, -16.0, "7"), // row 6 dB louder: normal twist within 8 dB
        (-16.0, -10.0, "7"), // column 6 dB louder
        (-6.0, -18.0, ""),   // 12 dB twist
        (-18.0, -6.0, ""),
        (-50.0, -50.0, ""), // below the level floor
    ];
    for &(row_db, col_db, expected) in cases {
        let (signal, _) = keys(8000, &[('7', 80, 80)], row_db, col_db);
        assert_eq!(
            digits_of(&detect_dtmf(&to_pcm16(&signal), 8000)),
            expected,
            "{row_db}/{col_db}"
        );
    }
}

#[test]
fn speech_noise_and_other_tones_do_not_trigger() {
    let mut rng = Rng(0xD7_3F);
    let mut cases: Vec<(&str, Vec<f64>)> = Vec::new();
    for i in 0..5 {
        cases.push(("speech-like", speech_like(8000, 20_000, &mut Rng(1000 + i))));
    }
    let mut noise = vec![0.0; 8000 * 5];
    add_noise(&mut noise, -10.0, &mut rng);
    cases.push(("white noise", noise));
    let mut tones = Vec::new();
    push_tones(&mut tones, 8000, 2000, &[(350.0, -13.0), (440.0, -13.0)]);
    cases.push(("dial tone", tones));
    let mut ringback = Vec::new();
    push_tones(&mut ringback, 8000, 2000, &[(440.0, -19.0), (480.0, -19.0)]);
    cases.push(("ringback", ringback));
    let mut busy = Vec::new();
    push_tones(&mut busy, 8000, 2000, &[(480.0, -24.0), (620.0, -24.0)]);
    cases.push(("busy", busy));
    for single in [697.0, 1000.0, 1209.0] {
        let mut one = Vec::new();
        push_tones(&mut one, 8000, 1000, &[(single, -10.0)]);
        cases.push(("single tone", one));
    }
    let mut sweep = Vec::new();
    for step in 0..200 {
        push_tones(
            &mut sweep,
            8000,
            20,
            &[(300.0 + 15.0 * step as f64, -10.0), (1900.0 - 5.0 * step as f64, -10.0)],
        );
    }
    cases.push(("two sweeping tones", sweep));
    for (name, signal) in cases {
        let found = detect_dtmf(&to_pcm16(&signal), 8000);
        assert!(found.is_empty(), "{name}: {found:?}");
    }
}

#[test]
fn a_key_over_speech_is_found() {
    let mut rng = Rng(99);
    let (mut signal, _) = keys(8000, &[('1', 100, 200)], -6.0, -6.0);
    let speech = speech_like(8000, signal.len() as u32 / 8, &mut rng);
    for (s, v) in signal.iter_mut().zip(&speech) {
        *s += v * 0.05; // speech about 26 dB down
    }
    assert_eq!(digits_of(&detect_dtmf(&to_pcm16(&signal), 8000)), "1");
}

#[test]
fn streaming_in_odd_chunks_matches_one_call() {
    let presses: Vec<Press> = "2468".chars().map(|c| (c, 55, 45)).collect();
    let (signal, _) = keys(8000, &presses, -9.0, -9.0);
    let pcm = to_pcm16(&signal);
    let whole = detect_dtmf(&pcm, 8000);
    let mut detector = InbandDetector::with_sample_rate(8000);
    let mut found = Vec::new();
    let mut rest = &pcm[..];
    let mut size = 1;
    while !rest.is_empty() {
        let (chunk, tail) = rest.split_at(size.min(rest.len()));
        detector.process(chunk, &mut found);
        rest = tail;
        size = size % 157 + 13;
    }
    detector.finish(&mut found);
    assert_eq!(found, whole);
    assert_eq!(digits_of(&found), "2468");
}

#[test]
fn wideband_rates() {
    for rate in [16_000, 48_000] {
        let presses: Vec<Press> = "90*".chars().map(|c| (c, 60, 60)).collect();
        let (signal, spans) = keys(rate, &presses, -10.0, -10.0);
        let found = detect_dtmf(&to_pcm16(&signal), rate);
        assert_eq!(digits_of(&found), "90*", "{rate} Hz");
        let block = u64::from(rate) * 1275 / 100_000;
        assert!(found[0].start_sample.abs_diff(spans[0].0) <= block);
        assert_eq!(found[0].start_ms(rate) / 10, 10); // 100 ms of leading silence
    }
}
