//! A parsed SIP message borrowing its input, with typed accessors for the headers a
//! user-agent server reads.

use std::borrow::Cow;

use crate::header_name::HeaderName;
use crate::headers::{CSeq, Contact, ContentType, NameAddr, SessionExpires, Via, delta_seconds, token_list};
use crate::method::Method;
use crate::syntax::split_list;

/// The first line of a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StartLine<'a> {
    /// `METHOD Request-URI SIP/2.0`.
    Request {
        /// The method as written (case-sensitive).
        method: &'a str,
        /// The Request-URI as written.
        uri: &'a str,
    },
    /// `SIP/2.0 code reason`.
    Response {
        /// The status code, 100..=699.
        status: u16,
        /// The reason phrase (may be empty).
        reason: &'a str,
    },
}

/// One header field, unfolded. The value is borrowed unless continuation lines had
/// to be joined.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Header<'a> {
    /// The canonical name (compact forms mapped).
    pub name: HeaderName<'a>,
    /// The value without leading and trailing whitespace; folded lines joined by one space.
    pub value: Cow<'a, str>,
}

/// A SIP request or response that [`parse_message`](crate::parse_message) accepted.
///
/// Parsing validated Via, From, To, Call-ID, CSeq, Max-Forwards, Content-Type,
/// Content-Length and Contact, so their accessors are infallible; the others
/// (session timers, lists) are parsed when asked for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SipMessage<'a> {
    pub(crate) start_line: StartLine<'a>,
    pub(crate) headers: Vec<Header<'a>>,
    pub(crate) body: &'a [u8],
    pub(crate) raw: &'a [u8],
}

