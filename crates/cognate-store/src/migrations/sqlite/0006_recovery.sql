-- Attribute values waiting for verification (pools whose
-- UserAttributeUpdateSettings.AttributesRequireVerificationBeforeUpdate names them): the
-- stored value stays in force until VerifyUserAttribute applies the pending one. JSON object,
-- NULL when nothing is pending.
-- (No semicolons in comments: the migration runner splits statements on them.)
ALTER TABLE users ADD COLUMN pending_attributes TEXT;
-- Previous password hashes, for the pool's PasswordHistorySize, numbered per user in the
-- order they were replaced (several may be replaced within one second).
CREATE TABLE IF NOT EXISTS password_history (
    pool_id TEXT NOT NULL,
    username_key TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    seq BIGINT NOT NULL,
    replaced_at BIGINT NOT NULL,
    PRIMARY KEY (pool_id, username_key, password_hash),
    FOREIGN KEY (pool_id, username_key) REFERENCES users(pool_id, username_key) ON DELETE CASCADE
);
