//! `callvault compliance report [--tenant T] [--format json|html]`.

use anyhow::Context;
use governance::Actor;

use crate::cli::{ComplianceCommand, ReportFormat};
use crate::config::Settings;

use super::{now, open_service, parse_time};

pub async fn run(settings: &Settings, command: ComplianceCommand) -> anyhow::Result<()> {
    let ComplianceCommand::Report {
        tenant,
        format,
        now: at,
        out,
        strict,
    } = command;
    let at = match at {
        Some(text) => parse_time("--now", &text)?,
        None => now(),
    };
    let service = open_service(settings).await?;
    let result = service
        .compliance_report(tenant.as_deref(), &Actor::LocalAdministrator, at)
        .await;
    service.close().await;
    let report = result?;
    let text = match format {
        ReportFormat::Json => format!("{}\n", serde_json::to_string_pretty(&report)?),
        ReportFormat::Html => service::compliance::render_html(&report),
    };
    match &out {
        Some(file) => std::fs::write(file, &text).with_context(|| format!("--out: cannot write {}", file.display()))?,
        None => print!("{text}"),
    }
    if strict && !report.problems.is_empty() {
        anyhow::bail!(
            "compliance report: {} problem(s): {}",
            report.problems.len(),
            report.problems.join("; ")
        );
    }
    Ok(())
}
