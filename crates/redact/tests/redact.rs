//! Transcript parsers, PII detectors and audio redaction, as tables; robustness loops
//! that mutate valid transcripts byte by byte (an error, never a panic).

// The tables spell out their row types in place, so a row reads as the data it holds.
#![allow(clippy::type_complexity)]

use redact::{
    Detector, Fill, NumberLanguage, PiiKind, Span, Transcript, TranscriptFormat, Word, luhn_valid, parse_transcript,
    redact_channel, redact_transcript, sample_ranges,
};

fn words(text: &str) -> Vec<Word> {
    // One word every 500 ms, 400 ms long.
    text.split_whitespace()
        .enumerate()
        .map(|(i, t)| Word {
            start_ms: i as u64 * 500,
            end_ms: i as u64 * 500 + 400,
            text: t.to_owned(),
            stream: None,
            speaker: None,
        })
        .collect()
}

fn detector() -> Detector {
    let mut d = Detector::new([7; 32]);
    d.known_names = vec!["Alex Agent".into(), "Kari Nordmann".into()];
    d.known_numbers = vec!["+447700900123".into()];
    d.word_list = vec!["project falcon".into()];
    d.languages = vec![
        NumberLanguage::English,
        NumberLanguage::Norwegian,
        NumberLanguage::Swedish,
    ];
    d
}

/// (spoken text, expected kinds with the word index range they cover)
const DETECTIONS: &[(&str, &[(PiiKind, usize, usize)])] = &[
    ("hello my name is kari", &[(PiiKind::Name, 4, 4)]),
    ("this is Alex's desk", &[(PiiKind::Name, 2, 2)]),
    ("nothing personal here at all", &[]),
    (
        "call me on oh one two three four five six seven eight nine",
        &[(PiiKind::PhoneNumber, 3, 12)],
    ),
    ("my number is 07700 900 123 thanks", &[(PiiKind::KnownNumber, 3, 5)]),
    ("ring 020 7946 0958 please", &[(PiiKind::PhoneNumber, 1, 3)]),
    (
        "double four seven seven double oh nine",
        &[(PiiKind::PhoneNumber, 0, 6)],
    ),
    (
        "card four one one one one one one one one one one one one one one one ok",
        &[(PiiKind::CardNumber, 1, 16)],
    ),
    ("card 4111 1111 1111 1111 ok", &[(PiiKind::CardNumber, 1, 4)]),
    ("card 4111 1111 1111 1112 ok", &[(PiiKind::DigitRun, 1, 4)]),
    ("only 123 456 here", &[]),
    ("mail me at jo.smith@example.com today", &[(PiiKind::Email, 3, 3)]),
    (
        "it is jo dot smith at example dot co dot uk",
        &[(PiiKind::Email, 2, 10)],
    ),
    ("meet at noon dot", &[]),
    ("postcode SW1A 1AA right", &[(PiiKind::Postcode, 1, 2)]),
    ("it is M11AE", &[(PiiKind::Postcode, 2, 2)]),
    ("adressen er NO-0150 Oslo", &[(PiiKind::Postcode, 2, 2)]),
    ("postnummer 0150 Oslo", &[(PiiKind::Postcode, 1, 1)]),
    ("bor på 114 55 Stockholm", &[(PiiKind::Postcode, 2, 3)]),
    ("room 0150 is free", &[]),
    (
        "nummeret er null fire sju en to tre fire fem",
        &[(PiiKind::PhoneNumber, 2, 9)],
    ),
    (
        "numret är noll sju noll ett två tre fyra fem sex",
        &[(PiiKind::PhoneNumber, 2, 10)],
    ),
    ("about project falcon today", &[(PiiKind::WordList, 1, 2)]),
];

#[test]
fn detectors_find_what_the_table_says() {
    let d = detector();
    for (text, expected) in DETECTIONS {
        let w = words(text);
        let found: Vec<(PiiKind, u64, u64)> = d.detect(&w).iter().map(|f| (f.kind, f.start_ms, f.end_ms)).collect();
        let want: Vec<(PiiKind, u64, u64)> = expected
            .iter()
            .map(|(k, a, b)| (*k, w[*a].start_ms, w[*b].end_ms))
            .collect();
        assert_eq!(found, want, "{text:?}");
    }
}

#[test]
fn evidence_never_holds_the_value() {
    let d = detector();
    let text = "kari 4111 1111 1111 1111 jo.smith@example.com SW1A 1AA 07700 900 123";
    for finding in d.detect(&words(text)) {
        for secret in ["kari", "4111", "1111", "smith", "SW1A", "07700", "900123"] {
            assert!(
                !finding.evidence.to_lowercase().contains(&secret.to_lowercase()),
                "{finding:?}"
            );
        }
        assert!(finding.evidence.contains("hmac:"), "{finding:?}");
    }
}

