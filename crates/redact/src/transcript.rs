//! Transcripts with word timings, from the common speech-to-text outputs: WebVTT,
//! Whisper JSON (segments, with or without words) and AWS Transcribe JSON, into one
//! model. Parsers never panic and never echo the text of the input in an error.

use serde::{Deserialize, Serialize};

/// One spoken word (or token) with its time span in milliseconds from the start of
/// the recording.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Word {
    pub start_ms: u64,
    pub end_ms: u64,
    pub text: String,
    /// The stream (channel) label the word was heard on, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stream: Option<String>,
    /// The speaker label the engine gave, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub speaker: Option<String>,
}

/// A whole transcript: words in time order.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Transcript {
    pub words: Vec<Word>,
}

impl Transcript {
    /// Sorts the words by start time (stable: equal times keep their order).
    pub fn sort(&mut self) {
        self.words.sort_by_key(|w| (w.start_ms, w.end_ms));
    }

    /// Replaces the words of `stream` (all words when `None`) by those of `other`,
    /// tagging them with `stream`.
    pub fn replace_stream(&mut self, stream: Option<&str>, other: Transcript) {
        match stream {
            Some(label) => {
                self.words.retain(|w| w.stream.as_deref() != Some(label));
                self.words.extend(other.words.into_iter().map(|mut w| {
                    w.stream = Some(label.to_owned());
                    w
                }));
            }
            None => self.words = other.words,
        }
        self.sort();
    }

    /// The words as one line of text (for display).
    pub fn text(&self) -> String {
        self.words.iter().map(|w| w.text.as_str()).collect::<Vec<_>>().join(" ")
    }
}

/// The input formats understood.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TranscriptFormat {
    WebVtt,
    WhisperJson,
    AwsTranscribeJson,
}

impl TranscriptFormat {
    /// `vtt`, `whisper` or `aws`.
    pub fn from_name(name: &str) -> Option<Self> {
        match name {
            "vtt" | "webvtt" => Some(TranscriptFormat::WebVtt),
            "whisper" | "whisper-json" => Some(TranscriptFormat::WhisperJson),
            "aws" | "aws-transcribe" => Some(TranscriptFormat::AwsTranscribeJson),
            _ => None,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            TranscriptFormat::WebVtt => "vtt",
            TranscriptFormat::WhisperJson => "whisper",
            TranscriptFormat::AwsTranscribeJson => "aws",
        }
    }
}

/// Why a transcript could not be read. Messages name the place, never the text.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TranscriptError {
    #[error("not a WebVTT file (no WEBVTT header)")]
    NotWebVtt,
    #[error("line {line}: malformed cue timing")]
    CueTiming { line: usize },
    #[error("JSON: line {line} column {column}: {what}")]
    Json { line: usize, column: usize, what: String },
    #[error("{field}: {what}")]
    Field { field: String, what: String },
    #[error("the transcript is larger than {0} bytes")]
    TooLarge(usize),
}

/// Largest transcript accepted (a long call's word-level JSON is a few MB).
pub const MAX_TRANSCRIPT_BYTES: usize = 64 << 20;

/// Latest time accepted: 48 hours.
const MAX_MS: u64 = 48 * 3600 * 1000;

/// Parses `bytes` in `format`.
pub fn parse_transcript(format: TranscriptFormat, bytes: &[u8]) -> Result<Transcript, TranscriptError> {
    if bytes.len() > MAX_TRANSCRIPT_BYTES {
        return Err(TranscriptError::TooLarge(MAX_TRANSCRIPT_BYTES));
    }
    let mut transcript = match format {
        TranscriptFormat::WebVtt => parse_webvtt(&String::from_utf8_lossy(bytes))?,
        TranscriptFormat::WhisperJson => parse_whisper_json(bytes)?,
        TranscriptFormat::AwsTranscribeJson => parse_aws_json(bytes)?,
    };
    transcript.sort();
    Ok(transcript)
}

/// Splits a span of text over `[start, end)` into words, each given a share of the time
/// proportional to its length (used when the engine gave only phrase timings).
fn spread_words(text: &str, start_ms: u64, end_ms: u64, speaker: Option<&str>, out: &mut Vec<Word>) {
    let tokens: Vec<&str> = text.split_whitespace().collect();
    let total: u64 = tokens.iter().map(|t| t.chars().count() as u64 + 1).sum();
    if total == 0 {
        return;
    }
    let span = end_ms.saturating_sub(start_ms);
    let mut used = 0u64;
    for token in tokens {
        let weight = token.chars().count() as u64 + 1;
        let from = start_ms + span * used / total;
        used += weight;
        let to = start_ms + span * used / total;
        out.push(Word {
            start_ms: from,
            end_ms: to,
            text: token.to_owned(),
            stream: None,
            speaker: speaker.map(str::to_owned),
        });
    }
}

