//! Vault errors, each with a stable code.

/// Everything that can go wrong in the vault. Messages never contain personal data.
#[derive(Debug, thiserror::Error)]
pub enum VaultError {
    #[error("the master key does not match the key store (wrong --keys directory?)")]
    WrongMasterKey,
    #[error("key directory: {0}")]
    KeyDirectory(String),
    #[error("integrity check failed: {0}")]
    Integrity(String),
    #[error("data key for recording {0} is gone (erased)")]
    KeyDestroyed(uuid::Uuid),
    #[error("corrupt vault data: {0}")]
    Corrupt(String),
    #[error("not found: {0}")]
    NotFound(String),
    #[error("conflict: {0}")]
    Conflict(String),
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
    #[error("database migration: {0}")]
    Migration(#[from] sqlx::migrate::MigrateError),
    #[error("object store: {0}")]
    ObjectStore(#[from] object_store::Error),
    #[error("io: {0}")]
    Io(#[from] std::io::Error),
}

impl VaultError {
    /// Stable machine-readable code.
    pub fn code(&self) -> &'static str {
        match self {
            VaultError::WrongMasterKey => "wrong-master-key",
            VaultError::KeyDirectory(_) => "key-directory",
            VaultError::Integrity(_) => "integrity-failure",
            VaultError::KeyDestroyed(_) => "recording-erased",
            VaultError::Corrupt(_) => "vault-corrupt",
            VaultError::NotFound(_) => "not-found",
            VaultError::Conflict(_) => "conflict",
            VaultError::Database(_) | VaultError::Migration(_) => "database-error",
            VaultError::ObjectStore(_) => "object-store-error",
            VaultError::Io(_) => "io-error",
        }
    }
}
