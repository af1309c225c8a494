//! RTP packets (RFC 3550 §5.1): a zero-copy, bounds-checked header parser and a writer.
//!
//! [`RtpPacket::parse`] borrows the datagram: the CSRC list, the header extension
//! and the payload are slices of it, so parsing allocates nothing. Every length the
//! packet declares (CSRC count, extension length, padding count) is checked against
//! the datagram before it is used; no input can make the parser panic.

#![deny(
    clippy::indexing_slicing,
    clippy::arithmetic_side_effects,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic
)]

/// Length of the fixed RTP header, before CSRCs and extension.
pub const RTP_HEADER_LEN: usize = 12;

/// Why a datagram is not an acceptable RTP packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RtpError {
    /// Shorter than the 12-byte fixed header.
    #[error("RTP packet of {0} bytes is shorter than the 12-byte header")]
    TooShort(usize),
    /// The version field is not 2.
    #[error("RTP version {0} is not supported (expected 2)")]
    BadVersion(u8),
    /// The CSRC list runs past the end of the datagram.
    #[error("RTP CSRC list ({0} entries) runs past the end of the packet")]
    TruncatedCsrcList(u8),
    /// The header extension runs past the end of the datagram.
    #[error("RTP header extension runs past the end of the packet")]
    TruncatedExtension,
    /// The padding count is zero or larger than what follows the header.
    #[error("RTP padding count {0} is invalid for this packet")]
    BadPadding(u8),
}

impl RtpError {
    /// A stable identifier for this kind of error, such as `"rtp-too-short"`.
    pub fn code(&self) -> &'static str {
        match self {
            RtpError::TooShort(_) => "rtp-too-short",
            RtpError::BadVersion(_) => "rtp-bad-version",
            RtpError::TruncatedCsrcList(_) => "rtp-truncated-csrc",
            RtpError::TruncatedExtension => "rtp-truncated-extension",
            RtpError::BadPadding(_) => "rtp-bad-padding",
        }
    }
}

/// A header extension (RFC 3550 §5.3.1): the profile-defined 16 bits and the data.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RtpExtension<'a> {
    /// The 16 "defined by profile" bits (0xBEDE for RFC 8285 one-byte headers).
    pub profile: u16,
    /// The extension data, a whole number of 32-bit words.
    pub data: &'a [u8],
}

/// One RTP packet, borrowing the datagram it was parsed from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RtpPacket<'a> {
    /// The marker bit (start of a talkspurt for audio, start of an RFC 4733 event).
    pub marker: bool,
    /// The 7-bit payload type.
    pub payload_type: u8,
    /// The 16-bit sequence number.
    pub sequence_number: u16,
    /// The RTP timestamp, in ticks of the payload format's clock.
    pub timestamp: u32,
    /// The synchronisation source.
    pub ssrc: u32,
    /// The contributing sources, 4 big-endian bytes each (see [`RtpPacket::csrcs`]).
    pub csrc_bytes: &'a [u8],
    /// The header extension, when the X bit is set.
    pub extension: Option<RtpExtension<'a>>,
    /// The payload, without padding.
    pub payload: &'a [u8],
    /// Padding bytes after the payload (0 when the P bit is clear).
    pub padding: u8,
}

/// Reads a big-endian u16 at `at`, or `None` past the end.
fn be16(buf: &[u8], at: usize) -> Option<u16> {
    let bytes = buf.get(at..at.checked_add(2)?)?;
    Some(u16::from_be_bytes(bytes.try_into().ok()?))
}

/// Reads a big-endian u32 at `at`, or `None` past the end.
pub(crate) fn be32(buf: &[u8], at: usize) -> Option<u32> {
    let bytes = buf.get(at..at.checked_add(4)?)?;
    Some(u32::from_be_bytes(bytes.try_into().ok()?))
}

