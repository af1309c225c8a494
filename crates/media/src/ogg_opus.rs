//! Ogg Opus files (RFC 7845) from PCM16: the export format that is small enough to
//! mail and plays everywhere.
//!
//! [`write_ogg_opus`] is pure: channels of samples and their rate in, the bytes of a
//! complete file out. One channel gives a mono file, two a stereo one (channel
//! mapping family 0); more are refused (mix them first).
//!
//! - Audio at a rate libopus accepts (8, 12, 16, 24 or 48 kHz) is encoded as it is;
//!   any other rate is first resampled to 48 kHz (windowed sinc).
//! - The identification header (`OpusHead`) carries the channel count, the encoder's
//!   lookahead as pre-skip and the original sample rate; the comment header
//!   (`OpusTags`) names libopus as the vendor. Each header is alone on its page.
//! - Audio packets are 20 ms; a page is closed after every second of audio. Granule
//!   positions count 48 kHz samples, pre-skip included; the last page (flagged
//!   end-of-stream) trims the padding, so its granule position is exactly pre-skip
//!   plus the input's length at 48 kHz.
//!
//! Page framing is the `ogg` crate's (CRC-32 with polynomial 0x04C11DB7).

use std::borrow::Cow;

use ogg::writing::{PacketWriteEndInfo, PacketWriter};

use crate::codec::{CodecError, OPUS_SAMPLE_RATE};

/// The default bit rate per channel in bits per second (24 kbit/s: transparent speech
/// at every bandwidth a call has).
pub const DEFAULT_BITRATE_PER_CHANNEL: i32 = 24_000;

/// The lowest and highest input sample rates accepted.
pub const SAMPLE_RATES: std::ops::RangeInclusive<u32> = 8_000..=192_000;

/// Audio packet duration: 20 ms, 50 packets a second.
const PACKETS_PER_SECOND: u32 = 50;
/// A page is closed after this many packets (one second of audio).
const PACKETS_PER_PAGE: u32 = PACKETS_PER_SECOND;
/// The largest Opus packet libopus writes is 1275 bytes per frame; room to spare.
const MAX_PACKET_BYTES: usize = 4000;

/// Why a file could not be written.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum OggOpusError {
    /// Ogg Opus with channel mapping family 0 holds one or two channels.
    #[error("Ogg Opus export holds 1 or 2 channels, not {0}")]
    Channels(usize),
    /// A sample rate outside [`SAMPLE_RATES`].
    #[error("sample rate {0} Hz is outside 8000 to 192000 Hz")]
    SampleRate(u32),
    /// libopus refused to create the encoder or to encode.
    #[error(transparent)]
    Codec(#[from] CodecError),
    /// The page writer failed (it writes to memory, so this is not expected).
    #[error("Ogg page writing failed")]
    Container,
}

impl OggOpusError {
    /// A stable identifier for this kind of error, such as `"ogg-opus-channels"`.
    pub fn code(&self) -> &'static str {
        match self {
            OggOpusError::Channels(_) => "ogg-opus-channels",
            OggOpusError::SampleRate(_) => "ogg-opus-sample-rate",
            OggOpusError::Codec(e) => e.code(),
            OggOpusError::Container => "ogg-opus-container",
        }
    }
}

/// Encodes one or two channels of PCM16 at `sample_rate` as an Ogg Opus file, at
/// [`DEFAULT_BITRATE_PER_CHANNEL`].
///
/// A channel shorter than the longest is padded with silence. An empty file (no
/// samples) is still a valid stream: both headers and one silent packet, trimmed to
/// nothing.
pub fn write_ogg_opus(sample_rate: u32, channels: &[Vec<i16>]) -> Result<Vec<u8>, OggOpusError> {
    write_ogg_opus_with_bitrate(sample_rate, channels, DEFAULT_BITRATE_PER_CHANNEL)
}

