-- Redaction (issue 6): transcripts and derived artifacts with lineage.
-- A transcript is an encrypted object under its recording's data key (crypto-shredding
-- the recording makes it unreadable); the row says where it is and what it holds,
-- never what was said. No foreign keys to `recordings`: erasure replaces that row by
-- a tombstone, and the erasure path removes these rows itself.

CREATE TABLE transcripts (
    recording_id TEXT PRIMARY KEY,
    tenant       TEXT NOT NULL,
    object_path  TEXT NOT NULL,
    words        INTEGER NOT NULL,
    streams      TEXT NOT NULL DEFAULT '[]',   -- JSON: stream labels with words, and their formats
    updated_at   TEXT NOT NULL,
    updated_by   TEXT NOT NULL
);

-- A redacted copy of a recording (or of a time range of it): a training copy or an
-- FAQ clip. Its audio and redacted transcript are objects under its own data key,
-- wrapped by the source's retention-day KEK until an approver declares it anonymous.
CREATE TABLE derivatives (
    id              TEXT PRIMARY KEY,
    source_id       TEXT NOT NULL,
    tenant          TEXT NOT NULL,
    policy_version  INTEGER NOT NULL,
    kind            TEXT NOT NULL CHECK (kind IN ('training', 'faq-clip')),
    purpose         TEXT NOT NULL,
    state           TEXT NOT NULL CHECK (state IN ('draft', 'approved')),
    anonymous       INTEGER NOT NULL DEFAULT 0,
    from_ms         INTEGER NOT NULL,
    to_ms           INTEGER NOT NULL,
    sample_rate     INTEGER NOT NULL,
    padding_ms      INTEGER NOT NULL,
    fill            TEXT NOT NULL,
    streams         TEXT NOT NULL,   -- JSON: [{idx, label, role, pseudonym, object_path, samples, sha256}]
    spans           TEXT NOT NULL,   -- JSON: the spans removed: kind, times, origin, evidence (hashed)
    metadata        TEXT NOT NULL,   -- JSON: the derivative's own metadata, identifiers removed
    transcript_path TEXT,
    created_at      TEXT NOT NULL,
    created_by      TEXT NOT NULL,
    approved_at     TEXT,
    approved_by     TEXT,
    source_erased_at TEXT
);
CREATE INDEX derivatives_by_source ON derivatives (source_id);
