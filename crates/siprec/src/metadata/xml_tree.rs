//! A small element tree read with quick-xml: namespaces resolved, entities limited to the
//! predefined ones, no DTD, bounded depth and size. The interpreter walks it.

#![deny(
    clippy::indexing_slicing,
    clippy::arithmetic_side_effects,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic
)]

use quick_xml::events::Event;
use quick_xml::name::ResolveResult;
use quick_xml::{NsReader, XmlVersion};

use super::problem::MetadataProblem;
use super::{CALLVAULT_NAMESPACE, RECORDING_NAMESPACES};

/// Deepest nesting accepted (RFC 7865 documents are four or five levels deep).
pub(crate) const MAX_DEPTH: usize = 32;
/// Most elements accepted in one document.
pub(crate) const MAX_ELEMENTS: usize = 4096;

/// The namespace an element is in, as far as the interpreter cares.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Namespace {
    /// No namespace.
    Unbound,
    /// One of [`RECORDING_NAMESPACES`].
    Recording,
    /// [`CALLVAULT_NAMESPACE`].
    Callvault,
    /// Anything else (vendor extensions).
    Other,
}

/// One element: its namespace, lower-cased local name, attributes (lower-cased local name,
/// value), the concatenated text directly inside it, and its child elements.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Element {
    pub namespace: Namespace,
    pub name: String,
    pub attributes: Vec<(String, String)>,
    pub text: String,
    pub children: Vec<Element>,
}

impl Element {
    /// The value of the first attribute among `names` that is present.
    pub fn attribute(&self, names: &[&str]) -> Option<&str> {
        names
            .iter()
            .find_map(|wanted| self.attributes.iter().find(|(n, _)| n == wanted))
            .map(|(_, v)| v.as_str())
    }

    /// Whether this element is `name` in a recording namespace (or no namespace).
    pub fn is(&self, name: &str) -> bool {
        matches!(self.namespace, Namespace::Recording | Namespace::Unbound) && self.name == name
    }

    /// Children that are `name` in a recording namespace (or none).
    pub fn children_named<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a Element> + 'a {
        self.children.iter().filter(move |c| c.is(name))
    }

    /// The trimmed text of the first child `name` whose text is not blank.
    pub fn child_text(&self, name: &str) -> Option<String> {
        self.children_named(name).find_map(Element::trimmed_text)
    }

    /// The trimmed text, `None` when blank.
    pub fn trimmed_text(&self) -> Option<String> {
        let text = self.text.trim();
        (!text.is_empty()).then(|| text.to_owned())
    }

    /// This element and every element below it, depth first, in document order.
    pub fn descendants(&self) -> Vec<&Element> {
        let mut found = Vec::new();
        let mut pending = vec![self];
        while let Some(element) = pending.pop() {
            found.push(element);
            pending.extend(element.children.iter().rev());
        }
        found
    }
}

