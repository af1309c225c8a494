//! Agent aliases: the names under which a user appears as the agent of a recording (a
//! display name, a SIP address of record, an extension). Storage only.

use sqlx::Row;

use crate::catalog::Catalog;
use crate::error::VaultError;

/// Aliases are compared case-insensitively, without surrounding white space.
pub fn alias_key(alias: &str) -> String {
    alias.trim().to_lowercase()
}

impl Catalog {
    /// Replaces a user's aliases; `Conflict` when another user of the tenant has one of them.
    pub async fn set_agent_aliases(&self, tenant: &str, user: &str, aliases: &[String]) -> Result<(), VaultError> {
        let mut tx = self.pool().begin_with("BEGIN IMMEDIATE").await?;
        sqlx::query("DELETE FROM agent_aliases WHERE tenant = ? AND user_name = ?")
            .bind(tenant)
            .bind(user)
            .execute(&mut *tx)
            .await?;
        for alias in aliases {
            let key = alias_key(alias);
            if key.is_empty() {
                continue;
            }
            let taken: Option<(String,)> =
                sqlx::query_as("SELECT user_name FROM agent_aliases WHERE tenant = ? AND alias = ?")
                    .bind(tenant)
                    .bind(&key)
                    .fetch_optional(&mut *tx)
                    .await?;
            match taken {
                Some((other,)) if other != user => {
                    return Err(VaultError::Conflict(format!(
                        "agent alias {alias:?} already belongs to user {other:?}"
                    )));
                }
                Some(_) => continue,
                None => {}
            }
            sqlx::query("INSERT INTO agent_aliases (tenant, alias, user_name) VALUES (?, ?, ?)")
                .bind(tenant)
                .bind(&key)
                .bind(user)
                .execute(&mut *tx)
                .await
                .map_err(|err| match &err {
                    sqlx::Error::Database(db) if db.is_foreign_key_violation() => {
                        VaultError::NotFound(format!("user {user:?}"))
                    }
                    _ => err.into(),
                })?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// A user's aliases, sorted.
    pub async fn agent_aliases(&self, tenant: &str, user: &str) -> Result<Vec<String>, VaultError> {
        let rows = sqlx::query("SELECT alias FROM agent_aliases WHERE tenant = ? AND user_name = ? ORDER BY alias")
            .bind(tenant)
            .bind(user)
            .fetch_all(self.pool())
            .await?;
        rows.iter().map(|r| Ok(r.try_get("alias")?)).collect()
    }
}
