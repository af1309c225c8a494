//! SDP (RFC 4566): the subset a recording server reads in an offer, and the answer it builds.
//!
//! Parsing ([`parse_sdp`]) is strict where negotiation depends on it (`v=`, `o=`, `s=`, `c=`,
//! `m=`, `a=rtpmap`, `a=ptime`, `a=rtcp`) and tolerant elsewhere: unknown line types and
//! attributes are kept or skipped, empty lines and LF line ends are accepted, `c=` may be
//! missing (Connectel offers have none; RTP latches to the first source anyway) and a
//! connection address that is not an IP address (BroadWorks sends `X.X.X.X`) is kept as text
//! with no [`Connection::ip`]. It never panics.
//!
//! SRTP is not supported: an `RTP/SAVP`/`RTP/SAVPF` stream is rejected in the answer (port 0,
//! [`RejectReason::SrtpNotSupported`]); `a=crypto` on a plain `RTP/AVP` stream (best-effort
//! SRTP) is noted ([`NegotiatedStream::crypto_offered`]) and answered without crypto, i.e. as
//! plain RTP. Operators who need encrypted media to the recorder should configure the
//! recording client to send plain RTP over a trusted network (or a VPN) until SRTP exists.

mod answer;
mod error;
mod parse;

pub use answer::{AnswerParams, NegotiatedStream, ReceivingStream, RejectReason, StreamOutcome, build_answer};
pub use error::{SdpError, SdpErrorKind};
pub use parse::{MAX_MEDIA_SECTIONS, parse_sdp};

use std::net::IpAddr;

/// Media direction attributes (RFC 4566 §6, RFC 3264).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Direction {
    /// `a=sendrecv` (also the default when none is given).
    SendRecv,
    /// `a=sendonly`: the offerer sends, the usual SIPREC stream.
    SendOnly,
    /// `a=recvonly`: the offerer only receives.
    RecvOnly,
    /// `a=inactive`: no media either way (SIPREC: the stream is paused).
    Inactive,
}

impl Direction {
    /// The attribute name: `sendrecv`, `sendonly`, `recvonly` or `inactive`.
    pub fn as_str(&self) -> &'static str {
        match self {
            Direction::SendRecv => "sendrecv",
            Direction::SendOnly => "sendonly",
            Direction::RecvOnly => "recvonly",
            Direction::Inactive => "inactive",
        }
    }

    /// The direction named by an attribute name, if it is one of the four.
    pub fn from_attribute(name: &str) -> Option<Direction> {
        match name {
            "sendrecv" => Some(Direction::SendRecv),
            "sendonly" => Some(Direction::SendOnly),
            "recvonly" => Some(Direction::RecvOnly),
            "inactive" => Some(Direction::Inactive),
            _ => None,
        }
    }
}

/// A session description: the session-level lines and the media sections in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionDescription {
    /// The `o=` line.
    pub origin: Origin,
    /// The `s=` text.
    pub session_name: String,
    /// A session-level `c=` line, the default for media sections without one.
    pub connection: Option<Connection>,
    /// A session-level direction attribute, the default for media sections without one.
    pub direction: Option<Direction>,
    /// Every session-level `a=` line in order.
    pub attributes: Vec<Attribute>,
    /// The `m=` sections in order.
    pub media: Vec<MediaDescription>,
}

impl SessionDescription {
    /// The direction that applies to media section `media`: its own attribute, else the
    /// session-level one, else `sendrecv`.
    pub fn effective_direction(&self, media: &MediaDescription) -> Direction {
        media.direction.or(self.direction).unwrap_or(Direction::SendRecv)
    }

    /// The connection that applies to media section `media`: its own `c=`, else the
    /// session-level one.
    pub fn effective_connection<'a>(&'a self, media: &'a MediaDescription) -> Option<&'a Connection> {
        media.connection.as_ref().or(self.connection.as_ref())
    }
}

/// The `o=` line: `username sess-id sess-version nettype addrtype unicast-address`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Origin {
    /// The user name (`-` when none).
    pub username: String,
    /// The session id (digits by convention; kept as text).
    pub session_id: String,
    /// The session version (digits by convention; kept as text).
    pub session_version: String,
    /// Network type, address type and address.
    pub address: Connection,
}

