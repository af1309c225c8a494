//! PII detection over timed words: participant names and numbers known from the
//! catalog, spoken digit runs of phone-number length (digits as numerals or words, in
//! English, Norwegian and Swedish), Luhn-checked payment card numbers, e-mail
//! addresses (written or spoken), UK and Nordic postcodes, DTMF spans and operator word
//! lists. Pure: the words, the known identifiers and the evidence key come in.
//!
//! A finding's evidence never holds the PII itself: it describes the shape (kind,
//! digit count) and carries a keyed hash of the normalised value, so two findings of
//! the same value can be matched without storing it.

use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;

use crate::transcript::Word;

/// What kind of personal data a finding is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum PiiKind {
    /// A participant's name known from the metadata or the catalog.
    Name,
    /// A number known from the metadata or the catalog, spoken.
    KnownNumber,
    /// A spoken digit run of phone-number length.
    PhoneNumber,
    /// A spoken payment card number (13-19 digits, Luhn valid).
    CardNumber,
    /// A long digit run that is neither (account numbers and the like).
    DigitRun,
    Email,
    Postcode,
    /// DTMF digits were pressed (PCI: card numbers keyed in).
    Dtmf,
    /// A word or phrase of the operator's list.
    WordList,
    /// Added by a reviewer.
    Manual,
}

impl PiiKind {
    pub fn as_str(self) -> &'static str {
        match self {
            PiiKind::Name => "name",
            PiiKind::KnownNumber => "known-number",
            PiiKind::PhoneNumber => "phone-number",
            PiiKind::CardNumber => "card-number",
            PiiKind::DigitRun => "digit-run",
            PiiKind::Email => "email",
            PiiKind::Postcode => "postcode",
            PiiKind::Dtmf => "dtmf",
            PiiKind::WordList => "word-list",
            PiiKind::Manual => "manual",
        }
    }
}

/// One finding: where, what, and evidence that does not itself leak the value.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Finding {
    pub kind: PiiKind,
    pub start_ms: u64,
    pub end_ms: u64,
    /// The stream the words were heard on (`None`: unknown or every stream).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stream: Option<String>,
    /// Shape and keyed hash, e.g. `16 digits, Luhn valid, hmac:1f2e...`.
    pub evidence: String,
}

/// Languages whose number words are read as digits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NumberLanguage {
    English,
    Norwegian,
    Swedish,
}

impl NumberLanguage {
    /// The languages to read for a policy language (ISO 639-1); English always.
    pub fn for_policy_language(language: &str) -> Vec<NumberLanguage> {
        let mut out = vec![NumberLanguage::English];
        match language {
            "no" | "nb" | "nn" | "da" => out.push(NumberLanguage::Norwegian),
            "sv" | "fi" => out.push(NumberLanguage::Swedish),
            _ => {}
        }
        out
    }
}

/// What the detector knows and looks for.
#[derive(Debug, Clone)]
pub struct Detector {
    /// Participants' names (each part of a name is looked for on its own).
    pub known_names: Vec<String>,
    /// Known numbers, any form (only their digits count).
    pub known_numbers: Vec<String>,
    /// Operator words and phrases (case-insensitive).
    pub word_list: Vec<String>,
    pub languages: Vec<NumberLanguage>,
    /// Shortest digit run reported (7: the shortest national phone numbers).
    pub min_digits: usize,
    /// Key of the evidence hashes (the installation's number-hash key).
    pub evidence_key: [u8; 32],
}

impl Detector {
    pub fn new(evidence_key: [u8; 32]) -> Self {
        Detector {
            known_names: Vec::new(),
            known_numbers: Vec::new(),
            word_list: Vec::new(),
            languages: vec![NumberLanguage::English],
            min_digits: 7,
            evidence_key,
        }
    }

    /// The keyed hash of a normalised value, shortened (enough to match, not to reverse).
    pub fn evidence_hash(&self, value: &str) -> String {
        let mut mac = Hmac::<Sha256>::new_from_slice(&self.evidence_key).expect("HMAC takes any key length");
        mac.update(b"callvault-pii-evidence:");
        mac.update(value.as_bytes());
        let digest = mac.finalize().into_bytes();
        format!("hmac:{}", hex::encode(&digest[..8]))
    }

