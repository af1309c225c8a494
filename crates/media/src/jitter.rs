//! Receive state of one RTP stream: sequence tracking across wraps and SSRC changes,
//! a reorder window, duplicate and loss accounting, and gap filling, so that the
//! stream comes out as contiguous frames on its RTP timestamp timeline.
//!
//! Pure: the caller passes each packet with its arrival time and asks for ready
//! frames with the current time. In-order packets are released at once; a hole
//! holds back what follows it until the missing packet arrives, or the window
//! passes (`reorder_window_ms` since the hole was seen, or `reorder_window_packets`
//! newer packets), when the missing packets are counted lost and silence fills
//! their time. Packets are kept in a ring of reusable slots and released into a
//! reusable [`FrameBatch`], so the steady state allocates nothing per packet.

mod batch;
mod timeline;

pub use batch::{Frame, FrameBatch};

use crate::codec::{AudioCodec, PayloadTiming};
use crate::rtp::RtpPacket;
use batch::FrameHead;
use timeline::{Timeline, ms_to_ticks};

/// A forward sequence jump beyond this many packets is a restart, not a loss (RFC 3550 A.1).
const MAX_DROPOUT: i64 = 3000;
/// Extended sequence numbers start here, so that early backward steps stay positive.
const SEQUENCE_BASE: u64 = 1 << 32;
/// The largest reorder window, in packets.
pub const MAX_REORDER_WINDOW_PACKETS: u16 = 1024;

/// How a [`StreamReceiver`] treats its stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReceiverConfig {
    /// The negotiated audio codec.
    pub codec: AudioCodec,
    /// The payload type carrying that codec; packets with other payload types
    /// (telephone-event, comfort noise) take their sequence numbers but yield no audio.
    pub payload_type: u8,
    /// How many packets past a hole are held before the hole is declared lost
    /// (1..=1024).
    pub reorder_window_packets: u16,
    /// How long a hole is waited for before it is declared lost.
    pub reorder_window_ms: u32,
    /// How far the timeline may run ahead of the wall clock (arrival time since the
    /// first packet); a timestamp jump beyond it is overruled.
    pub max_lead_ms: u32,
    /// Gap filler frame length before any packet has been measured.
    pub default_packet_ms: u32,
}

impl ReceiverConfig {
    /// Defaults: 64 packets or 200 ms of reordering, 2 s lead, 20 ms packets.
    pub fn new(codec: AudioCodec, payload_type: u8) -> ReceiverConfig {
        ReceiverConfig {
            codec,
            payload_type,
            reorder_window_packets: 64,
            reorder_window_ms: 200,
            max_lead_ms: 2000,
            default_packet_ms: 20,
        }
    }
}

/// Counters of one stream since it started.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ReceiverStats {
    /// Distinct packets accepted (audio and other payload types).
    pub received: u64,
    /// Packets never received by the time their window passed (or the stream was flushed).
    pub lost: u64,
    /// Copies of packets already received.
    pub duplicates: u64,
    /// Packets accepted after a higher sequence number had arrived.
    pub reordered: u64,
    /// Times the SSRC changed.
    pub ssrc_changes: u64,
    /// Packets dropped for arriving after their slot was released or declared lost,
    /// from the previous SSRC within a window of the change, or as an unconfirmed
    /// sequence jump.
    pub late_dropped: u64,
    /// Accepted packets of another payload type than the audio one.
    pub other_payload: u64,
    /// Sequence restarts within one SSRC (a confirmed jump of more than 3000).
    pub sequence_resets: u64,
    /// Timestamps overruled because they jumped back, or ahead of the wall clock.
    pub timestamp_jumps: u64,
    /// Gap filler frames emitted.
    pub gap_frames: u64,
}

/// One ring entry, used only for packets that arrive ahead of a hole; the payload
/// buffer is reused across the ring's turns.
#[derive(Debug, Clone)]
struct Slot {
    ext_seq: u64,
    /// Holds a packet waiting for the holes before it.
    buffered: bool,
    timestamp: u32,
    payload_type: u8,
    marker: bool,
    arrival_ms: u64,
    payload: Vec<u8>,
}

/// Sequence state of the current source.
#[derive(Debug, Clone, Copy)]
struct Source {
    ssrc: u32,
    /// The extended sequence number to release next.
    next_seq: u64,
    /// The highest extended sequence number accepted.
    highest: u64,
    /// The sequence number that would confirm a large jump as a restart.
    bad_seq: Option<u16>,
    /// Bit k: whether `next_seq - 1 - k` was received (rather than declared lost),
    /// to tell a duplicate from a late packet without touching the ring.
    recent: u64,
}

