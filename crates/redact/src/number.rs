//! Phone numbers: E.164 normalisation, masking (last digits hidden) and the keyed hash
//! that lets a person's calls be found without the number being stored.

use hmac::{Hmac, Mac};
use sha2::Sha256;

/// A number that cannot be normalised. Never contains the number itself.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NumberError {
    #[error("not a phone number")]
    NotANumber,
    #[error("unknown default country {0:?} (expected an ISO 3166 code such as GB, FI, NO, US)")]
    UnknownCountry(String),
    #[error("a national-format number needs a default country (tenant set --country)")]
    NeedsCountry,
}

/// Normalises `raw` (E.164, international or national form, `tel:`/`sip:` user
/// parts) to E.164, reading national numbers in `default_country`.
pub fn normalize_e164(raw: &str, default_country: Option<&str>) -> Result<String, NumberError> {
    let country = match default_country {
        Some(cc) if !cc.is_empty() => Some(
            cc.to_ascii_uppercase()
                .parse::<phonenumber::country::Id>()
                .map_err(|_| NumberError::UnknownCountry(cc.to_owned()))?,
        ),
        _ => None,
    };
    let cleaned = raw.trim().trim_start_matches("tel:");
    let cleaned = cleaned.split(';').next().unwrap_or_default();
    if cleaned.is_empty() || !cleaned.chars().any(|c| c.is_ascii_digit()) {
        return Err(NumberError::NotANumber);
    }
    let international = cleaned.starts_with('+') || cleaned.starts_with("00");
    if !international && country.is_none() {
        return Err(NumberError::NeedsCountry);
    }
    let number = phonenumber::parse(country, cleaned).map_err(|_| NumberError::NotANumber)?;
    let e164 = number.format().mode(phonenumber::Mode::E164).to_string();
    if e164.len() < 4 || e164.len() > 16 {
        return Err(NumberError::NotANumber);
    }
    Ok(e164)
}

/// Hides the last `last` digits of an E.164 number with `x` (POSTI-FIELDS).
pub fn mask_number(e164: &str, last: u8) -> String {
    let digits = e164.chars().filter(char::is_ascii_digit).count();
    let keep = digits.saturating_sub(usize::from(last));
    let mut seen = 0;
    e164.chars()
        .map(|c| {
            if c.is_ascii_digit() {
                seen += 1;
                if seen > keep { 'x' } else { c }
            } else {
                c
            }
        })
        .collect()
}

/// HMAC-SHA-256 of a normalised number, with a key that lives in the key directory.
#[derive(Clone)]
pub struct NumberHasher {
    key: [u8; 32],
}

impl NumberHasher {
    pub fn new(key: [u8; 32]) -> Self {
        NumberHasher { key }
    }

    /// Hex digest of the E.164 number.
    pub fn hash(&self, e164: &str) -> String {
        let mut mac = Hmac::<Sha256>::new_from_slice(&self.key).expect("HMAC accepts any key length");
        mac.update(e164.as_bytes());
        hex::encode(mac.finalize().into_bytes())
    }
}

impl std::fmt::Debug for NumberHasher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("NumberHasher(..)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalises_national_and_international_forms() {
        let cases = [
            ("+358401234567", None, "+358401234567"),
            ("0401234567", Some("FI"), "+358401234567"),
            ("040 123 4567", Some("fi"), "+358401234567"),
            ("00358401234567", Some("GB"), "+358401234567"),
            ("0208 099 9077", Some("GB"), "+442080999077"),
            ("tel:+4722334455", None, "+4722334455"),
        ];
        for (raw, cc, want) in cases {
            assert_eq!(normalize_e164(raw, cc).as_deref(), Ok(want), "{raw}");
        }
    }

    #[test]
    fn rejects_what_is_not_a_number() {
        assert_eq!(normalize_e164("anonymous", Some("GB")), Err(NumberError::NotANumber));
        assert_eq!(normalize_e164("", Some("GB")), Err(NumberError::NotANumber));
        assert_eq!(normalize_e164("0401234567", None), Err(NumberError::NeedsCountry));
        assert!(matches!(
            normalize_e164("0401234567", Some("ZZ")),
            Err(NumberError::UnknownCountry(_))
        ));
    }

    #[test]
    fn masks_the_last_digits() {
        assert_eq!(mask_number("+358401234567", 3), "+358401234xxx");
        assert_eq!(mask_number("+12", 3), "+xx");
        assert_eq!(mask_number("+358401234567", 0), "+358401234567");
    }

    #[test]
    fn hash_is_keyed() {
        let a = NumberHasher::new([1; 32]).hash("+358401234567");
        let b = NumberHasher::new([2; 32]).hash("+358401234567");
        assert_ne!(a, b);
        assert_eq!(a.len(), 64);
        assert!(!a.contains("358401234567"));
    }
}