// ---------------------------------------------------------------------------
// WebVTT

/// `hh:mm:ss.ttt` or `mm:ss.ttt` in milliseconds.
fn vtt_time(text: &str) -> Option<u64> {
    let text = text.trim();
    let (clock, millis) = text.split_once('.')?;
    if millis.len() != 3 || !millis.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let parts: Vec<&str> = clock.split(':').collect();
    let number = |s: &str| -> Option<u64> {
        if s.is_empty() || s.len() > 6 || !s.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        s.parse().ok()
    };
    let (h, m, s) = match parts.as_slice() {
        [h, m, s] => (number(h)?, number(m)?, number(s)?),
        [m, s] => (0, number(m)?, number(s)?),
        _ => return None,
    };
    if m > 59 || s > 59 {
        return None;
    }
    let ms = h
        .checked_mul(3_600_000)?
        .checked_add(m * 60_000 + s * 1000 + number(millis)?)?;
    (ms <= MAX_MS).then_some(ms)
}

/// The voice of a cue (`<v Name>`), and the cue text with tags removed; inline
/// timestamps (`<00:00:01.500>`) split it into timed pieces.
fn vtt_pieces(payload: &str) -> (Option<String>, Vec<(Option<u64>, String)>) {
    let mut voice = None;
    let mut pieces: Vec<(Option<u64>, String)> = vec![(None, String::new())];
    let mut rest = payload;
    while let Some(open) = rest.find('<') {
        if let Some(last) = pieces.last_mut() {
            last.1.push_str(&rest[..open]);
        }
        let after = &rest[open + 1..];
        let Some(close) = after.find('>') else {
            rest = "";
            break;
        };
        let tag = &after[..close];
        if let Some(name) = tag.strip_prefix("v ").or_else(|| tag.strip_prefix("v.")) {
            let name = name.split_once(' ').map_or(name, |(_, n)| n).trim();
            if voice.is_none() && !name.is_empty() {
                voice = Some(name.to_owned());
            }
        } else if let Some(time) = vtt_time(tag) {
            pieces.push((Some(time), String::new()));
        }
        rest = &after[close + 1..];
    }
    if let Some(last) = pieces.last_mut() {
        last.1.push_str(rest);
    }
    let pieces = pieces.into_iter().map(|(t, s)| (t, unescape_vtt(&s))).collect();
    (voice, pieces)
}

fn unescape_vtt(text: &str) -> String {
    text.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&nbsp;", " ")
        .replace("&amp;", "&")
}

/// Parses WebVTT: every cue's words, timed by inline timestamps where the cue has
/// them, else spread over the cue by length. `<v Speaker>` gives the speaker.
pub fn parse_webvtt(text: &str) -> Result<Transcript, TranscriptError> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut lines = text.lines().enumerate().peekable();
    match lines.next() {
        Some((_, first)) if first == "WEBVTT" || first.starts_with("WEBVTT ") || first.starts_with("WEBVTT\t") => {}
        _ => return Err(TranscriptError::NotWebVtt),
    }
    let mut words = Vec::new();
    while let Some((number, line)) = lines.next() {
        if !line.contains("-->") {
            continue; // header lines, cue identifiers, NOTE and STYLE blocks, blanks
        }
        let (from, rest) = line
            .split_once("-->")
            .ok_or(TranscriptError::CueTiming { line: number + 1 })?;
        let to = rest.split_whitespace().next().unwrap_or_default();
        let (Some(start), Some(end)) = (vtt_time(from), vtt_time(to)) else {
            return Err(TranscriptError::CueTiming { line: number + 1 });
        };
        if end < start {
            return Err(TranscriptError::CueTiming { line: number + 1 });
        }
        let mut payload = String::new();
        while let Some((_, next)) = lines.peek() {
            if next.trim().is_empty() {
                break;
            }
            if !payload.is_empty() {
                payload.push(' ');
            }
            payload.push_str(next);
            lines.next();
        }
        let (voice, pieces) = vtt_pieces(&payload);
        let count = pieces.len();
        for (i, (at, piece)) in pieces.iter().enumerate() {
            let from = at.unwrap_or(start).clamp(start, end);
            let to = pieces.get(i + 1).and_then(|(t, _)| *t).unwrap_or(end).clamp(from, end);
            let to = if i + 1 == count { end } else { to };
            spread_words(piece, from, to, voice.as_deref(), &mut words);
        }
    }
    Ok(Transcript { words })
}