#[test]
fn detection_runs_per_stream() {
    // Digits split between two speakers are not one number.
    let mut w = words("one two three four five six seven");
    for (i, word) in w.iter_mut().enumerate() {
        word.stream = Some(if i % 2 == 0 { "a" } else { "b" }.into());
    }
    assert!(detector().detect(&w).is_empty());
}

#[test]
fn luhn_table() {
    for (digits, valid) in [
        ("4111111111111111", true),
        ("4111111111111112", false),
        ("5555555555554444", true),
        ("378282246310005", true),
        ("79927398713", true),
        ("", false),
        ("12a4", false),
    ] {
        assert_eq!(luhn_valid(digits), valid, "{digits}");
    }
}

#[test]
fn text_check_finds_pii_in_notes() {
    let d = detector();
    assert!(d.text_has_pii("customer Kari called"));
    assert!(!d.text_has_pii("paused at 1200 ms"));
}

// ---------------------------------------------------------------------------
// Parsers

const VTT: &str = "WEBVTT

NOTE a comment

1
00:00:01.000 --> 00:00:02.000
<v Kari>Hello there

00:00:02.500 --> 00:00:04.000 align:start
my <00:00:03.000>number <00:00:03.500>is
";

const WHISPER: &str = r#"{"text":" Hello there","segments":[
 {"id":0,"start":1.0,"end":2.0,"text":" Hello there","words":[
   {"word":" Hello","start":1.0,"end":1.4},{"word":" there","start":1.5,"end":2.0}]},
 {"id":1,"start":2.5,"end":4.0,"text":" my number is"}]}"#;

const AWS: &str = r#"{"jobName":"j","results":{"transcripts":[{"transcript":"Hello there."}],
 "items":[
  {"start_time":"1.0","end_time":"1.4","alternatives":[{"confidence":"0.9","content":"Hello"}],"type":"pronunciation","speaker_label":"spk_0"},
  {"start_time":"1.5","end_time":"2.0","alternatives":[{"confidence":"0.9","content":"there"}],"type":"pronunciation"},
  {"alternatives":[{"confidence":"0.0","content":"."}],"type":"punctuation"}],
 "speaker_labels":{"speakers":2,"segments":[{"start_time":"1.0","end_time":"2.0","speaker_label":"spk_0","items":[]}]}}}"#;

const AWS_CHANNELS: &str = r#"{"results":{"channel_labels":{"number_of_channels":2,"channels":[
  {"channel_label":"ch_0","items":[{"start_time":"0.5","end_time":"0.9","alternatives":[{"content":"hi"}],"type":"pronunciation"}]},
  {"channel_label":"ch_1","items":[{"start_time":"0.2","end_time":"0.4","alternatives":[{"content":"yes"}],"type":"pronunciation"}]}]},
  "items":[]}}"#;

fn triples(t: &Transcript) -> Vec<(u64, u64, &str)> {
    t.words
        .iter()
        .map(|w| (w.start_ms, w.end_ms, w.text.as_str()))
        .collect()
}

#[test]
fn parsers_read_the_table() {
    let cases: &[(TranscriptFormat, &str, &[(u64, u64, &str)])] = &[
        (
            TranscriptFormat::WebVtt,
            VTT,
            &[
                (1000, 1500, "Hello"),
                (1500, 2000, "there"),
                (2500, 3000, "my"),
                (3000, 3500, "number"),
                (3500, 4000, "is"),
            ],
        ),
        (
            TranscriptFormat::WhisperJson,
            WHISPER,
            &[
                (1000, 1400, "Hello"),
                (1500, 2000, "there"),
                (2500, 2846, "my"),
                (2846, 3653, "number"),
                (3653, 4000, "is"),
            ],
        ),
        (
            TranscriptFormat::AwsTranscribeJson,
            AWS,
            &[(1000, 1400, "Hello"), (1500, 2000, "there")],
        ),
        (
            TranscriptFormat::AwsTranscribeJson,
            AWS_CHANNELS,
            &[(200, 400, "yes"), (500, 900, "hi")],
        ),
    ];
    for (format, text, expected) in cases {
        let t = parse_transcript(*format, text.as_bytes()).unwrap_or_else(|e| panic!("{format:?}: {e}"));
        assert_eq!(triples(&t), *expected, "{format:?}");
    }
    let vtt = parse_transcript(TranscriptFormat::WebVtt, VTT.as_bytes()).unwrap();
    assert_eq!(vtt.words[0].speaker.as_deref(), Some("Kari"));
    let aws = parse_transcript(TranscriptFormat::AwsTranscribeJson, AWS.as_bytes()).unwrap();
    assert!(aws.words.iter().all(|w| w.speaker.as_deref() == Some("spk_0")));
    let channels = parse_transcript(TranscriptFormat::AwsTranscribeJson, AWS_CHANNELS.as_bytes()).unwrap();
    assert_eq!(channels.words[0].stream.as_deref(), Some("ch_1"));
}

