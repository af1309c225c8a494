//! The RTP audio codecs a recorder receives (G.711 µ-law and A-law, G.722, Opus,
//! and linear L16), described by [`AudioCodec`] and decoded by [`AudioDecoder`].
//!
//! Stored audio keeps what arrived; decoding happens on export, so this module is
//! never on the per-packet path except for in-band DTMF detection.

pub mod g722;
pub mod opus_codec;
mod opus_packet;

use std::time::Duration;

pub use g722::{G722Decoder, G722Encoder};
pub use opus_codec::{OPUS_SAMPLE_RATE, OpusDecoder, OpusEncoder};
pub use opus_packet::{OPUS_MAX_PACKET_SAMPLES, opus_packet_samples};

use crate::g711;

/// Why audio could not be decoded or encoded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CodecError {
    /// libopus refused an operation.
    #[error("opus {operation} failed: {reason}")]
    Opus {
        /// What was attempted (`"decode"`, `"encoder-create"`...).
        operation: &'static str,
        /// libopus's description of the error.
        reason: &'static str,
    },
    /// An empty payload where audio was expected (use concealment for gaps).
    #[error("empty audio payload")]
    EmptyPayload,
    /// An L16 payload with an odd number of bytes.
    #[error("L16 payload of {0} bytes is not a whole number of samples")]
    PartialSample(usize),
}

impl CodecError {
    /// A stable identifier for this kind of error, such as `"codec-opus"`.
    pub fn code(&self) -> &'static str {
        match self {
            CodecError::Opus { .. } => "codec-opus",
            CodecError::EmptyPayload => "codec-empty-payload",
            CodecError::PartialSample(_) => "codec-partial-sample",
        }
    }
}

/// How payload bytes map onto RTP timestamp ticks, which the jitter buffer needs to
/// measure packets and fill gaps.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PayloadTiming {
    /// A fixed number of bytes per tick; a gap is filled with `silence` repeated.
    /// For L16 the silence is zero bytes.
    BytesPerTick {
        /// Bytes of payload per RTP tick.
        bytes: u8,
        /// The byte value that decodes to silence.
        silence: u8,
    },
    /// Self-describing frames (Opus): durations come from the packet's TOC; a gap is
    /// an empty payload that the decoder conceals.
    Frames,
}

/// An RTP audio payload format (mono).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AudioCodec {
    /// G.711 µ-law, 8 kHz (static payload type 0).
    Pcmu,
    /// G.711 A-law, 8 kHz (static payload type 8).
    Pcma,
    /// G.722 at 64 kbit/s, 16 kHz audio on an 8 kHz RTP clock (static payload type 9).
    G722,
    /// Opus, 48 kHz RTP clock (dynamic payload type, RFC 7587).
    Opus,
    /// Linear 16-bit big-endian PCM, mono, at `clock_rate` Hz (RFC 3551 L16).
    L16 {
        /// Samples per second, also the RTP clock.
        clock_rate: u32,
    },
}

/// The µ-law byte that decodes to 0 (+0).
pub const PCMU_SILENCE: u8 = 0xFF;
/// The A-law byte that decodes to the smallest positive level.
pub const PCMA_SILENCE: u8 = 0xD5;
/// The G.722 gap filler: the smallest-magnitude codes of both sub-bands (low 61,
/// high 3), which decode to near-zero samples and let the scale factors decay.
pub const G722_SILENCE: u8 = 0xFD;

impl AudioCodec {
    /// The codec for an SDP `a=rtpmap` encoding name and clock rate
    /// (case-insensitive: `PCMU/8000`, `PCMA/8000`, `G722/8000`, `opus/48000`, `L16/R`).
    pub fn from_rtpmap(encoding_name: &str, clock_rate: u32) -> Option<AudioCodec> {
        let name = encoding_name.to_ascii_lowercase();
        match (name.as_str(), clock_rate) {
            ("pcmu", 8000) => Some(AudioCodec::Pcmu),
            ("pcma", 8000) => Some(AudioCodec::Pcma),
            ("g722", 8000) => Some(AudioCodec::G722),
            ("opus", 48000) => Some(AudioCodec::Opus),
            ("l16", 8000..=48000) => Some(AudioCodec::L16 { clock_rate }),
            _ => None,
        }
    }

