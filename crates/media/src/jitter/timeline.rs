//! Placing packets on a stream's contiguous timeline from their RTP timestamps,
//! with arrival time as a sanity bound.
//!
//! Within one source the timestamp difference from the previous packet decides the
//! position: a forward gap is filled with silence, a small overlap is trimmed. The
//! timeline may not run ahead of the wall clock (arrival time since the first
//! packet) by more than a lead limit, so a bogus timestamp jump cannot create
//! unbounded silence; a large backward jump re-anchors instead of dropping audio.
//! A new source (SSRC change, sequence restart) starts where the wall clock says,
//! but never before the end of the previous audio.

/// Where a packet goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Placement {
    /// Ticks of silence to emit before the packet.
    pub gap: u64,
    /// Ticks cut from the packet's start because they overlap earlier audio.
    pub trim: u32,
    /// The packet's (trimmed) start on the timeline.
    pub position: u64,
}

#[derive(Debug, Clone)]
pub(super) struct Timeline {
    clock_rate: u32,
    lead_ticks: u64,
    /// End of the audio emitted so far.
    pub next: u64,
    /// Arrival time of the stream's first packet.
    started_ms: Option<u64>,
    /// (RTP timestamp, position) of the current source's last placed packet.
    anchor: Option<(u32, i64)>,
    /// Whether anything has been placed yet.
    placed_any: bool,
    /// Times the timestamp disagreed with the timeline and was overruled.
    pub jumps: u64,
}

impl Timeline {
    pub fn new(clock_rate: u32, lead_ms: u32) -> Timeline {
        Timeline {
            clock_rate: clock_rate.max(1),
            lead_ticks: ms_to_ticks(u64::from(lead_ms), clock_rate),
            next: 0,
            started_ms: None,
            anchor: None,
            placed_any: false,
            jumps: 0,
        }
    }

    /// Notes a packet's arrival (the first one starts the wall clock).
    pub fn saw_arrival(&mut self, arrival_ms: u64) {
        self.started_ms.get_or_insert(arrival_ms);
    }

    /// Arrival time of the stream's first packet.
    pub fn started_ms(&self) -> Option<u64> {
        self.started_ms
    }

    /// Forgets the timestamp mapping: the next packet comes from a new source.
    pub fn new_source(&mut self) {
        self.anchor = None;
    }

    /// The timeline position of `rtp_timestamp` in the current source, if known.
    pub fn position_of(&self, rtp_timestamp: u32) -> Option<u64> {
        let (ts, pos) = self.anchor?;
        u64::try_from(pos.saturating_add(i64::from(rtp_timestamp.wrapping_sub(ts) as i32))).ok()
    }

    /// Wall-clock position of an arrival, in ticks since the first arrival.
    fn wall(&self, arrival_ms: u64) -> u64 {
        let elapsed = arrival_ms.saturating_sub(self.started_ms.unwrap_or(arrival_ms));
        ms_to_ticks(elapsed, self.clock_rate)
    }

    /// Places a packet of `ticks` ticks with timestamp `ts`, and advances the timeline.
    /// A partial overlap with earlier audio is trimmed when `can_trim`, else the
    /// packet is placed right after that audio.
    pub fn place(&mut self, ts: u32, ticks: u32, arrival_ms: u64, can_trim: bool) -> Placement {
        self.saw_arrival(arrival_ms);
        let next = i64::try_from(self.next).unwrap_or(i64::MAX);
        let natural = match self.anchor {
            Some((anchor_ts, anchor_pos)) => anchor_pos.saturating_add(i64::from(ts.wrapping_sub(anchor_ts) as i32)),
            None if !self.placed_any => 0,
            None => i64::try_from(self.wall(arrival_ms)).unwrap_or(i64::MAX).max(next),
        };
        let mut placement = Placement {
            gap: 0,
            trim: 0,
            position: self.next,
        };
        if natural > next {
            let wanted = natural.abs_diff(next);
            let allowed = self
                .wall(arrival_ms)
                .saturating_add(self.lead_ticks)
                .saturating_sub(self.next);
            if wanted > allowed && self.anchor.is_some() {
                self.jumps = self.jumps.saturating_add(1);
            }
            placement.gap = wanted.min(allowed);
            placement.position = self.next.saturating_add(placement.gap);
        } else if natural < next {
            let overlap = natural.abs_diff(next);
            if overlap < u64::from(ticks) {
                placement.trim = if can_trim {
                    u32::try_from(overlap).unwrap_or(0)
                } else {
                    0
                };
            } else {
                self.jumps = self.jumps.saturating_add(1);
            }
        }
        // Anchor: `ts` plus the trimmed ticks sits at `position`.
        let anchor_pos = i64::try_from(placement.position)
            .unwrap_or(i64::MAX)
            .saturating_sub(i64::from(placement.trim));
        self.anchor = Some((ts, anchor_pos));
        self.placed_any = true;
        self.next = placement
            .position
            .saturating_add(u64::from(ticks.saturating_sub(placement.trim)));
        placement
    }
}

/// Milliseconds to ticks at `clock_rate` Hz.
pub(super) fn ms_to_ticks(ms: u64, clock_rate: u32) -> u64 {
    ms.saturating_mul(u64::from(clock_rate)) / 1000
}

#[cfg(test)]
mod tests {
    use super::*;

    /// (timestamp, ticks, arrival ms) → (gap, trim, position).
    type Case = ((u32, u32, u64), (u64, u32, u64));

    fn run(cases: &[Case]) {
        let mut t = Timeline::new(8000, 2000);
        for (i, &((ts, ticks, arrival), (gap, trim, position))) in cases.iter().enumerate() {
            let p = t.place(ts, ticks, arrival, true);
            assert_eq!((p.gap, p.trim, p.position), (gap, trim, position), "step {i}");
        }
    }

    #[test]
    fn contiguous_gap_and_overlap() {
        run(&[
            ((1000, 160, 0), (0, 0, 0)),
            ((1160, 160, 20), (0, 0, 160)),
            ((1640, 160, 80), (320, 0, 640)), // two packets missing
            ((1760, 160, 100), (0, 40, 800)), // 40 ticks overlap trimmed
            ((1920, 160, 120), (0, 0, 920)),
        ]);
    }

    #[test]
    fn timestamp_wraps() {
        run(&[
            ((u32::MAX - 159, 160, 0), (0, 0, 0)),
            ((0, 160, 20), (0, 0, 160)),
            ((160, 160, 40), (0, 0, 320)),
        ]);
    }

    #[test]
    fn jump_ahead_is_bounded_by_the_wall_clock() {
        // A 10 s jump arriving 40 ms in: at most 40 ms + 2 s lead ahead of the start.
        run(&[((0, 160, 0), (0, 0, 0)), ((80_000, 160, 40), (16_320 - 160, 0, 16_320))]);
    }

    #[test]
    fn jump_back_re_anchors() {
        run(&[
            ((50_000, 160, 0), (0, 0, 0)),
            ((10, 160, 20), (0, 0, 160)),
            ((170, 160, 40), (0, 0, 320)),
        ]);
    }
}
