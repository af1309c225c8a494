//! Sign-in over HTTP: `POST /v1/login` (password → web session), `POST /v1/logout`,
//! `POST /v1/tokens` (an API bearer token), and the [`Authenticated`] extractor that
//! turns `Authorization: Bearer …` into a [`Principal`] or answers 401 with a code
//! (`auth-required`, `token-invalid`, `token-expired`, `token-revoked`,
//! `session-expired`, `account-locked`) and `WWW-Authenticate: Bearer`.

use axum::extract::rejection::JsonRejection;
use axum::extract::{DefaultBodyLimit, FromRequestParts, State};
use axum::http::request::Parts;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use chrono::{DateTime, Utc};
use governance::identity::{Principal, Secret};
use governance::{AuditEvent, Outcome};
use serde::{Deserialize, Serialize};
use service::identities::IssuedToken;

use crate::{ApiError, AppState};

/// Largest body the sign-in endpoints read.
const AUTH_BODY_LIMIT: usize = 16 * 1024;

/// The sign-in routes, with their own small body limit.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/v1/login", post(login))
        .route("/v1/logout", post(logout))
        .route("/v1/tokens", post(create_token))
        .layer(DefaultBodyLimit::max(AUTH_BODY_LIMIT))
}

/// `POST /v1/login` body.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LoginRequest {
    pub tenant: String,
    pub name: String,
    pub password: String,
}

/// `POST /v1/tokens` body (every field optional).
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TokenRequest {
    /// RFC 3339; default 30 days from now, at most 365.
    pub expires_at: Option<DateTime<Utc>>,
    pub label: Option<String>,
}

/// A session or token just issued; its value is shown only in this answer (no `Debug`,
/// so it cannot end up in a log line).
#[derive(Serialize, utoipa::ToSchema)]
pub struct TokenAnswer {
    pub id: String,
    pub token: String,
    pub token_type: &'static str,
    pub kind: &'static str,
    pub expires_at: DateTime<Utc>,
    pub user: UserAnswer,
}

/// Who signed in.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct UserAnswer {
    pub tenant: String,
    pub name: String,
    pub roles: Vec<String>,
}

impl TokenAnswer {
    fn new(issued: &IssuedToken, principal: &Principal) -> Self {
        TokenAnswer {
            id: issued.id.to_string(),
            token: issued.value.expose().to_owned(),
            token_type: "Bearer",
            kind: issued.kind.as_str(),
            expires_at: issued.expires_at,
            user: UserAnswer {
                tenant: principal.tenant.clone(),
                name: principal.user.clone(),
                roles: principal.roles.clone(),
            },
        }
    }
}

/// A JSON body that could not be read, as an error answer that never echoes the body.
pub(crate) fn json_error(rejection: JsonRejection) -> ApiError {
    match rejection {
        JsonRejection::MissingJsonContentType(_) => ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "content-type-invalid",
            "the body must be application/json",
        ),
        JsonRejection::BytesRejection(_) => {
            ApiError::new(StatusCode::PAYLOAD_TOO_LARGE, "body-too-large", "the body is too large")
        }
        _ => ApiError::new(
            StatusCode::BAD_REQUEST,
            "json-invalid",
            "the body is not the JSON object this endpoint expects",
        ),
    }
}

#[utoipa::path(post, path = "/v1/login", tag = "auth",
    request_body = LoginRequest,
    responses(
        (status = 200, description = "a web session", body = TokenAnswer),
        (status = 400, description = "malformed body", body = crate::openapi::ErrorBody),
        (status = 401, description = "wrong name or password, or the account is locked", body = crate::openapi::ErrorBody),
    ))]
pub(crate) async fn login(
    State(state): State<AppState>,
    body: Result<Json<LoginRequest>, JsonRejection>,
) -> Result<(StatusCode, Json<TokenAnswer>), ApiError> {
    let Json(request) = body.map_err(json_error)?;
    let password = Secret::new(request.password);
    let now = (state.clock)();
    let (principal, session) = state
        .service
        .login(&request.tenant, &request.name, &password, now)
        .await?;
    Ok((StatusCode::OK, Json(TokenAnswer::new(&session, &principal))))
}