/// Receive state of one RTP stream. See the module documentation.
#[derive(Debug, Clone)]
pub struct StreamReceiver {
    config: ReceiverConfig,
    timing: PayloadTiming,
    slots: Box<[Slot]>,
    mask: usize,
    source: Option<Source>,
    previous_ssrc: Option<u32>,
    /// When the SSRC last changed.
    switched_at_ms: u64,
    /// Packets held in the ring.
    buffered: usize,
    /// When the current hole (if any) was first seen.
    hole_since_ms: Option<u64>,
    timeline: Timeline,
    /// Length of gap filler frames: the last measured packet duration.
    gap_frame_ticks: u32,
    ready: FrameBatch,
    stats: ReceiverStats,
}

impl StreamReceiver {
    /// A receiver for one stream; window sizes are clamped to 1..=1024 packets.
    pub fn new(config: ReceiverConfig) -> StreamReceiver {
        let window = config.reorder_window_packets.clamp(1, MAX_REORDER_WINDOW_PACKETS);
        let config = ReceiverConfig {
            reorder_window_packets: window,
            ..config
        };
        let capacity = usize::from(window).next_power_of_two();
        let empty = Slot {
            ext_seq: 0,
            buffered: false,
            timestamp: 0,
            payload_type: 0,
            marker: false,
            arrival_ms: 0,
            payload: Vec::new(),
        };
        let clock_rate = config.codec.rtp_clock_rate();
        let gap_frame_ticks = u32::try_from(ms_to_ticks(u64::from(config.default_packet_ms.max(1)), clock_rate))
            .unwrap_or(u32::MAX)
            .max(1);
        StreamReceiver {
            config,
            timing: config.codec.payload_timing(),
            slots: vec![empty; capacity].into_boxed_slice(),
            mask: capacity - 1,
            source: None,
            previous_ssrc: None,
            switched_at_ms: 0,
            buffered: 0,
            hole_since_ms: None,
            timeline: Timeline::new(clock_rate, config.max_lead_ms),
            gap_frame_ticks,
            ready: FrameBatch::new(),
            stats: ReceiverStats::default(),
        }
    }

    /// The configuration in force (window clamped).
    pub fn config(&self) -> &ReceiverConfig {
        &self.config
    }

    /// The counters so far.
    pub fn stats(&self) -> ReceiverStats {
        ReceiverStats {
            timestamp_jumps: self.timeline.jumps,
            ..self.stats
        }
    }

    /// The current source, once a packet has arrived.
    pub fn ssrc(&self) -> Option<u32> {
        self.source.map(|s| s.ssrc)
    }

    /// Arrival time of the stream's first packet: timeline position 0. Aligning two
    /// streams of a call means offsetting each by this.
    pub fn first_arrival_ms(&self) -> Option<u64> {
        self.timeline.started_ms()
    }

    /// The end of the audio released so far, in RTP ticks on the timeline.
    pub fn timeline_end(&self) -> u64 {
        self.timeline.next
    }

    /// The timeline position of an RTP timestamp of the current source (e.g. of an
    /// RFC 4733 event on the same SSRC), once one of its audio packets was released.
    pub fn timeline_position(&self, rtp_timestamp: u32) -> Option<u64> {
        self.timeline.position_of(rtp_timestamp)
    }

    /// Converts timeline ticks to milliseconds.
    pub fn ticks_to_ms(&self, ticks: u64) -> u64 {
        ticks.saturating_mul(1000) / u64::from(self.config.codec.rtp_clock_rate().max(1))
    }

