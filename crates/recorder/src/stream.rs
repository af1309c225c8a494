//! One stream's receive state (the hot path, driven by the capture engine): latched to
//! its first source, the jitter/loss receiver, DTMF detection, and encrypted chunks
//! handed to the spool once the consent gate is open. No socket and no clock of its
//! own: the engine passes datagrams and the time in. It never waits on the catalog.

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Instant;

use media::{AudioCodec, FrameBatch, InbandDetector, ReceiverConfig, RtpPacket, StreamReceiver, TelephoneEventTracker};
use tokio::sync::mpsc;

use crate::consent::DigitSource;

/// Gate state shared by the controller and the capture engine.
#[derive(Debug)]
pub struct SharedGate {
    /// Milliseconds since answer from which audio may be written; `u64::MAX` while not open.
    open_since_ms: AtomicU64,
}

impl SharedGate {
    pub fn new() -> Self {
        SharedGate {
            open_since_ms: AtomicU64::new(u64::MAX),
        }
    }

    pub fn open(&self, since_ms: u64) {
        self.open_since_ms.store(since_ms, Ordering::SeqCst);
    }

    fn allows(&self, at_ms: u64) -> bool {
        at_ms >= self.open_since_ms.load(Ordering::Relaxed)
    }
}

impl Default for SharedGate {
    fn default() -> Self {
        Self::new()
    }
}

/// What a stream tells the call's controller.
#[derive(Debug)]
pub enum StreamNews {
    Digit {
        stream: usize,
        digit: char,
        at_ms: u64,
        source: DigitSource,
    },
}

/// Commands for a stream.
pub enum StreamCommand {
    /// Audio may now be written through this writer.
    Writer(Box<vault::SpoolWriter>),
    /// The call ended: flush and hand back the [`StreamResult`].
    Stop,
}

/// What the sender said about a stream over RTCP (matched by the stream's SSRC).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RtcpSeen {
    /// Sender reports received.
    pub sender_reports: u64,
    /// The sender's packet and octet counts from its last sender report.
    pub sender_packets: Option<u32>,
    pub sender_octets: Option<u32>,
    /// An RTCP BYE named the stream's source.
    pub bye: bool,
}

/// What a finished stream hands back.
pub struct StreamResult {
    pub writer: Option<vault::SpoolWriter>,
    pub packets: u64,
    pub lost: u64,
    pub foreign_source_dropped: u64,
    /// Packets that arrived while the stream was paused (not stored).
    pub paused_dropped: u64,
    /// Arrival of the first and the last packet, in ms since answer.
    pub first_ms: Option<u64>,
    pub last_ms: u64,
    /// Sender reports and BYE from the shared RTCP port.
    pub rtcp: RtcpSeen,
}

/// What a stream is and whom it reports to (everything but its socket).
pub struct StreamSpec {
    pub index: usize,
    pub codec: AudioCodec,
    pub payload_type: u8,
    pub telephone_event_pt: Option<u8>,
    /// Digits count only on the customer's stream.
    pub customer: bool,
    pub gate: Arc<SharedGate>,
    /// Milliseconds since answer of the last packet (for the inactivity timeout).
    pub last_packet_ms: Arc<AtomicU64>,
    /// The stream is paused (`a=inactive`): packets are counted and dropped.
    pub paused: Arc<AtomicBool>,
    /// The call's id, sent with every piece of news.
    pub call_id: String,
    pub news: mpsc::UnboundedSender<(String, StreamNews)>,
}

/// A stream to hand to the capture engine: its socket, its answer time and its spec.
pub struct StreamTask {
    pub socket: std::net::UdpSocket,
    /// Time zero of the stream's millisecond clock.
    pub answered: Instant,
    pub spec: StreamSpec,
}

/// How much closed-gate audio a stream holds in memory (never on disk).
const HELD_MS: u64 = 2000;

fn bytes_per_second(codec: AudioCodec) -> usize {
    match codec {
        AudioCodec::Pcmu | AudioCodec::Pcma | AudioCodec::G722 => 8000,
        _ => 16_000,
    }
}

