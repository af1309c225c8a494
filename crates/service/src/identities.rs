//! Identities: the first administrator, users, teams, training attestations and
//! access grants; sign-in by password (with lockout), API token or web session; and
//! the [`Principal`] the authorization engine consumes. Every change and every
//! denied attempt is appended to the audit chain.

use chrono::{DateTime, NaiveDate, Utc};
use governance::identity::{
    AccessGrant, AuthMethod, GrantScope, Grantee, IdentityAction, IdentityError, LockState, LockoutPolicy, Membership,
    MembershipKind, OrgChart, PasswordHashText, Principal, Secret, StoredToken, Team, TokenKind, TokenPolicy,
    TrainingAttestation, UserStatus,
};
use governance::{AuditEvent, Outcome};
use uuid::Uuid;
use vault::{NewUser, UserRecord, VaultError};

use crate::{ErrorKind, Service, ServiceError};

/// How the console names the person running `admin init` in the audit chain.
pub const BOOTSTRAP_ACTOR: &str = "local-bootstrap";

/// A token or session just issued: the value is shown once and never stored.
#[derive(Debug, Clone)]
pub struct IssuedToken {
    pub id: Uuid,
    pub kind: TokenKind,
    pub value: Secret,
    pub expires_at: DateTime<Utc>,
}

/// A user to add.
#[derive(Debug, Clone)]
pub struct UserRequest<'a> {
    pub tenant: &'a str,
    pub name: &'a str,
    pub roles: &'a [String],
    pub team: Option<&'a str>,
    pub password: Option<&'a Secret>,
}

/// A grant to issue.
#[derive(Debug, Clone)]
pub struct GrantRequest<'a> {
    pub tenant: &'a str,
    pub grantee: Grantee,
    pub scope: GrantScope,
    pub purpose: &'a str,
    pub expires_at: DateTime<Utc>,
}

impl From<IdentityError> for ServiceError {
    fn from(err: IdentityError) -> Self {
        let code = err.code();
        match err {
            IdentityError::Invalid { message, .. } => ServiceError::new(ErrorKind::BadInput, code, message),
            IdentityError::Denied { rule, message, .. } => ServiceError {
                kind: ErrorKind::Forbidden,
                code: code.into(),
                message,
                rule: Some(rule.into()),
            },
            IdentityError::Unauthenticated { message, .. } => {
                ServiceError::new(ErrorKind::Unauthenticated, code, message)
            }
            IdentityError::Hashing(message) => ServiceError::new(ErrorKind::Internal, code, message),
        }
    }
}

fn unauthenticated(code: &'static str, message: &str) -> ServiceError {
    ServiceError::new(ErrorKind::Unauthenticated, code, message)
}

/// Maps the vault's `NotFound` to a stable code of our own.
fn not_found_as(code: &'static str, what: String) -> impl FnOnce(VaultError) -> ServiceError {
    move |err| match err {
        VaultError::NotFound(_) => ServiceError::new(ErrorKind::NotFound, code, format!("{what} not found")),
        VaultError::Conflict(message) => ServiceError::new(ErrorKind::Conflict, "conflict", message),
        other => other.into(),
    }
}

fn lockout() -> LockoutPolicy {
    LockoutPolicy::default()
}

fn token_policy() -> TokenPolicy {
    TokenPolicy::default()
}

/// Hashes a password off the async threads (argon2id takes tens of milliseconds).
async fn hash_password(password: &Secret) -> Result<PasswordHashText, ServiceError> {
    let password = password.clone();
    tokio::task::spawn_blocking(move || governance::identity::hash_password(&password, &mut rand::rngs::OsRng))
        .await
        .map_err(|e| ServiceError::new(ErrorKind::Internal, "internal", format!("hashing task: {e}")))?
        .map_err(Into::into)
}

async fn verify_password(password: &Secret, stored: &PasswordHashText) -> Result<bool, ServiceError> {
    let (password, stored) = (password.clone(), stored.clone());
    tokio::task::spawn_blocking(move || governance::identity::verify_password(&password, &stored))
        .await
        .map_err(|e| ServiceError::new(ErrorKind::Internal, "internal", format!("hashing task: {e}")))?
        .map_err(Into::into)
}

impl Service {
    // ---- sign-in -------------------------------------------------------------------

