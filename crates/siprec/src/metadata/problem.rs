//! Why metadata could not be used, and what was odd in metadata that could: codes and fixed
//! texts only, so that a problem can be noted on a recording and logged without personal data.

/// Metadata that cannot be used. The recording goes on without it; the problem (its code and
/// text, which never contain values from the document) is noted on the recording.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum MetadataProblem {
    /// The part is empty or only whitespace.
    #[error("the metadata part is empty")]
    Empty,
    /// The part is not UTF-8.
    #[error("the metadata is not UTF-8")]
    NotUtf8,
    /// The XML is not well-formed.
    #[error("the metadata XML is not well-formed at byte {position}: {what}")]
    NotWellFormed {
        /// Byte offset in the part where the reader stopped.
        position: u64,
        /// A fixed description of the fault.
        what: &'static str,
    },
    /// A document type declaration (refused: entity expansion is a denial-of-service vector).
    #[error("the metadata has a document type declaration, which is not accepted")]
    DoctypeNotAllowed,
    /// The root is not `<recording>` in a recording namespace.
    #[error("the metadata root element is {element} in {namespace}, not <recording> in a recording namespace")]
    UnexpectedRoot {
        /// The root's local name, with anything but letters, `_`, `-` and `.` replaced by `?`.
        element: String,
        /// `no namespace`, `a recording namespace` or `another namespace`.
        namespace: &'static str,
    },
    /// Nesting deeper than the parser accepts.
    #[error("the metadata nests elements deeper than {max} levels")]
    TooDeep {
        /// The limit.
        max: usize,
    },
    /// More elements than the parser accepts.
    #[error("the metadata has more than {max} elements")]
    TooManyElements {
        /// The limit.
        max: usize,
    },
    /// `<dataMode>` is neither `complete` nor `partial`.
    #[error("the metadata dataMode is neither complete nor partial")]
    BadDataMode,
    /// A session, participant or stream element has no id attribute.
    #[error("a metadata <{element}> element has no id")]
    MissingId {
        /// `session`, `participant`, `stream`, `participantstreamassoc`…
        element: &'static str,
    },
}

impl MetadataProblem {
    /// A stable identifier, such as `"metadata-not-well-formed"`.
    pub fn code(&self) -> &'static str {
        match self {
            MetadataProblem::Empty => "metadata-empty",
            MetadataProblem::NotUtf8 => "metadata-not-utf8",
            MetadataProblem::NotWellFormed { .. } => "metadata-not-well-formed",
            MetadataProblem::DoctypeNotAllowed => "metadata-doctype-not-allowed",
            MetadataProblem::UnexpectedRoot { .. } => "metadata-unexpected-root",
            MetadataProblem::TooDeep { .. } => "metadata-too-deep",
            MetadataProblem::TooManyElements { .. } => "metadata-too-many-elements",
            MetadataProblem::BadDataMode => "metadata-bad-data-mode",
            MetadataProblem::MissingId { .. } => "metadata-missing-id",
        }
    }
}

/// Something odd in metadata that was still used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum MetadataWarning {
    /// A stream association names a stream id that no `<stream>` has.
    #[error("a stream association names an unknown stream")]
    UnknownStream,
    /// An association names a participant id that no `<participant>` has (complete mode).
    #[error("an association names an unknown participant")]
    UnknownParticipant,
    /// Two elements of one kind have the same id; the later one was merged into the first.
    #[error("two <{element}> elements have the same id")]
    DuplicateId {
        /// The element kind.
        element: &'static str,
    },
    /// A consent element's digit is not one of `0-9 * # A-D`; it was dropped.
    #[error("the consent digit is not a DTMF digit")]
    BadConsentDigit,
    /// A consent element's text is neither `granted` nor a refusal; it was taken as not granted.
    #[error("the consent value is not understood; taken as not granted")]
    UnknownConsentValue,
}

impl MetadataWarning {
    /// A stable identifier, such as `"metadata-unknown-stream"`.
    pub fn code(&self) -> &'static str {
        match self {
            MetadataWarning::UnknownStream => "metadata-unknown-stream",
            MetadataWarning::UnknownParticipant => "metadata-unknown-participant",
            MetadataWarning::DuplicateId { .. } => "metadata-duplicate-id",
            MetadataWarning::BadConsentDigit => "metadata-bad-consent-digit",
            MetadataWarning::UnknownConsentValue => "metadata-unknown-consent-value",
        }
    }
}

/// An element name safe to show: letters, `_`, `-`, `.` and `:` kept, anything else (digits
/// included, so no number can leak) replaced by `?`, at most 40 characters.
pub(crate) fn printable_name(name: &str) -> String {
    let mut shown: String = name
        .chars()
        .take(40)
        .map(|c| {
            if c.is_ascii_alphabetic() || "_-.:".contains(c) {
                c
            } else {
                '?'
            }
        })
        .collect();
    if name.chars().count() > 40 {
        shown.push('…');
    }
    shown
}
