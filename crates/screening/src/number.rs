//! Numbers as keys: UK register records and E.164 strings to `u64` keys and back.
//!
//! A key is the digits of the E.164 form read as an integer. E.164 digits never
//! start with 0, so two different numbers never share a key, and a UK number
//! `+44 20 7378 7244` is the key `442073787244`.

use std::fmt;

/// The UK country calling code.
const UK: u64 = 44;

/// The key of an E.164 number (`+` and 1 to 15 digits, the first not 0).
pub fn key_of_e164(e164: &str) -> Option<u64> {
    let digits = e164.strip_prefix('+')?;
    if digits.is_empty() || digits.len() > 15 || digits.starts_with('0') || !digits.bytes().all(|b| b.is_ascii_digit())
    {
        return None;
    }
    digits.parse().ok()
}

/// The E.164 form of a key.
pub fn e164_of_key(key: u64) -> String {
    format!("+{key}")
}

/// Why a line of an imported file was not taken. Never holds the line itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BadReason {
    /// An empty line or one of blanks only.
    Blank,
    /// A register record that is not 12 characters long (the length found).
    WrongLength(usize),
    /// A character that is neither a digit nor a blank (letters, punctuation).
    NotDigits,
    /// Digits and blanks not in either published layout.
    Layout,
    /// Not 10 or 11 digits (the count found).
    DigitCount(u8),
    /// Not a UK national number (does not start with a single 0).
    NotNational,
    /// A change record without an addition/removal marker.
    MarkerMissing,
    /// A change record whose marker is not one of the accepted ones.
    MarkerUnknown,
    /// A list entry that is not a phone number.
    NotANumber,
}

impl BadReason {
    /// Stable code of the reason.
    pub fn code(self) -> &'static str {
        match self {
            BadReason::Blank => "blank",
            BadReason::WrongLength(_) => "wrong-length",
            BadReason::NotDigits => "not-digits",
            BadReason::Layout => "layout",
            BadReason::DigitCount(_) => "digit-count",
            BadReason::NotNational => "not-national",
            BadReason::MarkerMissing => "marker-missing",
            BadReason::MarkerUnknown => "marker-unknown",
            BadReason::NotANumber => "not-a-number",
        }
    }
}

impl fmt::Display for BadReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            BadReason::Blank => f.write_str("blank line"),
            BadReason::WrongLength(n) => write!(f, "wrong length: {n} characters, a record has 12"),
            BadReason::NotDigits => f.write_str("a character other than a digit or a blank"),
            BadReason::Layout => f.write_str("digits and blanks in neither record layout"),
            BadReason::DigitCount(n) => write!(f, "{n} digits, a UK national number has 10 or 11"),
            BadReason::NotNational => f.write_str("not a UK national number (must start with a single 0)"),
            BadReason::MarkerMissing => f.write_str("change record without an A/D marker"),
            BadReason::MarkerUnknown => f.write_str("change record with an unknown marker"),
            BadReason::NotANumber => f.write_str("not a phone number"),
        }
    }
}

/// Parses one 12-character TPS/CTPS record, in either published layout:
/// a 5-character dialling code (left-justified) and a 7-character remainder
/// (right-justified), e.g. `0207 3787244`, `01635 506160`; or the whole number
/// left-justified and blank-padded, e.g. `02073787244 `. Returns the key.
pub fn register_record_key(record: &[u8]) -> Result<u64, BadReason> {
    if record.len() != 12 {
        return Err(if record.iter().all(|&b| b == b' ' || b == b'\t') {
            BadReason::Blank
        } else {
            BadReason::WrongLength(record.len())
        });
    }
    let mut value: u64 = 0;
    let mut digits: u8 = 0;
    let mut groups = 0u8;
    let mut first_group_end = 0usize;
    let mut in_digits = false;
    for (i, &b) in record.iter().enumerate() {
        match b {
            b'0'..=b'9' => {
                if !in_digits {
                    groups += 1;
                    in_digits = true;
                }
                value = value * 10 + u64::from(b - b'0');
                digits += 1;
            }
            b' ' => {
                if in_digits && groups == 1 {
                    first_group_end = i;
                }
                in_digits = false;
            }
            _ => return Err(BadReason::NotDigits),
        }
    }
    if digits == 0 {
        return Err(BadReason::Blank);
    }
    // Both layouts start with a digit; the split layout has a code of 3 to 5 digits
    // and a right-justified remainder.
    let layout_ok = record[0] != b' '
        && match groups {
            1 => true,
            2 => (3..=5).contains(&first_group_end) && record[11] != b' ',
            _ => false,
        };
    if !layout_ok {
        return Err(BadReason::Layout);
    }
    national_digits_key(value, digits, record[0] == b'0')
}

