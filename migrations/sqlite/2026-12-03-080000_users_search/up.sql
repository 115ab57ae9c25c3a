-- The admin's search finds a substring of a username or e-mail. A trigram
-- index answers that without reading every row (FTS5's trigram tokenizer,
-- case-insensitive); triggers keep it in step with `users`.
CREATE VIRTUAL TABLE users_search USING fts5(
    username, email, content = 'users', content_rowid = 'id', tokenize = 'trigram'
);
INSERT INTO users_search (users_search) VALUES ('rebuild');
CREATE TRIGGER users_search_insert AFTER INSERT ON users BEGIN
    INSERT INTO users_search (rowid, username, email) VALUES (new.id, new.username, new.email);
END;
CREATE TRIGGER users_search_delete AFTER DELETE ON users BEGIN
    INSERT INTO users_search (users_search, rowid, username, email)
    VALUES ('delete', old.id, old.username, old.email);
END;
CREATE TRIGGER users_search_update AFTER UPDATE OF username, email ON users BEGIN
    INSERT INTO users_search (users_search, rowid, username, email)
    VALUES ('delete', old.id, old.username, old.email);
    INSERT INTO users_search (rowid, username, email) VALUES (new.id, new.username, new.email);
END;
