-- Every admin and command-line action, written in the action's own
-- transaction. `actor` is the staff member's username (for a failed sign-in
-- the username tried; `cli` for the command line); `username` is the user
-- acted on as named at the time (kept when the user is gone); `address` the
-- client's address or `cli`.
CREATE TABLE audit_events (
    id SERIAL PRIMARY KEY,
    at TIMESTAMP NOT NULL,
    actor TEXT NOT NULL,
    action TEXT NOT NULL CHECK (action IN ('sign_in', 'sign_in_failed', 'sign_out',
        'token_created', 'token_regenerated', 'token_revoked', 'user_created',
        'user_activated', 'user_deactivated', 'password_set', '2fa_enabled',
        '2fa_disabled', 'import')),
    user_id INTEGER REFERENCES users (id) ON DELETE SET NULL,
    username TEXT NOT NULL DEFAULT '',
    address TEXT NOT NULL,
    detail TEXT NOT NULL DEFAULT ''
);
CREATE INDEX audit_events_actor_idx ON audit_events (actor, id);
CREATE INDEX audit_events_action_idx ON audit_events (action, id);
CREATE INDEX audit_events_username_idx ON audit_events (username, id);

-- Sign-ins (API and admin) and failed ones per UTC hour, for the overview:
-- one upsert per sign-in attempt, nothing per API request.
CREATE TABLE sign_in_counts (
    hour TIMESTAMP PRIMARY KEY,
    ok INTEGER NOT NULL DEFAULT 0,
    failed INTEGER NOT NULL DEFAULT 0
);
