//! Compound RTCP packets (RFC 3550 §6): sender and receiver reports, SDES (skipped), BYE.
//!
//! [`RtcpCompound::parse`] validates the whole datagram first (version, lengths,
//! padding only on the last packet, report blocks and BYE lists within their packet);
//! iterating the validated compound then cannot fail. Nothing is copied.

#![deny(
    clippy::indexing_slicing,
    clippy::arithmetic_side_effects,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic
)]

use crate::rtp::be32;

/// RTCP packet type of a sender report.
pub const RTCP_SR: u8 = 200;
/// RTCP packet type of a receiver report.
pub const RTCP_RR: u8 = 201;
/// RTCP packet type of source description items.
pub const RTCP_SDES: u8 = 202;
/// RTCP packet type of a goodbye.
pub const RTCP_BYE: u8 = 203;

/// Length of one report block.
const REPORT_BLOCK_LEN: usize = 24;
/// Seconds from the NTP epoch (1900) to the Unix epoch (1970).
const NTP_UNIX_OFFSET_SECS: u64 = 2_208_988_800;

/// Why a datagram is not an acceptable compound RTCP packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RtcpError {
    /// The datagram holds no packet at all.
    #[error("empty RTCP datagram")]
    Empty,
    /// A packet header or declared length runs past the end of the datagram.
    #[error("RTCP packet at byte {0} runs past the end of the datagram")]
    Truncated(usize),
    /// The version field of a packet is not 2.
    #[error("RTCP version {0} is not supported (expected 2)")]
    BadVersion(u8),
    /// Padding on a packet that is not the last, or a padding count that does not fit.
    #[error("RTCP packet at byte {0} has invalid padding")]
    BadPadding(usize),
    /// An SR, RR or BYE whose count field does not fit in its length.
    #[error("RTCP packet type {packet_type} at byte {offset} is too short for its count")]
    BadCount {
        /// The packet type (200, 201 or 203).
        packet_type: u8,
        /// The packet's offset in the datagram.
        offset: usize,
    },
}

impl RtcpError {
    /// A stable identifier for this kind of error, such as `"rtcp-truncated"`.
    pub fn code(&self) -> &'static str {
        match self {
            RtcpError::Empty => "rtcp-empty",
            RtcpError::Truncated(_) => "rtcp-truncated",
            RtcpError::BadVersion(_) => "rtcp-bad-version",
            RtcpError::BadPadding(_) => "rtcp-bad-padding",
            RtcpError::BadCount { .. } => "rtcp-bad-count",
        }
    }
}

/// Whether a datagram on a shared port looks like RTCP rather than RTP (RFC 5761 §4:
/// version 2 and a second byte in 192..=223, which no RTP payload type maps to).
pub fn looks_like_rtcp(buf: &[u8]) -> bool {
    matches!((buf.first(), buf.get(1)), (Some(b0), Some(192..=223)) if b0 >> 6 == 2)
}

/// One report block of an SR or RR (RFC 3550 §6.4.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReportBlock {
    /// The source this block reports on.
    pub ssrc: u32,
    /// Fraction of packets lost since the previous report, in 1/256.
    pub fraction_lost: u8,
    /// Cumulative packets lost (24-bit signed; negative with duplicates).
    pub cumulative_lost: i32,
    /// Extended highest sequence number received.
    pub highest_sequence: u32,
    /// Interarrival jitter, in timestamp units.
    pub jitter: u32,
    /// Middle 32 bits of the NTP timestamp of the last SR received.
    pub last_sr: u32,
    /// Delay since that SR, in 1/65536 s.
    pub delay_since_last_sr: u32,
}

/// The report blocks of an SR or RR, validated to be whole.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReportBlocks<'a> {
    bytes: &'a [u8],
}

impl<'a> ReportBlocks<'a> {
    /// The number of blocks.
    pub fn len(&self) -> usize {
        self.bytes.len() / REPORT_BLOCK_LEN
    }

    /// Whether there are no blocks.
    pub fn is_empty(&self) -> bool {
        self.bytes.is_empty()
    }

