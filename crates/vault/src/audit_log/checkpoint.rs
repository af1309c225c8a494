//! Signed checkpoints of the audit chain: the head (seq, hash) and a time, signed with
//! the Ed25519 key in the key directory (`audit-signing.key`: a PKCS#8 document, hex,
//! created on first use with mode 0600). A checkpoint exported to a file and kept
//! elsewhere proves later that the log still extends it.

use std::fs;
use std::io::Write;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::Path;

use chrono::{DateTime, Utc};
use ring::signature::{ED25519, Ed25519KeyPair, KeyPair, UnparsedPublicKey};
use serde::{Deserialize, Serialize};

use crate::catalog::ts;
use crate::error::VaultError;

/// The signing key's file in the key directory.
pub const SIGNING_KEY_FILE: &str = "audit-signing.key";
/// The `format` of a checkpoint file.
pub const CHECKPOINT_FORMAT: &str = "callvault-audit-checkpoint/1";

/// A signed head of the audit chain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Checkpoint {
    pub format: String,
    /// The last event it covers.
    pub seq: i64,
    /// That event's hash (hex).
    pub hash: String,
    pub at: DateTime<Utc>,
    /// The first 16 hex digits of SHA-256 of the public key.
    pub key_id: String,
    /// The Ed25519 public key (hex).
    pub public_key: String,
    /// Ed25519 signature (hex) of [`Checkpoint::message`].
    pub signature: String,
}

impl Checkpoint {
    /// The bytes signed: every field, in a fixed text form.
    pub fn message(&self) -> Vec<u8> {
        format!(
            "{CHECKPOINT_FORMAT}\nseq {}\nhash {}\nat {}\nkey {}\n",
            self.seq,
            self.hash,
            ts(self.at),
            self.public_key
        )
        .into_bytes()
    }

    /// Whether the signature verifies under the checkpoint's own public key and the key
    /// id is that key's. (Whether that key is the log's key is the verifier's question.)
    pub fn signature_valid(&self) -> bool {
        let (Ok(public_key), Ok(signature)) = (hex::decode(&self.public_key), hex::decode(&self.signature)) else {
            return false;
        };
        self.format == CHECKPOINT_FORMAT
            && self.key_id == key_id(&public_key)
            && UnparsedPublicKey::new(&ED25519, &public_key)
                .verify(&self.message(), &signature)
                .is_ok()
    }

    /// The covered event's hash as bytes, when it is well formed.
    pub fn hash_bytes(&self) -> Option<[u8; 32]> {
        hex::decode(&self.hash).ok()?.try_into().ok()
    }

    /// The checkpoint file's text (pretty JSON).
    pub fn to_file_text(&self) -> String {
        serde_json::to_string_pretty(self).expect("a checkpoint serialises") + "\n"
    }

    /// Reads a checkpoint file's text.
    pub fn from_file_text(text: &str) -> Result<Self, VaultError> {
        serde_json::from_str(text).map_err(|e| VaultError::Corrupt(format!("not a checkpoint file: {e}")))
    }
}

/// The key id of an Ed25519 public key.
/// Checks a detached signature made by [`SigningKey::sign_detached`].
pub fn verify_detached(public_key_hex: &str, message: &[u8], signature_hex: &str) -> bool {
    let (Ok(public_key), Ok(signature)) = (hex::decode(public_key_hex), hex::decode(signature_hex)) else {
        return false;
    };
    ring::signature::UnparsedPublicKey::new(&ring::signature::ED25519, public_key)
        .verify(message, &signature)
        .is_ok()
}

pub fn key_id(public_key: &[u8]) -> String {
    hex::encode(&ring::digest::digest(&ring::digest::SHA256, public_key).as_ref()[..8])
}

/// The audit signing key.
#[derive(Debug)]
pub struct SigningKey {
    pair: Ed25519KeyPair,
}

