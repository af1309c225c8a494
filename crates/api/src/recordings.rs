//! Recordings over HTTP: search, metadata, audio streaming with `Range` (listen), download,
//! erasure. Every call acts for the bearer's person and names a purpose and a reason; the
//! service asks the recording's policy (Cedar) and audits the answer.

use axum::Json;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use governance::Actor;
use governance::authz::AccessAction;
use serde::Deserialize;
use service::wire::{RecordingDetail, RecordingSummary};
use service::{ExportFormat, ExportRequest, RecordingQuery};

use crate::{ApiError, AppState, Authenticated};

/// Query of `GET /v1/recordings`.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct SearchParams {
    /// One of the policy's purposes.
    pub purpose: Option<String>,
    /// Why the search is needed (kept in the audit log).
    pub reason: Option<String>,
    /// The customer's number, E.164 or national; matched through the keyed hash.
    pub customer_number: Option<String>,
    /// Started at or after (RFC 3339).
    pub from: Option<DateTime<Utc>>,
    /// Started at or before (RFC 3339).
    pub to: Option<DateTime<Utc>>,
    pub agent: Option<String>,
    /// inbound, outbound or unknown.
    pub direction: Option<String>,
    /// At most this many results (default 100, at most 1000).
    pub limit: Option<i64>,
}

/// Purpose and reason of a read of one recording.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ReadParams {
    pub purpose: Option<String>,
    pub reason: Option<String>,
}

/// Query of the audio endpoints.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct AudioParams {
    pub purpose: Option<String>,
    pub reason: Option<String>,
    /// One participant's stream (by label), mono.
    pub stream: Option<String>,
    /// `mono` (all streams mixed, the default) or `stereo` (customer left, agent right).
    pub layout: Option<String>,
}

/// Query of `DELETE /v1/recordings/{id}`.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct EraseParams {
    pub reason: Option<String>,
}

/// Largest page of a search.
const MAX_LIMIT: i64 = 1000;

pub(crate) fn query_error(rejection: QueryRejection) -> ApiError {
    ApiError::new(
        StatusCode::BAD_REQUEST,
        "query-invalid",
        format!("query string: {}", rejection.body_text()),
    )
}

#[utoipa::path(get, path = "/v1/recordings", tag = "recordings", security(("bearer" = [])),
    params(SearchParams),
    responses(
        (status = 200, description = "the recordings the rules let this person find, newest first", body = [RecordingSummary]),
        (status = 400, description = "malformed query", body = crate::openapi::ErrorBody),
        (status = 401, description = "no valid credential", body = crate::openapi::ErrorBody),
        (status = 403, description = "the policy does not allow this search (code names the rule)", body = crate::openapi::ErrorBody),
    ))]
pub(crate) async fn search(
    State(state): State<AppState>,
    Authenticated(principal): Authenticated,
    params: Result<Query<SearchParams>, QueryRejection>,
) -> Result<Json<Vec<RecordingSummary>>, ApiError> {
    let Query(params) = params.map_err(query_error)?;
    let limit = params.limit.unwrap_or(100);
    if !(1..=MAX_LIMIT).contains(&limit) {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "limit-invalid",
            format!("limit is 1 to {MAX_LIMIT}"),
        ));
    }
    let query = RecordingQuery {
        tenant: None,
        customer_number: params.customer_number,
        purpose: params.purpose,
        reason: params.reason,
        from: params.from,
        to: params.to,
        agent: params.agent,
        direction: params.direction,
        limit: Some(limit),
    };
    let actor = Actor::from(principal);
    let found = state.service.list_recordings(&query, &actor, (state.clock)()).await?;
    Ok(Json(found))
}

#[utoipa::path(get, path = "/v1/recordings/{id}", tag = "recordings", security(("bearer" = [])),
    params(("id" = String, Path, description = "recording id"), ReadParams),
    responses(
        (status = 200, description = "the register entry (numbers as the policy allows)", body = RecordingDetail),
        (status = 401, description = "no valid credential", body = crate::openapi::ErrorBody),
        (status = 403, description = "the policy does not allow this read", body = crate::openapi::ErrorBody),
        (status = 404, description = "no such recording (another tenant's ids answer the same)", body = crate::openapi::ErrorBody),
    ))]
pub(crate) async fn metadata(
    State(state): State<AppState>,
    Authenticated(principal): Authenticated,
    Path(id): Path<String>,
    params: Result<Query<ReadParams>, QueryRejection>,
) -> Result<Json<RecordingDetail>, ApiError> {
    let Query(params) = params.map_err(query_error)?;
    let actor = Actor::from(principal);
    let detail = state
        .service
        .show_recording(
            &id,
            params.purpose.as_deref().unwrap_or_default(),
            params.reason.as_deref().unwrap_or_default(),
            &actor,
            (state.clock)(),
        )
        .await?;
    Ok(Json(detail))
}

