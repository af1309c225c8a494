//! Whether a live call was transferred in, and from where (CSI-SCOPE): from the SIP
//! headers the recording client copied from the original call (Diversion, History-Info,
//! Referred-By), from callvault's metadata element
//! `<transfer xmlns="urn:callvault:siprec:1" from="URI"/>`, or from the trunk or number
//! the call arrived on as `[[sip.transfers]]` rules configure. Pure.
//!
//! A participant who joins mid-call (a metadata update) is not a transfer: that is the
//! plan's `joined_mid_call`, never this.

use crate::routing::{CallFacts, conditions_hold};

/// A configured transfer source: calls matching every condition given came from it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TransferRule {
    /// The partner line's name as it is kept on the recording (e.g. `clover`).
    pub source: String,
    /// The number (E.164) the call arrived on, among the participants' numbers.
    pub service_number: Option<String>,
    /// The trunk: the recording client's address or network (`ADDR/PREFIX`).
    pub client: Option<String>,
    /// A header of the INVITE and the value it must have.
    pub header: Option<(String, String)>,
}

/// What signalled the transfer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TransferSignal {
    Diversion,
    HistoryInfo,
    ReferredBy,
    Metadata,
    /// A `[[sip.transfers]]` rule (trunk or number).
    Configured,
}

impl TransferSignal {
    /// The word kept on the recording: the header's name, `metadata` or `configuration`.
    pub fn word(&self) -> &'static str {
        match self {
            TransferSignal::Diversion => "Diversion",
            TransferSignal::HistoryInfo => "History-Info",
            TransferSignal::ReferredBy => "Referred-By",
            TransferSignal::Metadata => "metadata",
            TransferSignal::Configured => "configuration",
        }
    }
}

/// A call transferred in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Transfer {
    pub signal: TransferSignal,
    /// The address the call was transferred from (a SIP or tel URI), when signalled.
    pub source_uri: Option<String>,
    /// The configured source's name, when a rule matched.
    pub source_name: Option<String>,
}

/// What the INVITE says that may mark a transfer.
#[derive(Debug, Clone, Default)]
pub struct TransferFacts<'a> {
    /// Every `Diversion` entry, in order (the first is the latest diversion, RFC 5806).
    pub diversion: Vec<&'a str>,
    /// Every `History-Info` entry, in order (RFC 7044).
    pub history_info: Vec<&'a str>,
    /// `Referred-By` (RFC 3892).
    pub referred_by: Option<&'a str>,
    /// The `from` of callvault's `<transfer>` metadata element.
    pub metadata_from: Option<&'a str>,
}

/// The comma-separated entries of a header value, commas inside `<...>` or quotes kept.
pub fn split_entries(value: &str) -> Vec<&str> {
    let mut entries = Vec::new();
    let (mut depth, mut quoted, mut start) = (0usize, false, 0usize);
    for (i, c) in value.char_indices() {
        match c {
            '"' => quoted = !quoted,
            '<' if !quoted => depth += 1,
            '>' if !quoted => depth = depth.saturating_sub(1),
            ',' if !quoted && depth == 0 => {
                entries.push(value[start..i].trim());
                start = i + 1;
            }
            _ => {}
        }
    }
    entries.push(value[start..].trim());
    entries.retain(|e| !e.is_empty());
    entries
}

/// The URI inside `<...>` (or the bare URI before any `;`) of a name-addr entry.
pub fn entry_uri(entry: &str) -> Option<String> {
    let entry = entry.trim();
    let uri = match (entry.find('<'), entry.find('>')) {
        (Some(open), Some(close)) if open < close => &entry[open + 1..close],
        _ => entry.split(';').next().unwrap_or_default(),
    };
    // Header parameters after `?` in a History-Info URI (`?Reason=...`) are not the address.
    let uri = uri.split('?').next().unwrap_or_default().trim();
    let scheme = uri.split(':').next().unwrap_or_default().to_ascii_lowercase();
    (matches!(scheme.as_str(), "sip" | "sips" | "tel") && uri.len() > scheme.len() + 1).then(|| uri.to_owned())
}

