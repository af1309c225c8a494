//! Integration tests for the RTP side of the media crate: RTP and RTCP parsing,
//! stream reception (reordering, loss, wrap, SSRC change), RFC 4733 and in-band
//! DTMF, the codecs, and a no-panic loop over random packets.
//!
//! One test binary; its modules live in `tests/media/`.

#[path = "media/codecs.rs"]
mod codecs;
#[path = "media/inband.rs"]
mod inband;
#[path = "media/receiver.rs"]
mod receiver;
#[path = "media/robustness.rs"]
mod robustness;
#[path = "media/rtcp.rs"]
mod rtcp;
#[path = "media/rtp.rs"]
mod rtp;
#[path = "media/support.rs"]
mod support;
#[path = "media/telephone_event.rs"]
mod telephone_event;
