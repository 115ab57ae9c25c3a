-- Signed-in admin sessions. The cookie holds a random session id; only its
-- SHA-256 (`digest`) is stored, so a copy of the table signs nobody in.
-- A row is written only after a correct password (never for anonymous
-- visitors); `pending` until the second factor is given. `auth_hash` is a
-- fingerprint of the password hash the session was made with: a new
-- password ends the session even if it was set by another path.
CREATE TABLE admin_sessions (
    id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    digest TEXT NOT NULL UNIQUE,
    user_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    auth_hash TEXT NOT NULL,
    pending BOOLEAN NOT NULL,
    created TIMESTAMP NOT NULL,
    last_seen TIMESTAMP NOT NULL,
    expires TIMESTAMP NOT NULL,
    address TEXT NOT NULL,
    user_agent TEXT NOT NULL
);
CREATE INDEX admin_sessions_user_idx ON admin_sessions (user_id);
CREATE INDEX admin_sessions_expires_idx ON admin_sessions (expires);
