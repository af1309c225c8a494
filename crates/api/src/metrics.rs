//! Prometheus metrics. Labels carry codes and outcomes, never personal data.

use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::registry::Registry;

use crate::AppState;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct IngestLabels {
    /// `stored`, `refused` or `failed`.
    pub outcome: String,
    /// The error code, empty when stored.
    pub code: String,
}

/// The metrics the API exports.
pub struct Metrics {
    registry: Registry,
    pub ingests: Family<IngestLabels, Counter>,
}

impl Default for Metrics {
    fn default() -> Self {
        let mut registry = Registry::with_prefix("callvault");
        let ingests = Family::<IngestLabels, Counter>::default();
        registry.register("ingest", "Recordings offered for ingest, by outcome", ingests.clone());
        Metrics { registry, ingests }
    }
}

impl Metrics {
    pub fn count_ingest(&self, outcome: &str, code: &str) {
        self.ingests
            .get_or_create(&IngestLabels {
                outcome: outcome.into(),
                code: code.into(),
            })
            .inc();
    }
}

#[utoipa::path(get, path = "/metrics", tag = "operations",
    responses((status = 200, description = "Prometheus text exposition (OpenMetrics)", content_type = "text/plain")))]
pub async fn render(State(state): State<AppState>) -> impl IntoResponse {
    let mut out = String::new();
    // Encoding into a String cannot fail.
    let _ = prometheus_client::encoding::text::encode(&mut out, &state.metrics.registry);
    if let Some(extra) = &state.extra_metrics {
        // OpenMetrics ends with `# EOF`: the extra families go before it.
        let body = out.strip_suffix("# EOF\n").unwrap_or(&out).to_owned();
        out = format!("{body}{}# EOF\n", extra());
    }
    (
        [(
            header::CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        out,
    )
}
