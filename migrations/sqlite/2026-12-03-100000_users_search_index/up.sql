-- The admin's search finds a substring of a username or e-mail. FTS5's
-- trigram index finds the candidates of a query of three characters or
-- more without reading every row; the search then applies its own LIKE to
-- them, so the results are those of the scan.
--
-- The application keeps this table in step, in the transactions that write
-- users (`models::user_search`), not triggers: with triggers, concurrent
-- sign-ups failed at once with "database is locked" (reverted in b968406).
-- The application writes here only after its INSERT INTO users has taken
-- the write lock, so nothing of FTS5 runs before the lock is held.
CREATE VIRTUAL TABLE users_search USING fts5(
    username, email, content = 'users', content_rowid = 'id', tokenize = 'trigram'
);
INSERT INTO users_search (users_search) VALUES ('rebuild');
