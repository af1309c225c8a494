//! RFC 4733 telephone-events: the payload parser and a tracker that turns the
//! packet stream into digits, each counted once, with its start and end.
//!
//! A sender marks the first packet of an event (M bit), repeats updates with the
//! same RTP timestamp and a growing duration, and sends the final packet (E bit)
//! three times. Some senders also repeat the first packet. The tracker keys an event
//! on (SSRC, event timestamp) and reports it once, when it ends.

#![deny(
    clippy::indexing_slicing,
    clippy::arithmetic_side_effects,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic
)]

use crate::rtp::RtpPacket;

/// Why a payload is not an RFC 4733 telephone-event.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TelephoneEventError {
    /// Fewer than the 4 bytes of one event.
    #[error("telephone-event payload of {0} bytes is shorter than 4")]
    TooShort(usize),
}

impl TelephoneEventError {
    /// A stable identifier for this kind of error, such as `"dtmf-too-short"`.
    pub fn code(&self) -> &'static str {
        match self {
            TelephoneEventError::TooShort(_) => "dtmf-too-short",
        }
    }
}

/// A DTMF key: the sixteen events 0..=15 of RFC 4733 §3.2.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum DtmfDigit {
    /// 0
    D0,
    /// 1
    D1,
    /// 2
    D2,
    /// 3
    D3,
    /// 4
    D4,
    /// 5
    D5,
    /// 6
    D6,
    /// 7
    D7,
    /// 8
    D8,
    /// 9
    D9,
    /// `*`
    Star,
    /// `#`
    Hash,
    /// A
    A,
    /// B
    B,
    /// C
    C,
    /// D
    D,
}

const ALL_DIGITS: [DtmfDigit; 16] = [
    DtmfDigit::D0,
    DtmfDigit::D1,
    DtmfDigit::D2,
    DtmfDigit::D3,
    DtmfDigit::D4,
    DtmfDigit::D5,
    DtmfDigit::D6,
    DtmfDigit::D7,
    DtmfDigit::D8,
    DtmfDigit::D9,
    DtmfDigit::Star,
    DtmfDigit::Hash,
    DtmfDigit::A,
    DtmfDigit::B,
    DtmfDigit::C,
    DtmfDigit::D,
];

impl DtmfDigit {
    /// The digit for an RFC 4733 event code; `None` for codes above 15 (flash, tones...).
    pub fn from_event(code: u8) -> Option<DtmfDigit> {
        ALL_DIGITS.get(usize::from(code)).copied()
    }

    /// The RFC 4733 event code, 0..=15.
    pub fn event_code(self) -> u8 {
        self as u8
    }

    /// The key as a character: `'0'..='9'`, `'*'`, `'#'`, `'A'..='D'`.
    pub fn as_char(self) -> char {
        match self {
            DtmfDigit::Star => '*',
            DtmfDigit::Hash => '#',
            DtmfDigit::A => 'A',
            DtmfDigit::B => 'B',
            DtmfDigit::C => 'C',
            DtmfDigit::D => 'D',
            digit => char::from(b'0'.saturating_add(digit as u8)),
        }
    }

    /// The digit for a character (`'a'..='d'` accepted too); `None` for anything else.
    pub fn from_char(c: char) -> Option<DtmfDigit> {
        ALL_DIGITS.into_iter().find(|d| d.as_char() == c.to_ascii_uppercase())
    }

    /// The (row, column) frequencies in Hz of the tone pair.
    pub fn frequencies(self) -> (u32, u32) {
        const ROWS: [u32; 4] = [697, 770, 852, 941];
        const COLS: [u32; 4] = [1209, 1336, 1477, 1633];
        let (row, col) = match self {
            DtmfDigit::D1 => (0, 0),
            DtmfDigit::D2 => (0, 1),
            DtmfDigit::D3 => (0, 2),
            DtmfDigit::A => (0, 3),
            DtmfDigit::D4 => (1, 0),
            DtmfDigit::D5 => (1, 1),
            DtmfDigit::D6 => (1, 2),
            DtmfDigit::B => (1, 3),
            DtmfDigit::D7 => (2, 0),
            DtmfDigit::D8 => (2, 1),
            DtmfDigit::D9 => (2, 2),
            DtmfDigit::C => (2, 3),
            DtmfDigit::Star => (3, 0),
            DtmfDigit::D0 => (3, 1),
            DtmfDigit::Hash => (3, 2),
            DtmfDigit::D => (3, 3),
        };
        (
            ROWS.get(row).copied().unwrap_or_default(),
            COLS.get(col).copied().unwrap_or_default(),
        )
    }
}

