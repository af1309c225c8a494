//! Redaction over HTTP (CSI-FAQ, ARLO-PSEUDO): a recording's transcripts and PII
//! findings, and derivatives (training copies, FAQ clips) with their review, approval and
//! export. The same service calls as `callvault transcript …` and `callvault derivative …`;
//! the service authorizes each for the bearer's person and audits it.

use axum::Json;
use axum::body::Bytes;
use axum::extract::rejection::{JsonRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use governance::Actor;
use redact::{Fill, TranscriptFormat};
use serde::Deserialize;
use service::redaction::{DerivativeRequest, DerivativeView, ExportedDerivative, SpanReview};
use service::wire::{DerivativeSpan, FindingView, TranscriptImported, TranscriptView};
use vault::DerivativeKind;

use crate::auth::json_error;
use crate::recordings::{ReadParams, query_error};
use crate::{ApiError, AppState, Authenticated};

type JsonBody<T> = Result<Json<T>, JsonRejection>;
type QueryOf<T> = Result<Query<T>, QueryRejection>;

fn bad(code: &str, message: impl Into<String>) -> ApiError {
    ApiError::new(StatusCode::BAD_REQUEST, code, message)
}

/// `POST /v1/recordings/{id}/transcripts` body.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TranscriptImportBody {
    /// `vtt`, `whisper` or `aws`.
    pub format: String,
    /// The speech-to-text output: its text as a string (WebVTT, or JSON), or for the JSON
    /// formats the JSON itself.
    #[schema(value_type = Object)]
    pub document: serde_json::Value,
    /// The stream (label) it is the transcript of; absent: the whole recording.
    pub stream: Option<String>,
    pub purpose: Option<String>,
    pub reason: Option<String>,
}

fn document_bytes(document: &serde_json::Value) -> Result<Vec<u8>, ApiError> {
    match document {
        serde_json::Value::String(text) => Ok(text.as_bytes().to_vec()),
        serde_json::Value::Object(_) | serde_json::Value::Array(_) => Ok(document.to_string().into_bytes()),
        _ => Err(bad(
            "document-invalid",
            "document is the transcript's text (a string) or its JSON (an object)",
        )),
    }
}

#[utoipa::path(post, path = "/v1/recordings/{id}/transcripts", tag = "redaction", security(("bearer" = [])),
    params(("id" = String, Path, description = "recording id")),
    request_body = TranscriptImportBody,
    responses(
        (status = 201, description = "imported, stored encrypted under the recording's key", body = TranscriptImported),
        (status = 400, description = "malformed body, unknown format or stream, or a transcript that does not parse", body = crate::openapi::ErrorBody),
        (status = 401, description = "no valid credential", body = crate::openapi::ErrorBody),
        (status = 403, description = "the policy does not allow this person to listen for this purpose", body = crate::openapi::ErrorBody),
        (status = 404, description = "no such recording (another tenant's ids answer the same)", body = crate::openapi::ErrorBody),
    ))]
pub(crate) async fn import_transcript(
    State(state): State<AppState>,
    Authenticated(principal): Authenticated,
    Path(id): Path<String>,
    body: JsonBody<TranscriptImportBody>,
) -> Result<(StatusCode, Json<TranscriptImported>), ApiError> {
    let Json(body) = body.map_err(json_error)?;
    let format = TranscriptFormat::from_name(&body.format)
        .ok_or_else(|| bad("format-unknown", "format is vtt, whisper or aws"))?;
    let document = document_bytes(&body.document)?;
    let words = state
        .service
        .import_transcript(
            &id,
            format,
            &document,
            body.stream.as_deref(),
            body.purpose.as_deref().unwrap_or_default(),
            body.reason.as_deref().unwrap_or_default(),
            &Actor::from(principal),
            (state.clock)(),
        )
        .await?;
    let answer = TranscriptImported {
        recording: id,
        format: format.name().to_owned(),
        stream: body.stream,
        words,
    };
    Ok((StatusCode::CREATED, Json(answer)))
}