/// The receive state of one stream.
pub struct StreamState {
    spec: StreamSpec,
    receiver: StreamReceiver,
    tracker: TelephoneEventTracker,
    /// In-band detection: G.711 customer streams only.
    inband: Option<(InbandDetector, Vec<media::InbandDigit>)>,
    batch: FrameBatch,
    chunk: Vec<u8>,
    chunk_bytes: usize,
    writer: Option<vault::SpoolWriter>,
    /// Audio that arrived while the gate was closed, kept in memory only (at most
    /// HELD_MS) so that what follows a consent digit is not lost while the controller
    /// opens the recording.
    held: VecDeque<(u64, Vec<u8>)>,
    latched: Option<SocketAddr>,
    foreign: u64,
    packets: u64,
    paused_dropped: u64,
    rtcp: RtcpSeen,
}

impl StreamState {
    pub fn new(spec: StreamSpec) -> Self {
        let inband_wanted = spec.customer && matches!(spec.codec, AudioCodec::Pcmu | AudioCodec::Pcma);
        let chunk_bytes = bytes_per_second(spec.codec);
        StreamState {
            receiver: StreamReceiver::new(ReceiverConfig::new(spec.codec, spec.payload_type)),
            tracker: TelephoneEventTracker::new(spec.codec.rtp_clock_rate()),
            inband: inband_wanted.then(|| (InbandDetector::with_sample_rate(8000), Vec::new())),
            batch: FrameBatch::new(),
            chunk: Vec::with_capacity(chunk_bytes + 1024),
            chunk_bytes,
            writer: None,
            held: VecDeque::new(),
            latched: None,
            foreign: 0,
            packets: 0,
            paused_dropped: 0,
            rtcp: RtcpSeen::default(),
            spec,
        }
    }

    /// The source the stream follows now (for RTCP matching), once a packet arrived.
    pub fn ssrc(&self) -> Option<u32> {
        self.receiver.ssrc()
    }

    /// One datagram from `from`, received `now_ms` after answer.
    pub fn on_datagram(&mut self, from: SocketAddr, datagram: &[u8], now_ms: u64) {
        match self.latched {
            None => self.latched = Some(from),
            Some(source) if source != from => {
                self.foreign += 1;
                return;
            }
            Some(_) => {}
        }
        self.spec.last_packet_ms.store(now_ms, Ordering::Relaxed);
        if self.spec.paused.load(Ordering::Relaxed) {
            self.paused_dropped += 1;
            return;
        }
        let Ok(packet) = RtpPacket::parse(datagram) else { return };
        self.packets += 1;
        if Some(packet.payload_type) == self.spec.telephone_event_pt
            && let Ok(Some(event)) = self.tracker.push(&packet)
            && self.spec.customer
        {
            self.send_digit(event.digit.as_char(), now_ms, DigitSource::TelephoneEvent);
        }
        self.receiver.push(&packet, now_ms);
        self.drain(now_ms);
    }

    /// The engine's periodic visit: holes older than the reorder window are declared
    /// lost and what follows them is released.
    pub fn tick(&mut self, now_ms: u64) {
        self.drain(now_ms);
    }

    /// The gate opened and the recording began: audio goes to `writer` from now on,
    /// starting with what was held in memory since the opening time.
    pub fn attach_writer(&mut self, writer: vault::SpoolWriter) {
        self.writer = Some(writer);
        let gate = &self.spec.gate;
        let mut kept: Vec<u8> = self
            .held
            .drain(..)
            .filter(|(at, _)| gate.allows(*at))
            .flat_map(|(_, b)| b)
            .collect();
        kept.append(&mut self.chunk);
        self.chunk = kept;
        self.append_if_full();
    }

    /// A sender report for this stream's source.
    pub fn on_sender_report(&mut self, packets: u32, octets: u32) {
        self.rtcp.sender_reports += 1;
        self.rtcp.sender_packets = Some(packets);
        self.rtcp.sender_octets = Some(octets);
    }

