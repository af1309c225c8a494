//! `callvault screening import|list|override` and `callvault screen`: the TPS/CTPS
//! registers and do-not-call lists (WEBEO-TPS).

use std::io::IsTerminal;

use anyhow::Context;
use governance::{Actor, AuditEvent, Outcome};
use indicatif::{ProgressBar, ProgressStyle};

use ::screening::wire::{ImportReport, ScreeningAnswer};
use ::screening::{Action, Format, ImportRequest, Mode, RegisterStore};

use crate::cli::{ChangeActionArg, RegisterFormatArg, ScreenArgs, ScreeningCommand};
use crate::config::Settings;

/// Bad lines printed to stderr; `--json` has up to a thousand.
const BAD_LINES_SHOWN: usize = 20;

pub async fn run(settings: &Settings, command: ScreeningCommand) -> anyhow::Result<()> {
    let service = super::open_service(settings).await?;
    let result = run_with(&service, command).await;
    service.close().await;
    result
}

async fn run_with(service: &service::Service, command: ScreeningCommand) -> anyhow::Result<()> {
    let store = service.screening().context("screening is not configured")?.clone();
    match command {
        ScreeningCommand::Import {
            file,
            register,
            changes,
            unmarked_as,
            format,
            date,
            country,
            column,
            progress,
            json,
        } => {
            let date = date
                .map(|d| {
                    d.parse()
                        .with_context(|| format!("--date: {d:?} is not a date such as 2026-05-01"))
                })
                .transpose()?;
            let now = super::now();
            let request = ImportRequest {
                register,
                path: file,
                format: format.map(|f| match f {
                    RegisterFormatArg::Register => Format::Register,
                    RegisterFormatArg::List => Format::List,
                }),
                mode: if changes {
                    Mode::Changes {
                        unmarked: unmarked_as.map(|a| match a {
                            ChangeActionArg::Add => Action::Add,
                            ChangeActionArg::Remove => Action::Remove,
                        }),
                    }
                } else {
                    Mode::Full
                },
                country,
                column,
                date,
                now,
            };
            let report = import(store, request, progress || std::io::stderr().is_terminal()).await?;
            let actor = Actor::LocalAdministrator.name();
            service
                .audit(
                    AuditEvent::new(now, &actor, "screening.import", Outcome::Done).detail(serde_json::json!({
                        "register": report.register, "file": report.file, "date": report.date, "kind": report.kind,
                        "records": report.records, "added": report.added, "removed": report.removed,
                        "numbers": report.numbers, "bad_lines": report.bad_lines,
                    })),
                )
                .await?;
            print_import(&report, json)?;
        }
        ScreeningCommand::List { json } => {
            let snapshot = service.screening_snapshot().await?;
            let summaries = snapshot.summaries();
            if json {
                println!("{}", serde_json::to_string_pretty(&summaries)?);
            } else if summaries.is_empty() {
                println!("no registers imported (callvault screening import FILE --register tps|ctps|NAME)");
            }
            for s in summaries.iter().filter(|_| !json) {
                println!(
                    "{}: {} numbers, {:.1} MB in memory",
                    s.register,
                    s.numbers,
                    s.memory_bytes as f64 / 1e6
                );
                for f in &s.files {
                    println!(
                        "  {} {} ({}), imported {}: +{} -{}, {} bad lines",
                        f.kind,
                        f.file,
                        f.date,
                        f.imported_at.format("%Y-%m-%d %H:%M:%SZ"),
                        f.added,
                        f.removed,
                        f.bad_lines
                    );
                }
            }
        }
        ScreeningCommand::Override {
            number,
            tenant,
            reason,
            json,
        } => {
            let answer = service
                .screening_override(&tenant, &number, &reason, &Actor::LocalAdministrator, super::now())
                .await?;
            if json {
                println!("{}", serde_json::to_string_pretty(&answer)?);
            } else {
                println!(
                    "override recorded for {} (tenant {tenant}); marketing call {}",
                    redact::mask_number(&answer.number, 3),
                    if answer.may_call_for_marketing {
                        "allowed"
                    } else {
                        "still not allowed"
                    }
                );
            }
        }
    }
    Ok(())
}

