//! People over HTTP: users, teams, training attestations and access grants of the bearer's
//! own tenant. Who may change what is decided by the service (administrators manage users;
//! the policy's grant issuer issues grants); every change is audited there.

use axum::Json;
use axum::extract::rejection::JsonRejection;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use chrono::{DateTime, NaiveDate, Utc};
use governance::identity::{GrantScope, Grantee, Secret};
use serde::Deserialize;
use service::identities::{GrantRequest, UserRequest};

use crate::auth::json_error;
use crate::{ApiError, AppState, Authenticated};

fn user_json(r: &vault::UserRecord, aliases: Option<&[String]>) -> serde_json::Value {
    let mut value = serde_json::json!({
        "tenant": r.user.tenant, "name": r.user.name, "roles": r.user.roles, "team": r.user.team,
        "status": r.user.status, "created_at": r.created_at,
    });
    if let Some(aliases) = aliases {
        value["agent_ids"] = serde_json::json!(aliases);
    }
    value
}

/// `POST /v1/users` body.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewUserBody {
    pub name: String,
    pub roles: Vec<String>,
    pub team: Option<String>,
    /// The first password (the user should change it).
    pub password: Option<String>,
    /// Names under which recordings name this user as their agent.
    #[serde(default)]
    pub agent_ids: Vec<String>,
}

#[utoipa::path(get, path = "/v1/users", tag = "people", security(("bearer" = [])),
    responses(
        (status = 200, description = "the users of the bearer's tenant", body = [serde_json::Value]),
        (status = 401, description = "no valid credential", body = crate::openapi::ErrorBody),
        (status = 403, description = "not allowed to list users", body = crate::openapi::ErrorBody),
    ))]
pub(crate) async fn list_users(
    State(state): State<AppState>,
    Authenticated(principal): Authenticated,
) -> Result<Json<Vec<serde_json::Value>>, ApiError> {
    let users = state
        .service
        .list_users(&principal, &principal.tenant, (state.clock)())
        .await?;
    Ok(Json(users.iter().map(|u| user_json(u, None)).collect()))
}

#[utoipa::path(post, path = "/v1/users", tag = "people", security(("bearer" = [])),
    request_body = NewUserBody,
    responses(
        (status = 201, description = "the user", body = serde_json::Value),
        (status = 400, description = "malformed body or invalid name, role or password", body = crate::openapi::ErrorBody),
        (status = 401, description = "no valid credential", body = crate::openapi::ErrorBody),
        (status = 403, description = "only administrators add users", body = crate::openapi::ErrorBody),
        (status = 409, description = "the user exists", body = crate::openapi::ErrorBody),
    ))]
pub(crate) async fn add_user(
    State(state): State<AppState>,
    Authenticated(principal): Authenticated,
    body: Result<Json<NewUserBody>, JsonRejection>,
) -> Result<(StatusCode, Json<serde_json::Value>), ApiError> {
    let Json(body) = body.map_err(json_error)?;
    let password = body.password.map(Secret::new);
    let now = (state.clock)();
    let tenant = principal.tenant.clone();
    let record = state
        .service
        .add_user(
            &principal,
            &UserRequest {
                tenant: &tenant,
                name: &body.name,
                roles: &body.roles,
                team: body.team.as_deref(),
                password: password.as_ref(),
            },
            now,
        )
        .await?;
    if !body.agent_ids.is_empty() {
        state
            .service
            .set_agent_aliases(&principal, &tenant, &body.name, &body.agent_ids, now)
            .await?;
    }
    Ok((StatusCode::CREATED, Json(user_json(&record, Some(&body.agent_ids)))))
}

#[utoipa::path(get, path = "/v1/teams", tag = "people", security(("bearer" = [])),
    responses(
        (status = 200, description = "the teams of the bearer's tenant, with members and managers", body = [serde_json::Value]),
        (status = 401, description = "no valid credential", body = crate::openapi::ErrorBody),
        (status = 403, description = "not allowed to list teams", body = crate::openapi::ErrorBody),
    ))]
pub(crate) async fn list_teams(
    State(state): State<AppState>,
    Authenticated(principal): Authenticated,
) -> Result<Json<serde_json::Value>, ApiError> {
    let teams = state
        .service
        .list_teams(&principal, &principal.tenant, (state.clock)())
        .await?;
    Ok(Json(serde_json::to_value(teams).unwrap_or_default()))
}

