CREATE TABLE users (
    id SERIAL PRIMARY KEY,
    username VARCHAR(150) NOT NULL UNIQUE,
    email TEXT NOT NULL DEFAULT '',
    password_hash TEXT NOT NULL,
    is_active BOOLEAN NOT NULL DEFAULT TRUE,
    is_staff BOOLEAN NOT NULL DEFAULT FALSE,
    is_superuser BOOLEAN NOT NULL DEFAULT FALSE,
    date_joined TIMESTAMP NOT NULL DEFAULT (now() AT TIME ZONE 'UTC'),
    last_login TIMESTAMP
);
CREATE INDEX users_email_idx ON users (email);

-- One token per user (DRF's one-to-one). The key itself is never stored:
-- `digest` is its SHA-256 (the lookup; TEXT, since CHAR skips the index
-- against a text bind), `sealed` the key under an AEAD, `prefix` its first
-- 8 characters (display).
CREATE TABLE tokens (
    user_id INTEGER PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    digest TEXT NOT NULL UNIQUE,
    sealed TEXT NOT NULL,
    prefix TEXT NOT NULL,
    created TIMESTAMP NOT NULL DEFAULT (now() AT TIME ZONE 'UTC'),
    last_used TIMESTAMP,
    expires TIMESTAMP
);

CREATE TABLE token_events (
    id SERIAL PRIMARY KEY,
    user_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    actor TEXT NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('created', 'regenerated', 'revoked', 'expired')),
    at TIMESTAMP NOT NULL DEFAULT (now() AT TIME ZONE 'UTC')
);
CREATE INDEX token_events_user_idx ON token_events (user_id, id);
