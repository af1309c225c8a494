//! The Via header: sent-protocol, sent-by and the parameters transactions match on.

use crate::syntax::{Cursor, Params, split_list};
use crate::uri::{parse_host, parse_port};

/// The RFC 3261 branch prefix ("magic cookie", §8.1.1.7).
pub const BRANCH_MAGIC_COOKIE: &str = "z9hG4bK";

/// One Via entry: `SIP/2.0/UDP host:port;branch=z9hG4bK...;rport`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Via<'s> {
    /// The transport as written (`UDP`, `TCP`, `TLS`, `SCTP`, `WS`, ...).
    pub transport: &'s str,
    /// The sent-by host (a bracketed reference for IPv6).
    pub host: &'s str,
    /// The sent-by port, if given.
    pub port: Option<u16>,
    /// Parameters (`branch`, `received`, `rport`, `maddr`, `ttl`, ...).
    pub params: Params<'s>,
}

impl<'s> Via<'s> {
    /// Parses one Via entry; `None` if malformed or not SIP/2.0.
    pub fn parse(value: &'s str) -> Option<Via<'s>> {
        let mut cursor = Cursor::new(value);
        cursor.skip_ws();
        let name = cursor.take_token()?;
        slash(&mut cursor)?;
        let version = cursor.take_token()?;
        slash(&mut cursor)?;
        let transport = cursor.take_token()?;
        if !name.eq_ignore_ascii_case("SIP") || version != "2.0" {
            return None;
        }
        if !cursor.skip_ws() {
            return None;
        }
        let host = parse_host(&mut cursor)?;
        let mut probe = cursor;
        probe.skip_ws();
        let port = if probe.eat(b':') {
            probe.skip_ws();
            cursor = probe;
            Some(parse_port(cursor.take_while(|b| b.is_ascii_digit()))?)
        } else {
            None
        };
        let params = Params::parse(&mut cursor)?;
        cursor.skip_ws();
        if !cursor.is_empty() {
            return None;
        }
        if params.contains("branch") && params.value("branch").is_none() {
            return None;
        }
        if let Some(Some(rport)) = params.get("rport") {
            parse_port(rport)?;
        }
        Some(Via {
            transport,
            host,
            port,
            params,
        })
    }

    /// Every entry of one Via header value (`a, b` is two entries); `None` if any is malformed.
    pub fn parse_list(value: &'s str) -> Option<Vec<Via<'s>>> {
        split_list(value)?.into_iter().map(Via::parse).collect()
    }

    /// The `branch` parameter.
    pub fn branch(&self) -> Option<&'s str> {
        self.params.value("branch")
    }

    /// Whether the branch starts with the RFC 3261 magic cookie, so that it alone
    /// identifies the transaction.
    pub fn has_rfc3261_branch(&self) -> bool {
        self.branch().is_some_and(|b| b.starts_with(BRANCH_MAGIC_COOKIE))
    }

    /// The `received` parameter.
    pub fn received(&self) -> Option<&'s str> {
        self.params.value("received")
    }

    /// The `rport` parameter (RFC 3581): `None` if absent, `Some(None)` when the
    /// client asks for it (no value), `Some(Some(port))` when filled in.
    pub fn rport(&self) -> Option<Option<u16>> {
        self.params.get("rport").map(|value| value.and_then(parse_port))
    }

    /// `host[:port]` as the transaction key uses it (host in lower case).
    pub fn sent_by(&self) -> String {
        match self.port {
            Some(port) => format!("{}:{port}", self.host.to_ascii_lowercase()),
            None => self.host.to_ascii_lowercase(),
        }
    }
}

fn slash(cursor: &mut Cursor<'_>) -> Option<()> {
    cursor.skip_ws();
    if !cursor.eat(b'/') {
        return None;
    }
    cursor.skip_ws();
    Some(())
}