    /// Every finding in `words`, per stream, in time order.
    pub fn detect(&self, words: &[Word]) -> Vec<Finding> {
        let mut streams: Vec<Option<&str>> = words.iter().map(|w| w.stream.as_deref()).collect();
        streams.sort_unstable();
        streams.dedup();
        let mut out = Vec::new();
        for stream in streams {
            let group: Vec<&Word> = words.iter().filter(|w| w.stream.as_deref() == stream).collect();
            let tokens: Vec<Token<'_>> = group.iter().map(|w| Token::new(w)).collect();
            self.names(&tokens, &mut out);
            self.digit_runs(&tokens, &mut out);
            self.emails(&tokens, &mut out);
            self.postcodes(&tokens, &mut out);
            self.word_lists(&tokens, &mut out);
        }
        out.sort_by_key(|f| (f.start_ms, f.end_ms, f.kind));
        out.dedup();
        out
    }

    /// Whether a piece of free text (a note, a metadata field) holds any PII.
    pub fn text_has_pii(&self, text: &str) -> bool {
        let words: Vec<Word> = text
            .split_whitespace()
            .map(|t| Word {
                start_ms: 0,
                end_ms: 0,
                text: t.to_owned(),
                stream: None,
                speaker: None,
            })
            .collect();
        !self.detect(&words).is_empty()
    }

    /// DTMF key presses as findings (the digits themselves are not kept).
    pub fn dtmf(&self, stream: Option<&str>, start_ms: u64, end_ms: u64) -> Finding {
        Finding {
            kind: PiiKind::Dtmf,
            start_ms,
            end_ms,
            stream: stream.map(str::to_owned),
            evidence: "DTMF tone detected in the audio".into(),
        }
    }