#[utoipa::path(get, path = "/v1/recordings/{id}/transcripts", tag = "redaction", security(("bearer" = [])),
    params(("id" = String, Path, description = "recording id"), ReadParams),
    responses(
        (status = 200, description = "the recording's transcript, every imported stream merged (a read: audited)", body = TranscriptView),
        (status = 401, description = "no valid credential", body = crate::openapi::ErrorBody),
        (status = 403, description = "not allowed, or `pseudonymised-copy-only` for a purpose served only from a training copy", body = crate::openapi::ErrorBody),
        (status = 404, description = "no such recording, or `transcript-missing`", body = crate::openapi::ErrorBody),
    ))]
pub(crate) async fn show_transcript(
    State(state): State<AppState>,
    Authenticated(principal): Authenticated,
    Path(id): Path<String>,
    params: QueryOf<ReadParams>,
) -> Result<Json<TranscriptView>, ApiError> {
    let Query(params) = params.map_err(query_error)?;
    let transcript = state
        .service
        .show_transcript(
            &id,
            params.purpose.as_deref().unwrap_or_default(),
            params.reason.as_deref().unwrap_or_default(),
            &Actor::from(principal),
            (state.clock)(),
        )
        .await?;
    Ok(Json(TranscriptView::from(&transcript)))
}

/// `POST /v1/recordings/{id}/findings` body.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FindingsBody {
    pub purpose: Option<String>,
    pub reason: Option<String>,
    /// Words and phrases that are always PII here (the operator's list).
    #[serde(default)]
    pub word_list: Vec<String>,
}

#[utoipa::path(post, path = "/v1/recordings/{id}/findings", tag = "redaction", security(("bearer" = [])),
    params(("id" = String, Path, description = "recording id")),
    request_body = FindingsBody,
    responses(
        (status = 200, description = "PII detection over the transcript and the audio (DTMF); evidence is a shape and a keyed hash, never the value; nothing is stored", body = [FindingView]),
        (status = 400, description = "malformed body", body = crate::openapi::ErrorBody),
        (status = 401, description = "no valid credential", body = crate::openapi::ErrorBody),
        (status = 403, description = "the policy does not allow this person to listen for this purpose", body = crate::openapi::ErrorBody),
        (status = 404, description = "no such recording", body = crate::openapi::ErrorBody),
    ))]
pub(crate) async fn detect(
    State(state): State<AppState>,
    Authenticated(principal): Authenticated,
    Path(id): Path<String>,
    body: JsonBody<FindingsBody>,
) -> Result<Json<Vec<FindingView>>, ApiError> {
    let Json(body) = body.map_err(json_error)?;
    let findings = state
        .service
        .detect_pii(
            &id,
            body.purpose.as_deref().unwrap_or_default(),
            body.reason.as_deref().unwrap_or_default(),
            &body.word_list,
            &Actor::from(principal),
            (state.clock)(),
        )
        .await?;
    Ok(Json(findings.iter().map(FindingView::from).collect()))
}

/// `POST /v1/derivatives` body.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewDerivativeBody {
    /// The source recording's id.
    pub source: String,
    /// `training` (the whole call, pseudonymised) or `faq-clip` (a range, for publication).
    pub kind: String,
    pub purpose: Option<String>,
    pub reason: Option<String>,
    /// An FAQ clip's start, milliseconds from the start of the recording.
    pub from_ms: Option<u64>,
    /// An FAQ clip's end, milliseconds.
    pub to_ms: Option<u64>,
    /// Milliseconds added before and after every span (default 150, at most 10000).
    pub padding_ms: Option<u64>,
    /// `tone` (default) or `silence`.
    pub fill: Option<String>,
    /// Words and phrases always removed.
    #[serde(default)]
    pub word_list: Vec<String>,
}

#[utoipa::path(post, path = "/v1/derivatives", tag = "redaction", security(("bearer" = [])),
    request_body = NewDerivativeBody,
    responses(
        (status = 201, description = "the derivative: a draft where the purpose names an approver, else usable at once", body = DerivativeView),
        (status = 400, description = "malformed body, unknown kind or fill, a bad range or padding", body = crate::openapi::ErrorBody),
        (status = 401, description = "no valid credential", body = crate::openapi::ErrorBody),
        (status = 403, description = "the policy does not allow this person to listen for this purpose", body = crate::openapi::ErrorBody),
        (status = 404, description = "no such source recording", body = crate::openapi::ErrorBody),
        (status = 422, description = "refused by policy, e.g. `purpose-not-publication` for an FAQ clip", body = crate::openapi::ErrorBody),
    ))]
