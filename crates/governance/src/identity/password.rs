//! Password hashing with argon2id (RFC 9106), stored as PHC strings.
//!
//! Parameters (OWASP's argon2id baseline): 19 MiB of memory, 2 passes, 1 lane,
//! 32-byte output, 16-byte random salt. They are written into each stored hash, so
//! a later change of parameters still verifies old hashes.

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use rand::{CryptoRng, RngCore};

use super::error::IdentityError;
use super::secret::Secret;

/// Memory cost in KiB (19 MiB).
pub const ARGON2_MEMORY_KIB: u32 = 19 * 1024;
/// Passes over memory.
pub const ARGON2_ITERATIONS: u32 = 2;
/// Lanes.
pub const ARGON2_PARALLELISM: u32 = 1;
/// Output length in bytes.
pub const ARGON2_OUTPUT_LEN: usize = 32;

/// Shortest accepted password.
pub const MIN_PASSWORD_CHARS: usize = 12;
/// Longest accepted password (bounds hashing work on hostile input).
pub const MAX_PASSWORD_BYTES: usize = 1024;

fn hasher() -> Argon2<'static> {
    let params = Params::new(
        ARGON2_MEMORY_KIB,
        ARGON2_ITERATIONS,
        ARGON2_PARALLELISM,
        Some(ARGON2_OUTPUT_LEN),
    )
    .expect("the argon2 parameters are valid constants");
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

/// A stored password hash (PHC string `$argon2id$v=19$m=...`). Holds no secret a
/// person could type, but is still kept out of logs.
#[derive(Clone, PartialEq, Eq)]
pub struct PasswordHashText(String);

impl PasswordHashText {
    /// Wraps a hash read from storage.
    pub fn from_stored(text: String) -> Self {
        PasswordHashText(text)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for PasswordHashText {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PasswordHashText(***)")
    }
}

/// Checks a new password's length (NIST SP 800-63B: length, not composition rules).
pub fn check_new_password(password: &Secret) -> Result<(), IdentityError> {
    let chars = password.expose().chars().count();
    if chars < MIN_PASSWORD_CHARS {
        return Err(IdentityError::invalid(
            "password-too-short",
            format!("a password needs at least {MIN_PASSWORD_CHARS} characters"),
        ));
    }
    if password.expose().len() > MAX_PASSWORD_BYTES {
        return Err(IdentityError::invalid(
            "password-too-long",
            format!("a password has at most {MAX_PASSWORD_BYTES} bytes"),
        ));
    }
    Ok(())
}

/// Hashes a password with a fresh random salt.
pub fn hash_password(
    password: &Secret,
    rng: &mut (impl RngCore + CryptoRng),
) -> Result<PasswordHashText, IdentityError> {
    let salt = SaltString::generate(rng);
    let hash = hasher()
        .hash_password(password.expose().as_bytes(), &salt)
        .map_err(|e| IdentityError::Hashing(e.to_string()))?;
    Ok(PasswordHashText(hash.to_string()))
}

/// Whether `password` matches `stored` (constant time in the hash comparison).
pub fn verify_password(password: &Secret, stored: &PasswordHashText) -> Result<bool, IdentityError> {
    if password.expose().len() > MAX_PASSWORD_BYTES {
        return Ok(false);
    }
    let parsed = PasswordHash::new(stored.as_str()).map_err(|e| IdentityError::Hashing(e.to_string()))?;
    if parsed.algorithm.as_str() != "argon2id" {
        return Err(IdentityError::Hashing(format!(
            "stored hash uses {}, expected argon2id",
            parsed.algorithm
        )));
    }
    Ok(hasher().verify_password(password.expose().as_bytes(), &parsed).is_ok())
}

/// A hash of a password nobody has, verified against when a user does not exist, so
/// that an unknown name takes as long to refuse as a wrong password.
pub fn decoy_hash() -> &'static PasswordHashText {
    static DECOY: std::sync::OnceLock<PasswordHashText> = std::sync::OnceLock::new();
    DECOY.get_or_init(|| {
        hash_password(&Secret::new("decoy password nobody has"), &mut rand::rngs::OsRng)
            .expect("hashing a constant password works")
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn argon2id_hash_verifies_only_the_right_password() {
        let mut rng = rand::rngs::OsRng;
        let password = Secret::new("correct horse battery staple");
        let hash = hash_password(&password, &mut rng).unwrap();
        assert!(
            hash.as_str().starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
            "{:?}",
            hash.as_str()
        );
        assert!(verify_password(&password, &hash).unwrap());
        assert!(!verify_password(&Secret::new("correct horse battery stapl"), &hash).unwrap());
        let again = hash_password(&password, &mut rng).unwrap();
        assert_ne!(hash, again, "every hash has its own salt");
        assert!(!format!("{hash:?}").contains("argon2id"));
    }

    #[test]
    fn new_passwords_have_a_minimum_and_maximum_length() {
        assert_eq!(
            check_new_password(&Secret::new("short")).unwrap_err().code(),
            "password-too-short"
        );
        assert_eq!(
            check_new_password(&Secret::new("x".repeat(2000))).unwrap_err().code(),
            "password-too-long"
        );
        check_new_password(&Secret::new("twelve chars")).unwrap();
    }

    #[test]
    fn a_stored_hash_of_another_algorithm_is_refused() {
        let stored = PasswordHashText::from_stored("$argon2i$v=19$m=16,t=2,p=1$c29tZXNhbHQ$aGFzaA".into());
        assert!(verify_password(&Secret::new("whatever password"), &stored).is_err());
    }
}
