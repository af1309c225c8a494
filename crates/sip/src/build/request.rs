//! Building requests the server sends itself (BYE when a session ends from this side).

use super::{push_body, push_header, sanitize};

/// A request under construction: `METHOD uri SIP/2.0` with one Via, Max-Forwards 70,
/// Route, From, To, Call-ID, CSeq, extra headers and an optional body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestBuilder {
    method: String,
    uri: String,
    via: String,
    routes: Vec<String>,
    from: String,
    to: String,
    call_id: String,
    cseq: u32,
    headers: Vec<(String, String)>,
    body: Option<(String, Vec<u8>)>,
}

impl RequestBuilder {
    /// A request for `method` (e.g. `"BYE"`) to `uri`; set the other fields with the
    /// methods below before [`build`](RequestBuilder::build).
    pub fn new(method: &str, uri: &str) -> RequestBuilder {
        RequestBuilder {
            method: method.to_owned(),
            uri: uri.to_owned(),
            via: String::new(),
            routes: Vec::new(),
            from: String::new(),
            to: String::new(),
            call_id: String::new(),
            cseq: 1,
            headers: Vec::new(),
            body: None,
        }
    }

    /// The Via value (`SIP/2.0/UDP host:port;branch=z9hG4bK...;rport`).
    pub fn via(mut self, via: &str) -> RequestBuilder {
        self.via = via.to_owned();
        self
    }

    /// The From value (with this side's tag).
    pub fn from(mut self, from: &str) -> RequestBuilder {
        self.from = from.to_owned();
        self
    }

    /// The To value (with the peer's tag).
    pub fn to(mut self, to: &str) -> RequestBuilder {
        self.to = to.to_owned();
        self
    }

    /// The Call-ID.
    pub fn call_id(mut self, call_id: &str) -> RequestBuilder {
        self.call_id = call_id.to_owned();
        self
    }

    /// The CSeq number (the method is the request's).
    pub fn cseq(mut self, number: u32) -> RequestBuilder {
        self.cseq = number;
        self
    }

    /// Route entries (the dialog's route set), in order.
    pub fn routes(mut self, routes: &[String]) -> RequestBuilder {
        self.routes = routes.to_vec();
        self
    }

    /// An extra header.
    pub fn header(mut self, name: &str, value: &str) -> RequestBuilder {
        self.headers.push((name.to_owned(), value.to_owned()));
        self
    }

    /// A body with its Content-Type.
    pub fn body(mut self, content_type: &str, body: Vec<u8>) -> RequestBuilder {
        self.body = Some((content_type.to_owned(), body));
        self
    }

    /// The request bytes.
    pub fn build(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(512);
        let start = format!(
            "{} {} SIP/2.0\r\n",
            sanitize(&self.method),
            sanitize(&self.uri).replace(' ', "%20")
        );
        out.extend_from_slice(start.as_bytes());
        push_header(&mut out, "Via", &self.via);
        push_header(&mut out, "Max-Forwards", "70");
        for route in &self.routes {
            push_header(&mut out, "Route", route);
        }
        push_header(&mut out, "From", &self.from);
        push_header(&mut out, "To", &self.to);
        push_header(&mut out, "Call-ID", &self.call_id);
        push_header(&mut out, "CSeq", &format!("{} {}", self.cseq, self.method));
        for (name, value) in &self.headers {
            push_header(&mut out, name, value);
        }
        push_body(&mut out, self.body.as_ref());
        out
    }
}
