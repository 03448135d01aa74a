-- When the user's current password was set (a temporary password expires after the pool's
-- TemporaryPasswordValidityDays), and when the user was last signed out everywhere (access
-- tokens issued before it are refused, also those that carry no origin_jti).
-- (No semicolons in comments: the migration runner splits statements on them.)
ALTER TABLE users ADD COLUMN password_set_at BIGINT;
ALTER TABLE users ADD COLUMN signed_out_at BIGINT;
-- The sweep deletes expired sign-in rows by these times, a batch at a time.
CREATE INDEX IF NOT EXISTS auth_sessions_expiry ON auth_sessions(expires_at);
CREATE INDEX IF NOT EXISTS refresh_tokens_expiry ON refresh_tokens(expires_at);
CREATE INDEX IF NOT EXISTS sign_in_failures_age ON sign_in_failures(last_failure_at);