    /// Resolves `--as`: `TENANT/NAME`, or a `NAME` that exists in exactly one tenant.
    pub async fn resolve_user(&self, who: &str) -> Result<(String, String), ServiceError> {
        if let Some((tenant, name)) = who.split_once('/') {
            return Ok((tenant.to_owned(), name.to_owned()));
        }
        let found = self.vault.catalog().users_named(who).await?;
        match found.as_slice() {
            [one] => Ok((one.user.tenant.clone(), one.user.name.clone())),
            [] => Ok((String::new(), who.to_owned())),
            _ => Err(ServiceError::bad_input(
                "user-ambiguous",
                "several tenants have a user by this name: use --as TENANT/NAME",
            )),
        }
    }

    /// Signs a user in with a password. Unknown users, wrong passwords and locked
    /// accounts are refused (401) and audited; `max_failures` wrong passwords within the
    /// lockout window lock the account for a while (ARLO-SECURITY).
    pub async fn authenticate_password(
        &self,
        tenant: &str,
        name: &str,
        password: &Secret,
        now: DateTime<Utc>,
    ) -> Result<Principal, ServiceError> {
        let catalog = self.vault.catalog();
        let record = if tenant.is_empty() {
            None
        } else {
            catalog.user(tenant, name).await?
        };
        let Some(record) = record else {
            // As slow as a wrong password, so names cannot be probed by timing.
            let _ = verify_password(password, governance::identity::decoy_hash()).await;
            self.audit(
                AuditEvent::new(now, "anonymous", "auth.login", Outcome::Denied)
                    .detail(serde_json::json!({"code": "auth-failed", "method": "password"})),
            )
            .await?;
            return Err(unauthenticated("auth-failed", "wrong user name or password"));
        };
        let actor = format!("user:{}", record.user.qualified_name());
        let deny = |code: &'static str| {
            AuditEvent::new(now, &actor, "auth.login", Outcome::Denied)
                .tenant(tenant)
                .detail(serde_json::json!({"code": code, "method": "password"}))
        };
        if record.user.status == UserStatus::Locked {
            self.audit(deny("account-locked")).await?;
            return Err(unauthenticated("account-locked", "the account is locked"));
        }
        let failures = catalog.login_failures(tenant, name).await?;
        if let LockState::LockedUntil(_) = lockout().state(&failures, now) {
            self.audit(deny("account-locked")).await?;
            return Err(unauthenticated(
                "account-locked",
                "the account is locked after repeated failed sign-ins; try again later",
            ));
        }
        let matches = match &record.password_hash {
            Some(hash) => verify_password(password, hash).await?,
            None => {
                let _ = verify_password(password, governance::identity::decoy_hash()).await;
                false
            }
        };
        if !matches {
            catalog
                .record_login_failure(tenant, name, now, lockout().forget_before(now))
                .await?;
            self.audit(deny("auth-failed")).await?;
            let failures = catalog.login_failures(tenant, name).await?;
            if let LockState::LockedUntil(until) = lockout().state(&failures, now) {
                self.audit(
                    AuditEvent::new(now, &actor, "auth.lockout", Outcome::Done)
                        .tenant(tenant)
                        .detail(serde_json::json!({"failures": failures.len(), "locked_until": until})),
                )
                .await?;
            }
            return Err(unauthenticated("auth-failed", "wrong user name or password"));
        }
        if !failures.is_empty() {
            catalog.clear_login_failures(tenant, name).await?;
        }
        self.audit(
            AuditEvent::new(now, &actor, "auth.login", Outcome::Allowed)
                .tenant(tenant)
                .detail(serde_json::json!({"method": "password"})),
        )
        .await?;
        self.principal_of(&record, AuthMethod::Password, None, now).await
    }

    /// Authenticates a bearer token or session value. Malformed, unknown (forged),
    /// expired and revoked values are refused (401) with their own code and audited.
    pub async fn authenticate_token(&self, value: &Secret, now: DateTime<Utc>) -> Result<Principal, ServiceError> {
        let catalog = self.vault.catalog();
        let stored = match governance::identity::token_kind_of(value) {
            Some(_) => catalog.token_by_hash(&governance::identity::token_hash(value)).await?,
            None => None,
        };
        let Some(stored) = stored else {
            self.audit(
                AuditEvent::new(now, "anonymous", "auth.token", Outcome::Denied)
                    .detail(serde_json::json!({"code": "token-invalid"})),
            )
            .await?;
            return Err(unauthenticated("token-invalid", "the token is not valid"));
        };
        let record = catalog
            .user(&stored.tenant, &stored.user)
            .await?
            .ok_or_else(|| unauthenticated("token-invalid", "the token is not valid"))?;
        let checked = if record.user.status == UserStatus::Locked {
            Err(IdentityError::unauthenticated(
                "account-locked",
                "the account is locked",
            ))
        } else {
            stored.check(now, record.credential_epoch, &token_policy())
        };
        if let Err(err) = checked {
            self.audit(
                AuditEvent::new(
                    now,
                    &format!("user:{}", record.user.qualified_name()),
                    "auth.token",
                    Outcome::Denied,
                )
                .tenant(&stored.tenant)
                .detail(serde_json::json!({"code": err.code(), "token_id": stored.id, "kind": stored.kind.as_str()})),
            )
            .await?;
            return Err(err.into());
        }
        // A session's idle clock restarts on use; at most one write a minute per token.
        if stored
            .last_used_at
            .is_none_or(|at| now - at >= chrono::TimeDelta::minutes(1))
        {
            catalog.touch_token(stored.id, now).await?;
        }
        let method = match stored.kind {
            TokenKind::Api => AuthMethod::ApiToken,
            TokenKind::Session => AuthMethod::Session,
        };
        self.principal_of(&record, method, Some(stored.id), now).await
    }

    /// Signs in with a password and opens a web session.
    pub async fn login(
        &self,
        tenant: &str,
        name: &str,
        password: &Secret,
        now: DateTime<Utc>,
    ) -> Result<(Principal, IssuedToken), ServiceError> {
        let principal = self.authenticate_password(tenant, name, password, now).await?;
        let session = self
            .issue_token(&principal, TokenKind::Session, None, None, now)
            .await?;
        Ok((principal, session))
    }

    /// Ends the session or revokes the token the principal authenticated with.
    pub async fn logout(&self, principal: &Principal, now: DateTime<Utc>) -> Result<(), ServiceError> {
        let Some(id) = principal.token_id else {
            return Err(ServiceError::bad_input(
                "no-session",
                "this sign-in has no session to end",
            ));
        };
        self.vault.catalog().revoke_token(id, now).await?;
        self.audit(
            AuditEvent::new(now, &principal.actor(), "auth.logout", Outcome::Done)
                .tenant(&principal.tenant)
                .detail(serde_json::json!({"token_id": id})),
        )
        .await
    }

    /// Issues an API bearer token to the principal. A token cannot mint tokens: the
    /// principal signed in with a password or a session.
    pub async fn create_api_token(
        &self,
        principal: &Principal,
        expires_at: Option<DateTime<Utc>>,
        label: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<IssuedToken, ServiceError> {
        if principal.method == AuthMethod::ApiToken {
            let err = ServiceError::new(
                ErrorKind::Forbidden,
                "token-needs-password",
                "an API token is issued after signing in with a password or a session, not with another token",
            );
            self.audit_denied(principal, &principal.tenant, "auth.token-create", &err, now)
                .await?;
            return Err(err);
        }
        if let Some(label) = label
            && (label.len() > 128 || label.chars().any(char::is_control))
        {
            return Err(ServiceError::bad_input(
                "token-label-invalid",
                "a token label is at most 128 printable characters",
            ));
        }
        self.issue_token(principal, TokenKind::Api, expires_at, label, now)
            .await
    }

    async fn issue_token(
        &self,
        principal: &Principal,
        kind: TokenKind,
        expires_at: Option<DateTime<Utc>>,
        label: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<IssuedToken, ServiceError> {
        let expires_at = token_policy().expiry(kind, expires_at, now)?;
        let record = self
            .vault
            .catalog()
            .user(&principal.tenant, &principal.user)
            .await?
            .ok_or_else(|| unauthenticated("auth-failed", "the user no longer exists"))?;
        let (value, hash) = governance::identity::generate_token(kind, &mut rand::rngs::OsRng);
        let stored = StoredToken {
            id: Uuid::now_v7(),
            tenant: principal.tenant.clone(),
            user: principal.user.clone(),
            kind,
            label: label.map(str::to_owned),
            created_at: now,
            expires_at,
            last_used_at: Some(now),
            revoked_at: None,
            credential_epoch: record.credential_epoch,
        };
        self.vault.catalog().insert_token(&stored, &hash).await?;
        self.audit(
            AuditEvent::new(now, &principal.actor(), "auth.token-create", Outcome::Done)
                .tenant(&principal.tenant)
                .detail(serde_json::json!({"token_id": stored.id, "kind": kind.as_str(), "expires_at": expires_at})),
        )
        .await?;
        Ok(IssuedToken {
            id: stored.id,
            kind,
            value,
            expires_at,
        })
    }

    /// Revokes one of the principal's own tokens (or, for an administrator, any token
    /// of a user of their tenant).
    pub async fn revoke_token(&self, principal: &Principal, id: &str, now: DateTime<Utc>) -> Result<(), ServiceError> {
        let catalog = self.vault.catalog();
        let unknown = || ServiceError::new(ErrorKind::NotFound, "token-unknown", "token not found");
        let id = Uuid::parse_str(id).map_err(|_| unknown())?;
        // Another tenant's token answers exactly like one that does not exist.
        let token = catalog
            .token(id)
            .await?
            .filter(|t| t.tenant == principal.tenant)
            .ok_or_else(unknown)?;
        if token.user != principal.user {
            self.authorize_identity(
                principal,
                &principal.tenant,
                IdentityAction::ManageUsers,
                "auth.token-revoke",
                now,
            )
            .await?;
        }
        catalog
            .revoke_token(id, now)
            .await
            .map_err(not_found_as("token-unknown", "token".into()))?;
        self.audit(
            AuditEvent::new(now, &principal.actor(), "auth.token-revoke", Outcome::Done)
                .tenant(&principal.tenant)
                .detail(serde_json::json!({"token_id": id})),
        )
        .await
    }

    /// The principal of a stored user at `now`: roles, team, managed teams, training
    /// attestations and the grants that reach them and are active.
    pub(crate) async fn principal_of(
        &self,
        record: &UserRecord,
        method: AuthMethod,
        token_id: Option<Uuid>,
        now: DateTime<Utc>,
    ) -> Result<Principal, ServiceError> {
        let catalog = self.vault.catalog();
        let user = &record.user;
        let chart = OrgChart::new(catalog.memberships(&user.tenant).await?);
        let grants = catalog
            .grants(&user.tenant)
            .await?
            .into_iter()
            .filter(|g| g.is_active(now) && g.reaches(&user.name, &user.roles))
            .collect();
        Ok(Principal {
            tenant: user.tenant.clone(),
            user: user.name.clone(),
            roles: user.roles.clone(),
            team: chart.team_of(&user.name).map(str::to_owned),
            managed_teams: chart.managed_teams(&user.name),
            attestations: catalog.attestations(&user.tenant, Some(&user.name)).await?,
            grants,
            method,
            authenticated_at: now,
            token_id,
        })
    }

    // ---- administration ------------------------------------------------------------

    /// Allows an identity action or audits the denial and refuses it (403).
    async fn authorize_identity(
        &self,
        principal: &Principal,
        tenant: &str,
        action: IdentityAction,
        audit_action: &str,
        now: DateTime<Utc>,
    ) -> Result<(), ServiceError> {
        // The Cedar rules of the actor's own tenant's active policy decide; another tenant
        // is refused before its existence is revealed.
        let ask = crate::access::Ask {
            action: action.access_action(),
            purpose: "",
            reason: "",
            workflow: None,
        };
        let allowed = principal.tenant == tenant
            && self
                .decide_on_tenant(principal, &principal.tenant, ask, now)
                .await?
                .is_allowed();
        if allowed {
            return Ok(());
        }
        let err = match self.active_policy(&principal.tenant).await {
            Ok((policy, _)) => ServiceError::from(governance::identity::identity_refusal(
                principal, tenant, action, &policy,
            )),
            Err(err) => err,
        };
        self.audit_denied(principal, tenant, audit_action, &err, now).await?;
        Err(err)
    }

    async fn audit_denied(
        &self,
        principal: &Principal,
        tenant: &str,
        action: &str,
        err: &ServiceError,
        now: DateTime<Utc>,
    ) -> Result<(), ServiceError> {
        self.audit(
            AuditEvent::new(now, &principal.actor(), action, Outcome::Denied)
                .tenant(tenant)
                .detail(serde_json::json!({"code": err.code, "rule": err.rule})),
        )
        .await
    }

    /// Creates a tenant's first administrator (`callvault admin init`); refused when the
    /// tenant already has one.
    pub async fn init_administrator(
        &self,
        tenant: &str,
        name: &str,
        password: &Secret,
        now: DateTime<Utc>,
    ) -> Result<UserRecord, ServiceError> {
        self.known_tenant(tenant).await?;
        governance::identity::check_name("user", name)?;
        governance::identity::check_new_password(password)?;
        let hash = hash_password(password).await?;
        let roles = vec![governance::identity::role::ADMINISTRATOR.to_owned()];
        let new = NewUser {
            tenant,
            name,
            roles: &roles,
            team: None,
            password_hash: Some(&hash),
            created_by: BOOTSTRAP_ACTOR,
            at: now,
        };
        match self.vault.catalog().insert_first_administrator(&new).await {
            Ok(()) => {}
            Err(VaultError::Conflict(message)) => {
                self.audit(
                    AuditEvent::new(now, BOOTSTRAP_ACTOR, "user.admin-init", Outcome::Denied)
                        .tenant(tenant)
                        .detail(serde_json::json!({"code": "administrator-exists"})),
                )
                .await?;
                return Err(ServiceError::new(ErrorKind::Conflict, "administrator-exists", message));
            }
            Err(err) => return Err(err.into()),
        }
        self.audit(
            AuditEvent::new(now, BOOTSTRAP_ACTOR, "user.admin-init", Outcome::Done)
                .tenant(tenant)
                .detail(serde_json::json!({"user": name, "roles": roles})),
        )
        .await?;
        self.user_record(tenant, name).await
    }

    async fn user_record(&self, tenant: &str, name: &str) -> Result<UserRecord, ServiceError> {
        self.vault
            .catalog()
            .user(tenant, name)
            .await?
            .ok_or_else(|| ServiceError::new(ErrorKind::NotFound, "user-unknown", "user not found"))
    }

    /// Adds a user (administrators only). Roles must be built in or declared by the
    /// tenant's policy.
    pub async fn add_user(
        &self,
        principal: &Principal,
        request: &UserRequest<'_>,
        now: DateTime<Utc>,
    ) -> Result<UserRecord, ServiceError> {
        let tenant = request.tenant;
        self.authorize_identity(principal, tenant, IdentityAction::ManageUsers, "user.add", now)
            .await?;
        governance::identity::check_name("user", request.name)?;
        let (policy, _) = self.active_policy(tenant).await?;
        if request.roles.is_empty() {
            return Err(ServiceError::bad_input(
                "role-required",
                "a user needs at least one --role",
            ));
        }
        let mut roles: Vec<String> = Vec::new();
        for role in request.roles {
            governance::identity::check_role(&policy, role)?;
            if !roles.contains(role) {
                roles.push(role.clone());
            }
        }
        if let Some(team) = request.team {
            governance::identity::check_name("team", team)?;
        }
        let hash = match request.password {
            Some(password) => {
                governance::identity::check_new_password(password)?;
                Some(hash_password(password).await?)
            }
            None => None,
        };
        let new = NewUser {
            tenant,
            name: request.name,
            roles: &roles,
            team: request.team,
            password_hash: hash.as_ref(),
            created_by: &principal.actor(),
            at: now,
        };
        self.vault.catalog().insert_user(&new).await.map_err(|err| match err {
            VaultError::NotFound(_) => ServiceError::new(
                ErrorKind::NotFound,
                "team-unknown",
                format!("tenant {tenant} has no team {:?}", request.team.unwrap_or_default()),
            ),
            VaultError::Conflict(message) => ServiceError::new(ErrorKind::Conflict, "user-exists", message),
            other => other.into(),
        })?;
        self.audit(
            AuditEvent::new(now, &principal.actor(), "user.add", Outcome::Done)
                .tenant(tenant)
                .detail(serde_json::json!({
                    "user": request.name, "roles": roles, "team": request.team, "password": hash.is_some(),
                })),
        )
        .await?;
        self.user_record(tenant, request.name).await
    }

    /// The users of a tenant.
    pub async fn list_users(
        &self,
        principal: &Principal,
        tenant: &str,
        now: DateTime<Utc>,
    ) -> Result<Vec<UserRecord>, ServiceError> {
        self.authorize_identity(principal, tenant, IdentityAction::ListUsers, "user.list", now)
            .await?;
        Ok(self.vault.catalog().users(Some(tenant)).await?)
    }

    /// Locks a user (every token and session ends) or unlocks them (failed sign-ins are
    /// forgotten). Administrators only.
    pub async fn set_user_locked(
        &self,
        principal: &Principal,
        tenant: &str,
        name: &str,
        locked: bool,
        now: DateTime<Utc>,
    ) -> Result<UserRecord, ServiceError> {
        let action = if locked { "user.lock" } else { "user.unlock" };
        self.authorize_identity(principal, tenant, IdentityAction::ManageUsers, action, now)
            .await?;
        if locked && principal.user == name {
            return Err(ServiceError::bad_input(
                "cannot-lock-self",
                "an administrator cannot lock their own account",
            ));
        }
        let status = if locked { UserStatus::Locked } else { UserStatus::Active };
        self.vault
            .catalog()
            .set_user_status(tenant, name, status, now)
            .await
            .map_err(not_found_as("user-unknown", "user".into()))?;
        self.audit(
            AuditEvent::new(now, &principal.actor(), action, Outcome::Done)
                .tenant(tenant)
                .detail(serde_json::json!({"user": name})),
        )
        .await?;
        self.user_record(tenant, name).await
    }

    /// Sets a user's password: a user their own, an administrator anybody's in their
    /// tenant. Every token and session of the user ends.
    pub async fn set_password(
        &self,
        principal: &Principal,
        tenant: &str,
        name: &str,
        password: &Secret,
        now: DateTime<Utc>,
    ) -> Result<(), ServiceError> {
        let own = principal.tenant == tenant && principal.user == name;
        if !own {
            self.authorize_identity(principal, tenant, IdentityAction::ManageUsers, "user.password", now)
                .await?;
        }
        governance::identity::check_new_password(password)?;
        let hash = hash_password(password).await?;
        self.vault
            .catalog()
            .set_password(tenant, name, &hash, now)
            .await
            .map_err(not_found_as("user-unknown", "user".into()))?;
        self.audit(
            AuditEvent::new(now, &principal.actor(), "user.password", Outcome::Done)
                .tenant(tenant)
                .detail(serde_json::json!({"user": name})),
        )
        .await
    }

    /// Adds a team (administrators only).
    pub async fn add_team(
        &self,
        principal: &Principal,
        tenant: &str,
        name: &str,
        now: DateTime<Utc>,
    ) -> Result<(), ServiceError> {
        self.authorize_identity(principal, tenant, IdentityAction::ManageTeams, "team.add", now)
            .await?;
        governance::identity::check_name("team", name)?;
        self.vault
            .catalog()
            .insert_team(tenant, name, &principal.actor(), now)
            .await
            .map_err(|err| match err {
                VaultError::Conflict(message) => ServiceError::new(ErrorKind::Conflict, "team-exists", message),
                other => other.into(),
            })?;
        self.audit(
            AuditEvent::new(now, &principal.actor(), "team.add", Outcome::Done)
                .tenant(tenant)
                .detail(serde_json::json!({"team": name})),
        )
        .await
    }

    /// Makes a user a manager of a team (a manager may manage several).
    pub async fn set_team_manager(
        &self,
        principal: &Principal,
        tenant: &str,
        team: &str,
        manager: &str,
        now: DateTime<Utc>,
    ) -> Result<(), ServiceError> {
        self.authorize_identity(principal, tenant, IdentityAction::ManageTeams, "team.set-manager", now)
            .await?;
        let membership = Membership {
            team: team.to_owned(),
            user: manager.to_owned(),
            kind: MembershipKind::Manager,
        };
        self.vault
            .catalog()
            .add_membership(tenant, &membership)
            .await
            .map_err(|err| membership_error(err, "already-manager"))?;
        self.audit(
            AuditEvent::new(now, &principal.actor(), "team.set-manager", Outcome::Done)
                .tenant(tenant)
                .detail(serde_json::json!({"team": team, "manager": manager})),
        )
        .await
    }

    /// Moves a member to another team from `at` (default now; never later than now, never
    /// before their last move). Calls made before `at` stay with the team they were made
    /// in: that team's manager keeps them, the new one does not get them (team history).
    /// Answers the team left.
    pub async fn move_to_team(
        &self,
        principal: &Principal,
        tenant: &str,
        user: &str,
        team: &str,
        at: Option<DateTime<Utc>>,
        now: DateTime<Utc>,
    ) -> Result<Option<String>, ServiceError> {
        self.authorize_identity(principal, tenant, IdentityAction::ManageTeams, "team.move", now)
            .await?;
        let at = at.unwrap_or(now);
        if at > now {
            return Err(ServiceError::bad_input(
                "move-in-future",
                "a move takes effect now or at a past time, not later",
            ));
        }
        let from = self
            .vault
            .catalog()
            .move_member(tenant, user, team, at, &principal.actor())
            .await
            .map_err(|err| membership_error(err, "move-conflict"))?;
        self.audit(
            AuditEvent::new(now, &principal.actor(), "team.move", Outcome::Done)
                .tenant(tenant)
                .detail(serde_json::json!({"user": user, "from": from, "to": team, "at": vault::ts(at)})),
        )
        .await?;
        Ok(from)
    }

    /// The teams of a tenant (anyone who may list users).
    pub async fn list_teams(
        &self,
        principal: &Principal,
        tenant: &str,
        now: DateTime<Utc>,
    ) -> Result<Vec<Team>, ServiceError> {
        self.authorize_identity(principal, tenant, IdentityAction::ListUsers, "team.list", now)
            .await?;
        Ok(self.vault.catalog().teams(tenant).await?)
    }

    /// Records a training attestation (POSTI-TRAINING; administrators only).
    pub async fn add_attestation(
        &self,
        principal: &Principal,
        tenant: &str,
        user: &str,
        training: &str,
        completed_on: NaiveDate,
        now: DateTime<Utc>,
    ) -> Result<TrainingAttestation, ServiceError> {
        self.authorize_identity(
            principal,
            tenant,
            IdentityAction::RecordTraining,
            "training.attest",
            now,
        )
        .await?;
        governance::identity::check_attestation(training, completed_on, now.date_naive())?;
        self.user_record(tenant, user).await?;
        let attestation = TrainingAttestation {
            id: Uuid::now_v7(),
            tenant: tenant.to_owned(),
            user: user.to_owned(),
            training: training.trim().to_owned(),
            completed_on,
            recorded_by: principal.actor(),
            recorded_at: now,
        };
        self.vault.catalog().insert_attestation(&attestation).await?;
        self.audit(
            AuditEvent::new(now, &principal.actor(), "training.attest", Outcome::Done)
                .tenant(tenant)
                .detail(serde_json::json!({
                    "attestation_id": attestation.id, "user": user, "training": attestation.training,
                    "completed_on": completed_on,
                })),
        )
        .await?;
        Ok(attestation)
    }

    /// A tenant's training attestations (administrators, auditors, compliance, grant issuer).
    pub async fn list_attestations(
        &self,
        principal: &Principal,
        tenant: &str,
        now: DateTime<Utc>,
    ) -> Result<Vec<TrainingAttestation>, ServiceError> {
        self.authorize_identity(principal, tenant, IdentityAction::ListUsers, "training.list", now)
            .await?;
        Ok(self.vault.catalog().attestations(tenant, None).await?)
    }

    /// Issues an access grant (ARLO-GRANTS): only the policy's grant issuer (the
    /// security officer), never to themselves, for one of the policy's purposes, with
    /// an expiry.
    pub async fn add_grant(
        &self,
        principal: &Principal,
        request: &GrantRequest<'_>,
        now: DateTime<Utc>,
    ) -> Result<AccessGrant, ServiceError> {
        let tenant = request.tenant;
        self.authorize_identity(principal, tenant, IdentityAction::IssueGrants, "grant.add", now)
            .await?;
        let (policy, _) = self.active_policy(tenant).await?;
        governance::identity::check_new_grant(&policy, &request.grantee, request.purpose, request.expires_at, now)?;
        if request.grantee == Grantee::User(principal.user.clone()) {
            let err = ServiceError {
                kind: ErrorKind::Forbidden,
                code: "grant-to-self".into(),
                message: "a grant issuer cannot grant access to themselves".into(),
                rule: Some("access.grants_issued_by".into()),
            };
            self.audit_denied(principal, tenant, "grant.add", &err, now).await?;
            return Err(err);
        }
        if let Grantee::User(name) = &request.grantee {
            self.user_record(tenant, name).await?;
        }
        match &request.scope {
            GrantScope::Tenant => {}
            GrantScope::Agent(name) => {
                self.user_record(tenant, name).await?;
            }
            GrantScope::Team(name) => {
                if !self
                    .vault
                    .catalog()
                    .teams(tenant)
                    .await?
                    .iter()
                    .any(|t| &t.name == name)
                {
                    return Err(ServiceError::new(ErrorKind::NotFound, "team-unknown", "team not found"));
                }
            }
        }
        let grant = AccessGrant {
            id: Uuid::now_v7(),
            tenant: tenant.to_owned(),
            grantee: request.grantee.clone(),
            scope: request.scope.clone(),
            purpose: request.purpose.to_owned(),
            issued_by: principal.actor(),
            issued_at: now,
            expires_at: request.expires_at,
            revoked_at: None,
            revoked_by: None,
        };
        self.vault.catalog().insert_grant(&grant).await?;
        self.audit(
            AuditEvent::new(now, &principal.actor(), "grant.add", Outcome::Done)
                .tenant(tenant)
                .detail(serde_json::json!({
                    "grant_id": grant.id, "grantee": grant.grantee, "scope": grant.scope.to_string(),
                    "purpose": grant.purpose, "expires_at": grant.expires_at,
                })),
        )
        .await?;
        Ok(grant)
    }

    /// A tenant's grants (grant issuer and auditors).
    pub async fn list_grants(
        &self,
        principal: &Principal,
        tenant: &str,
        now: DateTime<Utc>,
    ) -> Result<Vec<AccessGrant>, ServiceError> {
        self.authorize_identity(principal, tenant, IdentityAction::ListGrants, "grant.list", now)
            .await?;
        Ok(self.vault.catalog().grants(tenant).await?)
    }

    /// Revokes a grant of the principal's tenant (grant issuer only).
    pub async fn revoke_grant(&self, principal: &Principal, id: &str, now: DateTime<Utc>) -> Result<(), ServiceError> {
        self.authorize_identity(
            principal,
            &principal.tenant,
            IdentityAction::IssueGrants,
            "grant.revoke",
            now,
        )
        .await?;
        let unknown = || ServiceError::new(ErrorKind::NotFound, "grant-unknown", "grant not found");
        let id = Uuid::parse_str(id).map_err(|_| unknown())?;
        // Another tenant's grant answers exactly like one that does not exist.
        match self.vault.catalog().grant(id).await? {
            Some(grant) if grant.tenant == principal.tenant => {}
            _ => return Err(unknown()),
        }
        self.vault
            .catalog()
            .revoke_grant(id, &principal.actor(), now)
            .await
            .map_err(|err| match err {
                VaultError::Conflict(message) => ServiceError::new(ErrorKind::Conflict, "grant-revoked", message),
                other => other.into(),
            })?;
        self.audit(
            AuditEvent::new(now, &principal.actor(), "grant.revoke", Outcome::Done)
                .tenant(&principal.tenant)
                .detail(serde_json::json!({"grant_id": id})),
        )
        .await
    }
}

impl Service {
    /// Sets the names under which recordings name `user` as their agent (administrators):
    /// reads map a recording's agent to a user through them (own recordings, team scope).
    pub async fn set_agent_aliases(
        &self,
        principal: &Principal,
        tenant: &str,
        user: &str,
        aliases: &[String],
        now: DateTime<Utc>,
    ) -> Result<(), ServiceError> {
        self.authorize_identity(principal, tenant, IdentityAction::ManageUsers, "user.agent-ids", now)
            .await?;
        self.user_record(tenant, user).await?;
        for alias in aliases {
            if alias.trim().is_empty() || alias.len() > 256 || alias.chars().any(char::is_control) {
                return Err(ServiceError::bad_input(
                    "agent-id-invalid",
                    "an agent id is 1-256 printable characters",
                ));
            }
        }
        self.vault
            .catalog()
            .set_agent_aliases(tenant, user, aliases)
            .await
            .map_err(|err| match err {
                VaultError::Conflict(message) => ServiceError::new(ErrorKind::Conflict, "agent-id-taken", message),
                other => other.into(),
            })?;
        self.audit(
            AuditEvent::new(now, &principal.actor(), "user.agent-ids", Outcome::Done)
                .tenant(tenant)
                .detail(serde_json::json!({"user": user, "count": aliases.len()})),
        )
        .await
    }
}

#[cfg(test)]
#[path = "identities_tests.rs"]
mod tests;

/// A membership change's error: an unknown team or user (404), or `conflict` (409).
fn membership_error(err: VaultError, conflict: &str) -> ServiceError {
    match err {
        VaultError::NotFound(what) => ServiceError::new(
            ErrorKind::NotFound,
            if what.starts_with("team") {
                "team-unknown"
            } else {
                "user-unknown"
            },
            format!("{} not found", what.split(" of ").next().unwrap_or("team or user")),
        ),
        VaultError::Conflict(message) => ServiceError::new(ErrorKind::Conflict, conflict, message),
        other => other.into(),
    }
}
