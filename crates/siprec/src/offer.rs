//! A SIPREC offer (RFC 7866 §8): the multipart INVITE body split into its SDP and its
//! recording metadata.
//!
//! How the metadata part is found, in this order:
//!
//! 1. Content-Type `application/rs-metadata+xml` or `application/rs-metadata` (parameters and
//!    case ignored);
//! 2. else a part with `Content-Disposition: recording-session` (RFC 7866 requires it on the
//!    metadata part) that is not SDP: BroadWorks sends `Content-Type:application/ +xml`;
//! 3. else a part whose Content-Type mentions `xml` and whose body starts with `<`.
//!
//! [`SiprecOffer::metadata_match`] says which rule matched. Without any, or without an SDP
//! part, the offer is refused ([`OfferError`]). When the part is there but cannot be used, the
//! offer still stands: [`SiprecOffer::metadata`] holds the [`MetadataProblem`] to note on the
//! recording.
//!
//! SIP status suggestions for the SIP layer (which owns the mapping): `NotMultipart`,
//! `NoSdpPart`, `NoMetadataPart` → 415 Unsupported Media Type (with `Accept: application/sdp,
//! application/rs-metadata+xml` or a `Require: siprec` explanation) for an INVITE that
//! requires SIPREC; `Multipart` and `Sdp` → 400 Bad Request; `NoMediaStreams` and an answer in
//! which every stream is rejected → 488 Not Acceptable Here.

#![deny(
    clippy::indexing_slicing,
    clippy::arithmetic_side_effects,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic
)]

use crate::media_type::{MediaType, disposition_type};
use crate::metadata::{MetadataProblem, RecordingMetadata, parse_metadata};
use crate::multipart::{MultipartError, Part, split_multipart};
use crate::sdp::{SdpError, SessionDescription, parse_sdp};

/// A parsed SIPREC offer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SiprecOffer {
    /// The SDP offer: one m-line per recorded stream.
    pub sdp: SessionDescription,
    /// The recording metadata, or why it cannot be used (the call is recorded anyway).
    pub metadata: Result<RecordingMetadata, MetadataProblem>,
    /// How the metadata part was recognised.
    pub metadata_match: MetadataMatch,
    /// The Content-Types (as written, or empty) of the parts that were neither SDP nor
    /// metadata, e.g. Cisco's `application/gtd`; ignored.
    pub ignored_parts: Vec<String>,
}

/// Which rule recognised the metadata part.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MetadataMatch {
    /// Its Content-Type is `application/rs-metadata+xml` or `application/rs-metadata`.
    ContentType,
    /// Its Content-Disposition is `recording-session` (Content-Type missing or garbled).
    Disposition,
    /// Its Content-Type mentions `xml` and its body looks like XML.
    XmlContent,
}

/// Why a body is not a usable SIPREC offer. [`OfferError::code`] is stable.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum OfferError {
    /// The body is not multipart (plain SDP, or another type): not a SIPREC offer.
    #[error("the body is not multipart/mixed with SDP and recording metadata")]
    NotMultipart,
    /// The multipart body is broken.
    #[error(transparent)]
    Multipart(MultipartError),
    /// No part is `application/sdp`.
    #[error("the multipart body has no application/sdp part")]
    NoSdpPart,
    /// More than one `application/sdp` part.
    #[error("the multipart body has more than one application/sdp part")]
    SeveralSdpParts,
    /// No part is recording metadata.
    #[error("the multipart body has no recording metadata part")]
    NoMetadataPart,
    /// The SDP part cannot be parsed.
    #[error(transparent)]
    Sdp(SdpError),
    /// The SDP has no m-line.
    #[error("the SDP offer has no media streams")]
    NoMediaStreams,
}

impl OfferError {
    /// A stable identifier, such as `"siprec-no-metadata"` (or the inner error's code for
    /// multipart and SDP errors, e.g. `"multipart-no-parts"`, `"sdp-bad-media"`).
    pub fn code(&self) -> &'static str {
        match self {
            OfferError::NotMultipart => "siprec-not-multipart",
            OfferError::Multipart(error) => error.code(),
            OfferError::NoSdpPart => "siprec-no-sdp",
            OfferError::SeveralSdpParts => "siprec-several-sdp",
            OfferError::NoMetadataPart => "siprec-no-metadata",
            OfferError::Sdp(error) => error.code(),
            OfferError::NoMediaStreams => "siprec-no-media-streams",
        }
    }
}

/// Parses a SIPREC INVITE (or re-INVITE/UPDATE) body, given its Content-Type header value.
pub fn parse_offer(content_type: &str, body: &[u8]) -> Result<SiprecOffer, OfferError> {
    let parts = split_multipart(content_type, body).map_err(|error| match error {
        MultipartError::NotMultipart => OfferError::NotMultipart,
        other => OfferError::Multipart(other),
    })?;
    let types: Vec<Option<MediaType>> = parts.iter().map(Part::media_type).collect();

    let mut sdp_parts = parts
        .iter()
        .zip(&types)
        .enumerate()
        .filter(|(_, (_, t))| t.as_ref().is_some_and(|t| t.is("application", "sdp")));
    let (sdp_index, (sdp_part, _)) = sdp_parts.next().ok_or(OfferError::NoSdpPart)?;
    if sdp_parts.next().is_some() {
        return Err(OfferError::SeveralSdpParts);
    }

    let (metadata_index, metadata_match) =
        find_metadata(&parts, &types, sdp_index).ok_or(OfferError::NoMetadataPart)?;
    let sdp = parse_sdp(sdp_part.body).map_err(OfferError::Sdp)?;
    if sdp.media.is_empty() {
        return Err(OfferError::NoMediaStreams);
    }
    let metadata = match parts.get(metadata_index) {
        Some(part) => parse_metadata(part.body),
        None => Err(MetadataProblem::Empty),
    };
    let ignored_parts = parts
        .iter()
        .enumerate()
        .filter(|(index, _)| *index != sdp_index && *index != metadata_index)
        .map(|(_, part)| part.content_type.clone().unwrap_or_default())
        .collect();
    Ok(SiprecOffer {
        sdp,
        metadata,
        metadata_match,
        ignored_parts,
    })
}

fn find_metadata(parts: &[Part<'_>], types: &[Option<MediaType>], sdp_index: usize) -> Option<(usize, MetadataMatch)> {
    let candidates = || {
        parts
            .iter()
            .zip(types)
            .enumerate()
            .filter(move |(index, _)| *index != sdp_index)
    };
    if let Some((index, _)) = candidates().find(|(_, (_, t))| {
        t.as_ref()
            .is_some_and(|t| t.is("application", "rs-metadata+xml") || t.is("application", "rs-metadata"))
    }) {
        return Some((index, MetadataMatch::ContentType));
    }
    if let Some((index, _)) = candidates().find(|(_, (part, _))| {
        part.content_disposition
            .as_deref()
            .is_some_and(|d| disposition_type(d) == "recording-session")
    }) {
        return Some((index, MetadataMatch::Disposition));
    }
    candidates()
        .find(|(_, (part, _))| {
            let mentions_xml = part
                .content_type
                .as_deref()
                .is_some_and(|t| t.to_ascii_lowercase().contains("xml"));
            mentions_xml && part.body.trim_ascii_start().starts_with(b"<")
        })
        .map(|(index, _)| (index, MetadataMatch::XmlContent))
}
