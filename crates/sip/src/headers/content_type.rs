//! The Content-Type header: a media type with parameters (such as a multipart boundary).

use crate::syntax::{Cursor, Params};

/// `Content-Type: multipart/mixed;boundary=unique-boundary-1`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContentType<'s> {
    /// The top-level type as written (`multipart`).
    pub media_type: &'s str,
    /// The subtype as written (`mixed`).
    pub subtype: &'s str,
    /// Parameters (`boundary`, `charset`, ...); quoted values without their quotes.
    pub params: Params<'s>,
}

impl<'s> ContentType<'s> {
    /// Parses `type SWS "/" SWS subtype *( ";" parameter )`; `None` if malformed.
    pub fn parse(value: &'s str) -> Option<ContentType<'s>> {
        let mut cursor = Cursor::new(value);
        cursor.skip_ws();
        let media_type = cursor.take_token()?;
        cursor.skip_ws();
        if !cursor.eat(b'/') {
            return None;
        }
        cursor.skip_ws();
        let subtype = cursor.take_token()?;
        let params = Params::parse(&mut cursor)?;
        cursor.skip_ws();
        cursor.is_empty().then_some(ContentType {
            media_type,
            subtype,
            params,
        })
    }

    /// Whether this is `media_type/subtype` (ASCII case-insensitive).
    pub fn is(&self, media_type: &str, subtype: &str) -> bool {
        self.media_type.eq_ignore_ascii_case(media_type) && self.subtype.eq_ignore_ascii_case(subtype)
    }

    /// `type/subtype` in lower case, without parameters.
    pub fn essence(&self) -> String {
        format!("{}/{}", self.media_type, self.subtype).to_ascii_lowercase()
    }

    /// The `boundary` parameter of a multipart type.
    pub fn boundary(&self) -> Option<&'s str> {
        self.params.value("boundary")
    }
}
