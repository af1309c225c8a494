//! Splitting a stream transport's byte stream (TCP) into messages by Content-Length.

#![deny(
    clippy::indexing_slicing,
    clippy::arithmetic_side_effects,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic
)]

use crate::error::ParseError;
use crate::header_name::HeaderName;
use crate::limits::Limits;
use crate::parse::{leading_line_ends, parse_content_length};
use crate::syntax::trim_ws;

/// [`frame_stream_with`] with the default [`Limits`].
pub fn frame_stream(buf: &[u8]) -> Result<Option<usize>, ParseError> {
    frame_stream_with(buf, &Limits::DEFAULT)
}

/// The length of the first complete message at the start of `buf`, or `None` if
/// more bytes are needed.
///
/// The length counts any keep-alive line ends before the message (which
/// [`parse_message`](crate::parse_message) skips) plus the header section plus
/// Content-Length body bytes. Errors mean the stream cannot be resynchronised and the
/// connection should be closed: no Content-Length, a malformed one, or a message
/// (announced or accumulated) beyond the limits.
pub fn frame_stream_with(buf: &[u8], limits: &Limits) -> Result<Option<usize>, ParseError> {
    let skip = leading_line_ends(buf);
    let message = buf.get(skip..).unwrap_or_default();
    if message.is_empty() {
        return Ok(None);
    }
    let too_large = |size| ParseError::MessageTooLarge {
        size,
        limit: limits.max_message_size,
    };
    let mut offset = 0usize;
    let mut content_length: Option<usize> = None;
    let mut first_line = true;
    let header_len = loop {
        let rest = message.get(offset..).unwrap_or_default();
        let Some(end) = rest.iter().position(|&b| b == b'\n') else {
            if rest.len() > limits.max_line_length {
                return Err(ParseError::LineTooLong {
                    limit: limits.max_line_length,
                });
            }
            if message.len() > limits.max_message_size {
                return Err(too_large(message.len()));
            }
            return Ok(None);
        };
        if end > limits.max_line_length {
            return Err(ParseError::LineTooLong {
                limit: limits.max_line_length,
            });
        }
        let line = rest.get(..end).unwrap_or_default();
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        offset = offset
            .checked_add(end)
            .and_then(|o| o.checked_add(1))
            .ok_or(too_large(usize::MAX))?;
        if offset > limits.max_message_size {
            return Err(too_large(offset));
        }
        if line.is_empty() {
            break offset;
        }
        if std::mem::take(&mut first_line) || line.starts_with(b" ") || line.starts_with(b"\t") {
            continue;
        }
        let Some(colon) = line.iter().position(|&b| b == b':') else {
            continue;
        };
        let (name, value) = line.split_at_checked(colon).unwrap_or_default();
        let name = std::str::from_utf8(name).unwrap_or_default();
        if HeaderName::parse(trim_ws(name)) != HeaderName::ContentLength {
            continue;
        }
        let value =
            std::str::from_utf8(value.get(1..).unwrap_or_default()).map_err(|_| ParseError::BadContentLength)?;
        let length = parse_content_length(trim_ws(value))?;
        if content_length.is_some_and(|previous| previous != length) {
            return Err(ParseError::BadContentLength);
        }
        content_length = Some(length);
    };
    let body_len = content_length.ok_or(ParseError::MissingContentLength)?;
    let message_len = header_len.checked_add(body_len).ok_or(too_large(usize::MAX))?;
    if message_len > limits.max_message_size {
        return Err(too_large(message_len));
    }
    let total = skip.checked_add(message_len).ok_or(too_large(usize::MAX))?;
    Ok((buf.len() >= total).then_some(total))
}