#[utoipa::path(post, path = "/v1/logout", tag = "auth", security(("bearer" = [])),
    responses(
        (status = 204, description = "the session or token is revoked"),
        (status = 401, description = "missing, malformed, expired or revoked credential", body = crate::openapi::ErrorBody),
    ))]
pub(crate) async fn logout(
    State(state): State<AppState>,
    Authenticated(principal): Authenticated,
) -> Result<StatusCode, ApiError> {
    state.service.logout(&principal, (state.clock)()).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(post, path = "/v1/tokens", tag = "auth", security(("bearer" = [])),
    request_body(content = Option<TokenRequest>, description = "optional: expiry and label"),
    responses(
        (status = 200, description = "an API bearer token, shown only in this answer", body = TokenAnswer),
        (status = 400, description = "malformed body", body = crate::openapi::ErrorBody),
        (status = 401, description = "missing, malformed, expired or revoked credential", body = crate::openapi::ErrorBody),
    ))]
pub(crate) async fn create_token(
    State(state): State<AppState>,
    Authenticated(principal): Authenticated,
    body: Result<Json<TokenRequest>, JsonRejection>,
) -> Result<(StatusCode, Json<TokenAnswer>), ApiError> {
    let request = match body {
        Ok(Json(request)) => request,
        // An empty body asks for the defaults.
        Err(JsonRejection::MissingJsonContentType(_)) => TokenRequest::default(),
        Err(other) => return Err(json_error(other)),
    };
    let now = (state.clock)();
    let issued = state
        .service
        .create_api_token(&principal, request.expires_at, request.label.as_deref(), now)
        .await?;
    Ok((StatusCode::CREATED, Json(TokenAnswer::new(&issued, &principal))))
}

/// The principal of a request that carried a valid `Authorization: Bearer` token or
/// session. Handlers that take it cannot run for an unauthenticated request.
#[derive(Debug, Clone)]
pub struct Authenticated(pub Principal);

/// A 401 (or other) answer from the extractor, with `WWW-Authenticate: Bearer`.
#[derive(Debug)]
pub struct AuthRejection(ApiError, StatusCode);

impl IntoResponse for AuthRejection {
    fn into_response(self) -> Response {
        let mut response = self.0.into_response();
        if self.1 == StatusCode::UNAUTHORIZED {
            response
                .headers_mut()
                .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        response
    }
}

/// The bearer value of an `Authorization` header, if it has one.
fn bearer(parts: &Parts) -> Option<Secret> {
    let value = parts.headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| Secret::new(token.trim()))
}

impl FromRequestParts<AppState> for Authenticated {
    type Rejection = AuthRejection;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let now = (state.clock)();
        let Some(token) = bearer(parts) else {
            let audited = state
                .service
                .audit(
                    AuditEvent::new(now, "anonymous", "auth.required", Outcome::Denied)
                        .detail(serde_json::json!({"code": "auth-required", "path": parts.uri.path().chars().take(200).collect::<String>()})),
                )
                .await;
            if let Err(err) = audited {
                let status = StatusCode::INTERNAL_SERVER_ERROR;
                return Err(AuthRejection(ApiError::from(err), status));
            }
            return Err(AuthRejection(
                ApiError::new(
                    StatusCode::UNAUTHORIZED,
                    "auth-required",
                    "this endpoint needs an Authorization: Bearer token (POST /v1/login)",
                ),
                StatusCode::UNAUTHORIZED,
            ));
        };
        match state.service.authenticate_token(&token, now).await {
            Ok(principal) => Ok(Authenticated(principal)),
            Err(err) => {
                let status = if err.kind == service::ErrorKind::Unauthenticated {
                    StatusCode::UNAUTHORIZED
                } else {
                    StatusCode::INTERNAL_SERVER_ERROR
                };
                Err(AuthRejection(ApiError::from(err), status))
            }
        }
    }
}
