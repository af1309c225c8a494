//! The SDP parser: line by line into a [`SessionDescription`], bounds-checked, never panicking.

#![deny(
    clippy::indexing_slicing,
    clippy::arithmetic_side_effects,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic
)]

use super::error::{SdpError, SdpErrorKind};
use super::{
    Attribute, Connection, Direction, Fmtp, MediaDescription, Origin, RtcpAttribute, RtpMap, SessionDescription,
};

/// At most this many `m=` sections are accepted (a SIPREC offer has one per participant
/// stream, typically two).
pub const MAX_MEDIA_SECTIONS: usize = 32;

/// Parses a session description. Lines may end in CRLF or LF; empty lines are skipped;
/// bytes that are not UTF-8 become U+FFFD (and then fail wherever structure is expected).
pub fn parse_sdp(input: &[u8]) -> Result<SessionDescription, SdpError> {
    let text = String::from_utf8_lossy(input);
    let mut lines = text
        .split('\n')
        .enumerate()
        .map(|(index, line)| (index.saturating_add(1), line.trim_end()))
        .filter(|(_, line)| !line.is_empty());

    let (first_number, first) = lines.next().ok_or(SdpError {
        kind: SdpErrorKind::Empty,
        line: 0,
    })?;
    if first != "v=0" {
        return Err(SdpError {
            kind: SdpErrorKind::BadVersion,
            line: first_number,
        });
    }

    let mut origin: Option<Origin> = None;
    let mut session_name: Option<String> = None;
    let mut session = SessionLevel::default();
    let mut media: Vec<MediaDescription> = Vec::new();

    for (number, line) in lines {
        let fail = |kind| SdpError { kind, line: number };
        // A bare CR or other control character inside a line could end a line early in
        // whatever reads text copied from it (an answer echoes labels and fmtp values).
        if line.chars().any(|c| c.is_control() && c != '\t') {
            return Err(fail(SdpErrorKind::MalformedLine));
        }
        let (kind, value) = line.split_once('=').ok_or(fail(SdpErrorKind::MalformedLine))?;
        let mut kind_chars = kind.chars();
        let (Some(letter), None) = (kind_chars.next(), kind_chars.next()) else {
            return Err(fail(SdpErrorKind::MalformedLine));
        };
        if !letter.is_ascii_lowercase() {
            return Err(fail(SdpErrorKind::MalformedLine));
        }
        match letter {
            'o' if media.is_empty() => {
                origin = Some(parse_origin(value).ok_or(fail(SdpErrorKind::BadOrigin))?);
            }
            's' if media.is_empty() => session_name = Some(value.to_owned()),
            'c' => {
                let connection = parse_connection(value).ok_or(fail(SdpErrorKind::BadConnection))?;
                match media.last_mut() {
                    Some(section) => section.connection = Some(connection),
                    None => session.connection = Some(connection),
                }
            }
            'm' => {
                if media.len() >= MAX_MEDIA_SECTIONS {
                    return Err(fail(SdpErrorKind::TooManyMedia));
                }
                media.push(parse_media(value).map_err(fail)?);
            }
            'a' => {
                let attribute = parse_attribute(value);
                match media.last_mut() {
                    Some(section) => apply_media_attribute(section, &attribute).map_err(fail)?,
                    None => {
                        if let Some(direction) = Direction::from_attribute(&attribute.name) {
                            session.direction = Some(direction);
                        }
                        session.attributes.push(attribute);
                    }
                }
            }
            // v= again, i=, u=, e=, p=, b=, t=, r=, z=, k= and unknown letters: not needed.
            _ => {}
        }
    }

    Ok(SessionDescription {
        origin: origin.ok_or(SdpError {
            kind: SdpErrorKind::BadOrigin,
            line: 0,
        })?,
        session_name: session_name.ok_or(SdpError {
            kind: SdpErrorKind::MissingSessionName,
            line: 0,
        })?,
        connection: session.connection,
        direction: session.direction,
        attributes: session.attributes,
        media,
    })
}

/// Session-level state collected before the first `m=`.
#[derive(Default)]
struct SessionLevel {
    connection: Option<Connection>,
    direction: Option<Direction>,
    attributes: Vec<Attribute>,
}

fn parse_origin(value: &str) -> Option<Origin> {
    let fields: Vec<&str> = value.split_whitespace().collect();
    let [
        username,
        session_id,
        session_version,
        network_type,
        address_type,
        address,
    ] = fields.as_slice()
    else {
        return None;
    };
    Some(Origin {
        username: (*username).to_owned(),
        session_id: (*session_id).to_owned(),
        session_version: (*session_version).to_owned(),
        address: connection_from_fields(network_type, address_type, address),
    })
}

fn parse_connection(value: &str) -> Option<Connection> {
    let fields: Vec<&str> = value.split_whitespace().collect();
    let [network_type, address_type, address] = fields.as_slice() else {
        return None;
    };
    Some(connection_from_fields(network_type, address_type, address))
}

fn connection_from_fields(network_type: &str, address_type: &str, address: &str) -> Connection {
    // `/ttl` and `/count` (multicast) are not needed: keep the address only.
    let address = address.split('/').next().unwrap_or_default();
    Connection {
        network_type: network_type.to_owned(),
        address_type: address_type.to_owned(),
        address: address.to_owned(),
        ip: address.parse().ok(),
    }
}

