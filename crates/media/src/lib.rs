//! Audio media handling for callvault: G.711 companding, WAV reading/writing, RTP and
//! RTCP parsing, per-stream RTP reception, RFC 4733 and in-band DTMF, and codecs.
//!
//! [`parse_wav`] is a strict, panic-free reader meant for untrusted uploads; the
//! writers produce canonical files that it (and common tools) read back. The RTP
//! side is pure: the recorder passes packets with their arrival times in and takes
//! frames out; nothing here reads a socket or a clock.

pub mod codec;
pub mod dtmf;
pub mod g711;
pub mod inband;
pub mod jitter;
pub mod ogg_opus;
pub mod rtcp;
pub mod rtp;
pub mod stored;
pub mod wav;

pub use codec::{AudioCodec, AudioDecoder, CodecError};
pub use dtmf::{DigitEvent, DtmfDigit, TelephoneEvent, TelephoneEventError, TelephoneEventTracker};
pub use g711::{alaw_decode, alaw_encode, ulaw_decode, ulaw_encode};
pub use inband::{InbandDetector, InbandDetectorConfig, InbandDigit};
pub use jitter::{Frame, FrameBatch, ReceiverConfig, ReceiverStats, StreamReceiver};
pub use rtcp::{RtcpCompound, RtcpError, RtcpPacket};
pub use rtp::{RtpError, RtpPacket};
pub use stored::{StoredAudio, StoredAudioError, append_stored_frame, decode_stored};
pub use wav::{
    SampleEncoding, WavAudio, WavError, decode_to_pcm16, encode_from_pcm16, parse_wav, write_wav, write_wav_pcm16,
};
