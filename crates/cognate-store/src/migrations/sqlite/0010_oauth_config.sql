-- User-pool domains: a name is unique across the server, and a pool has at most one domain
-- of each kind (kind is 'prefix' or 'custom', custom when there is a certificate).
-- Resource servers: identifiers unique per pool, the scopes a JSON list of name and description.
-- Both go with their pool.
-- (No semicolons in comments: the migration runner splits statements on them.)
CREATE TABLE IF NOT EXISTS user_pool_domains (
    domain TEXT NOT NULL PRIMARY KEY,
    pool_id TEXT NOT NULL REFERENCES user_pools(id) ON DELETE CASCADE,
    kind TEXT NOT NULL,
    certificate_arn TEXT,
    security_policy TEXT,
    managed_login_version BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE UNIQUE INDEX IF NOT EXISTS user_pool_domains_kind ON user_pool_domains(pool_id, kind);
CREATE TABLE IF NOT EXISTS resource_servers (
    pool_id TEXT NOT NULL REFERENCES user_pools(id) ON DELETE CASCADE,
    identifier TEXT NOT NULL,
    name TEXT NOT NULL,
    scopes TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (pool_id, identifier)
);
