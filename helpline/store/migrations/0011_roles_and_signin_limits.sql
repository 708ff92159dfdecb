-- Roles held explicitly, and who created each account: an admin is not a supervisor unless the account holds
-- both roles, and dual control asks whether the approver of a disclosure was created by its requester.
-- Accounts that were 'admin' become admin only (they no longer read conversations); give an account both
-- roles with `helpline user roles NAME --role admin --role supervisor`.
ALTER TABLE users ADD COLUMN roles TEXT NOT NULL DEFAULT '';  -- space-separated: volunteer, supervisor, admin
UPDATE users SET roles = role;
ALTER TABLE users DROP COLUMN role;
ALTER TABLE users ADD COLUMN created_by TEXT REFERENCES users (id);  -- NULL: made on the command line

-- Sign-in attempts, counted before each is checked, per username and per network. The key is a keyed HMAC
-- of the username or of the network (never either in plaintext), so unknown names are counted exactly as
-- existing ones and a copy of the database names no address.
ALTER TABLE users DROP COLUMN failed_logins;
ALTER TABLE users DROP COLUMN last_failed_at;
ALTER TABLE users DROP COLUMN locked;
CREATE TABLE signin_limits (
    key          BLOB PRIMARY KEY,
    attempts     INTEGER NOT NULL,  -- counted in the window; a success takes its own back
    window_start TEXT NOT NULL,     -- the first attempt of the window; the count starts again after it
    retry_at     TEXT,              -- no attempt is counted before this (growing delays after failures)
    locked_until TEXT               -- a lock: no attempt is counted before this
);
