-- A sign-in attempt is recorded before its password is checked: `pending`
-- until the check is over (a failure keeps the row, a success deletes it),
-- so parallel attempts cannot all pass the throttle before any is counted.
ALTER TABLE login_failures ADD COLUMN pending BOOLEAN NOT NULL DEFAULT 0;