/// `POST /v1/teams` body.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewTeamBody {
    pub name: String,
    /// A user who manages the team.
    pub manager: Option<String>,
}

#[utoipa::path(post, path = "/v1/teams", tag = "people", security(("bearer" = [])),
    request_body = NewTeamBody,
    responses(
        (status = 201, description = "the team was added"),
        (status = 400, description = "malformed body or invalid name", body = crate::openapi::ErrorBody),
        (status = 401, description = "no valid credential", body = crate::openapi::ErrorBody),
        (status = 403, description = "only administrators add teams", body = crate::openapi::ErrorBody),
        (status = 409, description = "the team exists", body = crate::openapi::ErrorBody),
    ))]
pub(crate) async fn add_team(
    State(state): State<AppState>,
    Authenticated(principal): Authenticated,
    body: Result<Json<NewTeamBody>, JsonRejection>,
) -> Result<StatusCode, ApiError> {
    let Json(body) = body.map_err(json_error)?;
    let now = (state.clock)();
    let tenant = principal.tenant.clone();
    state.service.add_team(&principal, &tenant, &body.name, now).await?;
    if let Some(manager) = &body.manager {
        state
            .service
            .set_team_manager(&principal, &tenant, &body.name, manager, now)
            .await?;
    }
    Ok(StatusCode::CREATED)
}

/// `POST /v1/users/{name}/team` body.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MoveBody {
    /// The team the user joins.
    pub team: String,
    /// When the move took effect (RFC 3339; default now; not later than now).
    pub at: Option<DateTime<Utc>>,
}

#[utoipa::path(post, path = "/v1/users/{name}/team", tag = "people", security(("bearer" = [])),
    params(("name" = String, Path, description = "the user")),
    request_body = MoveBody,
    responses(
        (status = 200, description = "the user moved: `{user, from, to}`; calls before `at` stay with the team they were made in", body = serde_json::Value),
        (status = 400, description = "malformed body or a move in the future", body = crate::openapi::ErrorBody),
        (status = 401, description = "no valid credential", body = crate::openapi::ErrorBody),
        (status = 403, description = "only administrators move users", body = crate::openapi::ErrorBody),
        (status = 404, description = "no such user or team", body = crate::openapi::ErrorBody),
        (status = 409, description = "already in that team, or before the user's last move", body = crate::openapi::ErrorBody),
    ))]
pub(crate) async fn move_user(
    State(state): State<AppState>,
    Authenticated(principal): Authenticated,
    Path(name): Path<String>,
    body: Result<Json<MoveBody>, JsonRejection>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let Json(body) = body.map_err(json_error)?;
    let now = (state.clock)();
    let tenant = principal.tenant.clone();
    let from = state
        .service
        .move_to_team(&principal, &tenant, &name, &body.team, body.at, now)
        .await?;
    Ok(Json(serde_json::json!({"user": name, "from": from, "to": body.team})))
}

#[utoipa::path(get, path = "/v1/attestations", tag = "people", security(("bearer" = [])),
    responses(
        (status = 200, description = "the training attestations of the bearer's tenant", body = [serde_json::Value]),
        (status = 401, description = "no valid credential", body = crate::openapi::ErrorBody),
        (status = 403, description = "not allowed to list them", body = crate::openapi::ErrorBody),
    ))]
pub(crate) async fn list_attestations(
    State(state): State<AppState>,
    Authenticated(principal): Authenticated,
) -> Result<Json<serde_json::Value>, ApiError> {
    let found = state
        .service
        .list_attestations(&principal, &principal.tenant, (state.clock)())
        .await?;
    Ok(Json(serde_json::to_value(found).unwrap_or_default()))
}

/// `POST /v1/attestations` body.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewAttestationBody {
    pub user: String,
    pub training: String,
    /// The day it was completed (YYYY-MM-DD).
    pub completed_on: NaiveDate,
}

#[utoipa::path(post, path = "/v1/attestations", tag = "people", security(("bearer" = [])),
    request_body = NewAttestationBody,
    responses(
        (status = 201, description = "the attestation", body = serde_json::Value),
        (status = 400, description = "malformed body, or a date in the future", body = crate::openapi::ErrorBody),
        (status = 401, description = "no valid credential", body = crate::openapi::ErrorBody),
        (status = 403, description = "only administrators record training", body = crate::openapi::ErrorBody),
    ))]
