//! The consent gate of one live call: nothing may be written before it opens
//! (ARLO-CONSENT-DTMF, TO-NOTICE, client-signalled consent). Pure: events and time in,
//! state out.

use std::time::Duration;

use policy::{ConsentMechanism, ConsentRules};

/// How a digit was detected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DigitSource {
    /// RFC 4733 telephone-event.
    TelephoneEvent,
    /// In-band tones in the audio.
    InBand,
    /// The recording client collected it before the fork.
    ClientSignalled,
}

/// What the recording client said at the start of the call.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ClientSignals {
    /// `Recording-Notice: played` or the metadata `<notice>` element.
    pub notice_played: bool,
    /// `Recording-Consent: granted|declined; digit=1` or the metadata `<consent>` element.
    pub consent: Option<(bool, Option<char>)>,
}

/// The state of the gate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Gate {
    /// Waiting for the caller's digit until `deadline` (ms since answer).
    Pending { deadline_ms: u64 },
    /// Audio from `since_ms` (ms since answer) on may be stored.
    Open {
        since_ms: u64,
        digit: Option<char>,
        source: Option<DigitSource>,
    },
    /// Nothing is stored; `code` says why (a fact kept without audio).
    Closed { code: &'static str, at_ms: u64 },
}

impl Gate {
    /// The gate at answer time, from the policy and the client's signals.
    pub fn at_answer(rules: &ConsentRules, signals: &ClientSignals) -> Gate {
        let closed = |code| Gate::Closed { code, at_ms: 0 };
        match rules.mechanism {
            ConsentMechanism::None => Gate::Open {
                since_ms: 0,
                digit: None,
                source: None,
            },
            ConsentMechanism::Notice if signals.notice_played => Gate::Open {
                since_ms: 0,
                digit: None,
                source: None,
            },
            ConsentMechanism::Notice => closed("notice-not-played"),
            ConsentMechanism::ClientSignalled | ConsentMechanism::DtmfOptIn => match signals.consent {
                Some((true, digit))
                    if digit.is_none()
                        || digit == rules.accept_digit
                        || rules.mechanism == ConsentMechanism::ClientSignalled =>
                {
                    Gate::Open {
                        since_ms: 0,
                        digit,
                        source: Some(DigitSource::ClientSignalled),
                    }
                }
                Some(_) => closed("consent-declined"),
                None if rules.mechanism == ConsentMechanism::ClientSignalled => closed("consent-missing"),
                None => Gate::Pending {
                    deadline_ms: Self::timeout(rules).as_millis() as u64,
                },
            },
        }
    }

    /// A digit pressed on the customer's stream at `at_ms`. Digits on other streams
    /// must not be passed here.
    pub fn customer_digit(&mut self, rules: &ConsentRules, digit: char, at_ms: u64, source: DigitSource) {
        if let Gate::Pending { deadline_ms } = *self {
            if at_ms > deadline_ms {
                *self = Gate::Closed {
                    code: "consent-timeout",
                    at_ms: deadline_ms,
                };
            } else if Some(digit) == rules.accept_digit {
                *self = Gate::Open {
                    since_ms: at_ms,
                    digit: Some(digit),
                    source: Some(source),
                };
            } else if Some(digit) == rules.decline_digit {
                *self = Gate::Closed {
                    code: "consent-declined",
                    at_ms,
                };
            }
        }
    }

    /// Time passes: a pending gate closes at its deadline.
    pub fn tick(&mut self, now_ms: u64) {
        if let Gate::Pending { deadline_ms } = *self
            && now_ms >= deadline_ms
        {
            *self = Gate::Closed {
                code: "consent-timeout",
                at_ms: deadline_ms,
            };
        }
    }

    /// Whether audio at `at_ms` may be written.
    pub fn allows(&self, at_ms: u64) -> bool {
        matches!(self, Gate::Open { since_ms, .. } if at_ms >= *since_ms)
    }