/// Recognises a transfer; the configured rules name the source, the signals give its
/// address. Header signals are read in the order Diversion, History-Info, Referred-By,
/// then the metadata element.
pub fn detect(facts: &TransferFacts<'_>, rules: &[TransferRule], call: &CallFacts<'_>) -> Option<Transfer> {
    let configured = rules
        .iter()
        .find(|r| {
            conditions_hold(
                r.service_number.as_deref(),
                r.client.as_deref(),
                r.header.as_ref(),
                call,
            )
        })
        .map(|r| r.source.clone());
    let signalled = facts
        .diversion
        .first()
        .and_then(|e| entry_uri(e))
        .map(|uri| (TransferSignal::Diversion, uri))
        .or_else(|| {
            // One entry is only the request as it arrived; a retargeting adds more, and
            // the first is the address the caller originally reached.
            (facts.history_info.len() >= 2)
                .then(|| facts.history_info.first().and_then(|e| entry_uri(e)))
                .flatten()
                .map(|uri| (TransferSignal::HistoryInfo, uri))
        })
        .or_else(|| {
            facts
                .referred_by
                .and_then(entry_uri)
                .map(|uri| (TransferSignal::ReferredBy, uri))
        })
        .or_else(|| {
            facts
                .metadata_from
                .and_then(entry_uri)
                .map(|uri| (TransferSignal::Metadata, uri))
        });
    match (signalled, configured) {
        (None, None) => None,
        (Some((signal, uri)), name) => Some(Transfer {
            signal,
            source_uri: Some(uri),
            source_name: name,
        }),
        (None, Some(name)) => Some(Transfer {
            signal: TransferSignal::Configured,
            source_uri: None,
            source_name: Some(name),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rules() -> Vec<TransferRule> {
        vec![
            TransferRule {
                source: "clover".into(),
                service_number: Some("+35860094399".into()),
                ..Default::default()
            },
            TransferRule {
                source: "partner-trunk".into(),
                client: Some("10.9.0.0/16".into()),
                ..Default::default()
            },
        ]
    }

    #[test]
    fn entries_split_on_commas_outside_brackets_and_quotes() {
        assert_eq!(
            split_entries("\"Desk, partner\" <sip:a@x;p=1,2>;reason=busy, <tel:+358401112222>"),
            vec!["\"Desk, partner\" <sip:a@x;p=1,2>;reason=busy", "<tel:+358401112222>"]
        );
        assert_eq!(split_entries(" , "), Vec::<&str>::new());
    }

    #[test]
    fn transfers_from_headers_metadata_and_configuration() {
        let clover_number = vec!["+35860094399".to_owned()];
        let no_numbers: Vec<String> = Vec::new();
        type Case<'a> = (
            &'a str,
            TransferFacts<'a>,
            Option<&'a str>,
            &'a [String],
            Option<(TransferSignal, Option<&'a str>, Option<&'a str>)>,
        );
        let cases: Vec<Case<'_>> = vec![
            ("nothing", TransferFacts::default(), None, &no_numbers, None),
            (
                "diversion: the latest diverting party",
                TransferFacts {
                    diversion: vec![
                        "<sip:+358401112222@partner.example>;reason=unconditional;counter=1",
                        "<tel:+358403334444>;reason=user-busy",
                    ],
                    ..Default::default()
                },
                None,
                &no_numbers,
                Some((
                    TransferSignal::Diversion,
                    Some("sip:+358401112222@partner.example"),
                    None,
                )),
            ),
            (
                "history-info with one entry is no retargeting",
                TransferFacts {
                    history_info: vec!["<sip:srs@rec.example>;index=1"],
                    ..Default::default()
                },
                None,
                &no_numbers,
                None,
            ),
            (
                "history-info: the address first reached",
                TransferFacts {
                    history_info: vec![
                        "<sip:support@partner.example>;index=1",
                        "<sip:+35860094320@posti.example?Reason=SIP%3Bcause%3D302>;index=1.1;rc=1",
                    ],
                    ..Default::default()
                },
                None,
                &no_numbers,
                Some((TransferSignal::HistoryInfo, Some("sip:support@partner.example"), None)),
            ),
            (
                "referred-by",
                TransferFacts {
                    referred_by: Some("\"Partner desk\" <sip:desk@partner.example>"),
                    ..Default::default()
                },
                None,
                &no_numbers,
                Some((TransferSignal::ReferredBy, Some("sip:desk@partner.example"), None)),
            ),
            (
                "metadata",
                TransferFacts {
                    metadata_from: Some("sip:desk@partner.example"),
                    ..Default::default()
                },
                None,
                &no_numbers,
                Some((TransferSignal::Metadata, Some("sip:desk@partner.example"), None)),
            ),
            (
                "the number it arrived on, as configured",
                TransferFacts::default(),
                None,
                &clover_number,
                Some((TransferSignal::Configured, None, Some("clover"))),
            ),
            (
                "the trunk, as configured, with the header's address",
                TransferFacts {
                    referred_by: Some("<sip:desk@partner.example>"),
                    ..Default::default()
                },
                Some("10.9.1.2"),
                &no_numbers,
                Some((
                    TransferSignal::ReferredBy,
                    Some("sip:desk@partner.example"),
                    Some("partner-trunk"),
                )),
            ),
            (
                "garbage is no transfer",
                TransferFacts {
                    diversion: vec!["not a uri"],
                    referred_by: Some("<>"),
                    ..Default::default()
                },
                Some("192.0.2.1"),
                &no_numbers,
                None,
            ),
        ];
        for (what, facts, client, numbers, want) in cases {
            let call = CallFacts {
                client: client.map(|c| c.parse().unwrap()),
                numbers,
                headers: &[],
            };
            let got = detect(&facts, &rules(), &call);
            let got = got
                .as_ref()
                .map(|t| (t.signal, t.source_uri.as_deref(), t.source_name.as_deref()));
            assert_eq!(got, want, "{what}");
        }
    }
}