    /// The blocks, in order.
    pub fn iter(&self) -> impl Iterator<Item = ReportBlock> + 'a {
        self.bytes.chunks_exact(REPORT_BLOCK_LEN).map(|b| {
            let word = |at| be32(b, at).unwrap_or(0);
            let lost = word(4);
            // Sign-extend the 24-bit cumulative count.
            let cumulative_lost = ((lost << 8) as i32) >> 8;
            ReportBlock {
                ssrc: word(0),
                fraction_lost: (lost >> 24) as u8,
                cumulative_lost,
                highest_sequence: word(8),
                jitter: word(12),
                last_sr: word(16),
                delay_since_last_sr: word(20),
            }
        })
    }
}

/// A sender report (RFC 3550 §6.4.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SenderReport<'a> {
    /// The sender.
    pub ssrc: u32,
    /// The 64-bit NTP timestamp (seconds since 1900 in the high half, fraction in the low).
    pub ntp_timestamp: u64,
    /// The RTP timestamp that corresponds to `ntp_timestamp`.
    pub rtp_timestamp: u32,
    /// Packets sent since the start of transmission.
    pub packet_count: u32,
    /// Payload octets sent since the start of transmission.
    pub octet_count: u32,
    /// Reports on the sources this sender receives.
    pub reports: ReportBlocks<'a>,
}

impl SenderReport<'_> {
    /// The NTP timestamp as milliseconds since the Unix epoch; `None` before 1970.
    pub fn ntp_unix_ms(&self) -> Option<u64> {
        let secs = (self.ntp_timestamp >> 32).checked_sub(NTP_UNIX_OFFSET_SECS)?;
        let frac_ms = (self.ntp_timestamp & 0xFFFF_FFFF).saturating_mul(1000) >> 32;
        Some(secs.saturating_mul(1000).saturating_add(frac_ms))
    }
}

/// A receiver report (RFC 3550 §6.4.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReceiverReport<'a> {
    /// The reporter.
    pub ssrc: u32,
    /// Reports on the sources it receives.
    pub reports: ReportBlocks<'a>,
}

/// A goodbye (RFC 3550 §6.6): the sources that leave, and an optional reason.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Goodbye<'a> {
    ssrc_bytes: &'a [u8],
    /// The reason text as sent (not checked to be UTF-8).
    pub reason: Option<&'a [u8]>,
}

impl<'a> Goodbye<'a> {
    /// The sources that leave.
    pub fn ssrcs(&self) -> impl Iterator<Item = u32> + 'a {
        self.ssrc_bytes
            .chunks_exact(4)
            .map(|c| u32::from_be_bytes(<[u8; 4]>::try_from(c).unwrap_or_default()))
    }
}

/// One packet of a compound RTCP datagram.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RtcpPacket<'a> {
    /// SR (200).
    SenderReport(SenderReport<'a>),
    /// RR (201).
    ReceiverReport(ReceiverReport<'a>),
    /// SDES (202): skipped; only the number of chunks is kept.
    SourceDescription {
        /// The number of SDES chunks.
        chunks: u8,
    },
    /// BYE (203).
    Goodbye(Goodbye<'a>),
    /// Any other type (APP, feedback, XR...), unparsed.
    Other {
        /// The packet type.
        packet_type: u8,
        /// The 5-bit count / format field.
        count: u8,
        /// The packet body after the 4-byte header, without padding.
        body: &'a [u8],
    },
}

/// A validated compound RTCP datagram.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RtcpCompound<'a> {
    buf: &'a [u8],
}

/// The header fields and body of one packet; `body` excludes header and padding.
struct RawPacket<'a> {
    count: u8,
    packet_type: u8,
    body: &'a [u8],
}

