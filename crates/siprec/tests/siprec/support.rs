//! Shared helpers: where the interop offers are, line-end conversion, answer parameters.

use std::path::PathBuf;

use siprec::{AnswerParams, CodecKind};

/// `../shared/interop/siprec-offers/` beside the workspace.
pub fn offers_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/interop/siprec-offers")
}

/// The bytes of one interop offer file, as stored (LF line ends).
pub fn read_offer(file: &str) -> Vec<u8> {
    let path = offers_dir().join(file);
    std::fs::read(&path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()))
}

/// The same bytes with every LF turned into CRLF, as on the wire.
pub fn to_crlf(body: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(body.len() + body.len() / 16);
    for &b in body {
        if b == b'\n' {
            out.push(b'\r');
        }
        out.push(b);
    }
    out
}

/// Local RTP port of stream `index` in tests.
pub fn port_for(index: usize) -> u16 {
    40000 + 2 * u16::try_from(index).expect("few streams")
}

/// The shared RTCP port in tests.
pub const RTCP_PORT: u16 = 39000;

/// Answer parameters with a port for each of `streams` streams and every codec.
pub fn answer_params(streams: usize) -> AnswerParams {
    AnswerParams {
        local_ip: "198.51.100.7".parse().expect("ip"),
        ports: (0..streams).map(port_for).collect(),
        rtcp_port: RTCP_PORT,
        session_id: 4242,
        session_version: 1,
        codecs: CodecKind::ALL.to_vec(),
    }
}

/// A minimal valid SDP with the given media sections appended (LF line ends).
pub fn sdp_with(media: &str) -> String {
    format!("v=0\no=- 1 1 IN IP4 192.0.2.1\ns=-\nc=IN IP4 192.0.2.1\nt=0 0\n{media}")
}
