//! The RIFF/WAVE reader: walks chunks using bounds-checked reads only, so that no
//! input, however malformed, can make it panic or read out of bounds.

#![deny(
    clippy::indexing_slicing,
    clippy::arithmetic_side_effects,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic
)]

use super::error::{WavError, format_tag_name};
use super::{SampleEncoding, WavAudio};

const MIN_SAMPLE_RATE: u32 = 8000;
const MAX_SAMPLE_RATE: u32 = 48000;
const MAX_CHANNELS: u16 = 8;

const WAVE_FORMAT_PCM: u16 = 0x0001;
const WAVE_FORMAT_ALAW: u16 = 0x0006;
const WAVE_FORMAT_MULAW: u16 = 0x0007;
const WAVE_FORMAT_EXTENSIBLE: u16 = 0xFFFE;

/// Bytes 2..16 of every `KSDATAFORMAT_SUBTYPE_*` GUID derived from a format tag
/// (`{0000xxxx-0000-0010-8000-00AA00389B71}`); bytes 0..2 hold the tag.
const SUBFORMAT_GUID_TAIL: [u8; 14] = [
    0x00, 0x00, 0x00, 0x00, 0x10, 0x00, 0x80, 0x00, 0x00, 0xAA, 0x00, 0x38, 0x9B, 0x71,
];

/// Size field value that streaming writers leave when they never patch the header.
const UNKNOWN_SIZE: u32 = u32::MAX;

/// The validated contents of a `fmt ` chunk.
struct Format {
    encoding: SampleEncoding,
    sample_rate: u32,
    channels: u16,
    block_align: usize,
}