pub(crate) async fn create_derivative(
    State(state): State<AppState>,
    Authenticated(principal): Authenticated,
    body: JsonBody<NewDerivativeBody>,
) -> Result<(StatusCode, Json<DerivativeView>), ApiError> {
    let Json(body) = body.map_err(json_error)?;
    let kind = DerivativeKind::parse(&body.kind).ok_or_else(|| bad("kind-unknown", "kind is training or faq-clip"))?;
    let fill = match body.fill.as_deref() {
        None | Some("tone") => Fill::TONE,
        Some("silence") => Fill::Silence,
        Some(_) => return Err(bad("fill-unknown", "fill is tone or silence")),
    };
    let request = DerivativeRequest {
        source: &body.source,
        kind,
        purpose: body.purpose.as_deref().unwrap_or_default(),
        reason: body.reason.as_deref().unwrap_or_default(),
        from_ms: body.from_ms,
        to_ms: body.to_ms,
        padding_ms: body.padding_ms.unwrap_or(150),
        fill,
        word_list: body.word_list.clone(),
    };
    let view = state
        .service
        .create_derivative(&request, &Actor::from(principal), (state.clock)())
        .await?;
    Ok((StatusCode::CREATED, Json(view)))
}

/// Query of `GET /v1/derivatives`.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ListParams {
    /// Only the derivatives of this source recording.
    pub source: Option<String>,
}

#[utoipa::path(get, path = "/v1/derivatives", tag = "redaction", security(("bearer" = [])),
    params(ListParams),
    responses(
        (status = 200, description = "the derivatives of the bearer's tenant (of one source), with lineage and state", body = [DerivativeView]),
        (status = 401, description = "no valid credential", body = crate::openapi::ErrorBody),
        (status = 404, description = "`source` is not a recording id", body = crate::openapi::ErrorBody),
    ))]
pub(crate) async fn list_derivatives(
    State(state): State<AppState>,
    Authenticated(principal): Authenticated,
    params: QueryOf<ListParams>,
) -> Result<Json<Vec<DerivativeView>>, ApiError> {
    let Query(params) = params.map_err(query_error)?;
    let found = state
        .service
        .list_derivatives(params.source.as_deref(), &Actor::from(principal), (state.clock)())
        .await?;
    Ok(Json(found))
}

#[utoipa::path(get, path = "/v1/derivatives/{id}", tag = "redaction", security(("bearer" = [])),
    params(("id" = String, Path, description = "derivative id")),
    responses(
        (status = 200, description = "lineage, removed spans, review state (no content)", body = DerivativeView),
        (status = 401, description = "no valid credential", body = crate::openapi::ErrorBody),
        (status = 404, description = "no such derivative (another tenant's ids answer the same)", body = crate::openapi::ErrorBody),
    ))]
pub(crate) async fn show_derivative(
    State(state): State<AppState>,
    Authenticated(principal): Authenticated,
    Path(id): Path<String>,
) -> Result<Json<DerivativeView>, ApiError> {
    let view = state
        .service
        .show_derivative(&id, &Actor::from(principal), (state.clock)())
        .await?;
    Ok(Json(view))
}

fn numbered(view: DerivativeView) -> Vec<DerivativeSpan> {
    view.spans
        .into_iter()
        .enumerate()
        .map(|(index, span)| DerivativeSpan { index, span })
        .collect()
}

#[utoipa::path(get, path = "/v1/derivatives/{id}/spans", tag = "redaction", security(("bearer" = [])),
    params(("id" = String, Path, description = "derivative id")),
    responses(
        (status = 200, description = "the removed spans in time order, numbered from 0 (evidence hashed)", body = [DerivativeSpan]),
        (status = 401, description = "no valid credential", body = crate::openapi::ErrorBody),
        (status = 404, description = "no such derivative", body = crate::openapi::ErrorBody),
    ))]
pub(crate) async fn list_spans(
    State(state): State<AppState>,
    Authenticated(principal): Authenticated,
    Path(id): Path<String>,
) -> Result<Json<Vec<DerivativeSpan>>, ApiError> {
    let view = state
        .service
        .show_derivative(&id, &Actor::from(principal), (state.clock)())
        .await?;
    Ok(Json(numbered(view)))
}

/// `POST /v1/derivatives/{id}/spans` body: one more span to remove (source timeline).
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewSpanBody {
    pub start_ms: u64,
    pub end_ms: u64,
    pub reason: Option<String>,
}

