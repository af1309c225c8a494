//! Audio and transcript redaction: spans replaced by silence or a tone on every
//! channel, sample-accurate, with padding; the same words removed from the transcript.

use std::ops::Range;

use serde::{Deserialize, Serialize};

use crate::transcript::{Transcript, Word};

/// What replaces a redacted span.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Fill {
    /// Digital silence (every sample 0).
    Silence,
    /// A sine tone (the "bleep"), at `hz` and `amplitude` (peak, PCM16).
    Tone { hz: u32, amplitude: i16 },
}

impl Fill {
    /// The default bleep: 1 kHz at about -12 dBFS.
    pub const TONE: Fill = Fill::Tone {
        hz: 1000,
        amplitude: 8192,
    };

    /// The sample a filled span holds at `offset` samples from its start.
    pub fn sample(self, offset: usize, sample_rate: u32) -> i16 {
        match self {
            Fill::Silence => 0,
            Fill::Tone { hz, amplitude } => {
                let phase = 2.0 * std::f64::consts::PI * f64::from(hz) * offset as f64 / f64::from(sample_rate.max(1));
                (phase.sin() * f64::from(amplitude)).round() as i16
            }
        }
    }
}

/// A span to redact, in milliseconds of the recording's timeline.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Span {
    pub start_ms: u64,
    pub end_ms: u64,
}

/// The sample ranges `spans` cover at `sample_rate` once widened by `padding_ms` on
/// each side, clamped to `len` samples, sorted and merged. Start rounds down and end
/// rounds up, so a span never leaves a partial sample of what it covers.
pub fn sample_ranges(spans: &[Span], padding_ms: u64, sample_rate: u32, len: usize) -> Vec<Range<usize>> {
    let rate = u64::from(sample_rate);
    let mut ranges: Vec<Range<usize>> = spans
        .iter()
        .filter(|s| s.end_ms >= s.start_ms)
        .map(|s| {
            let start = s.start_ms.saturating_sub(padding_ms).saturating_mul(rate) / 1000;
            let end = s.end_ms.saturating_add(padding_ms).saturating_mul(rate).div_ceil(1000);
            let clamp = |v: u64| usize::try_from(v).unwrap_or(usize::MAX).min(len);
            clamp(start)..clamp(end)
        })
        .filter(|r| r.start < r.end)
        .collect();
    ranges.sort_by_key(|r| r.start);
    let mut merged: Vec<Range<usize>> = Vec::with_capacity(ranges.len());
    for range in ranges {
        match merged.last_mut() {
            Some(last) if range.start <= last.end => last.end = last.end.max(range.end),
            _ => merged.push(range),
        }
    }
    merged
}

/// Fills `ranges` of `samples` with `fill` (the tone's phase starts at each range).
pub fn fill_ranges(samples: &mut [i16], ranges: &[Range<usize>], fill: Fill, sample_rate: u32) {
    for range in ranges {
        let end = range.end.min(samples.len());
        let start = range.start.min(end);
        match fill {
            Fill::Silence => samples[start..end].fill(0),
            Fill::Tone { .. } => {
                for (offset, sample) in samples[start..end].iter_mut().enumerate() {
                    *sample = fill.sample(offset, sample_rate);
                }
            }
        }
    }
}

/// Redacts one channel: the ranges filled, returned for the record.
pub fn redact_channel(
    samples: &mut [i16],
    sample_rate: u32,
    spans: &[Span],
    padding_ms: u64,
    fill: Fill,
) -> Vec<Range<usize>> {
    let ranges = sample_ranges(spans, padding_ms, sample_rate, samples.len());
    fill_ranges(samples, &ranges, fill, sample_rate);
    ranges
}

/// The marker a run of removed words becomes in a redacted transcript.
pub const REDACTED_WORD: &str = "[redacted]";

/// Removes every word (of any stream) that overlaps a padded span; each run of
/// removed words of one stream becomes one `[redacted]` marker over the same time.
pub fn redact_transcript(transcript: &Transcript, spans: &[Span], padding_ms: u64) -> Transcript {
    let hit = |w: &Word| {
        spans.iter().any(|s| {
            let from = s.start_ms.saturating_sub(padding_ms);
            let to = s.end_ms.saturating_add(padding_ms);
            w.start_ms < to && from < w.end_ms.max(w.start_ms + 1)
        })
    };
    let mut words: Vec<Word> = Vec::with_capacity(transcript.words.len());
    // The marker most recently opened per stream, so interleaved streams stay apart.
    let mut open: Vec<(Option<String>, usize)> = Vec::new();
    for word in &transcript.words {
        if hit(word) {
            let pos = open.iter().position(|(s, _)| *s == word.stream);
            match pos.map(|p| open[p].1) {
                Some(at) if words.get(at).is_some_and(|m| m.text == REDACTED_WORD) => {
                    words[at].end_ms = words[at].end_ms.max(word.end_ms);
                }
                _ => {
                    words.push(Word {
                        start_ms: word.start_ms,
                        end_ms: word.end_ms,
                        text: REDACTED_WORD.into(),
                        stream: word.stream.clone(),
                        speaker: word.speaker.clone(),
                    });
                    let at = words.len() - 1;
                    match pos {
                        Some(p) => open[p].1 = at,
                        None => open.push((word.stream.clone(), at)),
                    }
                }
            }
        } else {
            if let Some(p) = open.iter().position(|(s, _)| *s == word.stream) {
                open.remove(p);
            }
            words.push(word.clone());
        }
    }
    Transcript { words }
}

/// A transcript cut to `[from_ms, to_ms)` and shifted to start at 0.
pub fn clip_transcript(transcript: &Transcript, from_ms: u64, to_ms: u64) -> Transcript {
    Transcript {
        words: transcript
            .words
            .iter()
            .filter(|w| w.start_ms >= from_ms && w.end_ms <= to_ms)
            .map(|w| Word {
                start_ms: w.start_ms - from_ms,
                end_ms: w.end_ms - from_ms,
                ..w.clone()
            })
            .collect(),
    }
}

/// A pseudonymous participant id: stable for one source recording and participant,
/// unlinkable across recordings without the key.
pub fn pseudonym(key: &[u8; 32], source: &str, participant: i64) -> String {
    use hmac::Mac;
    let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(key).expect("HMAC takes any key length");
    mac.update(b"callvault-pseudonym:");
    mac.update(source.as_bytes());
    mac.update(&participant.to_be_bytes());
    format!("participant-{}", hex::encode(&mac.finalize().into_bytes()[..5]))
}
