//! The strict, zero-copy message parser: start line, header fields (unfolded), the
//! Content-Length rules of datagram and stream transports, and header validation.

#![deny(
    clippy::indexing_slicing,
    clippy::arithmetic_side_effects,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic
)]

use std::borrow::Cow;

use crate::error::ParseError;
use crate::header_name::HeaderName;
use crate::headers::{CSeq, Contact, ContentType, NameAddr, Via};
use crate::limits::Limits;
use crate::message::{Header, SipMessage, StartLine};
use crate::syntax::{is_absolute_uri, is_token, trim_ws};
use crate::transport::Transport;
use crate::uri::SipUri;

/// Parses one message with the default [`Limits`].
///
/// `transport` decides the Content-Length rules: on a datagram transport (UDP) the
/// body is exactly Content-Length bytes (extra bytes are discarded, fewer is an
/// error) or, without Content-Length, the rest of the datagram; on a stream
/// transport (TCP) Content-Length is required. Line ends before the start line
/// (keep-alives) are skipped. Line ends are CRLF; a bare LF is tolerated.
pub fn parse_message(input: &[u8], transport: Transport) -> Result<SipMessage<'_>, ParseError> {
    parse_message_with(input, transport, &Limits::DEFAULT)
}

/// [`parse_message`] with explicit limits.
pub fn parse_message_with<'a>(
    input: &'a [u8],
    transport: Transport,
    limits: &Limits,
) -> Result<SipMessage<'a>, ParseError> {
    if input.len() > limits.max_message_size {
        return Err(ParseError::MessageTooLarge {
            size: input.len(),
            limit: limits.max_message_size,
        });
    }
    let skip = leading_line_ends(input);
    let message = input.get(skip..).unwrap_or_default();
    if message.is_empty() {
        return Err(ParseError::Empty);
    }
    let mut lines = Lines {
        input: message,
        consumed: 0,
        max_line_length: limits.max_line_length,
    };
    let Some(first) = lines.next_line()? else {
        // Not even one complete line: report what is wrong with it, if anything.
        parse_start_line(message)?;
        return Err(ParseError::Truncated);
    };
    let start_line = parse_start_line(first)?;
    let headers = parse_headers(&mut lines, limits)?;
    let rest = message.get(lines.consumed..).unwrap_or_default();
    let body = match content_length(&headers)? {
        Some(declared) => rest.get(..declared).ok_or(ParseError::ContentLengthExceedsData {
            declared,
            available: rest.len(),
        })?,
        None if transport.is_reliable() => return Err(ParseError::MissingContentLength),
        None => rest,
    };
    let raw_len = lines
        .consumed
        .checked_add(body.len())
        .ok_or(ParseError::BadContentLength)?;
    let message = SipMessage {
        start_line,
        headers,
        body,
        raw: message.get(..raw_len).unwrap_or(message),
    };
    validate(&message)?;
    Ok(message)
}

/// Number of CR and LF bytes at the start of `input` (keep-alives, RFC 3261 §7.5, RFC 5626 §4.4.1).
pub(crate) fn leading_line_ends(input: &[u8]) -> usize {
    input
        .iter()
        .position(|&b| b != b'\r' && b != b'\n')
        .unwrap_or(input.len())
}

/// Physical lines of the header section.
struct Lines<'a> {
    input: &'a [u8],
    consumed: usize,
    max_line_length: usize,
}

impl<'a> Lines<'a> {
    /// The next line without its line end; `None` when no complete line is left.
    fn next_line(&mut self) -> Result<Option<&'a [u8]>, ParseError> {
        let rest = self.input.get(self.consumed..).unwrap_or_default();
        let too_long = ParseError::LineTooLong {
            limit: self.max_line_length,
        };
        let Some(end) = rest.iter().position(|&b| b == b'\n') else {
            return if rest.len() > self.max_line_length {
                Err(too_long)
            } else {
                Ok(None)
            };
        };
        if end > self.max_line_length {
            return Err(too_long);
        }
        let line = rest.get(..end).unwrap_or_default();
        self.consumed = self
            .consumed
            .checked_add(end)
            .and_then(|c| c.checked_add(1))
            .ok_or(too_long)?;
        Ok(Some(line.strip_suffix(b"\r").unwrap_or(line)))
    }
}

