-- SQLite's FTS5 table for the admin's search; PostgreSQL has its pg_trgm
-- indexes (2026-12-03-080000_users_search) and needs nothing more.
SELECT 1;