pub(crate) async fn add_attestation(
    State(state): State<AppState>,
    Authenticated(principal): Authenticated,
    body: Result<Json<NewAttestationBody>, JsonRejection>,
) -> Result<(StatusCode, Json<serde_json::Value>), ApiError> {
    let Json(body) = body.map_err(json_error)?;
    let tenant = principal.tenant.clone();
    let made = state
        .service
        .add_attestation(
            &principal,
            &tenant,
            &body.user,
            &body.training,
            body.completed_on,
            (state.clock)(),
        )
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(serde_json::to_value(made).unwrap_or_default()),
    ))
}

#[utoipa::path(get, path = "/v1/grants", tag = "people", security(("bearer" = [])),
    responses(
        (status = 200, description = "the access grants of the bearer's tenant", body = [serde_json::Value]),
        (status = 401, description = "no valid credential", body = crate::openapi::ErrorBody),
        (status = 403, description = "only the grant issuer and auditors list grants", body = crate::openapi::ErrorBody),
    ))]
pub(crate) async fn list_grants(
    State(state): State<AppState>,
    Authenticated(principal): Authenticated,
) -> Result<Json<serde_json::Value>, ApiError> {
    let found = state
        .service
        .list_grants(&principal, &principal.tenant, (state.clock)())
        .await?;
    Ok(Json(serde_json::to_value(found).unwrap_or_default()))
}

/// `POST /v1/grants` body.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewGrantBody {
    /// A user name, or a role with `grantee_kind = "role"`.
    pub grantee: String,
    #[serde(default)]
    pub grantee_kind: Option<String>,
    /// `tenant` (default), `team` or `agent`.
    #[serde(default)]
    pub scope: Option<String>,
    /// The team or agent the scope names.
    pub scope_target: Option<String>,
    /// One of the policy's purposes.
    pub purpose: String,
    pub expires_at: DateTime<Utc>,
}

#[utoipa::path(post, path = "/v1/grants", tag = "people", security(("bearer" = [])),
    request_body = NewGrantBody,
    responses(
        (status = 201, description = "the grant", body = serde_json::Value),
        (status = 400, description = "malformed body, unknown purpose, expiry out of range", body = crate::openapi::ErrorBody),
        (status = 401, description = "no valid credential", body = crate::openapi::ErrorBody),
        (status = 403, description = "only the policy's grant issuer issues grants", body = crate::openapi::ErrorBody),
    ))]
pub(crate) async fn add_grant(
    State(state): State<AppState>,
    Authenticated(principal): Authenticated,
    body: Result<Json<NewGrantBody>, JsonRejection>,
) -> Result<(StatusCode, Json<serde_json::Value>), ApiError> {
    let Json(body) = body.map_err(json_error)?;
    let grantee = match body.grantee_kind.as_deref() {
        None | Some("user") => Grantee::User(body.grantee),
        Some("role") => Grantee::Role(body.grantee),
        Some(_) => {
            return Err(ApiError::new(
                StatusCode::BAD_REQUEST,
                "grantee-kind-invalid",
                "grantee_kind is user or role",
            ));
        }
    };
    let scope =
        GrantScope::from_parts(body.scope.as_deref().unwrap_or("tenant"), body.scope_target).ok_or_else(|| {
            ApiError::new(
                StatusCode::BAD_REQUEST,
                "grant-scope-invalid",
                "scope is tenant (no target), team or agent (with scope_target)",
            )
        })?;
    let tenant = principal.tenant.clone();
    let grant = state
        .service
        .add_grant(
            &principal,
            &GrantRequest {
                tenant: &tenant,
                grantee,
                scope,
                purpose: &body.purpose,
                expires_at: body.expires_at,
            },
            (state.clock)(),
        )
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(serde_json::to_value(grant).unwrap_or_default()),
    ))
}

#[utoipa::path(delete, path = "/v1/grants/{id}", tag = "people", security(("bearer" = [])),
    params(("id" = String, Path, description = "grant id")),
    responses(
        (status = 204, description = "revoked"),
        (status = 401, description = "no valid credential", body = crate::openapi::ErrorBody),
        (status = 403, description = "only the grant issuer revokes grants", body = crate::openapi::ErrorBody),
        (status = 404, description = "no such grant", body = crate::openapi::ErrorBody),
    ))]
pub(crate) async fn revoke_grant(
    State(state): State<AppState>,
    Authenticated(principal): Authenticated,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    state.service.revoke_grant(&principal, &id, (state.clock)()).await?;
    Ok(StatusCode::NO_CONTENT)
}
