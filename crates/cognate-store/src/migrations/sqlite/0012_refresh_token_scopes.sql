-- The scopes an OAuth grant gave, kept with its refresh token so that refreshed access
-- tokens carry the same scope claim. NULL for refresh tokens of the API sign-in flows,
-- whose tokens carry aws.cognito.signin.user.admin.
-- (No semicolons in comments: the migration runner splits statements on them.)
ALTER TABLE refresh_tokens ADD COLUMN scopes TEXT;
