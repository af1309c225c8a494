//! Admission of new calls (INVITEs outside a dialog): a ceiling on concurrent calls and
//! a token bucket per source address, so that a flood of INVITEs is refused cheaply,
//! before any parsing, catalog or port work, and the calls already recording keep
//! their share of the machine. Pure: the time is passed in.
//!
//! A refused INVITE is answered `503 Service Unavailable` with `Retry-After`: the
//! overload answer of RFC 3261 §21.5.4, which tells a recording client (or the proxy
//! before it) to try another recording server or to come back later. 486 Busy Here and
//! 480 Temporarily Unavailable describe a callee, not an overloaded server, and clients
//! do not fail over on them.

use std::collections::HashMap;
use std::net::IpAddr;

/// The admission limits (`[sip]` `max_calls`, `invite_rate`, `invite_burst`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct AdmissionLimits {
    /// Calls held at once (recording, or waiting for consent); 0 means no ceiling.
    pub max_calls: usize,
    /// New-call INVITEs per second one source address may send, sustained; 0 means no limit.
    pub invite_rate: f64,
    /// INVITEs one source may send at once above the sustained rate.
    pub invite_burst: f64,
}

impl Default for AdmissionLimits {
    fn default() -> Self {
        AdmissionLimits {
            max_calls: 5000,
            invite_rate: 1000.0,
            invite_burst: 5000.0,
        }
    }
}

/// Why a new call was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// As many calls as `max_calls` are already held.
    MaxCalls,
    /// The source sent more INVITEs than its bucket allows.
    RateLimited {
        /// Seconds until the source has a token again (for `Retry-After`), at least 1.
        retry_after_s: u32,
    },
}

impl Refusal {
    /// The metrics label: `max-calls` or `rate-limited`.
    pub fn code(&self) -> &'static str {
        match self {
            Refusal::MaxCalls => "max-calls",
            Refusal::RateLimited { .. } => "rate-limited",
        }
    }

    /// The `Retry-After` value in seconds.
    pub fn retry_after_s(&self) -> u32 {
        match self {
            Refusal::MaxCalls => MAX_CALLS_RETRY_AFTER_S,
            Refusal::RateLimited { retry_after_s } => *retry_after_s,
        }
    }
}

/// `Retry-After` when the recorder is full: calls last minutes, so a short wait is a guess.
const MAX_CALLS_RETRY_AFTER_S: u32 = 5;

/// Sources tracked at most; past this, full buckets are forgotten (a flood from many
/// spoofed addresses must not grow the table without bound).
const MAX_TRACKED_SOURCES: usize = 10_000;

#[derive(Debug, Clone, Copy)]
struct Bucket {
    tokens: f64,
    at_ms: u64,
}

/// The admission state: one bucket per source address.
#[derive(Debug, Clone)]
pub struct Admission {
    limits: AdmissionLimits,
    buckets: HashMap<IpAddr, Bucket>,
}

impl Admission {
    pub fn new(limits: AdmissionLimits) -> Admission {
        Admission {
            limits,
            buckets: HashMap::new(),
        }
    }

    /// Decides on a new call from `source` while `active_calls` are held, at `now_ms`
    /// (any monotonic millisecond clock). The rate is checked first, so an INVITE
    /// refused for the ceiling still spends its source's token.
    pub fn admit(&mut self, source: IpAddr, active_calls: usize, now_ms: u64) -> Result<(), Refusal> {
        let limits = self.limits;
        if limits.invite_rate > 0.0 {
            if self.buckets.len() >= MAX_TRACKED_SOURCES && !self.buckets.contains_key(&source) {
                self.forget_full(now_ms);
            }
            let burst = limits.invite_burst.max(1.0);
            let bucket = self.buckets.entry(source).or_insert(Bucket {
                tokens: burst,
                at_ms: now_ms,
            });
            let elapsed_s = now_ms.saturating_sub(bucket.at_ms) as f64 / 1000.0;
            bucket.tokens = (bucket.tokens + elapsed_s * limits.invite_rate).min(burst);
            bucket.at_ms = now_ms;
            if bucket.tokens < 1.0 {
                let wait_s = ((1.0 - bucket.tokens) / limits.invite_rate).ceil().max(1.0);
                return Err(Refusal::RateLimited {
                    retry_after_s: wait_s.min(3600.0) as u32,
                });
            }
            bucket.tokens -= 1.0;
        }
        if limits.max_calls > 0 && active_calls >= limits.max_calls {
            return Err(Refusal::MaxCalls);
        }
        Ok(())
    }