fn check_controls(line: &[u8], part: &'static str) -> Result<(), ParseError> {
    if line.iter().any(|&b| (b < 0x20 && b != b'\t') || b == 0x7f) {
        return Err(ParseError::ControlCharacter(part));
    }
    Ok(())
}

fn parse_start_line(line: &[u8]) -> Result<StartLine<'_>, ParseError> {
    check_controls(line, "start line")?;
    let text = std::str::from_utf8(line).map_err(|_| ParseError::NotUtf8("start line"))?;
    let looks_like_status = text.get(..4).is_some_and(|p| p.eq_ignore_ascii_case("SIP/"));
    if looks_like_status {
        let mut parts = text.splitn(3, ' ');
        check_version(parts.next().unwrap_or_default())?;
        let code = parts.next().ok_or(ParseError::BadStatusCode)?;
        if code.len() != 3 || !code.bytes().all(|b| b.is_ascii_digit()) {
            return Err(ParseError::BadStatusCode);
        }
        let status: u16 = code.parse().map_err(|_| ParseError::BadStatusCode)?;
        if !(100..=699).contains(&status) {
            return Err(ParseError::BadStatusCode);
        }
        return Ok(StartLine::Response {
            status,
            reason: parts.next().unwrap_or_default(),
        });
    }
    let mut parts = text.split(' ');
    let (Some(method), Some(uri), Some(version), None) = (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(ParseError::BadStartLine(
            "expected METHOD SP Request-URI SP SIP-Version",
        ));
    };
    if method.is_empty() || uri.is_empty() || version.is_empty() {
        return Err(ParseError::BadStartLine("expected single spaces between the elements"));
    }
    if !is_token(method) {
        return Err(ParseError::BadMethod);
    }
    check_version(version)?;
    if !is_absolute_uri(uri) {
        return Err(ParseError::BadRequestUri("not an absolute URI"));
    }
    let scheme = uri.split_once(':').map(|(scheme, _)| scheme).unwrap_or_default();
    let is_sip = scheme.eq_ignore_ascii_case("sip") || scheme.eq_ignore_ascii_case("sips");
    if is_sip && SipUri::parse(uri).is_none() {
        return Err(ParseError::BadRequestUri("malformed SIP URI"));
    }
    Ok(StartLine::Request { method, uri })
}

fn check_version(version: &str) -> Result<(), ParseError> {
    if version.eq_ignore_ascii_case("SIP/2.0") {
        return Ok(());
    }
    let numbered = version
        .get(4..)
        .and_then(|number| number.split_once('.'))
        .is_some_and(|(major, minor)| {
            !major.is_empty()
                && !minor.is_empty()
                && major.bytes().all(|b| b.is_ascii_digit())
                && minor.bytes().all(|b| b.is_ascii_digit())
        });
    if version.get(..4).is_some_and(|p| p.eq_ignore_ascii_case("SIP/")) && numbered {
        Err(ParseError::VersionNotSupported)
    } else {
        Err(ParseError::BadStartLine("unknown protocol or version"))
    }
}

fn parse_headers<'a>(lines: &mut Lines<'a>, limits: &Limits) -> Result<Vec<Header<'a>>, ParseError> {
    let mut headers: Vec<Header<'a>> = Vec::new();
    loop {
        let line = lines.next_line()?.ok_or(ParseError::Truncated)?;
        if line.is_empty() {
            return Ok(headers);
        }
        check_controls(line, "header section")?;
        let text = std::str::from_utf8(line).map_err(|_| ParseError::NotUtf8("header section"))?;
        if text.starts_with([' ', '\t']) {
            let last = headers
                .last_mut()
                .ok_or(ParseError::BadHeaderLine("continuation line without a header"))?;
            let more = trim_ws(text);
            if !more.is_empty() {
                let value = last.value.to_mut();
                if !value.is_empty() {
                    value.push(' ');
                }
                value.push_str(more);
            }
            continue;
        }
        if headers.len() >= limits.max_headers {
            return Err(ParseError::TooManyHeaders {
                limit: limits.max_headers,
            });
        }
        let (name, value) = text
            .split_once(':')
            .ok_or(ParseError::BadHeaderLine("no colon after the header name"))?;
        let name = name.trim_end_matches([' ', '\t']);
        if !is_token(name) {
            return Err(ParseError::BadHeaderLine("invalid header name"));
        }
        headers.push(Header {
            name: HeaderName::parse(name),
            value: Cow::Borrowed(trim_ws(value)),
        });
    }
}

