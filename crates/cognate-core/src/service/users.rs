//! Reading and removing users: AdminGetUser, AdminDeleteUser, ListUsers (with AWS's filter
//! syntax: `name = "value"` and `name ^= "value"`).

use super::pools::{decode_token, page_limit, page_token};
use super::Service;
use crate::error::{DomainError, DomainResult, Invalid};
use crate::records::{FilterField, FilterOp, UserFilter, UserRecord};
use crate::settings::PoolSettings;

/// The attributes ListUsers can search by (AWS's list).
const SEARCHABLE: &[&str] = &[
    "username",
    "email",
    "phone_number",
    "name",
    "given_name",
    "family_name",
    "preferred_username",
    "cognito:user_status",
    "status",
    "sub",
];

/// ListUsers' `Filter` (spec vi.5): `<attribute> <op> "<value>"`, `op` `=` or `^=`, spaces
/// around the operator optional, `\"` and `\\` escapes inside the quoted value, one attribute;
/// an empty filter lists everyone.
pub fn parse_filter(filter: &str) -> DomainResult<Option<UserFilter>> {
    let filter = filter.trim();
    if filter.is_empty() {
        return Ok(None);
    }
    let invalid = || DomainError::Invalid(Invalid::FilterSyntax);
    let name_end = filter
        .find(|c: char| c.is_whitespace() || c == '=' || c == '^')
        .ok_or_else(invalid)?;
    let name = filter[..name_end].trim_matches('"');
    let rest = filter[name_end..].trim_start();
    let (op, rest) = if let Some(rest) = rest.strip_prefix("^=") {
        (FilterOp::StartsWith, rest)
    } else if let Some(rest) = rest.strip_prefix('=') {
        (FilterOp::Equals, rest)
    } else {
        return Err(invalid());
    };
    let quoted = rest.trim_start();
    let inner = quoted.strip_prefix('"').ok_or_else(invalid)?;
    let mut value = String::new();
    let mut chars = inner.chars();
    let mut closed = false;
    while let Some(c) = chars.next() {
        match c {
            '\\' => value.push(chars.next().ok_or_else(invalid)?),
            '"' => {
                closed = true;
                break;
            }
            c => value.push(c),
        }
    }
    // Nothing may follow the closing quote: one attribute per filter.
    if !closed || !chars.as_str().trim().is_empty() {
        return Err(invalid());
    }
    if !SEARCHABLE.contains(&name) {
        return Err(DomainError::Invalid(Invalid::SearchAttribute {
            name: name.to_string(),
        }));
    }
    let field = match name {
        "username" => FilterField::Username,
        "sub" => FilterField::Sub,
        // Statuses are matched whatever their letter case (spec vi.5).
        "cognito:user_status" => {
            value = value.to_uppercase();
            FilterField::UserStatus
        }
        "status" => FilterField::Enabled,
        other => FilterField::Attribute(other.to_string()),
    };
    Ok(Some(UserFilter { field, op, value }))
}

/// A user's attributes as the API shows them: `sub` first, then the stored attributes, only
/// those named in `only` when given (AttributesToGet).
pub fn visible_attributes(user: &UserRecord, only: Option<&[String]>) -> Vec<(String, String)> {
    let mut list = vec![("sub".to_string(), user.sub.clone())];
    list.extend(user.attributes.iter().map(|(k, v)| (k.clone(), v.clone())));
    list.retain(|(k, _)| only.is_none_or(|names| names.iter().any(|n| n == k)));
    list
}

impl Service {
    pub async fn admin_get_user(&self, pool_id: &str, username: &str) -> DomainResult<UserRecord> {
        self.admin_user(pool_id, username)
            .await
            .map(|(_, user)| user)
    }

    /// The pool an admin call names and the user it names there (`UserNotFound` when none:
    /// admin calls never hide existence).
    pub(super) async fn admin_user(
        &self,
        pool_id: &str,
        username: &str,
    ) -> DomainResult<(PoolSettings, UserRecord)> {
        let pool = self.pool_settings(pool_id).await?;
        let user = self
            .find_user(&pool, username)
            .await?
            .ok_or(DomainError::UserNotFound)?;
        Ok((pool, user))
    }

    pub async fn admin_delete_user(&self, pool_id: &str, username: &str) -> DomainResult<()> {
        let (pool, user) = self.admin_user(pool_id, username).await?;
        if !self.store.delete_user(&pool.id, &user.username_key).await? {
            return Err(DomainError::UserNotFound);
        }
        Ok(())
    }

    /// AdminDisableUser / AdminEnableUser. Disabling signs the user out everywhere: refresh
    /// tokens are revoked and access tokens issued before are refused, also after the user is
    /// enabled again (spec vi.2).
    pub async fn admin_set_user_enabled(
        &self,
        pool_id: &str,
        username: &str,
        enabled: bool,
    ) -> DomainResult<()> {
        let (pool, user) = self.admin_user(pool_id, username).await?;
        if !self
            .store
            .set_user_enabled(&pool.id, &user.username_key, enabled, self.clock.now())
            .await?
        {
            return Err(DomainError::UserNotFound);
        }
        Ok(())
    }

    /// One page of a pool's users (filtered), and the token of the next page.
    pub async fn list_users(
        &self,
        pool_id: &str,
        filter: Option<&str>,
        limit: Option<i32>,
        token: Option<&str>,
    ) -> DomainResult<(Vec<UserRecord>, Option<String>)> {
        let pool = self.pool_settings(pool_id).await?;
        let mut filter = filter.map(parse_filter).transpose()?.flatten();
        if let Some(f) = &mut filter {
            if matches!(f.field, FilterField::Username) {
                f.value = pool.username_key(&f.value);
            }
        }
        let after = token.map(decode_token).transpose()?;
        let limit = page_limit(limit);
        let mut users = self
            .store
            .list_users(&pool.id, filter.as_ref(), after.as_deref(), limit + 1)
            .await?;
        let next = page_token(&mut users, limit, |u| u.username_key.clone());
        Ok((users, next))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filters_parse() {
        let f = parse_filter("email = \"a@b.com\"").unwrap().unwrap();
        assert!(matches!(f.field, FilterField::Attribute(ref n) if n == "email"));
        assert_eq!(f.op, FilterOp::Equals);
        assert_eq!(f.value, "a@b.com");
        let f = parse_filter("username ^= \"jo\"").unwrap().unwrap();
        assert!(matches!(f.field, FilterField::Username));
        assert_eq!(f.op, FilterOp::StartsWith);
        let f = parse_filter("cognito:user_status=\"UNCONFIRMED\"")
            .unwrap()
            .unwrap();
        assert!(matches!(f.field, FilterField::UserStatus));
        assert!(parse_filter("").unwrap().is_none());
        assert!(parse_filter("email \"x\"").is_err());
        assert!(parse_filter("custom:x = \"1\"").is_err());
        // Operators inside the value are value; escapes; case-insensitive statuses.
        let f = parse_filter(r#"name="a ^= \"b\" \\ c""#).unwrap().unwrap();
        assert_eq!(f.value, r#"a ^= "b" \ c"#);
        let f = parse_filter("cognito:user_status = \"confirmed\"")
            .unwrap()
            .unwrap();
        assert_eq!(f.value, "CONFIRMED");
        for broken in [
            "email = \"x",
            "email = \"x\" and name = \"y\"",
            "email == \"x\"",
            "email = x",
            "= \"x\"",
        ] {
            assert!(parse_filter(broken).is_err(), "{broken}");
        }
    }
}