impl<'a> SipMessage<'a> {
    /// The start line.
    pub fn start_line(&self) -> StartLine<'a> {
        self.start_line
    }

    /// Whether this is a request.
    pub fn is_request(&self) -> bool {
        matches!(self.start_line, StartLine::Request { .. })
    }

    /// The method of a request (`None` for a response).
    pub fn method(&self) -> Option<Method> {
        self.method_name().map(Method::from_name)
    }

    /// The method of a request as written.
    pub fn method_name(&self) -> Option<&'a str> {
        match self.start_line {
            StartLine::Request { method, .. } => Some(method),
            StartLine::Response { .. } => None,
        }
    }

    /// The Request-URI of a request.
    pub fn request_uri(&self) -> Option<&'a str> {
        match self.start_line {
            StartLine::Request { uri, .. } => Some(uri),
            StartLine::Response { .. } => None,
        }
    }

    /// The status code of a response.
    pub fn status(&self) -> Option<u16> {
        match self.start_line {
            StartLine::Response { status, .. } => Some(status),
            StartLine::Request { .. } => None,
        }
    }

    /// The reason phrase of a response.
    pub fn reason(&self) -> Option<&'a str> {
        match self.start_line {
            StartLine::Response { reason, .. } => Some(reason),
            StartLine::Request { .. } => None,
        }
    }

    /// All header fields in order.
    pub fn headers(&self) -> &[Header<'a>] {
        &self.headers
    }

    /// The value of the first header called `name`.
    pub fn header(&self, name: HeaderName<'_>) -> Option<&str> {
        self.headers_named(name).next()
    }

    /// The values of every header called `name`, in order.
    pub fn headers_named<'s, 'n>(&'s self, name: HeaderName<'n>) -> impl Iterator<Item = &'s str> {
        self.headers
            .iter()
            .filter(move |header| header.name == name)
            .map(|header| header.value.as_ref())
    }

    /// The value of the first header whose name (any case, long or compact) is `name`.
    pub fn header_str(&self, name: &str) -> Option<&str> {
        self.header(HeaderName::parse(name))
    }

    /// The body: exactly Content-Length bytes (or the rest of the datagram without it).
    pub fn body(&self) -> &'a [u8] {
        self.body
    }

    /// The bytes of the whole message as parsed (keep-alive line ends before it and
    /// datagram bytes after the body excluded).
    pub fn as_bytes(&self) -> &'a [u8] {
        self.raw
    }

    /// The Call-ID.
    pub fn call_id(&self) -> &str {
        self.header(HeaderName::CallId).unwrap_or("")
    }

    /// The CSeq.
    pub fn cseq(&self) -> CSeq<'_> {
        self.header(HeaderName::CSeq).and_then(CSeq::parse).unwrap_or(CSeq {
            number: 0,
            method_name: "",
        })
    }

    /// The From header.
    pub fn from(&self) -> NameAddr<'_> {
        self.header(HeaderName::From)
            .and_then(NameAddr::parse)
            .unwrap_or_default()
    }

    /// The To header.
    pub fn to(&self) -> NameAddr<'_> {
        self.header(HeaderName::To)
            .and_then(NameAddr::parse)
            .unwrap_or_default()
    }

    /// Every Via entry in order, from all Via headers (several lines or comma-separated).
    pub fn vias(&self) -> Vec<Via<'_>> {
        self.headers_named(HeaderName::Via)
            .filter_map(Via::parse_list)
            .flatten()
            .collect()
    }

    /// The topmost Via entry.
    pub fn top_via(&self) -> Option<Via<'_>> {
        self.vias().into_iter().next()
    }

    /// Every Contact value in order (empty when there is none).
    pub fn contacts(&self) -> Vec<Contact<'_>> {
        self.headers_named(HeaderName::Contact)
            .filter_map(Contact::parse_list)
            .flatten()
            .collect()
    }

    /// The first Contact address.
    pub fn contact(&self) -> Option<NameAddr<'_>> {
        self.contacts().into_iter().find_map(|contact| match contact {
            Contact::Address(address) => Some(address),
            Contact::Wildcard => None,
        })
    }

    /// Max-Forwards, if present (0..=255).
    pub fn max_forwards(&self) -> Option<u8> {
        self.header(HeaderName::MaxForwards)
            .and_then(|v| v.parse::<u32>().ok())
            .and_then(|v| u8::try_from(v).ok())
    }

    /// Content-Type, if present.
    pub fn content_type(&self) -> Option<ContentType<'_>> {
        self.header(HeaderName::ContentType).and_then(ContentType::parse)
    }

    /// The option tags of every Require header; `None` if one is not a token list.
    pub fn require(&self) -> Option<Vec<&str>> {
        self.token_lists(HeaderName::Require)
    }

    /// The option tags of every Supported header; `None` if one is not a token list.
    pub fn supported(&self) -> Option<Vec<&str>> {
        self.token_lists(HeaderName::Supported)
    }

    /// The methods of every Allow header; `None` if one is not a token list.
    pub fn allow(&self) -> Option<Vec<&str>> {
        self.token_lists(HeaderName::Allow)
    }

    /// Whether Require names `option_tag` (ASCII case-insensitive).
    pub fn requires(&self, option_tag: &str) -> bool {
        self.require()
            .is_some_and(|tags| tags.iter().any(|tag| tag.eq_ignore_ascii_case(option_tag)))
    }

    /// Whether Supported names `option_tag` (ASCII case-insensitive).
    pub fn supports(&self, option_tag: &str) -> bool {
        self.supported()
            .is_some_and(|tags| tags.iter().any(|tag| tag.eq_ignore_ascii_case(option_tag)))
    }

    /// Session-Expires (RFC 4028): `None` if absent, `Some(None)` if malformed.
    pub fn session_expires(&self) -> Option<Option<SessionExpires<'_>>> {
        self.header(HeaderName::SessionExpires).map(SessionExpires::parse)
    }

    /// Min-SE in seconds (RFC 4028): `None` if absent, `Some(None)` if malformed.
    pub fn min_se(&self) -> Option<Option<u32>> {
        self.header(HeaderName::MinSe)
            .map(|value| SessionExpires::parse(value).map(|se| se.seconds))
    }

    /// Expires in seconds: `None` if absent, `Some(None)` if malformed.
    pub fn expires(&self) -> Option<Option<u32>> {
        self.header(HeaderName::Expires)
            .map(|value| delta_seconds(crate::syntax::trim_ws(value)))
    }

    /// The entries of every History-Info header (RFC 7044), raw, in order.
    pub fn history_info(&self) -> Vec<&str> {
        self.list_entries(HeaderName::HistoryInfo)
    }

    /// The entries of every Diversion header (RFC 5806), raw, in order.
    pub fn diversion(&self) -> Vec<&str> {
        self.list_entries(HeaderName::Diversion)
    }

    /// The Referred-By value (RFC 3892), raw.
    pub fn referred_by(&self) -> Option<&str> {
        self.header(HeaderName::ReferredBy)
    }

    /// The Record-Route entries in order (raw values, each `<uri>;params`).
    pub fn record_route(&self) -> Vec<&str> {
        self.list_entries(HeaderName::RecordRoute)
    }

    fn token_lists(&self, name: HeaderName<'_>) -> Option<Vec<&str>> {
        let mut all = Vec::new();
        for value in self.headers_named(name) {
            all.extend(token_list(value)?);
        }
        Some(all)
    }

    fn list_entries(&self, name: HeaderName<'_>) -> Vec<&str> {
        self.headers_named(name)
            .flat_map(|value| split_list(value).unwrap_or_else(|| vec![value]))
            .filter(|entry| !entry.is_empty())
            .collect()
    }
}