    /// The codec of a static RTP payload type (RFC 3551): 0, 8, 9, or 11 (L16 44.1 kHz mono).
    pub fn from_static_payload_type(payload_type: u8) -> Option<AudioCodec> {
        match payload_type {
            0 => Some(AudioCodec::Pcmu),
            8 => Some(AudioCodec::Pcma),
            9 => Some(AudioCodec::G722),
            11 => Some(AudioCodec::L16 { clock_rate: 44100 }),
            _ => None,
        }
    }

    /// The short name: `"pcmu"`, `"pcma"`, `"g722"`, `"opus"` or `"l16"`.
    pub fn name(&self) -> &'static str {
        match self {
            AudioCodec::Pcmu => "pcmu",
            AudioCodec::Pcma => "pcma",
            AudioCodec::G722 => "g722",
            AudioCodec::Opus => "opus",
            AudioCodec::L16 { .. } => "l16",
        }
    }

    /// The RTP timestamp clock in Hz.
    pub fn rtp_clock_rate(&self) -> u32 {
        match self {
            AudioCodec::Pcmu | AudioCodec::Pcma | AudioCodec::G722 => 8000,
            AudioCodec::Opus => OPUS_SAMPLE_RATE,
            AudioCodec::L16 { clock_rate } => *clock_rate,
        }
    }

    /// The sample rate of the decoded PCM in Hz (16000 for G.722, 48000 for Opus).
    pub fn sample_rate(&self) -> u32 {
        match self {
            AudioCodec::G722 => 16000,
            other => other.rtp_clock_rate(),
        }
    }

    /// How payload bytes relate to RTP ticks.
    pub fn payload_timing(&self) -> PayloadTiming {
        match self {
            AudioCodec::Pcmu => PayloadTiming::BytesPerTick {
                bytes: 1,
                silence: PCMU_SILENCE,
            },
            AudioCodec::Pcma => PayloadTiming::BytesPerTick {
                bytes: 1,
                silence: PCMA_SILENCE,
            },
            AudioCodec::G722 => PayloadTiming::BytesPerTick {
                bytes: 1,
                silence: G722_SILENCE,
            },
            AudioCodec::L16 { .. } => PayloadTiming::BytesPerTick { bytes: 2, silence: 0 },
            AudioCodec::Opus => PayloadTiming::Frames,
        }
    }

    /// The duration of one payload in RTP ticks; `None` for an Opus packet whose TOC
    /// is invalid.
    pub fn payload_ticks(&self, payload: &[u8]) -> Option<u32> {
        match self.payload_timing() {
            PayloadTiming::BytesPerTick { bytes, .. } => u32::try_from(payload.len() / usize::from(bytes.max(1))).ok(),
            PayloadTiming::Frames => opus_packet_samples(payload),
        }
    }

    /// Decoded samples per RTP tick (2 for G.722, else 1).
    pub fn samples_per_tick(&self) -> u32 {
        self.sample_rate() / self.rtp_clock_rate().max(1)
    }

    /// Decoded PCM silence lasting `duration` at [`AudioCodec::sample_rate`].
    pub fn silence_for(&self, duration: Duration) -> Vec<i16> {
        let samples = duration.as_micros().saturating_mul(u128::from(self.sample_rate())) / 1_000_000;
        vec![0; usize::try_from(samples).unwrap_or(usize::MAX)]
    }

    /// A fresh decoder for this codec.
    pub fn decoder(&self) -> Result<AudioDecoder, CodecError> {
        let state = match self {
            AudioCodec::Pcmu => DecoderState::Pcmu,
            AudioCodec::Pcma => DecoderState::Pcma,
            AudioCodec::G722 => DecoderState::G722(Box::default()),
            AudioCodec::Opus => DecoderState::Opus(Box::new(OpusDecoder::new()?)),
            AudioCodec::L16 { .. } => DecoderState::L16,
        };
        Ok(AudioDecoder { codec: *self, state })
    }
}

#[derive(Debug)]
enum DecoderState {
    Pcmu,
    Pcma,
    G722(Box<G722Decoder>),
    Opus(Box<OpusDecoder>),
    L16,
}