/// Reads `xml` into a tree. Errors carry fixed texts and byte positions only.
pub(crate) fn parse_tree(xml: &str) -> Result<Element, MetadataProblem> {
    let mut reader = NsReader::from_str(xml);
    reader.config_mut().expand_empty_elements = true;
    let mut stack: Vec<Element> = Vec::new();
    let mut root: Option<Element> = None;
    let mut elements = 0usize;
    loop {
        let (namespace, event) = match reader.read_resolved_event() {
            Ok((resolved, event)) => (classify(&resolved), event),
            Err(error) => return Err(not_well_formed(reader.error_position(), describe(&error))),
        };
        let position = reader.buffer_position();
        match event {
            Event::Start(start) => {
                if root.is_some() {
                    return Err(not_well_formed(position, "an element after the root element"));
                }
                if stack.len() >= MAX_DEPTH {
                    return Err(MetadataProblem::TooDeep { max: MAX_DEPTH });
                }
                elements = elements.saturating_add(1);
                if elements > MAX_ELEMENTS {
                    return Err(MetadataProblem::TooManyElements { max: MAX_ELEMENTS });
                }
                let name = String::from_utf8_lossy(start.local_name().as_ref()).to_ascii_lowercase();
                let mut attributes = Vec::new();
                for attribute in start.attributes() {
                    let attribute = attribute.map_err(|_| not_well_formed(position, "a malformed attribute"))?;
                    if attribute.key.as_namespace_binding().is_some() {
                        continue;
                    }
                    let key = String::from_utf8_lossy(attribute.key.local_name().as_ref()).to_ascii_lowercase();
                    let value = attribute
                        .normalized_value(XmlVersion::Implicit1_0)
                        .map_err(|_| not_well_formed(position, "an attribute value with an unknown entity"))?;
                    attributes.push((key, value.into_owned()));
                }
                stack.push(Element {
                    namespace,
                    name,
                    attributes,
                    text: String::new(),
                    children: Vec::new(),
                });
            }
            Event::End(_) => {
                let Some(done) = stack.pop() else {
                    return Err(not_well_formed(position, "an end tag without a start tag"));
                };
                match stack.last_mut() {
                    Some(parent) => parent.children.push(done),
                    None => root = Some(done),
                }
            }
            Event::Text(text) => {
                let text = text.decode().map_err(|_| MetadataProblem::NotUtf8)?;
                push_text(&mut stack, &text, position)?;
            }
            Event::CData(data) => {
                let text = data.decode().map_err(|_| MetadataProblem::NotUtf8)?;
                push_text(&mut stack, &text, position)?;
            }
            Event::GeneralRef(reference) => {
                let resolved = if reference.is_char_ref() {
                    reference.resolve_char_ref().ok().flatten().map(|c| c.to_string())
                } else {
                    let name = reference.decode().map_err(|_| MetadataProblem::NotUtf8)?;
                    quick_xml::escape::resolve_predefined_entity(&name).map(str::to_owned)
                };
                let text = resolved.ok_or(not_well_formed(position, "an unknown entity or character reference"))?;
                push_text(&mut stack, &text, position)?;
            }
            Event::DocType(_) => return Err(MetadataProblem::DoctypeNotAllowed),
            Event::Empty(_) | Event::Decl(_) | Event::PI(_) | Event::Comment(_) => {}
            Event::Eof => break,
        }
    }
    if !stack.is_empty() {
        return Err(not_well_formed(
            reader.buffer_position(),
            "an element that is never closed",
        ));
    }
    root.ok_or(MetadataProblem::Empty)
}

fn push_text(stack: &mut [Element], text: &str, position: u64) -> Result<(), MetadataProblem> {
    match stack.last_mut() {
        Some(top) => {
            top.text.push_str(text);
            Ok(())
        }
        None if text.trim().is_empty() => Ok(()),
        None => Err(not_well_formed(position, "text outside the root element")),
    }
}

fn classify(resolved: &ResolveResult<'_>) -> Namespace {
    match resolved {
        ResolveResult::Unbound => Namespace::Unbound,
        ResolveResult::Bound(namespace) => {
            let uri = namespace.as_ref();
            if RECORDING_NAMESPACES.iter().any(|ns| ns.as_bytes() == uri) {
                Namespace::Recording
            } else if uri == CALLVAULT_NAMESPACE.as_bytes() {
                Namespace::Callvault
            } else {
                Namespace::Other
            }
        }
        ResolveResult::Unknown(_) => Namespace::Other,
    }
}

fn not_well_formed(position: u64, what: &'static str) -> MetadataProblem {
    MetadataProblem::NotWellFormed { position, what }
}

/// A fixed description of a quick-xml error (its own messages may quote the document).
fn describe(error: &quick_xml::Error) -> &'static str {
    use quick_xml::Error;
    match error {
        Error::Syntax(_) => "a syntax error (unclosed tag, comment, CDATA or declaration)",
        Error::IllFormed(_) => "mismatched or unexpected tags",
        Error::InvalidAttr(_) => "a malformed attribute",
        Error::Encoding(_) => "text that is not UTF-8",
        Error::Escape(_) => "a malformed entity or character reference",
        Error::Namespace(_) => "a malformed namespace declaration",
        _ => "an unreadable document",
    }
}
