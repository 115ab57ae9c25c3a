-- Two-factor sign-in (TOTP) per user: the secret sealed like token keys
-- (under a key of its own), `enabled` once a code confirmed it, and the
-- last time step accepted (a step is never accepted twice).
CREATE TABLE two_factor (
    user_id INTEGER PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    sealed_secret TEXT NOT NULL,
    enabled BOOLEAN NOT NULL,
    last_step BIGINT,
    created TIMESTAMP NOT NULL
);

-- Single-use recovery codes, only their SHA-256 digests; a used one is deleted.
CREATE TABLE recovery_codes (
    id SERIAL PRIMARY KEY,
    user_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    digest TEXT NOT NULL,
    created TIMESTAMP NOT NULL
);
CREATE INDEX recovery_codes_user_idx ON recovery_codes (user_id, digest);
