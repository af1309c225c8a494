//! The key directory (`--keys`): master key and number-hash key, files with mode 0600,
//! kept outside the data directory so a backup of the data holds no usable key.

use std::fs;
use std::io::Write;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use crate::crypto::SecretKey;
use crate::error::VaultError;

const MASTER_KEY_FILE: &str = "master.key";
const NUMBER_HASH_KEY_FILE: &str = "number-hash.key";
/// The key store's database file inside the key directory.
pub const KEYSTORE_FILE: &str = "keystore.sqlite";

/// An opened key directory.
#[derive(Debug)]
pub struct KeyDirectory {
    path: PathBuf,
    master: SecretKey,
    number_hash: SecretKey,
}

impl KeyDirectory {
    /// Opens `path`, creating it (mode 0700) and its keys (mode 0600) when missing.
    /// Refuses key files that others can read.
    pub fn open_or_create(path: &Path) -> Result<Self, VaultError> {
        if !path.exists() {
            fs::create_dir_all(path)?;
            fs::set_permissions(path, fs::Permissions::from_mode(0o700))?;
        }
        let master = load_or_create_key(&path.join(MASTER_KEY_FILE))?;
        let number_hash = load_or_create_key(&path.join(NUMBER_HASH_KEY_FILE))?;
        Ok(KeyDirectory {
            path: path.to_owned(),
            master,
            number_hash,
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn master(&self) -> &SecretKey {
        &self.master
    }

    pub fn number_hash_key(&self) -> [u8; 32] {
        *self.number_hash.expose()
    }
}

fn load_or_create_key(file: &Path) -> Result<SecretKey, VaultError> {
    let name = file.display();
    match fs::read_to_string(file) {
        Ok(text) => {
            let mode = fs::metadata(file)?.permissions().mode();
            if mode & 0o077 != 0 {
                return Err(VaultError::KeyDirectory(format!(
                    "{name} is readable by others (mode {:o}); run chmod 600 on it",
                    mode & 0o777
                )));
            }
            let bytes = hex::decode(text.trim())
                .map_err(|_| VaultError::KeyDirectory(format!("{name} is not a hex-encoded key")))?;
            SecretKey::from_bytes(&bytes).map_err(|_| VaultError::KeyDirectory(format!("{name} must hold 32 bytes")))
        }
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => {
            let key = SecretKey::random();
            let mut out = fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .mode(0o600)
                .open(file)?;
            out.write_all(hex::encode(key.expose()).as_bytes())?;
            out.sync_all()?;
            Ok(key)
        }
        Err(err) => Err(VaultError::KeyDirectory(format!("{name}: {err}"))),
    }
}
