-- Which user a recording's agent is: the name a PBX writes in its metadata ("Alex Agent"),
-- a SIP address of record, an extension. A recording stores the agent as it arrived; reads
-- map it to a user through this table (the user's own name always maps too).
CREATE TABLE agent_aliases (
    tenant    TEXT NOT NULL,
    alias     TEXT NOT NULL,
    user_name TEXT NOT NULL,
    PRIMARY KEY (tenant, alias),
    FOREIGN KEY (tenant, user_name) REFERENCES users(tenant, name)
);
CREATE INDEX agent_aliases_by_user ON agent_aliases (tenant, user_name);