/// One telephone-event as carried in an RTP payload (RFC 4733 §2.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TelephoneEvent {
    /// The event code (0..=15 are DTMF keys).
    pub event: u8,
    /// The E bit: this is (a retransmission of) the event's final packet.
    pub end: bool,
    /// Power level, 0..=63, in -dBm0.
    pub volume: u8,
    /// Duration so far, in RTP timestamp units from the event's timestamp.
    pub duration: u16,
}

impl TelephoneEvent {
    /// Parses the first event of a payload; further bytes (RFC 2198 style stacking
    /// is carried under another payload type) are ignored.
    pub fn parse(payload: &[u8]) -> Result<TelephoneEvent, TelephoneEventError> {
        match payload {
            [event, flags, d0, d1, ..] => Ok(TelephoneEvent {
                event: *event,
                end: flags & 0x80 != 0,
                volume: flags & 0x3F,
                duration: u16::from_be_bytes([*d0, *d1]),
            }),
            _ => Err(TelephoneEventError::TooShort(payload.len())),
        }
    }

    /// The 4-byte payload for this event.
    pub fn to_bytes(&self) -> [u8; 4] {
        let [d0, d1] = self.duration.to_be_bytes();
        [
            self.event,
            if self.end { 0x80 } else { 0 } | (self.volume & 0x3F),
            d0,
            d1,
        ]
    }
}

/// A key press reported by [`TelephoneEventTracker`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DigitEvent {
    /// The key.
    pub digit: DtmfDigit,
    /// The sending source.
    pub ssrc: u32,
    /// The RTP timestamp of the event's start.
    pub rtp_timestamp: u32,
    /// Duration in RTP timestamp units (long events that span several segments summed).
    pub duration: u32,
    /// Start, in ms from the tracker's origin timestamp.
    pub start_ms: i64,
    /// End, in ms from the tracker's origin timestamp.
    pub end_ms: i64,
    /// Power level of the last packet, in -dBm0.
    pub volume: u8,
    /// Whether an end packet was seen (false: cut off by a new event, SSRC or flush).
    pub ended: bool,
}

/// The event being received.
#[derive(Debug, Clone, Copy)]
struct ActiveEvent {
    digit: DtmfDigit,
    ssrc: u32,
    /// Timestamp of the event's first segment.
    start: u32,
    /// Timestamp of the current segment (differs from `start` for long events).
    segment: u32,
    /// Ticks before the current segment.
    previous_segments: u32,
    /// Largest duration seen in the current segment.
    duration: u16,
    volume: u8,
}

/// Turns telephone-event packets into [`DigitEvent`]s, each reported once.
///
/// Feed it every packet of the negotiated telephone-event payload type of one
/// stream, in arrival order. Times are RTP timestamp differences from an origin:
/// the first packet's timestamp unless [`TelephoneEventTracker::set_origin`] names
/// one (e.g. the first audio timestamp of the stream).
#[derive(Debug, Clone)]
pub struct TelephoneEventTracker {
    clock_rate: u32,
    origin: Option<u32>,
    active: Option<ActiveEvent>,
    /// (SSRC, start timestamp) of the last reported event: its late or
    /// retransmitted packets are ignored.
    last_reported: Option<(u32, u32)>,
}

impl TelephoneEventTracker {
    /// A tracker for events whose timestamps run at `clock_rate` Hz (usually 8000).
    pub fn new(clock_rate: u32) -> TelephoneEventTracker {
        TelephoneEventTracker {
            clock_rate: clock_rate.max(1),
            origin: None,
            active: None,
            last_reported: None,
        }
    }

    /// Sets the RTP timestamp that `start_ms`/`end_ms` count from.
    pub fn set_origin(&mut self, rtp_timestamp: u32) {
        self.origin = Some(rtp_timestamp);
    }

