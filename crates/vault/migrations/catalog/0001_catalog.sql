-- The catalog: tenants, policy versions, recordings and what remains of erased ones.
-- Portable SQL (SQLite now, PostgreSQL later): TEXT timestamps in RFC 3339 UTC with
-- fixed width (so they sort), JSON kept as TEXT, no SQLite-only types.

CREATE TABLE tenants (
    name              TEXT PRIMARY KEY,
    policy_id         TEXT NOT NULL,
    recording_enabled INTEGER NOT NULL DEFAULT 0,
    retention         TEXT,
    service_numbers   TEXT NOT NULL DEFAULT '[]',
    agent_patterns    TEXT NOT NULL DEFAULT '[]',
    country           TEXT,
    provider          INTEGER NOT NULL DEFAULT 0,
    created_at        TEXT NOT NULL
);

CREATE TABLE policy_versions (
    tenant           TEXT NOT NULL REFERENCES tenants(name),
    version          INTEGER NOT NULL,
    policy_id        TEXT NOT NULL,
    document_version TEXT NOT NULL,
    source_file      TEXT NOT NULL,
    source_text      TEXT NOT NULL,
    sha256           TEXT NOT NULL,
    state            TEXT NOT NULL CHECK (state IN ('active', 'superseded', 'pending')),
    created_at       TEXT NOT NULL,
    created_by       TEXT NOT NULL,
    approved_at      TEXT,
    approved_by      TEXT,
    PRIMARY KEY (tenant, version)
);

CREATE TABLE recordings (
    id                   TEXT PRIMARY KEY,
    tenant               TEXT NOT NULL REFERENCES tenants(name),
    policy_version       INTEGER NOT NULL,
    state                TEXT NOT NULL CHECK (state IN ('writing', 'sealed', 'interrupted')),
    source               TEXT NOT NULL CHECK (source IN ('ingest', 'capture')),
    direction            TEXT NOT NULL,
    started_at           TEXT NOT NULL,
    ended_at             TEXT,
    duration_ms          INTEGER,
    service_number       TEXT,
    customer_number      TEXT,
    customer_number_hash TEXT,
    customer_name        TEXT,
    agent                TEXT,
    purposes             TEXT NOT NULL,
    legal_basis          TEXT NOT NULL,
    consent              TEXT NOT NULL,
    retain_until         TEXT NOT NULL,
    notes                TEXT NOT NULL DEFAULT '[]',
    created_at           TEXT NOT NULL,
    sealed_at            TEXT,
    FOREIGN KEY (tenant, policy_version) REFERENCES policy_versions(tenant, version)
);
CREATE INDEX recordings_by_number ON recordings (tenant, customer_number_hash, started_at);
CREATE INDEX recordings_by_hash ON recordings (customer_number_hash);
CREATE INDEX recordings_by_start ON recordings (tenant, started_at);
CREATE INDEX recordings_by_retention ON recordings (retain_until);

CREATE TABLE participants (
    recording_id TEXT NOT NULL REFERENCES recordings(id) ON DELETE CASCADE,
    idx          INTEGER NOT NULL,
    role         TEXT NOT NULL,
    name         TEXT,
    number       TEXT,
    number_hash  TEXT,
    PRIMARY KEY (recording_id, idx)
);

CREATE TABLE streams (
    recording_id TEXT NOT NULL REFERENCES recordings(id) ON DELETE CASCADE,
    idx          INTEGER NOT NULL,
    label        TEXT NOT NULL,
    participant  INTEGER,
    codec        TEXT NOT NULL,
    sample_rate  INTEGER NOT NULL,
    object_path  TEXT NOT NULL,
    chunks       INTEGER NOT NULL DEFAULT 0,
    audio_bytes  INTEGER NOT NULL DEFAULT 0,
    packets_lost INTEGER NOT NULL DEFAULT 0,
    seal         TEXT NOT NULL DEFAULT 'open' CHECK (seal IN ('open', 'sealed', 'recovered')),
    PRIMARY KEY (recording_id, idx)
);

-- What remains after erasure: no personal data.
CREATE TABLE tombstones (
    recording_id   TEXT PRIMARY KEY,
    tenant         TEXT NOT NULL,
    policy_version INTEGER NOT NULL,
    reason         TEXT NOT NULL,
    erased_at      TEXT NOT NULL
);

-- Append-only, hash-chained.
CREATE TABLE audit_events (
    seq          INTEGER PRIMARY KEY,
    at           TEXT NOT NULL,
    actor        TEXT NOT NULL,
    action       TEXT NOT NULL,
    outcome      TEXT NOT NULL,
    tenant       TEXT,
    recording_id TEXT,
    purpose      TEXT,
    reason       TEXT,
    detail       TEXT NOT NULL,
    prev_hash    TEXT NOT NULL,
    hash         TEXT NOT NULL
);
