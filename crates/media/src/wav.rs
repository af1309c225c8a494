//! WAV (RIFF/WAVE) audio: a strict, panic-free reader for untrusted uploads and a writer.
//!
//! Supported codecs are 16-bit little-endian PCM, G.711 µ-law and G.711 A-law, in
//! plain or `WAVE_FORMAT_EXTENSIBLE` form, with 1 to 8 channels at 8000 to 48000 Hz.
//! See [`parse_wav`] for exactly what the reader accepts and rejects.

mod error;
mod parse;
mod write;

pub use error::WavError;
pub use parse::parse_wav;
pub use write::{write_wav, write_wav_pcm16};

use crate::g711;

/// How the samples of a [`WavAudio`] are encoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SampleEncoding {
    /// 16-bit signed little-endian linear PCM.
    Pcm16,
    /// G.711 µ-law, one byte per sample.
    MuLaw,
    /// G.711 A-law, one byte per sample.
    ALaw,
}

impl SampleEncoding {
    /// The codec's short name: `"pcm16"`, `"pcmu"` or `"pcma"`.
    pub fn codec_name(&self) -> &'static str {
        match self {
            SampleEncoding::Pcm16 => "pcm16",
            SampleEncoding::MuLaw => "pcmu",
            SampleEncoding::ALaw => "pcma",
        }
    }

    /// The encoding for a name returned by [`SampleEncoding::codec_name`]
    /// (ASCII case-insensitive); `None` for anything else.
    pub fn from_codec_name(name: &str) -> Option<SampleEncoding> {
        [SampleEncoding::Pcm16, SampleEncoding::MuLaw, SampleEncoding::ALaw]
            .into_iter()
            .find(|e| e.codec_name().eq_ignore_ascii_case(name))
    }

    /// Bytes one sample of one channel takes: 2 for PCM16, 1 for µ-law and A-law.
    pub fn bytes_per_sample(&self) -> usize {
        match self {
            SampleEncoding::Pcm16 => 2,
            SampleEncoding::MuLaw | SampleEncoding::ALaw => 1,
        }
    }
}

/// Audio read from (or to be written to) a WAV file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WavAudio {
    /// How each sample is encoded.
    pub encoding: SampleEncoding,
    /// Frames per second.
    pub sample_rate: u32,
    /// Number of interleaved channels.
    pub channels: u16,
    /// Interleaved raw sample bytes exactly as stored in the file (PCM16 little-endian).
    pub data: Vec<u8>,
}

impl WavAudio {
    /// Bytes one sample of one channel takes.
    pub fn bytes_per_sample(&self) -> usize {
        self.encoding.bytes_per_sample()
    }

    /// Bytes one frame (one sample of every channel) takes.
    pub fn block_align(&self) -> usize {
        self.bytes_per_sample().saturating_mul(usize::from(self.channels))
    }

    /// Number of whole frames in `data`; 0 when `channels` is 0.
    pub fn frames(&self) -> u64 {
        match self.block_align() {
            0 => 0,
            align => (self.data.len() / align) as u64,
        }
    }

    /// Duration in whole milliseconds (rounded down); 0 when `sample_rate` is 0.
    pub fn duration_ms(&self) -> u64 {
        match u64::from(self.sample_rate) {
            0 => 0,
            rate => self.frames().saturating_mul(1000) / rate,
        }
    }

    /// Deinterleaves `data` into one byte vector per channel, keeping the encoding.
    ///
    /// A trailing partial frame (impossible for parsed audio) is ignored.
    pub fn split_channels(&self) -> Vec<Vec<u8>> {
        let channels = usize::from(self.channels);
        let bps = self.bytes_per_sample();
        let align = self.block_align();
        if align == 0 {
            return Vec::new();
        }
        let per_channel = self.data.len() / align * bps;
        let mut out: Vec<Vec<u8>> = (0..channels).map(|_| Vec::with_capacity(per_channel)).collect();
        for frame in self.data.chunks_exact(align) {
            for (channel, sample) in out.iter_mut().zip(frame.chunks_exact(bps)) {
                channel.extend_from_slice(sample);
            }
        }
        out
    }

