//! Bulk loading for benchmarks and migrations from elsewhere: many users in one transaction,
//! written with multi-row `INSERT` statements. Not used on any request path.

use cognate_core::records::NewUser;

use crate::db::{params, Param, Tx};
use crate::{user_row, Result, Store, USER_COLUMNS, USER_COLUMN_COUNT};

/// Rows per multi-row `INSERT` (12 parameters per user row: 6,000 parameters per statement,
/// well inside both SQLite's and PostgreSQL's limits).
const USER_ROWS_PER_STATEMENT: usize = 500;
/// Rows per multi-row `INSERT` for alias claims and codes (4 and 7 parameters per row).
const SMALL_ROWS_PER_STATEMENT: usize = 500;

/// `($1, $2, …), ($k+1, …), …` for `rows` rows of `columns` parameters.
pub(crate) fn placeholders(rows: usize, columns: usize) -> String {
    let mut out = String::with_capacity(rows * columns * 6);
    for r in 0..rows {
        if r > 0 {
            out.push_str(", ");
        }
        out.push('(');
        for c in 0..columns {
            if c > 0 {
                out.push_str(", ");
            }
            out.push('$');
            out.push_str(&(r * columns + c + 1).to_string());
        }
        out.push(')');
    }
    out
}

impl Store {
    /// Inserts `batch` (users, their alias claims and codes; events are not recorded) in one
    /// transaction. Any conflict (a taken username, `sub` or alias) fails the whole batch and
    /// leaves nothing behind. Returns the number of users inserted.
    pub async fn insert_users_bulk(&self, batch: &[NewUser]) -> Result<u64> {
        let batch = batch.to_vec();
        self.db
            .transact(move |tx, _dialect| insert_users_in(tx, &batch))
            .await
    }
}

fn insert_users_in(tx: &mut dyn Tx, batch: &[NewUser]) -> Result<u64> {
    let mut inserted = 0u64;
    for chunk in batch.chunks(USER_ROWS_PER_STATEMENT) {
        let sql = format!(
            "INSERT INTO users ({USER_COLUMNS}) VALUES {}",
            placeholders(chunk.len(), USER_COLUMN_COUNT)
        );
        let params: Vec<Param> = chunk.iter().flat_map(|new| user_row(&new.user)).collect();
        inserted += tx.execute(&sql, params)?;
    }

    let aliases: Vec<Param> = batch
        .iter()
        .flat_map(|new| {
            new.aliases.iter().flat_map(move |(kind, value_key)| {
                params![
                    &new.user.pool_id,
                    kind.as_str(),
                    value_key,
                    &new.user.username_key
                ]
            })
        })
        .collect();
    for chunk in aliases.chunks(SMALL_ROWS_PER_STATEMENT * 4) {
        let sql = format!(
            "INSERT INTO user_aliases (pool_id, kind, value_key, username_key) VALUES {}",
            placeholders(chunk.len() / 4, 4)
        );
        tx.execute(&sql, chunk.to_vec())?;
    }

    let codes: Vec<Param> = batch
        .iter()
        .filter_map(|new| {
            let code = new.code.as_ref()?;
            Some(params![
                &new.user.pool_id,
                &new.user.username_key,
                &code.purpose,
                code.digest.as_slice(),
                code.attribute.clone(),
                code.expires_at,
                code.created_at
            ])
        })
        .flatten()
        .collect();
    for chunk in codes.chunks(SMALL_ROWS_PER_STATEMENT * 7) {
        let sql = format!(
            "INSERT INTO codes (pool_id, username_key, purpose, digest, attribute, expires_at, created_at) VALUES {}",
            placeholders(chunk.len() / 7, 7)
        );
        tx.execute(&sql, chunk.to_vec())?;
    }
    Ok(inserted)
}

#[cfg(test)]
mod tests {
    use super::placeholders;
    use crate::*;
    use cognate_core::ports::Directory;
    use cognate_core::records::*;
    use std::collections::BTreeMap;

    fn user(pool: &str, name: &str, sub: &str) -> NewUser {
        let mut attributes = BTreeMap::new();
        attributes.insert("email".to_string(), format!("{name}@example.com"));
        NewUser {
            user: UserRecord {
                pool_id: pool.to_string(),
                username_key: name.to_string(),
                username: name.to_string(),
                sub: sub.to_string(),
                status: UserStatus::Confirmed,
                enabled: true,
                attributes,
                password_hash: Some("$argon2id$x".to_string()),
                srp_salt: None,
                srp_verifier: None,
                created_at: 1,
                updated_at: 1,
                password_set_at: Some(1),
                signed_out_at: None,
                pending_attributes: BTreeMap::new(),
            },
            aliases: vec![(AliasKind::Email, format!("{name}@example.com"))],
            moved_aliases: vec![],
            code: None,
            event: None,
            outbox: None,
        }
    }

    #[tokio::test]
    async fn bulk_inserts_many_users_and_rolls_back_a_conflicting_batch() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&sqlite_url_for_dir(dir.path()), &StoreOptions::default())
            .await
            .unwrap();
        let pool = "us-east-1_bulk";
        store
            .insert_pool(&PoolRecord {
                id: pool.into(),
                name: "bulk".into(),
                config: "{}".into(),
                created_at: 1,
                updated_at: 1,
            })
            .await
            .unwrap();
        // More than one multi-row statement's worth.
        let batch: Vec<NewUser> = (0..1_234)
            .map(|i| user(pool, &format!("u{i:05}"), &format!("sub-{i}")))
            .collect();
        assert_eq!(store.insert_users_bulk(&batch).await.unwrap(), 1_234);
        let u = store.get_user(pool, "u01233").await.unwrap().unwrap();
        assert_eq!(u.sub, "sub-1233");
        assert_eq!(u.status, UserStatus::Confirmed);
        assert_eq!(u.attributes["email"], "u01233@example.com");
        let by_alias = store
            .get_user_by_alias(pool, AliasKind::Email, "u00007@example.com")
            .await
            .unwrap()
            .unwrap();
        assert_eq!(by_alias.username, "u00007");

        // A batch whose last user clashes with an existing username leaves nothing behind.
        let clash = vec![
            user(pool, "fresh", "sub-fresh"),
            user(pool, "u00000", "sub-x"),
        ];
        assert!(store.insert_users_bulk(&clash).await.is_err());
        assert!(store.get_user(pool, "fresh").await.unwrap().is_none());
        store.close().await;
    }

    #[test]
    fn placeholders_number_every_parameter_once() {
        assert_eq!(placeholders(1, 2), "($1, $2)");
        assert_eq!(placeholders(2, 3), "($1, $2, $3), ($4, $5, $6)");
    }
}
