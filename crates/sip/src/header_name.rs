//! Header field names: case-insensitive matching and the compact forms of RFC 3261 §7.3.3 and its extensions.

/// A header field name, canonicalised: compact forms (`i`, `m`, `v`, ...) and any
/// letter case map to the same variant. Names the crate does not know are kept as
/// written in `Other` and compare case-insensitively.
#[derive(Debug, Clone, Copy, Eq)]
pub enum HeaderName<'a> {
    /// `Via` (compact form `v`).
    Via,
    /// `From` (compact form `f`).
    From,
    /// `To` (compact form `t`).
    To,
    /// `Call-ID` (compact form `i`).
    CallId,
    /// `CSeq`.
    CSeq,
    /// `Contact` (compact form `m`).
    Contact,
    /// `Content-Length` (compact form `l`).
    ContentLength,
    /// `Content-Type` (compact form `c`).
    ContentType,
    /// `Content-Encoding` (compact form `e`).
    ContentEncoding,
    /// `Content-Disposition`.
    ContentDisposition,
    /// `Max-Forwards`.
    MaxForwards,
    /// `Require`.
    Require,
    /// `Supported` (compact form `k`).
    Supported,
    /// `Unsupported`.
    Unsupported,
    /// `Allow`.
    Allow,
    /// `Accept`.
    Accept,
    /// `Subject` (compact form `s`).
    Subject,
    /// `Event` (compact form `o`).
    Event,
    /// `Allow-Events` (compact form `u`).
    AllowEvents,
    /// `Refer-To` (compact form `r`).
    ReferTo,
    /// `Referred-By` (compact form `b`).
    ReferredBy,
    /// `Session-Expires` (compact form `x`).
    SessionExpires,
    /// `Min-SE`.
    MinSe,
    /// `Accept-Contact` (compact form `a`).
    AcceptContact,
    /// `Reject-Contact` (compact form `j`).
    RejectContact,
    /// `Request-Disposition` (compact form `d`).
    RequestDisposition,
    /// `Identity` (compact form `y`).
    Identity,
    /// `Record-Route`.
    RecordRoute,
    /// `Route`.
    Route,
    /// `User-Agent`.
    UserAgent,
    /// `Server`.
    Server,
    /// `History-Info`.
    HistoryInfo,
    /// `Diversion`.
    Diversion,
    /// `Retry-After`.
    RetryAfter,
    /// `Timestamp`.
    Timestamp,
    /// `Expires`.
    Expires,
    /// `Date`.
    Date,
    /// `Warning`.
    Warning,
    /// Any other header, as spelled in the message.
    Other(&'a str),
}

const KNOWN: [(HeaderName<'static>, &str, Option<char>); 38] = [
    (HeaderName::Via, "Via", Some('v')),
    (HeaderName::From, "From", Some('f')),
    (HeaderName::To, "To", Some('t')),
    (HeaderName::CallId, "Call-ID", Some('i')),
    (HeaderName::CSeq, "CSeq", None),
    (HeaderName::Contact, "Contact", Some('m')),
    (HeaderName::ContentLength, "Content-Length", Some('l')),
    (HeaderName::ContentType, "Content-Type", Some('c')),
    (HeaderName::ContentEncoding, "Content-Encoding", Some('e')),
    (HeaderName::ContentDisposition, "Content-Disposition", None),
    (HeaderName::MaxForwards, "Max-Forwards", None),
    (HeaderName::Require, "Require", None),
    (HeaderName::Supported, "Supported", Some('k')),
    (HeaderName::Unsupported, "Unsupported", None),
    (HeaderName::Allow, "Allow", None),
    (HeaderName::Accept, "Accept", None),
    (HeaderName::Subject, "Subject", Some('s')),
    (HeaderName::Event, "Event", Some('o')),
    (HeaderName::AllowEvents, "Allow-Events", Some('u')),
    (HeaderName::ReferTo, "Refer-To", Some('r')),
    (HeaderName::ReferredBy, "Referred-By", Some('b')),
    (HeaderName::SessionExpires, "Session-Expires", Some('x')),
    (HeaderName::MinSe, "Min-SE", None),
    (HeaderName::AcceptContact, "Accept-Contact", Some('a')),
    (HeaderName::RejectContact, "Reject-Contact", Some('j')),
    (HeaderName::RequestDisposition, "Request-Disposition", Some('d')),
    (HeaderName::Identity, "Identity", Some('y')),
    (HeaderName::RecordRoute, "Record-Route", None),
    (HeaderName::Route, "Route", None),
    (HeaderName::UserAgent, "User-Agent", None),
    (HeaderName::Server, "Server", None),
    (HeaderName::HistoryInfo, "History-Info", None),
    (HeaderName::Diversion, "Diversion", None),
    (HeaderName::RetryAfter, "Retry-After", None),
    (HeaderName::Timestamp, "Timestamp", None),
    (HeaderName::Expires, "Expires", None),
    (HeaderName::Date, "Date", None),
    (HeaderName::Warning, "Warning", None),
];

impl<'a> HeaderName<'a> {
    /// The name for `raw` as written in a message (any case, long or compact form).
    pub fn parse(raw: &'a str) -> HeaderName<'a> {
        let mut chars = raw.chars();
        if let (Some(only), None) = (chars.next(), chars.next()) {
            let only = only.to_ascii_lowercase();
            if let Some((name, _, _)) = KNOWN.iter().find(|(_, _, compact)| *compact == Some(only)) {
                return *name;
            }
            return HeaderName::Other(raw);
        }
        KNOWN
            .iter()
            .find(|(_, canonical, _)| canonical.eq_ignore_ascii_case(raw))
            .map(|(name, _, _)| *name)
            .unwrap_or(HeaderName::Other(raw))
    }

    /// The canonical spelling (`Call-ID`, `CSeq`, ...), or the name as written for `Other`.
    pub fn as_str(&self) -> &'a str {
        match self {
            HeaderName::Other(raw) => raw,
            known => KNOWN
                .iter()
                .find(|(name, _, _)| name.same_variant(known))
                .map(|(_, canonical, _)| *canonical)
                .unwrap_or(""),
        }
    }

    /// The compact form, if the name has one.
    pub fn compact_form(&self) -> Option<char> {
        KNOWN
            .iter()
            .find(|(name, _, _)| name.same_variant(self))
            .and_then(|(_, _, compact)| *compact)
    }

    fn same_variant(&self, other: &HeaderName<'_>) -> bool {
        std::mem::discriminant(self) == std::mem::discriminant(other) && !matches!(self, HeaderName::Other(_))
    }
}

impl PartialEq for HeaderName<'_> {
    fn eq(&self, other: &Self) -> bool {
        match (self, other) {
            (HeaderName::Other(a), HeaderName::Other(b)) => a.eq_ignore_ascii_case(b),
            (a, b) => std::mem::discriminant(a) == std::mem::discriminant(b),
        }
    }
}

impl std::fmt::Display for HeaderName<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}