#[utoipa::path(post, path = "/v1/derivatives/{id}/spans", tag = "redaction", security(("bearer" = [])),
    params(("id" = String, Path, description = "derivative id")),
    request_body = NewSpanBody,
    responses(
        (status = 201, description = "added; the draft is rendered again from its source", body = DerivativeView),
        (status = 400, description = "malformed body, or `span-invalid`, `span-outside-recording`, `span-outside-clip`", body = crate::openapi::ErrorBody),
        (status = 401, description = "no valid credential", body = crate::openapi::ErrorBody),
        (status = 403, description = "only the purpose's approver role reviews (`approver-role-required`)", body = crate::openapi::ErrorBody),
        (status = 404, description = "no such derivative", body = crate::openapi::ErrorBody),
        (status = 409, description = "already approved, or the source is gone", body = crate::openapi::ErrorBody),
    ))]
pub(crate) async fn add_span(
    State(state): State<AppState>,
    Authenticated(principal): Authenticated,
    Path(id): Path<String>,
    body: JsonBody<NewSpanBody>,
) -> Result<(StatusCode, Json<DerivativeView>), ApiError> {
    let Json(body) = body.map_err(json_error)?;
    let review = SpanReview {
        add: vec![(body.start_ms, body.end_ms)],
        remove: Vec::new(),
    };
    let reason = body.reason.unwrap_or_default();
    let view = state
        .service
        .review_derivative(&id, &review, &reason, &Actor::from(principal), (state.clock)())
        .await?;
    Ok((StatusCode::CREATED, Json(view)))
}

/// Query of `DELETE /v1/derivatives/{id}/spans/{index}`.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ReasonParams {
    pub reason: Option<String>,
}

#[utoipa::path(delete, path = "/v1/derivatives/{id}/spans/{index}", tag = "redaction", security(("bearer" = [])),
    params(("id" = String, Path, description = "derivative id"),
        ("index" = usize, Path, description = "the span's number in `GET …/spans`"), ReasonParams),
    responses(
        (status = 200, description = "the span is kept after all; the draft is rendered again", body = DerivativeView),
        (status = 401, description = "no valid credential", body = crate::openapi::ErrorBody),
        (status = 403, description = "only the purpose's approver role reviews", body = crate::openapi::ErrorBody),
        (status = 404, description = "no such derivative, or `span-unknown`", body = crate::openapi::ErrorBody),
        (status = 409, description = "already approved, or the source is gone", body = crate::openapi::ErrorBody),
    ))]
pub(crate) async fn remove_span(
    State(state): State<AppState>,
    Authenticated(principal): Authenticated,
    Path((id, index)): Path<(String, String)>,
    params: QueryOf<ReasonParams>,
) -> Result<Json<DerivativeView>, ApiError> {
    let Query(params) = params.map_err(query_error)?;
    let index: usize = index.parse().map_err(|_| {
        ApiError::new(
            StatusCode::NOT_FOUND,
            "span-unknown",
            "spans are numbered from 0 (GET …/spans)",
        )
    })?;
    let review = SpanReview {
        add: Vec::new(),
        remove: vec![index],
    };
    let view = state
        .service
        .review_derivative(
            &id,
            &review,
            params.reason.as_deref().unwrap_or_default(),
            &Actor::from(principal),
            (state.clock)(),
        )
        .await?;
    Ok(Json(view))
}

/// `POST /v1/derivatives/{id}/approval` body (may be empty).
#[derive(Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ApprovalBody {
    /// Declares that the derivative holds no personal data: it survives its source's
    /// erasure and is marked as such.
    #[serde(default)]
    pub anonymous: bool,
}

#[utoipa::path(post, path = "/v1/derivatives/{id}/approval", tag = "redaction", security(("bearer" = [])),
    params(("id" = String, Path, description = "derivative id")),
    request_body(content = ApprovalBody, description = "optional; `{\"anonymous\": true}` declares it anonymous"),
    responses(
        (status = 200, description = "approved (and anonymous if declared)", body = DerivativeView),
        (status = 400, description = "malformed body", body = crate::openapi::ErrorBody),
        (status = 401, description = "no valid credential", body = crate::openapi::ErrorBody),
        (status = 403, description = "only the role the purpose names in `approved_by` approves (`approver-role-required`)", body = crate::openapi::ErrorBody),
        (status = 404, description = "no such derivative", body = crate::openapi::ErrorBody),
        (status = 409, description = "already approved", body = crate::openapi::ErrorBody),
    ))]
