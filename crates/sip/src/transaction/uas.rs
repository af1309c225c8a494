//! The checks a user-agent server makes before handing a new request to the
//! application (RFC 3261 §8.2): method, URI scheme, dialog, CSeq order, extensions.

use super::config::TransactionConfig;
use super::dialog::Dialog;
use crate::message::SipMessage;
use crate::method::Method;

/// An error response the layer sends itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Rejection {
    pub(crate) status: u16,
    pub(crate) reason: &'static str,
    pub(crate) headers: Vec<(&'static str, String)>,
}

impl Rejection {
    fn new(status: u16, reason: &'static str) -> Rejection {
        Rejection {
            status,
            reason,
            headers: Vec::new(),
        }
    }
}

/// Methods that only make sense inside a dialog: without a To tag they get 481.
const IN_DIALOG_ONLY: [Method; 4] = [Method::Bye, Method::Update, Method::Info, Method::Prack];

/// Checks a new (non-ACK, non-CANCEL) request. `dialog` is the dialog its tags name,
/// if the table has it.
pub(crate) fn check_request(
    request: &SipMessage<'_>,
    config: &TransactionConfig,
    dialog: Option<&Dialog>,
) -> Result<(), Rejection> {
    let method = request.method().unwrap_or(Method::Extension);
    if !config.allowed_methods.contains(&method) || method == Method::Extension {
        return Err(match method {
            Method::Extension => Rejection::new(501, "Not Implemented"),
            _ => Rejection {
                headers: vec![("Allow", config.allow_header())],
                ..Rejection::new(405, "Method Not Allowed")
            },
        });
    }
    let scheme = request
        .request_uri()
        .and_then(|uri| uri.split_once(':'))
        .map(|(scheme, _)| scheme.to_ascii_lowercase())
        .unwrap_or_default();
    if !matches!(scheme.as_str(), "sip" | "sips" | "tel") {
        return Err(Rejection::new(416, "Unsupported URI Scheme"));
    }
    let has_to_tag = request.to().tag().is_some();
    if has_to_tag {
        let Some(dialog) = dialog else {
            return Err(Rejection::new(481, "Call/Transaction Does Not Exist"));
        };
        if request.cseq().number <= dialog.remote_cseq {
            return Err(Rejection::new(500, "CSeq Out of Order"));
        }
    } else if IN_DIALOG_ONLY.contains(&method) {
        return Err(Rejection::new(481, "Call/Transaction Does Not Exist"));
    }
    let Some(required) = request.require() else {
        return Err(Rejection::new(400, "Invalid Require Header"));
    };
    let unsupported: Vec<&str> = required
        .into_iter()
        .filter(|tag| !config.supported.iter().any(|s| s.eq_ignore_ascii_case(tag)))
        .collect();
    if !unsupported.is_empty() {
        return Err(Rejection {
            headers: vec![("Unsupported", unsupported.join(", "))],
            ..Rejection::new(420, "Bad Extension")
        });
    }
    Ok(())
}

/// The headers of the 200 answering OPTIONS: Allow, Accept, Supported.
pub(crate) fn options_headers(config: &TransactionConfig) -> Vec<(&'static str, String)> {
    vec![
        ("Allow", config.allow_header()),
        ("Accept", config.accept.join(", ")),
        ("Supported", config.supported.join(", ")),
    ]
}
