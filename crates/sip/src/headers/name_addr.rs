//! From, To and Contact values: an optional display name, a URI and header parameters.

use crate::syntax::{Cursor, Params, is_absolute_uri, is_token_char, is_ws, split_list, trim_ws};

/// `"Alice" <sip:alice@example.com>;tag=1928301774` or `sip:alice@example.com;tag=1`.
///
/// In the addr-spec form (no angle brackets) the parameters after the URI belong to
/// the header, as RFC 3261 §20 says.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NameAddr<'s> {
    /// The display name: the content of the quoted string (escapes as written) or
    /// the unquoted tokens; `None` when absent or empty.
    pub display_name: Option<&'s str>,
    /// The URI inside `<...>` (or the bare URI).
    pub uri: &'s str,
    /// Header parameters (`tag`, `expires`, `+sip.src`, ...).
    pub params: Params<'s>,
}

impl<'s> NameAddr<'s> {
    /// Parses `( name-addr / addr-spec ) *( ";" parameter )`; `None` if malformed.
    pub fn parse(value: &'s str) -> Option<NameAddr<'s>> {
        let mut cursor = Cursor::new(value);
        cursor.skip_ws();
        let (display_name, uri) = if cursor.peek() == Some(b'"') {
            let display = cursor.take_quoted()?;
            cursor.skip_ws();
            (Some(display), angle_uri(&mut cursor)?)
        } else if cursor.peek() == Some(b'<') {
            (None, angle_uri(&mut cursor)?)
        } else {
            let rest = cursor.rest();
            match rest.split_once('<') {
                Some((display, _)) if is_unquoted_display_name(display) => {
                    cursor.take_until(|b| b == b'<');
                    (Some(trim_ws(display)), angle_uri(&mut cursor)?)
                }
                _ => {
                    let uri = cursor.take_until(|b| b == b';' || is_ws(b) || b == b',');
                    (None, uri)
                }
            }
        };
        if !is_absolute_uri(uri) {
            return None;
        }
        let params = Params::parse(&mut cursor)?;
        cursor.skip_ws();
        if !cursor.is_empty() {
            return None;
        }
        Some(NameAddr {
            display_name: display_name.filter(|name| !name.is_empty()),
            uri,
            params,
        })
    }

    /// The `tag` parameter (dialog identification).
    pub fn tag(&self) -> Option<&'s str> {
        self.params.value("tag")
    }
}

fn angle_uri<'s>(cursor: &mut Cursor<'s>) -> Option<&'s str> {
    if !cursor.eat(b'<') {
        return None;
    }
    let uri = cursor.take_until(|b| b == b'>' || b == b'<');
    cursor.eat(b'>').then_some(uri)
}

fn is_unquoted_display_name(text: &str) -> bool {
    text.bytes().all(|b| is_token_char(b) || is_ws(b))
}

/// One Contact value: `*` (only in REGISTER) or an address with parameters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Contact<'s> {
    /// `Contact: *`.
    Wildcard,
    /// An address, e.g. `<sip:srs@10.0.0.1:5060>;+sip.src`.
    Address(NameAddr<'s>),
}

impl<'s> Contact<'s> {
    /// Every contact of one Contact header value; `None` if any is malformed.
    pub fn parse_list(value: &'s str) -> Option<Vec<Contact<'s>>> {
        if trim_ws(value) == "*" {
            return Some(vec![Contact::Wildcard]);
        }
        split_list(value)?
            .into_iter()
            .map(|item| NameAddr::parse(item).map(Contact::Address))
            .collect()
    }

    /// The address, unless this is the wildcard.
    pub fn address(&self) -> Option<&NameAddr<'s>> {
        match self {
            Contact::Wildcard => None,
            Contact::Address(address) => Some(address),
        }
    }
}
