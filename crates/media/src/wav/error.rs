//! Errors returned by the WAV reader, each with a stable machine-readable code.

/// Why a byte buffer could not be accepted as a supported WAV file.
///
/// The `Display` text names what is wrong for a person; [`WavError::code`] gives a
/// stable identifier for programs (API error bodies, metrics labels).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum WavError {
    /// The input has no bytes at all.
    #[error("empty file: expected a RIFF/WAVE file")]
    Empty,
    /// The input does not start with a little-endian `RIFF....WAVE` header.
    #[error("not a RIFF/WAVE file: {0}")]
    NotRiff(String),
    /// The input ends before a header or a chunk it declares.
    #[error("WAV file is truncated: {0}")]
    Truncated(String),
    /// The codec is recognised as something other than PCM 16-bit, µ-law or A-law.
    #[error("unsupported WAV codec: {0}; supported: PCM 16-bit, µ-law, A-law")]
    UnsupportedCodec(String),
    /// The `fmt ` chunk is missing, too short, duplicated or inconsistent.
    #[error("malformed WAV format: {0}")]
    BadFormat(String),
    /// There is no `data` chunk, or it holds no samples.
    #[error("WAV file has no audio data: {0}")]
    NoData(String),
    /// More channels than the reader accepts.
    #[error("WAV file has {0} channels; at most 8 are supported")]
    TooManyChannels(u16),
    /// A sample rate outside the accepted range.
    #[error("unsupported WAV sample rate {0} Hz; supported: 8000 to 48000 Hz")]
    BadSampleRate(u32),
    /// The data length is not a whole number of frames.
    #[error("WAV data chunk holds {len} bytes, not a whole number of {block_align}-byte frames")]
    MisalignedData {
        /// Length of the data chunk in bytes.
        len: usize,
        /// Bytes per frame (all channels of one sample instant).
        block_align: usize,
    },
}

impl WavError {
    /// A stable identifier for this kind of error, such as `"wav-truncated"`.
    pub fn code(&self) -> &'static str {
        match self {
            WavError::Empty => "wav-empty",
            WavError::NotRiff(_) => "wav-not-riff",
            WavError::Truncated(_) => "wav-truncated",
            WavError::UnsupportedCodec(_) => "wav-unsupported-codec",
            WavError::BadFormat(_) => "wav-bad-format",
            WavError::NoData(_) => "wav-no-data",
            WavError::TooManyChannels(_) => "wav-too-many-channels",
            WavError::BadSampleRate(_) => "wav-bad-sample-rate",
            WavError::MisalignedData { .. } => "wav-misaligned-data",
        }
    }
}

/// A human name for a WAVE format tag, for error messages.
pub(crate) fn format_tag_name(tag: u16) -> &'static str {
    match tag {
        0x0000 => "unknown",
        0x0001 => "PCM",
        0x0002 => "Microsoft ADPCM",
        0x0003 => "IEEE float",
        0x0006 => "A-law",
        0x0007 => "µ-law",
        0x0011 => "IMA ADPCM",
        0x0022 => "DSP Group TrueSpeech",
        0x0031 => "GSM 6.10",
        0x0040 => "G.721 ADPCM",
        0x0042 => "G.723.1",
        0x0050 => "MPEG",
        0x0055 => "MPEG Layer 3",
        0x0064 => "G.726 ADPCM",
        0x0065 => "G.722 ADPCM",
        0x0161..=0x0163 => "Windows Media Audio",
        0x1610 => "AAC",
        0x2000 => "AC-3",
        0x674F..=0x6751 | 0x676F..=0x6771 => "Ogg Vorbis",
        0xF1AC => "FLAC",
        0xFFFE => "WAVE_FORMAT_EXTENSIBLE",
        _ => "unrecognised",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn message_for_mp3_names_the_tag() {
        let err = WavError::UnsupportedCodec(format!("format tag 85 ({})", format_tag_name(0x55)));
        assert_eq!(
            err.to_string(),
            "unsupported WAV codec: format tag 85 (MPEG Layer 3); supported: PCM 16-bit, µ-law, A-law"
        );
        assert_eq!(err.code(), "wav-unsupported-codec");
    }
}