    fn push(&self, out: &mut Vec<Finding>, kind: PiiKind, tokens: &[Token<'_>], evidence: String) {
        let (Some(first), Some(last)) = (tokens.first(), tokens.last()) else {
            return;
        };
        out.push(Finding {
            kind,
            start_ms: first.word.start_ms,
            end_ms: tokens.iter().map(|t| t.word.end_ms).max().unwrap_or(last.word.end_ms),
            stream: first.word.stream.clone(),
            evidence,
        });
    }

    fn names(&self, tokens: &[Token<'_>], out: &mut Vec<Finding>) {
        let mut parts: Vec<String> = self
            .known_names
            .iter()
            .flat_map(|n| n.split(|c: char| c.is_whitespace() || c == '-' || c == ','))
            .map(normalise)
            .filter(|p| p.chars().count() >= 2)
            .collect();
        parts.sort();
        parts.dedup();
        for (i, token) in tokens.iter().enumerate() {
            let bare = token.norm.strip_suffix("'s").unwrap_or(&token.norm);
            if parts.iter().any(|p| p == bare) {
                let hash = self.evidence_hash(bare);
                self.push(
                    out,
                    PiiKind::Name,
                    &tokens[i..=i],
                    format!("a participant's name, {hash}"),
                );
            }
        }
    }

    fn word_lists(&self, tokens: &[Token<'_>], out: &mut Vec<Finding>) {
        for entry in &self.word_list {
            let phrase: Vec<String> = entry
                .split_whitespace()
                .map(normalise)
                .filter(|w| !w.is_empty())
                .collect();
            if phrase.is_empty() || phrase.len() > tokens.len() {
                continue;
            }
            for i in 0..=tokens.len() - phrase.len() {
                if tokens[i..i + phrase.len()]
                    .iter()
                    .zip(&phrase)
                    .all(|(t, p)| &t.norm == p)
                {
                    let hash = self.evidence_hash(&phrase.join(" "));
                    self.push(
                        out,
                        PiiKind::WordList,
                        &tokens[i..i + phrase.len()],
                        format!("word list entry, {hash}"),
                    );
                }
            }
        }
    }

    fn digit_runs(&self, tokens: &[Token<'_>], out: &mut Vec<Finding>) {
        let known: Vec<String> = self
            .known_numbers
            .iter()
            .map(|n| n.chars().filter(char::is_ascii_digit).collect::<String>())
            .filter(|d| d.len() >= 7)
            .collect();
        let mut i = 0;
        while i < tokens.len() {
            let mut digits = String::new();
            let mut j = i;
            let mut last_digit = None;
            let mut repeat = 1usize;
            while j < tokens.len() {
                let t = &tokens[j];
                if let Some(times) = multiplier(&t.norm, &self.languages) {
                    repeat = times;
                } else if let Some(d) = spoken_digits(&t.norm, &self.languages) {
                    for _ in 0..repeat {
                        digits.push_str(&d);
                    }
                    repeat = 1;
                    last_digit = Some(j);
                } else if !(is_filler(&t.norm) && last_digit.is_some()) {
                    break;
                }
                j += 1;
            }
            let Some(end) = last_digit else {
                i += 1;
                continue;
            };
            if digits.len() >= self.min_digits {
                let run = &tokens[i..=end];
                let hash = self.evidence_hash(&digits);
                let count = digits.len();
                let is_known = known
                    .iter()
                    .any(|k| digits.contains(&k[k.len() - 7..]) || k.ends_with(digits.as_str()));
                let (kind, shape) = if is_known {
                    (
                        PiiKind::KnownNumber,
                        format!("{count} digits of a participant's number"),
                    )
                } else if (13..=19).contains(&count) && luhn_valid(&digits) {
                    (PiiKind::CardNumber, format!("{count} digits, Luhn valid"))
                } else if count <= 15 {
                    (PiiKind::PhoneNumber, format!("{count} digits"))
                } else {
                    (PiiKind::DigitRun, format!("{count} digits"))
                };
                self.push(out, kind, run, format!("{shape}, {hash}"));
            }
            i = end + 1;
        }
    }

    fn emails(&self, tokens: &[Token<'_>], out: &mut Vec<Finding>) {
        for (i, token) in tokens.iter().enumerate() {
            // Written: local@domain.tld
            if let Some((local, domain)) = token.norm.split_once('@')
                && !local.is_empty()
                && domain.contains('.')
                && !domain.ends_with('.')
            {
                let hash = self.evidence_hash(&token.norm);
                self.push(out, PiiKind::Email, &tokens[i..=i], format!("e-mail address, {hash}"));
                continue;
            }
            // Spoken: name [dot name]* at domain (dot part)+ with a known top-level domain.
            if !AT_WORDS.contains(&token.norm.as_str()) || i == 0 {
                continue;
            }
            let mut part = i + 1;
            let mut last_tld = None;
            while part + 2 < tokens.len() && DOT_WORDS.contains(&tokens[part + 1].norm.as_str()) {
                part += 2;
                if TLDS.contains(&tokens[part].norm.as_str()) {
                    last_tld = Some(part);
                }
            }
            let Some(last) = last_tld else { continue };
            let mut start = i - 1;
            while start >= 2 && DOT_WORDS.contains(&tokens[start - 1].norm.as_str()) {
                start -= 2;
            }
            let value: Vec<&str> = tokens[start..=last].iter().map(|t| t.norm.as_str()).collect();
            let hash = self.evidence_hash(&value.join(" "));
            self.push(
                out,
                PiiKind::Email,
                &tokens[start..=last],
                format!("spoken e-mail address, {hash}"),
            );
        }
    }

    fn postcodes(&self, tokens: &[Token<'_>], out: &mut Vec<Finding>) {
        let numeric = |t: &Token<'_>, len: usize| t.norm.len() == len && t.norm.bytes().all(|b| b.is_ascii_digit());
        for i in 0..tokens.len() {
            let t = &tokens[i];
            let upper = t.norm.to_ascii_uppercase();
            let mut found: Option<usize> = None; // last token of the postcode
            if is_uk_postcode(&upper) {
                found = Some(i);
            } else if i + 1 < tokens.len()
                && is_uk_outward(&upper)
                && is_uk_inward(&tokens[i + 1].norm.to_ascii_uppercase())
            {
                found = Some(i + 1);
            } else if let Some(rest) = nordic_prefixed(&upper) {
                // NO-0150, DK-1050, FI-00100, SE-11455 or SE-114 55
                found = match rest {
                    3 if i + 1 < tokens.len() && numeric(&tokens[i + 1], 2) => Some(i + 1),
                    3 => None,
                    _ => Some(i),
                };
            } else if numeric(t, 3)
                && i + 1 < tokens.len()
                && numeric(&tokens[i + 1], 2)
                && (i == 0 || spoken_digits(&tokens[i - 1].norm, &self.languages).is_none())
                && tokens
                    .get(i + 2)
                    .is_none_or(|n| spoken_digits(&n.norm, &self.languages).is_none())
            {
                // Swedish "114 55", alone (not inside a longer digit run)
                found = Some(i + 1);
            } else if (numeric(t, 4) || numeric(t, 5))
                && tokens[i.saturating_sub(3)..i]
                    .iter()
                    .any(|k| POSTCODE_WORDS.contains(&k.norm.as_str()))
            {
                found = Some(i);
            }
            if let Some(last) = found {
                let value: String = tokens[i..=last].iter().map(|t| t.norm.as_str()).collect();
                let hash = self.evidence_hash(&value.to_ascii_uppercase());
                self.push(out, PiiKind::Postcode, &tokens[i..=last], format!("postcode, {hash}"));
            }
        }
    }
}

/// A word as the detector sees it: lower case, without surrounding punctuation.
struct Token<'a> {
    word: &'a Word,
    norm: String,
}

impl<'a> Token<'a> {
    fn new(word: &'a Word) -> Self {
        Token {
            word,
            norm: normalise(&word.text),
        }
    }
}

fn normalise(text: &str) -> String {
    text.trim_matches(|c: char| !(c.is_alphanumeric() || c == '@' || c == '+'))
        .to_lowercase()
}

const AT_WORDS: [&str; 4] = ["at", "@", "krøllalfa", "snabel-a"];
const DOT_WORDS: [&str; 3] = ["dot", "punkt", "prikk"];
const TLDS: [&str; 16] = [
    "com", "net", "org", "uk", "no", "se", "fi", "dk", "eu", "de", "io", "co", "info", "biz", "gov", "edu",
];
const POSTCODE_WORDS: [&str; 8] = [
    "postcode",
    "postal",
    "zip",
    "postnummer",
    "postnr",
    "postinumero",
    "postnumre",
    "code",
];

/// Words that may sit inside a spoken number without ending it.
fn is_filler(word: &str) -> bool {
    matches!(word, "" | "-" | "dash" | "hyphen" | "space" | "and" | "og" | "och")
}

/// "double four", "triple seven"; Norwegian "dobbel", Swedish "dubbel".
fn multiplier(word: &str, languages: &[NumberLanguage]) -> Option<usize> {
    match word {
        "double" => Some(2),
        "triple" => Some(3),
        "dobbel" if languages.contains(&NumberLanguage::Norwegian) => Some(2),
        "dubbel" if languages.contains(&NumberLanguage::Swedish) => Some(2),
        _ => None,
    }
}

/// The digits a word stands for: numerals (with separators), or a number word.
pub fn spoken_digits(word: &str, languages: &[NumberLanguage]) -> Option<String> {
    let bare = word.trim_start_matches('+');
    if !bare.is_empty()
        && bare.bytes().any(|b| b.is_ascii_digit())
        && bare
            .bytes()
            .all(|b| b.is_ascii_digit() || b == b'-' || b == b'.' || b == b'/')
    {
        return Some(bare.chars().filter(char::is_ascii_digit).collect());
    }
    // English tens with a unit: "twenty-three".
    if let Some((tens, unit)) = word.split_once('-')
        && let (Some(t), Some(u)) = (english_tens(tens), english_unit(unit))
    {
        return Some(format!("{t}{u}"));
    }
    for language in languages {
        let digit = match language {
            NumberLanguage::English => english_unit(word)
                .map(|d| d.to_string())
                .or_else(|| english_teen(word).map(|d| d.to_string()))
                .or_else(|| english_tens(word).map(|t| format!("{t}0"))),
            NumberLanguage::Norwegian => norwegian_unit(word).map(|d| d.to_string()),
            NumberLanguage::Swedish => swedish_unit(word).map(|d| d.to_string()),
        };
        if digit.is_some() {
            return digit;
        }
    }
    None
}

fn english_unit(word: &str) -> Option<u8> {
    Some(match word {
        "zero" | "oh" | "o" | "nought" => 0,
        "one" => 1,
        "two" => 2,
        "three" => 3,
        "four" => 4,
        "five" => 5,
        "six" => 6,
        "seven" => 7,
        "eight" => 8,
        "nine" => 9,
        _ => return None,
    })
}

fn english_teen(word: &str) -> Option<u8> {
    Some(match word {
        "ten" => 10,
        "eleven" => 11,
        "twelve" => 12,
        "thirteen" => 13,
        "fourteen" => 14,
        "fifteen" => 15,
        "sixteen" => 16,
        "seventeen" => 17,
        "eighteen" => 18,
        "nineteen" => 19,
        _ => return None,
    })
}

fn english_tens(word: &str) -> Option<u8> {
    Some(match word {
        "twenty" => 2,
        "thirty" => 3,
        "forty" => 4,
        "fifty" => 5,
        "sixty" => 6,
        "seventy" => 7,
        "eighty" => 8,
        "ninety" => 9,
        _ => return None,
    })
}

fn norwegian_unit(word: &str) -> Option<u8> {
    Some(match word {
        "null" => 0,
        "en" | "ein" | "ett" => 1,
        "to" => 2,
        "tre" => 3,
        "fire" => 4,
        "fem" => 5,
        "seks" => 6,
        "sju" | "syv" => 7,
        "åtte" => 8,
        "ni" => 9,
        _ => return None,
    })
}

fn swedish_unit(word: &str) -> Option<u8> {
    Some(match word {
        "noll" => 0,
        "ett" | "en" => 1,
        "två" => 2,
        "tre" => 3,
        "fyra" => 4,
        "fem" => 5,
        "sex" => 6,
        "sju" => 7,
        "åtta" => 8,
        "nio" => 9,
        _ => return None,
    })
}

/// The Luhn check over a string of ASCII digits.
pub fn luhn_valid(digits: &str) -> bool {
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return false;
    }
    let sum: u32 = digits
        .bytes()
        .rev()
        .enumerate()
        .map(|(i, b)| {
            let d = u32::from(b - b'0');
            if i % 2 == 1 {
                let doubled = d * 2;
                if doubled > 9 { doubled - 9 } else { doubled }
            } else {
                d
            }
        })
        .sum();
    sum.is_multiple_of(10)
}

/// A whole UK postcode without its space (`SW1A1AA`).
fn is_uk_postcode(upper: &str) -> bool {
    upper.is_ascii() && upper.len() >= 5 && upper.len() <= 7 && {
        let (out, inw) = upper.split_at(upper.len() - 3);
        is_uk_outward(out) && is_uk_inward(inw)
    }
}

/// The outward code: A9, A9A, A99, AA9, AA9A, AA99.
fn is_uk_outward(upper: &str) -> bool {
    let b = upper.as_bytes();
    let letter = |i: usize| b.get(i).is_some_and(u8::is_ascii_uppercase);
    let digit = |i: usize| b.get(i).is_some_and(u8::is_ascii_digit);
    match b.len() {
        2 => letter(0) && digit(1),
        3 => letter(0) && ((digit(1) && (digit(2) || letter(2))) || (letter(1) && digit(2))),
        4 => letter(0) && letter(1) && digit(2) && (digit(3) || letter(3)),
        _ => false,
    }
}

/// The inward code: 9AA.
fn is_uk_inward(upper: &str) -> bool {
    let b = upper.as_bytes();
    b.len() == 3 && b[0].is_ascii_digit() && b[1].is_ascii_uppercase() && b[2].is_ascii_uppercase()
}

/// `NO-0150`, `DK-1050`, `FI-00100`, `SE-11455`: the number of digits after the prefix
/// (3 for a Swedish `SE-114` followed by `55`).
fn nordic_prefixed(upper: &str) -> Option<usize> {
    let (prefix, digits) = upper.split_once('-')?;
    if !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    match (prefix, digits.len()) {
        ("NO" | "DK", 4) | ("FI" | "SE", 5) | ("SE", 3) => Some(digits.len()),
        _ => None,
    }
}
