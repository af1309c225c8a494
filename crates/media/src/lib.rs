//! Audio media handling for callvault: G.711 companding and WAV reading/writing.
//!
//! [`parse_wav`] is a strict, panic-free reader meant for untrusted uploads; the
//! writers produce canonical files that it (and common tools) read back.

pub mod g711;
pub mod wav;

pub use g711::{alaw_decode, alaw_encode, ulaw_decode, ulaw_encode};
pub use wav::{
    SampleEncoding, WavAudio, WavError, decode_to_pcm16, encode_from_pcm16, parse_wav, write_wav, write_wav_pcm16,
};
