//! `multipart/mixed` bodies (RFC 2046 §5.1): splits a SIPREC INVITE body into its parts.
//!
//! What is accepted, beyond the letter of RFC 2046, because real recording clients send it:
//!
//! - CRLF or bare LF line ends (also mixed), transport padding (spaces, tabs) after a delimiter;
//! - any preamble before the first delimiter and any epilogue after the closing one;
//! - **a missing closing delimiter** when the last part is complete (its headers end with a
//!   blank line): Cisco CUBE, Sonus/Ribbon and SEMS-based clients (procomm) end the body with
//!   the last part. The SIP Content-Length already frames the body, so the last part then runs
//!   to the end of the body. A body that ends inside the last part's headers is still an error
//!   ([`MultipartError::NoClosingDelimiter`]).
//!
//! A line is a delimiter only when it is exactly `--boundary` (or `--boundary--`) followed by
//! optional padding and the line end; content lines that merely begin with the boundary are
//! content. Error messages name part and line numbers, never the body's text.

#![deny(
    clippy::indexing_slicing,
    clippy::arithmetic_side_effects,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic
)]

use crate::media_type::MediaType;

/// At most this many parts are accepted (a SIPREC body has two or three).
pub const MAX_PARTS: usize = 16;

/// The longest boundary RFC 2046 allows.
const MAX_BOUNDARY_LEN: usize = 70;

/// One body part: its headers and its content, borrowed from the whole body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Part<'a> {
    /// Every header in order as (name as written, value trimmed, folded lines joined by a space).
    pub headers: Vec<(String, String)>,
    /// The first `Content-Type` value, if any.
    pub content_type: Option<String>,
    /// The first `Content-Disposition` value, if any.
    pub content_disposition: Option<String>,
    /// The first `Content-ID` value, if any.
    pub content_id: Option<String>,
    /// The content after the blank line that ends the headers, without the line end that
    /// belongs to the next delimiter.
    pub body: &'a [u8],
}

impl Part<'_> {
    /// The first header called `name` (ASCII case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The parsed Content-Type; `None` when absent or not a well-formed media type.
    pub fn media_type(&self) -> Option<MediaType> {
        self.content_type.as_deref().and_then(MediaType::parse)
    }
}

/// Why a body could not be split into parts. [`MultipartError::code`] is stable.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum MultipartError {
    /// The Content-Type is absent, malformed, or not `multipart/*`.
    #[error("the body is not multipart: its Content-Type is not multipart/*")]
    NotMultipart,
    /// The multipart Content-Type has no `boundary` parameter.
    #[error("the multipart Content-Type has no boundary parameter")]
    MissingBoundary,
    /// The boundary is empty, longer than 70 characters, or holds control or non-ASCII
    /// characters (or ends with a space).
    #[error("the multipart boundary is not 1 to 70 printable ASCII characters")]
    InvalidBoundary,
    /// No delimiter line with the boundary opens a part.
    #[error("the body holds no part delimited by its boundary")]
    NoParts,
    /// The body ends inside the headers of its last part and has no closing delimiter:
    /// it was cut off.
    #[error("the body ends inside the headers of part {part} and has no closing delimiter")]
    NoClosingDelimiter {
        /// The part (1-based) that was cut off.
        part: usize,
    },
    /// A header line of a part is not `Name: value`, or not ASCII/UTF-8, or a continuation
    /// line comes first.
    #[error("part {part}: header line {line} is not a `Name: value` header")]
    BadPartHeader {
        /// The part, 1-based.
        part: usize,
        /// The header line within the part, 1-based.
        line: usize,
    },
    /// More than [`MAX_PARTS`] parts.
    #[error("the body has more than {max} parts")]
    TooManyParts {
        /// The limit, [`MAX_PARTS`].
        max: usize,
    },
}

