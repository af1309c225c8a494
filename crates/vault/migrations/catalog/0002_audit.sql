-- The audit log in its stored form: one canonical record per event (the exact bytes the
-- chain hashes; see governance/src/audit/record.rs) and its SHA-256. Reading two columns
-- a row is what lets `audit verify` stream a million events a second.
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

-- Events written before records existed become format-1 records: the same fields,
-- still hashed the old way (sha256(prev_hash || canonical JSON)), so they still verify.
INSERT INTO audit_log (seq, record, hash)
SELECT seq,
       CAST('1:1'
         || octet_length(CAST(seq AS TEXT)) || ':' || seq
         || octet_length(prev_hash) || ':' || prev_hash
         || octet_length(at) || ':' || at
         || octet_length(actor) || ':' || actor
         || octet_length(action) || ':' || action
         || octet_length(outcome) || ':' || outcome
         || COALESCE(octet_length(tenant) || ':' || tenant, '-')
         || COALESCE(octet_length(recording_id) || ':' || recording_id, '-')
         || COALESCE(octet_length(purpose) || ':' || purpose, '-')
         || COALESCE(octet_length(reason) || ':' || reason, '-')
         || octet_length(detail) || ':' || detail AS BLOB),
       unhex(hash)
FROM audit_events ORDER BY seq;

INSERT INTO audit_denials (actor, at, seq) SELECT actor, at, seq FROM audit_events WHERE outcome = 'denied';

DROP TABLE audit_events;