    /// Takes one packet of the stream (any payload type) that arrived at `arrival_ms`.
    pub fn push(&mut self, packet: &RtpPacket<'_>, arrival_ms: u64) {
        self.timeline.saw_arrival(arrival_ms);
        match self.source {
            Some(source) if source.ssrc == packet.ssrc => {}
            Some(source) => {
                // Stragglers of the source just replaced are dropped for one window;
                // after that, its return is a change like any other.
                let straggler_until = self
                    .switched_at_ms
                    .saturating_add(u64::from(self.config.reorder_window_ms));
                if self.previous_ssrc == Some(packet.ssrc) && arrival_ms < straggler_until {
                    self.stats.late_dropped += 1;
                    return;
                }
                self.release_all();
                self.previous_ssrc = Some(source.ssrc);
                self.switched_at_ms = arrival_ms;
                self.stats.ssrc_changes += 1;
                self.start_source(packet);
            }
            None => self.start_source(packet),
        }
        let Some(mut source) = self.source else { return };

        let mut delta = i64::from(packet.sequence_number.wrapping_sub(source.highest as u16) as i16);
        let misorder = i64::from(self.config.reorder_window_packets).max(100);
        if delta > MAX_DROPOUT || delta < -misorder {
            if source.bad_seq != Some(packet.sequence_number) {
                source.bad_seq = Some(packet.sequence_number.wrapping_add(1));
                self.source = Some(source);
                self.stats.late_dropped += 1;
                return;
            }
            // Two packets in sequence after the jump: the sender restarted.
            self.release_all();
            self.stats.sequence_resets += 1;
            self.timeline.new_source();
            self.start_source(packet);
            let Some(restarted) = self.source else { return };
            source = restarted;
            delta = 0;
        }
        let ext = source.highest.saturating_add_signed(delta);
        if ext < source.next_seq {
            let age = source.next_seq - 1 - ext;
            if age < 64 && source.recent & (1 << age) != 0 {
                self.stats.duplicates += 1;
            } else {
                self.stats.late_dropped += 1;
            }
            return;
        }
        source.bad_seq = None;
        let reordered = u64::from(ext < source.highest);
        source.highest = source.highest.max(ext);
        self.source = Some(source);

        // Too far ahead for the window: give up on the oldest holes.
        let window = u64::from(self.config.reorder_window_packets);
        if self.next_seq().saturating_add(window) <= ext {
            while self.buffered > 0 && self.next_seq().saturating_add(window) <= ext {
                self.skip_or_release_next();
            }
            let behind = (ext + 1).saturating_sub(window).saturating_sub(self.next_seq());
            if behind > 0 {
                self.skip_lost(behind);
            }
            self.release_in_order();
        }

        if ext == self.next_seq() {
            self.stats.received += 1;
            self.stats.reordered += reordered;
            self.advance(true);
            self.emit(
                packet.payload_type,
                packet.timestamp,
                packet.payload,
                packet.marker,
                arrival_ms,
            );
            self.release_in_order();
        } else {
            let slot = &mut self.slots[ext as usize & self.mask];
            if slot.ext_seq == ext && slot.buffered {
                self.stats.duplicates += 1;
                return;
            }
            self.stats.received += 1;
            self.stats.reordered += reordered;
            slot.ext_seq = ext;
            slot.buffered = true;
            slot.timestamp = packet.timestamp;
            slot.payload_type = packet.payload_type;
            slot.marker = packet.marker;
            slot.arrival_ms = arrival_ms;
            slot.payload.clear();
            slot.payload.extend_from_slice(packet.payload);
            self.buffered += 1;
            self.hole_since_ms.get_or_insert(arrival_ms);
            // The window may have advanced onto held packets.
            self.release_in_order();
        }
        self.expire_holes(arrival_ms);
    }

    /// Releases what is ready at `now_ms` (holes older than the window are declared
    /// lost) into `batch`, replacing its contents. Reuse one batch per stream.
    pub fn drain_ready_into(&mut self, now_ms: u64, batch: &mut FrameBatch) {
        self.expire_holes(now_ms);
        batch.clear();
        std::mem::swap(&mut self.ready, batch);
    }

    /// [`StreamReceiver::drain_ready_into`] into a new batch.
    pub fn drain_ready(&mut self, now_ms: u64) -> FrameBatch {
        let mut batch = FrameBatch::new();
        self.drain_ready_into(now_ms, &mut batch);
        batch
    }

    /// Releases everything held (end of stream): remaining holes are counted lost.
    pub fn flush_into(&mut self, batch: &mut FrameBatch) {
        self.release_all();
        batch.clear();
        std::mem::swap(&mut self.ready, batch);
    }

    /// [`StreamReceiver::flush_into`] into a new batch.
    pub fn flush(&mut self) -> FrameBatch {
        let mut batch = FrameBatch::new();
        self.flush_into(&mut batch);
        batch
    }

    fn start_source(&mut self, packet: &RtpPacket<'_>) {
        let ext = SEQUENCE_BASE + u64::from(packet.sequence_number);
        self.source = Some(Source {
            ssrc: packet.ssrc,
            next_seq: ext,
            highest: ext,
            bad_seq: None,
            recent: 0,
        });
        self.timeline.new_source();
    }

    fn next_seq(&self) -> u64 {
        self.source.map_or(0, |s| s.next_seq)
    }

    /// Moves past `next_seq`, noting whether it was received.
    fn advance(&mut self, received: bool) {
        if let Some(source) = self.source.as_mut() {
            source.next_seq += 1;
            source.recent = (source.recent << 1) | u64::from(received);
        }
    }

    /// Declares holes lost while the oldest has waited a whole window.
    fn expire_holes(&mut self, now_ms: u64) {
        while let Some(since) = self.hole_since_ms {
            if since.saturating_add(u64::from(self.config.reorder_window_ms)) > now_ms {
                break;
            }
            // Skip to the first buffered packet and release the run from there.
            while self.buffered > 0 && !self.next_is_buffered() {
                self.skip_or_release_next();
            }
            self.release_in_order(); // also recomputes `hole_since_ms`
        }
    }

