-- PostgreSQL gets trigram indexes for the admin's search in this version.
-- SQLite gets nothing yet: an FTS5 trigram table kept by triggers made
-- concurrent sign-ups fail with "database is locked" (see the notes of
-- issue 13); SQLite's search still reads every row.
SELECT 1;