impl SigningKey {
    /// Loads the key from the key directory, creating it on first use.
    pub fn load_or_create(keys_dir: &Path) -> Result<Self, VaultError> {
        let file = keys_dir.join(SIGNING_KEY_FILE);
        if let Some(key) = Self::load(keys_dir)? {
            return Ok(key);
        }
        let rng = ring::rand::SystemRandom::new();
        let document = Ed25519KeyPair::generate_pkcs8(&rng)
            .map_err(|_| VaultError::KeyDirectory("cannot generate the audit signing key".into()))?;
        match fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&file)
        {
            Ok(mut out) => {
                out.write_all(hex::encode(document.as_ref()).as_bytes())?;
                out.sync_all()?;
            }
            // Another process created it first: use theirs.
            Err(err) if err.kind() == std::io::ErrorKind::AlreadyExists => {}
            Err(err) => return Err(VaultError::KeyDirectory(format!("{}: {err}", file.display()))),
        }
        Self::load(keys_dir)?.ok_or_else(|| VaultError::KeyDirectory(format!("{} vanished", file.display())))
    }

    /// Loads the key when the key directory has one; refuses a file others can read.
    pub fn load(keys_dir: &Path) -> Result<Option<Self>, VaultError> {
        let file = keys_dir.join(SIGNING_KEY_FILE);
        let name = file.display();
        let text = match fs::read_to_string(&file) {
            Ok(text) => text,
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(err) => return Err(VaultError::KeyDirectory(format!("{name}: {err}"))),
        };
        let mode = fs::metadata(&file)?.permissions().mode();
        if mode & 0o077 != 0 {
            return Err(VaultError::KeyDirectory(format!(
                "{name} is readable by others (mode {:o}); run chmod 600 on it",
                mode & 0o777
            )));
        }
        let document =
            hex::decode(text.trim()).map_err(|_| VaultError::KeyDirectory(format!("{name} is not hex-encoded")))?;
        let pair = Ed25519KeyPair::from_pkcs8(&document)
            .map_err(|_| VaultError::KeyDirectory(format!("{name} is not an Ed25519 key (PKCS#8)")))?;
        Ok(Some(SigningKey { pair }))
    }

    /// The short id checkpoints and certificates name the key by.
    pub fn key_id(&self) -> String {
        key_id(self.pair.public_key().as_ref())
    }

    pub fn public_key_hex(&self) -> String {
        hex::encode(self.pair.public_key().as_ref())
    }

    /// A detached Ed25519 signature (hex) of `message`, for documents such as deletion
    /// certificates; `verify_detached` checks it with the public key alone.
    pub fn sign_detached(&self, message: &[u8]) -> String {
        hex::encode(self.pair.sign(message).as_ref())
    }

    /// Signs the head `seq`/`hash` at `at`.
    pub fn sign(&self, seq: i64, hash: &str, at: DateTime<Utc>) -> Checkpoint {
        let public_key = self.pair.public_key().as_ref();
        let mut checkpoint = Checkpoint {
            format: CHECKPOINT_FORMAT.to_owned(),
            seq,
            hash: hash.to_owned(),
            // Stored and signed with microseconds, as every catalog time.
            at: DateTime::parse_from_rfc3339(&ts(at))
                .map(|t| t.with_timezone(&Utc))
                .unwrap_or(at),
            key_id: key_id(public_key),
            public_key: hex::encode(public_key),
            signature: String::new(),
        };
        checkpoint.signature = hex::encode(self.pair.sign(&checkpoint.message()).as_ref());
        checkpoint
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_checkpoint_verifies_until_any_field_changes() {
        let keys = tempfile::tempdir().unwrap();
        let key = SigningKey::load_or_create(keys.path()).unwrap();
        let mode = fs::metadata(keys.path().join(SIGNING_KEY_FILE))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
        let at = "2026-11-23T10:00:00.1234567Z".parse().unwrap();
        let checkpoint = key.sign(42, &"ab".repeat(32), at);
        assert!(checkpoint.signature_valid());
        let again = Checkpoint::from_file_text(&checkpoint.to_file_text()).unwrap();
        assert_eq!(again, checkpoint);
        assert!(again.signature_valid());

        type Change = fn(&mut Checkpoint);
        let changes: [(&str, Change); 5] = [
            ("seq", |c| c.seq += 1),
            ("hash", |c| c.hash = "cd".repeat(32)),
            ("at", |c| c.at += chrono::TimeDelta::seconds(1)),
            ("key id", |c| c.key_id = "0".repeat(16)),
            ("signature", |c| {
                let first = if c.signature.starts_with('0') { "1" } else { "0" };
                c.signature.replace_range(..1, first);
            }),
        ];
        for (field, change) in changes {
            let mut forged = checkpoint.clone();
            change(&mut forged);
            assert!(
                !forged.signature_valid(),
                "{field} changed but the signature still verifies"
            );
        }
        // The same key is loaded again, not replaced.
        let reloaded = SigningKey::load_or_create(keys.path()).unwrap();
        assert_eq!(reloaded.public_key_hex(), key.public_key_hex());
    }

    #[test]
    fn a_key_file_others_can_read_is_refused() {
        let keys = tempfile::tempdir().unwrap();
        SigningKey::load_or_create(keys.path()).unwrap();
        let file = keys.path().join(SIGNING_KEY_FILE);
        fs::set_permissions(&file, fs::Permissions::from_mode(0o644)).unwrap();
        assert!(matches!(
            SigningKey::load(keys.path()),
            Err(VaultError::KeyDirectory(_))
        ));
    }
}