    /// How long a DTMF prompt waits (the policy's `consent.timeout`, else 30 s).
    pub fn timeout(rules: &ConsentRules) -> Duration {
        Duration::from_millis(
            rules
                .timeout
                .map(|t| (t.approx_days() * 86_400_000.0) as u64)
                .unwrap_or(30_000),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use policy::{Enablement, LegalBasis, PolicyDuration};

    fn dtmf() -> ConsentRules {
        ConsentRules {
            legal_basis: LegalBasis::Consent,
            mechanism: ConsentMechanism::DtmfOptIn,
            enablement: Enablement::Always,
            accept_digit: Some('1'),
            decline_digit: Some('2'),
            timeout: Some(PolicyDuration::Seconds(30)),
            in_call_opt_out: false,
            opt_out_alternative: None,
            withdrawal_erases: true,
            announcement: None,
        }
    }

    #[test]
    fn dtmf_gate_opens_only_on_the_accept_digit() {
        let rules = dtmf();
        type Case = (&'static [(char, u64)], u64, Gate);
        let cases: &[Case] = &[
            (
                &[('1', 4_000)],
                10_000,
                Gate::Open {
                    since_ms: 4_000,
                    digit: Some('1'),
                    source: Some(DigitSource::TelephoneEvent),
                },
            ),
            (
                &[('2', 4_000)],
                10_000,
                Gate::Closed {
                    code: "consent-declined",
                    at_ms: 4_000,
                },
            ),
            (
                &[('5', 2_000), ('1', 4_000)],
                10_000,
                Gate::Open {
                    since_ms: 4_000,
                    digit: Some('1'),
                    source: Some(DigitSource::TelephoneEvent),
                },
            ),
            (
                &[],
                31_000,
                Gate::Closed {
                    code: "consent-timeout",
                    at_ms: 30_000,
                },
            ),
            (
                &[('1', 31_000)],
                31_000,
                Gate::Closed {
                    code: "consent-timeout",
                    at_ms: 30_000,
                },
            ),
            (
                &[('2', 1_000), ('1', 2_000)],
                10_000,
                Gate::Closed {
                    code: "consent-declined",
                    at_ms: 1_000,
                },
            ),
        ];
        for (digits, end, want) in cases {
            let mut gate = Gate::at_answer(&rules, &ClientSignals::default());
            for (digit, at) in *digits {
                gate.tick(*at);
                gate.customer_digit(&rules, *digit, *at, DigitSource::TelephoneEvent);
            }
            gate.tick(*end);
            assert_eq!(&gate, want, "{digits:?}");
        }
    }

    #[test]
    fn nothing_before_consent_is_allowed() {
        let rules = dtmf();
        let mut gate = Gate::at_answer(&rules, &ClientSignals::default());
        assert!(!gate.allows(0));
        gate.customer_digit(&rules, '1', 5_000, DigitSource::InBand);
        assert!(!gate.allows(4_999));
        assert!(gate.allows(5_000));
    }

    #[test]
    fn client_signals_decide_at_answer() {
        let mut notice = dtmf();
        notice.mechanism = ConsentMechanism::Notice;
        assert_eq!(
            Gate::at_answer(&notice, &ClientSignals::default()),
            Gate::Closed {
                code: "notice-not-played",
                at_ms: 0
            }
        );
        assert!(
            Gate::at_answer(
                &notice,
                &ClientSignals {
                    notice_played: true,
                    consent: None
                }
            )
            .allows(0)
        );
        let signalled = ClientSignals {
            notice_played: false,
            consent: Some((true, Some('1'))),
        };
        assert!(Gate::at_answer(&dtmf(), &signalled).allows(0));
        let declined = ClientSignals {
            notice_played: false,
            consent: Some((false, Some('2'))),
        };
        assert_eq!(
            Gate::at_answer(&dtmf(), &declined),
            Gate::Closed {
                code: "consent-declined",
                at_ms: 0
            }
        );
    }
}