    /// An RTCP BYE for this stream's source.
    pub fn on_rtcp_bye(&mut self) {
        self.rtcp.bye = true;
    }

    /// End of the stream: everything held is released and written.
    pub fn finish(mut self) -> StreamResult {
        self.receiver.flush_into(&mut self.batch);
        self.take_frames(false);
        if !self.chunk.is_empty()
            && let Some(w) = self.writer.as_mut()
            && let Err(err) = w.append(&self.chunk)
        {
            tracing::error!(stream = self.spec.index, "spool append failed: {err}");
        }
        let stats = self.receiver.stats();
        StreamResult {
            writer: self.writer,
            packets: self.packets,
            lost: stats.lost,
            foreign_source_dropped: self.foreign,
            paused_dropped: self.paused_dropped,
            first_ms: self.receiver.first_arrival_ms(),
            last_ms: self.spec.last_packet_ms.load(Ordering::Relaxed),
            rtcp: self.rtcp,
        }
    }

    fn drain(&mut self, now_ms: u64) {
        self.receiver.drain_ready_into(now_ms, &mut self.batch);
        if !self.batch.is_empty() {
            self.take_frames(true);
            self.append_if_full();
        }
    }

    fn append_if_full(&mut self) {
        if self.chunk.len() >= self.chunk_bytes
            && let Some(w) = self.writer.as_mut()
        {
            if let Err(err) = w.append(&self.chunk) {
                tracing::error!(stream = self.spec.index, "spool append failed: {err}");
            }
            self.chunk.clear();
        }
    }

    fn send_digit(&self, digit: char, at_ms: u64, source: DigitSource) {
        let news = StreamNews::Digit {
            stream: self.spec.index,
            digit,
            at_ms,
            source,
        };
        let _ = self.spec.news.send((self.spec.call_id.clone(), news));
    }