/// Where the `data` chunk's bytes come from.
enum Data<'a> {
    /// A chunk with a trustworthy declared size.
    Sized(&'a [u8]),
    /// A streaming chunk whose size was never written: everything to end of file.
    ToEof(&'a [u8]),
}

fn u16_at(bytes: &[u8], offset: usize) -> Option<u16> {
    bytes.get(offset..)?.first_chunk::<2>().map(|b| u16::from_le_bytes(*b))
}

fn u32_at(bytes: &[u8], offset: usize) -> Option<u32> {
    bytes.get(offset..)?.first_chunk::<4>().map(|b| u32::from_le_bytes(*b))
}

/// Parses a WAV file held in memory.
///
/// Accepts format tag 1 (PCM) at 16 bits, 6 (A-law) and 7 (µ-law) at 8 bits, and
/// `WAVE_FORMAT_EXTENSIBLE` (0xFFFE) whose subformat GUID is one of those; 1 to 8
/// channels; 8000 to 48000 Hz. Unknown chunks (`LIST`, `fact`, `cue `, ...) are
/// skipped, honouring the pad byte after odd-sized chunks (a pad byte missing at the
/// very end of the file is tolerated). The returned `data` is the data chunk's bytes.
///
/// Sizes are checked against the input: a chunk (including `data`) that declares
/// more bytes than remain is [`WavError::Truncated`], and a data length that is not a
/// whole number of frames is [`WavError::MisalignedData`]. The RIFF size field is not
/// trusted: chunks are read up to the end of the input, and reading stops once both
/// `fmt ` and `data` have been seen, so trailing bytes after them are ignored.
///
/// Streaming exception: writers that stream to a pipe leave size fields they never
/// patch. A `data` chunk whose size is 0xFFFFFFFF, or 0 while the RIFF size is also 0
/// or 0xFFFFFFFF, is taken to run to the end of the input; since such a recording may
/// have been cut mid-frame, a trailing partial frame is dropped there (and only there).
/// A data chunk of size 0 in a file whose RIFF size was written is simply empty.
///
/// The byte-rate field is not checked (nothing depends on it); the block-align field
/// must equal channels × bytes per sample.
pub fn parse_wav(bytes: &[u8]) -> Result<WavAudio, WavError> {
    let riff_size = check_riff_header(bytes)?;
    let mut rest = bytes.get(12..).unwrap_or_default();
    let mut format: Option<Format> = None;
    let mut data: Option<Data<'_>> = None;

    while format.is_none() || data.is_none() {
        let Some((header, after_header)) = rest.split_first_chunk::<8>() else {
            // Fewer than 8 bytes left: no further chunk; tolerate trailing junk.
            break;
        };
        let id = header.get(..4).unwrap_or_default();
        let size = u32_at(header, 4).unwrap_or_default();
        let is_data = id == b"data";

        if is_data && (size == UNKNOWN_SIZE || (size == 0 && (riff_size == 0 || riff_size == UNKNOWN_SIZE))) {
            if data.is_some() {
                return Err(WavError::BadFormat("more than one data chunk".into()));
            }
            data = Some(Data::ToEof(after_header));
            break;
        }

        let Some(body) = usize::try_from(size).ok().and_then(|len| after_header.get(..len)) else {
            return Err(WavError::Truncated(format!(
                "chunk \"{}\" declares {size} bytes but only {} remain",
                id.escape_ascii(),
                after_header.len()
            )));
        };

        if id == b"fmt " {
            if format.is_some() {
                return Err(WavError::BadFormat("more than one fmt chunk".into()));
            }
            format = Some(parse_fmt(body)?);
        } else if is_data {
            if data.is_some() {
                return Err(WavError::BadFormat("more than one data chunk".into()));
            }
            data = Some(Data::Sized(body));
        }

        let padded = body.len().saturating_add(body.len() & 1);
        rest = after_header.get(padded..).unwrap_or_default();
    }

    let format = format.ok_or_else(|| WavError::BadFormat("no fmt chunk".into()))?;
    let data = data.ok_or_else(|| WavError::NoData("no data chunk".into()))?;
    let samples = match data {
        Data::Sized(body) => {
            if body.len().checked_rem(format.block_align) != Some(0) {
                return Err(WavError::MisalignedData {
                    len: body.len(),
                    block_align: format.block_align,
                });
            }
            body
        }
        Data::ToEof(body) => {
            let whole = body
                .len()
                .checked_rem(format.block_align)
                .and_then(|partial| body.len().checked_sub(partial))
                .unwrap_or_default();
            body.get(..whole).unwrap_or_default()
        }
    };
    if samples.is_empty() {
        return Err(WavError::NoData("data chunk is empty".into()));
    }

    Ok(WavAudio {
        encoding: format.encoding,
        sample_rate: format.sample_rate,
        channels: format.channels,
        data: samples.to_vec(),
    })
}

/// Checks the 12-byte `RIFF <size> WAVE` header and returns the RIFF size field.
fn check_riff_header(bytes: &[u8]) -> Result<u32, WavError> {
    if bytes.is_empty() {
        return Err(WavError::Empty);
    }
    let magic = bytes.get(..4).unwrap_or(bytes);
    if magic != b"RIFF" {
        if b"RIFF".starts_with(magic) {
            return Err(truncated_header(bytes.len()));
        }
        let why = match magic {
            b"RIFX" => "big-endian RIFX files are not supported".to_string(),
            b"RF64" => "RF64 (64-bit RIFF) files are not supported".to_string(),
            _ => format!("file starts with \"{}\", expected \"RIFF\"", magic.escape_ascii()),
        };
        return Err(WavError::NotRiff(why));
    }
    let (Some(riff_size), Some(form)) = (u32_at(bytes, 4), bytes.get(8..12)) else {
        return Err(truncated_header(bytes.len()));
    };
    if form != b"WAVE" {
        return Err(WavError::NotRiff(format!(
            "RIFF form type is \"{}\", expected \"WAVE\"",
            form.escape_ascii()
        )));
    }
    Ok(riff_size)
}

fn truncated_header(len: usize) -> WavError {
    WavError::Truncated(format!("file is {len} bytes; a RIFF/WAVE header needs 12"))
}

/// Parses and validates the body of a `fmt ` chunk.
fn parse_fmt(body: &[u8]) -> Result<Format, WavError> {
    let too_short = || WavError::BadFormat(format!("fmt chunk is {} bytes; at least 16 are required", body.len()));
    let tag = u16_at(body, 0).ok_or_else(too_short)?;
    let channels = u16_at(body, 2).ok_or_else(too_short)?;
    let sample_rate = u32_at(body, 4).ok_or_else(too_short)?;
    let block_align = u16_at(body, 12).ok_or_else(too_short)?;
    let bits = u16_at(body, 14).ok_or_else(too_short)?;

    let codec = if tag == WAVE_FORMAT_EXTENSIBLE {
        extensible_subformat(body, bits)?
    } else {
        tag
    };
    let encoding = match (codec, bits) {
        (WAVE_FORMAT_PCM, 16) => SampleEncoding::Pcm16,
        (WAVE_FORMAT_PCM, _) => {
            return Err(WavError::UnsupportedCodec(format!("PCM {bits}-bit")));
        }
        (WAVE_FORMAT_MULAW, 8) => SampleEncoding::MuLaw,
        (WAVE_FORMAT_ALAW, 8) => SampleEncoding::ALaw,
        (WAVE_FORMAT_MULAW | WAVE_FORMAT_ALAW, _) => {
            return Err(WavError::BadFormat(format!(
                "{} with {bits} bits per sample; G.711 uses 8",
                format_tag_name(codec)
            )));
        }
        _ => {
            return Err(WavError::UnsupportedCodec(format!(
                "format tag {codec} ({})",
                format_tag_name(codec)
            )));
        }
    };

    if channels == 0 {
        return Err(WavError::BadFormat("fmt chunk declares 0 channels".into()));
    }
    if channels > MAX_CHANNELS {
        return Err(WavError::TooManyChannels(channels));
    }
    if !(MIN_SAMPLE_RATE..=MAX_SAMPLE_RATE).contains(&sample_rate) {
        return Err(WavError::BadSampleRate(sample_rate));
    }
    let expected_align = encoding.bytes_per_sample().saturating_mul(usize::from(channels));
    if usize::from(block_align) != expected_align {
        return Err(WavError::BadFormat(format!(
            "block align is {block_align} bytes; {channels} channel(s) of {} expect {expected_align}",
            encoding.codec_name()
        )));
    }
    Ok(Format {
        encoding,
        sample_rate,
        channels,
        block_align: expected_align,
    })
}

/// The format tag that a `WAVE_FORMAT_EXTENSIBLE` chunk's subformat GUID stands for.
fn extensible_subformat(body: &[u8], bits: u16) -> Result<u16, WavError> {
    let too_short = || {
        WavError::BadFormat(format!(
            "WAVE_FORMAT_EXTENSIBLE fmt chunk is {} bytes; 40 are required",
            body.len()
        ))
    };
    let extension_size = u16_at(body, 16).ok_or_else(too_short)?;
    if extension_size < 22 {
        return Err(WavError::BadFormat(format!(
            "WAVE_FORMAT_EXTENSIBLE extension is {extension_size} bytes; 22 are required"
        )));
    }
    let valid_bits = u16_at(body, 18).ok_or_else(too_short)?;
    let guid = body.get(24..40).ok_or_else(too_short)?;
    if guid.get(2..) != Some(&SUBFORMAT_GUID_TAIL[..]) {
        return Err(WavError::UnsupportedCodec(format!(
            "WAVE_FORMAT_EXTENSIBLE with unrecognised subformat GUID {}",
            guid.iter().map(|b| format!("{b:02x}")).collect::<String>()
        )));
    }
    if valid_bits > bits {
        return Err(WavError::BadFormat(format!(
            "{valid_bits} valid bits in a {bits}-bit container"
        )));
    }
    let tag = u16_at(guid, 0).ok_or_else(too_short)?;
    if tag == WAVE_FORMAT_EXTENSIBLE {
        return Err(WavError::BadFormat(
            "WAVE_FORMAT_EXTENSIBLE subformat names itself".into(),
        ));
    }
    Ok(tag)
}
