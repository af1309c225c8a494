//! `POST /v1/screening`: for each number, which registers list it (and since which
//! file), and whether the tenant's policy allows an unsolicited marketing call to it.

use axum::Json;
use axum::extract::State;
use axum::extract::rejection::JsonRejection;
use axum::http::StatusCode;

use ::screening::wire::{ScreeningRequest, ScreeningResponse};

use crate::{ApiError, AppState};

#[utoipa::path(post, path = "/v1/screening", tag = "screening",
    request_body = ::screening::wire::ScreeningRequest,
    responses(
        (status = 200, description = "one answer per number, in order", body = ::screening::wire::ScreeningResponse),
        (status = 400, description = "bad body or number", body = crate::openapi::ErrorBody),
        (status = 404, description = "unknown tenant", body = crate::openapi::ErrorBody),
    ))]
pub async fn screen(
    State(state): State<AppState>,
    body: Result<Json<ScreeningRequest>, JsonRejection>,
) -> Result<Json<ScreeningResponse>, ApiError> {
    // The rejection text may quote the body (phone numbers): answer with the shape only.
    let Json(request) = body.map_err(|rejection| {
        ApiError::new(
            rejection.status(),
            "body-invalid",
            r#"the body must be JSON {"tenant": "NAME", "numbers": ["+44...", ...]} with Content-Type: application/json"#,
        )
    })?;
    if request.numbers.is_empty() {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "numbers-required",
            "numbers: give at least one number",
        ));
    }
    let response = state
        .service
        .screen_numbers(request.tenant.as_deref(), &request.numbers)
        .await?;
    Ok(Json(response))
}
