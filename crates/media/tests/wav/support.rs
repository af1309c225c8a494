//! Builders for synthetic WAV files and deterministic test signals.

use media::wav::{SampleEncoding, WavAudio, encode_from_pcm16, write_wav_pcm16};

pub const ENCODINGS: [SampleEncoding; 3] = [SampleEncoding::Pcm16, SampleEncoding::MuLaw, SampleEncoding::ALaw];

/// Builds a RIFF/WAVE file from chunks, adding pad bytes after odd-sized ones.
pub fn riff(chunks: &[(&[u8; 4], Vec<u8>)]) -> Vec<u8> {
    let mut body = b"WAVE".to_vec();
    for (id, data) in chunks {
        body.extend_from_slice(*id);
        body.extend_from_slice(&(data.len() as u32).to_le_bytes());
        body.extend_from_slice(data);
        if data.len() % 2 == 1 {
            body.push(0);
        }
    }
    let mut out = b"RIFF".to_vec();
    out.extend_from_slice(&(body.len() as u32).to_le_bytes());
    out.extend_from_slice(&body);
    out
}

/// A 16-byte `fmt ` body.
pub fn fmt(tag: u16, channels: u16, rate: u32, block_align: u16, bits: u16) -> Vec<u8> {
    let mut f = Vec::new();
    f.extend_from_slice(&tag.to_le_bytes());
    f.extend_from_slice(&channels.to_le_bytes());
    f.extend_from_slice(&rate.to_le_bytes());
    f.extend_from_slice(&(rate * u32::from(block_align)).to_le_bytes());
    f.extend_from_slice(&block_align.to_le_bytes());
    f.extend_from_slice(&bits.to_le_bytes());
    f
}

/// A 40-byte `WAVE_FORMAT_EXTENSIBLE` `fmt ` body whose subformat is `sub_tag`.
pub fn fmt_extensible(sub_tag: u16, channels: u16, rate: u32, bits: u16) -> Vec<u8> {
    let block_align = channels * bits / 8;
    let mut f = fmt(0xFFFE, channels, rate, block_align, bits);
    f.extend_from_slice(&22u16.to_le_bytes());
    f.extend_from_slice(&bits.to_le_bytes());
    f.extend_from_slice(&0u32.to_le_bytes()); // channel mask
    f.extend_from_slice(&sub_tag.to_le_bytes());
    f.extend_from_slice(&[
        0x00, 0x00, 0x00, 0x00, 0x10, 0x00, 0x80, 0x00, 0x00, 0xAA, 0x00, 0x38, 0x9B, 0x71,
    ]);
    f
}

pub fn pcm16_mono_fmt() -> Vec<u8> {
    fmt(1, 1, 8000, 2, 16)
}

/// A deterministic test tone: a triangle wave per channel, covering a wide range.
pub fn tone(len: usize, channel: usize) -> Vec<i16> {
    (0..len)
        .map(|i| {
            let phase = ((i * (channel + 3) * 997) % 65536) as i32;
            let tri = if phase < 32768 { phase } else { 65535 - phase };
            (tri * 2 - 32768) as i16
        })
        .collect()
}

pub fn interleave(channels: &[Vec<u8>], bps: usize) -> Vec<u8> {
    let frames = channels[0].len() / bps;
    let mut out = Vec::new();
    for f in 0..frames {
        for ch in channels {
            out.extend_from_slice(&ch[f * bps..(f + 1) * bps]);
        }
    }
    out
}

pub fn sample_audio(encoding: SampleEncoding, channels: u16, frames: usize) -> WavAudio {
    let per_channel: Vec<Vec<u8>> = (0..usize::from(channels))
        .map(|c| encode_from_pcm16(encoding, &tone(frames, c)))
        .collect();
    WavAudio {
        encoding,
        sample_rate: 8000,
        channels,
        data: interleave(&per_channel, encoding.bytes_per_sample()),
    }
}

/// Sets the little-endian u32 at `offset`.
pub fn patch_u32(mut bytes: Vec<u8>, offset: usize, value: u32) -> Vec<u8> {
    bytes[offset..offset + 4].copy_from_slice(&value.to_le_bytes());
    bytes
}

/// A mono PCM16 file with 10 frames; the data size field is at byte 40.
pub fn canonical() -> Vec<u8> {
    write_wav_pcm16(8000, &[tone(10, 0)])
}

/// xorshift64*: a tiny deterministic generator for the robustness loops.
pub struct Rng(pub u64);

impl Rng {
    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    pub fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}
