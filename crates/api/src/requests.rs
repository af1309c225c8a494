//! Data-subject requests over HTTP (`/v1/requests…`), mirroring `callvault request`:
//! open, verify, search, decide, consent, fulfil, lift a restriction, close, show, list
//! and the overdue list. Every call acts for the bearer, who must hold the role the
//! tenant's policy names (`rights.handled_by`); the service checks and audits each step.
//!
//! Fulfilling a request fulfilled by a copy answers with the signed copy bundle itself
//! (each file base64-encoded in the JSON answer, as `request fulfil --out` writes it);
//! no other request type yields audio here (supervised playback is `playback.rs`).

use axum::Json;
use axum::extract::rejection::{JsonRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use base64::Engine;
use chrono::{DateTime, NaiveDate, NaiveTime, Utc};
use serde::{Deserialize, Serialize};
use service::{DecisionInput, OpenRequest, RequestView, SubjectSearch};

use crate::auth::json_error;
use crate::{ApiError, AppState, Authenticated};

/// `POST /v1/requests` body.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OpenRequestBody {
    /// Default: the bearer's tenant.
    pub tenant: Option<String>,
    /// information, access, copy, rectification, completion, erasure, portability,
    /// restriction, objection, consent-withdrawal (as the policy offers them).
    #[serde(rename = "type")]
    pub kind: String,
    /// email, phone, post, web, in-person (as the policy accepts them).
    pub channel: String,
    /// Who made the request.
    pub requester: String,
    /// The subject's numbers, E.164 or national (the tenant's country).
    #[serde(default)]
    pub numbers: Vec<String>,
    /// When it arrived (default now; not in the future).
    pub received_at: Option<DateTime<Utc>>,
}

/// `POST /v1/requests/{id}/verify` body.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct VerifyBody {
    /// How the identity was checked (kept with the request, never in the audit log).
    pub method: String,
}

/// `POST /v1/requests/{id}/search` body (every field optional).
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SearchBody {
    /// More numbers of the subject (the request's own are always searched).
    #[serde(default)]
    pub numbers: Vec<String>,
    /// The day of the call (UTC); without it, every recording of the numbers.
    pub date: Option<NaiveDate>,
    /// The approximate time of the call, `HH:MM` (UTC); needs `date`.
    pub time: Option<String>,
    /// How far from `time` a call may have been (default 15, at most 1440).
    pub window_minutes: Option<u32>,
}

/// `POST /v1/requests/{id}/decisions` body.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DecisionBody {
    pub recording: String,
    /// `fulfil` or `deny`.
    pub decision: String,
    /// With `deny`: legal-obligation, contract, protection-of-a-party, legal-claims,
    /// rights-of-others, manifestly-unfounded.
    pub reason: Option<String>,
}

/// `POST /v1/requests/{id}/consents` body (CSI-COPY).
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ConsentBody {
    pub recording: String,
    /// The participant's index or role (agent, customer...).
    pub participant: String,
    /// How the consent was given.
    pub evidence: String,
}

/// `POST /v1/requests/{id}/close` body.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CloseBody {
    pub reason: String,
}

/// Query of `GET /v1/requests`.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ListParams {
    /// Default: the bearer's tenant.
    pub tenant: Option<String>,
    /// Only open requests past their due date (WEBEO-30DAYS).
    pub overdue: Option<bool>,
}

/// One file of a copy bundle (the manifest lists every other file's SHA-256 and is
/// signed: `manifest.sig`).
#[derive(Serialize, utoipa::ToSchema)]
pub struct BundleFileAnswer {
    /// Path inside the bundle (`manifest.json`, `manifest.sig`, `recordings/ID.wav`...).
    pub name: String,
    pub size: usize,
    /// The bytes, standard base64.
    pub content_base64: String,
}

/// The signed copy for the data subject.
#[derive(Serialize, utoipa::ToSchema)]
pub struct BundleAnswer {
    pub manifest_sha256: String,
    pub files: Vec<BundleFileAnswer>,
}

/// What fulfilling a request did.
#[derive(Serialize, utoipa::ToSchema)]
pub struct FulfilAnswer {
    pub request: RequestView,
    /// The copy bundle, for requests fulfilled by a copy; otherwise null.
    pub bundle: Option<BundleAnswer>,
}

fn query_error(rejection: QueryRejection) -> ApiError {
    ApiError::new(
        StatusCode::BAD_REQUEST,
        "query-invalid",
        format!("query string: {}", rejection.body_text()),
    )
}

