-- The key store: kept apart from the catalog and the objects, in the key directory.
-- Key-encryption keys are per retention day (wrapped by the master key); data keys are
-- per recording (wrapped by the KEK of the day their retention ends).

CREATE TABLE key_check (
    id    INTEGER PRIMARY KEY CHECK (id = 1),
    value BLOB NOT NULL
);

CREATE TABLE keks (
    day     TEXT PRIMARY KEY,
    wrapped BLOB NOT NULL
);

CREATE TABLE data_keys (
    recording_id TEXT PRIMARY KEY,
    kek_day      TEXT NOT NULL REFERENCES keks(day),
    wrapped      BLOB NOT NULL
);
CREATE INDEX data_keys_by_day ON data_keys (kek_day);