// ---------------------------------------------------------------------------
// JSON helpers

fn json_error(err: &serde_json::Error) -> TranscriptError {
    let what = match err.classify() {
        serde_json::error::Category::Syntax => "malformed JSON",
        serde_json::error::Category::Eof => "unexpected end of JSON",
        serde_json::error::Category::Io => "could not be read",
        serde_json::error::Category::Data => "unexpected shape",
    };
    TranscriptError::Json {
        line: err.line(),
        column: err.column(),
        what: what.into(),
    }
}

fn field(name: impl Into<String>, what: &str) -> TranscriptError {
    TranscriptError::Field {
        field: name.into(),
        what: what.into(),
    }
}

/// Seconds (a JSON number or a decimal string) to milliseconds.
fn seconds_ms(value: &serde_json::Value, name: &str) -> Result<u64, TranscriptError> {
    let seconds = match value {
        serde_json::Value::Number(n) => n.as_f64(),
        serde_json::Value::String(s) => s.trim().parse::<f64>().ok(),
        _ => None,
    }
    .ok_or_else(|| field(name, "expected a time in seconds"))?;
    if !seconds.is_finite() || seconds < 0.0 || seconds * 1000.0 > MAX_MS as f64 {
        return Err(field(name, "time out of range"));
    }
    Ok((seconds * 1000.0).round() as u64)
}

fn checked_span(start: u64, end: u64, name: &str) -> Result<(u64, u64), TranscriptError> {
    if end < start {
        return Err(field(name, "ends before it starts"));
    }
    Ok((start, end))
}

// ---------------------------------------------------------------------------
// Whisper JSON

/// Parses Whisper's JSON output (`openai-whisper --output_format json`, whisper.cpp
/// `-oj`, faster-whisper): `segments[].words[]` with `word`, `start`, `end` where the
/// engine gave word timestamps, else each segment's `text` spread over its span.
pub fn parse_whisper_json(bytes: &[u8]) -> Result<Transcript, TranscriptError> {
    let root: serde_json::Value = serde_json::from_slice(bytes).map_err(|e| json_error(&e))?;
    let segments = root
        .get("segments")
        .and_then(|s| s.as_array())
        .ok_or_else(|| field("segments", "missing or not a list"))?;
    let mut words = Vec::new();
    for (i, segment) in segments.iter().enumerate() {
        let name = format!("segments[{i}]");
        let start = seconds_ms(
            segment.get("start").unwrap_or(&serde_json::Value::Null),
            &format!("{name}.start"),
        )?;
        let end = seconds_ms(
            segment.get("end").unwrap_or(&serde_json::Value::Null),
            &format!("{name}.end"),
        )?;
        let (start, end) = checked_span(start, end, &name)?;
        let speaker = segment.get("speaker").and_then(|s| s.as_str());
        match segment.get("words").and_then(|w| w.as_array()) {
            Some(list) if !list.is_empty() => {
                for (j, word) in list.iter().enumerate() {
                    let wname = format!("{name}.words[{j}]");
                    let text = word
                        .get("word")
                        .or_else(|| word.get("text"))
                        .and_then(|t| t.as_str())
                        .ok_or_else(|| field(format!("{wname}.word"), "missing or not text"))?;
                    let ws = seconds_ms(
                        word.get("start").unwrap_or(&serde_json::Value::Null),
                        &format!("{wname}.start"),
                    )?;
                    let we = seconds_ms(
                        word.get("end").unwrap_or(&serde_json::Value::Null),
                        &format!("{wname}.end"),
                    )?;
                    let (ws, we) = checked_span(ws, we, &wname)?;
                    // Whisper's word tokens carry their leading space and may hold more than one word.
                    spread_words(text, ws, we, speaker, &mut words);
                }
            }
            _ => {
                let text = segment
                    .get("text")
                    .and_then(|t| t.as_str())
                    .ok_or_else(|| field(format!("{name}.text"), "missing or not text"))?;
                spread_words(text, start, end, speaker, &mut words);
            }
        }
    }
    Ok(Transcript { words })
}

