//! A queue of transaction deadlines with lazy cancellation: rescheduling a
//! transaction bumps its generation and stale entries are skipped when they surface.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::time::Instant;

/// Deadlines of transactions, earliest first.
#[derive(Debug, Default)]
pub(crate) struct TimerQueue {
    heap: BinaryHeap<Reverse<(Instant, u64, u64)>>,
}

impl TimerQueue {
    /// Schedules transaction `id` (at `generation`) for `at`.
    pub(crate) fn push(&mut self, at: Instant, id: u64, generation: u64) {
        self.heap.push(Reverse((at, id, generation)));
    }

    /// The earliest deadline (possibly of a stale entry: waking early is harmless).
    pub(crate) fn peek(&self) -> Option<Instant> {
        self.heap.peek().map(|Reverse((at, _, _))| *at)
    }

    /// The earliest entry, whether due or not.
    pub(crate) fn first(&self) -> Option<(u64, u64)> {
        self.heap.peek().map(|Reverse((_, id, generation))| (*id, *generation))
    }

    /// Removes the earliest entry.
    pub(crate) fn pop(&mut self) {
        self.heap.pop();
    }

    /// Removes and returns the earliest entry due at `now`.
    pub(crate) fn pop_due(&mut self, now: Instant) -> Option<(u64, u64)> {
        match self.heap.peek() {
            Some(Reverse((at, _, _))) if *at <= now => {
                self.heap.pop().map(|Reverse((_, id, generation))| (id, generation))
            }
            _ => None,
        }
    }
}
