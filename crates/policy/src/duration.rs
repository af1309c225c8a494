//! Durations as policies write them: `"90 days"`, `"6 months"`, `"30 seconds"`.

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Days, Months, Utc};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A calendar-aware length of time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PolicyDuration {
    Seconds(u64),
    Days(u32),
    Months(u32),
}

impl PolicyDuration {
    /// The instant this long after `from`; `None` on overflow.
    pub fn after(self, from: DateTime<Utc>) -> Option<DateTime<Utc>> {
        match self {
            PolicyDuration::Seconds(s) => from.checked_add_signed(chrono::TimeDelta::try_seconds(s as i64)?),
            PolicyDuration::Days(d) => from.checked_add_days(Days::new(d.into())),
            PolicyDuration::Months(m) => from.checked_add_months(Months::new(m)),
        }
    }

    /// An approximate length in days, for ordering durations of different units.
    pub fn approx_days(self) -> f64 {
        match self {
            PolicyDuration::Seconds(s) => s as f64 / 86_400.0,
            PolicyDuration::Days(d) => d.into(),
            PolicyDuration::Months(m) => f64::from(m) * 30.436_875,
        }
    }
}

impl fmt::Display for PolicyDuration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (n, unit) = match *self {
            PolicyDuration::Seconds(s) => (s, "second"),
            PolicyDuration::Days(d) => (d.into(), "day"),
            PolicyDuration::Months(m) => (m.into(), "month"),
        };
        write!(f, "{n} {unit}{}", if n == 1 { "" } else { "s" })
    }
}

impl FromStr for PolicyDuration {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let text = text.trim();
        let split = text.find(|c: char| !c.is_ascii_digit()).unwrap_or(text.len());
        let (number, unit) = text.split_at(split);
        let expected = "expected a duration such as \"30 seconds\", \"90 days\", \"6 months\" or \"1 year\"";
        let n: u32 = number
            .parse()
            .map_err(|_| format!("invalid duration {text:?}: {expected}"))?;
        if n == 0 {
            return Err(format!("invalid duration {text:?}: must be greater than zero"));
        }
        Ok(match unit.trim() {
            "s" | "second" | "seconds" => PolicyDuration::Seconds(n.into()),
            "d" | "day" | "days" => PolicyDuration::Days(n),
            "mo" | "month" | "months" => PolicyDuration::Months(n),
            "y" | "year" | "years" => PolicyDuration::Months(n.checked_mul(12).ok_or("duration too long")?),
            _ => return Err(format!("invalid duration {text:?}: {expected}")),
        })
    }
}

impl<'de> Deserialize<'de> for PolicyDuration {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

impl Serialize for PolicyDuration {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

/// A retention period: fixed by the policy, or set per tenant (TO-RETENTION).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Retention {
    Fixed(PolicyDuration),
    TenantSet,
}

impl fmt::Display for Retention {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Retention::Fixed(d) => d.fmt(f),
            Retention::TenantSet => f.write_str("tenant-set"),
        }
    }
}

impl FromStr for Retention {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        if text.trim() == "tenant-set" {
            return Ok(Retention::TenantSet);
        }
        text.parse::<PolicyDuration>()
            .map(Retention::Fixed)
            .map_err(|e| format!("{e}, or \"tenant-set\""))
    }
}

impl<'de> Deserialize<'de> for Retention {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

impl Serialize for Retention {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_forms_policies_use() {
        let cases = [
            ("90 days", PolicyDuration::Days(90)),
            ("6 months", PolicyDuration::Months(6)),
            ("12 months", PolicyDuration::Months(12)),
            ("1 year", PolicyDuration::Months(12)),
            ("30s", PolicyDuration::Seconds(30)),
        ];
        for (text, want) in cases {
            assert_eq!(text.parse::<PolicyDuration>(), Ok(want), "{text}");
        }
        for bad in ["", "days", "0 days", "-3 days", "6 fortnights", "99999999999 days"] {
            assert!(bad.parse::<PolicyDuration>().is_err(), "{bad}");
        }
    }

    #[test]
    fn months_are_calendar_months() {
        let t: DateTime<Utc> = "2026-08-31T10:00:00Z".parse().unwrap();
        let six = PolicyDuration::Months(6).after(t).unwrap();
        assert_eq!(six.to_rfc3339(), "2027-02-28T10:00:00+00:00");
    }
}