/// [`write_ogg_opus`] at `bitrate_per_channel` bits per second (libopus clamps it to
/// what it supports).
pub fn write_ogg_opus_with_bitrate(
    sample_rate: u32,
    channels: &[Vec<i16>],
    bitrate_per_channel: i32,
) -> Result<Vec<u8>, OggOpusError> {
    let opus_channels = match channels.len() {
        1 => ::opus::Channels::Mono,
        2 => ::opus::Channels::Stereo,
        n => return Err(OggOpusError::Channels(n)),
    };
    if !SAMPLE_RATES.contains(&sample_rate) {
        return Err(OggOpusError::SampleRate(sample_rate));
    }
    let count = channels.len();

    // Encode at the stored rate where libopus takes it, else at 48 kHz.
    let resampled: Vec<Vec<i16>>;
    let (rate, pcm): (u32, &[Vec<i16>]) = if matches!(sample_rate, 8_000 | 12_000 | 16_000 | 24_000 | 48_000) {
        (sample_rate, channels)
    } else {
        resampled = channels
            .iter()
            .map(|c| resample(c, sample_rate, OPUS_SAMPLE_RATE))
            .collect();
        (OPUS_SAMPLE_RATE, &resampled)
    };
    // 48 kHz samples per sample at `rate`: 6, 4, 3, 2 or 1.
    let scale = u64::from(OPUS_SAMPLE_RATE / rate);
    let frames = pcm.iter().map(Vec::len).max().unwrap_or(0);

    let mut encoder =
        ::opus::Encoder::new(rate, opus_channels, ::opus::Application::Voip).map_err(opus_error("encoder-create"))?;
    let bitrate = bitrate_per_channel.saturating_mul(if count == 2 { 2 } else { 1 });
    encoder
        .set_bitrate(::opus::Bitrate::Bits(bitrate))
        .map_err(opus_error("encoder-bitrate"))?;
    let lookahead = usize::try_from(encoder.get_lookahead().map_err(opus_error("encoder-lookahead"))?).unwrap_or(0);
    let pre_skip = u64::try_from(lookahead).unwrap_or(0) * scale;

    let serial = serial_number(sample_rate, pcm);
    let mut writer = PacketWriter::new(Vec::new());
    let head = opus_head(count, pre_skip, sample_rate);
    writer
        .write_packet(head, serial, PacketWriteEndInfo::EndPage, 0)
        .map_err(|_| OggOpusError::Container)?;
    writer
        .write_packet(opus_tags(), serial, PacketWriteEndInfo::EndPage, 0)
        .map_err(|_| OggOpusError::Container)?;

    // The decoder's output lags the input by the lookahead, so the input is followed
    // by that much silence (and padded to whole packets) for its end to come out.
    let frame = usize::try_from(rate / PACKETS_PER_SECOND).unwrap_or(1).max(1);
    let packets = frames.saturating_add(lookahead).div_ceil(frame).max(1);
    let end_granule = pre_skip + u64::try_from(frames).unwrap_or(u64::MAX) * scale;
    let mut interleaved = vec![0i16; frame * count];
    for index in 0..packets {
        let start = index * frame;
        for (i, slot) in interleaved.chunks_exact_mut(count).enumerate() {
            for (sample, channel) in slot.iter_mut().zip(pcm) {
                *sample = channel.get(start + i).copied().unwrap_or(0);
            }
        }
        let packet = encoder
            .encode_vec(&interleaved, MAX_PACKET_BYTES)
            .map_err(opus_error("encode"))?;
        let last = index + 1 == packets;
        let (end, granule) = if last {
            // The final page's granule position trims the padding (RFC 7845 4.5):
            // less than one packet, so positions still only grow.
            (PacketWriteEndInfo::EndStream, end_granule)
        } else {
            let info = if (index + 1) % PACKETS_PER_PAGE as usize == 0 {
                PacketWriteEndInfo::EndPage
            } else {
                PacketWriteEndInfo::NormalPacket
            };
            (info, u64::try_from((index + 1) * frame).unwrap_or(u64::MAX) * scale)
        };
        writer
            .write_packet(packet, serial, end, granule)
            .map_err(|_| OggOpusError::Container)?;
    }
    Ok(writer.into_inner())
}

fn opus_error(operation: &'static str) -> impl FnOnce(::opus::Error) -> CodecError {
    move |e| CodecError::Opus {
        operation,
        reason: e.description(),
    }
}

