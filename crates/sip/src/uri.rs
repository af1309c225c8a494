//! SIP and SIPS URIs (RFC 3261 §19.1), split into borrowed parts.

#![deny(
    clippy::indexing_slicing,
    clippy::arithmetic_side_effects,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic
)]

use crate::syntax::{Cursor, Params, is_absolute_uri};

/// A `sip:` or `sips:` URI: `scheme:[user[:password]@]host[:port][;params][?headers]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SipUri<'s> {
    /// `sip` or `sips` as written.
    pub scheme: &'s str,
    /// The user part (without password), escapes as written.
    pub user: Option<&'s str>,
    /// The host: a name, an IPv4 address or a bracketed IPv6 reference.
    pub host: &'s str,
    /// The port, if given.
    pub port: Option<u16>,
    /// URI parameters (`;transport=tcp`, `;lr`, `;user=phone`).
    pub params: Params<'s>,
    /// The header part after `?`, as written.
    pub headers: Option<&'s str>,
}

impl<'s> SipUri<'s> {
    /// Parses a `sip:`/`sips:` URI; `None` for other schemes or malformed URIs.
    pub fn parse(uri: &'s str) -> Option<SipUri<'s>> {
        if !is_absolute_uri(uri) {
            return None;
        }
        let (scheme, rest) = uri.split_once(':')?;
        if !(scheme.eq_ignore_ascii_case("sip") || scheme.eq_ignore_ascii_case("sips")) {
            return None;
        }
        // Neither parameters nor headers may hold a raw '@', so the last one ends the userinfo.
        let (user, hostpart) = match rest.rsplit_once('@') {
            Some((userinfo, hostpart)) => {
                let user = userinfo.split_once(':').map_or(userinfo, |(user, _password)| user);
                if user.is_empty() {
                    return None;
                }
                (Some(user), hostpart)
            }
            None => (None, rest),
        };
        let mut cursor = Cursor::new(hostpart);
        let host = parse_host(&mut cursor)?;
        let port = if cursor.eat(b':') {
            Some(parse_port(cursor.take_while(|b| b.is_ascii_digit()))?)
        } else {
            None
        };
        let params = Params::parse(&mut cursor)?;
        let headers = if cursor.eat(b'?') {
            Some(cursor.take_until(|_| false))
        } else {
            None
        };
        if !cursor.is_empty() {
            return None;
        }
        Some(SipUri {
            scheme,
            user,
            host,
            port,
            params,
            headers,
        })
    }
}

/// A host at the cursor: `[IPv6]` or a run of name/IPv4 characters.
pub(crate) fn parse_host<'s>(cursor: &mut Cursor<'s>) -> Option<&'s str> {
    let start = cursor.rest();
    if cursor.eat(b'[') {
        let inner = cursor.take_while(|b| b.is_ascii_hexdigit() || b == b':' || b == b'.');
        if inner.is_empty() || !inner.contains(':') || !cursor.eat(b']') {
            return None;
        }
        let consumed = start.len().checked_sub(cursor.rest().len())?;
        return start.get(..consumed);
    }
    let host = cursor.take_while(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.' || b == b'_');
    let valid = !host.is_empty() && !host.starts_with(['.', '-']) && !host.contains("..");
    valid.then_some(host)
}

/// A port number: 1 to 5 digits, at most 65535.
pub(crate) fn parse_port(digits: &str) -> Option<u16> {
    if digits.is_empty() || digits.len() > 5 {
        return None;
    }
    digits.parse().ok()
}
