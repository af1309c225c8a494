//! The stored form of a stream's audio: how the capture lays received frames into
//! chunks ([`append_stored_frame`]) and how an export turns the stored bytes back into
//! PCM16 ([`decode_stored`]).
//!
//! - G.711 (`pcmu`, `pcma`), G.722 (`g722`) and linear `pcm16`: one byte stream, the
//!   payloads concatenated as they arrived (gap fillers already carry codec silence).
//! - Opus (`opus`): packets are not self-delimiting once concatenated, so each frame is
//!   a record `u16 BE payload length`, `u16 BE duration in 48 kHz ticks`, payload. A
//!   lost stretch is a record with an empty payload; the decoder conceals it for its
//!   duration, so the timeline stays aligned with the other streams.
//!
//! Decoded rates: 8 kHz for G.711, 16 kHz for G.722, 48 kHz for Opus.

use crate::codec::{AudioCodec, CodecError};
use crate::wav::{SampleEncoding, decode_to_pcm16};

/// Why stored audio could not be decoded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum StoredAudioError {
    /// The stored codec name is none this version can decode.
    #[error("stored codec {0:?} cannot be decoded")]
    UnknownCodec(String),
    /// An Opus record runs past the end of the stream (a damaged or foreign layout).
    #[error("stored Opus frames are cut off at byte {0}")]
    TruncatedFrame(usize),
    /// The codec refused a frame.
    #[error(transparent)]
    Codec(#[from] CodecError),
}

impl StoredAudioError {
    /// A stable identifier (`"codec-unsupported"`, `"stored-frame-truncated"`, or the codec's own).
    pub fn code(&self) -> &'static str {
        match self {
            StoredAudioError::UnknownCodec(_) => "codec-unsupported",
            StoredAudioError::TruncatedFrame(_) => "stored-frame-truncated",
            StoredAudioError::Codec(err) => err.code(),
        }
    }
}

/// Decoded mono audio of one stream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredAudio {
    /// Samples per second of `samples`.
    pub sample_rate: u32,
    pub samples: Vec<i16>,
}

/// Bytes of an Opus record's header.
const OPUS_RECORD_HEADER: usize = 4;

/// Appends one frame of `codec` (its RTP payload, empty for a lost Opus stretch, and its
/// duration in RTP ticks) to `out` in the stored layout.
pub fn append_stored_frame(codec: AudioCodec, payload: &[u8], duration_ticks: u32, out: &mut Vec<u8>) {
    if codec != AudioCodec::Opus {
        out.extend_from_slice(payload);
        return;
    }
    // A payload beyond u16 cannot come from one RTP datagram of an Opus stream; it is
    // kept as a lost stretch rather than written in a form that cannot be read back.
    let (payload, mut ticks) = match u16::try_from(payload.len()) {
        Ok(_) => (payload, duration_ticks),
        Err(_) => (&[][..], duration_ticks),
    };
    let mut first = true;
    while first || ticks > 0 {
        let step = u16::try_from(ticks).unwrap_or(u16::MAX);
        let body = if first { payload } else { &[][..] };
        out.extend_from_slice(&u16::try_from(body.len()).unwrap_or(0).to_be_bytes());
        out.extend_from_slice(&step.to_be_bytes());
        out.extend_from_slice(body);
        ticks = ticks.saturating_sub(u32::from(step));
        first = false;
    }
}

/// The codec a stored stream was captured with, from its catalog name.
fn captured_codec(name: &str) -> Option<AudioCodec> {
    match name.to_ascii_lowercase().as_str() {
        "g722" => Some(AudioCodec::G722),
        "opus" => Some(AudioCodec::Opus),
        _ => None,
    }
}

/// Decodes a stored stream (its catalog codec name and its bytes) to mono PCM16.
pub fn decode_stored(codec_name: &str, stored_rate: u32, bytes: &[u8]) -> Result<StoredAudio, StoredAudioError> {
    if let Some(encoding) = SampleEncoding::from_codec_name(codec_name) {
        return Ok(StoredAudio {
            sample_rate: stored_rate,
            samples: decode_to_pcm16(encoding, bytes),
        });
    }
    let codec = captured_codec(codec_name).ok_or_else(|| StoredAudioError::UnknownCodec(codec_name.to_owned()))?;
    let mut decoder = codec.decoder()?;
    let mut samples = Vec::new();
    match codec {
        AudioCodec::Opus => decode_opus_records(&mut decoder, bytes, &mut samples)?,
        _ => {
            decoder.decode_into(bytes, &mut samples)?;
        }
    }
    Ok(StoredAudio {
        sample_rate: codec.sample_rate(),
        samples,
    })
}

