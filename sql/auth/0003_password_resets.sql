-- "Forgot password" (issue 13, item 7): single-use reset tokens, stored
-- only as their SHA-256 (hex), each valid for at most an hour. A new
-- request replaces the account's earlier unused tokens; a reset uses one
-- with a conditional UPDATE, so two uses at once cannot both succeed.
CREATE TABLE password_resets (
    token_hash  TEXT PRIMARY KEY,
    user_id     TEXT NOT NULL REFERENCES accounts (id),
    created_ms  INTEGER NOT NULL,
    expires_ms  INTEGER NOT NULL,
    used_ms     INTEGER
);
CREATE INDEX password_resets_by_user ON password_resets (user_id);
