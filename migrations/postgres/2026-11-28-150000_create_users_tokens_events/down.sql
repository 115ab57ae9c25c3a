DROP TABLE token_events;
DROP TABLE tokens;
DROP TABLE users;