#[utoipa::path(post, path = "/v1/requests", tag = "requests", security(("bearer" = [])),
    request_body = OpenRequestBody,
    responses(
        (status = 201, description = "the request, received; its due date follows from the policy", body = RequestView),
        (status = 400, description = "malformed body, unknown type or channel, invalid number", body = crate::openapi::ErrorBody),
        (status = 401, description = "no valid credential", body = crate::openapi::ErrorBody),
        (status = 403, description = "the bearer does not handle this tenant's requests (`role-required`)", body = crate::openapi::ErrorBody),
        (status = 404, description = "no such tenant", body = crate::openapi::ErrorBody),
        (status = 422, description = "the policy does not offer this type or channel", body = crate::openapi::ErrorBody),
    ))]
pub(crate) async fn open(
    State(state): State<AppState>,
    Authenticated(principal): Authenticated,
    body: Result<Json<OpenRequestBody>, JsonRejection>,
) -> Result<(StatusCode, Json<RequestView>), ApiError> {
    let Json(body) = body.map_err(json_error)?;
    let tenant = body.tenant.unwrap_or_else(|| principal.tenant.clone());
    let open = OpenRequest {
        tenant: &tenant,
        kind: &body.kind,
        channel: &body.channel,
        requester: &body.requester,
        numbers: &body.numbers,
        received_at: body.received_at,
    };
    let view = state.service.open_request(&principal, &open, (state.clock)()).await?;
    Ok((StatusCode::CREATED, Json(view)))
}

#[utoipa::path(get, path = "/v1/requests", tag = "requests", security(("bearer" = [])),
    params(ListParams),
    responses(
        (status = 200, description = "the tenant's requests, oldest first", body = [RequestView]),
        (status = 400, description = "malformed query", body = crate::openapi::ErrorBody),
        (status = 401, description = "no valid credential", body = crate::openapi::ErrorBody),
        (status = 403, description = "the bearer does not handle this tenant's requests", body = crate::openapi::ErrorBody),
        (status = 404, description = "no such tenant", body = crate::openapi::ErrorBody),
    ))]
pub(crate) async fn list(
    State(state): State<AppState>,
    Authenticated(principal): Authenticated,
    params: Result<Query<ListParams>, QueryRejection>,
) -> Result<Json<Vec<RequestView>>, ApiError> {
    let Query(params) = params.map_err(query_error)?;
    let found = state
        .service
        .list_requests(
            &principal,
            params.tenant.as_deref(),
            params.overdue.unwrap_or(false),
            (state.clock)(),
        )
        .await?;
    Ok(Json(found))
}

#[utoipa::path(get, path = "/v1/requests/{id}", tag = "requests", security(("bearer" = [])),
    params(("id" = String, Path, description = "request id")),
    responses(
        (status = 200, description = "the request", body = RequestView),
        (status = 401, description = "no valid credential", body = crate::openapi::ErrorBody),
        (status = 403, description = "the bearer does not handle requests", body = crate::openapi::ErrorBody),
        (status = 404, description = "no such request (another tenant's ids answer the same)", body = crate::openapi::ErrorBody),
    ))]
pub(crate) async fn show(
    State(state): State<AppState>,
    Authenticated(principal): Authenticated,
    Path(id): Path<String>,
) -> Result<Json<RequestView>, ApiError> {
    Ok(Json(
        state.service.show_request(&principal, &id, (state.clock)()).await?,
    ))
}

#[utoipa::path(post, path = "/v1/requests/{id}/verify", tag = "requests", security(("bearer" = [])),
    params(("id" = String, Path, description = "request id")),
    request_body = VerifyBody,
    responses(
        (status = 200, description = "the identity is verified: who and how are kept", body = RequestView),
        (status = 400, description = "malformed body or method", body = crate::openapi::ErrorBody),
        (status = 401, description = "no valid credential", body = crate::openapi::ErrorBody),
        (status = 403, description = "the bearer does not handle requests", body = crate::openapi::ErrorBody),
        (status = 404, description = "no such request", body = crate::openapi::ErrorBody),
        (status = 409, description = "already verified, or the request has ended", body = crate::openapi::ErrorBody),
    ))]
pub(crate) async fn verify(
    State(state): State<AppState>,
    Authenticated(principal): Authenticated,
    Path(id): Path<String>,
    body: Result<Json<VerifyBody>, JsonRejection>,
) -> Result<Json<RequestView>, ApiError> {
    let Json(body) = body.map_err(json_error)?;
    let view = state
        .service
        .verify_request(&principal, &id, &body.method, (state.clock)())
        .await?;
    Ok(Json(view))
}