#[test]
fn malformed_transcripts_are_errors_that_do_not_echo_text() {
    let cases: &[(TranscriptFormat, &str)] = &[
        (TranscriptFormat::WebVtt, "not a vtt"),
        (
            TranscriptFormat::WebVtt,
            "WEBVTT\n\n00:00:02.000 --> 00:00:01.000\nsecret kari\n",
        ),
        (
            TranscriptFormat::WebVtt,
            "WEBVTT\n\n00:61:02.000 --> 00:00:01.000\nsecret kari\n",
        ),
        (TranscriptFormat::WhisperJson, "{\"segments\": 3}"),
        (
            TranscriptFormat::WhisperJson,
            "{\"segments\":[{\"start\":-1,\"end\":2,\"text\":\"secret kari\"}]}",
        ),
        (
            TranscriptFormat::WhisperJson,
            "{\"segments\":[{\"start\":3,\"end\":2,\"text\":\"secret kari\"}]}",
        ),
        (
            TranscriptFormat::WhisperJson,
            "{\"segments\":[{\"start\":1e300,\"end\":2,\"text\":\"x\"}]}",
        ),
        (
            TranscriptFormat::AwsTranscribeJson,
            "{\"results\":{\"items\":[{\"start_time\":\"x\"}]}}",
        ),
        (TranscriptFormat::AwsTranscribeJson, "{\"results\":[]}"),
        (TranscriptFormat::AwsTranscribeJson, "{\"secret kari\""),
    ];
    for (format, text) in cases {
        let err = parse_transcript(*format, text.as_bytes()).expect_err(text);
        assert!(!err.to_string().contains("kari"), "{err}");
    }
}

/// A small deterministic generator (xorshift), so failures reproduce.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

/// Mutations of a valid input: flipped bytes, inserted syntax bytes, deletions,
/// truncations, duplicated stretches.
fn mutate(rng: &mut Rng, input: &[u8]) -> Vec<u8> {
    let mut out = input.to_vec();
    for _ in 0..1 + rng.below(4) {
        let len = out.len();
        match rng.below(5) {
            0 if len > 0 => {
                let i = rng.below(len);
                out[i] ^= 1 << rng.below(8);
            }
            1 => {
                const SYNTAX: &[u8] = b"{}[]\":,.-<>0123456789 \n\xff\xc3eE+";
                let i = rng.below(len + 1);
                out.insert(i, SYNTAX[rng.below(SYNTAX.len())]);
            }
            2 if len > 0 => {
                let i = rng.below(len);
                let n = rng.below(len - i + 1).min(16);
                out.drain(i..i + n);
            }
            3 => out.truncate(rng.below(len + 1)),
            _ if len > 0 => {
                let i = rng.below(len);
                let n = rng.below(len - i + 1).min(64);
                let copy = out[i..i + n].to_vec();
                let at = rng.below(out.len() + 1);
                out.splice(at..at, copy);
            }
            _ => {}
        }
    }
    out
}

#[test]
fn mutated_transcripts_never_panic() {
    let seeds: &[(TranscriptFormat, &str)] = &[
        (TranscriptFormat::WebVtt, VTT),
        (TranscriptFormat::WhisperJson, WHISPER),
        (TranscriptFormat::AwsTranscribeJson, AWS),
        (TranscriptFormat::AwsTranscribeJson, AWS_CHANNELS),
    ];
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let mut errors = 0;
    for (format, seed) in seeds {
        for _ in 0..3000 {
            let input = mutate(&mut rng, seed.as_bytes());
            let result = std::panic::catch_unwind(|| parse_transcript(*format, &input));
            match result {
                Ok(Ok(t)) => {
                    // Whatever parses is well formed.
                    assert!(t.words.iter().all(|w| w.start_ms <= w.end_ms));
                    assert!(t.words.windows(2).all(|p| p[0].start_ms <= p[1].start_ms));
                    // And the detectors take it.
                    let _ = detector().detect(&t.words);
                }
                Ok(Err(_)) => errors += 1,
                Err(_) => panic!("{format:?} parser panicked on {:?}", String::from_utf8_lossy(&input)),
            }
        }
    }
    assert!(errors > 1000, "the mutations reach the error paths ({errors})");
}

