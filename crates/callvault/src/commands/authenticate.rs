//! `--as USER`: who runs a command, proved by their password (`CALLVAULT_PASSWORD`,
//! else a prompt on the terminal with echo off, else a line of stdin). The CLI has no
//! identity of its own.

use std::io::{BufRead, IsTerminal, Write};

use chrono::{DateTime, Utc};
use governance::identity::{Principal, Secret};
use governance::{AuditEvent, Outcome};
use service::{ErrorKind, ServiceError};

/// The environment variable holding the acting user's password.
pub const PASSWORD_ENV: &str = "CALLVAULT_PASSWORD";

/// The first line of `reader`, without its line ending.
pub fn read_secret_line(reader: &mut impl BufRead) -> anyhow::Result<Secret> {
    let mut line = String::new();
    reader.read_line(&mut line)?;
    let len = line.trim_end_matches(['\n', '\r']).len();
    line.truncate(len);
    Ok(Secret::new(line))
}

/// Asks for a secret on the controlling terminal with echo off; without a terminal,
/// reads a line of stdin.
pub fn prompt_secret(prompt: &str) -> anyhow::Result<Secret> {
    if let Ok(tty) = std::fs::OpenOptions::new().read(true).write(true).open("/dev/tty")
        && std::io::stdin().is_terminal()
    {
        let stty = |arg: &str| {
            std::process::Command::new("stty")
                .arg(arg)
                .stdin(tty.try_clone()?)
                .status()
        };
        let mut out = tty.try_clone()?;
        write!(out, "{prompt}")?;
        out.flush()?;
        let echo_off = stty("-echo").is_ok_and(|s| s.success());
        let secret = read_secret_line(&mut std::io::BufReader::new(tty.try_clone()?));
        if echo_off {
            let _ = stty("echo");
        }
        writeln!(out)?;
        return secret;
    }
    read_secret_line(&mut std::io::stdin().lock())
}

/// The acting user's password: `CALLVAULT_PASSWORD`, else a prompt.
pub fn acting_password(who: &str) -> anyhow::Result<Secret> {
    match std::env::var(PASSWORD_ENV) {
        Ok(value) => Ok(Secret::new(value)),
        Err(_) => prompt_secret(&format!("password for {who}: ")),
    }
}

/// Authenticates `--as` for a command that needs an identity. A missing `--as` is
/// refused (deny by default) and audited like any other denied attempt.
pub async fn authenticate(
    service: &service::Service,
    as_user: Option<&str>,
    command: &str,
    now: DateTime<Utc>,
) -> anyhow::Result<Principal> {
    let Some(who) = as_user else {
        service
            .audit(
                AuditEvent::new(now, "anonymous", "auth.required", Outcome::Denied)
                    .detail(serde_json::json!({"code": "auth-required", "command": command})),
            )
            .await?;
        return Err(ServiceError::new(
            ErrorKind::Unauthenticated,
            "auth-required",
            format!(
                "`callvault {command}` acts for a person: add --as USER (password from {PASSWORD_ENV} or a prompt)"
            ),
        )
        .into());
    };
    let (tenant, name) = service.resolve_user(who).await?;
    let password = acting_password(who)?;
    Ok(service.authenticate_password(&tenant, &name, &password, now).await?)
}
