//! The CSeq header: a sequence number and a method.

use crate::method::Method;
use crate::syntax::{Cursor, is_token};

/// `CSeq: 4711 INVITE`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CSeq<'s> {
    /// The sequence number, below 2^31 (RFC 3261 §8.1.1.5).
    pub number: u32,
    /// The method as written.
    pub method_name: &'s str,
}

impl<'s> CSeq<'s> {
    /// Parses `1*DIGIT LWS Method`; `None` if malformed or the number is 2^31 or more.
    pub fn parse(value: &'s str) -> Option<CSeq<'s>> {
        let mut cursor = Cursor::new(value);
        cursor.skip_ws();
        let digits = cursor.take_while(|b| b.is_ascii_digit());
        if digits.is_empty() || digits.len() > 10 {
            return None;
        }
        let number: u32 = digits.parse().ok()?;
        if number >= 0x8000_0000 {
            return None;
        }
        if !cursor.skip_ws() {
            return None;
        }
        let method_name = cursor.take_token()?;
        cursor.skip_ws();
        (cursor.is_empty() && is_token(method_name)).then_some(CSeq { number, method_name })
    }

    /// The method.
    pub fn method(&self) -> Method {
        Method::from_name(self.method_name)
    }
}
