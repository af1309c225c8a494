//! SIP (RFC 3261) for a user-agent server: parser, builder, transactions, dialogs, transports.
//!
//! The crate knows SIP, not recording: what an INVITE means is the application's
//! business. It is built as a pure core with IO at the edges: parsing, building and
//! the transaction state machine take bytes and the time as parameters and never read
//! a clock or a socket; only [`transport`] and [`server`] do IO (tokio).
//!
//! # Parsing (zero-copy, strict)
//!
//! - [`parse_message`]`(input, transport) -> Result<`[`SipMessage`]`<'_>, `[`ParseError`]`>`
//!   and [`parse_message_with`] (explicit [`Limits`]: message size, header count,
//!   line length). The message borrows `input`; folded header values are joined into
//!   an owned `Cow`. Compact forms and any letter case map to one [`HeaderName`].
//!   Content-Length rules depend on the [`Transport`]: UDP takes exactly
//!   Content-Length bytes (extra discarded, fewer an error) or the rest of the datagram
//!   without it; TCP requires it.
//! - [`frame_stream`]`(buf) -> Result<Option<usize>, ParseError>`: the length of the
//!   first complete message of a TCP byte stream.
//! - Typed accessors on [`SipMessage`]: `call_id`, `cseq` ([`headers::CSeq`]),
//!   `from`/`to` ([`headers::NameAddr`]: URI, display name, `tag()`), `vias`/`top_via`
//!   ([`headers::Via`]: sent-by, `branch()`, `rport()`, `received()`),
//!   `contacts`/`contact` (params such as `+sip.src`), `require`/`supported`/`allow`,
//!   `content_type` ([`headers::ContentType`] with `boundary()`), `max_forwards`,
//!   `session_expires`/`min_se`, `expires`, `history_info`, `diversion`,
//!   `referred_by`, `record_route`; raw access through `header`, `headers_named`,
//!   `header_str`; [`SipUri::parse`] for `sip:`/`sips:` URIs.
//! - Every [`ParseError`] has a stable `code()` (`"sip-missing-header"`, ...), the
//!   `status()` to answer with (400, 413 too large, 505 version) and a
//!   `reason_phrase()` naming the problem; [`error_response`] builds that answer
//!   from the bytes of a request that failed to parse.
//!
//! # Building
//!
//! - [`ResponseBuilder`]`::new(&request, status, reason)`: copies every Via in order,
//!   From, To, Call-ID, CSeq (and Record-Route for 101–299); `.to_tag()`,
//!   `.via_received(source)`, `.header()`, `.body()`, `.build() -> Vec<u8>`;
//!   Content-Length is always written, CR/LF in caller text cannot inject headers.
//! - [`RequestBuilder`] for the requests a UAS sends itself (BYE).
//!
//! # Transactions and dialogs (pure)
//!
//! [`TransactionLayer`] (RFC 3261 §17.2 with RFC 6026), configured by
//! [`TransactionConfig`] (T1/T2/T4, allowed methods, supported option tags, OPTIONS):
//!
//! - `on_request(&msg, source, transport, now) -> Vec<`[`Action`]`>`, `on_response`,
//!   `on_message` (either);
//! - `respond(`[`TransactionId`]`, response_bytes, now) -> Result<Vec<Action>, `[`RespondError`]`>`;
//! - `on_timer(now) -> Vec<Action>` whenever `next_deadline() -> Option<Instant>` passes;
//! - `send_bye(&`[`DialogId`]`, now)`, `dialog(&id)`, `dialogs()`, `remove_dialog(&id)`.
//!
//! [`Action`] is `Send { bytes, to, transport }`, `Deliver(`[`SipEvent`]`)` or
//! `TransactionTimeout(`[`TransactionTimeout`]`)`. The layer sends 100 Trying at once,
//! absorbs retransmitted requests (re-sending the last response), retransmits a 2xx
//! to INVITE (T1 doubling to T2) until its ACK and reports
//! [`TimeoutKind::AckFor2xx`] after 64·T1, retransmits failures over UDP until the ACK
//! (timer H reported), answers CANCEL 200 and the INVITE 487 (telling the
//! application), CANCEL for nothing 481, matches transactions by RFC 3261 branch with
//! the RFC 2543 fallback, keeps a dialog table so that in-dialog requests are
//! recognised (unknown dialogs: 481, CSeq going back: 500), answers OPTIONS itself,
//! and refuses methods (405/501), URI schemes (416) and required extensions (420) the
//! application did not declare.
//!
//! # Transports and the server (IO)
//!
//! [`SipServer`]`::start(`[`SipServerConfig`]`)` binds UDP and TCP on one address
//! ([`transport::UdpTransport`], [`transport::TcpTransport`] with per-connection
//! framing and CRLF keep-alive pongs), runs the layer on a tokio timer, and gives the
//! application `next_event() -> Option<SipEvent>` plus a [`SipHandle`]
//! (`respond`, `send_bye`, `counters`, `udp_local_addr`, `tcp_local_addr`,
//! `shutdown`). Garbage is dropped and counted, parseable-but-wrong requests get
//! their 4xx, requests the application's queue cannot take get 503. [`SipCounters`]
//! are plain atomics for a Prometheus exporter.

pub mod build;
mod counters;
mod error;
mod framing;
mod header_name;
pub mod headers;
mod limits;
mod message;
mod method;
mod parse;
mod reject;
pub mod server;
mod syntax;
pub mod transaction;
pub mod transport;
mod uri;

pub use build::{RequestBuilder, ResponseBuilder};
pub use counters::SipCounters;
pub use error::ParseError;
pub use framing::{frame_stream, frame_stream_with};
pub use header_name::HeaderName;
pub use limits::Limits;
pub use message::{Header, SipMessage, StartLine};
pub use method::Method;
pub use parse::{parse_message, parse_message_with};
pub use reject::error_response;
pub use server::{ServerStopped, SipHandle, SipServer, SipServerConfig};
pub use syntax::Params;
pub use transaction::{
    Action, CancelledInvite, Dialog, DialogId, DialogState, IncomingRequest, RespondError, ResponseReceived, SipEvent,
    TimeoutKind, TransactionConfig, TransactionId, TransactionLayer, TransactionTimeout,
};
pub use transport::Transport;
pub use uri::SipUri;
