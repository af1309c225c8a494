//! The parts of a request a response copies, kept owned so the layer can answer
//! (100, 481, 487, ...) after the request's buffer is gone.

use std::net::SocketAddr;

use crate::build::mark_received;
use crate::header_name::HeaderName;
use crate::message::SipMessage;

/// Owned copies of Via (top one marked with the source), From, To, Call-ID, CSeq
/// and Record-Route of a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Echo {
    pub(crate) vias: Vec<String>,
    pub(crate) from: String,
    pub(crate) to: String,
    pub(crate) to_has_tag: bool,
    pub(crate) call_id: String,
    pub(crate) cseq: String,
    pub(crate) record_route: Vec<String>,
}

impl Echo {
    pub(crate) fn of(request: &SipMessage<'_>, source: SocketAddr) -> Echo {
        let copy = |name| request.header(name).unwrap_or_default().to_owned();
        let mut vias: Vec<String> = request.headers_named(HeaderName::Via).map(str::to_owned).collect();
        if let Some(top) = vias.first_mut() {
            *top = mark_received(top, source);
        }
        Echo {
            vias,
            from: copy(HeaderName::From),
            to: copy(HeaderName::To),
            to_has_tag: request.to().tag().is_some(),
            call_id: copy(HeaderName::CallId),
            cseq: copy(HeaderName::CSeq),
            record_route: request
                .headers_named(HeaderName::RecordRoute)
                .map(str::to_owned)
                .collect(),
        }
    }
}