#[test]
fn random_bytes_never_panic() {
    let mut rng = Rng(42);
    for _ in 0..3000 {
        let len = rng.below(200);
        let bytes: Vec<u8> = (0..len).map(|_| rng.next() as u8).collect();
        for format in [
            TranscriptFormat::WebVtt,
            TranscriptFormat::WhisperJson,
            TranscriptFormat::AwsTranscribeJson,
        ] {
            let mut prefixed = match format {
                TranscriptFormat::WebVtt => b"WEBVTT\n\n00:00:01.000 --> ".to_vec(),
                _ => b"{\"segments\":[{\"start\":".to_vec(),
            };
            prefixed.extend_from_slice(&bytes);
            let _ = parse_transcript(format, &bytes);
            let _ = parse_transcript(format, &prefixed);
        }
    }
}

// ---------------------------------------------------------------------------
// Audio and transcript redaction

#[test]
fn sample_ranges_round_outwards_pad_clamp_and_merge() {
    let cases: &[(&[(u64, u64)], u64, u32, usize, &[(usize, usize)])] = &[
        (&[(1000, 2000)], 0, 8000, 80_000, &[(8000, 16000)]),
        // 0.1 ms at 8 kHz is 0.8 samples: down for the start, up for the end.
        (&[(1000, 1001)], 0, 8000, 80_000, &[(8000, 8008)]),
        (&[(1000, 2000)], 100, 8000, 80_000, &[(7200, 16800)]),
        (&[(50, 100)], 100, 8000, 80_000, &[(0, 1600)]),
        (&[(9000, 12000)], 0, 8000, 80_000, &[(72000, 80000)]),
        (
            &[(1000, 2000), (1900, 3000), (5000, 5000)],
            0,
            8000,
            80_000,
            &[(8000, 24000)],
        ),
        (&[(3000, 2000)], 0, 8000, 80_000, &[]),
        (&[(20_000, 30_000)], 0, 8000, 80_000, &[]),
        (&[(1000, 2000)], 0, 16000, 80_000, &[(16000, 32000)]),
    ];
    for (spans, padding, rate, len, expected) in cases {
        let spans: Vec<Span> = spans
            .iter()
            .map(|(a, b)| Span {
                start_ms: *a,
                end_ms: *b,
            })
            .collect();
        let got: Vec<(usize, usize)> = sample_ranges(&spans, *padding, *rate, *len)
            .into_iter()
            .map(|r| (r.start, r.end))
            .collect();
        assert_eq!(got, *expected, "{spans:?} pad {padding}");
    }
}

#[test]
fn redacted_channel_changes_only_the_spans() {
    let original: Vec<i16> = (0..16_000).map(|i| ((i * 37) % 2000) as i16 - 1000).collect();
    for fill in [Fill::Silence, Fill::TONE] {
        let mut samples = original.clone();
        let spans = [
            Span {
                start_ms: 250,
                end_ms: 500,
            },
            Span {
                start_ms: 1200,
                end_ms: 1300,
            },
        ];
        let ranges = redact_channel(&mut samples, 8000, &spans, 20, fill);
        assert_eq!(ranges, vec![1840..4160, 9440..10560]);
        for (i, (a, b)) in original.iter().zip(&samples).enumerate() {
            match ranges.iter().find(|r| r.contains(&i)) {
                Some(r) => assert_eq!(*b, fill.sample(i - r.start, 8000)),
                None => assert_eq!(a, b, "sample {i} outside the spans changed"),
            }
        }
    }
}

#[test]
fn transcript_redaction_removes_the_words_of_every_stream() {
    let mut t = Transcript {
        words: words("my card is four one one one thanks"),
    };
    t.words[6].stream = Some("agent".into());
    // The span reaches into the agent's word: it goes too, as its own marker.
    let red = redact_transcript(
        &t,
        &[Span {
            start_ms: 1500,
            end_ms: 3100,
        }],
        0,
    );
    let text: Vec<&str> = red.words.iter().map(|w| w.text.as_str()).collect();
    assert_eq!(text, ["my", "card", "is", "[redacted]", "[redacted]", "thanks"]);
    assert_eq!((red.words[3].start_ms, red.words[3].end_ms), (1500, 2900));
    assert_eq!(red.words[4].stream.as_deref(), Some("agent"));
    // Padding widens the span.
    let padded = redact_transcript(
        &t,
        &[Span {
            start_ms: 2000,
            end_ms: 2400,
        }],
        150,
    );
    let text: Vec<&str> = padded.words.iter().map(|w| w.text.as_str()).collect();
    assert_eq!(text, ["my", "card", "is", "[redacted]", "one", "thanks"]);
}
