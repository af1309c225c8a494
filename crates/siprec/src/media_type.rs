//! MIME media types (`type/subtype; name=value; name="quoted value"`) as found in Content-Type values.

#![deny(
    clippy::indexing_slicing,
    clippy::arithmetic_side_effects,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic
)]

/// A parsed media type: type and subtype lower-cased, parameters in order with lower-cased
/// names and unquoted values.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MediaType {
    /// The top-level type, lower-case (`multipart`, `application`).
    pub type_name: String,
    /// The subtype, lower-case (`mixed`, `sdp`, `rs-metadata+xml`).
    pub subtype: String,
    /// Parameters in the order given: (lower-case name, value with quotes and escapes removed).
    pub params: Vec<(String, String)>,
}

impl MediaType {
    /// Parses a Content-Type value. `None` when there is no `type/subtype` made of token
    /// characters, or a parameter is malformed (no `=`, unterminated quoted string).
    pub fn parse(value: &str) -> Option<MediaType> {
        let mut rest = value.trim_start();
        let type_end = rest.find(|c: char| !is_token_char(c)).unwrap_or(rest.len());
        let (type_name, after_type) = rest.split_at(type_end);
        let after_slash = after_type.trim_start().strip_prefix('/')?.trim_start();
        let sub_end = after_slash
            .find(|c: char| !is_token_char(c))
            .unwrap_or(after_slash.len());
        let (subtype, after_sub) = after_slash.split_at(sub_end);
        if type_name.is_empty() || subtype.is_empty() {
            return None;
        }
        rest = after_sub;
        let mut params = Vec::new();
        loop {
            rest = rest.trim_start();
            if rest.is_empty() {
                break;
            }
            rest = rest.strip_prefix(';')?.trim_start();
            if rest.is_empty() {
                // A trailing `;` is common and harmless.
                break;
            }
            let name_end = rest.find(|c: char| !is_token_char(c)).unwrap_or(rest.len());
            let (name, after_name) = rest.split_at(name_end);
            if name.is_empty() {
                return None;
            }
            let after_eq = after_name.trim_start().strip_prefix('=')?.trim_start();
            let (param_value, after_value) = if let Some(quoted) = after_eq.strip_prefix('"') {
                take_quoted(quoted)?
            } else {
                let end = after_eq.find(|c: char| !is_token_char(c)).unwrap_or(after_eq.len());
                let (token, after) = after_eq.split_at(end);
                (token.to_owned(), after)
            };
            params.push((name.to_ascii_lowercase(), param_value));
            rest = after_value;
        }
        Some(MediaType {
            type_name: type_name.to_ascii_lowercase(),
            subtype: subtype.to_ascii_lowercase(),
            params,
        })
    }

    /// Whether this is `type_name/subtype` (both compared lower-case).
    pub fn is(&self, type_name: &str, subtype: &str) -> bool {
        self.type_name == type_name && self.subtype == subtype
    }

    /// The value of the first parameter called `name` (lower-case).
    pub fn param(&self, name: &str) -> Option<&str> {
        self.params.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str())
    }
}

/// RFC 2045 token characters: visible ASCII except tspecials.
fn is_token_char(c: char) -> bool {
    c.is_ascii_graphic() && !"()<>@,;:\\\"/[]?=".contains(c)
}

/// Reads a quoted string whose opening quote is already consumed; returns the unescaped
/// value and the text after the closing quote.
fn take_quoted(text: &str) -> Option<(String, &str)> {
    let mut value = String::new();
    let mut chars = text.char_indices();
    while let Some((index, c)) = chars.next() {
        match c {
            '"' => return Some((value, text.get(index.checked_add(1)?..)?)),
            '\\' => value.push(chars.next()?.1),
            '\r' | '\n' => return None,
            other => value.push(other),
        }
    }
    None
}

/// The disposition type of a Content-Disposition value (`recording-session` in
/// `recording-session; handling=required`), lower-case.
pub fn disposition_type(value: &str) -> String {
    value.split(';').next().unwrap_or_default().trim().to_ascii_lowercase()
}
