-- Supervised playback sessions of data-subject requests (POSTI-SUPERVISED). Portable SQL
-- (SQLite now, PostgreSQL later); times as fixed-width RFC 3339 text.

-- One session: a handler lets the visiting data subject listen to one recording a request
-- released, until expires_at or until ended. Only the SHA-256 of the token is kept. No
-- foreign key to recordings: the row outlives an erasure and records what was played.
CREATE TABLE playback_sessions (
    id           TEXT PRIMARY KEY,
    request_id   TEXT NOT NULL REFERENCES requests(id),
    tenant       TEXT NOT NULL,
    recording_id TEXT NOT NULL,
    token_hash   TEXT NOT NULL UNIQUE,
    opened_by    TEXT NOT NULL,
    opened_at    TEXT NOT NULL,
    expires_at   TEXT NOT NULL,
    ended_at     TEXT,
    ended_by     TEXT,
    end_reason   TEXT CHECK (end_reason IN ('closed', 'request-fulfilled', 'request-closed'))
);
CREATE INDEX playback_sessions_by_request ON playback_sessions (request_id, opened_at);
