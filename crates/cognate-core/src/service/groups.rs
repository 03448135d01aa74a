//! User groups (spec vi.4): CreateGroup, GetGroup, UpdateGroup, DeleteGroup, ListGroups,
//! AdminAddUserToGroup, AdminRemoveUserFromGroup, ListUsersInGroup, AdminListGroupsForUser,
//! and the claims a user's groups put in tokens (`cognito:groups`, `cognito:roles`,
//! `cognito:preferred_role`).

use super::pools::{decode_token, page_limit, page_token};
use super::Service;
use crate::error::{DomainError, DomainResult};
use crate::events::GroupOverride;
use crate::records::{GroupRecord, MembershipOutcome, UserRecord};

/// A user may be in at most 100 groups (spec vi.4).
const MAX_GROUPS_PER_USER: i64 = 100;

/// What CreateGroup and UpdateGroup name; UpdateGroup changes only what is given.
#[derive(Clone, Debug, Default)]
pub struct GroupInput {
    pub pool_id: String,
    pub name: String,
    pub description: Option<String>,
    pub role_arn: Option<String>,
    pub precedence: Option<i64>,
}

/// The token claims of a user's groups: the names ordered by precedence (lower first, groups
/// without one last, then by name), the roles of those that have one in the same order, and
/// the preferred role: the role of the best-ranked group with a role, unless groups of the
/// same rank name different roles (the model's `Precedence` rules).
pub fn group_claims(groups: &[GroupRecord]) -> GroupOverride {
    let mut ordered: Vec<&GroupRecord> = groups.iter().collect();
    ordered.sort_by(|a, b| {
        (a.precedence.is_none(), a.precedence, a.name.to_lowercase()).cmp(&(
            b.precedence.is_none(),
            b.precedence,
            b.name.to_lowercase(),
        ))
    });
    let with_roles: Vec<&&GroupRecord> = ordered.iter().filter(|g| g.role_arn.is_some()).collect();
    let preferred_role = with_roles.first().and_then(|best| {
        let agree = with_roles
            .iter()
            .filter(|g| g.precedence == best.precedence)
            .all(|g| g.role_arn == best.role_arn);
        agree.then(|| best.role_arn.clone()).flatten()
    });
    GroupOverride {
        groups: ordered.iter().map(|g| g.name.clone()).collect(),
        iam_roles: ordered.iter().filter_map(|g| g.role_arn.clone()).collect(),
        preferred_role,
    }
}

fn group_not_found() -> DomainError {
    DomainError::GroupNotFound
}

impl Service {
    pub async fn create_group(&self, input: GroupInput) -> DomainResult<GroupRecord> {
        let pool = self.pool_settings(&input.pool_id).await?;
        let now = self.clock.now();
        let group = GroupRecord {
            pool_id: pool.id.clone(),
            name: input.name,
            description: input.description,
            role_arn: input.role_arn,
            precedence: input.precedence,
            created_at: now,
            updated_at: now,
        };
        if !self.store.insert_group(&group).await? {
            return Err(DomainError::GroupExists);
        }
        Ok(group)
    }

    pub async fn get_group(&self, pool_id: &str, name: &str) -> DomainResult<GroupRecord> {
        let pool = self.pool_settings(pool_id).await?;
        self.store
            .get_group(&pool.id, name)
            .await?
            .ok_or_else(group_not_found)
    }

    pub async fn update_group(&self, input: GroupInput) -> DomainResult<GroupRecord> {
        let current = self.get_group(&input.pool_id, &input.name).await?;
        let group = GroupRecord {
            description: input.description.or(current.description),
            role_arn: input.role_arn.or(current.role_arn),
            precedence: input.precedence.or(current.precedence),
            updated_at: self.clock.now(),
            ..current
        };
        if !self.store.update_group(&group).await? {
            return Err(group_not_found());
        }
        Ok(group)
    }

    /// Deletes a group, members or not: it leaves their future tokens (spec open question 4).
    pub async fn delete_group(&self, pool_id: &str, name: &str) -> DomainResult<()> {
        let pool = self.pool_settings(pool_id).await?;
        if !self.store.delete_group(&pool.id, name).await? {
            return Err(group_not_found());
        }
        Ok(())
    }

