-- E-mail verification of new accounts (issue 13, item 7, second half).
-- `email_verified_ms` is when the account proved it receives mail at its
-- address (NULL = not yet): by a verification link, or by a completed
-- password reset (that link reached the address too). The configured first
-- admin counts as verified: the operator set that address (auth::bootstrap);
-- admins already made are marked here.
ALTER TABLE accounts ADD COLUMN email_verified_ms INTEGER;
UPDATE accounts SET email_verified_ms = created_at WHERE role = 'admin' AND erased_at IS NULL;

-- Verification links: like password_resets, 256-bit tokens stored only as
-- their SHA-256 (hex), each valid for 24 hours. A resend replaces the
-- account's earlier unused tokens; a verification uses one with a
-- conditional UPDATE. A used token is kept (`used_ms`) so that opening the
-- link again while it is valid answers "verified" again (double clicks,
-- mail scanners that open links first).
CREATE TABLE email_verifications (
    token_hash  TEXT PRIMARY KEY,
    user_id     TEXT NOT NULL REFERENCES accounts (id),
    created_ms  INTEGER NOT NULL,
    expires_ms  INTEGER NOT NULL,
    used_ms     INTEGER
);
CREATE INDEX email_verifications_by_user ON email_verifications (user_id);
