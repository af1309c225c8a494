//! Serialising messages: responses to a received request, and requests the server
//! sends itself. Output is `Vec<u8>`; Content-Length is always written.

mod request;
mod response;

pub use request::RequestBuilder;
pub use response::ResponseBuilder;
pub(crate) use response::mark_received;

/// A header value or reason phrase with CR and LF replaced by spaces, so that no
/// caller-supplied text can inject header lines.
pub(crate) fn sanitize(text: &str) -> std::borrow::Cow<'_, str> {
    if text.contains(['\r', '\n']) {
        std::borrow::Cow::Owned(text.replace(['\r', '\n'], " "))
    } else {
        std::borrow::Cow::Borrowed(text)
    }
}

/// Appends `Name: value\r\n`.
pub(crate) fn push_header(out: &mut Vec<u8>, name: &str, value: &str) {
    out.extend_from_slice(sanitize(name).as_bytes());
    out.extend_from_slice(b": ");
    out.extend_from_slice(sanitize(value).as_bytes());
    out.extend_from_slice(b"\r\n");
}

/// Appends the optional Content-Type, the Content-Length, the empty line and the body.
pub(crate) fn push_body(out: &mut Vec<u8>, body: Option<&(String, Vec<u8>)>) {
    match body {
        Some((content_type, bytes)) => {
            push_header(out, "Content-Type", content_type);
            push_header(out, "Content-Length", &bytes.len().to_string());
            out.extend_from_slice(b"\r\n");
            out.extend_from_slice(bytes);
        }
        None => {
            push_header(out, "Content-Length", "0");
            out.extend_from_slice(b"\r\n");
        }
    }
}
