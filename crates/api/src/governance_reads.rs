//! The rules and the trace over HTTP: the bearer's tenant's policy versions and notice,
//! and the audit chain's verification and export (for the roles the policy lets read it).

use axum::Json;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use serde::Deserialize;
use service::AuditVerification;

use crate::{ApiError, AppState, Authenticated};

#[utoipa::path(get, path = "/v1/policies", tag = "policies", security(("bearer" = [])),
    responses(
        (status = 200, description = "the versions of the bearer's tenant's policy (state, approval)", body = [serde_json::Value]),
        (status = 401, description = "no valid credential", body = crate::openapi::ErrorBody),
    ))]
pub(crate) async fn list_policies(
    State(state): State<AppState>,
    Authenticated(principal): Authenticated,
) -> Result<Json<Vec<serde_json::Value>>, ApiError> {
    let versions = state.service.tenant_policies(&principal, (state.clock)()).await?;
    Ok(Json(
        versions
            .iter()
            .map(|v| {
                serde_json::json!({
                    "tenant": v.tenant, "version": v.version, "policy_id": v.policy_id,
                    "document_version": v.document_version, "state": v.state.as_str(),
                    "sha256": v.sha256, "created_at": v.created_at, "created_by": v.created_by,
                    "approved_at": v.approved_at, "approved_by": v.approved_by,
                })
            })
            .collect(),
    ))
}

#[utoipa::path(get, path = "/v1/policies/{version}/render", tag = "policies", security(("bearer" = [])),
    params(("version" = i64, Path, description = "policy version")),
    responses(
        (status = 200, description = "the policy as a readable notice", content_type = "text/markdown"),
        (status = 401, description = "no valid credential", body = crate::openapi::ErrorBody),
        (status = 404, description = "no such version", body = crate::openapi::ErrorBody),
    ))]
pub(crate) async fn render_policy(
    State(state): State<AppState>,
    Authenticated(principal): Authenticated,
    Path(version): Path<String>,
) -> Result<Response, ApiError> {
    let version: i64 = version.parse().map_err(|_| {
        ApiError::new(
            StatusCode::NOT_FOUND,
            "policy-version-unknown",
            "no such policy version",
        )
    })?;
    let text = state
        .service
        .render_tenant_policy(&principal, version, (state.clock)())
        .await?;
    let mut response = (StatusCode::OK, text).into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/markdown; charset=utf-8"),
    );
    Ok(response)
}

#[utoipa::path(get, path = "/v1/audit/verify", tag = "audit", security(("bearer" = [])),
    responses(
        (status = 200, description = "the chain and its signed checkpoints verified (ok false names the first bad event)", body = AuditVerification),
        (status = 401, description = "no valid credential", body = crate::openapi::ErrorBody),
        (status = 403, description = "the policy does not let this role read the audit log", body = crate::openapi::ErrorBody),
    ))]
pub(crate) async fn verify_audit(
    State(state): State<AppState>,
    Authenticated(principal): Authenticated,
) -> Result<Json<AuditVerification>, ApiError> {
    Ok(Json(state.service.verify_audit_for(&principal, (state.clock)()).await?))
}

/// Query of `GET /v1/audit/events`.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct AuditRange {
    pub from: Option<DateTime<Utc>>,
    pub to: Option<DateTime<Utc>>,
}

#[utoipa::path(get, path = "/v1/audit/events", tag = "audit", security(("bearer" = [])),
    params(AuditRange),
    responses(
        (status = 200, description = "the tenant's audit events as JSON lines", content_type = "application/jsonl"),
        (status = 400, description = "malformed times", body = crate::openapi::ErrorBody),
        (status = 401, description = "no valid credential", body = crate::openapi::ErrorBody),
        (status = 403, description = "the policy does not let this role read the audit log", body = crate::openapi::ErrorBody),
    ))]
pub(crate) async fn export_audit(
    State(state): State<AppState>,
    Authenticated(principal): Authenticated,
    range: Result<Query<AuditRange>, QueryRejection>,
) -> Result<Response, ApiError> {
    let Query(range) = range.map_err(|r| {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            "query-invalid",
            format!("query string: {}", r.body_text()),
        )
    })?;
    let events = state
        .service
        .export_audit_for(&principal, range.from, range.to, (state.clock)())
        .await?;
    let mut body = String::new();
    for event in events {
        body.push_str(&event.to_string());
        body.push('\n');
    }
    let mut response = (StatusCode::OK, body).into_response();
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static("application/jsonl"));
    Ok(response)
}
