//! `callvault request playback open|close`: supervised playback sessions
//! (POSTI-SUPERVISED), by the request handler (`--as`). The token is printed once; the
//! visiting data subject's player streams the audio path on the HTTP API with it.

use service::playback::PlaybackView;

use super::parse_time;
use crate::cli::PlaybackCommand;

fn print_session(view: &PlaybackView, token: Option<&str>, json: bool) -> anyhow::Result<()> {
    if json {
        let mut value = serde_json::to_value(view)?;
        if let Some(token) = token {
            value["token"] = serde_json::json!(token);
        }
        println!("{}", serde_json::to_string_pretty(&value)?);
        return Ok(());
    }
    println!("session    {}", view.id);
    println!("recording  {}", view.recording_id);
    println!("state      {}", view.state);
    println!("expires    {}", view.expires_at.to_rfc3339());
    println!("audio      GET {}", view.audio_path);
    if let Some(token) = token {
        println!("token      {token}");
        println!("           (shown only now: Authorization: Bearer <token>, or ?token=)");
    }
    Ok(())
}

pub async fn run(
    service: &service::Service,
    principal: &governance::identity::Principal,
    command: PlaybackCommand,
    clock: chrono::DateTime<chrono::Utc>,
) -> anyhow::Result<()> {
    match command {
        PlaybackCommand::Open {
            request,
            recording,
            minutes,
            now,
            json,
        } => {
            let at = match now {
                Some(text) => parse_time("--now", &text)?,
                None => clock,
            };
            // A session may be recorded as opened earlier, never later: it must not
            // outlive its bound.
            if at > clock {
                anyhow::bail!("--now: a playback session cannot be opened in the future");
            }
            let opened = service
                .open_playback(principal, &request, &recording, Some(minutes), at)
                .await?;
            print_session(&opened.session, Some(opened.token.expose()), json)
        }
        PlaybackCommand::Close { session, json } => {
            let view = service.close_playback(principal, &session, clock).await?;
            print_session(&view, None, json)
        }
    }
}
