-- Team history: an agent moved from one team to another. A recording belongs to the team
-- its agent was in when the call started (POSTI-ACCESS: "a group manager listens to all of
-- the group's calls"), so a move does not hand the old calls to the new manager. The
-- current team stays in `memberships`; the team at time t is the `from_team` of the
-- first move after t, else the current one. Portable SQL; times as fixed-width RFC 3339.
CREATE TABLE team_moves (
    tenant    TEXT NOT NULL,
    user_name TEXT NOT NULL,
    moved_at  TEXT NOT NULL,
    -- NULL: the user was in no team before.
    from_team TEXT,
    to_team   TEXT NOT NULL,
    moved_by  TEXT NOT NULL,
    PRIMARY KEY (tenant, user_name, moved_at),
    FOREIGN KEY (tenant, user_name) REFERENCES users(tenant, name),
    FOREIGN KEY (tenant, to_team) REFERENCES teams(tenant, name)
);
