//! Errors of the SDP parser: what is wrong and on which line, never the line's text.

/// What is wrong with a session description.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum SdpErrorKind {
    /// No lines at all.
    Empty,
    /// The first line is not `v=0`.
    BadVersion,
    /// A line is not `<letter>=<value>`.
    MalformedLine,
    /// The `o=` line is missing or does not have six fields.
    BadOrigin,
    /// The `s=` line is missing.
    MissingSessionName,
    /// A `c=` line does not have three fields.
    BadConnection,
    /// An `m=` line is malformed: fields missing, port not a number, no formats.
    BadMedia,
    /// An RTP format is not a payload type number 0–127.
    BadPayloadType,
    /// An `a=rtpmap` is not `<pt> <name>/<rate>[/<channels>]`.
    BadRtpmap,
    /// An `a=ptime`, `a=rtcp` or `a=fmtp` value is malformed.
    BadAttribute,
    /// More media sections than [`super::MAX_MEDIA_SECTIONS`].
    TooManyMedia,
}

impl SdpErrorKind {
    /// A stable identifier, such as `"sdp-bad-media"`.
    pub fn code(&self) -> &'static str {
        match self {
            SdpErrorKind::Empty => "sdp-empty",
            SdpErrorKind::BadVersion => "sdp-bad-version",
            SdpErrorKind::MalformedLine => "sdp-malformed-line",
            SdpErrorKind::BadOrigin => "sdp-bad-origin",
            SdpErrorKind::MissingSessionName => "sdp-missing-session-name",
            SdpErrorKind::BadConnection => "sdp-bad-connection",
            SdpErrorKind::BadMedia => "sdp-bad-media",
            SdpErrorKind::BadPayloadType => "sdp-bad-payload-type",
            SdpErrorKind::BadRtpmap => "sdp-bad-rtpmap",
            SdpErrorKind::BadAttribute => "sdp-bad-attribute",
            SdpErrorKind::TooManyMedia => "sdp-too-many-media",
        }
    }

    fn describe(&self) -> &'static str {
        match self {
            SdpErrorKind::Empty => "the session description is empty",
            SdpErrorKind::BadVersion => "the first line is not v=0",
            SdpErrorKind::MalformedLine => "the line is not <letter>=<value>",
            SdpErrorKind::BadOrigin => "o= is missing or does not have six fields",
            SdpErrorKind::MissingSessionName => "s= is missing",
            SdpErrorKind::BadConnection => "c= does not have the form <nettype> <addrtype> <address>",
            SdpErrorKind::BadMedia => "m= does not have the form <media> <port> <proto> <format>...",
            SdpErrorKind::BadPayloadType => "an RTP format is not a payload type 0-127",
            SdpErrorKind::BadRtpmap => "a=rtpmap does not have the form <pt> <name>/<rate>[/<channels>]",
            SdpErrorKind::BadAttribute => "a=ptime, a=rtcp or a=fmtp has a malformed value",
            SdpErrorKind::TooManyMedia => "too many m= sections",
        }
    }
}

/// A session description that could not be parsed: the kind and the 1-based line number
/// (0 when the problem is not tied to one line, e.g. a missing `s=`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("SDP line {line}: {}", kind.describe())]
pub struct SdpError {
    /// What is wrong.
    pub kind: SdpErrorKind,
    /// The 1-based line number, or 0.
    pub line: usize,
}

impl SdpError {
    /// A stable identifier, such as `"sdp-bad-media"`.
    pub fn code(&self) -> &'static str {
        self.kind.code()
    }
}
