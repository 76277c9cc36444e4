-- Zalo Official Account state shared by every process.
--
-- zalo_tokens holds the OA's OAuth tokens. Zalo's refresh token is single-use
-- and rotates on every refresh, so refreshes are serialised across processes:
-- a process takes the lease (lease_owner, lease_until in Unix milliseconds)
-- for the version it read, refreshes, and writes the new pair with a
-- compare-and-swap on version, which also clears the lease.
CREATE TABLE zalo_tokens (
    oa_id         TEXT PRIMARY KEY,
    access_token  TEXT NOT NULL,
    refresh_token TEXT NOT NULL,
    expires_at    TIMESTAMP NOT NULL,
    version       INTEGER NOT NULL,
    lease_owner   TEXT NOT NULL DEFAULT '',
    lease_until   INTEGER NOT NULL DEFAULT 0,
    updated_at    TIMESTAMP NOT NULL
);

-- The last time each Zalo user interacted with the OA: Zalo only lets the OA
-- message a user for a while after that (see bot/zalo), so the scheduler asks
-- before sending a reminder on Zalo.
CREATE TABLE zalo_interactions (
    user_id TEXT PRIMARY KEY,
    last_at TIMESTAMP NOT NULL
);
