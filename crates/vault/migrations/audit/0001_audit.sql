-- The audit log in a file of its own beside the catalog (`catalog.audit.sqlite`): its
-- commits (one per read, fsynced) no longer change the catalog file, so the catalog's
-- readers keep their page caches. The same three tables the catalog held (0002_audit);
-- a catalog that still holds events has them moved here once, at open.

-- One canonical record per event (the exact bytes the chain hashes; see
-- governance/src/audit/record.rs) and its SHA-256.
CREATE TABLE audit_log (
    seq    INTEGER PRIMARY KEY,
    record BLOB NOT NULL,
    hash   BLOB NOT NULL
);

-- Signed heads of the chain (Ed25519; the key lives in the key directory).
CREATE TABLE audit_checkpoints (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    seq        INTEGER NOT NULL,
    hash       TEXT NOT NULL,
    at         TEXT NOT NULL,
    key_id     TEXT NOT NULL,
    public_key TEXT NOT NULL,
    signature  TEXT NOT NULL
);

-- Denied attempts by user and time, to count them for alerts (ARLO-SECURITY). Derived
-- from the log (the log stays the evidence); written in the same transaction.
CREATE TABLE audit_denials (
    actor TEXT NOT NULL,
    at    TEXT NOT NULL,
    seq   INTEGER NOT NULL
);
CREATE INDEX audit_denials_by_actor ON audit_denials (actor, at);