/// The identification header (RFC 7845 5.1), channel mapping family 0.
fn opus_head(channels: usize, pre_skip: u64, input_rate: u32) -> Cow<'static, [u8]> {
    let mut head = Vec::with_capacity(19);
    head.extend_from_slice(b"OpusHead");
    head.push(1); // version
    head.push(u8::try_from(channels).unwrap_or(2));
    head.extend_from_slice(&u16::try_from(pre_skip).unwrap_or(u16::MAX).to_le_bytes());
    head.extend_from_slice(&input_rate.to_le_bytes());
    head.extend_from_slice(&0i16.to_le_bytes()); // output gain
    head.push(0); // channel mapping family: mono or stereo
    Cow::Owned(head)
}

/// The comment header (RFC 7845 5.2): libopus as the vendor, one `ENCODER` tag.
fn opus_tags() -> Cow<'static, [u8]> {
    let vendor = ::opus::version().as_bytes();
    let comment = b"ENCODER=callvault";
    let mut tags = Vec::with_capacity(8 + 4 + vendor.len() + 4 + 4 + comment.len());
    tags.extend_from_slice(b"OpusTags");
    tags.extend_from_slice(&u32::try_from(vendor.len()).unwrap_or(0).to_le_bytes());
    tags.extend_from_slice(vendor);
    tags.extend_from_slice(&1u32.to_le_bytes());
    tags.extend_from_slice(&u32::try_from(comment.len()).unwrap_or(0).to_le_bytes());
    tags.extend_from_slice(comment);
    Cow::Owned(tags)
}

/// A stream serial number derived from the audio (FNV-1a), so the same input always
/// gives the same file.
fn serial_number(sample_rate: u32, channels: &[Vec<i16>]) -> u32 {
    let mut hash: u32 = 0x811c_9dc5;
    let mut feed = |bytes: &[u8]| {
        for &b in bytes {
            hash ^= u32::from(b);
            hash = hash.wrapping_mul(0x0100_0193);
        }
    };
    feed(&sample_rate.to_le_bytes());
    for channel in channels {
        feed(&u64::try_from(channel.len()).unwrap_or(0).to_le_bytes());
        for sample in channel {
            feed(&sample.to_le_bytes());
        }
    }
    hash
}

/// Taps on each side of the resampling filter, in samples of the lower rate.
const RESAMPLE_HALF_TAPS: usize = 16;
/// The most filter phases kept; ratios that need more use the nearest of this many.
const RESAMPLE_MAX_PHASES: u64 = 1024;

/// Resamples `input` from `from` Hz to `to` Hz with a Blackman-windowed sinc low-pass
/// at 45% of the lower rate, DC gain 1. The output has `ceil(len * to / from)` samples.
pub fn resample(input: &[i16], from: u32, to: u32) -> Vec<i16> {
    if from == to || from == 0 || to == 0 || input.is_empty() {
        return if from == to { input.to_vec() } else { Vec::new() };
    }
    let (from64, to64) = (u64::from(from), u64::from(to));
    let out_len =
        usize::try_from((u64::try_from(input.len()).unwrap_or(u64::MAX) * to64).div_ceil(from64)).unwrap_or(usize::MAX);
    // Output sample n sits at input position n * from / to: an integer part and a
    // fraction in 1/to steps, mapped onto `phases` filter phases.
    let exact = to64 / gcd(from64, to64);
    let phases = exact.min(RESAMPLE_MAX_PHASES);
    // Down-sampling widens the filter (in input samples) by the ratio.
    let widen = (from64 as f64 / to64 as f64).max(1.0);
    let half = (RESAMPLE_HALF_TAPS as f64 * widen).ceil() as usize;
    let taps = 2 * half;
    let cutoff = 0.45 / widen; // cycles per input sample
    let mut table = vec![0f32; usize::try_from(phases).unwrap_or(1) * taps];
    for (p, row) in table.chunks_exact_mut(taps).enumerate() {
        let frac = p as f64 / phases as f64;
        let mut sum = 0.0;
        let mut kernel = Vec::with_capacity(taps);
        for k in 0..taps {
            // Tap k weighs input sample (i - half + 1 + k) for position i + frac.
            let x = (k as f64 - (half as f64 - 1.0)) - frac;
            let w = x / half as f64;
            let window = if w.abs() >= 1.0 {
                0.0
            } else {
                0.42 + 0.5 * (std::f64::consts::PI * w).cos() + 0.08 * (2.0 * std::f64::consts::PI * w).cos()
            };
            let arg = 2.0 * cutoff * x;
            let sinc = if arg.abs() < 1e-12 {
                1.0
            } else {
                (std::f64::consts::PI * arg).sin() / (std::f64::consts::PI * arg)
            };
            let value = window * sinc;
            sum += value;
            kernel.push(value);
        }
        for (slot, value) in row.iter_mut().zip(&kernel) {
            *slot = (value / sum) as f32;
        }
    }
    let mut out = Vec::with_capacity(out_len);
    for n in 0..out_len {
        let position = u64::try_from(n).unwrap_or(u64::MAX) * from64;
        let mut whole = position / to64;
        let mut phase = ((position % to64) * phases + to64 / 2) / to64;
        if phase == phases {
            whole += 1;
            phase = 0;
        }
        let row = table
            .chunks_exact(taps)
            .nth(usize::try_from(phase).unwrap_or(0))
            .unwrap_or_default();
        let first = i64::try_from(whole).unwrap_or(i64::MAX) - (half as i64 - 1);
        let mut acc = 0f32;
        for (k, weight) in row.iter().enumerate() {
            let index = first + k as i64;
            if let Some(&sample) = usize::try_from(index).ok().and_then(|i| input.get(i)) {
                acc += weight * f32::from(sample);
            }
        }
        out.push(acc.round().clamp(f32::from(i16::MIN), f32::from(i16::MAX)) as i16);
    }
    out
}

