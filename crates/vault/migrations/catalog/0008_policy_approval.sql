-- Policy approval (ARLO-PURPOSE-CHANGE, ALL-VERSION): `policy update` records a version
-- `pending`; it takes effect only when a user with the role the active version names
-- (`changes.approved_by`, default `compliance`) approves it. One row per proposed version:
-- the version it would replace, the role that must decide, the change (purposes, retention
-- and access, as JSON from `policy::diff_policies`), and the decision with who made it and
-- when. A rejected version keeps its `pending` row in policy_versions and is never active.

CREATE TABLE policy_changes (
    tenant        TEXT NOT NULL,
    version       INTEGER NOT NULL,
    from_version  INTEGER NOT NULL,
    approver_role TEXT NOT NULL,
    diff          TEXT NOT NULL,
    decision      TEXT CHECK (decision IN ('approved', 'rejected')),
    decided_at    TEXT,
    decided_by    TEXT,
    reason        TEXT,
    PRIMARY KEY (tenant, version),
    FOREIGN KEY (tenant, version) REFERENCES policy_versions(tenant, version),
    FOREIGN KEY (tenant, from_version) REFERENCES policy_versions(tenant, version)
);

-- At most one undecided change per tenant: a second proposal waits for the first decision.
CREATE UNIQUE INDEX policy_changes_one_open ON policy_changes (tenant) WHERE decision IS NULL;