impl MultipartError {
    /// A stable identifier for this kind of error, such as `"multipart-no-parts"`.
    pub fn code(&self) -> &'static str {
        match self {
            MultipartError::NotMultipart => "multipart-not-multipart",
            MultipartError::MissingBoundary => "multipart-missing-boundary",
            MultipartError::InvalidBoundary => "multipart-invalid-boundary",
            MultipartError::NoParts => "multipart-no-parts",
            MultipartError::NoClosingDelimiter { .. } => "multipart-no-closing-delimiter",
            MultipartError::BadPartHeader { .. } => "multipart-bad-part-header",
            MultipartError::TooManyParts { .. } => "multipart-too-many-parts",
        }
    }
}

/// Splits `body` by the boundary named in `content_type` (the Content-Type header's value,
/// e.g. `multipart/mixed;boundary=unique-boundary-1` or with a quoted boundary).
///
/// Returns every part in order, whatever its type; callers pick the ones they understand
/// and ignore the rest (e.g. Cisco's `application/gtd`). Never panics.
pub fn split_multipart<'a>(content_type: &str, body: &'a [u8]) -> Result<Vec<Part<'a>>, MultipartError> {
    let media_type = MediaType::parse(content_type).ok_or(MultipartError::NotMultipart)?;
    if media_type.type_name != "multipart" {
        return Err(MultipartError::NotMultipart);
    }
    let boundary = media_type.param("boundary").ok_or(MultipartError::MissingBoundary)?;
    if !valid_boundary(boundary) {
        return Err(MultipartError::InvalidBoundary);
    }
    let mut dash_boundary = Vec::with_capacity(boundary.len().saturating_add(2));
    dash_boundary.extend_from_slice(b"--");
    dash_boundary.extend_from_slice(boundary.as_bytes());

    let delimiters = find_delimiters(body, &dash_boundary);
    let closed = delimiters.last().is_some_and(|d| d.closing);
    let openings: Vec<&Delimiter> = delimiters.iter().filter(|d| !d.closing).collect();
    if openings.is_empty() {
        return Err(MultipartError::NoParts);
    }
    if openings.len() > MAX_PARTS {
        return Err(MultipartError::TooManyParts { max: MAX_PARTS });
    }

    let mut parts = Vec::with_capacity(openings.len());
    for (index, pair) in delimiters
        .windows(2)
        .enumerate()
        .filter(|(_, w)| w.first().is_some_and(|d| !d.closing))
    {
        let (Some(open), Some(next)) = (pair.first(), pair.get(1)) else {
            continue;
        };
        let end = strip_line_end_before(body, next.line_start).max(open.content_start);
        let raw = body.get(open.content_start..end).unwrap_or_default();
        parts.push(parse_part(raw, index.saturating_add(1), true)?);
    }
    if !closed {
        // The last opening delimiter has no successor: its part runs to the end of the body.
        if let Some(last) = delimiters.last() {
            let raw = body.get(last.content_start..).unwrap_or_default();
            parts.push(parse_part(raw, delimiters.len(), false)?);
        }
    }
    Ok(parts)
}

/// RFC 2046 allows 1–70 characters from a restricted set; any printable ASCII is accepted
/// here (the delimiter search is exact), but not a trailing space.
fn valid_boundary(boundary: &str) -> bool {
    !boundary.is_empty()
        && boundary.len() <= MAX_BOUNDARY_LEN
        && boundary.bytes().all(|b| (0x20..0x7f).contains(&b))
        && !boundary.ends_with(' ')
}

/// A delimiter line: where it starts, where the content after it starts, and whether it is
/// the closing delimiter.
#[derive(Debug, Clone, Copy)]
struct Delimiter {
    line_start: usize,
    content_start: usize,
    closing: bool,
}

/// Every delimiter line up to and including the first closing one.
fn find_delimiters(body: &[u8], dash_boundary: &[u8]) -> Vec<Delimiter> {
    let mut found = Vec::new();
    let mut line_start = 0usize;
    while line_start <= body.len() {
        let line = body.get(line_start..).unwrap_or_default();
        if let Some(delimiter) = delimiter_at(line, dash_boundary, line_start) {
            found.push(delimiter);
            if delimiter.closing || found.len() > MAX_PARTS {
                break;
            }
        }
        match line.iter().position(|&b| b == b'\n') {
            Some(newline) => line_start = line_start.saturating_add(newline).saturating_add(1),
            None => break,
        }
    }
    found
}