// ---------------------------------------------------------------------------
// AWS Transcribe JSON

/// Parses an AWS Transcribe job result: `results.items[]` (pronunciations with
/// `start_time`, `end_time`, `alternatives[0].content`; punctuation is dropped), with
/// the channel from `channel_label` (channel identification: the items are under
/// `results.channel_labels.channels[]`) and the speaker from `speaker_label`.
pub fn parse_aws_json(bytes: &[u8]) -> Result<Transcript, TranscriptError> {
    let root: serde_json::Value = serde_json::from_slice(bytes).map_err(|e| json_error(&e))?;
    let results = root
        .get("results")
        .filter(|r| r.is_object())
        .ok_or_else(|| field("results", "missing or not an object"))?;
    let mut words = Vec::new();
    let channels = results
        .get("channel_labels")
        .and_then(|c| c.get("channels"))
        .and_then(|c| c.as_array());
    match channels {
        Some(channels) => {
            for (i, channel) in channels.iter().enumerate() {
                let label = channel.get("channel_label").and_then(|l| l.as_str());
                let items = channel.get("items").and_then(|x| x.as_array()).ok_or_else(|| {
                    field(
                        format!("results.channel_labels.channels[{i}].items"),
                        "missing or not a list",
                    )
                })?;
                aws_items(
                    items,
                    &format!("results.channel_labels.channels[{i}].items"),
                    label,
                    &mut words,
                )?;
            }
        }
        None => {
            let items = results
                .get("items")
                .and_then(|x| x.as_array())
                .ok_or_else(|| field("results.items", "missing or not a list"))?;
            aws_items(items, "results.items", None, &mut words)?;
        }
    }
    // Speakers, when the job asked for them and the items do not carry them.
    if let Some(segments) = results
        .get("speaker_labels")
        .and_then(|s| s.get("segments"))
        .and_then(|s| s.as_array())
    {
        let mut spans = Vec::new();
        for (i, segment) in segments.iter().enumerate() {
            let Some(speaker) = segment.get("speaker_label").and_then(|s| s.as_str()) else {
                continue;
            };
            let name = format!("results.speaker_labels.segments[{i}]");
            let start = seconds_ms(segment.get("start_time").unwrap_or(&serde_json::Value::Null), &name)?;
            let end = seconds_ms(segment.get("end_time").unwrap_or(&serde_json::Value::Null), &name)?;
            spans.push((start, end, speaker));
        }
        for word in words.iter_mut().filter(|w| w.speaker.is_none()) {
            if let Some((_, _, speaker)) = spans.iter().find(|(s, e, _)| *s <= word.start_ms && word.end_ms <= *e) {
                word.speaker = Some((*speaker).to_owned());
            }
        }
    }
    Ok(Transcript { words })
}

fn aws_items(
    items: &[serde_json::Value],
    name: &str,
    channel: Option<&str>,
    out: &mut Vec<Word>,
) -> Result<(), TranscriptError> {
    for (i, item) in items.iter().enumerate() {
        let iname = format!("{name}[{i}]");
        let kind = item.get("type").and_then(|t| t.as_str()).unwrap_or("pronunciation");
        if kind == "punctuation" {
            continue;
        }
        let content = item
            .get("alternatives")
            .and_then(|a| a.as_array())
            .and_then(|a| a.first())
            .and_then(|a| a.get("content"))
            .and_then(|c| c.as_str())
            .ok_or_else(|| field(format!("{iname}.alternatives"), "missing content"))?;
        let start = seconds_ms(
            item.get("start_time").unwrap_or(&serde_json::Value::Null),
            &format!("{iname}.start_time"),
        )?;
        let end = seconds_ms(
            item.get("end_time").unwrap_or(&serde_json::Value::Null),
            &format!("{iname}.end_time"),
        )?;
        let (start, end) = checked_span(start, end, &iname)?;
        let speaker = item.get("speaker_label").and_then(|s| s.as_str());
        let stream = item
            .get("channel_label")
            .and_then(|s| s.as_str())
            .or(channel)
            .map(str::to_owned);
        let first = out.len();
        spread_words(content, start, end, speaker, out);
        for word in out.iter_mut().skip(first) {
            word.stream.clone_from(&stream);
        }
    }
    Ok(())
}
