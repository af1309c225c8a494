//! The SDP answer of a recording server (RFC 3264 with RFC 7866's rules): one m-line per
//! offered m-line, in order, receive-only, with the stream's label and the shared RTCP port.

#![deny(
    clippy::indexing_slicing,
    clippy::arithmetic_side_effects,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic
)]

use std::fmt::Write as _;
use std::net::IpAddr;

use super::{Direction, MediaDescription, SessionDescription};
use crate::codec::{Codec, CodecKind, choose_codec, choose_telephone_event};

/// What the caller decides for an answer: addresses, ports and codecs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AnswerParams {
    /// The address RTP and RTCP are received on (`c=` and `o=` of the answer).
    pub local_ip: IpAddr,
    /// The local RTP port for each offered m-line, by index; 0 (or a missing entry) rejects
    /// that stream, e.g. when no port could be allocated.
    pub ports: Vec<u16>,
    /// The one RTCP port shared by all streams, announced as `a=rtcp:` (RFC 3605).
    pub rtcp_port: u16,
    /// The `o=` session id; keep it for the dialog.
    pub session_id: u64,
    /// The `o=` session version; increment it for each new answer in the dialog.
    pub session_version: u64,
    /// The codecs that may be accepted. The offerer's order decides among them (the recording
    /// client is the only sender, so its first choice that we can store wins).
    pub codecs: Vec<CodecKind>,
}

/// Why an offered stream is answered with port 0.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum RejectReason {
    /// The offer itself disabled the stream (port 0).
    DisabledInOffer,
    /// Not `m=audio`.
    NotAudio,
    /// A protocol other than RTP/AVP or RTP/AVPF.
    UnsupportedProtocol,
    /// RTP/SAVP(F) or DTLS-SRTP: SRTP is not supported.
    SrtpNotSupported,
    /// None of the offered formats is a supported codec.
    NoSupportedCodec,
    /// The caller gave no port (0 or no entry) for this stream.
    NoPortAssigned,
}

impl RejectReason {
    /// A stable identifier, such as `"stream-no-supported-codec"`.
    pub fn code(&self) -> &'static str {
        match self {
            RejectReason::DisabledInOffer => "stream-disabled-in-offer",
            RejectReason::NotAudio => "stream-not-audio",
            RejectReason::UnsupportedProtocol => "stream-unsupported-protocol",
            RejectReason::SrtpNotSupported => "stream-srtp-not-supported",
            RejectReason::NoSupportedCodec => "stream-no-supported-codec",
            RejectReason::NoPortAssigned => "stream-no-port",
        }
    }
}

/// How an accepted stream is received.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReceivingStream {
    /// The local RTP port (from [`AnswerParams::ports`]).
    pub local_port: u16,
    /// The codec the recording client will send.
    pub codec: Codec,
    /// The RFC 4733 telephone-event payload type, when offered.
    pub telephone_event_pt: Option<u8>,
    /// The offered `a=ptime`, echoed in the answer.
    pub ptime_ms: Option<u32>,
    /// The stream is paused: offered `a=inactive` (or `a=recvonly`: the client sends nothing),
    /// answered `a=inactive`. No audio is expected and the inactivity timeout must not end it.
    pub paused: bool,
}

/// The outcome for one offered stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StreamOutcome {
    /// Answered with a port: RTP is expected (unless paused).
    Receiving(ReceivingStream),
    /// Answered with port 0.
    Rejected(RejectReason),
}

/// One offered m-line and what the answer made of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NegotiatedStream {
    /// The m-line's position in the offer (and the answer), from 0.
    pub index: usize,
    /// Its `a=label`, which the metadata uses to name the stream.
    pub label: Option<String>,
    /// The announced remote address, when it is an IP address (RTP latches to the first
    /// source seen anyway).
    pub remote_addr: Option<IpAddr>,
    /// The announced remote port.
    pub remote_port: u16,
    /// The offered direction (media level, else session level, else sendrecv).
    pub offered_direction: Direction,
    /// The offer carried `a=crypto` lines; they are not answered (plain RTP).
    pub crypto_offered: bool,
    /// Accepted or rejected.
    pub outcome: StreamOutcome,
}

impl NegotiatedStream {
    /// The receiving side, if the stream was accepted.
    pub fn receiving(&self) -> Option<&ReceivingStream> {
        match &self.outcome {
            StreamOutcome::Receiving(receiving) => Some(receiving),
            StreamOutcome::Rejected(_) => None,
        }
    }

    /// The chosen codec, if the stream was accepted.
    pub fn codec(&self) -> Option<Codec> {
        self.receiving().map(|r| r.codec)
    }

    /// Whether the stream was accepted but is paused (`a=inactive`).
    pub fn paused(&self) -> bool {
        self.receiving().is_some_and(|r| r.paused)
    }

    /// Whether the stream was answered with port 0.
    pub fn is_rejected(&self) -> bool {
        matches!(self.outcome, StreamOutcome::Rejected(_))
    }
}