/// Decodes one stream's payloads, in order, to mono PCM16 at the codec's sample rate.
/// Stateful for G.722 and Opus: use one per stream.
#[derive(Debug)]
pub struct AudioDecoder {
    codec: AudioCodec,
    state: DecoderState,
}

impl AudioDecoder {
    /// The codec decoded.
    pub fn codec(&self) -> AudioCodec {
        self.codec
    }

    /// The sample rate of the output.
    pub fn sample_rate(&self) -> u32 {
        self.codec.sample_rate()
    }

    /// Decodes one payload into a new vector.
    pub fn decode(&mut self, payload: &[u8]) -> Result<Vec<i16>, CodecError> {
        let mut out = Vec::new();
        self.decode_into(payload, &mut out)?;
        Ok(out)
    }

    /// Decodes one payload, appending to `out`; returns the number of samples added.
    pub fn decode_into(&mut self, payload: &[u8], out: &mut Vec<i16>) -> Result<usize, CodecError> {
        let before = out.len();
        match &mut self.state {
            DecoderState::Pcmu => out.extend(payload.iter().map(|&b| g711::ulaw_decode(b))),
            DecoderState::Pcma => out.extend(payload.iter().map(|&b| g711::alaw_decode(b))),
            DecoderState::G722(decoder) => decoder.decode(payload, out),
            DecoderState::Opus(decoder) => {
                decoder.decode(payload, out)?;
            }
            DecoderState::L16 => {
                if !payload.len().is_multiple_of(2) {
                    return Err(CodecError::PartialSample(payload.len()));
                }
                out.extend(payload.chunks_exact(2).map(|p| i16::from_be_bytes([p[0], p[1]])));
            }
        }
        Ok(out.len() - before)
    }

    /// Appends audio for `ticks` RTP ticks of lost signal: libopus concealment for
    /// Opus, silence for the others (whose gap frames already carry silence bytes).
    pub fn conceal_into(&mut self, ticks: u32, out: &mut Vec<i16>) -> Result<(), CodecError> {
        let samples = usize::try_from(u64::from(ticks) * u64::from(self.codec.samples_per_tick())).unwrap_or(0);
        match &mut self.state {
            DecoderState::Opus(decoder) => decoder.conceal(samples, out),
            _ => {
                out.extend(std::iter::repeat_n(0, samples));
                Ok(())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rtpmap_names() {
        let cases: &[(&str, u32, Option<AudioCodec>)] = &[
            ("PCMU", 8000, Some(AudioCodec::Pcmu)),
            ("pcma", 8000, Some(AudioCodec::Pcma)),
            ("G722", 8000, Some(AudioCodec::G722)),
            ("G722", 16000, None),
            ("opus", 48000, Some(AudioCodec::Opus)),
            ("L16", 16000, Some(AudioCodec::L16 { clock_rate: 16000 })),
            ("telephone-event", 8000, None),
        ];
        for &(name, rate, expected) in cases {
            assert_eq!(AudioCodec::from_rtpmap(name, rate), expected, "{name}/{rate}");
        }
    }

    #[test]
    fn silence_bytes_decode_to_near_zero() {
        assert_eq!(g711::ulaw_decode(PCMU_SILENCE), 0);
        assert!(g711::alaw_decode(PCMA_SILENCE).abs() <= 8);
        let mut pcm = Vec::new();
        G722Decoder::new().decode(&[G722_SILENCE; 400], &mut pcm);
        let peak = pcm.iter().map(|s| s.unsigned_abs()).max().unwrap_or(0);
        assert!(peak <= 16, "G.722 silence peaks at {peak}");
        // After a full-scale square wave the predictor rings down below -54 dBFS
        // within 100 ms (0xFD does best of the small codes).
        let loud: Vec<i16> = (0..3200).map(|i| if i % 16 < 8 { 20000 } else { -20000 }).collect();
        let mut bytes = Vec::new();
        G722Encoder::new().encode(&loud, &mut bytes);
        bytes.extend([G722_SILENCE; 800]);
        let mut pcm = Vec::new();
        G722Decoder::new().decode(&bytes, &mut pcm);
        let tail_peak = pcm[pcm.len() - 1000..]
            .iter()
            .map(|s| s.unsigned_abs())
            .max()
            .unwrap_or(0);
        assert!(tail_peak <= 64, "G.722 silence after loud audio peaks at {tail_peak}");
    }
}
