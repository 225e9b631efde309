-- The first admin (auth::bootstrap): made once per database from the
-- admin_email and admin_password variables. This row says it happened (or
-- that an admin existed already), so it never happens again — not when the
-- admin's account is erased and its address registered anew, nor when the
-- variables change.
CREATE TABLE admin_bootstrap (
    id         INTEGER PRIMARY KEY CHECK (id = 1),
    user_id    TEXT NOT NULL,                    -- the admin made (or found)
    created_at INTEGER NOT NULL                  -- Unix ms
);
