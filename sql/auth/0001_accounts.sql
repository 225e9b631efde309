-- Accounts, their role, and refresh-token families (DESIGN §2, §6).
-- Times are Unix milliseconds.

CREATE TABLE accounts (
    id            TEXT PRIMARY KEY,              -- usr_<ulid>
    email         TEXT NOT NULL,                 -- normalised (trimmed, lower-case); `erased:<id>` once erased
    password_hash TEXT,                          -- argon2id PHC string; NULL once erased
    role          TEXT NOT NULL DEFAULT 'customer'
                  CHECK (role IN ('customer', 'organizer', 'staff', 'admin')),
    created_at    INTEGER NOT NULL,
    updated_at    INTEGER NOT NULL,
    erased_at     INTEGER                        -- set when the owner deleted the account
);
CREATE UNIQUE INDEX accounts_email ON accounts (email);

-- One family per sign-in: every rotation of a refresh token stays in it, so
-- reuse of a rotated token, logout, or a password change ends the whole chain.
CREATE TABLE refresh_families (
    id             TEXT PRIMARY KEY,             -- rtf_<ulid>
    user_id        TEXT NOT NULL REFERENCES accounts (id),
    created_at     INTEGER NOT NULL,
    revoked_at     INTEGER,
    revoked_reason TEXT                          -- logout | logout-all | password-change | reuse | erased
);
CREATE INDEX refresh_families_user ON refresh_families (user_id, revoked_at);

-- Refresh tokens are stored only as SHA-256 hex of the opaque token.
CREATE TABLE refresh_tokens (
    token_hash  TEXT PRIMARY KEY,
    family_id   TEXT NOT NULL REFERENCES refresh_families (id),
    user_id     TEXT NOT NULL,
    issued_at   INTEGER NOT NULL,
    expires_at  INTEGER NOT NULL,
    rotated_at  INTEGER,                         -- set exactly once, by the request that rotated it
    replaced_by TEXT                             -- token_hash of the successor
);
CREATE INDEX refresh_tokens_family ON refresh_tokens (family_id);
