//! Which tenant a live call belongs to: configured rules (by service number, by
//! recording client address, by a header), then the tenants' own service numbers,
//! then the default tenant. Pure.

use std::net::IpAddr;

/// One configured rule; every condition given must hold.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Route {
    pub tenant: String,
    /// A service number (E.164) one of the participants has.
    pub service_number: Option<String>,
    /// The recording client's address, or a network as `ADDR/PREFIX`.
    pub client: Option<String>,
    /// A header of the INVITE and the value it must have, e.g. `("X-Tenant", "posti")`.
    pub header: Option<(String, String)>,
}

/// What is known about a call when it arrives.
#[derive(Debug, Clone, Default)]
pub struct CallFacts<'a> {
    pub client: Option<IpAddr>,
    /// Participants' numbers in E.164 (where their AoRs are numbers).
    pub numbers: &'a [String],
    /// The INVITE's headers as (name, value).
    pub headers: &'a [(String, String)],
}

/// A tenant's own service numbers.
#[derive(Debug, Clone)]
pub struct TenantNumbers {
    pub tenant: String,
    pub service_numbers: Vec<String>,
}

/// The tenant for a call, and the reason it was chosen.
pub fn pick_tenant(
    routes: &[Route],
    tenants: &[TenantNumbers],
    default: Option<&str>,
    call: &CallFacts<'_>,
) -> Option<(String, &'static str)> {
    let matches = |route: &Route| {
        conditions_hold(
            route.service_number.as_deref(),
            route.client.as_deref(),
            route.header.as_ref(),
            call,
        )
    };
    if let Some(route) = routes.iter().find(|r| matches(r)) {
        return Some((route.tenant.clone(), "route"));
    }
    let owners: Vec<&TenantNumbers> = tenants
        .iter()
        .filter(|t| t.service_numbers.iter().any(|n| call.numbers.contains(n)))
        .collect();
    if let [only] = owners.as_slice() {
        return Some((only.tenant.clone(), "service-number"));
    }
    default.map(|d| (d.to_owned(), "default"))
}

/// Whether a call meets every condition given (a rule's service number, client
/// address or network, header and value); a rule without conditions matches every call.
pub fn conditions_hold(
    service_number: Option<&str>,
    client: Option<&str>,
    header: Option<&(String, String)>,
    call: &CallFacts<'_>,
) -> bool {
    let number_ok = service_number.is_none_or(|n| call.numbers.iter().any(|m| m == n));
    let client_ok = client.is_none_or(|c| call.client.is_some_and(|ip| in_network(ip, c)));
    let header_ok = header.is_none_or(|(name, value)| {
        call.headers
            .iter()
            .any(|(n, v)| n.eq_ignore_ascii_case(name) && v.trim() == value)
    });
    number_ok && client_ok && header_ok
}

/// Whether `ip` is `network` (an address) or inside it (`ADDR/PREFIX`).
pub fn in_network(ip: IpAddr, network: &str) -> bool {
    let (address, prefix) = match network.split_once('/') {
        Some((a, p)) => (a, p.parse::<u32>().ok()),
        None => (network, None),
    };
    let Ok(base) = address.trim().parse::<IpAddr>() else {
        return false;
    };
    match (ip, base) {
        (IpAddr::V4(ip), IpAddr::V4(base)) => {
            let bits = prefix.unwrap_or(32).min(32);
            let mask = if bits == 0 { 0 } else { u32::MAX << (32 - bits) };
            u32::from(ip) & mask == u32::from(base) & mask
        }
        (IpAddr::V6(ip), IpAddr::V6(base)) => {
            let bits = prefix.unwrap_or(128).min(128);
            let mask = if bits == 0 { 0 } else { u128::MAX << (128 - bits) };
            u128::from(ip) & mask == u128::from(base) & mask
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rules_then_service_numbers_then_default() {
        let routes = vec![
            Route {
                tenant: "by-header".into(),
                header: Some(("X-Tenant".into(), "acme".into())),
                ..Default::default()
            },
            Route {
                tenant: "by-client".into(),
                client: Some("10.1.0.0/16".into()),
                ..Default::default()
            },
            Route {
                tenant: "by-number".into(),
                service_number: Some("+442080999077".into()),
                ..Default::default()
            },
        ];
        let tenants = vec![TenantNumbers {
            tenant: "posti".into(),
            service_numbers: vec!["+35860094320".into()],
        }];
        let headers = vec![("x-tenant".to_owned(), " acme".to_owned())];
        let posti = vec!["+35860094320".to_owned()];
        let webeo = vec!["+442080999077".to_owned()];
        let cases: Vec<(CallFacts<'_>, Option<(&str, &str)>)> = vec![
            (
                CallFacts {
                    headers: &headers,
                    ..Default::default()
                },
                Some(("by-header", "route")),
            ),
            (
                CallFacts {
                    client: "10.1.2.3".parse().ok(),
                    ..Default::default()
                },
                Some(("by-client", "route")),
            ),
            (
                CallFacts {
                    client: "10.2.2.3".parse().ok(),
                    ..Default::default()
                },
                Some(("fallback", "default")),
            ),
            (
                CallFacts {
                    numbers: &webeo,
                    ..Default::default()
                },
                Some(("by-number", "route")),
            ),
            (
                CallFacts {
                    numbers: &posti,
                    ..Default::default()
                },
                Some(("posti", "service-number")),
            ),
        ];
        for (call, want) in cases {
            let got = pick_tenant(&routes, &tenants, Some("fallback"), &call);
            assert_eq!(got.as_ref().map(|(t, w)| (t.as_str(), *w)), want, "{call:?}");
        }
        assert_eq!(pick_tenant(&[], &[], None, &CallFacts::default()), None);
    }

    #[test]
    fn networks() {
        let ip = |s: &str| s.parse::<IpAddr>().unwrap();
        assert!(in_network(ip("192.0.2.7"), "192.0.2.7"));
        assert!(in_network(ip("192.0.2.7"), "192.0.2.0/24"));
        assert!(!in_network(ip("192.0.3.7"), "192.0.2.0/24"));
        assert!(in_network(ip("2001:db8::1"), "2001:db8::/32"));
        assert!(!in_network(ip("2001:db8::1"), "192.0.2.0/24"));
        assert!(!in_network(ip("192.0.2.7"), "not an address"));
    }
}
