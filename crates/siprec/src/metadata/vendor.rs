//! Vendor hints about who called whom: Oracle/Acme `callingParty`, Sonus/Ribbon `callData`.

#![deny(
    clippy::indexing_slicing,
    clippy::arithmetic_side_effects,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic
)]

use super::xml_tree::Element;

/// What vendor extensions say about the call's origin.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct VendorHints {
    /// The participant an Oracle/Acme SBC marks `<apkt:callingParty>true</apkt:callingParty>`.
    pub calling_participant_id: Option<String>,
    /// Sonus/Ribbon `<callData>` (namespace `urn:ietf:params:xml:ns:callData`).
    pub call_data: Option<CallData>,
}

/// Sonus/Ribbon `<callData>`: the original call's From and To URIs and Call-ID.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct CallData {
    /// The URI of `<fromhdr>` (display name and parameters dropped).
    pub from_uri: Option<String>,
    /// The URI of `<tohdr>` (display name and parameters dropped).
    pub to_uri: Option<String>,
    /// `<callid>`.
    pub call_id: Option<String>,
}

impl VendorHints {
    /// Takes the hints from `update` where it has them.
    pub(crate) fn merge(&mut self, update: &VendorHints) {
        if update.calling_participant_id.is_some() {
            self.calling_participant_id.clone_from(&update.calling_participant_id);
        }
        if update.call_data.is_some() {
            self.call_data.clone_from(&update.call_data);
        }
    }
}

/// Whether a participant element carries Acme's `callingParty` = true (in any namespace,
/// usually inside `<extensiondata>`).
pub(crate) fn is_calling_party(participant: &Element) -> bool {
    participant
        .descendants()
        .into_iter()
        .any(|e| e.name == "callingparty" && e.text.trim().eq_ignore_ascii_case("true"))
}

/// The first `<callData>` element anywhere in the document, read.
pub(crate) fn find_call_data(root: &Element) -> Option<CallData> {
    let element = root.descendants().into_iter().find(|e| e.name == "calldata")?;
    let text_of = |name: &str| {
        element
            .children
            .iter()
            .find(|c| c.name == name)
            .and_then(Element::trimmed_text)
    };
    Some(CallData {
        from_uri: text_of("fromhdr").map(|h| header_uri(&h)),
        to_uri: text_of("tohdr").map(|h| header_uri(&h)),
        call_id: text_of("callid"),
    })
}

/// The URI of a From/To header value: inside `<…>` when present, else up to the first `;`.
fn header_uri(header: &str) -> String {
    if let Some((_, after)) = header.split_once('<')
        && let Some((uri, _)) = after.split_once('>')
    {
        return uri.trim().to_owned();
    }
    header.split(';').next().unwrap_or_default().trim().to_owned()
}

/// An address reduced for comparison: scheme (`sip:`, `sips:`, `tel:`) and URI parameters
/// dropped, lower-cased. `sip:2249888500@172.16.198.55;user=phone` and
/// `2249888500@172.16.198.55` compare equal.
pub(crate) fn comparable_address(address: &str) -> String {
    let address = address.trim();
    let address = address.strip_prefix('<').unwrap_or(address);
    let address = address.split(['>', ';', '?']).next().unwrap_or_default();
    let lower = address.to_ascii_lowercase();
    for scheme in ["sips:", "sip:", "tel:"] {
        if let Some(rest) = lower.strip_prefix(scheme) {
            return rest.to_owned();
        }
    }
    lower
}