    /// The key being held now, if any: (digit, start timestamp). Lets a caller act
    /// on a key before its end packet arrives.
    pub fn in_progress(&self) -> Option<(DtmfDigit, u32)> {
        self.active.map(|a| (a.digit, a.start))
    }

    /// Takes one telephone-event packet. Returns a key press when this packet
    /// completes one (its first end packet), or when it starts a new event that
    /// cuts off one whose end packets were all lost. Non-DTMF events (code > 15)
    /// are ignored.
    pub fn push(&mut self, packet: &RtpPacket<'_>) -> Result<Option<DigitEvent>, TelephoneEventError> {
        let event = TelephoneEvent::parse(packet.payload)?;
        self.origin.get_or_insert(packet.timestamp);
        let Some(digit) = DtmfDigit::from_event(event.event) else {
            return Ok(None);
        };
        let (ssrc, ts) = (packet.ssrc, packet.timestamp);
        if self.last_reported == Some((ssrc, ts)) || self.is_stale(ssrc, ts) {
            return Ok(None);
        }

        let mut cut_off = None;
        match self.active {
            Some(a) if a.ssrc == ssrc && a.segment == ts && a.digit == digit => {
                if let Some(active) = self.active.as_mut() {
                    active.duration = active.duration.max(event.duration);
                    active.volume = event.volume;
                }
            }
            // A long event continues in a new segment (RFC 4733 §2.5.1.3): same key,
            // no marker, timestamp where the previous segment ran out.
            Some(a) if a.ssrc == ssrc && a.digit == digit && !packet.marker && self.continues(a, ts) => {
                if let Some(active) = self.active.as_mut() {
                    active.previous_segments = active.previous_segments.saturating_add(ts.wrapping_sub(active.segment));
                    active.segment = ts;
                    active.duration = event.duration;
                    active.volume = event.volume;
                }
            }
            _ => {
                cut_off = self.active.take().map(|a| self.report(a, false));
                self.active = Some(ActiveEvent {
                    digit,
                    ssrc,
                    start: ts,
                    segment: ts,
                    previous_segments: 0,
                    duration: event.duration,
                    volume: event.volume,
                });
            }
        }

        if event.end {
            let ended = self.active.take().map(|a| self.report(a, true));
            // A cut-off event and this one ending in the same packet cannot both be
            // returned; the cut-off one had no end packet and is the rarer loss.
            return Ok(ended.or(cut_off));
        }
        Ok(cut_off)
    }

    /// Reports the event in progress, if any, as cut off (end of stream).
    pub fn flush(&mut self) -> Option<DigitEvent> {
        self.active.take().map(|a| self.report(a, false))
    }

    /// Whether `ts` continues `a` as a new segment of a long event.
    fn continues(&self, a: ActiveEvent, ts: u32) -> bool {
        let advance = ts.wrapping_sub(a.segment);
        advance > 0 && advance <= u32::from(a.duration).saturating_add(self.clock_rate / 10)
    }

    /// Whether a packet belongs to an event older than the last reported one.
    fn is_stale(&self, ssrc: u32, ts: u32) -> bool {
        match self.last_reported {
            Some((last_ssrc, last_ts)) if last_ssrc == ssrc => (ts.wrapping_sub(last_ts) as i32) < 0,
            _ => false,
        }
    }

    fn report(&mut self, a: ActiveEvent, ended: bool) -> DigitEvent {
        self.last_reported = Some((a.ssrc, a.segment));
        let duration = a.previous_segments.saturating_add(u32::from(a.duration));
        let origin = self.origin.unwrap_or(a.start);
        let start_ticks = i64::from(a.start.wrapping_sub(origin) as i32);
        let to_ms = |ticks: i64| {
            ticks
                .saturating_mul(1000)
                .checked_div(i64::from(self.clock_rate))
                .unwrap_or(0)
        };
        DigitEvent {
            digit: a.digit,
            ssrc: a.ssrc,
            rtp_timestamp: a.start,
            duration,
            start_ms: to_ms(start_ticks),
            end_ms: to_ms(start_ticks.saturating_add(i64::from(duration))),
            volume: a.volume,
            ended,
        }
    }
}