#[utoipa::path(post, path = "/v1/requests/{id}/search", tag = "requests", security(("bearer" = [])),
    params(("id" = String, Path, description = "request id")),
    request_body(content = Option<SearchBody>, description = "optional: more numbers, date, time and window"),
    responses(
        (status = 200, description = "the recordings found so far (searches add up)", body = RequestView),
        (status = 400, description = "malformed body, time without date, invalid number or window", body = crate::openapi::ErrorBody),
        (status = 401, description = "no valid credential", body = crate::openapi::ErrorBody),
        (status = 403, description = "the bearer does not handle requests", body = crate::openapi::ErrorBody),
        (status = 404, description = "no such request", body = crate::openapi::ErrorBody),
        (status = 409, description = "the request has ended", body = crate::openapi::ErrorBody),
        (status = 422, description = "the identity is not verified yet (`identity-not-verified`)", body = crate::openapi::ErrorBody),
    ))]
pub(crate) async fn search(
    State(state): State<AppState>,
    Authenticated(principal): Authenticated,
    Path(id): Path<String>,
    body: Result<Json<SearchBody>, JsonRejection>,
) -> Result<Json<RequestView>, ApiError> {
    let body = match body {
        Ok(Json(body)) => body,
        // No body: every recording of the request's numbers.
        Err(JsonRejection::MissingJsonContentType(_)) => SearchBody::default(),
        Err(other) => return Err(json_error(other)),
    };
    let time = match body.time.as_deref() {
        None => None,
        Some(_) if body.date.is_none() => {
            return Err(ApiError::new(
                StatusCode::BAD_REQUEST,
                "time-without-date",
                "time needs date",
            ));
        }
        Some(text) => Some(
            NaiveTime::parse_from_str(text, "%H:%M")
                .map_err(|_| ApiError::new(StatusCode::BAD_REQUEST, "time-invalid", "time is HH:MM (UTC)"))?,
        ),
    };
    let search = SubjectSearch {
        numbers: &body.numbers,
        date: body.date,
        time,
        window_minutes: body.window_minutes.unwrap_or(15),
    };
    let view = state
        .service
        .search_request(&principal, &id, &search, (state.clock)())
        .await?;
    Ok(Json(view))
}

#[utoipa::path(post, path = "/v1/requests/{id}/decisions", tag = "requests", security(("bearer" = [])),
    params(("id" = String, Path, description = "request id")),
    request_body = DecisionBody,
    responses(
        (status = 200, description = "the decision is recorded", body = RequestView),
        (status = 400, description = "malformed body, unknown decision or deny reason", body = crate::openapi::ErrorBody),
        (status = 401, description = "no valid credential", body = crate::openapi::ErrorBody),
        (status = 403, description = "the bearer does not handle requests", body = crate::openapi::ErrorBody),
        (status = 404, description = "no such request", body = crate::openapi::ErrorBody),
        (status = 409, description = "not searched yet, the recording was not found for it, or the request has ended", body = crate::openapi::ErrorBody),
        (status = 422, description = "the reason is not allowed for this type", body = crate::openapi::ErrorBody),
    ))]
pub(crate) async fn decide(
    State(state): State<AppState>,
    Authenticated(principal): Authenticated,
    Path(id): Path<String>,
    body: Result<Json<DecisionBody>, JsonRejection>,
) -> Result<Json<RequestView>, ApiError> {
    let Json(body) = body.map_err(json_error)?;
    let decision = match (body.decision.as_str(), body.reason.as_deref()) {
        ("fulfil", None) => DecisionInput::Fulfil,
        ("deny", Some(reason)) => DecisionInput::Deny(reason),
        _ => {
            return Err(ApiError::new(
                StatusCode::BAD_REQUEST,
                "decision-invalid",
                "decision is fulfil (no reason) or deny (with a reason)",
            ));
        }
    };
    let view = state
        .service
        .decide_request(&principal, &id, &body.recording, decision, (state.clock)())
        .await?;
    Ok(Json(view))
}

#[utoipa::path(post, path = "/v1/requests/{id}/consents", tag = "requests", security(("bearer" = [])),
    params(("id" = String, Path, description = "request id")),
    request_body = ConsentBody,
    responses(
        (status = 200, description = "the participant's consent to a copy is recorded", body = RequestView),
        (status = 400, description = "malformed body, unknown participant, missing evidence", body = crate::openapi::ErrorBody),
        (status = 401, description = "no valid credential", body = crate::openapi::ErrorBody),
        (status = 403, description = "the bearer does not handle requests", body = crate::openapi::ErrorBody),
        (status = 404, description = "no such request", body = crate::openapi::ErrorBody),
        (status = 409, description = "the recording is not part of the request, or it has ended", body = crate::openapi::ErrorBody),
    ))]
