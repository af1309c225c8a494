-- Legal holds and retention sweeps. Portable SQL (SQLite now, PostgreSQL later).

-- A hold keeps a recording through retention and erasure until it is lifted or
-- expires. No cap on how many recordings are held.
CREATE TABLE legal_holds (
    id           TEXT PRIMARY KEY,
    tenant       TEXT NOT NULL,
    recording_id TEXT NOT NULL,
    reason       TEXT NOT NULL,
    placed_by    TEXT NOT NULL,
    placed_at    TEXT NOT NULL,
    expires_at   TEXT,
    lifted_at    TEXT,
    lifted_by    TEXT
);
CREATE INDEX legal_holds_by_recording ON legal_holds (recording_id, lifted_at);

-- One row per retention sweep, with its signed deletion certificate (JSON).
CREATE TABLE retention_sweeps (
    id          TEXT PRIMARY KEY,
    started_at  TEXT NOT NULL,
    finished_at TEXT NOT NULL,
    swept_until TEXT NOT NULL,
    deleted     INTEGER NOT NULL,
    certificate TEXT NOT NULL
);
