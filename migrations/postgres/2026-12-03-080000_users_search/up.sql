-- The admin's search finds a substring of a username or e-mail,
-- case-insensitively: trigram indexes on the lower-cased columns answer
-- `lower(x) LIKE '%q%'` without reading every row. pg_trgm is a trusted
-- extension: the database's owner may create it.
CREATE EXTENSION IF NOT EXISTS pg_trgm;
CREATE INDEX users_username_trgm_idx ON users USING gin (lower(username) gin_trgm_ops);
CREATE INDEX users_email_trgm_idx ON users USING gin (lower(email) gin_trgm_ops);