/// The key of a national number given as its integer value (leading zero dropped),
/// its digit count and whether it started with 0.
fn national_digits_key(value: u64, digits: u8, leading_zero: bool) -> Result<u64, BadReason> {
    if !(10..=11).contains(&digits) {
        return Err(BadReason::DigitCount(digits));
    }
    let nsn_len = u32::from(digits - 1);
    // A single leading 0: the next digit is not 0 ("00" starts an international number).
    if !leading_zero || value < 10u64.pow(nsn_len - 1) {
        return Err(BadReason::NotNational);
    }
    Ok(UK * 10u64.pow(nsn_len) + value)
}

/// Fast path for free-form UK numbers in lists: `020 7378 7244`, `020-7378-7244`,
/// `+44 20 7378 7244`. `None` when the text is in another form (the caller then
/// uses the general normaliser).
pub fn uk_key_fast(text: &str) -> Option<u64> {
    let mut value: u64 = 0;
    let mut digits: u8 = 0;
    let mut first: Option<u8> = None;
    let mut plus = false;
    for (i, b) in text.bytes().enumerate() {
        match b {
            b'0'..=b'9' => {
                if digits >= 15 {
                    return None;
                }
                first.get_or_insert(b);
                value = value * 10 + u64::from(b - b'0');
                digits += 1;
            }
            b'+' if i == 0 => plus = true,
            b' ' | b'-' | b'.' => {}
            _ => return None,
        }
    }
    if plus {
        // +44 followed by a 9 or 10 digit national significant number without its 0.
        let nsn_len = u32::from(digits.checked_sub(2)?);
        if !(9..=10).contains(&nsn_len)
            || value / 10u64.pow(nsn_len) != UK
            || value % 10u64.pow(nsn_len) < 10u64.pow(nsn_len - 1)
        {
            return None;
        }
        return Some(value);
    }
    national_digits_key(value, digits, first == Some(b'0')).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_in_both_layouts() {
        let cases: &[(&str, Result<u64, BadReason>)] = &[
            ("0207 3787244", Ok(442073787244)),
            ("01635 506160", Ok(441635506160)),
            ("0191 5657153", Ok(441915657153)),
            ("07860 338653", Ok(447860338653)),
            ("02073787244 ", Ok(442073787244)),
            ("0800123456  ", Ok(44800123456)),
            ("            ", Err(BadReason::Blank)),
            ("", Err(BadReason::Blank)),
            ("0207 378724", Err(BadReason::WrongLength(11))),
            ("0207 37872A4", Err(BadReason::NotDigits)),
            (" 02073787244", Err(BadReason::Layout)),
            ("0207 378724 ", Err(BadReason::Layout)),
            ("02 07 378724", Err(BadReason::Layout)),
            ("0207 378     ", Err(BadReason::WrongLength(13))),
            ("020737872   ", Err(BadReason::DigitCount(9))),
            ("12073787244 ", Err(BadReason::NotNational)),
            ("00207378724 ", Err(BadReason::NotNational)),
        ];
        for (record, want) in cases {
            assert_eq!(register_record_key(record.as_bytes()), *want, "{record:?}");
        }
    }

    #[test]
    fn keys_round_trip_through_e164() {
        for e164 in ["+442073787244", "+4721234567", "+1", "+999999999999999"] {
            let key = key_of_e164(e164).unwrap();
            assert_eq!(e164_of_key(key), e164);
        }
        for bad in ["442073787244", "+", "+0123", "+12a", "+1234567890123456"] {
            assert_eq!(key_of_e164(bad), None, "{bad}");
        }
    }

    #[test]
    fn fast_uk_forms() {
        assert_eq!(uk_key_fast("020 7378 7244"), Some(442073787244));
        assert_eq!(uk_key_fast("+44 20 7378-7244"), Some(442073787244));
        assert_eq!(uk_key_fast("+4420737872"), None);
        assert_eq!(uk_key_fast("+4721234567"), None);
        assert_eq!(uk_key_fast("(020) 7378 7244"), None);
    }
}
