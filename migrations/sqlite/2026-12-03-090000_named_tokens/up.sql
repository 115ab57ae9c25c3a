-- Named tokens beside the DRF token, in the same table and found by the
-- same digest lookup: a row is the user's primary (DRF) token or a named
-- one with its scopes (space-separated) and its own expiry. SQLite cannot
-- change a primary key in place, so the table is rebuilt.
CREATE TABLE tokens_new (
    id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    user_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    is_primary BOOLEAN NOT NULL,
    name TEXT CHECK (name IS NULL OR length(name) <= 100),
    scopes TEXT NOT NULL DEFAULT '',
    digest TEXT NOT NULL UNIQUE,
    sealed TEXT NOT NULL,
    prefix TEXT NOT NULL,
    created TIMESTAMP NOT NULL,
    last_used TIMESTAMP,
    expires TIMESTAMP,
    CHECK (is_primary = (name IS NULL))
);
INSERT INTO tokens_new (user_id, is_primary, name, scopes, digest, sealed, prefix, created, last_used, expires)
    SELECT user_id, 1, NULL, '', digest, sealed, prefix, created, last_used, expires FROM tokens;
DROP TABLE tokens;
ALTER TABLE tokens_new RENAME TO tokens;
-- DRF's one-to-one: one primary token per user.
CREATE UNIQUE INDEX tokens_primary_idx ON tokens (user_id) WHERE is_primary;
CREATE UNIQUE INDEX tokens_name_idx ON tokens (user_id, name);

-- Which named token an event was about (NULL: the DRF token).
ALTER TABLE token_events ADD COLUMN token_name TEXT;
