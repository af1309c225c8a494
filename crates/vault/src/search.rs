//! Reading many recordings at once (a search): the rows, their streams and parties, and
//! the users their agents are, in a fixed number of queries whatever the number of hits.

use std::collections::HashMap;

use sqlx::{QueryBuilder, Row, Sqlite, SqliteConnection};

use crate::agents::alias_key;
use crate::catalog::{Catalog, list_query, participant_from_row, recording_from_row, stream_from_row};
use crate::error::VaultError;
use crate::records::{ParticipantRecord, RecordingEntry, RecordingFilter, StreamRecord};

/// Ids per `IN (…)` list: well under SQLite's bound-parameter limit.
const IDS_PER_QUERY: usize = 500;

/// A user and their team, as [`Catalog::agent_user`] answers.
pub type AgentUser = (String, Option<String>);

impl Catalog {
    /// Visible recordings matching `filter` (newest first) with their parties and streams,
    /// read on one connection with three queries (more only past 500 hits) instead of two
    /// per hit.
    pub async fn list_entries(&self, filter: &RecordingFilter) -> Result<Vec<RecordingEntry>, VaultError> {
        let mut conn = self.pool().acquire().await?;
        let rows = list_query(filter).build().fetch_all(&mut *conn).await?;
        let recordings = rows.iter().map(recording_from_row).collect::<Result<Vec<_>, _>>()?;
        let ids: Vec<String> = recordings.iter().map(|r| r.id.to_string()).collect();
        let mut streams: HashMap<String, Vec<StreamRecord>> = HashMap::new();
        let mut participants: HashMap<String, Vec<ParticipantRecord>> = HashMap::new();
        for chunk in ids.chunks(IDS_PER_QUERY) {
            for row in by_recording(&mut conn, "streams", chunk).await? {
                streams
                    .entry(row.try_get("recording_id")?)
                    .or_default()
                    .push(stream_from_row(&row)?);
            }
            for row in by_recording(&mut conn, "participants", chunk).await? {
                participants
                    .entry(row.try_get("recording_id")?)
                    .or_default()
                    .push(participant_from_row(&row)?);
            }
        }
        Ok(recordings
            .into_iter()
            .zip(ids)
            .map(|(recording, id)| RecordingEntry {
                recording,
                participants: participants.remove(&id).unwrap_or_default(),
                streams: streams.remove(&id).unwrap_or_default(),
            })
            .collect())
    }

    /// The users several agents of one tenant are, with their teams, in one query: the
    /// same answer as [`Catalog::agent_user`] for each (an alias first, then a user name).
    /// Agents that are nobody are absent from the map.
    pub async fn agent_users(&self, tenant: &str, agents: &[&str]) -> Result<HashMap<String, AgentUser>, VaultError> {
        let mut found = HashMap::new();
        for chunk in agents.chunks(IDS_PER_QUERY) {
            let mut q: QueryBuilder<Sqlite> = QueryBuilder::new(
                "SELECT 0 AS by_name, a.alias AS agent_key, u.name AS name, m.team AS team FROM agent_aliases a \
                 JOIN users u ON u.tenant = a.tenant AND u.name = a.user_name \
                 LEFT JOIN memberships m ON m.tenant = u.tenant AND m.user_name = u.name AND m.kind = 'member' \
                 WHERE a.tenant = ",
            );
            q.push_bind(tenant.to_owned()).push(" AND a.alias IN (");
            let mut list = q.separated(", ");
            for agent in chunk {
                list.push_bind(alias_key(agent));
            }
            q.push(
                ") UNION ALL SELECT 1 AS by_name, u.name AS agent_key, u.name AS name, m.team AS team FROM users u \
                 LEFT JOIN memberships m ON m.tenant = u.tenant AND m.user_name = u.name AND m.kind = 'member' \
                 WHERE u.tenant = ",
            );
            q.push_bind(tenant.to_owned()).push(" AND u.name IN (");
            let mut list = q.separated(", ");
            for agent in chunk {
                list.push_bind(agent.trim().to_owned());
            }
            q.push(")");
            let mut by_alias: HashMap<String, AgentUser> = HashMap::new();
            let mut by_name: HashMap<String, AgentUser> = HashMap::new();
            for row in q.build().fetch_all(self.pool()).await? {
                let by_name_row: i64 = row.try_get("by_name")?;
                let key: String = row.try_get("agent_key")?;
                let user = (row.try_get("name")?, row.try_get("team")?);
                let map = if by_name_row == 0 { &mut by_alias } else { &mut by_name };
                map.entry(key).or_insert(user);
            }
            for agent in chunk {
                let user = by_alias
                    .get(&alias_key(agent))
                    .or_else(|| by_name.get(agent.trim()))
                    .cloned();
                if let Some(user) = user {
                    found.insert((*agent).to_owned(), user);
                }
            }
        }
        Ok(found)
    }
}

/// The rows of `table` (streams or participants) of the recordings `ids`, in order.
async fn by_recording(
    conn: &mut SqliteConnection,
    table: &'static str,
    ids: &[String],
) -> Result<Vec<sqlx::sqlite::SqliteRow>, VaultError> {
    let mut q: QueryBuilder<Sqlite> = QueryBuilder::new(format!("SELECT * FROM {table} WHERE recording_id IN ("));
    let mut list = q.separated(", ");
    for id in ids {
        list.push_bind(id.clone());
    }
    q.push(") ORDER BY recording_id, idx");
    Ok(q.build().fetch_all(&mut *conn).await?)
}