fn gcd(mut a: u64, mut b: u64) -> u64 {
    while b != 0 {
        (a, b) = (b, a % b);
    }
    a.max(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// One parsed Ogg page.
    #[derive(Debug)]
    struct Page {
        flags: u8,
        granule: u64,
        serial: u32,
        sequence: u32,
        lacing: Vec<u8>,
        body: Vec<u8>,
    }

    fn crc32(bytes: &[u8]) -> u32 {
        let mut crc = 0u32;
        for &b in bytes {
            crc ^= u32::from(b) << 24;
            for _ in 0..8 {
                crc = if crc & 0x8000_0000 != 0 {
                    (crc << 1) ^ 0x04C1_1DB7
                } else {
                    crc << 1
                };
            }
        }
        crc
    }

    /// Splits a file into pages, checking capture patterns and CRCs.
    fn pages(file: &[u8]) -> Vec<Page> {
        let mut out = Vec::new();
        let mut at = 0;
        while at < file.len() {
            let page = &file[at..];
            assert_eq!(&page[..4], b"OggS", "capture pattern at {at}");
            assert_eq!(page[4], 0, "stream structure version");
            let segments = usize::from(page[26]);
            let lacing = page[27..27 + segments].to_vec();
            let body_len: usize = lacing.iter().map(|&l| usize::from(l)).sum();
            let len = 27 + segments + body_len;
            let mut copy = page[..len].to_vec();
            let stored = u32::from_le_bytes(copy[22..26].try_into().unwrap());
            copy[22..26].fill(0);
            assert_eq!(crc32(&copy), stored, "CRC of the page at {at}");
            out.push(Page {
                flags: page[5],
                granule: u64::from_le_bytes(page[6..14].try_into().unwrap()),
                serial: u32::from_le_bytes(page[14..18].try_into().unwrap()),
                sequence: u32::from_le_bytes(page[18..22].try_into().unwrap()),
                lacing,
                body: page[27 + segments..len].to_vec(),
            });
            at += len;
        }
        out
    }

    /// The packets of a page sequence, with the granule position of the page each ends on.
    fn packets(pages: &[Page]) -> Vec<(Vec<u8>, u64)> {
        let mut out = Vec::new();
        let mut partial: Vec<u8> = Vec::new();
        for page in pages {
            assert_eq!(page.flags & 0x01 != 0, !partial.is_empty(), "continuation flag");
            let mut at = 0;
            for &l in &page.lacing {
                partial.extend_from_slice(&page.body[at..at + usize::from(l)]);
                at += usize::from(l);
                if l < 255 {
                    out.push((std::mem::take(&mut partial), page.granule));
                }
            }
        }
        assert!(partial.is_empty(), "no unfinished packet at the end");
        out
    }

    struct Parsed {
        channels: usize,
        pre_skip: u64,
        input_rate: u32,
        pages: Vec<Page>,
        audio: Vec<Vec<u8>>,
    }

    fn parse(file: &[u8]) -> Parsed {
        let pages = pages(file);
        assert!(pages.len() >= 3, "head, tags and audio pages");
        let serial = pages[0].serial;
        for (i, page) in pages.iter().enumerate() {
            assert_eq!(page.serial, serial);
            assert_eq!(page.sequence as usize, i);
            assert_eq!(
                page.flags & 0x02 != 0,
                i == 0,
                "beginning-of-stream flag on the first page only"
            );
            assert_eq!(
                page.flags & 0x04 != 0,
                i + 1 == pages.len(),
                "end-of-stream flag on the last page only"
            );
        }
        // The headers are alone on their pages, with granule position 0.
        let head = &pages[0];
        assert_eq!((head.lacing.len(), head.granule), (1, 0));
        assert_eq!(&head.body[..8], b"OpusHead");
        assert_eq!(head.body.len(), 19);
        assert_eq!(head.body[8], 1, "version");
        assert_eq!(head.body[18], 0, "mapping family");
        let tags = &pages[1];
        assert_eq!(tags.granule, 0);
        assert_eq!(&tags.body[..8], b"OpusTags");
        let vendor_len = u32::from_le_bytes(tags.body[8..12].try_into().unwrap()) as usize;
        assert!(std::str::from_utf8(&tags.body[12..12 + vendor_len]).is_ok());
        let all = packets(&pages);
        assert!(all.len() >= 3, "head, tags and at least one audio packet");
        // Granule positions never go down (-1 would mean "no packet ends here").
        let mut last = 0;
        for page in &pages[2..] {
            assert_ne!(page.granule, u64::MAX);
            assert!(page.granule >= last, "granule positions grow");
            last = page.granule;
        }
        Parsed {
            channels: usize::from(head.body[9]),
            pre_skip: u64::from(u16::from_le_bytes([head.body[10], head.body[11]])),
            input_rate: u32::from_le_bytes(head.body[12..16].try_into().unwrap()),
            audio: all.into_iter().skip(2).map(|(p, _)| p).collect(),
            pages,
        }
    }

    /// Decodes to 48 kHz channels, pre-skip removed and trimmed to the final granule.
    fn decode(parsed: &Parsed) -> Vec<Vec<i16>> {
        let layout = if parsed.channels == 2 {
            ::opus::Channels::Stereo
        } else {
            ::opus::Channels::Mono
        };
        let mut decoder = ::opus::Decoder::new(48_000, layout).unwrap();
        let mut interleaved = Vec::new();
        let mut buf = vec![0i16; 5760 * parsed.channels];
        for packet in &parsed.audio {
            let n = decoder.decode(packet, &mut buf, false).unwrap();
            interleaved.extend_from_slice(&buf[..n * parsed.channels]);
        }
        let end = parsed.pages.last().unwrap().granule;
        assert!(
            end <= (interleaved.len() / parsed.channels) as u64,
            "the final granule is within the audio"
        );
        let start = parsed.pre_skip as usize;
        (0..parsed.channels)
            .map(|c| {
                interleaved
                    .iter()
                    .skip(c)
                    .step_by(parsed.channels)
                    .skip(start)
                    .take(end as usize - start)
                    .copied()
                    .collect()
            })
            .collect()
    }

    fn sine(freq: f64, rate: u32, seconds: f64, amplitude: f64) -> Vec<i16> {
        let n = (f64::from(rate) * seconds) as usize;
        (0..n)
            .map(|i| (amplitude * (2.0 * std::f64::consts::PI * freq * i as f64 / f64::from(rate)).sin()) as i16)
            .collect()
    }

    /// Normalised cross-correlation of `a` and `b` shifted by `lag` (b[i + lag] vs a[i]),
    /// over the middle of the signal (away from the edges).
    fn correlation(a: &[i16], b: &[i16], lag: isize) -> f64 {
        let n = a.len().min(b.len());
        let (mut ab, mut aa, mut bb) = (0.0, 0.0, 0.0);
        for (i, &x) in a.iter().enumerate().take(n - n / 10).skip(n / 10) {
            let j = i as isize + lag;
            if j < 0 || j as usize >= b.len() {
                continue;
            }
            let (x, y) = (f64::from(x), f64::from(b[j as usize]));
            ab += x * y;
            aa += x * x;
            bb += y * y;
        }
        ab / (aa * bb).sqrt().max(1.0)
    }

    fn best_lag(a: &[i16], b: &[i16]) -> (isize, f64) {
        (-40..=40)
            .map(|lag| (lag, correlation(a, b, lag)))
            .max_by(|x, y| x.1.total_cmp(&y.1))
            .unwrap()
    }

    #[test]
    fn mono_8k_file_is_well_formed_and_decodes_to_the_input() {
        let input = sine(440.0, 8000, 1.5, 8000.0);
        let file = write_ogg_opus(8000, std::slice::from_ref(&input)).unwrap();
        assert_eq!(&file[..4], b"OggS");
        let parsed = parse(&file);
        assert_eq!(parsed.channels, 1);
        assert_eq!(parsed.input_rate, 8000);
        assert!(parsed.pre_skip > 0, "libopus has lookahead");
        let last = parsed.pages.last().unwrap();
        assert_eq!(last.granule, parsed.pre_skip + input.len() as u64 * 6);
        // 1.5 s at 20 ms a packet, plus one for the lookahead padding.
        assert_eq!(parsed.audio.len(), 76);
        // Pages of at most one second of audio: head, tags, then two audio pages.
        assert_eq!(parsed.pages.len(), 4);

        let decoded = decode(&parsed);
        assert_eq!(decoded[0].len(), input.len() * 6);
        let reference = sine(440.0, 48_000, 1.5, 8000.0);
        let (lag, corr) = best_lag(&reference, &decoded[0]);
        assert!(corr > 0.95, "correlation {corr}");
        assert!(lag.abs() <= 3, "pre-skip aligns the output with the input (lag {lag})");
    }

    #[test]
    fn stereo_keeps_each_channel_apart() {
        let left = sine(300.0, 16_000, 1.0, 9000.0);
        let right = sine(1000.0, 16_000, 1.0, 9000.0);
        let file = write_ogg_opus(16_000, &[left, right]).unwrap();
        let parsed = parse(&file);
        assert_eq!(parsed.channels, 2);
        assert_eq!(parsed.input_rate, 16_000);
        assert_eq!(parsed.pages.last().unwrap().granule, parsed.pre_skip + 48_000);
        let decoded = decode(&parsed);
        let (ref_left, ref_right) = (sine(300.0, 48_000, 1.0, 9000.0), sine(1000.0, 48_000, 1.0, 9000.0));
        assert!(best_lag(&ref_left, &decoded[0]).1 > 0.9);
        assert!(best_lag(&ref_right, &decoded[1]).1 > 0.9);
        assert!(best_lag(&ref_right, &decoded[0]).1 < 0.2, "no right in the left");
        assert!(best_lag(&ref_left, &decoded[1]).1 < 0.2, "no left in the right");
    }

    #[test]
    fn other_rates_are_resampled_to_48k() {
        let input = sine(1000.0, 44_100, 1.0, 10_000.0);
        let file = write_ogg_opus(44_100, &[input]).unwrap();
        let parsed = parse(&file);
        assert_eq!(parsed.input_rate, 44_100, "the original rate is kept in the header");
        assert_eq!(parsed.pages.last().unwrap().granule, parsed.pre_skip + 48_000);
        let decoded = decode(&parsed);
        let (lag, corr) = best_lag(&sine(1000.0, 48_000, 1.0, 10_000.0), &decoded[0]);
        assert!(corr > 0.95 && lag.abs() <= 3, "lag {lag} correlation {corr}");
    }

    #[test]
    fn every_opus_rate_gives_the_right_length() {
        for rate in [8_000, 12_000, 16_000, 24_000, 48_000, 11_025, 22_050, 32_000, 96_000] {
            for len in [0, 1, 159, 160, 161, 4_321] {
                let file = write_ogg_opus(rate, &[vec![100; len], vec![-100; len / 2]]).unwrap();
                let parsed = parse(&file);
                let expected = (len as u64 * 48_000).div_ceil(u64::from(rate));
                assert_eq!(
                    parsed.pages.last().unwrap().granule,
                    parsed.pre_skip + expected,
                    "{rate} Hz, {len} samples"
                );
                assert_eq!(decode(&parsed)[1].len() as u64, expected);
            }
        }
    }

    #[test]
    fn long_input_spans_many_pages_with_a_final_partial_packet() {
        let input: Vec<i16> = (0..8000 * 7 + 37).map(|i| ((i * 37) % 2000) as i16 - 1000).collect();
        let parsed = parse(&write_ogg_opus(8000, std::slice::from_ref(&input)).unwrap());
        // Head, tags and one page a second (the last holds the remainder).
        assert_eq!(parsed.pages.len(), 2 + 8);
        for (i, page) in parsed.pages[2..parsed.pages.len() - 1].iter().enumerate() {
            assert_eq!(page.granule, (i as u64 + 1) * 48_000, "page {i} ends on a whole second");
        }
        assert_eq!(
            parsed.pages.last().unwrap().granule,
            parsed.pre_skip + input.len() as u64 * 6
        );
    }

    #[test]
    fn large_packets_continue_across_pages() {
        // Noise at a high bit rate: packets of several lacing segments, so 255-segment
        // pages fill up and packets continue on the next page.
        let mut x = 1u32;
        let mut noise = || {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            (x % 20_000) as i16 - 10_000
        };
        let left: Vec<i16> = (0..48_000 * 2).map(|_| noise()).collect();
        let right: Vec<i16> = (0..48_000 * 2).map(|_| noise()).collect();
        let file = write_ogg_opus_with_bitrate(48_000, &[left, right], 255_000).unwrap();
        let parsed = parse(&file);
        assert!(
            parsed.pages.iter().any(|p| p.flags & 0x01 != 0),
            "some packet continues on the next page"
        );
        assert!(parsed.audio.iter().any(|p| p.len() > 255));
        assert_eq!(parsed.pages.last().unwrap().granule, parsed.pre_skip + 96_000);
        assert_eq!(decode(&parsed)[0].len(), 96_000);
    }

    #[test]
    fn the_output_is_deterministic() {
        let input = sine(500.0, 8000, 0.5, 5000.0);
        assert_eq!(
            write_ogg_opus(8000, std::slice::from_ref(&input)).unwrap(),
            write_ogg_opus(8000, &[input]).unwrap()
        );
    }

    #[test]
    fn refuses_what_it_cannot_write() {
        assert_eq!(write_ogg_opus(8000, &[]), Err(OggOpusError::Channels(0)));
        assert_eq!(
            write_ogg_opus(8000, &[vec![0], vec![0], vec![0]]),
            Err(OggOpusError::Channels(3))
        );
        assert_eq!(write_ogg_opus(4000, &[vec![0]]), Err(OggOpusError::SampleRate(4000)));
        assert_eq!(OggOpusError::Channels(3).code(), "ogg-opus-channels");
    }

    #[test]
    fn resampler_keeps_a_tone_and_its_level() {
        for (from, to) in [(44_100, 48_000), (11_025, 48_000), (32_000, 48_000), (96_000, 48_000)] {
            let input = sine(1000.0, from, 0.5, 10_000.0);
            let out = resample(&input, from, to);
            assert_eq!(
                out.len() as u64,
                (input.len() as u64 * u64::from(to)).div_ceil(u64::from(from))
            );
            let reference = sine(1000.0, to, 0.5, 10_000.0);
            let n = reference.len().min(out.len());
            let (mut err, mut sig) = (0.0, 0.0);
            for i in n / 10..n - n / 10 {
                let d = f64::from(out[i]) - f64::from(reference[i]);
                err += d * d;
                sig += f64::from(reference[i]).powi(2);
            }
            let snr = 10.0 * (sig / err.max(1.0)).log10();
            assert!(snr > 40.0, "{from} -> {to}: SNR {snr:.1} dB");
        }
    }
}
