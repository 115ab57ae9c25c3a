-- What `authtoken import-django` last took from the Django database, per
-- imported user: a second import compares the source with this, never with
-- the user as they are now, so what happened here since (a hash upgraded at
-- sign-in, a key created at sign-in) stays unless Django changed that field.
-- The password hash and the token key are kept only as SHA-256 digests.
CREATE TABLE django_imports (
    user_id INTEGER PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    username TEXT NOT NULL,
    email TEXT NOT NULL,
    first_name TEXT NOT NULL,
    last_name TEXT NOT NULL,
    password_digest TEXT NOT NULL,
    is_active BOOLEAN NOT NULL,
    is_staff BOOLEAN NOT NULL,
    is_superuser BOOLEAN NOT NULL,
    date_joined TIMESTAMP NOT NULL,
    last_login TIMESTAMP,
    token_digest TEXT,
    token_created TIMESTAMP,
    imported_at TIMESTAMP NOT NULL
);