fn layout(params: &AudioParams) -> Result<ExportFormat, ApiError> {
    match params.layout.as_deref() {
        None | Some("mono") => Ok(ExportFormat::Wav),
        Some("stereo") => Ok(ExportFormat::WavStereo),
        Some(_) => Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "layout-invalid",
            "layout is mono or stereo",
        )),
    }
}

async fn audio_bytes(
    state: &AppState,
    principal: governance::identity::Principal,
    id: &str,
    params: &AudioParams,
    action: AccessAction,
) -> Result<service::ExportedAudio, ApiError> {
    let format = layout(params)?;
    let request = ExportRequest {
        id,
        purpose: params.purpose.as_deref().unwrap_or_default(),
        reason: params.reason.as_deref().unwrap_or_default(),
        format,
        stream: params.stream.as_deref(),
    };
    let actor = Actor::from(principal);
    Ok(state
        .service
        .read_audio(&request, action, None, &actor, (state.clock)())
        .await?)
}

/// A single byte range of a body of `len` bytes: `Ok(None)` for no `Range` header.
pub(crate) fn byte_range(headers: &HeaderMap, len: u64) -> Result<Option<(u64, u64)>, ()> {
    let Some(value) = headers.get(header::RANGE) else {
        return Ok(None);
    };
    let text = value.to_str().map_err(|_| ())?.trim();
    let spec = text.strip_prefix("bytes=").ok_or(())?;
    if spec.contains(',') {
        return Err(()); // one range only
    }
    let (first, last) = spec.split_once('-').ok_or(())?;
    let (first, last) = (first.trim(), last.trim());
    let range = if first.is_empty() {
        let suffix: u64 = last.parse().map_err(|_| ())?;
        if suffix == 0 || len == 0 {
            return Err(());
        }
        (len.saturating_sub(suffix), len - 1)
    } else {
        let start: u64 = first.parse().map_err(|_| ())?;
        let end = if last.is_empty() {
            len.saturating_sub(1)
        } else {
            last.parse::<u64>().map_err(|_| ())?.min(len.saturating_sub(1))
        };
        (start, end)
    };
    if range.0 > range.1 || range.0 >= len {
        return Err(());
    }
    Ok(Some(range))
}

#[utoipa::path(get, path = "/v1/recordings/{id}/audio", tag = "recordings", security(("bearer" = [])),
    params(("id" = String, Path, description = "recording id"), AudioParams,
        ("Range" = Option<String>, Header, description = "one byte range, e.g. bytes=0-65535")),
    responses(
        (status = 200, description = "the audio as WAV, streamed for listening (inline)", content_type = "audio/wav"),
        (status = 206, description = "the requested byte range", content_type = "audio/wav"),
        (status = 401, description = "no valid credential", body = crate::openapi::ErrorBody),
        (status = 403, description = "the policy does not allow listening", body = crate::openapi::ErrorBody),
        (status = 404, description = "no such recording", body = crate::openapi::ErrorBody),
        (status = 416, description = "the range is not satisfiable", body = crate::openapi::ErrorBody),
    ))]
pub(crate) async fn audio(
    State(state): State<AppState>,
    Authenticated(principal): Authenticated,
    Path(id): Path<String>,
    headers: HeaderMap,
    params: Result<Query<AudioParams>, QueryRejection>,
) -> Result<Response, ApiError> {
    let Query(params) = params.map_err(query_error)?;
    let audio = audio_bytes(&state, principal, &id, &params, AccessAction::Listen).await?;
    ranged_wav(&headers, audio.wav)
}

/// A WAV to listen to (inline, never stored by a cache), whole or the one byte range the
/// `Range` header asks for (206 with `Content-Range`; 416 `range-invalid` otherwise).
pub(crate) fn ranged_wav(headers: &HeaderMap, wav: Vec<u8>) -> Result<Response, ApiError> {
    let len = wav.len() as u64;
    let range = byte_range(headers, len).map_err(|()| {
        ApiError::new(
            StatusCode::RANGE_NOT_SATISFIABLE,
            "range-invalid",
            format!("one byte range within 0-{}", len.saturating_sub(1)),
        )
    })?;
    let mut response = match range {
        None => (StatusCode::OK, wav).into_response(),
        Some((start, end)) => {
            // `byte_range` keeps both ends within the body.
            let body = wav
                .get(start as usize..=end as usize)
                .map(<[u8]>::to_vec)
                .unwrap_or_default();
            let mut response = (StatusCode::PARTIAL_CONTENT, body).into_response();
            if let Ok(value) = HeaderValue::from_str(&format!("bytes {start}-{end}/{len}")) {
                response.headers_mut().insert(header::CONTENT_RANGE, value);
            }
            response
        }
    };
    let h = response.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static("audio/wav"));
    h.insert(header::ACCEPT_RANGES, HeaderValue::from_static("bytes"));
    h.insert(header::CONTENT_DISPOSITION, HeaderValue::from_static("inline"));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(response)
}

