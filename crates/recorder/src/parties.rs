//! Who is the agent, who is the customer, and which way the call went
//! (DESIGN.md "Parties, direction and consent signals"). Pure.

use policy::Direction;

/// What the tenant says about its own side of calls.
#[derive(Debug, Clone, Default)]
pub struct TenantSide {
    /// The organisation's own numbers, E.164.
    pub service_numbers: Vec<String>,
    /// Agent SIP URIs or domains (`sip:alice@pbx.example`, `pbx.example`, `@pbx.example`).
    pub agent_patterns: Vec<String>,
    /// Default country for national-format numbers.
    pub country: Option<String>,
}

/// A participant as the metadata names them.
#[derive(Debug, Clone, Default)]
pub struct PartyFacts {
    pub aors: Vec<String>,
    pub name: Option<String>,
}

/// A participant's role in the call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PartyRole {
    Agent,
    Customer,
    /// Matches the organisation's service number (the line, not a person).
    Service,
    /// Neither could be told apart (e.g. two unknown parties).
    Other,
}

/// The roles of every party and the direction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Classified {
    pub roles: Vec<PartyRole>,
    /// The customer's index, when exactly one party is the customer.
    pub customer: Option<usize>,
    pub direction: Option<Direction>,
}

/// The user part (number) and host of a SIP/tel URI.
fn user_and_host(aor: &str) -> (String, String) {
    let aor = aor.trim().trim_start_matches('<').trim_end_matches('>');
    let rest = aor
        .strip_prefix("sips:")
        .or_else(|| aor.strip_prefix("sip:"))
        .or_else(|| aor.strip_prefix("tel:"))
        .unwrap_or(aor);
    let rest = rest.split([';', '?']).next().unwrap_or_default();
    match rest.split_once('@') {
        Some((user, host)) => (
            user.to_owned(),
            host.split(':').next().unwrap_or_default().to_ascii_lowercase(),
        ),
        None => (rest.to_owned(), String::new()),
    }
}

/// The E.164 form of an AoR's user part, if it is a number.
pub fn aor_number(aor: &str, country: Option<&str>) -> Option<String> {
    let (user, _) = user_and_host(aor);
    if user.chars().filter(char::is_ascii_digit).count() < 5 || user.chars().any(|c| c.is_ascii_alphabetic()) {
        return None;
    }
    redact::normalize_e164(&user, country).ok()
}

fn matches_agent(aor: &str, patterns: &[String]) -> bool {
    let full = aor
        .trim()
        .trim_start_matches('<')
        .trim_end_matches('>')
        .to_ascii_lowercase();
    let (_, host) = user_and_host(aor);
    patterns.iter().any(|p| {
        let p = p.trim().to_ascii_lowercase();
        if p.starts_with("sip:") || p.starts_with("sips:") {
            full == p || full.starts_with(&format!("{p};"))
        } else {
            let domain = p.trim_start_matches('@');
            !host.is_empty() && (host == domain || host.ends_with(&format!(".{domain}")))
        }
    })
}

/// Classifies the parties; `originator` is a vendor hint naming the party that placed
/// the call (index), otherwise the first listed party is taken as the caller when
/// that party is the customer.
pub fn classify(parties: &[PartyFacts], side: &TenantSide, originator: Option<usize>) -> Classified {
    let country = side.country.as_deref();
    let roles: Vec<PartyRole> = parties
        .iter()
        .map(|p| {
            if p.aors.iter().any(|a| matches_agent(a, &side.agent_patterns)) {
                PartyRole::Agent
            } else if p
                .aors
                .iter()
                .filter_map(|a| aor_number(a, country))
                .any(|n| side.service_numbers.contains(&n))
            {
                PartyRole::Service
            } else {
                PartyRole::Customer
            }
        })
        .collect();
    let customers: Vec<usize> = roles
        .iter()
        .enumerate()
        .filter(|(_, r)| **r == PartyRole::Customer)
        .map(|(i, _)| i)
        .collect();
    let ours = roles.iter().any(|r| matches!(r, PartyRole::Agent | PartyRole::Service));
    let (customer, roles) = match (customers.as_slice(), ours) {
        ([one], true) => (Some(*one), roles),
        // Nothing tells the sides apart: nobody is known to be the customer.
        _ => (
            None,
            roles
                .into_iter()
                .map(|r| if r == PartyRole::Customer { PartyRole::Other } else { r })
                .collect(),
        ),
    };
    let direction = customer.and_then(|c| match originator {
        Some(o) if o == c => Some(Direction::Inbound),
        Some(o) if o < parties.len() => Some(Direction::Outbound),
        Some(_) => None,
        None if c == 0 => Some(Direction::Inbound),
        None => Some(Direction::Outbound),
    });
    Classified {
        roles,
        customer,
        direction,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn party(aor: &str) -> PartyFacts {
        PartyFacts {
            aors: vec![aor.to_owned()],
            name: None,
        }
    }

    fn side() -> TenantSide {
        TenantSide {
            service_numbers: vec!["+35860094320".into()],
            agent_patterns: vec!["pbx.posti.example".into(), "sip:7300@35.162.237.204".into()],
            country: Some("FI".into()),
        }
    }

    #[test]
    fn parties_and_direction_as_designed() {
        use Direction::*;
        use PartyRole::*;
        type Case = (
            &'static [&'static str],
            Option<usize>,
            &'static [PartyRole],
            Option<Direction>,
        );
        let cases: &[Case] = &[
            // Customer listed first calling a service number: inbound.
            (
                &["sip:0401234567@carrier.example", "sip:060094320@carrier.example"],
                None,
                &[Customer, Service],
                Some(Inbound),
            ),
            // Agent listed first: outbound.
            (
                &["sip:anna@pbx.posti.example", "tel:+358401234567"],
                None,
                &[Agent, Customer],
                Some(Outbound),
            ),
            // A vendor hint wins over the listing order.
            (
                &["sip:anna@pbx.posti.example", "tel:+358401234567"],
                Some(1),
                &[Agent, Customer],
                Some(Inbound),
            ),
            (
                &["sip:7301@35.162.237.204", "sip:7300@35.162.237.204"],
                None,
                &[Customer, Agent],
                Some(Inbound),
            ),
            // Nothing matches the tenant: undecidable.
            (&["sip:a@x.example", "sip:b@y.example"], None, &[Other, Other], None),
            // Two customers and one agent: which customer? undecidable.
            (
                &["sip:a@x.example", "sip:b@y.example", "sip:anna@pbx.posti.example"],
                None,
                &[Other, Other, Agent],
                None,
            ),
        ];
        for (aors, hint, roles, direction) in cases {
            let parties: Vec<PartyFacts> = aors.iter().map(|a| party(a)).collect();
            let got = classify(&parties, &side(), *hint);
            assert_eq!(got.roles, *roles, "{aors:?}");
            assert_eq!(got.direction, *direction, "{aors:?}");
        }
    }

    #[test]
    fn agent_patterns_match_domains_and_exact_uris() {
        let patterns = vec!["posti.example".to_owned(), "sip:desk@other.example".to_owned()];
        assert!(matches_agent("sip:anna@pbx.posti.example", &patterns));
        assert!(matches_agent("<sip:desk@other.example>", &patterns));
        assert!(!matches_agent("sip:desk2@other.example", &patterns));
        assert!(!matches_agent("sip:anna@notposti.example", &patterns));
    }
}