fn content_length(headers: &[Header<'_>]) -> Result<Option<usize>, ParseError> {
    let mut found = None;
    for header in headers.iter().filter(|h| h.name == HeaderName::ContentLength) {
        if found.is_some() {
            return Err(ParseError::DuplicateHeader("Content-Length"));
        }
        found = Some(parse_content_length(&header.value)?);
    }
    Ok(found)
}

/// A Content-Length value: 1 to 19 digits.
pub(crate) fn parse_content_length(value: &str) -> Result<usize, ParseError> {
    if value.is_empty() || value.len() > 19 || !value.bytes().all(|b| b.is_ascii_digit()) {
        return Err(ParseError::BadContentLength);
    }
    value.parse().map_err(|_| ParseError::BadContentLength)
}

/// The header checks every message must pass, in a fixed order.
fn validate(message: &SipMessage<'_>) -> Result<(), ParseError> {
    for (name, label) in [
        (HeaderName::CallId, "Call-ID"),
        (HeaderName::CSeq, "CSeq"),
        (HeaderName::From, "From"),
        (HeaderName::To, "To"),
        (HeaderName::MaxForwards, "Max-Forwards"),
        (HeaderName::ContentType, "Content-Type"),
    ] {
        if message.headers_named(name).nth(1).is_some() {
            return Err(ParseError::DuplicateHeader(label));
        }
    }
    let via_values: Vec<&str> = message.headers_named(HeaderName::Via).collect();
    if via_values.is_empty() {
        return Err(ParseError::MissingHeader("Via"));
    }
    if via_values.iter().any(|value| Via::parse_list(value).is_none()) {
        return Err(ParseError::InvalidHeader("Via"));
    }
    for (name, label) in [(HeaderName::From, "From"), (HeaderName::To, "To")] {
        let value = message.header(name).ok_or(ParseError::MissingHeader(label))?;
        NameAddr::parse(value).ok_or(ParseError::InvalidHeader(label))?;
    }
    let call_id = message
        .header(HeaderName::CallId)
        .ok_or(ParseError::MissingHeader("Call-ID"))?;
    if call_id.is_empty() || !call_id.bytes().all(|b| b.is_ascii_graphic() || b >= 0x80) {
        return Err(ParseError::InvalidHeader("Call-ID"));
    }
    let cseq = message
        .header(HeaderName::CSeq)
        .ok_or(ParseError::MissingHeader("CSeq"))?;
    let cseq = CSeq::parse(cseq).ok_or(ParseError::InvalidHeader("CSeq"))?;
    if message.method_name().is_some_and(|method| cseq.method_name != method) {
        return Err(ParseError::CseqMethodMismatch);
    }
    if let Some(value) = message.header(HeaderName::MaxForwards) {
        let valid = !value.is_empty() && value.len() <= 10 && value.bytes().all(|b| b.is_ascii_digit());
        if !valid || value.parse::<u32>().ok().and_then(|v| u8::try_from(v).ok()).is_none() {
            return Err(ParseError::InvalidHeader("Max-Forwards"));
        }
    }
    match message.header(HeaderName::ContentType) {
        Some(value) => {
            ContentType::parse(value).ok_or(ParseError::InvalidHeader("Content-Type"))?;
        }
        None if !message.body().is_empty() => return Err(ParseError::MissingContentType),
        None => {}
    }
    let mut contacts = 0usize;
    for value in message.headers_named(HeaderName::Contact) {
        let list = Contact::parse_list(value).ok_or(ParseError::InvalidHeader("Contact"))?;
        contacts = contacts.saturating_add(list.len());
    }
    if message.method_name() == Some("INVITE") && contacts == 0 {
        return Err(ParseError::MissingHeader("Contact"));
    }
    Ok(())
}
