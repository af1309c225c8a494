//! The body of a re-INVITE or UPDATE in a recorded call (RFC 3311, RFC 7866 §7.1.1):
//! nothing (a session refresh), an SDP offer with or without SIPREC metadata, or the
//! metadata alone. Pure.

/// What a re-INVITE or UPDATE carries.
pub enum SessionBody {
    /// No body: a session refresh (RFC 4028) or a re-INVITE without an offer.
    Empty,
    /// An SDP offer, and the metadata when the body is a SIPREC multipart.
    Offer(Box<siprec::SessionDescription>, Option<Box<siprec::RecordingMetadata>>),
    /// Recording metadata alone (an update of the participants, RFC 7866 §7.1.1).
    Metadata(Box<siprec::RecordingMetadata>),
}

/// Reads the body of a re-INVITE or UPDATE; `Err` holds the status to answer.
pub fn session_body(content_type: &str, body: &[u8]) -> Result<SessionBody, u16> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(SessionBody::Empty);
    }
    let media_type = content_type
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    match media_type.as_str() {
        "application/sdp" => siprec::parse_sdp(body)
            .map(|sdp| SessionBody::Offer(Box::new(sdp), None))
            .map_err(|_| 488),
        "application/rs-metadata+xml" | "application/rs-metadata" => siprec::parse_metadata(body)
            .map(|m| SessionBody::Metadata(Box::new(m)))
            .map_err(|_| 400),
        _ if media_type.starts_with("multipart/") => match siprec::parse_offer(content_type, body) {
            Ok(offer) => Ok(SessionBody::Offer(
                Box::new(offer.sdp),
                offer.metadata.ok().map(Box::new),
            )),
            // A multipart with the metadata and no SDP: a metadata update alone.
            Err(siprec::OfferError::NoSdpPart) => siprec::split_multipart(content_type, body)
                .ok()
                .and_then(|parts| {
                    parts.into_iter().find(|p| {
                        p.content_type
                            .as_deref()
                            .is_some_and(|t| t.to_ascii_lowercase().contains("rs-metadata"))
                    })
                })
                .and_then(|part| siprec::parse_metadata(part.body).ok())
                .map(|m| SessionBody::Metadata(Box::new(m)))
                .ok_or(400),
            Err(_) => Err(400),
        },
        _ => Err(415),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SDP: &str = "v=0\r\no=- 1 2 IN IP4 192.0.2.1\r\ns=-\r\nc=IN IP4 192.0.2.1\r\nt=0 0\r\n\
                       m=audio 4000 RTP/AVP 8\r\na=label:1\r\na=inactive\r\n";
    const METADATA: &str = "<recording xmlns='urn:ietf:params:xml:ns:recording:1'><datamode>partial</datamode>\
                            <participant participant_id='p'><nameID aor='sip:dana@pbx.example'/></participant>\
                            </recording>";

    /// What a body was read as: `empty`, `offer`, `offer+metadata`, `metadata`, or the status.
    fn kind(content_type: &str, body: &str) -> Result<&'static str, u16> {
        session_body(content_type, body.as_bytes()).map(|b| match b {
            SessionBody::Empty => "empty",
            SessionBody::Offer(_, None) => "offer",
            SessionBody::Offer(_, Some(_)) => "offer+metadata",
            SessionBody::Metadata(_) => "metadata",
        })
    }

    #[test]
    fn bodies() {
        let multipart = format!(
            "--b\r\nContent-Type: application/sdp\r\n\r\n{SDP}--b\r\n\
             Content-Type: application/rs-metadata+xml\r\n\r\n{METADATA}\r\n--b--\r\n"
        );
        let metadata_only = format!("--b\r\nContent-Type: application/rs-metadata+xml\r\n\r\n{METADATA}\r\n--b--\r\n");
        let cases: &[(&str, &str, Result<&str, u16>)] = &[
            ("", "", Ok("empty")),
            ("application/sdp", "\r\n", Ok("empty")),
            ("application/sdp", SDP, Ok("offer")),
            ("Application/SDP; charset=utf-8", SDP, Ok("offer")),
            ("application/sdp", "not sdp", Err(488)),
            ("application/rs-metadata+xml", METADATA, Ok("metadata")),
            ("application/rs-metadata", "<broken", Err(400)),
            ("multipart/mixed;boundary=b", &multipart, Ok("offer+metadata")),
            ("multipart/mixed;boundary=b", &metadata_only, Ok("metadata")),
            ("multipart/mixed;boundary=b", "--b\r\nbroken", Err(400)),
            ("text/plain", "hello", Err(415)),
        ];
        for (content_type, body, want) in cases {
            assert_eq!(kind(content_type, body), *want, "{content_type} {body:?}");
        }
    }
}
