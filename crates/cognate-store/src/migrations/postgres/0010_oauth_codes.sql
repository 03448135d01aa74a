-- Authorization codes of the OAuth 2.0 code flow: stored by the keyed digest of the code
-- (never the code), with what the code grants. consumed_at is set once, by an UPDATE that
-- requires it unset, so two exchanges of one code cannot both succeed on any instance.
-- Managed-login sessions: the keyed digest of the session cookie, the user, the expiry.
-- Both go with their pool.
-- (No semicolons in comments: the migration runner splits statements on them.)
CREATE TABLE IF NOT EXISTS oauth_codes (
    digest BYTEA NOT NULL PRIMARY KEY,
    pool_id TEXT NOT NULL REFERENCES user_pools(id) ON DELETE CASCADE,
    client_id TEXT NOT NULL,
    username_key TEXT NOT NULL,
    redirect_uri TEXT NOT NULL,
    scopes TEXT NOT NULL,
    nonce TEXT,
    code_challenge TEXT,
    code_challenge_method TEXT,
    auth_time BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    consumed_at BIGINT
);
CREATE INDEX IF NOT EXISTS oauth_codes_expiry ON oauth_codes(expires_at);
CREATE TABLE IF NOT EXISTS login_sessions (
    digest BYTEA NOT NULL PRIMARY KEY,
    pool_id TEXT NOT NULL REFERENCES user_pools(id) ON DELETE CASCADE,
    username_key TEXT NOT NULL,
    auth_time BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);
CREATE INDEX IF NOT EXISTS login_sessions_expiry ON login_sessions(expires_at);
