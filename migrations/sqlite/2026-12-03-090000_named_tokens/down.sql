DELETE FROM token_events WHERE token_name IS NOT NULL;
ALTER TABLE token_events DROP COLUMN token_name;
CREATE TABLE tokens_old (
    user_id INTEGER PRIMARY KEY NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    digest TEXT NOT NULL UNIQUE,
    sealed TEXT NOT NULL,
    prefix TEXT NOT NULL,
    created TIMESTAMP NOT NULL,
    last_used TIMESTAMP,
    expires TIMESTAMP
);
INSERT INTO tokens_old SELECT user_id, digest, sealed, prefix, created, last_used, expires
    FROM tokens WHERE is_primary;
DROP TABLE tokens;
ALTER TABLE tokens_old RENAME TO tokens;
