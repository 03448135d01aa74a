-- User groups: names unique per pool regardless of letter case (name_key is the lower-cased
-- name), the original spelling kept in name.
-- (No semicolons in comments: the migration runner splits statements on them.)
CREATE TABLE IF NOT EXISTS user_groups (
    pool_id TEXT NOT NULL REFERENCES user_pools(id) ON DELETE CASCADE,
    name_key TEXT NOT NULL,
    name TEXT NOT NULL,
    description TEXT,
    role_arn TEXT,
    precedence BIGINT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (pool_id, name_key)
);
CREATE TABLE IF NOT EXISTS group_members (
    pool_id TEXT NOT NULL,
    name_key TEXT NOT NULL,
    username_key TEXT NOT NULL,
    PRIMARY KEY (pool_id, name_key, username_key),
    FOREIGN KEY (pool_id, name_key) REFERENCES user_groups(pool_id, name_key) ON DELETE CASCADE,
    FOREIGN KEY (pool_id, username_key) REFERENCES users(pool_id, username_key) ON DELETE CASCADE
);
CREATE INDEX IF NOT EXISTS group_members_user ON group_members(pool_id, username_key, name_key);