    /// Keeps the frames of `self.batch` the gate allows; while it is closed, holds the
    /// last moments in memory and (when `detect`) feeds in-band detection.
    fn take_frames(&mut self, detect: bool) {
        let first = self.receiver.first_arrival_ms().unwrap_or(0);
        let mut digits = Vec::new();
        for frame in self.batch.iter() {
            let at_ms = first + self.receiver.ticks_to_ms(frame.timeline);
            if self.spec.gate.allows(at_ms) {
                // The stored layout (length-prefixed records for Opus): media::stored.
                media::append_stored_frame(self.spec.codec, frame.payload, frame.duration, &mut self.chunk);
                continue;
            }
            let mut stored = Vec::with_capacity(frame.payload.len() + 4);
            media::append_stored_frame(self.spec.codec, frame.payload, frame.duration, &mut stored);
            self.held.push_back((at_ms, stored));
            while self
                .held
                .front()
                .is_some_and(|(t, _)| at_ms.saturating_sub(*t) > HELD_MS)
            {
                self.held.pop_front();
            }
            if detect && let Some((detector, found)) = self.inband.as_mut() {
                let samples = match self.spec.codec {
                    AudioCodec::Pcmu => media::decode_to_pcm16(media::SampleEncoding::MuLaw, frame.payload),
                    AudioCodec::Pcma => media::decode_to_pcm16(media::SampleEncoding::ALaw, frame.payload),
                    _ => Vec::new(),
                };
                found.clear();
                detector.process(&samples, found);
                digits.extend(found.iter().map(|d| (d.digit.as_char(), first + d.end_sample / 8)));
            }
        }
        for (digit, at_ms) in digits {
            self.send_digit(digit, at_ms, DigitSource::InBand);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const AGENT: &str = "127.0.0.1:4000";
    const OTHER: &str = "127.0.0.1:4002";

    fn state(
        customer: bool,
    ) -> (
        StreamState,
        mpsc::UnboundedReceiver<(String, StreamNews)>,
        Arc<AtomicBool>,
    ) {
        let (news, received) = mpsc::unbounded_channel();
        let paused = Arc::new(AtomicBool::new(false));
        let spec = StreamSpec {
            index: 1,
            codec: AudioCodec::Pcmu,
            payload_type: 0,
            telephone_event_pt: Some(101),
            customer,
            gate: Arc::new(SharedGate::new()),
            last_packet_ms: Arc::new(AtomicU64::new(0)),
            paused: paused.clone(),
            call_id: "call-1".into(),
            news,
        };
        (StreamState::new(spec), received, paused)
    }

    fn audio(seq: u16) -> Vec<u8> {
        RtpPacket::new(0, seq, u32::from(seq) * 160, 0x1234, &[0xff; 160]).to_bytes()
    }

    /// RFC 4733 event `event` (end bit set), three retransmissions as senders do.
    fn digit_end(seq: u16, event: u8) -> Vec<u8> {
        let body = [event, 0x80 | 10, 0x03, 0x20];
        RtpPacket::new(101, seq, 1600, 0x1234, &body).to_bytes()
    }

    fn from(addr: &str) -> SocketAddr {
        addr.parse().expect("address")
    }

    #[test]
    fn latches_to_the_first_source_and_counts_others() {
        let (mut s, _news, _) = state(false);
        // (source, sequence number) in arrival order
        let arrivals = [(AGENT, 1), (OTHER, 2), (AGENT, 2), (OTHER, 3), (AGENT, 3)];
        for (t, (source, seq)) in arrivals.iter().enumerate() {
            s.on_datagram(from(source), &audio(*seq), t as u64 * 20);
        }
        let result = s.finish();
        assert_eq!((result.packets, result.foreign_source_dropped, result.lost), (3, 2, 0));
        assert_eq!(result.last_ms, 80);
    }

    #[test]
    fn paused_packets_are_counted_not_kept() {
        let (mut s, _news, paused) = state(false);
        s.on_datagram(from(AGENT), &audio(1), 0);
        paused.store(true, Ordering::Relaxed);
        s.on_datagram(from(AGENT), &audio(2), 20);
        s.on_datagram(from(AGENT), &audio(3), 40);
        let result = s.finish();
        assert_eq!((result.packets, result.paused_dropped), (1, 2));
    }

    #[test]
    fn rfc4733_digits_count_on_the_customer_stream_only() {
        for (customer, expected) in [(true, vec!['5']), (false, vec![])] {
            let (mut s, mut news, _) = state(customer);
            s.on_datagram(from(AGENT), &audio(1), 0);
            for seq in 2..5 {
                s.on_datagram(from(AGENT), &digit_end(seq, 5), u64::from(seq) * 20);
            }
            drop(s);
            let mut digits = Vec::new();
            while let Ok((call, StreamNews::Digit { digit, stream, .. })) = news.try_recv() {
                assert_eq!((call.as_str(), stream), ("call-1", 1));
                digits.push(digit);
            }
            assert_eq!(digits, expected, "customer stream: {customer}");
        }
    }

    #[test]
    fn a_hole_is_declared_lost_by_the_tick_without_new_packets() {
        let (mut s, _news, _) = state(false);
        for (seq, at) in [(1, 0), (2, 20), (4, 60)] {
            s.on_datagram(from(AGENT), &audio(seq), at);
        }
        s.tick(1000);
        assert_eq!(s.receiver.stats().lost, 1);
    }

    #[test]
    fn sender_reports_and_bye_are_kept() {
        let (mut s, _news, _) = state(false);
        s.on_datagram(from(AGENT), &audio(1), 0);
        assert_eq!(s.ssrc(), Some(0x1234));
        s.on_sender_report(10, 1600);
        s.on_sender_report(250, 40_000);
        s.on_rtcp_bye();
        let rtcp = s.finish().rtcp;
        assert_eq!(
            rtcp,
            RtcpSeen {
                sender_reports: 2,
                sender_packets: Some(250),
                sender_octets: Some(40_000),
                bye: true
            }
        );
    }
}
