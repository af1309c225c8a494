//! The WAV writer: canonical headers for PCM16, and format tag 6/7 files for G.711.

use super::{SampleEncoding, WavAudio};

const WAVE_FORMAT_PCM: u16 = 0x0001;
const WAVE_FORMAT_ALAW: u16 = 0x0006;
const WAVE_FORMAT_MULAW: u16 = 0x0007;

/// Writes 16-bit PCM channels as a canonical 44-byte-header WAV file.
///
/// Channels are interleaved; a channel shorter than the longest is padded with
/// silence (0). An empty `channels` slice gives a valid mono file with no samples.
/// At most `u16::MAX` channels are written; any further ones are ignored.
pub fn write_wav_pcm16(sample_rate: u32, channels: &[Vec<i16>]) -> Vec<u8> {
    let channels = channels.get(..usize::from(u16::MAX)).unwrap_or(channels);
    let count = u16::try_from(channels.len()).unwrap_or(u16::MAX).max(1);
    let frames = channels.iter().map(Vec::len).max().unwrap_or(0);
    let data_len = frames.saturating_mul(channels.len()).saturating_mul(2);
    let mut out = header(SampleEncoding::Pcm16, sample_rate, count, data_len);
    out.reserve(data_len);
    for i in 0..frames {
        for channel in channels {
            let sample = channel.get(i).copied().unwrap_or(0);
            out.extend_from_slice(&sample.to_le_bytes());
        }
    }
    out
}

/// Writes `audio` in its own encoding, with `audio.data` copied verbatim.
///
/// PCM16 gets the canonical 44-byte header. µ-law and A-law get format tag 7 or 6
/// with an 18-byte `fmt ` chunk (`cbSize` = 0) followed by the `fact` chunk that
/// non-PCM formats require. An odd-sized data chunk is followed by a pad byte.
/// Sizes too large for 32 bits are written as 0xFFFFFFFF, which [`super::parse_wav`]
/// reads as "data runs to end of file".
pub fn write_wav(audio: &WavAudio) -> Vec<u8> {
    let mut out = header(audio.encoding, audio.sample_rate, audio.channels, audio.data.len());
    out.extend_from_slice(&audio.data);
    if audio.data.len() % 2 == 1 {
        out.push(0);
    }
    out
}

fn size_field(len: usize) -> u32 {
    u32::try_from(len).unwrap_or(u32::MAX)
}

/// Everything up to and including the `data` chunk header.
fn header(encoding: SampleEncoding, sample_rate: u32, channels: u16, data_len: usize) -> Vec<u8> {
    let bytes_per_sample = encoding.bytes_per_sample();
    let block_align = bytes_per_sample.saturating_mul(usize::from(channels));
    let (tag, fmt_len, fact) = match encoding {
        SampleEncoding::Pcm16 => (WAVE_FORMAT_PCM, 16usize, false),
        SampleEncoding::MuLaw => (WAVE_FORMAT_MULAW, 18, true),
        SampleEncoding::ALaw => (WAVE_FORMAT_ALAW, 18, true),
    };
    let padded_data = data_len.saturating_add(data_len % 2);
    // "WAVE" + fmt chunk + optional fact chunk + data chunk header and body.
    let riff_len = (4 + 8 + fmt_len + if fact { 12 } else { 0 } + 8).saturating_add(padded_data);

    let mut out = Vec::with_capacity(riff_len.min(1 << 20).saturating_add(8));
    out.extend_from_slice(b"RIFF");
    out.extend_from_slice(&size_field(riff_len).to_le_bytes());
    out.extend_from_slice(b"WAVE");

    out.extend_from_slice(b"fmt ");
    out.extend_from_slice(&size_field(fmt_len).to_le_bytes());
    out.extend_from_slice(&tag.to_le_bytes());
    out.extend_from_slice(&channels.to_le_bytes());
    out.extend_from_slice(&sample_rate.to_le_bytes());
    let byte_rate = sample_rate.saturating_mul(size_field(block_align));
    out.extend_from_slice(&byte_rate.to_le_bytes());
    out.extend_from_slice(&u16::try_from(block_align).unwrap_or(u16::MAX).to_le_bytes());
    let bits = u16::try_from(bytes_per_sample * 8).unwrap_or(u16::MAX);
    out.extend_from_slice(&bits.to_le_bytes());
    if fmt_len == 18 {
        out.extend_from_slice(&0u16.to_le_bytes()); // cbSize: no extra format bytes
    }

    if fact {
        let frames = data_len.checked_div(block_align).unwrap_or(0);
        out.extend_from_slice(b"fact");
        out.extend_from_slice(&4u32.to_le_bytes());
        out.extend_from_slice(&size_field(frames).to_le_bytes());
    }

    out.extend_from_slice(b"data");
    out.extend_from_slice(&size_field(data_len).to_le_bytes());
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pcm16_header_is_canonical() {
        let bytes = write_wav_pcm16(8000, &[vec![1, -1], vec![7]]);
        assert_eq!(bytes.len(), 44 + 8);
        assert_eq!(&bytes[0..4], b"RIFF");
        assert_eq!(u32::from_le_bytes(bytes[4..8].try_into().unwrap()), 44);
        assert_eq!(&bytes[8..16], b"WAVEfmt ");
        assert_eq!(u32::from_le_bytes(bytes[16..20].try_into().unwrap()), 16);
        assert_eq!(&bytes[36..40], b"data");
        assert_eq!(u32::from_le_bytes(bytes[40..44].try_into().unwrap()), 8);
        // Frame 0: (1, 7); frame 1: (-1, 0 padding).
        assert_eq!(&bytes[44..], &[1, 0, 7, 0, 0xFF, 0xFF, 0, 0]);
    }

    #[test]
    fn g711_header_has_cb_size_and_fact() {
        let audio = WavAudio {
            encoding: SampleEncoding::MuLaw,
            sample_rate: 8000,
            channels: 1,
            data: vec![0xFF; 3],
        };
        let bytes = write_wav(&audio);
        assert_eq!(&bytes[12..20], b"fmt \x12\0\0\0");
        assert_eq!(&bytes[20..22], &[7, 0]);
        assert_eq!(&bytes[36..38], &[0, 0], "cbSize");
        assert_eq!(&bytes[38..50], b"fact\x04\0\0\0\x03\0\0\0");
        assert_eq!(&bytes[50..58], b"data\x03\0\0\0");
        assert_eq!(bytes.len(), 58 + 3 + 1, "odd data gets a pad byte");
        assert_eq!(u32::from_le_bytes(bytes[4..8].try_into().unwrap()), 62 - 8);
    }

    #[test]
    fn no_channels_gives_empty_mono_file() {
        let bytes = write_wav_pcm16(16000, &[]);
        assert_eq!(bytes.len(), 44);
        assert_eq!(&bytes[22..24], &[1, 0]);
    }
}
