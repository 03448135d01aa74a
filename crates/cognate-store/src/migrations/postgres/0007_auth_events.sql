-- Authentication events as AdminListUserAuthEvents serves them (kept only for pools with
-- threat protection, UserPoolAddOns.AdvancedSecurityMode AUDIT or ENFORCED): an id to name
-- the event by, the device (the caller's user agent), and the feedback given on it.
-- (No semicolons in comments: the migration runner splits statements on them.)
ALTER TABLE user_events ADD COLUMN event_id TEXT;
ALTER TABLE user_events ADD COLUMN device_name TEXT;
ALTER TABLE user_events ADD COLUMN feedback_value TEXT;
ALTER TABLE user_events ADD COLUMN feedback_provider TEXT;
ALTER TABLE user_events ADD COLUMN feedback_at BIGINT;