/// Splits the next packet off `buf` (at `offset` in the datagram), validating its header.
fn split_packet(buf: &[u8], offset: usize) -> Result<(RawPacket<'_>, &[u8]), RtcpError> {
    let header = buf.get(..4).ok_or(RtcpError::Truncated(offset))?;
    let (b0, packet_type) = (
        header.first().copied().unwrap_or(0),
        header.get(1).copied().unwrap_or(0),
    );
    let words = u16::from_be_bytes([header.get(2).copied().unwrap_or(0), header.get(3).copied().unwrap_or(0)]);
    let version = b0 >> 6;
    if version != 2 {
        return Err(RtcpError::BadVersion(version));
    }
    let len = usize::from(words).saturating_add(1).saturating_mul(4);
    let packet = buf.get(..len).ok_or(RtcpError::Truncated(offset))?;
    let rest = buf.get(len..).unwrap_or_default();
    let mut body = packet.get(4..).unwrap_or_default();
    if b0 & 0x20 != 0 {
        // RFC 3550 A.2: only the last packet of a compound may be padded.
        let pad = usize::from(body.last().copied().unwrap_or(0));
        if !rest.is_empty() || pad == 0 || pad > body.len() {
            return Err(RtcpError::BadPadding(offset));
        }
        body = body.get(..body.len().saturating_sub(pad)).unwrap_or_default();
    }
    Ok((
        RawPacket {
            count: b0 & 0x1F,
            packet_type,
            body,
        },
        rest,
    ))
}

/// Interprets a validated raw packet; `None` when its count does not fit its body.
fn interpret(raw: RawPacket<'_>) -> Option<RtcpPacket<'_>> {
    let blocks = |from: usize| -> Option<ReportBlocks<'_>> {
        let len = usize::from(raw.count).saturating_mul(REPORT_BLOCK_LEN);
        let bytes = raw.body.get(from..)?.get(..len)?;
        Some(ReportBlocks { bytes })
    };
    let body = raw.body;
    Some(match raw.packet_type {
        RTCP_SR => RtcpPacket::SenderReport(SenderReport {
            ssrc: be32(body, 0)?,
            ntp_timestamp: (u64::from(be32(body, 4)?) << 32) | u64::from(be32(body, 8)?),
            rtp_timestamp: be32(body, 12)?,
            packet_count: be32(body, 16)?,
            octet_count: be32(body, 20)?,
            reports: blocks(24)?,
        }),
        RTCP_RR => RtcpPacket::ReceiverReport(ReceiverReport {
            ssrc: be32(body, 0)?,
            reports: blocks(4)?,
        }),
        RTCP_SDES => RtcpPacket::SourceDescription { chunks: raw.count },
        RTCP_BYE => {
            let list_len = usize::from(raw.count).saturating_mul(4);
            let ssrc_bytes = body.get(..list_len)?;
            let after = body.get(list_len..).unwrap_or_default();
            let reason = match after.split_first() {
                Some((&n, text)) => Some(text.get(..usize::from(n))?),
                None => None,
            };
            RtcpPacket::Goodbye(Goodbye { ssrc_bytes, reason })
        }
        packet_type => RtcpPacket::Other {
            packet_type,
            count: raw.count,
            body,
        },
    })
}

impl<'a> RtcpCompound<'a> {
    /// Validates a compound datagram: every packet is version 2 and lies within the
    /// datagram, only the last is padded, and the SR/RR/BYE counts fit their lengths.
    pub fn parse(buf: &'a [u8]) -> Result<RtcpCompound<'a>, RtcpError> {
        if buf.is_empty() {
            return Err(RtcpError::Empty);
        }
        let mut rest = buf;
        while !rest.is_empty() {
            let offset = buf.len().saturating_sub(rest.len());
            let (raw, next) = split_packet(rest, offset)?;
            let packet_type = raw.packet_type;
            if interpret(raw).is_none() {
                return Err(RtcpError::BadCount { packet_type, offset });
            }
            rest = next;
        }
        Ok(RtcpCompound { buf })
    }

    /// The packets, in order.
    pub fn packets(&self) -> impl Iterator<Item = RtcpPacket<'a>> + 'a {
        let mut rest = self.buf;
        std::iter::from_fn(move || {
            if rest.is_empty() {
                return None;
            }
            let (raw, next) = split_packet(rest, 0).ok()?;
            rest = next;
            interpret(raw)
        })
    }
}
