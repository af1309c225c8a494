//! SIPREC (RFC 7866) offers for callvault: multipart bodies, SDP offer/answer and RFC 7865
//! recording metadata.
//!
//! Pure: no IO, no clock, no SIP transport, no storage, no policy. The SIP layer hands in a
//! body and its Content-Type, gets a [`SiprecOffer`] (or an [`OfferError`] with a stable code
//! to map to a 4xx), chooses ports, and calls [`build_answer`] for the SDP answer and the
//! [`NegotiatedStream`]s that tell the media layer what to receive. Every parser here takes
//! untrusted bytes and never panics (fuzz targets `siprec_*` in `fuzz/`). No error or problem
//! text contains values from the input (numbers, names, addresses).
//!
//! ```
//! use siprec::{AnswerParams, CodecKind, build_answer, parse_offer};
//!
//! let body = b"--b\r\nContent-Type: application/sdp\r\n\r\n\
//! v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\ns=-\r\nc=IN IP4 192.0.2.1\r\nt=0 0\r\n\
//! m=audio 4000 RTP/AVP 8\r\na=label:1\r\na=sendonly\r\n\
//! --b\r\nContent-Type: application/rs-metadata+xml\r\n\r\n\
//! <recording xmlns='urn:ietf:params:xml:ns:recording:1'><datamode>complete</datamode></recording>\r\n\
//! --b--\r\n";
//! let offer = parse_offer("multipart/mixed;boundary=b", body).unwrap();
//! let params = AnswerParams {
//!     local_ip: "192.0.2.9".parse().unwrap(),
//!     ports: vec![30000],
//!     rtcp_port: 29999,
//!     session_id: 1,
//!     session_version: 1,
//!     codecs: CodecKind::ALL.to_vec(),
//! };
//! let (answer, streams) = build_answer(&offer.sdp, &params);
//! assert!(answer.contains("m=audio 30000 RTP/AVP 8\r\n"));
//! assert!(answer.contains("a=recvonly\r\n"));
//! assert_eq!(streams[0].codec().unwrap().name(), "PCMA");
//! ```

pub mod codec;
pub mod media_type;
pub mod metadata;
pub mod multipart;
pub mod offer;
pub mod sdp;

pub use codec::{Codec, CodecKind};
pub use metadata::{
    CallData, ClientConsent, CommunicationSession, DataMode, MediaStream, MetadataProblem, MetadataWarning,
    Participant, RecordingMetadata, StreamAssociation, UpdateSummary, VendorHints, parse_metadata,
};
pub use multipart::{MultipartError, Part, split_multipart};
pub use offer::{MetadataMatch, OfferError, SiprecOffer, parse_offer};
pub use sdp::{
    AnswerParams, Direction, MediaDescription, NegotiatedStream, ReceivingStream, RejectReason, SdpError,
    SessionDescription, StreamOutcome, build_answer, parse_sdp,
};