pub(crate) async fn consent(
    State(state): State<AppState>,
    Authenticated(principal): Authenticated,
    Path(id): Path<String>,
    body: Result<Json<ConsentBody>, JsonRejection>,
) -> Result<Json<RequestView>, ApiError> {
    let Json(body) = body.map_err(json_error)?;
    let view = state
        .service
        .record_copy_consent(
            &principal,
            &id,
            &body.recording,
            &body.participant,
            &body.evidence,
            (state.clock)(),
        )
        .await?;
    Ok(Json(view))
}

#[utoipa::path(post, path = "/v1/requests/{id}/fulfil", tag = "requests", security(("bearer" = [])),
    params(("id" = String, Path, description = "request id")),
    responses(
        (status = 200, description = "the decisions are carried out; a copy request answers with its signed bundle", body = FulfilAnswer),
        (status = 401, description = "no valid credential", body = crate::openapi::ErrorBody),
        (status = 403, description = "the bearer does not handle requests", body = crate::openapi::ErrorBody),
        (status = 404, description = "no such request", body = crate::openapi::ErrorBody),
        (status = 409, description = "undecided recordings, no playback held yet, or the request has ended", body = crate::openapi::ErrorBody),
        (status = 422, description = "refused by the policy: identity not verified, a party's consent missing", body = crate::openapi::ErrorBody),
    ))]
pub(crate) async fn fulfil(
    State(state): State<AppState>,
    Authenticated(principal): Authenticated,
    Path(id): Path<String>,
) -> Result<Json<FulfilAnswer>, ApiError> {
    let done = state.service.fulfil_request(&principal, &id, (state.clock)()).await?;
    let bundle = done.bundle.map(|bundle| BundleAnswer {
        manifest_sha256: bundle.manifest_sha256,
        files: bundle
            .files
            .into_iter()
            .map(|file| BundleFileAnswer {
                size: file.bytes.len(),
                content_base64: base64::engine::general_purpose::STANDARD.encode(&file.bytes),
                name: file.name,
            })
            .collect(),
    });
    Ok(Json(FulfilAnswer {
        request: done.request,
        bundle,
    }))
}

#[utoipa::path(post, path = "/v1/requests/{id}/lift-restriction", tag = "requests", security(("bearer" = [])),
    params(("id" = String, Path, description = "request id")),
    responses(
        (status = 200, description = "the request's restrictions are lifted; use resumes", body = RequestView),
        (status = 401, description = "no valid credential", body = crate::openapi::ErrorBody),
        (status = 403, description = "the bearer does not handle requests", body = crate::openapi::ErrorBody),
        (status = 404, description = "no such request", body = crate::openapi::ErrorBody),
        (status = 409, description = "no restriction in force", body = crate::openapi::ErrorBody),
    ))]
pub(crate) async fn lift_restriction(
    State(state): State<AppState>,
    Authenticated(principal): Authenticated,
    Path(id): Path<String>,
) -> Result<Json<RequestView>, ApiError> {
    let view = state
        .service
        .lift_request_restrictions(&principal, &id, (state.clock)())
        .await?;
    Ok(Json(view))
}

#[utoipa::path(post, path = "/v1/requests/{id}/close", tag = "requests", security(("bearer" = [])),
    params(("id" = String, Path, description = "request id")),
    request_body = CloseBody,
    responses(
        (status = 200, description = "closed without fulfilment; its playback sessions end", body = RequestView),
        (status = 400, description = "malformed body or missing reason", body = crate::openapi::ErrorBody),
        (status = 401, description = "no valid credential", body = crate::openapi::ErrorBody),
        (status = 403, description = "the bearer does not handle requests", body = crate::openapi::ErrorBody),
        (status = 404, description = "no such request", body = crate::openapi::ErrorBody),
        (status = 409, description = "the request has already ended", body = crate::openapi::ErrorBody),
    ))]
pub(crate) async fn close(
    State(state): State<AppState>,
    Authenticated(principal): Authenticated,
    Path(id): Path<String>,
    body: Result<Json<CloseBody>, JsonRejection>,
) -> Result<Json<RequestView>, ApiError> {
    let Json(body) = body.map_err(json_error)?;
    let view = state
        .service
        .close_request(&principal, &id, &body.reason, (state.clock)())
        .await?;
    Ok(Json(view))
}
