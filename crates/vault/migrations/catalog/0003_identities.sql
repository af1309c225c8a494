-- Identities: users, teams and memberships, training attestations, access grants,
-- tokens and sessions (hashes only), and recent failed sign-ins.
-- Portable SQL (SQLite now, PostgreSQL later): TEXT timestamps in fixed-width RFC 3339
-- UTC, dates as YYYY-MM-DD, JSON lists as TEXT, partial unique indexes.

CREATE TABLE users (
    tenant           TEXT NOT NULL REFERENCES tenants(name),
    name             TEXT NOT NULL,
    roles            TEXT NOT NULL,
    status           TEXT NOT NULL CHECK (status IN ('active', 'locked')),
    -- argon2id PHC string; NULL: the user cannot sign in with a password.
    password_hash    TEXT,
    -- Raised by a password change or an administrator's lock: ends every token.
    credential_epoch INTEGER NOT NULL DEFAULT 0,
    created_at       TEXT NOT NULL,
    created_by       TEXT NOT NULL,
    updated_at       TEXT NOT NULL,
    PRIMARY KEY (tenant, name)
);

CREATE TABLE teams (
    tenant     TEXT NOT NULL REFERENCES tenants(name),
    name       TEXT NOT NULL,
    created_at TEXT NOT NULL,
    created_by TEXT NOT NULL,
    PRIMARY KEY (tenant, name)
);

-- agent -> team (kind 'member', at most one team a user) and manager -> teams ('manager').
CREATE TABLE memberships (
    tenant    TEXT NOT NULL,
    team      TEXT NOT NULL,
    user_name TEXT NOT NULL,
    kind      TEXT NOT NULL CHECK (kind IN ('member', 'manager')),
    PRIMARY KEY (tenant, team, user_name, kind),
    FOREIGN KEY (tenant, team) REFERENCES teams(tenant, name),
    FOREIGN KEY (tenant, user_name) REFERENCES users(tenant, name)
);
CREATE UNIQUE INDEX memberships_one_team ON memberships (tenant, user_name) WHERE kind = 'member';

CREATE TABLE training_attestations (
    id           TEXT PRIMARY KEY,
    tenant       TEXT NOT NULL,
    user_name    TEXT NOT NULL,
    training     TEXT NOT NULL,
    completed_on TEXT NOT NULL,
    recorded_by  TEXT NOT NULL,
    recorded_at  TEXT NOT NULL,
    FOREIGN KEY (tenant, user_name) REFERENCES users(tenant, name)
);
CREATE INDEX training_by_user ON training_attestations (tenant, user_name);

CREATE TABLE access_grants (
    id           TEXT PRIMARY KEY,
    tenant       TEXT NOT NULL REFERENCES tenants(name),
    grantee_kind TEXT NOT NULL CHECK (grantee_kind IN ('user', 'role')),
    grantee      TEXT NOT NULL,
    scope_kind   TEXT NOT NULL CHECK (scope_kind IN ('tenant', 'team', 'agent')),
    scope_target TEXT,
    purpose      TEXT NOT NULL,
    issued_by    TEXT NOT NULL,
    issued_at    TEXT NOT NULL,
    expires_at   TEXT NOT NULL,
    revoked_at   TEXT,
    revoked_by   TEXT
);
CREATE INDEX grants_by_tenant ON access_grants (tenant, expires_at);

-- Bearer tokens and web sessions: only the SHA-256 of the value is kept.
CREATE TABLE auth_tokens (
    id               TEXT PRIMARY KEY,
    token_hash       TEXT NOT NULL UNIQUE,
    tenant           TEXT NOT NULL,
    user_name        TEXT NOT NULL,
    kind             TEXT NOT NULL CHECK (kind IN ('api', 'session')),
    label            TEXT,
    created_at       TEXT NOT NULL,
    expires_at       TEXT NOT NULL,
    last_used_at     TEXT,
    revoked_at       TEXT,
    credential_epoch INTEGER NOT NULL,
    FOREIGN KEY (tenant, user_name) REFERENCES users(tenant, name)
);
CREATE INDEX tokens_by_user ON auth_tokens (tenant, user_name);

-- Failed sign-ins since the user's last success (lockout, ARLO-SECURITY).
CREATE TABLE login_failures (
    tenant    TEXT NOT NULL,
    user_name TEXT NOT NULL,
    at        TEXT NOT NULL
);
CREATE INDEX login_failures_by_user ON login_failures (tenant, user_name, at);
