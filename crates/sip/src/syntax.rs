//! Low-level SIP grammar (RFC 3261 §25): token characters, whitespace, quoted strings,
//! comma-separated lists and a small cursor the header parsers share.

#![deny(
    clippy::indexing_slicing,
    clippy::arithmetic_side_effects,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic
)]

/// `token` characters: alphanumerics and `-.!%*_+`'~`.
pub(crate) fn is_token_char(byte: u8) -> bool {
    byte.is_ascii_alphanumeric() || b"-.!%*_+`'~".contains(&byte)
}

/// A non-empty run of token characters.
pub(crate) fn is_token(text: &str) -> bool {
    !text.is_empty() && text.bytes().all(is_token_char)
}

/// Space or horizontal tab.
pub(crate) fn is_ws(byte: u8) -> bool {
    byte == b' ' || byte == b'\t'
}

/// `text` without leading and trailing spaces and tabs.
pub(crate) fn trim_ws(text: &str) -> &str {
    text.trim_matches(|c| c == ' ' || c == '\t')
}

/// Characters allowed in a parameter value besides token characters: enough for
/// hosts (`[::1]`, IPv6 `received` values) and the common generic values.
fn is_param_value_char(byte: u8) -> bool {
    is_token_char(byte) || matches!(byte, b':' | b'[' | b']' | b'/' | b'@' | b'&' | b'$' | b'?')
}

/// A reader over a header value that advances without indexing.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Cursor<'s> {
    rest: &'s str,
}

impl<'s> Cursor<'s> {
    pub(crate) fn new(text: &'s str) -> Cursor<'s> {
        Cursor { rest: text }
    }

    pub(crate) fn rest(&self) -> &'s str {
        self.rest
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.rest.is_empty()
    }

    pub(crate) fn peek(&self) -> Option<u8> {
        self.rest.bytes().next()
    }

    /// Consumes `byte` if it comes next.
    pub(crate) fn eat(&mut self, byte: u8) -> bool {
        if self.peek() == Some(byte) {
            self.rest = self.rest.get(1..).unwrap_or("");
            true
        } else {
            false
        }
    }

    /// Skips spaces and tabs; true if there were any.
    pub(crate) fn skip_ws(&mut self) -> bool {
        let before = self.rest.len();
        self.rest = self.rest.trim_start_matches([' ', '\t']);
        self.rest.len() != before
    }

    /// Takes the longest prefix of ASCII bytes matching `accept`.
    pub(crate) fn take_while(&mut self, accept: impl Fn(u8) -> bool) -> &'s str {
        let end = self
            .rest
            .bytes()
            .position(|b| !(b.is_ascii() && accept(b)))
            .unwrap_or(self.rest.len());
        self.split(end)
    }

    /// Takes everything up to (not including) the first byte matching `stop`, or all.
    pub(crate) fn take_until(&mut self, stop: impl Fn(u8) -> bool) -> &'s str {
        let end = self.rest.bytes().position(stop).unwrap_or(self.rest.len());
        self.split(end)
    }

    pub(crate) fn take_token(&mut self) -> Option<&'s str> {
        let token = self.take_while(is_token_char);
        (!token.is_empty()).then_some(token)
    }

    /// A quoted string at the cursor: returns its content without the quotes
    /// (escapes kept as written). `None` if it does not start with `"` or never ends.
    pub(crate) fn take_quoted(&mut self) -> Option<&'s str> {
        let inner = self.rest.strip_prefix('"')?;
        let end = quoted_end(inner)?;
        let (content, after) = inner.split_at_checked(end)?;
        self.rest = after.get(1..)?;
        Some(content)
    }

    fn split(&mut self, end: usize) -> &'s str {
        match self.rest.split_at_checked(end) {
            Some((taken, rest)) => {
                self.rest = rest;
                taken
            }
            None => "",
        }
    }
}

/// Offset of the closing quote in `inner` (the text after an opening quote).
fn quoted_end(inner: &str) -> Option<usize> {
    let mut escaped = false;
    for (offset, byte) in inner.bytes().enumerate() {
        if escaped {
            escaped = false;
        } else if byte == b'\\' {
            escaped = true;
        } else if byte == b'"' {
            return Some(offset);
        } else if byte == b'\r' || byte == b'\n' {
            return None;
        }
    }
    None
}

