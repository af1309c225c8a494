//! Dates in policy files: a TOML date (`2024-02-01`) or the same as a string.

use chrono::NaiveDate;
use serde::{Deserialize, Deserializer};

#[derive(Deserialize)]
#[serde(untagged)]
enum DateForm {
    Native(toml::value::Datetime),
    Text(String),
}

fn to_date<E: serde::de::Error>(form: DateForm) -> Result<NaiveDate, E> {
    let text = match form {
        DateForm::Native(datetime) => match (datetime.date, datetime.time) {
            (Some(date), None) => {
                return NaiveDate::from_ymd_opt(date.year.into(), date.month.into(), date.day.into())
                    .ok_or_else(|| E::custom("not a calendar date"));
            }
            _ => return Err(E::custom("expected a date such as 2024-02-01, without a time")),
        },
        DateForm::Text(text) => text,
    };
    text.parse()
        .map_err(|_| E::custom(format!("{text:?} is not a date such as 2024-02-01")))
}

pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<NaiveDate, D::Error> {
    to_date(DateForm::deserialize(deserializer)?)
}

pub fn deserialize_option<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<NaiveDate>, D::Error> {
    Option::<DateForm>::deserialize(deserializer)?.map(to_date).transpose()
}

#[cfg(test)]
mod tests {
    #[derive(serde::Deserialize)]
    struct Doc {
        #[serde(deserialize_with = "super::deserialize")]
        on: chrono::NaiveDate,
    }

    #[test]
    fn native_and_quoted_dates_are_the_same() {
        for text in ["on = 2024-02-01", "on = \"2024-02-01\""] {
            let doc: Doc = toml::from_str(text).unwrap();
            assert_eq!(doc.on.to_string(), "2024-02-01", "{text}");
        }
        for bad in ["on = 2024-02-01T10:00:00Z", "on = \"February\"", "on = 3"] {
            assert!(toml::from_str::<Doc>(bad).is_err(), "{bad}");
        }
    }
}
