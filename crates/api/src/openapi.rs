//! `GET /openapi.json`: the OpenAPI 3.1 document, generated at compile time (utoipa)
//! from the handlers' own `#[utoipa::path]` annotations and the wire types' schemas.
//! Nothing is fetched or served besides the JSON (no bundled UI).

use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

/// The error envelope every endpoint answers with on failure.
#[derive(utoipa::ToSchema)]
#[allow(dead_code)] // documents the shape `ApiError` serialises to
pub struct ErrorBody {
    error: ErrorDetail,
}

#[derive(utoipa::ToSchema)]
#[allow(dead_code)]
pub struct ErrorDetail {
    /// A stable machine-readable code, e.g. `purpose-not-in-policy`.
    code: String,
    /// One line for people; never echoes personal data from the request.
    message: String,
    /// The policy rule behind a refusal, e.g. `recording.directions`.
    rule: Option<String>,
}

#[derive(OpenApi)]
#[openapi(
    info(title = "callvault", description = "Call recording governed by executable policies."),
    paths(
        healthz,
        crate::metrics::render,
        crate::ingest::ingest,
        crate::recordings::search,
        crate::recordings::metadata,
        crate::recordings::audio,
        crate::recordings::download,
        crate::recordings::erase,
        crate::redaction::import_transcript,
        crate::redaction::show_transcript,
        crate::redaction::detect,
        crate::redaction::create_derivative,
        crate::redaction::list_derivatives,
        crate::redaction::show_derivative,
        crate::redaction::list_spans,
        crate::redaction::add_span,
        crate::redaction::remove_span,
        crate::redaction::approve,
        crate::redaction::download,
        crate::redaction::derivative_transcript,
        crate::people::list_users,
        crate::people::add_user,
        crate::people::list_teams,
        crate::people::move_user,
        crate::people::add_team,
        crate::people::list_attestations,
        crate::people::add_attestation,
        crate::people::list_grants,
        crate::people::add_grant,
        crate::people::revoke_grant,
        crate::governance_reads::list_policies,
        crate::governance_reads::render_policy,
        crate::governance_reads::verify_audit,
        crate::governance_reads::export_audit,
        crate::screening::screen,
        crate::requests::open,
        crate::requests::list,
        crate::requests::show,
        crate::requests::verify,
        crate::requests::search,
        crate::requests::decide,
        crate::requests::consent,
        crate::requests::fulfil,
        crate::requests::lift_restriction,
        crate::requests::close,
        crate::playback::open,
        crate::playback::audio,
        crate::playback::close,
        crate::auth::login,
        crate::auth::logout,
        crate::auth::create_token,
        openapi_json,
    ),
    components(schemas(ErrorBody, ErrorDetail)),
    modifiers(&BearerAuth),
)]
pub struct ApiDoc;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}

#[utoipa::path(get, path = "/healthz", tag = "operations",
    responses((status = 200, description = "the server is up: `{\"status\": \"ok\"}`")))]
pub(crate) async fn healthz() -> axum::Json<serde_json::Value> {
    axum::Json(serde_json::json!({"status": "ok"}))
}

#[utoipa::path(get, path = "/openapi.json", tag = "operations",
    responses((status = 200, description = "this document")))]
pub(crate) async fn openapi_json() -> axum::Json<utoipa::openapi::OpenApi> {
    axum::Json(ApiDoc::openapi())
}
