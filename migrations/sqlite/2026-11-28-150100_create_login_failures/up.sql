-- Failed sign-ins, counted per (client address, username) in the database so
-- that every server process sharing it sees the same count.
CREATE TABLE login_failures (
    id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    scope TEXT NOT NULL,
    at TIMESTAMP NOT NULL
);
CREATE INDEX login_failures_scope_idx ON login_failures (scope, at);