    /// Decodes every channel to 16-bit linear PCM (see [`WavAudio::split_channels`]).
    pub fn to_pcm16_channels(&self) -> Vec<Vec<i16>> {
        self.split_channels()
            .iter()
            .map(|bytes| decode_to_pcm16(self.encoding, bytes))
            .collect()
    }
}

/// Decodes one channel's raw bytes to 16-bit linear PCM.
///
/// For PCM16 a trailing odd byte is ignored.
pub fn decode_to_pcm16(encoding: SampleEncoding, bytes: &[u8]) -> Vec<i16> {
    match encoding {
        SampleEncoding::Pcm16 => bytes
            .chunks_exact(2)
            .map(|pair| i16::from_le_bytes([pair[0], pair[1]]))
            .collect(),
        SampleEncoding::MuLaw => bytes.iter().map(|&b| g711::ulaw_decode(b)).collect(),
        SampleEncoding::ALaw => bytes.iter().map(|&b| g711::alaw_decode(b)).collect(),
    }
}

/// Encodes 16-bit linear PCM samples to one channel's raw bytes in `encoding`.
pub fn encode_from_pcm16(encoding: SampleEncoding, samples: &[i16]) -> Vec<u8> {
    match encoding {
        SampleEncoding::Pcm16 => samples.iter().flat_map(|s| s.to_le_bytes()).collect(),
        SampleEncoding::MuLaw => samples.iter().map(|&s| g711::ulaw_encode(s)).collect(),
        SampleEncoding::ALaw => samples.iter().map(|&s| g711::alaw_encode(s)).collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codec_names_round_trip() {
        for e in [SampleEncoding::Pcm16, SampleEncoding::MuLaw, SampleEncoding::ALaw] {
            assert_eq!(SampleEncoding::from_codec_name(e.codec_name()), Some(e));
        }
        assert_eq!(SampleEncoding::from_codec_name("PCMU"), Some(SampleEncoding::MuLaw));
        assert_eq!(SampleEncoding::from_codec_name("mp3"), None);
    }

    #[test]
    fn split_channels_deinterleaves_pcm16() {
        let audio = WavAudio {
            encoding: SampleEncoding::Pcm16,
            sample_rate: 8000,
            channels: 2,
            data: vec![1, 0, 2, 0, 3, 0, 4, 0],
        };
        assert_eq!(audio.split_channels(), vec![vec![1, 0, 3, 0], vec![2, 0, 4, 0]]);
        assert_eq!(audio.to_pcm16_channels(), vec![vec![1, 3], vec![2, 4]]);
        assert_eq!(audio.frames(), 2);
    }

    #[test]
    fn helpers_do_not_panic_on_nonsense_fields() {
        let audio = WavAudio {
            encoding: SampleEncoding::MuLaw,
            sample_rate: 0,
            channels: 0,
            data: vec![1, 2, 3],
        };
        assert!(audio.split_channels().is_empty());
        assert_eq!(audio.duration_ms(), 0);
        assert_eq!(audio.frames(), 0);
    }

    #[test]
    fn duration_rounds_down() {
        let audio = WavAudio {
            encoding: SampleEncoding::ALaw,
            sample_rate: 8000,
            channels: 1,
            data: vec![0xD5; 8012],
        };
        assert_eq!(audio.duration_ms(), 1001);
    }

    #[test]
    fn decode_ignores_trailing_odd_byte() {
        assert_eq!(
            decode_to_pcm16(SampleEncoding::Pcm16, &[0xFF, 0x7F, 0x00, 0x80, 0x01]),
            vec![i16::MAX, i16::MIN]
        );
        assert_eq!(decode_to_pcm16(SampleEncoding::MuLaw, &[0xFF, 0x00]), vec![0, -32124]);
        assert_eq!(decode_to_pcm16(SampleEncoding::ALaw, &[0xD5, 0x55]), vec![8, -8]);
    }
}
