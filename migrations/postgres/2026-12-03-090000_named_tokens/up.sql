-- Named tokens beside the DRF token, in the same table and found by the
-- same digest lookup: a row is the user's primary (DRF) token or a named
-- one with its scopes (space-separated) and its own expiry.
ALTER TABLE tokens DROP CONSTRAINT tokens_pkey;
ALTER TABLE tokens ADD COLUMN id SERIAL PRIMARY KEY;
ALTER TABLE tokens ADD COLUMN is_primary BOOLEAN NOT NULL DEFAULT TRUE;
ALTER TABLE tokens ALTER COLUMN is_primary DROP DEFAULT;
ALTER TABLE tokens ADD COLUMN name VARCHAR(100);
ALTER TABLE tokens ADD COLUMN scopes TEXT NOT NULL DEFAULT '';
ALTER TABLE tokens ALTER COLUMN user_id SET NOT NULL;
ALTER TABLE tokens ADD CONSTRAINT tokens_primary_unnamed CHECK (is_primary = (name IS NULL));
-- DRF's one-to-one: one primary token per user.
CREATE UNIQUE INDEX tokens_primary_idx ON tokens (user_id) WHERE is_primary;
CREATE UNIQUE INDEX tokens_name_idx ON tokens (user_id, name);

-- Which named token an event was about (NULL: the DRF token).
ALTER TABLE token_events ADD COLUMN token_name TEXT;