#[utoipa::path(get, path = "/v1/recordings/{id}/download", tag = "recordings", security(("bearer" = [])),
    params(("id" = String, Path, description = "recording id"), AudioParams),
    responses(
        (status = 200, description = "the audio as a WAV file (attachment), with its SHA-256 in X-Content-SHA256", content_type = "audio/wav"),
        (status = 401, description = "no valid credential", body = crate::openapi::ErrorBody),
        (status = 403, description = "the policy does not allow downloads", body = crate::openapi::ErrorBody),
        (status = 404, description = "no such recording", body = crate::openapi::ErrorBody),
    ))]
pub(crate) async fn download(
    State(state): State<AppState>,
    Authenticated(principal): Authenticated,
    Path(id): Path<String>,
    params: Result<Query<AudioParams>, QueryRejection>,
) -> Result<Response, ApiError> {
    let Query(params) = params.map_err(query_error)?;
    let audio = audio_bytes(&state, principal, &id, &params, AccessAction::Download).await?;
    let mut response = (StatusCode::OK, audio.wav).into_response();
    let h = response.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static("audio/wav"));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    // The id was checked by the service (a UUID), so it is safe in a header.
    if let Ok(value) = HeaderValue::from_str(&format!("attachment; filename=\"{id}.wav\"")) {
        h.insert(header::CONTENT_DISPOSITION, value);
    }
    if let Ok(value) = HeaderValue::from_str(&audio.sha256) {
        h.insert("x-content-sha256", value);
    }
    Ok(response)
}

#[utoipa::path(delete, path = "/v1/recordings/{id}", tag = "recordings", security(("bearer" = [])),
    params(("id" = String, Path, description = "recording id"), EraseParams),
    responses(
        (status = 200, description = "erased: the key is destroyed and a tombstone remains", body = serde_json::Value),
        (status = 401, description = "no valid credential", body = crate::openapi::ErrorBody),
        (status = 403, description = "the policy does not allow this erasure", body = crate::openapi::ErrorBody),
        (status = 404, description = "no such recording", body = crate::openapi::ErrorBody),
        (status = 409, description = "a legal hold applies", body = crate::openapi::ErrorBody),
    ))]
pub(crate) async fn erase(
    State(state): State<AppState>,
    Authenticated(principal): Authenticated,
    Path(id): Path<String>,
    params: Result<Query<EraseParams>, QueryRejection>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let Query(params) = params.map_err(query_error)?;
    let actor = Actor::from(principal);
    let tombstone = state
        .service
        .erase_recording(
            &id,
            params.reason.as_deref().unwrap_or_default(),
            &actor,
            (state.clock)(),
        )
        .await?;
    Ok(Json(serde_json::json!({
        "recording_id": tombstone.recording_id.to_string(),
        "tenant": tombstone.tenant,
        "policy_version": tombstone.policy_version,
        "erased": true,
    })))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(range: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(header::RANGE, HeaderValue::from_str(range).unwrap());
        h
    }

    #[test]
    fn ranges_as_rfc_9110_reads_them() {
        type Case<'a> = (&'a str, u64, Result<Option<(u64, u64)>, ()>);
        let cases: &[Case] = &[
            ("bytes=0-99", 1000, Ok(Some((0, 99)))),
            ("bytes=900-", 1000, Ok(Some((900, 999)))),
            ("bytes=-100", 1000, Ok(Some((900, 999)))),
            ("bytes=0-5000", 1000, Ok(Some((0, 999)))),
            ("bytes=-5000", 1000, Ok(Some((0, 999)))),
            ("bytes=1000-", 1000, Err(())),
            ("bytes=5-1", 1000, Err(())),
            ("bytes=0-1,5-6", 1000, Err(())),
            ("items=0-1", 1000, Err(())),
            ("bytes=x-1", 1000, Err(())),
            ("bytes=-0", 1000, Err(())),
        ];
        for (text, len, expected) in cases {
            assert_eq!(byte_range(&headers(text), *len), *expected, "{text}");
        }
        assert_eq!(byte_range(&HeaderMap::new(), 10), Ok(None));
    }
}
