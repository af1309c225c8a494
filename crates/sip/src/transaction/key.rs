//! Matching requests to server transactions (RFC 3261 §17.2.3), by Via branch with the
//! RFC 2543 fallback.

use crate::message::SipMessage;

/// What identifies a server transaction.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) enum TransactionKey {
    /// The top Via has an RFC 3261 branch (`z9hG4bK...`): branch, sent-by, method.
    Branch {
        branch: String,
        sent_by: String,
        method: String,
    },
    /// RFC 2543 peers: Request-URI, Call-ID, From tag, CSeq number, top Via, method.
    Legacy {
        request_uri: String,
        call_id: String,
        from_tag: String,
        cseq: u32,
        top_via: String,
        method: String,
    },
}

impl TransactionKey {
    /// The key of `request`, with `method` in place of the request's own (an ACK or a
    /// CANCEL looks for the INVITE it refers to).
    pub(crate) fn of(request: &SipMessage<'_>, method: Option<&str>) -> TransactionKey {
        let method = method.or_else(|| request.method_name()).unwrap_or_default().to_owned();
        let top = request.top_via();
        match &top {
            Some(via) if via.has_rfc3261_branch() => TransactionKey::Branch {
                branch: via.branch().unwrap_or_default().to_owned(),
                sent_by: via.sent_by(),
                method,
            },
            _ => TransactionKey::Legacy {
                request_uri: request.request_uri().unwrap_or_default().to_owned(),
                call_id: request.call_id().to_owned(),
                from_tag: request.from().tag().unwrap_or_default().to_owned(),
                cseq: request.cseq().number,
                top_via: top
                    .map(|via| format!("{};{}", via.sent_by(), via.branch().unwrap_or_default()))
                    .unwrap_or_default(),
                method,
            },
        }
    }
}