/// A `c=` line (or the address part of `o=`): `nettype addrtype address[/ttl][/count]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Connection {
    /// Network type, normally `IN`.
    pub network_type: String,
    /// Address type, normally `IP4` or `IP6`.
    pub address_type: String,
    /// The address as written, without `/ttl` or `/count`.
    pub address: String,
    /// The address parsed as an IP address; `None` for host names or placeholders.
    pub ip: Option<IpAddr>,
}

/// Any `a=` line: `a=name` or `a=name:value`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attribute {
    /// The attribute name.
    pub name: String,
    /// The text after the first `:`, if any.
    pub value: Option<String>,
}

/// `a=rtpmap:<payload type> <encoding name>/<clock rate>[/<channels>]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RtpMap {
    /// The RTP payload type, 0–127.
    pub payload_type: u8,
    /// The encoding name as written (`PCMU`, `telephone-event`, `opus`).
    pub encoding: String,
    /// The RTP clock rate in Hz.
    pub clock_rate: u32,
    /// The channel count, when given.
    pub channels: Option<u8>,
}

/// `a=fmtp:<format> <parameters>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fmtp {
    /// The format (payload type) it applies to, as written.
    pub format: String,
    /// The format parameters as written (`0-16`, `useinbandfec=1`).
    pub parameters: String,
}

/// `a=rtcp:<port> [nettype addrtype address]` (RFC 3605).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RtcpAttribute {
    /// The RTCP port.
    pub port: u16,
    /// The RTCP address, when given.
    pub connection: Option<Connection>,
}

/// One `m=` section with the attributes a recording server cares about pulled out; every
/// `a=` line is also kept in [`MediaDescription::attributes`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MediaDescription {
    /// The media type: `audio`, `video`, `application`…
    pub media: String,
    /// The transport port; 0 means the offerer disabled the stream.
    pub port: u16,
    /// The `/<number of ports>` suffix, when given.
    pub port_count: Option<u16>,
    /// The transport protocol: `RTP/AVP`, `RTP/SAVP`…
    pub protocol: String,
    /// The formats as written (payload type numbers for RTP protocols).
    pub formats: Vec<String>,
    /// A media-level `c=` line.
    pub connection: Option<Connection>,
    /// `a=rtpmap` lines in order.
    pub rtpmaps: Vec<RtpMap>,
    /// `a=fmtp` lines in order.
    pub fmtps: Vec<Fmtp>,
    /// `a=ptime` in milliseconds (a fractional value is truncated).
    pub ptime: Option<u32>,
    /// `a=label` (RFC 4574): how SIPREC metadata names this stream.
    pub label: Option<String>,
    /// A media-level direction attribute.
    pub direction: Option<Direction>,
    /// `a=rtcp` (RFC 3605).
    pub rtcp: Option<RtcpAttribute>,
    /// The values of `a=crypto` lines (RFC 4568), kept only to note that SRTP was offered.
    pub crypto: Vec<String>,
    /// Every media-level `a=` line in order.
    pub attributes: Vec<Attribute>,
}

impl MediaDescription {
    /// Whether the protocol is RTP-based (`RTP/…` or `UDP/TLS/RTP/…`), so formats are
    /// payload type numbers.
    pub fn is_rtp(&self) -> bool {
        let protocol = self.protocol.to_ascii_uppercase();
        protocol.starts_with("RTP/") || protocol.starts_with("UDP/TLS/RTP/")
    }

    /// Whether the protocol is a secure RTP profile (`RTP/SAVP`, `RTP/SAVPF`, DTLS-SRTP).
    pub fn is_srtp(&self) -> bool {
        self.is_rtp() && self.protocol.to_ascii_uppercase().contains("SAVP")
    }

    /// The formats as payload type numbers (for RTP protocols; the parser has checked them).
    pub fn payload_types(&self) -> Vec<u8> {
        self.formats.iter().filter_map(|f| f.parse().ok()).collect()
    }

    /// The `a=rtpmap` for payload type `payload_type`, if any.
    pub fn rtpmap(&self, payload_type: u8) -> Option<&RtpMap> {
        self.rtpmaps.iter().find(|m| m.payload_type == payload_type)
    }

    /// The `a=fmtp` parameters for payload type `payload_type`, if any.
    pub fn fmtp(&self, payload_type: u8) -> Option<&str> {
        let wanted = payload_type.to_string();
        self.fmtps
            .iter()
            .find(|f| f.format == wanted)
            .map(|f| f.parameters.as_str())
    }
}