/// Runs an import on the blocking pool, with a progress bar on stderr when asked.
async fn import(store: RegisterStore, request: ImportRequest, show_progress: bool) -> anyhow::Result<ImportReport> {
    let bar = show_progress.then(|| {
        let bar = ProgressBar::new(0);
        bar.set_style(
            ProgressStyle::with_template("{msg} [{bar:40}] {bytes}/{total_bytes} ({bytes_per_sec}, {eta})")
                .expect("valid template")
                .progress_chars("=> "),
        );
        bar.set_message(format!("importing {}", request.register));
        bar
    });
    let shown = bar.clone();
    let report = tokio::task::spawn_blocking(move || {
        store.import(&request, &mut |done, total| {
            if let Some(bar) = &shown {
                bar.set_length(total);
                bar.set_position(done);
                if done == total {
                    bar.set_message("sorting and storing");
                }
            }
        })
    })
    .await
    .context("the import task failed")?;
    if let Some(bar) = bar {
        bar.finish_and_clear();
    }
    Ok(report.map_err(service::ServiceError::from)?)
}

fn print_import(report: &ImportReport, json: bool) -> anyhow::Result<()> {
    if json {
        println!("{}", serde_json::to_string_pretty(report)?);
        return Ok(());
    }
    for bad in report.bad.iter().take(BAD_LINES_SHOWN) {
        eprintln!(
            "callvault: warning[{}]: {}:{}: {}",
            bad.code, report.file, bad.line, bad.reason
        );
    }
    if report.bad_lines as usize > BAD_LINES_SHOWN {
        eprintln!(
            "callvault: warning: {} more bad lines (--json lists the first 1000)",
            report.bad_lines as usize - BAD_LINES_SHOWN
        );
    }
    println!(
        "{} {}: {} ({}, {}): {} records, +{} -{}, {} numbers listed, {} bad lines, {:.1} MB in memory, {:.1} s",
        report.register,
        if report.kind == "full" { "replaced" } else { "changed" },
        report.file,
        report.kind,
        report.date,
        report.records,
        report.added,
        report.removed,
        report.numbers,
        report.bad_lines,
        report.memory_bytes as f64 / 1e6,
        report.elapsed_ms as f64 / 1000.0
    );
    Ok(())
}

/// `callvault screen [--tenant T] [--json] NUMBER...`
pub async fn screen(settings: &Settings, args: ScreenArgs) -> anyhow::Result<()> {
    let service = super::open_service(settings).await?;
    let response = service.screen_numbers(args.tenant.as_deref(), &args.numbers).await;
    service.close().await;
    let response = response?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&response.results)?);
        return Ok(());
    }
    for answer in &response.results {
        println!("{}", describe(answer));
    }
    Ok(())
}

fn describe(answer: &ScreeningAnswer) -> String {
    let listed = if answer.registers.is_empty() {
        "not listed".to_owned()
    } else {
        let on: Vec<String> = answer
            .registers
            .iter()
            .map(|l| format!("{} ({}, {})", l.register, l.file, l.date))
            .collect();
        format!("listed: {}", on.join(", "))
    };
    let mut line = format!(
        "{}  {listed}  marketing call: {}",
        answer.number,
        if answer.may_call_for_marketing {
            "allowed"
        } else {
            "not allowed"
        }
    );
    if !answer.unchecked_registers.is_empty() {
        line.push_str(&format!("  (not imported: {})", answer.unchecked_registers.join(", ")));
    }
    if let Some(o) = &answer.override_ {
        line.push_str(&format!(
            "  (override by {} at {}: {})",
            o.actor,
            o.at.format("%Y-%m-%d %H:%M:%SZ"),
            o.reason
        ));
    }
    line
}