    fn next_is_buffered(&self) -> bool {
        let next = self.next_seq();
        let slot = &self.slots[next as usize & self.mask];
        slot.ext_seq == next && slot.buffered
    }

    /// Releases the packet at `next_seq` or declares it lost, then advances.
    /// (The caller updates `hole_since_ms` once it is done.)
    fn skip_or_release_next(&mut self) {
        if self.next_is_buffered() {
            self.release_next();
        } else {
            self.stats.lost += 1;
            self.advance(false);
        }
    }

    /// Declares the `count` packets from `next_seq` lost at once (nothing is held).
    fn skip_lost(&mut self, count: u64) {
        if let Some(source) = self.source.as_mut() {
            source.next_seq += count;
            source.recent = source.recent.checked_shl(count.min(64) as u32).unwrap_or(0);
            self.stats.lost += count;
        }
    }

    /// Releases consecutive buffered packets from `next_seq`.
    fn release_in_order(&mut self) {
        if self.buffered == 0 {
            self.hole_since_ms = None;
            return;
        }
        while self.next_is_buffered() {
            self.release_next();
        }
        self.update_hole_since();
    }

    /// Releases everything buffered, declaring the holes between lost.
    fn release_all(&mut self) {
        while self.buffered > 0 {
            self.skip_or_release_next();
        }
        self.hole_since_ms = None;
    }

    fn release_next(&mut self) {
        let next = self.next_seq();
        let index = next as usize & self.mask;
        let slot = &mut self.slots[index];
        slot.buffered = false;
        let (payload_type, timestamp, marker, arrival_ms) =
            (slot.payload_type, slot.timestamp, slot.marker, slot.arrival_ms);
        let payload = std::mem::take(&mut slot.payload);
        self.buffered -= 1;
        self.advance(true);
        self.emit(payload_type, timestamp, &payload, marker, arrival_ms);
        self.slots[index].payload = payload;
    }

    /// After a release: the hole (if one remains) dates from the oldest arrival held.
    fn update_hole_since(&mut self) {
        self.hole_since_ms = if self.buffered == 0 {
            None
        } else {
            self.slots.iter().filter(|s| s.buffered).map(|s| s.arrival_ms).min()
        };
    }

    /// Places one released packet on the timeline, after any gap filler it needs.
    fn emit(&mut self, payload_type: u8, timestamp: u32, payload: &[u8], marker: bool, arrival_ms: u64) {
        if payload_type != self.config.payload_type {
            self.stats.other_payload += 1;
            return;
        }
        let ssrc = self.ssrc().unwrap_or(0);
        let ticks = self.config.codec.payload_ticks(payload).unwrap_or(self.gap_frame_ticks);
        let can_trim = matches!(self.timing, PayloadTiming::BytesPerTick { .. });
        let placement = self.timeline.place(timestamp, ticks, arrival_ms, can_trim);

        // Gap fillers of the last packet length, ending where the packet starts.
        let mut left = placement.gap;
        let mut at = placement.position.saturating_sub(placement.gap);
        while left > 0 {
            let duration = u32::try_from(left.min(u64::from(self.gap_frame_ticks))).unwrap_or(self.gap_frame_ticks);
            // A gap and a trim never come together: `timestamp` sits at `position`.
            let back = placement.position.saturating_sub(at);
            let head = FrameHead {
                ssrc,
                rtp_timestamp: timestamp.wrapping_sub(back as u32),
                timeline: at,
                duration,
            };
            let (len, silence) = match self.timing {
                PayloadTiming::BytesPerTick { bytes, silence } => (duration as usize * usize::from(bytes), silence),
                PayloadTiming::Frames => (0, 0),
            };
            self.ready.push_gap(head, len, silence);
            self.stats.gap_frames += 1;
            left -= u64::from(duration);
            at += u64::from(duration);
        }

        let trimmed_bytes = match self.timing {
            PayloadTiming::BytesPerTick { bytes, .. } => placement.trim as usize * usize::from(bytes),
            PayloadTiming::Frames => 0,
        };
        let body = payload.get(trimmed_bytes..).unwrap_or_default();
        let duration = ticks.saturating_sub(placement.trim);
        if duration > 0 {
            let head = FrameHead {
                ssrc,
                rtp_timestamp: timestamp.wrapping_add(placement.trim),
                timeline: placement.position,
                duration,
            };
            self.ready.push_payload(head, body, marker);
        }
        if ticks > 0 && placement.trim == 0 {
            self.gap_frame_ticks = ticks;
        }
    }
}
