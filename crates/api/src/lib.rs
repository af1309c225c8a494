//! The HTTP API (axum): `/healthz`, `/metrics`, and `/v1/...`. Handlers translate
//! HTTP to service calls and back; they hold no business rules.

mod auth;
mod error;
mod governance_reads;
mod ingest;
mod metrics;
pub mod openapi;
mod people;
mod playback;
mod recordings;
mod redaction;
mod requests;
mod screening;

use std::sync::Arc;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::routing::{delete, get, post};

pub use auth::{AuthRejection, Authenticated};
pub use error::ApiError;
pub use metrics::Metrics;

/// Shared state of the HTTP handlers.
#[derive(Clone)]
pub struct AppState {
    pub service: service::Service,
    pub metrics: Arc<Metrics>,
    /// The clock; injected so tests and handlers agree on time.
    pub clock: Arc<dyn Fn() -> chrono::DateTime<chrono::Utc> + Send + Sync>,
    /// More metric families in Prometheus text form (the recorder's), if any.
    pub extra_metrics: Option<Arc<dyn Fn() -> String + Send + Sync>>,
}

/// API limits and options.
#[derive(Debug, Clone)]
pub struct ApiSettings {
    /// Largest accepted request body (an uploaded recording plus metadata).
    pub max_body_bytes: usize,
}

/// The router with every route.
pub fn router(state: AppState, settings: &ApiSettings) -> Router {
    Router::new()
        .route("/healthz", get(openapi::healthz))
        .route("/openapi.json", get(openapi::openapi_json))
        .route("/metrics", get(metrics::render))
        .route("/v1/recordings", post(ingest::ingest).get(recordings::search))
        .route(
            "/v1/recordings/{id}",
            get(recordings::metadata).delete(recordings::erase),
        )
        .route("/v1/recordings/{id}/audio", get(recordings::audio))
        .route("/v1/recordings/{id}/download", get(recordings::download))
        .route(
            "/v1/recordings/{id}/transcripts",
            post(redaction::import_transcript).get(redaction::show_transcript),
        )
        .route("/v1/recordings/{id}/findings", post(redaction::detect))
        .route(
            "/v1/derivatives",
            post(redaction::create_derivative).get(redaction::list_derivatives),
        )
        .route("/v1/derivatives/{id}", get(redaction::show_derivative))
        .route(
            "/v1/derivatives/{id}/spans",
            get(redaction::list_spans).post(redaction::add_span),
        )
        .route("/v1/derivatives/{id}/spans/{index}", delete(redaction::remove_span))
        .route("/v1/derivatives/{id}/approval", post(redaction::approve))
        .route("/v1/derivatives/{id}/download", get(redaction::download))
        .route("/v1/derivatives/{id}/transcript", get(redaction::derivative_transcript))
        .route("/v1/users", get(people::list_users).post(people::add_user))
        .route("/v1/teams", get(people::list_teams).post(people::add_team))
        .route("/v1/users/{name}/team", post(people::move_user))
        .route(
            "/v1/attestations",
            get(people::list_attestations).post(people::add_attestation),
        )
        .route("/v1/grants", get(people::list_grants).post(people::add_grant))
        .route("/v1/grants/{id}", delete(people::revoke_grant))
        .route("/v1/policies", get(governance_reads::list_policies))
        .route("/v1/policies/{version}/render", get(governance_reads::render_policy))
        .route("/v1/audit/verify", get(governance_reads::verify_audit))
        .route("/v1/audit/events", get(governance_reads::export_audit))
        .route("/v1/screening", post(screening::screen))
        .route("/v1/requests", post(requests::open).get(requests::list))
        .route("/v1/requests/{id}", get(requests::show))
        .route("/v1/requests/{id}/verify", post(requests::verify))
        .route("/v1/requests/{id}/search", post(requests::search))
        .route("/v1/requests/{id}/decisions", post(requests::decide))
        .route("/v1/requests/{id}/consents", post(requests::consent))
        .route("/v1/requests/{id}/fulfil", post(requests::fulfil))
        .route("/v1/requests/{id}/lift-restriction", post(requests::lift_restriction))
        .route("/v1/requests/{id}/close", post(requests::close))
        .route("/v1/requests/{id}/playback", post(playback::open))
        .route("/v1/playback/{session}", delete(playback::close))
        .route("/v1/playback/{session}/audio", get(playback::audio))
        .merge(auth::routes())
        .fallback(|| async { ApiError::new(axum::http::StatusCode::NOT_FOUND, "route-not-found", "no such endpoint") })
        .method_not_allowed_fallback(|| async {
            ApiError::new(
                axum::http::StatusCode::METHOD_NOT_ALLOWED,
                "method-not-allowed",
                "method not allowed on this endpoint",
            )
        })
        .layer(DefaultBodyLimit::max(settings.max_body_bytes))
        .with_state(state)
}

/// Serves `app` on `listener` until `shutdown` completes.
pub async fn serve(
    listener: tokio::net::TcpListener,
    app: Router,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(listener, app).with_graceful_shutdown(shutdown).await
}
