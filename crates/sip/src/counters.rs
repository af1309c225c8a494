//! Counters the server keeps as plain atomics, for the application to export (Prometheus).

use std::sync::atomic::{AtomicU64, Ordering};

/// What the SIP layer has seen and done. Monotonic counters unless marked as a gauge.
/// All loads and stores are `Relaxed`: these are statistics, not synchronisation.
#[derive(Debug, Default)]
pub struct SipCounters {
    /// Datagrams and framed stream messages received (before parsing).
    pub messages_received: AtomicU64,
    /// Messages that could not be parsed or framed (dropped, or answered 4xx when possible).
    pub parse_errors: AtomicU64,
    /// Parsed requests handed to the transaction layer.
    pub requests_received: AtomicU64,
    /// Parsed responses handed to the transaction layer.
    pub responses_received: AtomicU64,
    /// Request retransmissions absorbed (answered from the stored response, or ACKs absorbed).
    pub retransmissions_absorbed: AtomicU64,
    /// Responses and requests re-sent by a retransmission timer.
    pub retransmissions_sent: AtomicU64,
    /// Messages handed to a transport for sending.
    pub messages_sent: AtomicU64,
    /// Messages a transport could not send (no connection, socket error).
    pub send_errors: AtomicU64,
    /// Requests the SIP layer answered with an error itself (400 for parse errors,
    /// 405, 416, 420, 481, 500, 501, 503).
    pub requests_rejected: AtomicU64,
    /// OPTIONS answered 200 OK by the SIP layer (keep-alives).
    pub options_answered: AtomicU64,
    /// Transactions that timed out (no ACK for a final response, no answer from the
    /// application, no response to a request sent).
    pub transaction_timeouts: AtomicU64,
    /// ACKs and responses that matched no transaction or dialog (dropped).
    pub unmatched_messages: AtomicU64,
    /// Requests refused with 503 because the application's event channel was full.
    pub events_dropped: AtomicU64,
    /// TCP connections accepted.
    pub tcp_connections_accepted: AtomicU64,
    /// TCP connections refused (connection limit).
    pub tcp_connections_rejected: AtomicU64,
    /// Gauge: TCP connections open now.
    pub tcp_connections_open: AtomicU64,
    /// Gauge: transactions alive now.
    pub transactions_active: AtomicU64,
    /// Gauge: dialogs (early or confirmed) alive now.
    pub dialogs_active: AtomicU64,
}

impl SipCounters {
    /// Every counter as `(name, value)`, names in snake case (`sip_` prefix left to the exporter).
    pub fn snapshot(&self) -> Vec<(&'static str, u64)> {
        let read = |counter: &AtomicU64| counter.load(Ordering::Relaxed);
        vec![
            ("messages_received", read(&self.messages_received)),
            ("parse_errors", read(&self.parse_errors)),
            ("requests_received", read(&self.requests_received)),
            ("responses_received", read(&self.responses_received)),
            ("retransmissions_absorbed", read(&self.retransmissions_absorbed)),
            ("retransmissions_sent", read(&self.retransmissions_sent)),
            ("messages_sent", read(&self.messages_sent)),
            ("send_errors", read(&self.send_errors)),
            ("requests_rejected", read(&self.requests_rejected)),
            ("options_answered", read(&self.options_answered)),
            ("transaction_timeouts", read(&self.transaction_timeouts)),
            ("unmatched_messages", read(&self.unmatched_messages)),
            ("events_dropped", read(&self.events_dropped)),
            ("tcp_connections_accepted", read(&self.tcp_connections_accepted)),
            ("tcp_connections_rejected", read(&self.tcp_connections_rejected)),
            ("tcp_connections_open", read(&self.tcp_connections_open)),
            ("transactions_active", read(&self.transactions_active)),
            ("dialogs_active", read(&self.dialogs_active)),
        ]
    }
}

/// Adds one to `counter`.
pub(crate) fn bump(counter: &AtomicU64) {
    counter.fetch_add(1, Ordering::Relaxed);
}

/// Sets gauge `counter` to `value`.
pub(crate) fn set(counter: &AtomicU64, value: usize) {
    counter.store(u64::try_from(value).unwrap_or(u64::MAX), Ordering::Relaxed);
}
