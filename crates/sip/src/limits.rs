//! Size limits the parser and the stream framer enforce on untrusted input.

/// Bounds on what the parser accepts; anything beyond is an error, never a panic
/// or an unbounded allocation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Largest message (start line, headers and body) in bytes.
    pub max_message_size: usize,
    /// Most header fields (after unfolding) in one message.
    pub max_headers: usize,
    /// Longest physical line (start line or header line) in bytes.
    pub max_line_length: usize,
}

impl Limits {
    /// 64 KiB per message, 256 header fields, 8 KiB per line.
    pub const DEFAULT: Limits = Limits {
        max_message_size: 64 * 1024,
        max_headers: 256,
        max_line_length: 8 * 1024,
    };
}

impl Default for Limits {
    fn default() -> Self {
        Limits::DEFAULT
    }
}
