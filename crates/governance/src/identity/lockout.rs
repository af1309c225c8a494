//! Lockout after repeated failed sign-ins (ARLO-SECURITY): `max_failures` failures
//! within `window` lock the account for `duration` from the last of them. Time is
//! passed in; the failures are whatever the store kept since the last success.

use chrono::{DateTime, TimeDelta, Utc};

/// The lockout rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LockoutPolicy {
    pub max_failures: usize,
    pub window: TimeDelta,
    pub duration: TimeDelta,
}

impl Default for LockoutPolicy {
    /// 5 failures within 15 minutes lock the account for 15 minutes.
    fn default() -> Self {
        LockoutPolicy {
            max_failures: 5,
            window: TimeDelta::minutes(15),
            duration: TimeDelta::minutes(15),
        }
    }
}

/// Whether a sign-in may be tried now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LockState {
    /// Open; this many more failures within the window lock it.
    Open {
        failures_left: usize,
    },
    LockedUntil(DateTime<Utc>),
}

impl LockoutPolicy {
    /// The state at `now` given the failure times since the last successful sign-in.
    pub fn state(&self, failures: &[DateTime<Utc>], now: DateTime<Utc>) -> LockState {
        let mut times: Vec<DateTime<Utc>> = failures.iter().copied().filter(|t| *t <= now).collect();
        times.sort();
        let n = self.max_failures.max(1);
        let locked_until = times
            .windows(n)
            .filter(|w| w[n - 1] - w[0] <= self.window)
            .map(|w| w[n - 1] + self.duration)
            .max();
        if let Some(until) = locked_until
            && now < until
        {
            return LockState::LockedUntil(until);
        }
        // Failures that count towards the next lock: those within the window before now,
        // after the end of the last lock.
        let recent = times
            .iter()
            .filter(|t| now - **t <= self.window && locked_until.is_none_or(|until| **t >= until))
            .count();
        LockState::Open {
            failures_left: n.saturating_sub(recent),
        }
    }

    /// Failures older than this no longer matter and may be forgotten.
    pub fn forget_before(&self, now: DateTime<Utc>) -> DateTime<Utc> {
        now - self.window - self.duration
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(minute: i64, second: i64) -> DateTime<Utc> {
        "2026-05-01T10:00:00Z".parse::<DateTime<Utc>>().unwrap()
            + TimeDelta::minutes(minute)
            + TimeDelta::seconds(second)
    }

    #[test]
    fn five_failures_in_fifteen_minutes_lock_for_fifteen_minutes() {
        let policy = LockoutPolicy::default();
        let failures: Vec<_> = (0..5).map(|i| t(i * 2, 0)).collect();
        // (failures so far, now, expected)
        let table = [
            (0, t(0, 0), LockState::Open { failures_left: 5 }),
            (4, t(8, 1), LockState::Open { failures_left: 1 }),
            (5, t(8, 0), LockState::LockedUntil(t(23, 0))),
            (5, t(22, 59), LockState::LockedUntil(t(23, 0))),
            (5, t(23, 0), LockState::Open { failures_left: 5 }),
        ];
        for (count, now, expected) in table {
            assert_eq!(
                policy.state(&failures[..count], now),
                expected,
                "{count} failures at {now}"
            );
        }
    }

    #[test]
    fn failures_spread_beyond_the_window_do_not_lock() {
        let policy = LockoutPolicy::default();
        let failures: Vec<_> = (0..6).map(|i| t(i * 4, 0)).collect();
        assert_eq!(
            policy.state(&failures, t(20, 30)),
            LockState::Open { failures_left: 1 },
            "only 4 of them lie within 15 minutes of each other"
        );
        let old = [t(0, 0), t(1, 0), t(2, 0), t(3, 0)];
        assert_eq!(policy.state(&old, t(30, 0)), LockState::Open { failures_left: 5 });
    }

    #[test]
    fn failures_in_the_future_are_ignored_and_limits_hold_at_one() {
        let policy = LockoutPolicy {
            max_failures: 1,
            ..LockoutPolicy::default()
        };
        assert_eq!(policy.state(&[t(5, 0)], t(1, 0)), LockState::Open { failures_left: 1 });
        assert_eq!(policy.state(&[t(1, 0)], t(1, 0)), LockState::LockedUntil(t(16, 0)));
        assert!(policy.forget_before(t(30, 0)) == t(0, 0));
    }
}
