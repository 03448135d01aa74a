-- Hourly attempt counts for names that belong to no user, kept for clients that hide user
-- existence: a missing user then runs into the same limits as a real one, so the limits do
-- not tell which names exist.
-- (No semicolons in comments: the migration runner splits statements on them.)
CREATE TABLE IF NOT EXISTS name_attempt_counters (
    pool_id TEXT NOT NULL REFERENCES user_pools(id) ON DELETE CASCADE,
    name_key TEXT NOT NULL,
    action TEXT NOT NULL,
    window_start BIGINT NOT NULL,
    count BIGINT NOT NULL,
    PRIMARY KEY (pool_id, name_key, action)
);
