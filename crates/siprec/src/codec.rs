//! The audio codecs the recorder can receive, and how an offered payload type maps to one.

#![deny(
    clippy::indexing_slicing,
    clippy::arithmetic_side_effects,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic
)]

use crate::sdp::MediaDescription;

/// A codec the recorder can store and decode.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CodecKind {
    /// G.711 µ-law, static payload type 0.
    Pcmu,
    /// G.711 A-law, static payload type 8.
    Pcma,
    /// G.722, static payload type 9 (RTP clock 8000 Hz, sampled at 16000 Hz).
    G722,
    /// Opus (RFC 7587), dynamic payload type, always `opus/48000/2` in SDP.
    Opus,
}

impl CodecKind {
    /// Every supported codec, in the default preference order.
    pub const ALL: [CodecKind; 4] = [CodecKind::Pcmu, CodecKind::Pcma, CodecKind::G722, CodecKind::Opus];

    /// The SDP encoding name: `PCMU`, `PCMA`, `G722`, `opus`.
    pub fn name(&self) -> &'static str {
        match self {
            CodecKind::Pcmu => "PCMU",
            CodecKind::Pcma => "PCMA",
            CodecKind::G722 => "G722",
            CodecKind::Opus => "opus",
        }
    }

    /// The RTP clock rate in Hz (8000 for G.722, by RFC 3551's historical error).
    pub fn clock_rate(&self) -> u32 {
        match self {
            CodecKind::Pcmu | CodecKind::Pcma | CodecKind::G722 => 8000,
            CodecKind::Opus => 48000,
        }
    }

    /// The channel count written in SDP (Opus is always signalled as 2).
    pub fn channels(&self) -> u8 {
        match self {
            CodecKind::Opus => 2,
            _ => 1,
        }
    }

    /// The static payload type, for codecs that have one.
    pub fn static_payload_type(&self) -> Option<u8> {
        match self {
            CodecKind::Pcmu => Some(0),
            CodecKind::Pcma => Some(8),
            CodecKind::G722 => Some(9),
            CodecKind::Opus => None,
        }
    }

    /// Whether an `a=rtpmap` encoding (name, clock rate, channels) denotes this codec.
    fn matches(&self, encoding: &str, clock_rate: u32, channels: Option<u8>) -> bool {
        encoding.eq_ignore_ascii_case(self.name())
            && clock_rate == self.clock_rate()
            && channels.unwrap_or(1) == self.channels()
    }
}

/// The codec chosen for a stream: which one, and its payload type in this call.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Codec {
    /// Which codec.
    pub kind: CodecKind,
    /// The RTP payload type the sender uses for it.
    pub payload_type: u8,
    /// The RTP clock rate in Hz.
    pub clock_rate: u32,
    /// The channel count as signalled.
    pub channels: u8,
}

impl Codec {
    /// The SDP encoding name (`PCMU`…).
    pub fn name(&self) -> &'static str {
        self.kind.name()
    }

    fn new(kind: CodecKind, payload_type: u8) -> Codec {
        Codec {
            kind,
            payload_type,
            clock_rate: kind.clock_rate(),
            channels: kind.channels(),
        }
    }
}

/// The codec an offered payload type denotes, if it is one of `supported`: by its
/// `a=rtpmap` when present, else by the static payload type table.
pub fn codec_for_payload_type(media: &MediaDescription, payload_type: u8, supported: &[CodecKind]) -> Option<Codec> {
    let kind = match media.rtpmap(payload_type) {
        Some(map) => supported
            .iter()
            .copied()
            .find(|kind| kind.matches(&map.encoding, map.clock_rate, map.channels))?,
        None => supported
            .iter()
            .copied()
            .find(|kind| kind.static_payload_type() == Some(payload_type))?,
    };
    Some(Codec::new(kind, payload_type))
}

/// The first offered payload type (in the offer's order) that is a supported codec.
pub fn choose_codec(media: &MediaDescription, supported: &[CodecKind]) -> Option<Codec> {
    media
        .payload_types()
        .into_iter()
        .find_map(|pt| codec_for_payload_type(media, pt, supported))
}

/// The offered `telephone-event` payload type to keep: the one whose clock rate matches the
/// chosen codec's (RFC 4733 §2.1), else the first offered.
pub fn choose_telephone_event(media: &MediaDescription, codec: &Codec) -> Option<u8> {
    let events: Vec<(u8, u32)> = media
        .payload_types()
        .into_iter()
        .filter_map(|pt| {
            let map = media.rtpmap(pt)?;
            map.encoding
                .eq_ignore_ascii_case("telephone-event")
                .then_some((pt, map.clock_rate))
        })
        .collect();
    events
        .iter()
        .find(|(_, rate)| *rate == codec.clock_rate)
        .or(events.first())
        .map(|(pt, _)| *pt)
}