pub(crate) async fn approve(
    State(state): State<AppState>,
    Authenticated(principal): Authenticated,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Json<DerivativeView>, ApiError> {
    let body: ApprovalBody = if body.iter().all(u8::is_ascii_whitespace) {
        ApprovalBody::default()
    } else {
        serde_json::from_slice(&body)
            .map_err(|_| bad("json-invalid", "the body is empty or {\"anonymous\": true|false}"))?
    };
    let view = state
        .service
        .approve_derivative(&id, body.anonymous, &Actor::from(principal), (state.clock)())
        .await?;
    Ok(Json(view))
}

async fn export(
    state: &AppState,
    principal: governance::identity::Principal,
    id: &str,
    params: &ReadParams,
) -> Result<ExportedDerivative, ApiError> {
    Ok(state
        .service
        .export_derivative(
            id,
            params.purpose.as_deref().unwrap_or_default(),
            params.reason.as_deref().unwrap_or_default(),
            &Actor::from(principal),
            (state.clock)(),
        )
        .await?)
}

#[utoipa::path(get, path = "/v1/derivatives/{id}/download", tag = "redaction", security(("bearer" = [])),
    params(("id" = String, Path, description = "derivative id"), ReadParams),
    responses(
        (status = 200, description = "the redacted audio as a WAV file (attachment), SHA-256 in X-Content-SHA256", content_type = "audio/wav"),
        (status = 401, description = "no valid credential", body = crate::openapi::ErrorBody),
        (status = 403, description = "the access rules give no such read, or another purpose than the derivative's", body = crate::openapi::ErrorBody),
        (status = 404, description = "no such derivative", body = crate::openapi::ErrorBody),
        (status = 422, description = "`derivative-not-approved`: a draft is not exported", body = crate::openapi::ErrorBody),
    ))]
pub(crate) async fn download(
    State(state): State<AppState>,
    Authenticated(principal): Authenticated,
    Path(id): Path<String>,
    params: QueryOf<ReadParams>,
) -> Result<Response, ApiError> {
    let Query(params) = params.map_err(query_error)?;
    let exported = export(&state, principal, &id, &params).await?;
    let mut response = (StatusCode::OK, exported.wav).into_response();
    let h = response.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static("audio/wav"));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    // The service found the derivative by this id (a UUID), so it is safe in a header.
    if let Ok(value) = HeaderValue::from_str(&format!("attachment; filename=\"{id}.wav\"")) {
        h.insert(header::CONTENT_DISPOSITION, value);
    }
    if let Ok(value) = HeaderValue::from_str(&exported.sha256) {
        h.insert("x-content-sha256", value);
    }
    Ok(response)
}

#[utoipa::path(get, path = "/v1/derivatives/{id}/transcript", tag = "redaction", security(("bearer" = [])),
    params(("id" = String, Path, description = "derivative id"), ReadParams),
    responses(
        (status = 200, description = "the redacted transcript (`[redacted]` markers, no speakers, streams by index)", body = TranscriptView),
        (status = 401, description = "no valid credential", body = crate::openapi::ErrorBody),
        (status = 403, description = "the access rules give no such read", body = crate::openapi::ErrorBody),
        (status = 404, description = "no such derivative, or `transcript-missing`", body = crate::openapi::ErrorBody),
        (status = 422, description = "`derivative-not-approved`", body = crate::openapi::ErrorBody),
    ))]
pub(crate) async fn derivative_transcript(
    State(state): State<AppState>,
    Authenticated(principal): Authenticated,
    Path(id): Path<String>,
    params: QueryOf<ReadParams>,
) -> Result<Json<TranscriptView>, ApiError> {
    let Query(params) = params.map_err(query_error)?;
    let exported = export(&state, principal, &id, &params).await?;
    let transcript = exported.transcript.ok_or_else(|| {
        ApiError::new(
            StatusCode::NOT_FOUND,
            "transcript-missing",
            "the derivative's source had no transcript",
        )
    })?;
    Ok(Json(TranscriptView::from(&transcript)))
}
