//! One module per command group; `run` dispatches.

mod audit;
mod authenticate;
mod compliance;
mod grants;
mod identities;
mod ingest;
mod playback;
mod policy;
mod recordings;
pub mod redaction;
mod requests;
mod retention;
mod screening;
mod serve;
pub mod stt;
mod tenant;

use anyhow::Context;
use chrono::{DateTime, Utc};

use crate::cli::{Cli, Command};
use crate::config::Settings;

/// The clock, read only here at the edge.
pub fn now() -> DateTime<Utc> {
    Utc::now()
}

/// Parses an RFC 3339 time given on the command line.
pub fn parse_time(flag: &str, text: &str) -> anyhow::Result<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(text)
        .map(|t| t.with_timezone(&Utc))
        .with_context(|| format!("{flag}: {text:?} is not an RFC 3339 time such as 2026-11-23T10:00:00Z"))
}

fn init_logging(settings: &Settings, default: &str) {
    let filter = std::env::var("RUST_LOG")
        .ok()
        .or_else(|| settings.log_level.clone())
        .unwrap_or_else(|| default.to_owned());
    let _ = tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::new(filter))
        .with_writer(std::io::stderr)
        .try_init();
}

/// Opens the service for the configured directories.
pub async fn open_service(settings: &Settings) -> anyhow::Result<service::Service> {
    let service = service::Service::open(&settings.data_dir, &settings.keys_dir, settings.service_settings()).await?;
    service.vault().catalog().audit().configure(settings.audit).await?;
    Ok(service.with_screening(::screening::RegisterStore::new(settings.data_dir.join("screening"))))
}

pub async fn run(cli: Cli) -> anyhow::Result<()> {
    // `policy check` and `policy render` work on files alone, without a data directory.
    if let Command::Policy(command) = &cli.command
        && let Some(result) = policy::run_offline(command)
    {
        return result;
    }
    let settings = Settings::load(&cli.global)?;
    let serving = matches!(cli.command, Command::Serve(_));
    let as_user = cli.global.as_user.as_deref();
    init_logging(&settings, if serving { "info" } else { "warn" });
    match cli.command {
        Command::Serve(args) => serve::run(settings, args).await,
        Command::Tenant(command) => tenant::run(&settings, command).await,
        Command::Policy(command) => policy::run(&settings, as_user, command).await,
        Command::Ingest(args) => ingest::run(&settings, args).await,
        Command::Recordings(command) => recordings::run(&settings, as_user, command).await,
        Command::Audit(command) => audit::run(&settings, command).await,
        Command::Screening(command) => screening::run(&settings, command).await,
        Command::Screen(args) => screening::screen(&settings, args).await,
        Command::Admin(command) => identities::admin(&settings, command).await,
        Command::User(command) => identities::user(&settings, as_user, command).await,
        Command::Team(command) => identities::team(&settings, as_user, command).await,
        Command::Attest(command) => identities::attest(&settings, as_user, command).await,
        Command::Grant(command) => grants::grant(&settings, as_user, command).await,
        Command::Token(command) => grants::token(&settings, as_user, command).await,
        Command::Retention(command) => retention::run(&settings, command).await,
        Command::Hold(command) => retention::hold(&settings, command).await,
        Command::Compliance(command) => compliance::run(&settings, command).await,
        Command::Transcript(command) => redaction::transcript(&settings, &cli.global, command).await,
        Command::Derivative(command) => redaction::derivative(&settings, as_user, command).await,
        Command::Request(command) => requests::run(&settings, as_user, command).await,
    }
}

/// Prints a policy-review warning to stderr when the policy is past its review date (ARLO-REVIEW).
pub fn warn_review(policy: &::policy::Policy, at: DateTime<Utc>) {
    if let ::policy::ReviewStatus::Overdue { due, days } = ::policy::review_status(policy, at.date_naive()) {
        eprintln!(
            "callvault: warning[policy-review-overdue]: policy {} was due for review on {due} ({days} days ago)",
            policy.policy.id
        );
    }
}