    /// Sources tracked now.
    pub fn tracked_sources(&self) -> usize {
        self.buckets.len()
    }

    /// Drops the buckets that have refilled (their sources are back to a fresh start).
    fn forget_full(&mut self, now_ms: u64) {
        let AdmissionLimits {
            invite_rate,
            invite_burst,
            ..
        } = self.limits;
        let burst = invite_burst.max(1.0);
        self.buckets
            .retain(|_, b| b.tokens + now_ms.saturating_sub(b.at_ms) as f64 / 1000.0 * invite_rate < burst);
        if self.buckets.len() >= MAX_TRACKED_SOURCES {
            // Every tracked source is still spending: start over rather than grow.
            self.buckets.clear();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    #[test]
    fn a_burst_then_the_sustained_rate_per_source() {
        let mut admission = Admission::new(AdmissionLimits {
            max_calls: 0,
            invite_rate: 2.0,
            invite_burst: 3.0,
        });
        let flood = ip("192.0.2.7");
        // (time ms, outcome) for the same source.
        let cases: &[(u64, Result<(), Refusal>)] = &[
            (0, Ok(())),
            (0, Ok(())),
            (0, Ok(())),
            (0, Err(Refusal::RateLimited { retry_after_s: 1 })),
            (100, Err(Refusal::RateLimited { retry_after_s: 1 })),
            // 500 ms at 2/s: one token back.
            (500, Ok(())),
            (500, Err(Refusal::RateLimited { retry_after_s: 1 })),
            // Ten seconds later the bucket is full again, not fuller.
            (10_500, Ok(())),
            (10_500, Ok(())),
            (10_500, Ok(())),
            (10_500, Err(Refusal::RateLimited { retry_after_s: 1 })),
        ];
        for (i, (at, want)) in cases.iter().enumerate() {
            assert_eq!(admission.admit(flood, 0, *at), *want, "case {i} at {at} ms");
            // Another source is never held back by the flood.
            if i == 4 {
                assert_eq!(admission.admit(ip("198.51.100.1"), 0, *at), Ok(()));
            }
        }
    }

    #[test]
    fn the_ceiling_on_concurrent_calls() {
        let mut admission = Admission::new(AdmissionLimits {
            max_calls: 2,
            invite_rate: 0.0,
            invite_burst: 0.0,
        });
        let sbc = ip("2001:db8::5");
        assert_eq!(admission.admit(sbc, 0, 0), Ok(()));
        assert_eq!(admission.admit(sbc, 1, 0), Ok(()));
        assert_eq!(admission.admit(sbc, 2, 0), Err(Refusal::MaxCalls));
        assert_eq!(admission.admit(sbc, 7, 0), Err(Refusal::MaxCalls));
        assert_eq!(Refusal::MaxCalls.retry_after_s(), 5);
        assert_eq!(admission.tracked_sources(), 0, "no buckets without a rate");
    }

    #[test]
    fn a_slow_rate_says_how_long_to_wait() {
        let mut admission = Admission::new(AdmissionLimits {
            max_calls: 0,
            invite_rate: 0.1,
            invite_burst: 1.0,
        });
        let source = ip("192.0.2.1");
        assert_eq!(admission.admit(source, 0, 0), Ok(()));
        assert_eq!(
            admission.admit(source, 0, 0),
            Err(Refusal::RateLimited { retry_after_s: 10 })
        );
        assert_eq!(admission.admit(source, 0, 4000).map_err(|r| r.retry_after_s()), Err(6));
    }

    #[test]
    fn many_sources_do_not_grow_the_table_without_bound() {
        let mut admission = Admission::new(AdmissionLimits {
            max_calls: 0,
            invite_rate: 1.0,
            invite_burst: 2.0,
        });
        for i in 0..(MAX_TRACKED_SOURCES as u32 + 500) {
            let source = IpAddr::from(std::net::Ipv4Addr::from(0x0a00_0000 + i));
            assert_eq!(admission.admit(source, 0, 0), Ok(()));
        }
        assert!(admission.tracked_sources() <= MAX_TRACKED_SOURCES);
    }
}
