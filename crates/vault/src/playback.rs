//! Storage of supervised playback sessions (POSTI-SUPERVISED, migration
//! `0010_playback_sessions.sql`): one row per session, the token only as its SHA-256.
//! Sessions survive a restart; whether one may stream is governance's rule.

use governance::requests::{PlaybackEnd, PlaybackSession};
use sqlx::Row;
use sqlx::sqlite::SqliteRow;
use uuid::Uuid;

use crate::catalog::{Catalog, parse_ts, ts};
use crate::error::VaultError;

fn corrupt(what: &str) -> VaultError {
    VaultError::Corrupt(format!("playback session {what}"))
}

fn uuid_of(text: &str) -> Result<Uuid, VaultError> {
    text.parse().map_err(|_| corrupt("id"))
}

fn session_from_row(row: &SqliteRow) -> Result<PlaybackSession, VaultError> {
    let ended_at: Option<String> = row.try_get("ended_at")?;
    let end: Option<String> = row.try_get("end_reason")?;
    Ok(PlaybackSession {
        id: uuid_of(&row.try_get::<String, _>("id")?)?,
        request_id: uuid_of(&row.try_get::<String, _>("request_id")?)?,
        tenant: row.try_get("tenant")?,
        recording_id: uuid_of(&row.try_get::<String, _>("recording_id")?)?,
        token_hash: row.try_get("token_hash")?,
        opened_by: row.try_get("opened_by")?,
        opened_at: parse_ts(&row.try_get::<String, _>("opened_at")?)?,
        expires_at: parse_ts(&row.try_get::<String, _>("expires_at")?)?,
        ended_at: ended_at.as_deref().map(parse_ts).transpose()?,
        ended_by: row.try_get("ended_by")?,
        end: end
            .as_deref()
            .map(|e| PlaybackEnd::parse(e).ok_or_else(|| corrupt("end reason")))
            .transpose()?,
    })
}

impl Catalog {
    /// Stores a new session.
    pub async fn insert_playback_session(&self, session: &PlaybackSession) -> Result<(), VaultError> {
        sqlx::query(
            "INSERT INTO playback_sessions (id, request_id, tenant, recording_id, token_hash, opened_by, opened_at,
                expires_at)
             VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(session.id.to_string())
        .bind(session.request_id.to_string())
        .bind(&session.tenant)
        .bind(session.recording_id.to_string())
        .bind(&session.token_hash)
        .bind(&session.opened_by)
        .bind(ts(session.opened_at))
        .bind(ts(session.expires_at))
        .execute(self.pool())
        .await?;
        Ok(())
    }

    /// One session, if it exists.
    pub async fn playback_session(&self, id: Uuid) -> Result<Option<PlaybackSession>, VaultError> {
        sqlx::query("SELECT * FROM playback_sessions WHERE id = ?")
            .bind(id.to_string())
            .fetch_optional(self.pool())
            .await?
            .as_ref()
            .map(session_from_row)
            .transpose()
    }

    /// The sessions of a request, oldest first.
    pub async fn playback_sessions_of_request(&self, request: Uuid) -> Result<Vec<PlaybackSession>, VaultError> {
        sqlx::query("SELECT * FROM playback_sessions WHERE request_id = ? ORDER BY opened_at, id")
            .bind(request.to_string())
            .fetch_all(self.pool())
            .await?
            .iter()
            .map(session_from_row)
            .collect()
    }

    /// Records the end of a session that had not ended yet; `false` if it already had.
    pub async fn end_playback_session(&self, session: &PlaybackSession) -> Result<bool, VaultError> {
        let (Some(at), Some(by), Some(end)) = (session.ended_at, &session.ended_by, session.end) else {
            return Err(VaultError::Conflict(format!(
                "playback session {} has no end to record",
                session.id
            )));
        };
        let done = sqlx::query(
            "UPDATE playback_sessions SET ended_at = ?, ended_by = ?, end_reason = ?
             WHERE id = ? AND ended_at IS NULL",
        )
        .bind(ts(at))
        .bind(by)
        .bind(end.as_str())
        .bind(session.id.to_string())
        .execute(self.pool())
        .await?;
        Ok(done.rows_affected() == 1)
    }
}
