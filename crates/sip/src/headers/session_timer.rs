//! Session timer headers (RFC 4028): Session-Expires with its refresher, and Min-SE.

use super::delta_seconds;
use crate::syntax::{Cursor, Params};

/// `Session-Expires: 1800;refresher=uac` (also the shape of `Min-SE: 90`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionExpires<'s> {
    /// The interval in seconds.
    pub seconds: u32,
    /// Parameters; `refresher` is `uac` or `uas` when present.
    pub params: Params<'s>,
}

impl<'s> SessionExpires<'s> {
    /// Parses `delta-seconds *( ";" parameter )`; `None` if malformed.
    pub fn parse(value: &'s str) -> Option<SessionExpires<'s>> {
        let mut cursor = Cursor::new(value);
        cursor.skip_ws();
        let seconds = delta_seconds(cursor.take_while(|b| b.is_ascii_digit()))?;
        let params = Params::parse(&mut cursor)?;
        cursor.skip_ws();
        cursor.is_empty().then_some(SessionExpires { seconds, params })
    }

    /// The `refresher` parameter (`uac` or `uas`), if present.
    pub fn refresher(&self) -> Option<&'s str> {
        self.params.value("refresher")
    }
}
