DROP TABLE users_search;