fn parse_media(value: &str) -> Result<MediaDescription, SdpErrorKind> {
    let mut fields = value.split_whitespace();
    let (Some(media), Some(port_field), Some(protocol)) = (fields.next(), fields.next(), fields.next()) else {
        return Err(SdpErrorKind::BadMedia);
    };
    let formats: Vec<String> = fields.map(str::to_owned).collect();
    if formats.is_empty() {
        return Err(SdpErrorKind::BadMedia);
    }
    let (port, port_count) = match port_field.split_once('/') {
        Some((port, count)) => (port, Some(parse_number::<u16>(count).ok_or(SdpErrorKind::BadMedia)?)),
        None => (port_field, None),
    };
    let port = parse_number::<u16>(port).ok_or(SdpErrorKind::BadMedia)?;
    let mut section = MediaDescription {
        media: media.to_owned(),
        port,
        port_count,
        protocol: protocol.to_owned(),
        formats,
        connection: None,
        rtpmaps: Vec::new(),
        fmtps: Vec::new(),
        ptime: None,
        label: None,
        direction: None,
        rtcp: None,
        crypto: Vec::new(),
        attributes: Vec::new(),
    };
    if section.is_rtp() && !section.formats.iter().all(|f| parse_payload_type(f).is_some()) {
        return Err(SdpErrorKind::BadPayloadType);
    }
    // Keep only the canonical form of payload types (`08` becomes `8`).
    if section.is_rtp() {
        section.formats = section
            .formats
            .iter()
            .filter_map(|f| parse_payload_type(f))
            .map(|pt| pt.to_string())
            .collect();
    }
    Ok(section)
}

fn parse_attribute(value: &str) -> Attribute {
    match value.split_once(':') {
        Some((name, rest)) => Attribute {
            name: name.trim().to_owned(),
            value: Some(rest.trim().to_owned()),
        },
        None => Attribute {
            name: value.trim().to_owned(),
            value: None,
        },
    }
}

fn apply_media_attribute(section: &mut MediaDescription, attribute: &Attribute) -> Result<(), SdpErrorKind> {
    let value = attribute.value.as_deref().unwrap_or_default();
    match attribute.name.as_str() {
        "rtpmap" => section
            .rtpmaps
            .push(parse_rtpmap(value).ok_or(SdpErrorKind::BadRtpmap)?),
        "fmtp" => {
            let (format, parameters) = value
                .split_once(char::is_whitespace)
                .ok_or(SdpErrorKind::BadAttribute)?;
            section.fmtps.push(Fmtp {
                format: format.to_owned(),
                parameters: parameters.trim().to_owned(),
            });
        }
        "ptime" => section.ptime = Some(parse_ptime(value).ok_or(SdpErrorKind::BadAttribute)?),
        "label" if !value.is_empty() => section.label = Some(value.to_owned()),
        "rtcp" => section.rtcp = Some(parse_rtcp(value).ok_or(SdpErrorKind::BadAttribute)?),
        "crypto" => section.crypto.push(value.to_owned()),
        name => {
            if let Some(direction) = Direction::from_attribute(name) {
                section.direction = Some(direction);
            }
        }
    }
    section.attributes.push(attribute.clone());
    Ok(())
}

fn parse_rtpmap(value: &str) -> Option<RtpMap> {
    let (payload_type, encoding) = value.split_once(char::is_whitespace)?;
    let payload_type = parse_payload_type(payload_type)?;
    let mut pieces = encoding.trim().split('/');
    let name = pieces.next().filter(|n| !n.is_empty())?;
    let clock_rate = parse_number::<u32>(pieces.next()?).filter(|&rate| rate > 0)?;
    let channels = match pieces.next() {
        Some(channels) => Some(parse_number::<u8>(channels).filter(|&c| c > 0)?),
        None => None,
    };
    if pieces.next().is_some() {
        return None;
    }
    Some(RtpMap {
        payload_type,
        encoding: name.to_owned(),
        clock_rate,
        channels,
    })
}

/// `20` or `20.0`: whole milliseconds (the fraction is dropped).
fn parse_ptime(value: &str) -> Option<u32> {
    let (whole, fraction) = value.split_once('.').unwrap_or((value, "0"));
    if fraction.is_empty() || !fraction.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    parse_number::<u32>(whole)
}

fn parse_rtcp(value: &str) -> Option<RtcpAttribute> {
    let fields: Vec<&str> = value.split_whitespace().collect();
    match fields.as_slice() {
        [port] => Some(RtcpAttribute {
            port: parse_number(port)?,
            connection: None,
        }),
        [port, network_type, address_type, address] => Some(RtcpAttribute {
            port: parse_number(port)?,
            connection: Some(connection_from_fields(network_type, address_type, address)),
        }),
        _ => None,
    }
}

fn parse_payload_type(text: &str) -> Option<u8> {
    parse_number::<u8>(text).filter(|&pt| pt <= 127)
}

/// Decimal digits only (no sign, no spaces), within the type's range.
fn parse_number<T: std::str::FromStr>(text: &str) -> Option<T> {
    if text.is_empty() || text.len() > 10 || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    text.parse().ok()
}