/// Splits a header value on the commas that separate list elements, ignoring commas
/// inside quoted strings and `<...>`. Elements are trimmed; `None` if a quote or an
/// angle bracket is left open.
pub(crate) fn split_list(value: &str) -> Option<Vec<&str>> {
    let mut items = Vec::new();
    let mut start = 0usize;
    let mut in_quotes = false;
    let mut escaped = false;
    let mut in_angle = false;
    for (offset, byte) in value.bytes().enumerate() {
        if in_quotes {
            if escaped {
                escaped = false;
            } else if byte == b'\\' {
                escaped = true;
            } else if byte == b'"' {
                in_quotes = false;
            }
            continue;
        }
        match byte {
            b'"' => in_quotes = true,
            b'<' if !in_angle => in_angle = true,
            b'>' if in_angle => in_angle = false,
            b',' if !in_angle => {
                items.push(trim_ws(value.get(start..offset)?));
                start = offset.checked_add(1)?;
            }
            _ => {}
        }
    }
    if in_quotes || in_angle {
        return None;
    }
    items.push(trim_ws(value.get(start..)?));
    Some(items)
}

/// The parameters after a header value or URI: `;name[=value]` pairs.
///
/// Names are matched case-insensitively. A quoted value is kept without its quotes
/// (escapes as written).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Params<'s> {
    pairs: Vec<(&'s str, Option<&'s str>)>,
}

impl<'s> Params<'s> {
    /// The value of parameter `name`: `None` when absent, `Some(None)` when present
    /// without a value (`;rport`, `;lr`), `Some(Some(v))` otherwise.
    pub fn get(&self, name: &str) -> Option<Option<&'s str>> {
        self.pairs
            .iter()
            .find(|(key, _)| key.eq_ignore_ascii_case(name))
            .map(|(_, value)| *value)
    }

    /// The value of parameter `name` if it has one.
    pub fn value(&self, name: &str) -> Option<&'s str> {
        self.get(name).flatten()
    }

    /// Whether parameter `name` is present (with or without a value).
    pub fn contains(&self, name: &str) -> bool {
        self.get(name).is_some()
    }

    /// All parameters in order.
    pub fn iter(&self) -> impl Iterator<Item = (&'s str, Option<&'s str>)> + '_ {
        self.pairs.iter().copied()
    }

    /// Number of parameters.
    pub fn len(&self) -> usize {
        self.pairs.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.pairs.is_empty()
    }

    /// Reads `*( SWS ";" SWS name [ SWS "=" SWS value ] )` at the cursor; stops
    /// before anything that is not a `;`. `None` on a malformed parameter.
    pub(crate) fn parse(cursor: &mut Cursor<'s>) -> Option<Params<'s>> {
        let mut pairs = Vec::new();
        loop {
            let mut probe = *cursor;
            probe.skip_ws();
            if !probe.eat(b';') {
                return Some(Params { pairs });
            }
            probe.skip_ws();
            let name = probe.take_token()?;
            let mut after_name = probe;
            after_name.skip_ws();
            let value = if after_name.eat(b'=') {
                after_name.skip_ws();
                probe = after_name;
                if probe.peek() == Some(b'"') {
                    Some(probe.take_quoted()?)
                } else {
                    let value = probe.take_while(is_param_value_char);
                    if value.is_empty() {
                        return None;
                    }
                    Some(value)
                }
            } else {
                None
            };
            pairs.push((name, value));
            *cursor = probe;
        }
    }
}

/// Whether `uri` looks like an absolute URI: a scheme (`ALPHA *(ALPHA / DIGIT / + - .)`),
/// a colon, and a non-empty rest without whitespace, controls, quotes or angle brackets.
pub(crate) fn is_absolute_uri(uri: &str) -> bool {
    let Some((scheme, rest)) = uri.split_once(':') else {
        return false;
    };
    let mut scheme_bytes = scheme.bytes();
    let starts_alpha = scheme_bytes.next().is_some_and(|b| b.is_ascii_alphabetic());
    starts_alpha
        && scheme_bytes.all(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'-' | b'.'))
        && !rest.is_empty()
        && rest
            .bytes()
            .all(|b| b > b' ' && b != 0x7f && !matches!(b, b'"' | b'<' | b'>'))
}