impl<'a> RtpPacket<'a> {
    /// Parses one datagram. Strict: version 2 only, and every declared length must fit.
    pub fn parse(buf: &'a [u8]) -> Result<RtpPacket<'a>, RtpError> {
        let too_short = RtpError::TooShort(buf.len());
        let (&b0, &b1) = (buf.first().ok_or(too_short)?, buf.get(1).ok_or(too_short)?);
        if buf.len() < RTP_HEADER_LEN {
            return Err(too_short);
        }
        let version = b0 >> 6;
        if version != 2 {
            return Err(RtpError::BadVersion(version));
        }
        let has_padding = b0 & 0x20 != 0;
        let has_extension = b0 & 0x10 != 0;
        let csrc_count = b0 & 0x0F;
        let sequence_number = be16(buf, 2).ok_or(too_short)?;
        let timestamp = be32(buf, 4).ok_or(too_short)?;
        let ssrc = be32(buf, 8).ok_or(too_short)?;

        let csrc_end = RTP_HEADER_LEN.saturating_add(4usize.saturating_mul(usize::from(csrc_count)));
        let csrc_bytes = buf
            .get(RTP_HEADER_LEN..csrc_end)
            .ok_or(RtpError::TruncatedCsrcList(csrc_count))?;

        let (extension, header_end) = if has_extension {
            let profile = be16(buf, csrc_end).ok_or(RtpError::TruncatedExtension)?;
            let words = be16(buf, csrc_end.saturating_add(2)).ok_or(RtpError::TruncatedExtension)?;
            let data_start = csrc_end.saturating_add(4);
            let data_end = data_start.saturating_add(4usize.saturating_mul(usize::from(words)));
            let data = buf.get(data_start..data_end).ok_or(RtpError::TruncatedExtension)?;
            (Some(RtpExtension { profile, data }), data_end)
        } else {
            (None, csrc_end)
        };

        let rest = buf.get(header_end..).unwrap_or_default();
        let (payload, padding) = if has_padding {
            let &count = rest.last().ok_or(RtpError::BadPadding(0))?;
            let payload_len = rest
                .len()
                .checked_sub(usize::from(count))
                .filter(|_| count > 0)
                .ok_or(RtpError::BadPadding(count))?;
            (rest.get(..payload_len).unwrap_or_default(), count)
        } else {
            (rest, 0)
        };

        Ok(RtpPacket {
            marker: b1 & 0x80 != 0,
            payload_type: b1 & 0x7F,
            sequence_number,
            timestamp,
            ssrc,
            csrc_bytes,
            extension,
            payload,
            padding,
        })
    }

    /// A packet with no CSRCs, extension or padding.
    pub fn new(payload_type: u8, sequence_number: u16, timestamp: u32, ssrc: u32, payload: &'a [u8]) -> Self {
        RtpPacket {
            marker: false,
            payload_type: payload_type & 0x7F,
            sequence_number,
            timestamp,
            ssrc,
            csrc_bytes: &[],
            extension: None,
            payload,
            padding: 0,
        }
    }

    /// The number of contributing sources.
    pub fn csrc_count(&self) -> usize {
        self.csrc_bytes.len() / 4
    }

    /// The contributing sources, in order.
    pub fn csrcs(&self) -> impl Iterator<Item = u32> + 'a {
        self.csrc_bytes
            .chunks_exact(4)
            .map(|c| u32::from_be_bytes(<[u8; 4]>::try_from(c).unwrap_or_default()))
    }

    /// Appends the packet in wire form to `out` (the inverse of [`RtpPacket::parse`]).
    ///
    /// At most 15 CSRCs are written and extension data is truncated to whole words
    /// (at most 65535 of them), so that the result always parses back.
    pub fn write_to(&self, out: &mut Vec<u8>) {
        let csrc_count = (self.csrc_count().min(15)) as u8;
        let b0 = 0x80
            | if self.padding > 0 { 0x20 } else { 0 }
            | if self.extension.is_some() { 0x10 } else { 0 }
            | csrc_count;
        out.push(b0);
        out.push(if self.marker { 0x80 } else { 0 } | (self.payload_type & 0x7F));
        out.extend_from_slice(&self.sequence_number.to_be_bytes());
        out.extend_from_slice(&self.timestamp.to_be_bytes());
        out.extend_from_slice(&self.ssrc.to_be_bytes());
        out.extend_from_slice(
            self.csrc_bytes
                .get(..4usize.saturating_mul(usize::from(csrc_count)))
                .unwrap_or_default(),
        );
        if let Some(ext) = self.extension {
            let words = (ext.data.len() / 4).min(usize::from(u16::MAX));
            out.extend_from_slice(&ext.profile.to_be_bytes());
            out.extend_from_slice(&(words as u16).to_be_bytes());
            out.extend_from_slice(ext.data.get(..4usize.saturating_mul(words)).unwrap_or_default());
        }
        out.extend_from_slice(self.payload);
        if self.padding > 0 {
            out.extend(std::iter::repeat_n(0u8, usize::from(self.padding).saturating_sub(1)));
            out.push(self.padding);
        }
    }

    /// The packet in wire form (see [`RtpPacket::write_to`]).
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(RTP_HEADER_LEN.saturating_add(self.payload.len()));
        self.write_to(&mut out);
        out
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::arithmetic_side_effects, clippy::indexing_slicing)]
mod tests {
    use super::*;

    #[test]
    fn parses_minimal_header() {
        let bytes = [
            0x80, 0x88, 0x12, 0x34, 0, 0, 0x01, 0x00, 0xDE, 0xAD, 0xBE, 0xEF, 1, 2, 3,
        ];
        let p = RtpPacket::parse(&bytes).unwrap();
        assert!(p.marker);
        assert_eq!(p.payload_type, 8);
        assert_eq!(p.sequence_number, 0x1234);
        assert_eq!(p.timestamp, 256);
        assert_eq!(p.ssrc, 0xDEAD_BEEF);
        assert_eq!(p.payload, &[1, 2, 3]);
        assert_eq!(p.to_bytes(), bytes);
    }
}
