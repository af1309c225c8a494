-- Data-subject requests (issue 5). Portable SQL (SQLite now, PostgreSQL later).

-- One request. The requester's numbers live in request_numbers; decisions per recording
-- in request_recordings. Dates as fixed-width RFC 3339 text; due_on as YYYY-MM-DD.
CREATE TABLE requests (
    id                     TEXT PRIMARY KEY,
    tenant                 TEXT NOT NULL REFERENCES tenants(name),
    policy_version         INTEGER NOT NULL,
    kind                   TEXT NOT NULL,
    fulfilment             TEXT NOT NULL,
    channel                TEXT NOT NULL,
    requester              TEXT NOT NULL,
    state                  TEXT NOT NULL CHECK (state IN
                               ('received', 'identity-verified', 'searched', 'decided', 'fulfilled', 'closed')),
    received_at            TEXT NOT NULL,
    due_on                 TEXT NOT NULL,
    opened_by              TEXT NOT NULL,
    opened_at              TEXT NOT NULL,
    verified_by            TEXT,
    verified_at            TEXT,
    verification_method    TEXT,
    finished_by            TEXT,
    finished_at            TEXT,
    close_reason           TEXT,
    -- JSON: the notification to the supervisory authority of a denied erasure (WEBEO-ERASURE).
    authority_notification TEXT,
    overdue_reported_at    TEXT
);
CREATE INDEX requests_by_tenant_state ON requests (tenant, state, due_on);

-- The subject's numbers: keyed hash and masked form; the E.164 form only while the
-- request is open (it goes, unmasked, into the subject's own copy), cleared at the end.
CREATE TABLE request_numbers (
    request_id  TEXT NOT NULL REFERENCES requests(id),
    number_hash TEXT NOT NULL,
    masked      TEXT NOT NULL,
    e164        TEXT,
    PRIMARY KEY (request_id, number_hash)
);

-- Recordings a search found and what was decided and done for each. No foreign key to
-- recordings: a row outlives the erasure it records.
CREATE TABLE request_recordings (
    request_id   TEXT NOT NULL REFERENCES requests(id),
    recording_id TEXT NOT NULL,
    number_hash  TEXT NOT NULL,
    started_at   TEXT NOT NULL,
    found_at     TEXT NOT NULL,
    decision     TEXT CHECK (decision IN ('fulfil', 'deny')),
    deny_reason  TEXT,
    decided_by   TEXT,
    decided_at   TEXT,
    outcome      TEXT,
    PRIMARY KEY (request_id, recording_id)
);

-- A participant's consent to a copy of a recording (CSI-COPY).
CREATE TABLE request_consents (
    request_id   TEXT NOT NULL REFERENCES requests(id),
    recording_id TEXT NOT NULL,
    participant  INTEGER NOT NULL,
    evidence     TEXT NOT NULL,
    recorded_by  TEXT NOT NULL,
    recorded_at  TEXT NOT NULL,
    PRIMARY KEY (request_id, recording_id, participant)
);

-- Restriction (GDPR art. 18) and objection: every use of the recording but storage
-- stops until lifted. A restriction also keeps the recording through retention (its key
-- is under the hold KEK, hold_id names that hold); an objection does not.
CREATE TABLE restrictions (
    recording_id TEXT NOT NULL,
    request_id   TEXT NOT NULL REFERENCES requests(id),
    tenant       TEXT NOT NULL,
    kind         TEXT NOT NULL CHECK (kind IN ('restriction', 'objection')),
    hold_id      TEXT,
    placed_by    TEXT NOT NULL,
    placed_at    TEXT NOT NULL,
    lifted_by    TEXT,
    lifted_at    TEXT,
    PRIMARY KEY (recording_id, request_id)
);
CREATE INDEX restrictions_active ON restrictions (recording_id, lifted_at);

-- A data subject is found by the number of any party, not only the customer's column.
CREATE INDEX participants_by_number_hash ON participants (number_hash);
