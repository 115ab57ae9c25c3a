CREATE TABLE users (
    id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    username TEXT NOT NULL UNIQUE CHECK (length(username) <= 150),
    email TEXT NOT NULL DEFAULT '',
    password_hash TEXT NOT NULL,
    is_active BOOLEAN NOT NULL DEFAULT 1,
    is_staff BOOLEAN NOT NULL DEFAULT 0,
    is_superuser BOOLEAN NOT NULL DEFAULT 0,
    date_joined TIMESTAMP NOT NULL,
    last_login TIMESTAMP
);
CREATE INDEX users_email_idx ON users (email);

-- One token per user (DRF's one-to-one). The key itself is never stored:
-- `digest` is its SHA-256 (the lookup), `sealed` the key under an AEAD
-- (returned again on sign-in), `prefix` its first 8 characters (display).
CREATE TABLE tokens (
    user_id INTEGER PRIMARY KEY NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    digest TEXT NOT NULL UNIQUE,
    sealed TEXT NOT NULL,
    prefix TEXT NOT NULL,
    created TIMESTAMP NOT NULL,
    last_used TIMESTAMP,
    expires TIMESTAMP
);

CREATE TABLE token_events (
    id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    user_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    actor TEXT NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('created', 'regenerated', 'revoked', 'expired')),
    at TIMESTAMP NOT NULL
);
CREATE INDEX token_events_user_idx ON token_events (user_id, id);
