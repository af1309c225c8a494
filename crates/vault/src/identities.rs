//! Identities in the catalog: users, teams and memberships, training attestations,
//! access grants, tokens (hashes only) and failed sign-ins. Storage only: who may
//! do what is decided in `governance::identity`. Portable SQL.

use chrono::{DateTime, NaiveDate, Utc};
use governance::identity::{
    AccessGrant, GrantScope, Grantee, Membership, MembershipKind, PasswordHashText, StoredToken, Team, TokenKind,
    TrainingAttestation, User, UserStatus,
};
use sqlx::Row;
use sqlx::sqlite::SqliteRow;
use uuid::Uuid;

use crate::catalog::{Catalog, ts};
use crate::error::VaultError;

/// A stored user with its credential state.
#[derive(Clone, PartialEq, Eq)]
pub struct UserRecord {
    pub user: User,
    pub password_hash: Option<PasswordHashText>,
    pub credential_epoch: i64,
    pub created_at: DateTime<Utc>,
    pub created_by: String,
    pub updated_at: DateTime<Utc>,
}

impl std::fmt::Debug for UserRecord {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UserRecord")
            .field("user", &self.user)
            .field("has_password", &self.password_hash.is_some())
            .field("credential_epoch", &self.credential_epoch)
            .finish_non_exhaustive()
    }
}

/// A user to insert.
#[derive(Debug, Clone)]
pub struct NewUser<'a> {
    pub tenant: &'a str,
    pub name: &'a str,
    pub roles: &'a [String],
    pub team: Option<&'a str>,
    pub password_hash: Option<&'a PasswordHashText>,
    pub created_by: &'a str,
    pub at: DateTime<Utc>,
}

fn parse_ts(text: &str) -> Result<DateTime<Utc>, VaultError> {
    DateTime::parse_from_rfc3339(text)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|_| VaultError::Corrupt(format!("bad timestamp {text:?} in catalog")))
}

fn parse_opt_ts(text: Option<String>) -> Result<Option<DateTime<Utc>>, VaultError> {
    text.as_deref().map(parse_ts).transpose()
}

fn parse_uuid(text: &str) -> Result<Uuid, VaultError> {
    Uuid::parse_str(text).map_err(|_| VaultError::Corrupt(format!("bad id {text:?} in catalog")))
}

fn roles_json(roles: &[String]) -> String {
    serde_json::to_string(roles).expect("strings serialise")
}

/// Whether an error is a uniqueness or primary-key violation.
fn is_unique_violation(err: &sqlx::Error) -> bool {
    matches!(err, sqlx::Error::Database(db) if db.is_unique_violation())
}

impl Catalog {
    // ---- users -------------------------------------------------------------------

