//! Why a byte buffer is not an acceptable SIP message: one error type with stable codes and SIP statuses.

/// Why a message could not be parsed or framed.
///
/// Every variant has a stable machine-readable [`code`](ParseError::code) (for logs
/// and metrics labels), the SIP [`status`](ParseError::status) a server answers a
/// request with, and a [`reason_phrase`](ParseError::reason_phrase) naming the
/// problem for the peer. The variants hold only static names and numbers, so a flood
/// of garbage costs no allocation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ParseError {
    /// Nothing but (at most) keep-alive line ends.
    #[error("empty message")]
    Empty,
    /// The message (or the length its framing announces) exceeds the size limit.
    #[error("message of {size} bytes exceeds the limit of {limit} bytes")]
    MessageTooLarge {
        /// Bytes the message has or announces.
        size: usize,
        /// The configured limit.
        limit: usize,
    },
    /// More header fields than the limit.
    #[error("more than {limit} header fields")]
    TooManyHeaders {
        /// The configured limit.
        limit: usize,
    },
    /// A line longer than the limit.
    #[error("a line is longer than {limit} bytes")]
    LineTooLong {
        /// The configured limit.
        limit: usize,
    },
    /// The header section does not end with an empty line.
    #[error("the header section does not end with an empty line")]
    Truncated,
    /// A control character (NUL, bare CR, ...) where the grammar allows none.
    #[error("control character in the {0}")]
    ControlCharacter(&'static str),
    /// The start line or header section is not UTF-8.
    #[error("the {0} is not valid UTF-8")]
    NotUtf8(&'static str),
    /// The first line is neither a request line nor a status line.
    #[error("malformed start line: {0}")]
    BadStartLine(&'static str),
    /// The method is not a token.
    #[error("malformed method")]
    BadMethod,
    /// The Request-URI is malformed.
    #[error("malformed Request-URI: {0}")]
    BadRequestUri(&'static str),
    /// The version is `SIP/x.y` but not `SIP/2.0`.
    #[error("SIP version not supported")]
    VersionNotSupported,
    /// The status code of a status line is not three digits in 100..=699.
    #[error("malformed status code")]
    BadStatusCode,
    /// A header line without a colon, with an empty or invalid name, or a
    /// continuation line with nothing to continue.
    #[error("malformed header line: {0}")]
    BadHeaderLine(&'static str),
    /// A header every request and response must carry is missing.
    #[error("missing {0} header")]
    MissingHeader(&'static str),
    /// A header that may appear once appears several times.
    #[error("duplicate {0} header")]
    DuplicateHeader(&'static str),
    /// A header value does not follow its grammar (or a value is out of range).
    #[error("invalid {0} header")]
    InvalidHeader(&'static str),
    /// The CSeq method differs from the request method.
    #[error("CSeq method does not match the request method")]
    CseqMethodMismatch,
    /// Content-Length is not a number or several disagree.
    #[error("malformed Content-Length")]
    BadContentLength,
    /// Content-Length announces more bytes than the datagram holds.
    #[error("Content-Length {declared} exceeds the {available} body bytes present")]
    ContentLengthExceedsData {
        /// The announced length.
        declared: usize,
        /// Body bytes actually present.
        available: usize,
    },
    /// A message on a stream transport without Content-Length.
    #[error("missing Content-Length on a stream transport")]
    MissingContentLength,
    /// A body without a Content-Type.
    #[error("a body without Content-Type")]
    MissingContentType,
}

impl ParseError {
    /// A stable identifier for this kind of error, such as `"sip-missing-header"`.
    pub fn code(&self) -> &'static str {
        match self {
            ParseError::Empty => "sip-empty",
            ParseError::MessageTooLarge { .. } => "sip-message-too-large",
            ParseError::TooManyHeaders { .. } => "sip-too-many-headers",
            ParseError::LineTooLong { .. } => "sip-line-too-long",
            ParseError::Truncated => "sip-truncated",
            ParseError::ControlCharacter(_) => "sip-control-character",
            ParseError::NotUtf8(_) => "sip-not-utf8",
            ParseError::BadStartLine(_) => "sip-bad-start-line",
            ParseError::BadMethod => "sip-bad-method",
            ParseError::BadRequestUri(_) => "sip-bad-request-uri",
            ParseError::VersionNotSupported => "sip-version-not-supported",
            ParseError::BadStatusCode => "sip-bad-status-code",
            ParseError::BadHeaderLine(_) => "sip-bad-header-line",
            ParseError::MissingHeader(_) => "sip-missing-header",
            ParseError::DuplicateHeader(_) => "sip-duplicate-header",
            ParseError::InvalidHeader(_) => "sip-invalid-header",
            ParseError::CseqMethodMismatch => "sip-cseq-method-mismatch",
            ParseError::BadContentLength => "sip-bad-content-length",
            ParseError::ContentLengthExceedsData { .. } => "sip-content-length-exceeds-data",
            ParseError::MissingContentLength => "sip-missing-content-length",
            ParseError::MissingContentType => "sip-missing-content-type",
        }
    }

    /// The SIP status a server answers a request that failed this way with:
    /// 413 for oversized messages, 505 for a foreign version, otherwise 400.
    pub fn status(&self) -> u16 {
        match self {
            ParseError::MessageTooLarge { .. } => 413,
            ParseError::VersionNotSupported => 505,
            _ => 400,
        }
    }

    /// The reason phrase for that response, naming the problem
    /// (e.g. `"Missing Call-ID Header"`, `"Bad Content-Length"`).
    pub fn reason_phrase(&self) -> String {
        match self {
            ParseError::Empty => "Empty Message".into(),
            ParseError::MessageTooLarge { .. } => "Request Entity Too Large".into(),
            ParseError::TooManyHeaders { .. } => "Too Many Headers".into(),
            ParseError::LineTooLong { .. } => "Header Line Too Long".into(),
            ParseError::Truncated => "Missing Empty Line After Headers".into(),
            ParseError::ControlCharacter(_) => "Invalid Control Character".into(),
            ParseError::NotUtf8(_) => "Invalid UTF-8".into(),
            ParseError::BadStartLine(_) => "Malformed Request Line".into(),
            ParseError::BadMethod => "Malformed Method".into(),
            ParseError::BadRequestUri(_) => "Malformed Request-URI".into(),
            ParseError::VersionNotSupported => "Version Not Supported".into(),
            ParseError::BadStatusCode => "Malformed Status Code".into(),
            ParseError::BadHeaderLine(_) => "Malformed Header Line".into(),
            ParseError::MissingHeader(name) => format!("Missing {name} Header"),
            ParseError::DuplicateHeader(name) => format!("Duplicate {name} Header"),
            ParseError::InvalidHeader(name) => format!("Invalid {name} Header"),
            ParseError::CseqMethodMismatch => "CSeq Method Mismatch".into(),
            ParseError::BadContentLength => "Bad Content-Length".into(),
            ParseError::ContentLengthExceedsData { .. } => "Content-Length Exceeds Body".into(),
            ParseError::MissingContentLength => "Missing Content-Length".into(),
            ParseError::MissingContentType => "Missing Content-Type".into(),
        }
    }
}
