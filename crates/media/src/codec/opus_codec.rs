//! Opus through libopus (the `opus` crate, linked to the system library through
//! pkg-config): a mono decoder with packet loss concealment, and an encoder for
//! exports and tests.

use super::CodecError;
use super::opus_packet::OPUS_MAX_PACKET_SAMPLES;

/// The sample rate Opus RTP streams are decoded at (the RTP clock of Opus, RFC 7587).
pub const OPUS_SAMPLE_RATE: u32 = 48_000;

fn opus_error(operation: &'static str) -> impl FnOnce(::opus::Error) -> CodecError {
    move |e| CodecError::Opus {
        operation,
        reason: e.description(),
    }
}

/// Decodes Opus packets to mono PCM16 at 48 kHz.
pub struct OpusDecoder {
    inner: ::opus::Decoder,
    scratch: Box<[i16]>,
}

impl std::fmt::Debug for OpusDecoder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OpusDecoder").finish_non_exhaustive()
    }
}

impl OpusDecoder {
    /// A decoder at 48 kHz, mono (stereo packets are down-mixed by libopus).
    pub fn new() -> Result<OpusDecoder, CodecError> {
        let inner =
            ::opus::Decoder::new(OPUS_SAMPLE_RATE, ::opus::Channels::Mono).map_err(opus_error("decoder-create"))?;
        Ok(OpusDecoder {
            inner,
            scratch: vec![0; OPUS_MAX_PACKET_SAMPLES as usize].into_boxed_slice(),
        })
    }

    /// Decodes one packet, appending its samples to `out`; returns how many.
    pub fn decode(&mut self, packet: &[u8], out: &mut Vec<i16>) -> Result<usize, CodecError> {
        if packet.is_empty() {
            return Err(CodecError::EmptyPayload);
        }
        let n = self
            .inner
            .decode(packet, &mut self.scratch, false)
            .map_err(opus_error("decode"))?;
        out.extend_from_slice(self.scratch.get(..n).unwrap_or_default());
        Ok(n)
    }

    /// Appends `samples` of concealment (libopus PLC) for lost packets, in steps of
    /// at most 20 ms; a remainder below 2.5 ms is filled with zeros.
    pub fn conceal(&mut self, samples: usize, out: &mut Vec<i16>) -> Result<(), CodecError> {
        const STEP: usize = 960;
        const QUANTUM: usize = 120;
        let mut left = samples;
        while left >= QUANTUM {
            let step = left.min(STEP) / QUANTUM * QUANTUM;
            let buf = self.scratch.get_mut(..step).unwrap_or_default();
            let n = self.inner.decode(&[], buf, false).map_err(opus_error("conceal"))?;
            out.extend_from_slice(self.scratch.get(..n.min(step)).unwrap_or_default());
            if n == 0 {
                break;
            }
            left = left.saturating_sub(n.min(step));
        }
        out.extend(std::iter::repeat_n(0, left));
        Ok(())
    }
}

/// Encodes mono PCM16 to Opus packets (VoIP application).
pub struct OpusEncoder {
    inner: ::opus::Encoder,
    sample_rate: u32,
}

impl std::fmt::Debug for OpusEncoder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OpusEncoder")
            .field("sample_rate", &self.sample_rate)
            .finish_non_exhaustive()
    }
}

impl OpusEncoder {
    /// An encoder for mono input at `sample_rate` (8000, 12000, 16000, 24000 or 48000)
    /// and `bitrate` bits per second.
    pub fn new(sample_rate: u32, bitrate: i32) -> Result<OpusEncoder, CodecError> {
        let mut inner = ::opus::Encoder::new(sample_rate, ::opus::Channels::Mono, ::opus::Application::Voip)
            .map_err(opus_error("encoder-create"))?;
        inner
            .set_bitrate(::opus::Bitrate::Bits(bitrate))
            .map_err(opus_error("encoder-bitrate"))?;
        Ok(OpusEncoder { inner, sample_rate })
    }

    /// The input sample rate.
    pub fn sample_rate(&self) -> u32 {
        self.sample_rate
    }

    /// Encodes one frame (2.5, 5, 10, 20, 40 or 60 ms of samples) into a packet.
    pub fn encode(&mut self, frame: &[i16]) -> Result<Vec<u8>, CodecError> {
        self.inner.encode_vec(frame, 1500).map_err(opus_error("encode"))
    }
}