/// Whether `line` (the body from a line start to its end) begins with a delimiter line.
fn delimiter_at(line: &[u8], dash_boundary: &[u8], line_start: usize) -> Option<Delimiter> {
    let mut rest = line.strip_prefix(dash_boundary)?;
    let closing = match rest.strip_prefix(b"--") {
        Some(after) => {
            rest = after;
            true
        }
        None => false,
    };
    let padding = rest.iter().take_while(|&&b| b == b' ' || b == b'\t').count();
    let rest = rest.get(padding..)?;
    let line_end_len = if rest.is_empty() {
        0
    } else if rest.starts_with(b"\r\n") {
        2
    } else if rest.starts_with(b"\n") {
        1
    } else {
        return None;
    };
    let consumed = line.len().checked_sub(rest.len())?.checked_add(line_end_len)?;
    Some(Delimiter {
        line_start,
        content_start: line_start.checked_add(consumed)?,
        closing,
    })
}

/// The index before the line end (LF or CRLF) that precedes `line_start`.
fn strip_line_end_before(body: &[u8], line_start: usize) -> usize {
    let mut end = line_start;
    if end > 0 && body.get(end.saturating_sub(1)) == Some(&b'\n') {
        end = end.saturating_sub(1);
        if end > 0 && body.get(end.saturating_sub(1)) == Some(&b'\r') {
            end = end.saturating_sub(1);
        }
    }
    end
}

/// Parses one part's headers and finds its content. `complete` is false for a last part that
/// had no closing delimiter: it must then have the blank line that ends its headers.
fn parse_part(raw: &[u8], part: usize, complete: bool) -> Result<Part<'_>, MultipartError> {
    let mut headers: Vec<(String, String)> = Vec::new();
    let mut pos = 0usize;
    let mut line_number = 0usize;
    let body = loop {
        let rest = raw.get(pos..).unwrap_or_default();
        if rest.is_empty() {
            // No blank line: a part with headers only (allowed) unless it was cut off.
            if !complete && !headers.is_empty() {
                return Err(MultipartError::NoClosingDelimiter { part });
            }
            break rest;
        }
        line_number = line_number.saturating_add(1);
        let (line, next) = match rest.iter().position(|&b| b == b'\n') {
            Some(newline) => (rest.get(..newline).unwrap_or_default(), newline.saturating_add(1)),
            // The body ends inside the headers (no line end, no blank line): cut off.
            None if !complete => return Err(MultipartError::NoClosingDelimiter { part }),
            None => (rest, rest.len()),
        };
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        pos = pos.saturating_add(next);
        if line.is_empty() {
            break raw.get(pos..).unwrap_or_default();
        }
        let bad = MultipartError::BadPartHeader {
            part,
            line: line_number,
        };
        let text = std::str::from_utf8(line).map_err(|_| bad.clone())?;
        if text.starts_with([' ', '\t']) {
            let (_, value) = headers.last_mut().ok_or(bad)?;
            value.push(' ');
            value.push_str(text.trim());
            continue;
        }
        let (name, value) = text.split_once(':').ok_or(bad.clone())?;
        let name = name.trim_end();
        if name.is_empty() || !name.bytes().all(|b| b.is_ascii_graphic()) {
            return Err(bad);
        }
        headers.push((name.to_owned(), value.trim().to_owned()));
    };
    let first = |wanted: &str| {
        headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(wanted))
            .map(|(_, v)| v.clone())
    };
    Ok(Part {
        content_type: first("Content-Type"),
        content_disposition: first("Content-Disposition"),
        content_id: first("Content-ID"),
        headers,
        body,
    })
}