    pub async fn list_groups(
        &self,
        pool_id: &str,
        limit: Option<i32>,
        token: Option<&str>,
    ) -> DomainResult<(Vec<GroupRecord>, Option<String>)> {
        let pool = self.pool_settings(pool_id).await?;
        let after = token.map(decode_token).transpose()?;
        let limit = page_limit(limit);
        let mut groups = self
            .store
            .list_groups(&pool.id, after.as_deref(), limit + 1)
            .await?;
        let next = page_token(&mut groups, limit, |g| g.name.to_lowercase());
        Ok((groups, next))
    }

    pub async fn admin_add_user_to_group(
        &self,
        pool_id: &str,
        username: &str,
        group: &str,
    ) -> DomainResult<()> {
        let (pool, user) = self.admin_user(pool_id, username).await?;
        match self
            .store
            .add_to_group(&pool.id, group, &user.username_key, MAX_GROUPS_PER_USER)
            .await?
        {
            MembershipOutcome::Added => Ok(()),
            MembershipOutcome::NoGroup => Err(group_not_found()),
            MembershipOutcome::NoUser => Err(DomainError::UserNotFound),
            MembershipOutcome::TooManyGroups => Err(DomainError::TooManyGroups),
        }
    }

    pub async fn admin_remove_user_from_group(
        &self,
        pool_id: &str,
        username: &str,
        group: &str,
    ) -> DomainResult<()> {
        let (pool, user) = self.admin_user(pool_id, username).await?;
        if !self
            .store
            .remove_from_group(&pool.id, group, &user.username_key)
            .await?
        {
            return Err(group_not_found());
        }
        Ok(())
    }

    pub async fn list_users_in_group(
        &self,
        pool_id: &str,
        group: &str,
        limit: Option<i32>,
        token: Option<&str>,
    ) -> DomainResult<(Vec<UserRecord>, Option<String>)> {
        let pool = self.pool_settings(pool_id).await?;
        let after = token.map(decode_token).transpose()?;
        let limit = page_limit(limit);
        let mut users = self
            .store
            .group_members(&pool.id, group, after.as_deref(), limit + 1)
            .await?
            .ok_or_else(group_not_found)?;
        let next = page_token(&mut users, limit, |u| u.username_key.clone());
        Ok((users, next))
    }

    pub async fn admin_list_groups_for_user(
        &self,
        pool_id: &str,
        username: &str,
        limit: Option<i32>,
        token: Option<&str>,
    ) -> DomainResult<(Vec<GroupRecord>, Option<String>)> {
        let (pool, user) = self.admin_user(pool_id, username).await?;
        let after = token.map(decode_token).transpose()?;
        let limit = page_limit(limit);
        let mut groups: Vec<GroupRecord> = self
            .store
            .user_groups(&pool.id, &user.username_key)
            .await?
            .into_iter()
            .filter(|g| {
                after
                    .as_deref()
                    .is_none_or(|a| g.name.to_lowercase().as_str() > a)
            })
            .take(usize::try_from(limit + 1).unwrap_or(usize::MAX))
            .collect();
        let next = page_token(&mut groups, limit, |g| g.name.to_lowercase());
        Ok((groups, next))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn group(name: &str, precedence: Option<i64>, role: Option<&str>) -> GroupRecord {
        GroupRecord {
            pool_id: "p".into(),
            name: name.into(),
            description: None,
            role_arn: role.map(str::to_string),
            precedence,
            created_at: 0,
            updated_at: 0,
        }
    }

    #[test]
    fn groups_rank_by_precedence_and_the_single_best_one_gives_the_preferred_role() {
        let claims = group_claims(&[
            group("readers", None, Some("arn:r")),
            group("admins", Some(1), Some("arn:a")),
            group("staff", Some(5), None),
        ]);
        assert_eq!(claims.groups, ["admins", "staff", "readers"]);
        assert_eq!(claims.iam_roles, ["arn:a", "arn:r"]);
        assert_eq!(claims.preferred_role.as_deref(), Some("arn:a"));

        let tied = group_claims(&[
            group("a", Some(1), Some("arn:a")),
            group("b", Some(1), Some("arn:b")),
            group("c", Some(0), None),
        ]);
        assert_eq!(
            tied.preferred_role, None,
            "a tie of different roles names none"
        );
        let same = group_claims(&[
            group("a", Some(1), Some("arn:a")),
            group("b", Some(1), Some("arn:a")),
        ]);
        assert_eq!(same.preferred_role.as_deref(), Some("arn:a"));
        let unranked = group_claims(&[group("a", None, Some("arn:a"))]);
        assert_eq!(unranked.preferred_role.as_deref(), Some("arn:a"));
        assert!(group_claims(&[]).groups.is_empty());
    }
}