fn decode_opus_records(
    decoder: &mut crate::codec::AudioDecoder,
    bytes: &[u8],
    out: &mut Vec<i16>,
) -> Result<(), StoredAudioError> {
    let mut at = 0usize;
    while at < bytes.len() {
        let header = bytes
            .get(at..at.saturating_add(OPUS_RECORD_HEADER))
            .ok_or(StoredAudioError::TruncatedFrame(at))?;
        let len = usize::from(u16::from_be_bytes([header[0], header[1]]));
        let ticks = u32::from(u16::from_be_bytes([header[2], header[3]]));
        let start = at.saturating_add(OPUS_RECORD_HEADER);
        let payload = bytes
            .get(start..start.saturating_add(len))
            .ok_or(StoredAudioError::TruncatedFrame(at))?;
        let before = out.len();
        // A frame libopus cannot decode is concealed for its duration: one damaged
        // packet must not make the rest of the call unreadable.
        if payload.is_empty() || decoder.decode_into(payload, out).is_err() {
            out.truncate(before);
            decoder.conceal_into(ticks, out)?;
        }
        at = start.saturating_add(len);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::codec::{G722Encoder, OpusEncoder};

    fn tone(rate: u32, hz: f64, samples: usize) -> Vec<i16> {
        (0..samples)
            .map(|i| ((2.0 * std::f64::consts::PI * hz * i as f64 / f64::from(rate)).sin() * 8000.0) as i16)
            .collect()
    }

    /// Energy at `hz` relative to the total (Goertzel), 0..1.
    fn share_at(samples: &[i16], rate: u32, hz: f64) -> f64 {
        let w = 2.0 * std::f64::consts::PI * hz / f64::from(rate);
        let (mut s1, mut s2) = (0.0f64, 0.0f64);
        for &x in samples {
            let s0 = f64::from(x) + 2.0 * w.cos() * s1 - s2;
            s2 = s1;
            s1 = s0;
        }
        let power = s1 * s1 + s2 * s2 - 2.0 * w.cos() * s1 * s2;
        let total: f64 = samples.iter().map(|&x| f64::from(x) * f64::from(x)).sum();
        2.0 * power / (samples.len() as f64 * total.max(1.0))
    }

    #[test]
    fn g722_stored_bytes_decode_at_16_khz() {
        let pcm = tone(16000, 1000.0, 16000);
        let mut bytes = Vec::new();
        G722Encoder::new().encode(&pcm, &mut bytes);
        let mut stored = Vec::new();
        for frame in bytes.chunks(160) {
            append_stored_frame(AudioCodec::G722, frame, 160, &mut stored);
        }
        assert_eq!(stored, bytes, "G.722 is stored as received");
        let audio = decode_stored("g722", 8000, &stored).unwrap();
        assert_eq!(audio.sample_rate, 16000);
        assert_eq!(audio.samples.len(), 16000);
        let share = share_at(&audio.samples[800..], 16000, 1000.0);
        assert!(share > 0.8, "1 kHz holds {share:.2} of the energy");
    }

    #[test]
    fn opus_frames_keep_their_boundaries_and_gaps_are_concealed() {
        let pcm = tone(48000, 1000.0, 48000);
        let mut encoder = OpusEncoder::new(48000, 32000).unwrap();
        let mut stored = Vec::new();
        for (i, frame) in pcm.chunks(960).enumerate() {
            let packet = encoder.encode(frame).unwrap();
            // Packet 10 is lost: an empty record of its duration.
            let payload = if i == 10 { Vec::new() } else { packet };
            append_stored_frame(AudioCodec::Opus, &payload, 960, &mut stored);
        }
        let audio = decode_stored("opus", 48000, &stored).unwrap();
        assert_eq!(audio.sample_rate, 48000);
        assert_eq!(audio.samples.len(), 48000, "50 frames of 20 ms, the lost one concealed");
        let share = share_at(&audio.samples[9600..], 48000, 1000.0);
        assert!(share > 0.8, "1 kHz holds {share:.2} of the energy");
    }

    #[test]
    fn long_opus_gaps_are_split_and_cut_records_refused() {
        let mut stored = Vec::new();
        append_stored_frame(AudioCodec::Opus, &[], 70_000, &mut stored);
        assert_eq!(stored.len(), 8, "two records: 65535 + 4465 ticks");
        let audio = decode_stored("opus", 48000, &stored).unwrap();
        assert_eq!(audio.samples.len(), 70_000);
        let mut cut = Vec::new();
        append_stored_frame(AudioCodec::Opus, &[1, 2, 3], 960, &mut cut);
        cut.pop();
        assert_eq!(
            decode_stored("opus", 48000, &cut).unwrap_err(),
            StoredAudioError::TruncatedFrame(0)
        );
    }

    #[test]
    fn names() {
        let cases: &[(&str, Option<u32>)] = &[
            ("pcma", Some(8000)),
            ("PCMU", Some(8000)),
            ("pcm16", Some(8000)),
            ("g722", Some(16000)),
            ("opus", Some(48000)),
            ("mp3", None),
        ];
        for &(name, rate) in cases {
            assert_eq!(
                decode_stored(name, 8000, &[]).ok().map(|a| a.sample_rate),
                rate,
                "{name}"
            );
        }
    }
}
