//! `compliance report`: per tenant (its policy), what a DPO checks — recordings past
//! retention but not deleted (must be 0), legal holds, data-subject requests, reads of
//! recordings without a purpose (must be 0), denied-access alerts, the policy's review
//! status, outbound calls to numbers on a screening register (WEBEO-TPS), and the audit
//! chain's status. Reading it is itself audited.

use chrono::{DateTime, Utc};
use governance::{Actor, AuditEvent, Outcome};
use serde::Serialize;

use crate::Service;
use crate::error::ServiceError;

/// Audited actions that read a recording's audio or search the register by number:
/// each must name a purpose (ALL-PURPOSE).
const PURPOSE_BOUND_READS: &[&str] = &[
    "recording.search",
    "recording.export",
    "recording.listen",
    "recording.download",
];

/// The note a screened outbound call to a listed number carries.
const SCREENING_FLAG: &str = "-listed: outbound call";

#[derive(Debug, Clone, Serialize)]
pub struct ComplianceReport {
    pub generated_at: DateTime<Utc>,
    pub audit: AuditStatus,
    pub tenants: Vec<TenantCompliance>,
    /// Every failed "must be" check, across tenants and the audit chain.
    pub problems: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct AuditStatus {
    pub ok: bool,
    pub events: u64,
    /// The first bad event, when the chain is broken.
    pub fault: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct TenantCompliance {
    pub tenant: String,
    pub policy_id: String,
    pub policy_version: i64,
    /// `current`, `overdue` or `no-date`, with the due date and days overdue.
    pub review: ReviewLine,
    pub recordings: i64,
    /// Must be 0.
    pub past_retention_not_deleted: i64,
    /// Past retention but kept by a legal hold.
    pub past_retention_held: i64,
    pub holds: Vec<HoldLine>,
    pub requests: RequestsLine,
    /// Must be empty: audit sequence numbers of reads that named no purpose.
    pub reads_without_purpose: Vec<i64>,
    pub denials: Vec<DenialLine>,
    pub alerts: usize,
    /// Recorded outbound calls to numbers on a screening register the policy names.
    pub screening_flags: Vec<FlaggedCall>,
    pub last_retention_sweep: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, Serialize)]
pub struct ReviewLine {
    pub status: &'static str,
    pub due: Option<chrono::NaiveDate>,
    pub days_overdue: Option<i64>,
}

#[derive(Debug, Clone, Serialize)]
pub struct HoldLine {
    pub id: String,
    pub recording_id: String,
    pub reason: String,
    pub placed_by: String,
    pub placed_at: DateTime<Utc>,
    pub expires_at: Option<DateTime<Utc>>,
}

/// Data-subject requests: open (not fulfilled or closed) and overdue (open past their
/// due date, WEBEO-30DAYS; must be 0).
#[derive(Debug, Clone, Serialize)]
pub struct RequestsLine {
    pub tracked: bool,
    pub open: u64,
    pub overdue: u64,
}

#[derive(Debug, Clone, Serialize)]
pub struct DenialLine {
    pub user: String,
    pub denials: u64,
    pub alerts: u64,
}

#[derive(Debug, Clone, Serialize)]
pub struct FlaggedCall {
    pub recording_id: String,
    pub started_at: DateTime<Utc>,
    pub notes: Vec<String>,
}

impl Service {
    /// The report as of `now`, for one tenant or all.
    pub async fn compliance_report(
        &self,
        tenant: Option<&str>,
        actor: &Actor,
        now: DateTime<Utc>,
    ) -> Result<ComplianceReport, ServiceError> {
        let tenants = match tenant {
            Some(name) => vec![self.vault.catalog().tenant(name).await?],
            None => self.vault.catalog().tenants().await?,
        };
        let verified = self.vault.catalog().audit().verify(None).await?;
        let audit = AuditStatus {
            ok: verified.fault.is_none(),
            events: u64::try_from(verified.events).unwrap_or_default(),
            fault: verified.fault.map(|f| f.to_string()),
        };
        // Reads without a purpose, per tenant, from one pass over the chain.
        let mut unbound: std::collections::HashMap<String, Vec<i64>> = std::collections::HashMap::new();
        self.vault
            .catalog()
            .audit()
            .for_each_event(None, Some(now), |stored| {
                let e = &stored.event;
                let read = PURPOSE_BOUND_READS.contains(&e.action.as_str());
                let done = matches!(e.outcome, Outcome::Allowed | Outcome::Done);
                if read && done && e.purpose.as_deref().is_none_or(|p| p.trim().is_empty()) {
                    unbound
                        .entry(e.tenant.clone().unwrap_or_default())
                        .or_default()
                        .push(stored.seq);
                }
                Ok::<(), vault::VaultError>(())
            })
            .await?;
        let denials = self.vault.catalog().audit().denial_report(None, Some(now)).await?;
        let sweeps = self.vault.catalog().sweeps().await?;
        let mut report = ComplianceReport {
            generated_at: now,
            problems: Vec::new(),
            audit,
            tenants: Vec::new(),
        };
        if let Some(fault) = &report.audit.fault {
            report.problems.push(format!("audit chain broken: {fault}"));
        }
        for t in tenants {
            let (policy, record) = self.active_policy(&t.name).await?;
            let review = match policy::review_status(&policy, now.date_naive()) {
                policy::ReviewStatus::NoDate => ReviewLine {
                    status: "no-date",
                    due: None,
                    days_overdue: None,
                },
                policy::ReviewStatus::Current { due } => ReviewLine {
                    status: "current",
                    due: Some(due),
                    days_overdue: None,
                },
                policy::ReviewStatus::Overdue { due, days } => ReviewLine {
                    status: "overdue",
                    due: Some(due),
                    days_overdue: Some(days),
                },
            };
            let (past_free, past_held) = self.vault.catalog().past_retention(&t.name, now).await?;
            let holds = self
                .vault
                .catalog()
                .holds(Some(&t.name), Some(now))
                .await?
                .into_iter()
                .map(|h| HoldLine {
                    id: h.id.to_string(),
                    recording_id: h.recording_id.to_string(),
                    reason: h.reason,
                    placed_by: h.placed_by,
                    placed_at: h.placed_at,
                    expires_at: h.expires_at,
                })
                .collect();
            let prefix = format!("user:{}/", t.name);
            let tenant_denials: Vec<DenialLine> = denials
                .users
                .iter()
                .filter(|u| u.user.starts_with(&prefix))
                .map(|u| DenialLine {
                    user: u.user.clone(),
                    denials: u.denials,
                    alerts: u.alerts,
                })
                .collect();
            let alerts = tenant_denials.iter().map(|d| d.alerts as usize).sum();
            let screening_flags = self
                .vault
                .catalog()
                .recordings_noted(&t.name, SCREENING_FLAG)
                .await?
                .into_iter()
                .map(|(id, started_at, notes)| FlaggedCall {
                    recording_id: id.to_string(),
                    started_at,
                    notes,
                })
                .collect();
            let line = TenantCompliance {
                policy_id: record.policy_id.clone(),
                policy_version: record.version,
                review,
                recordings: self.vault.catalog().recording_count(&t.name).await?,
                past_retention_not_deleted: past_free,
                past_retention_held: past_held,
                holds,
                requests: {
                    let (open, overdue) = self.request_counts(&t.name, now).await?;
                    RequestsLine {
                        tracked: true,
                        open: u64::try_from(open).unwrap_or_default(),
                        overdue: u64::try_from(overdue).unwrap_or_default(),
                    }
                },
                reads_without_purpose: unbound.remove(&t.name).unwrap_or_default(),
                denials: tenant_denials,
                alerts,
                screening_flags,
                last_retention_sweep: sweeps.first().map(|s| s.finished_at),
                tenant: t.name,
            };
            if line.past_retention_not_deleted > 0 {
                report.problems.push(format!(
                    "{}: {} recording(s) past retention not deleted",
                    line.tenant, line.past_retention_not_deleted
                ));
            }
            if !line.reads_without_purpose.is_empty() {
                report.problems.push(format!(
                    "{}: {} read(s) without a purpose",
                    line.tenant,
                    line.reads_without_purpose.len()
                ));
            }
            if line.requests.overdue > 0 {
                report.problems.push(format!(
                    "{}: {} data-subject request(s) overdue",
                    line.tenant, line.requests.overdue
                ));
            }
            if line.review.status == "overdue" {
                report.problems.push(format!("{}: policy review overdue", line.tenant));
            }
            report.tenants.push(line);
        }
        self.audit(
            AuditEvent::new(now, &actor.name(), "compliance.report", Outcome::Done)
                .detail(serde_json::json!({"tenant": tenant, "problems": report.problems.len()})),
        )
        .await?;
        Ok(report)
    }
}

/// The report as a self-contained HTML page (no scripts, no external resources).
pub fn render_html(report: &ComplianceReport) -> String {
    let e = |s: &str| {
        s.replace('&', "&amp;")
            .replace('<', "&lt;")
            .replace('>', "&gt;")
            .replace('"', "&quot;")
    };
    let mut h = String::from(
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>callvault compliance report</title>\n\
         <style>body{font-family:sans-serif;max-width:60em;margin:2em auto}table{border-collapse:collapse}\
         td,th{border:1px solid #999;padding:.2em .5em;text-align:left}.bad{color:#a00;font-weight:bold}.ok{color:#060}</style>\n\
         </head><body>\n",
    );
    h += &format!(
        "<h1>Compliance report</h1>\n<p>Generated {}</p>\n",
        e(&report.generated_at.to_rfc3339())
    );
    if report.problems.is_empty() {
        h += "<p class=\"ok\">No problems found.</p>\n";
    } else {
        h += "<h2 class=\"bad\">Problems</h2>\n<ul>\n";
        for p in &report.problems {
            h += &format!("<li class=\"bad\">{}</li>\n", e(p));
        }
        h += "</ul>\n";
    }
    let chain = match &report.audit.fault {
        None => format!("<span class=\"ok\">intact</span> ({} events)", report.audit.events),
        Some(f) => format!("<span class=\"bad\">broken: {}</span>", e(f)),
    };
    h += &format!("<h2>Audit chain</h2>\n<p>{chain}</p>\n");
    for t in &report.tenants {
        h += &format!(
            "<h2>Tenant {} — policy {} version {}</h2>\n<table>\n",
            e(&t.tenant),
            e(&t.policy_id),
            t.policy_version
        );
        let review = match (t.review.due, t.review.days_overdue) {
            (Some(due), Some(days)) => format!("<span class=\"bad\">overdue since {due} ({days} days)</span>"),
            (Some(due), None) => format!("current (next review {due})"),
            _ => "no review date".into(),
        };
        let rows = [
            ("Policy review", review),
            ("Recordings", t.recordings.to_string()),
            (
                "Past retention, not deleted (must be 0)",
                flag(
                    t.past_retention_not_deleted == 0,
                    t.past_retention_not_deleted.to_string(),
                ),
            ),
            (
                "Past retention, kept by a legal hold",
                t.past_retention_held.to_string(),
            ),
            ("Active legal holds", t.holds.len().to_string()),
            (
                "Data-subject requests (open / overdue)",
                flag(
                    t.requests.overdue == 0,
                    format!("{} open / {} overdue", t.requests.open, t.requests.overdue),
                ),
            ),
            (
                "Reads without a purpose (must be 0)",
                flag(
                    t.reads_without_purpose.is_empty(),
                    t.reads_without_purpose.len().to_string(),
                ),
            ),
            ("Users with denied attempts", t.denials.len().to_string()),
            ("Denied-access alerts", t.alerts.to_string()),
            ("Outbound calls to listed numbers", t.screening_flags.len().to_string()),
            (
                "Last retention sweep",
                t.last_retention_sweep
                    .map_or_else(|| "never".into(), |at| at.to_rfc3339()),
            ),
        ];
        for (k, v) in rows {
            h += &format!("<tr><th>{}</th><td>{v}</td></tr>\n", e(k));
        }
        h += "</table>\n";
        if !t.holds.is_empty() {
            h += "<h3>Legal holds</h3>\n<table><tr><th>hold</th><th>recording</th><th>reason</th><th>placed by</th><th>expires</th></tr>\n";
            for hold in &t.holds {
                h += &format!(
                    "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>\n",
                    e(&hold.id),
                    e(&hold.recording_id),
                    e(&hold.reason),
                    e(&hold.placed_by),
                    hold.expires_at.map_or_else(|| "—".into(), |x| x.to_rfc3339())
                );
            }
            h += "</table>\n";
        }
        if !t.screening_flags.is_empty() {
            h += "<h3>Outbound calls to numbers on a screening register</h3>\n<table><tr><th>recording</th><th>started</th><th>flag</th></tr>\n";
            for f in &t.screening_flags {
                h += &format!(
                    "<tr><td>{}</td><td>{}</td><td>{}</td></tr>\n",
                    e(&f.recording_id),
                    f.started_at.to_rfc3339(),
                    e(&f.notes.join("; "))
                );
            }
            h += "</table>\n";
        }
        if !t.denials.is_empty() {
            h += "<h3>Denied attempts</h3>\n<table><tr><th>user</th><th>denials</th><th>alerts</th></tr>\n";
            for d in &t.denials {
                h += &format!(
                    "<tr><td>{}</td><td>{}</td><td>{}</td></tr>\n",
                    e(&d.user),
                    d.denials,
                    d.alerts
                );
            }
            h += "</table>\n";
        }
    }
    h += "</body></html>\n";
    h
}

fn flag(ok: bool, text: String) -> String {
    if ok {
        format!("<span class=\"ok\">{text}</span>")
    } else {
        format!("<span class=\"bad\">{text}</span>")
    }
}
