//! `POST /v1/recordings`: multipart form with `tenant`, `meta` (JSON) and `audio` (WAV).

use axum::Json;
use axum::extract::{Multipart, State};
use axum::http::StatusCode;
use governance::Actor;
use service::ErrorKind;
use service::wire::{IngestMeta, IngestResult};

use crate::{ApiError, AppState};

#[utoipa::path(post, path = "/v1/recordings", tag = "recordings",
    request_body(content_type = "multipart/form-data",
        description = "fields `tenant` (text), `meta` (META.json, see the README) and `audio` (WAV)"),
    responses(
        (status = 201, description = "stored under the tenant's policy", body = service::wire::IngestResult),
        (status = 400, description = "bad form, metadata or audio", body = crate::openapi::ErrorBody),
        (status = 404, description = "unknown tenant", body = crate::openapi::ErrorBody),
        (status = 413, description = "body over http.max_upload_mb", body = crate::openapi::ErrorBody),
        (status = 422, description = "the policy refuses the recording (code and rule)", body = crate::openapi::ErrorBody),
    ))]
pub async fn ingest(
    State(state): State<AppState>,
    multipart: Result<Multipart, axum::extract::multipart::MultipartRejection>,
) -> Result<(StatusCode, Json<IngestResult>), ApiError> {
    let mut multipart = multipart?;
    let mut tenant: Option<String> = None;
    let mut meta: Option<axum::body::Bytes> = None;
    let mut audio: Option<axum::body::Bytes> = None;
    while let Some(field) = multipart.next_field().await? {
        match field.name().unwrap_or_default() {
            "tenant" => tenant = Some(field.text().await?),
            "meta" => meta = Some(field.bytes().await?),
            "audio" => audio = Some(field.bytes().await?),
            other => {
                return Err(ApiError::new(
                    StatusCode::BAD_REQUEST,
                    "multipart-unknown-field",
                    format!(
                        "unknown form field {:?}; expected tenant, meta and audio",
                        other.chars().take(40).collect::<String>()
                    ),
                ));
            }
        }
    }
    let missing = |name: &str| {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            "multipart-missing-field",
            format!("form field {name} is required"),
        )
    };
    let tenant = tenant.ok_or_else(|| missing("tenant"))?;
    let meta = IngestMeta::from_json(&meta.ok_or_else(|| missing("meta"))?)?;
    let audio = audio.ok_or_else(|| missing("audio"))?;
    let now = (state.clock)();
    match state
        .service
        .ingest(&tenant, &audio, &meta, &Actor::Service("http-ingest".into()), now)
        .await
    {
        Ok(result) => {
            state.metrics.count_ingest("stored", "");
            Ok((StatusCode::CREATED, Json(result)))
        }
        Err(err) => {
            let outcome = if err.kind == ErrorKind::Refused {
                "refused"
            } else {
                "failed"
            };
            state.metrics.count_ingest(outcome, &err.code);
            Err(err.into())
        }
    }
}
