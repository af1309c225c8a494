//! Answering a request that failed to parse: a lenient scan recovers the headers a
//! response must echo, so the peer learns what was wrong (400, 413, 505).

#![deny(
    clippy::indexing_slicing,
    clippy::arithmetic_side_effects,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic
)]

use crate::build::push_header;
use crate::error::ParseError;
use crate::header_name::HeaderName;
use crate::syntax::{is_token, trim_ws};

/// Bytes of a failed message the scan looks at.
const SCAN_LIMIT: usize = 64 * 1024;

/// The error response to `input` for `error`, or `None` when none should (or can) be
/// sent: the input is not a request, is an ACK (never answered), or has no Via to
/// answer along.
pub fn error_response(input: &[u8], error: &ParseError) -> Option<Vec<u8>> {
    if matches!(error, ParseError::Empty) {
        return None;
    }
    let input = input.get(..input.len().min(SCAN_LIMIT)).unwrap_or_default();
    let text = String::from_utf8_lossy(input);
    let mut lines = text
        .trim_start_matches(['\r', '\n'])
        .split('\n')
        .map(|line| line.trim_end_matches('\r'));
    let start = lines.next()?;
    let method = start.split(' ').next().unwrap_or_default();
    if !is_token(method) || method == "ACK" {
        return None;
    }
    let mut headers: Vec<(HeaderName<'_>, String)> = Vec::new();
    for line in lines {
        if line.is_empty() {
            break;
        }
        if line.starts_with([' ', '\t']) {
            if let Some((_, value)) = headers.last_mut() {
                value.push(' ');
                value.push_str(trim_ws(line));
            }
            continue;
        }
        if let Some((name, value)) = line.split_once(':') {
            headers.push((HeaderName::parse(trim_ws(name)), trim_ws(value).to_owned()));
        }
    }
    let clean = |value: &str| value.chars().filter(|c| !c.is_control()).collect::<String>();
    let mut out = Vec::with_capacity(256);
    if !headers.iter().any(|(name, _)| *name == HeaderName::Via) {
        return None;
    }
    out.extend_from_slice(format!("SIP/2.0 {} {}\r\n", error.status(), error.reason_phrase()).as_bytes());
    for wanted in [
        HeaderName::Via,
        HeaderName::From,
        HeaderName::To,
        HeaderName::CallId,
        HeaderName::CSeq,
    ] {
        for (name, value) in headers.iter().filter(|(name, _)| *name == wanted) {
            push_header(&mut out, name.as_str(), &clean(value));
        }
    }
    push_header(&mut out, "Content-Length", "0");
    out.extend_from_slice(b"\r\n");
    Some(out)
}