    /// Inserts a user (and its team membership) in one transaction.
    pub async fn insert_user(&self, new: &NewUser<'_>) -> Result<(), VaultError> {
        let mut tx = self.pool().begin_with("BEGIN IMMEDIATE").await?;
        insert_user_in(&mut tx, new).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Inserts a tenant's first administrator; `Conflict` when the tenant already has one.
    pub async fn insert_first_administrator(&self, new: &NewUser<'_>) -> Result<(), VaultError> {
        let mut tx = self.pool().begin_with("BEGIN IMMEDIATE").await?;
        let rows = sqlx::query("SELECT roles FROM users WHERE tenant = ?")
            .bind(new.tenant)
            .fetch_all(&mut *tx)
            .await?;
        for row in rows {
            let roles: Vec<String> = serde_json::from_str(&row.try_get::<String, _>("roles")?)
                .map_err(|_| VaultError::Corrupt("bad roles list in catalog".into()))?;
            if roles.iter().any(|r| r == "administrator") {
                return Err(VaultError::Conflict(format!(
                    "tenant {:?} already has an administrator",
                    new.tenant
                )));
            }
        }
        insert_user_in(&mut tx, new).await?;
        tx.commit().await?;
        Ok(())
    }

    /// One user, with its team.
    pub async fn user(&self, tenant: &str, name: &str) -> Result<Option<UserRecord>, VaultError> {
        let row = sqlx::query(&format!("{USER_SELECT} WHERE u.tenant = ? AND u.name = ?"))
            .bind(tenant)
            .bind(name)
            .fetch_optional(self.pool())
            .await?;
        row.as_ref().map(user_from_row).transpose()
    }

    /// The users of one tenant (or all), by tenant and name.
    pub async fn users(&self, tenant: Option<&str>) -> Result<Vec<UserRecord>, VaultError> {
        let rows = match tenant {
            Some(tenant) => {
                sqlx::query(&format!("{USER_SELECT} WHERE u.tenant = ? ORDER BY u.tenant, u.name"))
                    .bind(tenant)
                    .fetch_all(self.pool())
                    .await?
            }
            None => {
                sqlx::query(&format!("{USER_SELECT} ORDER BY u.tenant, u.name"))
                    .fetch_all(self.pool())
                    .await?
            }
        };
        rows.iter().map(user_from_row).collect()
    }

    /// Users with this name in any tenant (to resolve `--as NAME`).
    pub async fn users_named(&self, name: &str) -> Result<Vec<UserRecord>, VaultError> {
        let rows = sqlx::query(&format!("{USER_SELECT} WHERE u.name = ? ORDER BY u.tenant"))
            .bind(name)
            .fetch_all(self.pool())
            .await?;
        rows.iter().map(user_from_row).collect()
    }

    /// Sets a user's status. Locking raises the credential epoch (every token and
    /// session ends); unlocking forgets failed sign-ins.
    pub async fn set_user_status(
        &self,
        tenant: &str,
        name: &str,
        status: UserStatus,
        at: DateTime<Utc>,
    ) -> Result<(), VaultError> {
        let mut tx = self.pool().begin_with("BEGIN IMMEDIATE").await?;
        let bump = i64::from(status == UserStatus::Locked);
        let done = sqlx::query(
            "UPDATE users SET status = ?, credential_epoch = credential_epoch + ?, updated_at = ? WHERE tenant = ? AND name = ?",
        )
        .bind(status.as_str())
        .bind(bump)
        .bind(ts(at))
        .bind(tenant)
        .bind(name)
        .execute(&mut *tx)
        .await?;
        if done.rows_affected() == 0 {
            return Err(VaultError::NotFound(format!("user {name:?} of tenant {tenant:?}")));
        }
        if status == UserStatus::Active {
            sqlx::query("DELETE FROM login_failures WHERE tenant = ? AND user_name = ?")
                .bind(tenant)
                .bind(name)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Replaces a user's password hash and raises the credential epoch (every token and
    /// session ends) and forgets failed sign-ins.
    pub async fn set_password(
        &self,
        tenant: &str,
        name: &str,
        hash: &PasswordHashText,
        at: DateTime<Utc>,
    ) -> Result<(), VaultError> {
        let mut tx = self.pool().begin_with("BEGIN IMMEDIATE").await?;
        let done = sqlx::query(
            "UPDATE users SET password_hash = ?, credential_epoch = credential_epoch + 1, updated_at = ?
             WHERE tenant = ? AND name = ?",
        )
        .bind(hash.as_str())
        .bind(ts(at))
        .bind(tenant)
        .bind(name)
        .execute(&mut *tx)
        .await?;
        if done.rows_affected() == 0 {
            return Err(VaultError::NotFound(format!("user {name:?} of tenant {tenant:?}")));
        }
        sqlx::query("DELETE FROM login_failures WHERE tenant = ? AND user_name = ?")
            .bind(tenant)
            .bind(name)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }

    // ---- teams -------------------------------------------------------------------

    pub async fn insert_team(&self, tenant: &str, name: &str, by: &str, at: DateTime<Utc>) -> Result<(), VaultError> {
        let result = sqlx::query("INSERT INTO teams (tenant, name, created_at, created_by) VALUES (?, ?, ?, ?)")
            .bind(tenant)
            .bind(name)
            .bind(ts(at))
            .bind(by)
            .execute(self.pool())
            .await;
        match result {
            Ok(_) => Ok(()),
            Err(err) if is_unique_violation(&err) => Err(VaultError::Conflict(format!(
                "team {name:?} of tenant {tenant:?} already exists"
            ))),
            Err(err) => Err(err.into()),
        }
    }

    /// Moves a member to another team from `at` on (not before their last move): the
    /// membership changes and the move is kept, so calls made before `at` stay with the
    /// team they were made in. Answers the team the user left. `NotFound` for an unknown
    /// user or team, `Conflict` for a move to the same team or one before the last move.
    pub async fn move_member(
        &self,
        tenant: &str,
        user: &str,
        to_team: &str,
        at: DateTime<Utc>,
        by: &str,
    ) -> Result<Option<String>, VaultError> {
        let mut tx = self.pool().begin_with("BEGIN IMMEDIATE").await?;
        let found: Option<(String,)> = sqlx::query_as("SELECT name FROM users WHERE tenant = ? AND name = ?")
            .bind(tenant)
            .bind(user)
            .fetch_optional(&mut *tx)
            .await?;
        if found.is_none() {
            return Err(VaultError::NotFound(format!("user {user:?} of tenant {tenant:?}")));
        }
        let team: Option<(String,)> = sqlx::query_as("SELECT name FROM teams WHERE tenant = ? AND name = ?")
            .bind(tenant)
            .bind(to_team)
            .fetch_optional(&mut *tx)
            .await?;
        if team.is_none() {
            return Err(VaultError::NotFound(format!("team {to_team:?} of tenant {tenant:?}")));
        }
        let from: Option<(String,)> =
            sqlx::query_as("SELECT team FROM memberships WHERE tenant = ? AND user_name = ? AND kind = 'member'")
                .bind(tenant)
                .bind(user)
                .fetch_optional(&mut *tx)
                .await?;
        let from = from.map(|f| f.0);
        if from.as_deref() == Some(to_team) {
            return Err(VaultError::Conflict(format!(
                "user {user:?} is already in team {to_team:?}"
            )));
        }
        let last: Option<(String,)> = sqlx::query_as(
            "SELECT max(moved_at) FROM team_moves WHERE tenant = ? AND user_name = ? HAVING count(*) > 0",
        )
        .bind(tenant)
        .bind(user)
        .fetch_optional(&mut *tx)
        .await?;
        if let Some((last,)) = last
            && ts(at) <= last
        {
            return Err(VaultError::Conflict(format!(
                "user {user:?} last moved at {last}: a move must come after it"
            )));
        }
        sqlx::query("DELETE FROM memberships WHERE tenant = ? AND user_name = ? AND kind = 'member'")
            .bind(tenant)
            .bind(user)
            .execute(&mut *tx)
            .await?;
        sqlx::query("INSERT INTO memberships (tenant, team, user_name, kind) VALUES (?, ?, ?, 'member')")
            .bind(tenant)
            .bind(to_team)
            .bind(user)
            .execute(&mut *tx)
            .await?;
        sqlx::query(
            "INSERT INTO team_moves (tenant, user_name, moved_at, from_team, to_team, moved_by) VALUES (?, ?, ?, ?, ?, ?)",
        )
        .bind(tenant)
        .bind(user)
        .bind(ts(at))
        .bind(&from)
        .bind(to_team)
        .bind(by)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(from)
    }

    /// Adds a membership; `NotFound` when the team or the user does not exist.
    pub async fn add_membership(&self, tenant: &str, membership: &Membership) -> Result<(), VaultError> {
        let mut tx = self.pool().begin_with("BEGIN IMMEDIATE").await?;
        add_membership_in(&mut tx, tenant, membership).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Every membership of a tenant.
    pub async fn memberships(&self, tenant: &str) -> Result<Vec<Membership>, VaultError> {
        let rows = sqlx::query(
            "SELECT team, user_name, kind FROM memberships WHERE tenant = ? ORDER BY team, kind, user_name",
        )
        .bind(tenant)
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|row| {
                let kind: String = row.try_get("kind")?;
                Ok(Membership {
                    team: row.try_get("team")?,
                    user: row.try_get("user_name")?,
                    kind: MembershipKind::parse(&kind)
                        .ok_or_else(|| VaultError::Corrupt(format!("membership kind {kind:?}")))?,
                })
            })
            .collect()
    }

    /// The teams of a tenant with their members and managers.
    pub async fn teams(&self, tenant: &str) -> Result<Vec<Team>, VaultError> {
        let names: Vec<(String,)> = sqlx::query_as("SELECT name FROM teams WHERE tenant = ? ORDER BY name")
            .bind(tenant)
            .fetch_all(self.pool())
            .await?;
        let memberships = self.memberships(tenant).await?;
        Ok(names
            .into_iter()
            .map(|(name,)| {
                let of = |kind| {
                    memberships
                        .iter()
                        .filter(|m| m.team == name && m.kind == kind)
                        .map(|m| m.user.clone())
                        .collect()
                };
                Team {
                    tenant: tenant.to_owned(),
                    members: of(MembershipKind::Member),
                    managers: of(MembershipKind::Manager),
                    name,
                }
            })
            .collect())
    }

    // ---- training attestations -----------------------------------------------------

    pub async fn insert_attestation(&self, a: &TrainingAttestation) -> Result<(), VaultError> {
        sqlx::query(
            "INSERT INTO training_attestations (id, tenant, user_name, training, completed_on, recorded_by, recorded_at)
             VALUES (?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(a.id.to_string())
        .bind(&a.tenant)
        .bind(&a.user)
        .bind(&a.training)
        .bind(a.completed_on.format("%Y-%m-%d").to_string())
        .bind(&a.recorded_by)
        .bind(ts(a.recorded_at))
        .execute(self.pool())
        .await?;
        Ok(())
    }

    /// A tenant's attestations, of one user when `user` is given.
    pub async fn attestations(&self, tenant: &str, user: Option<&str>) -> Result<Vec<TrainingAttestation>, VaultError> {
        let rows = sqlx::query(
            "SELECT * FROM training_attestations WHERE tenant = ? AND (? IS NULL OR user_name = ?)
             ORDER BY user_name, completed_on, id",
        )
        .bind(tenant)
        .bind(user)
        .bind(user)
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|row| {
                let day: String = row.try_get("completed_on")?;
                Ok(TrainingAttestation {
                    id: parse_uuid(&row.try_get::<String, _>("id")?)?,
                    tenant: row.try_get("tenant")?,
                    user: row.try_get("user_name")?,
                    training: row.try_get("training")?,
                    completed_on: NaiveDate::parse_from_str(&day, "%Y-%m-%d")
                        .map_err(|_| VaultError::Corrupt(format!("bad date {day:?} in catalog")))?,
                    recorded_by: row.try_get("recorded_by")?,
                    recorded_at: parse_ts(&row.try_get::<String, _>("recorded_at")?)?,
                })
            })
            .collect()
    }

    // ---- access grants -------------------------------------------------------------

    pub async fn insert_grant(&self, g: &AccessGrant) -> Result<(), VaultError> {
        let (grantee_kind, grantee) = match &g.grantee {
            Grantee::User(name) => ("user", name),
            Grantee::Role(role) => ("role", role),
        };
        sqlx::query(
            "INSERT INTO access_grants (id, tenant, grantee_kind, grantee, scope_kind, scope_target, purpose, issued_by,
                issued_at, expires_at, revoked_at, revoked_by)
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(g.id.to_string())
        .bind(&g.tenant)
        .bind(grantee_kind)
        .bind(grantee)
        .bind(g.scope.kind())
        .bind(g.scope.target())
        .bind(&g.purpose)
        .bind(&g.issued_by)
        .bind(ts(g.issued_at))
        .bind(ts(g.expires_at))
        .bind(g.revoked_at.map(ts))
        .bind(&g.revoked_by)
        .execute(self.pool())
        .await?;
        Ok(())
    }

    /// A tenant's grants, newest first.
    pub async fn grants(&self, tenant: &str) -> Result<Vec<AccessGrant>, VaultError> {
        let rows = sqlx::query("SELECT * FROM access_grants WHERE tenant = ? ORDER BY issued_at DESC, id")
            .bind(tenant)
            .fetch_all(self.pool())
            .await?;
        rows.iter().map(grant_from_row).collect()
    }

    pub async fn grant(&self, id: Uuid) -> Result<Option<AccessGrant>, VaultError> {
        let row = sqlx::query("SELECT * FROM access_grants WHERE id = ?")
            .bind(id.to_string())
            .fetch_optional(self.pool())
            .await?;
        row.as_ref().map(grant_from_row).transpose()
    }

    /// Revokes a grant that is not revoked yet; `Conflict` when it already was.
    pub async fn revoke_grant(&self, id: Uuid, by: &str, at: DateTime<Utc>) -> Result<(), VaultError> {
        let done =
            sqlx::query("UPDATE access_grants SET revoked_at = ?, revoked_by = ? WHERE id = ? AND revoked_at IS NULL")
                .bind(ts(at))
                .bind(by)
                .bind(id.to_string())
                .execute(self.pool())
                .await?;
        if done.rows_affected() == 0 {
            return Err(VaultError::Conflict(format!(
                "grant {id} is unknown or already revoked"
            )));
        }
        Ok(())
    }

    // ---- tokens and sessions -------------------------------------------------------

    /// Stores a token by the hash of its value.
    pub async fn insert_token(&self, token: &StoredToken, hash: &str) -> Result<(), VaultError> {
        sqlx::query(
            "INSERT INTO auth_tokens (id, token_hash, tenant, user_name, kind, label, created_at, expires_at, last_used_at,
                revoked_at, credential_epoch)
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(token.id.to_string())
        .bind(hash)
        .bind(&token.tenant)
        .bind(&token.user)
        .bind(token.kind.as_str())
        .bind(&token.label)
        .bind(ts(token.created_at))
        .bind(ts(token.expires_at))
        .bind(token.last_used_at.map(ts))
        .bind(token.revoked_at.map(ts))
        .bind(token.credential_epoch)
        .execute(self.pool())
        .await?;
        Ok(())
    }

    /// The token whose value hashes to `hash`.
    pub async fn token_by_hash(&self, hash: &str) -> Result<Option<StoredToken>, VaultError> {
        let row = sqlx::query("SELECT * FROM auth_tokens WHERE token_hash = ?")
            .bind(hash)
            .fetch_optional(self.pool())
            .await?;
        row.as_ref().map(token_from_row).transpose()
    }

    /// A token by its id.
    pub async fn token(&self, id: Uuid) -> Result<Option<StoredToken>, VaultError> {
        let row = sqlx::query("SELECT * FROM auth_tokens WHERE id = ?")
            .bind(id.to_string())
            .fetch_optional(self.pool())
            .await?;
        row.as_ref().map(token_from_row).transpose()
    }

    /// A user's tokens and sessions, newest first.
    pub async fn tokens_of(&self, tenant: &str, user: &str) -> Result<Vec<StoredToken>, VaultError> {
        let rows = sqlx::query("SELECT * FROM auth_tokens WHERE tenant = ? AND user_name = ? ORDER BY created_at DESC")
            .bind(tenant)
            .bind(user)
            .fetch_all(self.pool())
            .await?;
        rows.iter().map(token_from_row).collect()
    }

    /// Notes a use of a token (a session's idle time restarts).
    pub async fn touch_token(&self, id: Uuid, at: DateTime<Utc>) -> Result<(), VaultError> {
        sqlx::query("UPDATE auth_tokens SET last_used_at = ? WHERE id = ?")
            .bind(ts(at))
            .bind(id.to_string())
            .execute(self.pool())
            .await?;
        Ok(())
    }

    /// Revokes a token; `Conflict` when it is unknown or already revoked.
    pub async fn revoke_token(&self, id: Uuid, at: DateTime<Utc>) -> Result<(), VaultError> {
        let done = sqlx::query("UPDATE auth_tokens SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL")
            .bind(ts(at))
            .bind(id.to_string())
            .execute(self.pool())
            .await?;
        if done.rows_affected() == 0 {
            return Err(VaultError::Conflict(format!(
                "token {id} is unknown or already revoked"
            )));
        }
        Ok(())
    }

    // ---- failed sign-ins -----------------------------------------------------------

    /// Records a failed sign-in and forgets those before `forget_before`.
    pub async fn record_login_failure(
        &self,
        tenant: &str,
        user: &str,
        at: DateTime<Utc>,
        forget_before: DateTime<Utc>,
    ) -> Result<(), VaultError> {
        let mut tx = self.pool().begin_with("BEGIN IMMEDIATE").await?;
        sqlx::query("DELETE FROM login_failures WHERE tenant = ? AND user_name = ? AND at < ?")
            .bind(tenant)
            .bind(user)
            .bind(ts(forget_before))
            .execute(&mut *tx)
            .await?;
        sqlx::query("INSERT INTO login_failures (tenant, user_name, at) VALUES (?, ?, ?)")
            .bind(tenant)
            .bind(user)
            .bind(ts(at))
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }

    /// The failed sign-ins kept for a user, oldest first.
    pub async fn login_failures(&self, tenant: &str, user: &str) -> Result<Vec<DateTime<Utc>>, VaultError> {
        let rows: Vec<(String,)> =
            sqlx::query_as("SELECT at FROM login_failures WHERE tenant = ? AND user_name = ? ORDER BY at")
                .bind(tenant)
                .bind(user)
                .fetch_all(self.pool())
                .await?;
        rows.iter().map(|(at,)| parse_ts(at)).collect()
    }

    /// Forgets a user's failed sign-ins (after a success).
    pub async fn clear_login_failures(&self, tenant: &str, user: &str) -> Result<(), VaultError> {
        sqlx::query("DELETE FROM login_failures WHERE tenant = ? AND user_name = ?")
            .bind(tenant)
            .bind(user)
            .execute(self.pool())
            .await?;
        Ok(())
    }
}

const USER_SELECT: &str = "SELECT u.*, m.team AS member_of FROM users u
    LEFT JOIN memberships m ON m.tenant = u.tenant AND m.user_name = u.name AND m.kind = 'member'";

async fn insert_user_in(tx: &mut sqlx::SqliteConnection, new: &NewUser<'_>) -> Result<(), VaultError> {
    let result = sqlx::query(
        "INSERT INTO users (tenant, name, roles, status, password_hash, credential_epoch, created_at, created_by, updated_at)
         VALUES (?, ?, ?, 'active', ?, 0, ?, ?, ?)",
    )
    .bind(new.tenant)
    .bind(new.name)
    .bind(roles_json(new.roles))
    .bind(new.password_hash.map(PasswordHashText::as_str))
    .bind(ts(new.at))
    .bind(new.created_by)
    .bind(ts(new.at))
    .execute(&mut *tx)
    .await;
    match result {
        Ok(_) => {}
        Err(err) if is_unique_violation(&err) => {
            return Err(VaultError::Conflict(format!(
                "user {:?} of tenant {:?} already exists",
                new.name, new.tenant
            )));
        }
        Err(sqlx::Error::Database(db)) if db.is_foreign_key_violation() => {
            return Err(VaultError::NotFound(format!("tenant {:?}", new.tenant)));
        }
        Err(err) => return Err(err.into()),
    }
    if let Some(team) = new.team {
        let membership = Membership {
            team: team.to_owned(),
            user: new.name.to_owned(),
            kind: MembershipKind::Member,
        };
        add_membership_in(tx, new.tenant, &membership).await?;
    }
    Ok(())
}

async fn add_membership_in(
    tx: &mut sqlx::SqliteConnection,
    tenant: &str,
    membership: &Membership,
) -> Result<(), VaultError> {
    let team: Option<(String,)> = sqlx::query_as("SELECT name FROM teams WHERE tenant = ? AND name = ?")
        .bind(tenant)
        .bind(&membership.team)
        .fetch_optional(&mut *tx)
        .await?;
    if team.is_none() {
        return Err(VaultError::NotFound(format!(
            "team {:?} of tenant {tenant:?}",
            membership.team
        )));
    }
    let user: Option<(String,)> = sqlx::query_as("SELECT name FROM users WHERE tenant = ? AND name = ?")
        .bind(tenant)
        .bind(&membership.user)
        .fetch_optional(&mut *tx)
        .await?;
    if user.is_none() {
        return Err(VaultError::NotFound(format!(
            "user {:?} of tenant {tenant:?}",
            membership.user
        )));
    }
    let result = sqlx::query("INSERT INTO memberships (tenant, team, user_name, kind) VALUES (?, ?, ?, ?)")
        .bind(tenant)
        .bind(&membership.team)
        .bind(&membership.user)
        .bind(membership.kind.as_str())
        .execute(&mut *tx)
        .await;
    match result {
        Ok(_) => Ok(()),
        Err(err) if is_unique_violation(&err) => Err(VaultError::Conflict(format!(
            "user {:?} is already {} of a team (a user is a member of one team)",
            membership.user,
            if membership.kind == MembershipKind::Member {
                "a member"
            } else {
                "this team's manager"
            }
        ))),
        Err(err) => Err(err.into()),
    }
}

fn user_from_row(row: &SqliteRow) -> Result<UserRecord, VaultError> {
    let status: String = row.try_get("status")?;
    let roles: String = row.try_get("roles")?;
    Ok(UserRecord {
        user: User {
            tenant: row.try_get("tenant")?,
            name: row.try_get("name")?,
            roles: serde_json::from_str(&roles).map_err(|_| VaultError::Corrupt("bad roles list in catalog".into()))?,
            team: row.try_get("member_of")?,
            status: UserStatus::parse(&status).ok_or_else(|| VaultError::Corrupt(format!("user status {status:?}")))?,
        },
        password_hash: row
            .try_get::<Option<String>, _>("password_hash")?
            .map(PasswordHashText::from_stored),
        credential_epoch: row.try_get("credential_epoch")?,
        created_at: parse_ts(&row.try_get::<String, _>("created_at")?)?,
        created_by: row.try_get("created_by")?,
        updated_at: parse_ts(&row.try_get::<String, _>("updated_at")?)?,
    })
}

fn grant_from_row(row: &SqliteRow) -> Result<AccessGrant, VaultError> {
    let grantee_kind: String = row.try_get("grantee_kind")?;
    let grantee: String = row.try_get("grantee")?;
    let scope_kind: String = row.try_get("scope_kind")?;
    Ok(AccessGrant {
        id: parse_uuid(&row.try_get::<String, _>("id")?)?,
        tenant: row.try_get("tenant")?,
        grantee: match grantee_kind.as_str() {
            "user" => Grantee::User(grantee),
            "role" => Grantee::Role(grantee),
            other => return Err(VaultError::Corrupt(format!("grantee kind {other:?}"))),
        },
        scope: GrantScope::from_parts(&scope_kind, row.try_get("scope_target")?)
            .ok_or_else(|| VaultError::Corrupt(format!("grant scope {scope_kind:?}")))?,
        purpose: row.try_get("purpose")?,
        issued_by: row.try_get("issued_by")?,
        issued_at: parse_ts(&row.try_get::<String, _>("issued_at")?)?,
        expires_at: parse_ts(&row.try_get::<String, _>("expires_at")?)?,
        revoked_at: parse_opt_ts(row.try_get("revoked_at")?)?,
        revoked_by: row.try_get("revoked_by")?,
    })
}

fn token_from_row(row: &SqliteRow) -> Result<StoredToken, VaultError> {
    let kind: String = row.try_get("kind")?;
    Ok(StoredToken {
        id: parse_uuid(&row.try_get::<String, _>("id")?)?,
        tenant: row.try_get("tenant")?,
        user: row.try_get("user_name")?,
        kind: TokenKind::parse(&kind).ok_or_else(|| VaultError::Corrupt(format!("token kind {kind:?}")))?,
        label: row.try_get("label")?,
        created_at: parse_ts(&row.try_get::<String, _>("created_at")?)?,
        expires_at: parse_ts(&row.try_get::<String, _>("expires_at")?)?,
        last_used_at: parse_opt_ts(row.try_get("last_used_at")?)?,
        revoked_at: parse_opt_ts(row.try_get("revoked_at")?)?,
        credential_epoch: row.try_get("credential_epoch")?,
    })
}
