-- A client's revision goes up by one with every change to its settings or to its pool's.
-- Requests read it from this index, without the settings JSON, and reuse the settings they
-- parsed at that revision.
-- (No semicolons in comments: the migration runner splits statements on them.)
ALTER TABLE user_pool_clients ADD COLUMN revision BIGINT NOT NULL DEFAULT 0;
CREATE INDEX user_pool_clients_revision ON user_pool_clients(client_id, revision)
