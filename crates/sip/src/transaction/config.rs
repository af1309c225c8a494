//! Transaction layer settings: RFC 3261 timers and what this user-agent server supports.

use std::time::Duration;

use crate::method::Method;

/// Settings of a [`TransactionLayer`](super::TransactionLayer).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TransactionConfig {
    /// T1, the round-trip estimate (500 ms).
    pub t1: Duration,
    /// T2, the cap of doubling retransmission intervals (4 s).
    pub t2: Duration,
    /// T4, the time a message may stay in the network (5 s).
    pub t4: Duration,
    /// Methods the application handles; others get 405 (known methods, with Allow) or 501.
    pub allowed_methods: Vec<Method>,
    /// Option tags the application supports: a Require naming another gets 420, and
    /// the OPTIONS answer lists them in Supported.
    pub supported: Vec<String>,
    /// Body types listed in Accept of the OPTIONS answer.
    pub accept: Vec<String>,
    /// Whether the layer answers OPTIONS 200 itself (SBC keep-alives) instead of
    /// delivering them.
    pub answer_options: bool,
    /// The Server header of the layer's own responses, if any.
    pub server_header: Option<String>,
    /// The sent-by (`host:port`) for the Via of requests this side sends (BYE).
    pub via_sent_by: String,
    /// Seed of the To tags and branches the layer makes (the runner picks a random
    /// one; tests a fixed one).
    pub seed: u64,
}

impl Default for TransactionConfig {
    fn default() -> Self {
        TransactionConfig {
            t1: Duration::from_millis(500),
            t2: Duration::from_secs(4),
            t4: Duration::from_secs(5),
            allowed_methods: vec![
                Method::Invite,
                Method::Ack,
                Method::Bye,
                Method::Cancel,
                Method::Options,
                Method::Update,
                Method::Info,
            ],
            supported: vec!["timer".to_owned()],
            accept: vec!["application/sdp".to_owned()],
            answer_options: true,
            server_header: None,
            via_sent_by: "127.0.0.1:5060".to_owned(),
            seed: 0x5eed,
        }
    }
}

impl TransactionConfig {
    /// 64·T1, the lifetime of most timers (32 s).
    pub fn timeout_64_t1(&self) -> Duration {
        self.t1.saturating_mul(64)
    }

    /// The Allow header value.
    pub fn allow_header(&self) -> String {
        self.allowed_methods
            .iter()
            .map(Method::as_str)
            .filter(|name| !name.is_empty())
            .collect::<Vec<_>>()
            .join(", ")
    }
}
