//! Building a response to a received request (RFC 3261 §8.2.6).

use std::net::SocketAddr;

use super::{push_body, push_header, sanitize};
use crate::header_name::HeaderName;
use crate::headers::Via;
use crate::message::SipMessage;

/// A response under construction. It copies what RFC 3261 §8.2.6.2 says a response
/// echoes (every Via in order, From, To, Call-ID, CSeq) and, for 101–299, the
/// Record-Route of the request (§12.1.1), so it owns its data and outlives the request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResponseBuilder {
    status: u16,
    reason: String,
    vias: Vec<String>,
    from: String,
    to: String,
    to_has_tag: bool,
    call_id: String,
    cseq: String,
    record_route: Vec<String>,
    to_tag: Option<String>,
    headers: Vec<(String, String)>,
    body: Option<(String, Vec<u8>)>,
}

impl ResponseBuilder {
    /// A response with `status` and `reason` to `request`.
    pub fn new(request: &SipMessage<'_>, status: u16, reason: &str) -> ResponseBuilder {
        let copy = |name| request.header(name).unwrap_or_default().to_owned();
        ResponseBuilder {
            status,
            reason: reason.to_owned(),
            vias: request.headers_named(HeaderName::Via).map(str::to_owned).collect(),
            from: copy(HeaderName::From),
            to: copy(HeaderName::To),
            to_has_tag: request.to().tag().is_some(),
            call_id: copy(HeaderName::CallId),
            cseq: copy(HeaderName::CSeq),
            record_route: request
                .headers_named(HeaderName::RecordRoute)
                .map(str::to_owned)
                .collect(),
            to_tag: None,
            headers: Vec::new(),
            body: None,
        }
    }

    /// A response from raw echo values (used for the transaction layer's own
    /// responses). `to_has_tag` says whether `to` already carries a tag.
    pub(crate) fn from_parts(status: u16, reason: &str, echo: &crate::transaction::Echo) -> ResponseBuilder {
        ResponseBuilder {
            status,
            reason: reason.to_owned(),
            vias: echo.vias.clone(),
            from: echo.from.clone(),
            to: echo.to.clone(),
            to_has_tag: echo.to_has_tag,
            call_id: echo.call_id.clone(),
            cseq: echo.cseq.clone(),
            record_route: echo.record_route.clone(),
            to_tag: None,
            headers: Vec::new(),
            body: None,
        }
    }

    /// Marks the top Via with where the request really came from (RFC 3261 §18.2.1,
    /// RFC 3581): `received=<source IP>` when the sent-by host differs, and the
    /// `rport` value when the client asked for it.
    pub fn via_received(mut self, source: SocketAddr) -> ResponseBuilder {
        if let Some(top) = self.vias.first_mut() {
            *top = mark_received(top, source);
        }
        self
    }

    /// The To tag to add when the request's To has none (ignored otherwise, and for 100).
    pub fn to_tag(mut self, tag: &str) -> ResponseBuilder {
        self.to_tag = Some(tag.to_owned());
        self
    }

    /// An extra header (Contact, Allow, Supported, Require, Session-Expires, ...).
    pub fn header(mut self, name: &str, value: &str) -> ResponseBuilder {
        self.headers.push((name.to_owned(), value.to_owned()));
        self
    }

    /// A body with its Content-Type.
    pub fn body(mut self, content_type: &str, body: Vec<u8>) -> ResponseBuilder {
        self.body = Some((content_type.to_owned(), body));
        self
    }

    /// The status code.
    pub fn status(&self) -> u16 {
        self.status
    }

    /// The response bytes.
    pub fn build(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(512);
        out.extend_from_slice(format!("SIP/2.0 {} {}\r\n", self.status, sanitize(&self.reason)).as_bytes());
        for via in &self.vias {
            push_header(&mut out, "Via", via);
        }
        if (101..300).contains(&self.status) {
            for route in &self.record_route {
                push_header(&mut out, "Record-Route", route);
            }
        }
        push_header(&mut out, "From", &self.from);
        match &self.to_tag {
            Some(tag) if !self.to_has_tag && self.status != 100 => {
                push_header(&mut out, "To", &format!("{};tag={}", self.to, tag));
            }
            _ => push_header(&mut out, "To", &self.to),
        }
        push_header(&mut out, "Call-ID", &self.call_id);
        push_header(&mut out, "CSeq", &self.cseq);
        for (name, value) in &self.headers {
            push_header(&mut out, name, value);
        }
        push_body(&mut out, self.body.as_ref());
        out
    }
}

/// The Via value `via` with `received` and a filled-in `rport` for `source`.
pub(crate) fn mark_received(via: &str, source: SocketAddr) -> String {
    let Some(parsed) = Via::parse_list(via).and_then(|list| list.into_iter().next()) else {
        return via.to_owned();
    };
    let ip = source.ip().to_string();
    let host = parsed.host.trim_start_matches('[').trim_end_matches(']');
    let wants_rport = parsed.rport() == Some(None);
    let needs_received = !host.eq_ignore_ascii_case(&ip) && parsed.received().is_none();
    if !wants_rport && !needs_received {
        return via.to_owned();
    }
    // The first entry of a comma-separated value is the top one; edit only it.
    let (first, rest) = split_first_entry(via);
    let mut edited = String::with_capacity(first.len() + 48);
    for (index, piece) in first.split(';').enumerate() {
        let name = piece.split('=').next().unwrap_or_default().trim();
        if index > 0 && (name.eq_ignore_ascii_case("rport") || name.eq_ignore_ascii_case("received")) {
            continue;
        }
        if index > 0 {
            edited.push(';');
        }
        edited.push_str(piece);
    }
    edited.push_str(&format!(";received={ip}"));
    if parsed.rport().is_some() {
        edited.push_str(&format!(";rport={}", source.port()));
    }
    edited.push_str(rest);
    edited
}

fn split_first_entry(value: &str) -> (&str, &str) {
    match crate::syntax::split_list(value) {
        Some(items) if items.len() > 1 => {
            let first_len = items.first().map_or(0, |f| value.find(f).unwrap_or(0) + f.len());
            value.split_at_checked(first_len).unwrap_or((value, ""))
        }
        _ => (value, ""),
    }
}
