//! Repeated denied attempts (ARLO-SECURITY: "unauthorised access is followed up"): when
//! one user's denials within a window exceed a threshold, an alert event is appended;
//! a report lists denials and alerts per user for a period. Time is passed in.

use std::collections::BTreeMap;

use chrono::{DateTime, TimeDelta, Utc};

use super::{AuditEvent, Outcome};

/// The action of an alert event.
pub const ALERT_ACTION: &str = "audit.alert";

/// When denials raise an alert: more than `threshold` by one user within `window`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DenialRule {
    pub threshold: u32,
    pub window: TimeDelta,
}

impl Default for DenialRule {
    fn default() -> Self {
        DenialRule {
            threshold: 5,
            window: TimeDelta::minutes(10),
        }
    }
}

impl DenialRule {
    /// Denials after this time (exclusive) count towards one at `at`.
    pub fn window_start(&self, at: DateTime<Utc>) -> DateTime<Utc> {
        at - self.window
    }

    /// The alert to append after `denied`, given how many denials by its actor (it
    /// included) fall in the window ending at it: one alert when the count first exceeds
    /// the threshold, none for the denials that follow within the same window.
    pub fn alert_for(&self, denied: &AuditEvent, denials_in_window: u64) -> Option<AuditEvent> {
        if denied.outcome != Outcome::Denied || denials_in_window != u64::from(self.threshold) + 1 {
            return None;
        }
        let mut alert = AuditEvent::new(denied.at, "system", ALERT_ACTION, Outcome::Done).detail(serde_json::json!({
            "kind": "repeated-denials",
            "rule": "ARLO-SECURITY",
            "user": denied.actor,
            "denials": denials_in_window,
            "threshold": self.threshold,
            "window_seconds": self.window.num_seconds(),
            "last_action": denied.action,
        }));
        alert.tenant = denied.tenant.clone();
        Some(alert)
    }
}

/// One user's denied attempts in a period.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserDenials {
    pub user: String,
    pub denials: u64,
    pub first: DateTime<Utc>,
    pub last: DateTime<Utc>,
    /// Denials per action (e.g. `recording.export`).
    pub actions: BTreeMap<String, u64>,
    /// Alerts raised about this user in the period.
    pub alerts: u64,
}

/// Denials and alerts in a period.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct DenialReport {
    pub from: Option<DateTime<Utc>>,
    pub to: Option<DateTime<Utc>>,
    /// Users with denials or alerts, most denials first.
    pub users: Vec<UserDenials>,
    /// The alert events with their sequence numbers, in order.
    pub alerts: Vec<(i64, AuditEvent)>,
}

/// The report for `[from, to]` (either end open) over events in chain order; events
/// outside the period and events that are neither denials nor alerts are skipped.
pub fn denial_report(
    from: Option<DateTime<Utc>>,
    to: Option<DateTime<Utc>>,
    events: impl IntoIterator<Item = (i64, AuditEvent)>,
) -> DenialReport {
    let mut users: BTreeMap<String, UserDenials> = BTreeMap::new();
    let mut alerts = Vec::new();
    for (seq, event) in events {
        if from.is_some_and(|f| event.at < f) || to.is_some_and(|t| event.at > t) {
            continue;
        }
        if event.outcome == Outcome::Denied {
            let user = entry(&mut users, &event.actor, event.at);
            user.denials += 1;
            user.first = user.first.min(event.at);
            user.last = user.last.max(event.at);
            *user.actions.entry(event.action.clone()).or_default() += 1;
        } else if event.action == ALERT_ACTION {
            if let Some(name) = event.detail.get("user").and_then(|u| u.as_str()) {
                entry(&mut users, name, event.at).alerts += 1;
            }
            alerts.push((seq, event));
        }
    }
    let mut users: Vec<UserDenials> = users.into_values().collect();
    users.sort_by(|a, b| b.denials.cmp(&a.denials).then_with(|| a.user.cmp(&b.user)));
    DenialReport {
        from,
        to,
        users,
        alerts,
    }
}

fn entry<'a>(users: &'a mut BTreeMap<String, UserDenials>, user: &str, at: DateTime<Utc>) -> &'a mut UserDenials {
    users.entry(user.to_owned()).or_insert_with(|| UserDenials {
        user: user.to_owned(),
        denials: 0,
        first: at,
        last: at,
        actions: BTreeMap::new(),
        alerts: 0,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(minute: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(1_800_000_000 + minute * 60, 0).unwrap()
    }

    fn denied(minute: i64, user: &str) -> AuditEvent {
        AuditEvent::new(at(minute), user, "recording.export", Outcome::Denied).tenant("arlo")
    }

    /// (denials in window, alert?) with the default rule: more than 5 in 10 minutes.
    #[test]
    fn one_alert_when_the_count_first_exceeds_the_threshold() {
        let rule = DenialRule::default();
        for (count, alerts) in [(1, false), (5, false), (6, true), (7, false), (12, false)] {
            assert_eq!(rule.alert_for(&denied(0, "eve"), count).is_some(), alerts, "{count}");
        }
        let allowed = AuditEvent::new(at(0), "eve", "recording.export", Outcome::Allowed);
        assert!(rule.alert_for(&allowed, 6).is_none());
        let alert = rule.alert_for(&denied(3, "eve"), 6).unwrap();
        assert_eq!((alert.action.as_str(), alert.actor.as_str()), (ALERT_ACTION, "system"));
        assert_eq!((alert.at, alert.tenant.as_deref()), (at(3), Some("arlo")));
        assert_eq!(alert.detail["user"], "eve");
        assert_eq!(rule.window_start(at(10)), at(0));
    }

    #[test]
    fn the_report_counts_denials_and_alerts_per_user_in_the_period() {
        let rule = DenialRule::default();
        let mut events: Vec<(i64, AuditEvent)> = Vec::new();
        for minute in 0..6 {
            events.push((events.len() as i64 + 1, denied(minute, "eve")));
        }
        let alert = rule.alert_for(&denied(5, "eve"), 6).unwrap();
        events.push((events.len() as i64 + 1, alert));
        events.push((events.len() as i64 + 1, denied(7, "bob")));
        events.push((
            events.len() as i64 + 1,
            AuditEvent::new(at(8), "bob", "recording.export", Outcome::Allowed),
        ));
        events.push((events.len() as i64 + 1, denied(90, "bob")));

        let report = denial_report(Some(at(1)), Some(at(60)), events);
        let summary: Vec<(&str, u64, u64)> = report
            .users
            .iter()
            .map(|u| (u.user.as_str(), u.denials, u.alerts))
            .collect();
        assert_eq!(summary, vec![("eve", 5, 1), ("bob", 1, 0)]);
        assert_eq!((report.users[0].first, report.users[0].last), (at(1), at(5)));
        assert_eq!(report.users[0].actions["recording.export"], 5);
        assert_eq!(report.alerts.len(), 1);
        assert_eq!(report.alerts[0].0, 7);
    }
}
