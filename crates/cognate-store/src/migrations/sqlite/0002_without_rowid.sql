-- The small per-user tables become clustered on their primary key (WITHOUT ROWID): a row and
-- its key live on one B-tree page, so writing a code, a counter or an alias changes one page
-- instead of two (the table's and its primary-key index's). Every write on the sign-up path
-- touches these tables, and their rows are small, which is where WITHOUT ROWID pays.
-- (No semicolons in comments: the migration runner splits statements on them.)
CREATE TABLE codes_clustered (
    pool_id TEXT NOT NULL,
    username_key TEXT NOT NULL,
    purpose TEXT NOT NULL,
    digest BLOB NOT NULL,
    attribute TEXT,
    expires_at INTEGER NOT NULL,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (pool_id, username_key, purpose),
    FOREIGN KEY (pool_id, username_key) REFERENCES users(pool_id, username_key) ON DELETE CASCADE
) WITHOUT ROWID;
INSERT INTO codes_clustered (pool_id, username_key, purpose, digest, attribute, expires_at, created_at)
    SELECT pool_id, username_key, purpose, digest, attribute, expires_at, created_at FROM codes;
DROP TABLE codes;
ALTER TABLE codes_clustered RENAME TO codes;
CREATE TABLE attempt_counters_clustered (
    pool_id TEXT NOT NULL,
    username_key TEXT NOT NULL,
    action TEXT NOT NULL,
    window_start INTEGER NOT NULL,
    count INTEGER NOT NULL,
    PRIMARY KEY (pool_id, username_key, action),
    FOREIGN KEY (pool_id, username_key) REFERENCES users(pool_id, username_key) ON DELETE CASCADE
) WITHOUT ROWID;
INSERT INTO attempt_counters_clustered (pool_id, username_key, action, window_start, count)
    SELECT pool_id, username_key, action, window_start, count FROM attempt_counters;
DROP TABLE attempt_counters;
ALTER TABLE attempt_counters_clustered RENAME TO attempt_counters;
CREATE TABLE user_aliases_clustered (
    pool_id TEXT NOT NULL,
    kind TEXT NOT NULL,
    value_key TEXT NOT NULL,
    username_key TEXT NOT NULL,
    PRIMARY KEY (pool_id, kind, value_key),
    FOREIGN KEY (pool_id, username_key) REFERENCES users(pool_id, username_key) ON DELETE CASCADE
) WITHOUT ROWID;
INSERT INTO user_aliases_clustered (pool_id, kind, value_key, username_key)
    SELECT pool_id, kind, value_key, username_key FROM user_aliases;
DROP TABLE user_aliases;
ALTER TABLE user_aliases_clustered RENAME TO user_aliases;
CREATE INDEX user_aliases_user ON user_aliases(pool_id, username_key)
