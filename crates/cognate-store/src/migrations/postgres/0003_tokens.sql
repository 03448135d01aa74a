-- Token signing keys: two per pool (ID and access tokens, separate kids as on AWS), kept in
-- the database so every instance signs and verifies with the same keys. A retired key stays
-- (and stays in the JWKS) until the tokens it signed have expired.
-- (No semicolons in comments: the migration runner splits statements on them.)
CREATE TABLE IF NOT EXISTS signing_keys (
    pool_id TEXT NOT NULL REFERENCES user_pools(id) ON DELETE CASCADE,
    kid TEXT NOT NULL,
    token_use TEXT NOT NULL,
    private_key BYTEA NOT NULL,
    created_at BIGINT NOT NULL,
    retired_at BIGINT,
    PRIMARY KEY (pool_id, kid)
);
-- Refresh tokens, by the keyed digest of the opaque token (the token itself is never stored).
CREATE TABLE IF NOT EXISTS refresh_tokens (
    digest BYTEA PRIMARY KEY,
    pool_id TEXT NOT NULL,
    username_key TEXT NOT NULL,
    client_id TEXT NOT NULL,
    origin_jti TEXT NOT NULL,
    auth_time BIGINT NOT NULL,
    issued_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    revoked_at BIGINT,
    FOREIGN KEY (pool_id, username_key) REFERENCES users(pool_id, username_key) ON DELETE CASCADE
);
CREATE INDEX IF NOT EXISTS refresh_tokens_user ON refresh_tokens(pool_id, username_key)
;
-- Access tokens name their refresh token's origin_jti: a revoked origin revokes them too.
CREATE INDEX IF NOT EXISTS refresh_tokens_origin ON refresh_tokens(origin_jti);
-- Failed password checks in a row, per user (or per name given, for names of no user, so
-- that a missing user locks out like a real one). No foreign key to users for that reason.
CREATE TABLE IF NOT EXISTS sign_in_failures (
    pool_id TEXT NOT NULL REFERENCES user_pools(id) ON DELETE CASCADE,
    name_key TEXT NOT NULL,
    failures BIGINT NOT NULL,
    last_failure_at BIGINT NOT NULL,
    PRIMARY KEY (pool_id, name_key)
)
;
-- A sign-in's challenge between its two calls (PASSWORD_VERIFIER), by the keyed digest of the
-- opaque block the client echoes back: single-use, and expiring with the client's
-- AuthSessionValidity, on every instance. No foreign key to users: a client that hides
-- existence gets a challenge for a name of no user too.
CREATE TABLE IF NOT EXISTS auth_sessions (
    digest BYTEA PRIMARY KEY,
    pool_id TEXT NOT NULL REFERENCES user_pools(id) ON DELETE CASCADE,
    client_id TEXT NOT NULL,
    name_key TEXT NOT NULL,
    challenge TEXT NOT NULL,
    state TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    used_at BIGINT
)
