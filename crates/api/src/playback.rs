//! Supervised playback over HTTP (POSTI-SUPERVISED): a request handler opens a session
//! (`POST /v1/requests/{id}/playback`, bearer auth) and gets its token once; the visiting
//! data subject's player streams `GET /v1/playback/{session}/audio` with that token
//! (`Authorization: Bearer <session token>`, or `?token=` for an `<audio>` element, which
//! cannot send headers); a handler ends it early with `DELETE /v1/playback/{session}`.
//! A session has no download endpoint: the audio is served inline, `no-store`, with
//! `Range`, and the token never appears in a log or an audit event.

use axum::Json;
use axum::extract::rejection::{JsonRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::Response;
use governance::identity::Secret;
use serde::{Deserialize, Serialize};
use service::playback::PlaybackView;

use crate::auth::json_error;
use crate::recordings::ranged_wav;
use crate::{ApiError, AppState, Authenticated};

/// `POST /v1/requests/{id}/playback` body.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OpenPlaybackBody {
    /// A recording the request decided to fulfil.
    pub recording: String,
    /// The session's length (default 30, 1 to 120).
    pub minutes: Option<u32>,
}

/// A session just opened; the token is shown only in this answer.
#[derive(Serialize, utoipa::ToSchema)]
pub struct PlaybackAnswer {
    pub session: PlaybackView,
    /// The session token: `Authorization: Bearer <token>` (or `?token=`) on `audio_path`.
    pub token: String,
    pub token_type: &'static str,
    pub audio_path: String,
}

/// Query of `GET /v1/playback/{session}/audio`.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct PlaybackAudioParams {
    /// The session token, for players that cannot send an `Authorization` header.
    pub token: Option<String>,
}

#[utoipa::path(post, path = "/v1/requests/{id}/playback", tag = "requests", security(("bearer" = [])),
    params(("id" = String, Path, description = "request id")),
    request_body = OpenPlaybackBody,
    responses(
        (status = 201, description = "a playback session for the visiting data subject, with its token (shown once)", body = PlaybackAnswer),
        (status = 400, description = "malformed body or minutes out of range", body = crate::openapi::ErrorBody),
        (status = 401, description = "no valid credential", body = crate::openapi::ErrorBody),
        (status = 403, description = "the bearer does not handle requests, or may not listen in the workflow", body = crate::openapi::ErrorBody),
        (status = 404, description = "no such request, or the recording no longer exists", body = crate::openapi::ErrorBody),
        (status = 409, description = "undecided, the recording is not released, or the request has ended", body = crate::openapi::ErrorBody),
        (status = 422, description = "the request is not fulfilled by supervised playback (`request-not-supervised-playback`)", body = crate::openapi::ErrorBody),
    ))]
pub(crate) async fn open(
    State(state): State<AppState>,
    Authenticated(principal): Authenticated,
    Path(id): Path<String>,
    body: Result<Json<OpenPlaybackBody>, JsonRejection>,
) -> Result<(StatusCode, Json<PlaybackAnswer>), ApiError> {
    let Json(body) = body.map_err(json_error)?;
    let opened = state
        .service
        .open_playback(&principal, &id, &body.recording, body.minutes, (state.clock)())
        .await?;
    let audio_path = opened.session.audio_path.clone();
    Ok((
        StatusCode::CREATED,
        Json(PlaybackAnswer {
            session: opened.session,
            token: opened.token.expose().to_owned(),
            token_type: "Bearer",
            audio_path,
        }),
    ))
}

/// The session token: the `Authorization: Bearer` header, else `?token=`.
fn session_token(headers: &HeaderMap, params: &PlaybackAudioParams) -> Option<Secret> {
    let from_header = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split_once(' '))
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
        .map(|(_, token)| Secret::new(token.trim()));
    from_header.or_else(|| params.token.as_deref().map(Secret::new))
}

#[utoipa::path(get, path = "/v1/playback/{session}/audio", tag = "requests",
    params(("session" = String, Path, description = "playback session id"), PlaybackAudioParams,
        ("Authorization" = Option<String>, Header, description = "Bearer <session token> (or ?token=)"),
        ("Range" = Option<String>, Header, description = "one byte range, e.g. bytes=0-65535")),
    responses(
        (status = 200, description = "the recording as WAV, streamed inline for listening only (no-store)", content_type = "audio/wav"),
        (status = 206, description = "the requested byte range", content_type = "audio/wav"),
        (status = 401, description = "the session token is missing or wrong", body = crate::openapi::ErrorBody),
        (status = 403, description = "the handler who opened it may no longer listen", body = crate::openapi::ErrorBody),
        (status = 404, description = "no such session", body = crate::openapi::ErrorBody),
        (status = 410, description = "the session expired (`playback-expired`) or was closed (`playback-closed`)", body = crate::openapi::ErrorBody),
        (status = 416, description = "the range is not satisfiable", body = crate::openapi::ErrorBody),
    ))]
pub(crate) async fn audio(
    State(state): State<AppState>,
    Path(session): Path<String>,
    headers: HeaderMap,
    params: Result<Query<PlaybackAudioParams>, QueryRejection>,
) -> Result<Response, ApiError> {
    let Query(params) = params.map_err(|rejection| {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            "query-invalid",
            format!("query string: {}", rejection.body_text()),
        )
    })?;
    let token = session_token(&headers, &params);
    let audio = state
        .service
        .stream_playback(&session, token.as_ref(), (state.clock)())
        .await?;
    // Listen, do not keep: inline, never stored by a cache or the browser.
    let mut response = ranged_wav(&headers, audio.wav)?;
    let h = response.headers_mut();
    h.insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
    h.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    // A `?token=` URL must not leak through a Referer.
    h.insert(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    Ok(response)
}

#[utoipa::path(delete, path = "/v1/playback/{session}", tag = "requests", security(("bearer" = [])),
    params(("session" = String, Path, description = "playback session id")),
    responses(
        (status = 200, description = "the session is closed; its audio answers 410 from now on", body = PlaybackView),
        (status = 401, description = "no valid credential", body = crate::openapi::ErrorBody),
        (status = 403, description = "the bearer does not handle requests", body = crate::openapi::ErrorBody),
        (status = 404, description = "no such session", body = crate::openapi::ErrorBody),
        (status = 409, description = "already closed", body = crate::openapi::ErrorBody),
    ))]
pub(crate) async fn close(
    State(state): State<AppState>,
    Authenticated(principal): Authenticated,
    Path(session): Path<String>,
) -> Result<Json<PlaybackView>, ApiError> {
    let view = state
        .service
        .close_playback(&principal, &session, (state.clock)())
        .await?;
    Ok(Json(view))
}
