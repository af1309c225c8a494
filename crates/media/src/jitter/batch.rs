//! Frames handed out by the receiver, batched in two reusable buffers so that the
//! per-packet path does not allocate once the buffers have grown.

/// One frame of a stream's contiguous timeline: a received payload or a gap filler.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Frame<'a> {
    /// The source the frame belongs to (the current one for gap fillers).
    pub ssrc: u32,
    /// The RTP timestamp of the frame's first tick, in the source's timestamp space.
    pub rtp_timestamp: u32,
    /// Position on the stream's timeline, in RTP ticks from the first frame; each
    /// frame starts where the previous one ended, across SSRC changes too.
    pub timeline: u64,
    /// Length in RTP ticks.
    pub duration: u32,
    /// The payload: received bytes, codec silence for a gap, or empty for an Opus gap
    /// (the decoder conceals it).
    pub payload: &'a [u8],
    /// Whether this frame fills a gap (lost packets or a timestamp jump).
    pub was_gap: bool,
    /// The RTP marker bit of the received packet (false for gap fillers).
    pub marker: bool,
}

#[derive(Debug, Clone, Copy)]
struct FrameMeta {
    ssrc: u32,
    rtp_timestamp: u32,
    timeline: u64,
    duration: u32,
    start: usize,
    len: usize,
    was_gap: bool,
    marker: bool,
}

/// A batch of frames in timeline order, owning their payload bytes in one buffer.
#[derive(Debug, Clone, Default)]
pub struct FrameBatch {
    bytes: Vec<u8>,
    frames: Vec<FrameMeta>,
}

impl FrameBatch {
    /// An empty batch.
    pub fn new() -> FrameBatch {
        FrameBatch::default()
    }

    /// Removes every frame, keeping the buffers' capacity.
    pub fn clear(&mut self) {
        self.bytes.clear();
        self.frames.clear();
    }

    /// The number of frames.
    pub fn len(&self) -> usize {
        self.frames.len()
    }

    /// Whether the batch holds no frame.
    pub fn is_empty(&self) -> bool {
        self.frames.is_empty()
    }

    /// The sum of the frames' durations, in RTP ticks.
    pub fn total_ticks(&self) -> u64 {
        self.frames.iter().map(|f| u64::from(f.duration)).sum()
    }

    /// The frame at `index`.
    pub fn get(&self, index: usize) -> Option<Frame<'_>> {
        self.frames.get(index).map(|m| self.frame(m))
    }

    /// The frames, in timeline order.
    pub fn iter(&self) -> impl Iterator<Item = Frame<'_>> + '_ {
        self.frames.iter().map(|m| self.frame(m))
    }

    /// The payloads of all frames, concatenated (the stream's audio bytes for codecs
    /// with a fixed number of bytes per tick).
    pub fn payload_bytes(&self) -> &[u8] {
        &self.bytes
    }

    fn frame(&self, m: &FrameMeta) -> Frame<'_> {
        let payload = self
            .bytes
            .get(m.start..m.start.saturating_add(m.len))
            .unwrap_or_default();
        Frame {
            ssrc: m.ssrc,
            rtp_timestamp: m.rtp_timestamp,
            timeline: m.timeline,
            duration: m.duration,
            payload,
            was_gap: m.was_gap,
            marker: m.marker,
        }
    }

    /// Appends a received payload.
    pub(super) fn push_payload(&mut self, head: FrameHead, payload: &[u8], marker: bool) {
        let start = self.bytes.len();
        self.bytes.extend_from_slice(payload);
        self.push_meta(head, start, payload.len(), false, marker);
    }

    /// Appends a gap filler of `len` bytes of `silence` (`len` 0 for frame codecs).
    pub(super) fn push_gap(&mut self, head: FrameHead, len: usize, silence: u8) {
        let start = self.bytes.len();
        self.bytes.resize(start.saturating_add(len), silence);
        self.push_meta(head, start, len, true, false);
    }

    fn push_meta(&mut self, head: FrameHead, start: usize, len: usize, was_gap: bool, marker: bool) {
        self.frames.push(FrameMeta {
            ssrc: head.ssrc,
            rtp_timestamp: head.rtp_timestamp,
            timeline: head.timeline,
            duration: head.duration,
            start,
            len,
            was_gap,
            marker,
        });
    }
}

/// Where a frame lies: what every frame carries besides its payload.
#[derive(Debug, Clone, Copy)]
pub(super) struct FrameHead {
    pub ssrc: u32,
    pub rtp_timestamp: u32,
    pub timeline: u64,
    pub duration: u32,
}