/// Builds the answer to `offer`: the SDP text (CRLF line ends) and one [`NegotiatedStream`]
/// per offered m-line, in order.
///
/// Each accepted m-line carries exactly the chosen codec (the first offered payload type that
/// is in [`AnswerParams::codecs`]), the offered telephone-event payload type and its `a=fmtp`
/// when offered, the offered `a=ptime`, `a=rtcp:<shared port>`, the offered `a=label`, and
/// `a=recvonly` (`a=inactive` when the offered stream is inactive or receive-only). A rejected
/// m-line has port 0, the offered protocol and first format, and its label.
pub fn build_answer(offer: &SessionDescription, params: &AnswerParams) -> (String, Vec<NegotiatedStream>) {
    let address_type = if params.local_ip.is_ipv4() { "IP4" } else { "IP6" };
    let mut sdp = String::new();
    // Writing to a String cannot fail.
    let _ = write!(
        sdp,
        "v=0\r\no=callvault {} {} IN {address_type} {ip}\r\ns=callvault\r\nc=IN {address_type} {ip}\r\nt=0 0\r\n",
        params.session_id,
        params.session_version,
        ip = params.local_ip,
    );
    let mut streams = Vec::with_capacity(offer.media.len());
    for (index, media) in offer.media.iter().enumerate() {
        let stream = negotiate(offer, media, index, params);
        write_media(&mut sdp, media, &stream, params.rtcp_port);
        streams.push(stream);
    }
    (sdp, streams)
}

fn negotiate(
    offer: &SessionDescription,
    media: &MediaDescription,
    index: usize,
    params: &AnswerParams,
) -> NegotiatedStream {
    let offered_direction = offer.effective_direction(media);
    let outcome = match accept(
        media,
        offered_direction,
        params.ports.get(index).copied(),
        &params.codecs,
    ) {
        Ok(receiving) => StreamOutcome::Receiving(receiving),
        Err(reason) => StreamOutcome::Rejected(reason),
    };
    NegotiatedStream {
        index,
        label: media.label.clone(),
        remote_addr: offer.effective_connection(media).and_then(|c| c.ip),
        remote_port: media.port,
        offered_direction,
        crypto_offered: !media.crypto.is_empty(),
        outcome,
    }
}

fn accept(
    media: &MediaDescription,
    direction: Direction,
    local_port: Option<u16>,
    codecs: &[CodecKind],
) -> Result<ReceivingStream, RejectReason> {
    if media.port == 0 {
        return Err(RejectReason::DisabledInOffer);
    }
    if !media.media.eq_ignore_ascii_case("audio") {
        return Err(RejectReason::NotAudio);
    }
    if media.is_srtp() {
        return Err(RejectReason::SrtpNotSupported);
    }
    let protocol = media.protocol.to_ascii_uppercase();
    if protocol != "RTP/AVP" && protocol != "RTP/AVPF" {
        return Err(RejectReason::UnsupportedProtocol);
    }
    let codec = choose_codec(media, codecs).ok_or(RejectReason::NoSupportedCodec)?;
    let local_port = local_port.filter(|&p| p != 0).ok_or(RejectReason::NoPortAssigned)?;
    Ok(ReceivingStream {
        local_port,
        codec,
        telephone_event_pt: choose_telephone_event(media, &codec),
        ptime_ms: media.ptime,
        paused: matches!(direction, Direction::Inactive | Direction::RecvOnly),
    })
}

fn write_media(sdp: &mut String, media: &MediaDescription, stream: &NegotiatedStream, rtcp_port: u16) {
    // Writing to a String cannot fail.
    match &stream.outcome {
        StreamOutcome::Rejected(_) => {
            let format = media.formats.first().map(String::as_str).unwrap_or("0");
            let _ = write!(sdp, "m={} 0 {} {format}\r\n", media.media, media.protocol);
        }
        StreamOutcome::Receiving(receiving) => {
            let codec = receiving.codec;
            let _ = write!(
                sdp,
                "m=audio {} {} {}",
                receiving.local_port, media.protocol, codec.payload_type
            );
            if let Some(event) = receiving.telephone_event_pt {
                let _ = write!(sdp, " {event}");
            }
            let _ = write!(
                sdp,
                "\r\na=rtpmap:{} {}/{}",
                codec.payload_type,
                codec.name(),
                codec.clock_rate
            );
            if codec.channels > 1 {
                let _ = write!(sdp, "/{}", codec.channels);
            }
            sdp.push_str("\r\n");
            if let Some(parameters) = media.fmtp(codec.payload_type) {
                let _ = write!(sdp, "a=fmtp:{} {parameters}\r\n", codec.payload_type);
            }
            if let Some(event) = receiving.telephone_event_pt {
                let rate = media.rtpmap(event).map_or(8000, |m| m.clock_rate);
                let _ = write!(sdp, "a=rtpmap:{event} telephone-event/{rate}\r\n");
                if let Some(parameters) = media.fmtp(event) {
                    let _ = write!(sdp, "a=fmtp:{event} {parameters}\r\n");
                }
            }
            if let Some(ptime) = receiving.ptime_ms {
                let _ = write!(sdp, "a=ptime:{ptime}\r\n");
            }
            let _ = write!(sdp, "a=rtcp:{rtcp_port}\r\n");
            let direction = if receiving.paused { "inactive" } else { "recvonly" };
            let _ = write!(sdp, "a={direction}\r\n");
        }
    }
    if let Some(label) = &stream.label {
        let _ = write!(sdp, "a=label:{label}\r\n");
    }
}
