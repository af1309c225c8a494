//! Reading many recordings at once (a search): the rows, their streams and parties, and
//! the users their agents are, in a fixed number of queries whatever the number of hits.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use sqlx::sqlite::SqliteRow;
use sqlx::{QueryBuilder, Row, Sqlite, SqliteConnection};

use crate::agents::alias_key;
use crate::catalog::{Catalog, list_query, parse_ts, participant_from_row, recording_from_row, stream_from_row};
use crate::error::VaultError;
use crate::records::{ParticipantRecord, RecordingEntry, RecordingFilter, StreamRecord};

/// Ids per `IN (…)` list: well under SQLite's bound-parameter limit.
const IDS_PER_QUERY: usize = 500;

/// The user a recording's agent is: their current team and their moves between teams,
/// so that a call belongs to the team its agent was in when it started.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AgentUser {
    pub name: String,
    pub team: Option<String>,
    /// (when, the team left: `None` if none), oldest first.
    pub moves: Vec<(DateTime<Utc>, Option<String>)>,
}

impl AgentUser {
    /// The team the user was in at `at`: the team left by the first move after it, else
    /// the current one.
    pub fn team_at(&self, at: DateTime<Utc>) -> Option<&str> {
        match self.moves.iter().find(|(moved, _)| *moved > at) {
            Some((_, left)) => left.as_deref(),
            None => self.team.as_deref(),
        }
    }

    /// Reads a row of `name`, `team`, `moved_at` and `from_team` (the last two NULL when
    /// the row carries no move) into `users[key]`, adding the move to one already there.
    pub(crate) fn add_row(
        users: &mut HashMap<String, AgentUser>,
        key: String,
        row: &SqliteRow,
    ) -> Result<(), VaultError> {
        let moved_at: Option<String> = row.try_get("moved_at")?;
        let user = users.entry(key).or_insert(AgentUser {
            name: row.try_get("name")?,
            team: row.try_get("team")?,
            moves: Vec::new(),
        });
        if let Some(moved_at) = moved_at {
            user.moves.push((parse_ts(&moved_at)?, row.try_get("from_team")?));
            user.moves.sort();
        }
        Ok(())
    }
}

/// Agents mapped to users: tenant -> agent as recorded -> user.
pub type AgentsByTenant = HashMap<String, HashMap<String, AgentUser>>;

/// One page of a search: the hits with their parties and streams, and the users the
/// hits' agents are (by tenant and agent as recorded; agents that are nobody are absent).
#[derive(Debug, Clone, Default)]
pub struct SearchPage {
    pub entries: Vec<RecordingEntry>,
    pub agents: AgentsByTenant,
}

impl Catalog {
    /// Visible recordings matching `filter` (newest first) with their parties and streams,
    /// read on one connection with three queries (more only past 500 hits) instead of two
    /// per hit.
    pub async fn list_entries(&self, filter: &RecordingFilter) -> Result<Vec<RecordingEntry>, VaultError> {
        let mut conn = self.pool().acquire().await?;
        entries_on(&mut conn, filter).await
    }

    /// A page of a search: [`Catalog::list_entries`] and the users of the hits' agents
    /// ([`Catalog::agent_users`]), all on one connection (three queries for a page).
    pub async fn search_page(&self, filter: &RecordingFilter) -> Result<SearchPage, VaultError> {
        let mut conn = self.pool().acquire().await?;
        let entries = entries_on(&mut conn, filter).await?;
        let mut by_tenant: HashMap<&str, Vec<&str>> = HashMap::new();
        for e in &entries {
            if let Some(agent) = e.recording.agent.as_deref().filter(|a| !a.trim().is_empty()) {
                let list = by_tenant.entry(e.recording.tenant.as_str()).or_default();
                if !list.contains(&agent) {
                    list.push(agent);
                }
            }
        }
        let mut agents = AgentsByTenant::new();
        for (tenant, list) in by_tenant {
            agents.insert(tenant.to_owned(), agent_users_on(&mut conn, tenant, &list).await?);
        }
        Ok(SearchPage { entries, agents })
    }

    /// The users several agents of one tenant are, in one query: each agent maps to a user
    /// by alias first, then by user name, with that user's team and team moves. Agents
    /// that are nobody are absent from the map.
    pub async fn agent_users(&self, tenant: &str, agents: &[&str]) -> Result<HashMap<String, AgentUser>, VaultError> {
        let mut conn = self.pool().acquire().await?;
        agent_users_on(&mut conn, tenant, agents).await
    }
}

/// See [`Catalog::agent_users`].
async fn agent_users_on(
    conn: &mut SqliteConnection,
    tenant: &str,
    agents: &[&str],
) -> Result<HashMap<String, AgentUser>, VaultError> {
    let mut found = HashMap::new();
    for chunk in agents.chunks(IDS_PER_QUERY) {
        let mut q: QueryBuilder<Sqlite> = QueryBuilder::new(
            "SELECT 0 AS by_name, a.alias AS agent_key, u.name AS name, m.team AS team, \
             t.moved_at AS moved_at, t.from_team AS from_team FROM agent_aliases a \
             JOIN users u ON u.tenant = a.tenant AND u.name = a.user_name \
             LEFT JOIN memberships m ON m.tenant = u.tenant AND m.user_name = u.name AND m.kind = 'member' \
             LEFT JOIN team_moves t ON t.tenant = u.tenant AND t.user_name = u.name \
             WHERE a.tenant = ",
        );
        q.push_bind(tenant.to_owned()).push(" AND a.alias IN (");
        bind_list(&mut q, chunk.iter().map(|a| alias_key(a)));
        q.push(
            ") UNION ALL SELECT 1 AS by_name, u.name AS agent_key, u.name AS name, m.team AS team, \
             t.moved_at AS moved_at, t.from_team AS from_team FROM users u \
             LEFT JOIN memberships m ON m.tenant = u.tenant AND m.user_name = u.name AND m.kind = 'member' \
             LEFT JOIN team_moves t ON t.tenant = u.tenant AND t.user_name = u.name \
             WHERE u.tenant = ",
        );
        q.push_bind(tenant.to_owned()).push(" AND u.name IN (");
        bind_list(&mut q, chunk.iter().map(|a| a.trim().to_owned()));
        q.push(")");
        let mut by_alias: HashMap<String, AgentUser> = HashMap::new();
        let mut by_name: HashMap<String, AgentUser> = HashMap::new();
        for row in q.build().fetch_all(&mut *conn).await? {
            let by_name_row: i64 = row.try_get("by_name")?;
            let key: String = row.try_get("agent_key")?;
            let map = if by_name_row == 0 { &mut by_alias } else { &mut by_name };
            AgentUser::add_row(map, key, &row)?;
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

/// Binds `values` as the comma-separated items of an `IN (…)` list.
fn bind_list(q: &mut QueryBuilder<'_, Sqlite>, values: impl Iterator<Item = String>) {
    let mut list = q.separated(", ");
    for value in values {
        list.push_bind(value);
    }
}

/// The streams and the parties of the recordings `ids` in one query (one round trip to
/// the connection's worker instead of two): `kind` is `s` or `p`, each row carrying its
/// table's columns and NULL for the other's, in order of recording, kind and index.
async fn streams_and_parties(
    conn: &mut SqliteConnection,
    ids: &[String],
) -> Result<Vec<sqlx::sqlite::SqliteRow>, VaultError> {
    let mut q: QueryBuilder<Sqlite> = QueryBuilder::new(
        "SELECT 's' AS kind, recording_id, idx, label, participant, codec, sample_rate, object_path, \
         chunks, audio_bytes, packets_lost, seal, NULL AS role, NULL AS name, NULL AS number, \
         NULL AS number_hash FROM streams WHERE recording_id IN (",
    );
    bind_list(&mut q, ids.iter().cloned());
    q.push(
        ") UNION ALL SELECT 'p' AS kind, recording_id, idx, NULL, NULL, NULL, NULL, NULL, NULL, NULL, \
         NULL, NULL, role, name, number, number_hash FROM participants WHERE recording_id IN (",
    );
    bind_list(&mut q, ids.iter().cloned());
    q.push(") ORDER BY recording_id, kind, idx");
    Ok(q.build().fetch_all(&mut *conn).await?)
}

/// The rows matching `filter` with their streams and parties.
async fn entries_on(conn: &mut SqliteConnection, filter: &RecordingFilter) -> Result<Vec<RecordingEntry>, VaultError> {
    let rows = list_query(filter).build().fetch_all(&mut *conn).await?;
    let recordings = rows.iter().map(recording_from_row).collect::<Result<Vec<_>, _>>()?;
    let ids: Vec<String> = recordings.iter().map(|r| r.id.to_string()).collect();
    let mut streams: HashMap<String, Vec<StreamRecord>> = HashMap::new();
    let mut participants: HashMap<String, Vec<ParticipantRecord>> = HashMap::new();
    for chunk in ids.chunks(IDS_PER_QUERY) {
        for row in streams_and_parties(conn, chunk).await? {
            let id: String = row.try_get("recording_id")?;
            if row.try_get::<String, _>("kind")? == "s" {
                streams.entry(id).or_default().push(stream_from_row(&row)?);
            } else {
                participants.entry(id).or_default().push(participant_from_row(&row)?);
            }
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

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> DateTime<Utc> {
        text.parse().unwrap()
    }

    #[test]
    fn the_team_at_a_time_is_the_one_left_by_the_next_move_else_the_current_one() {
        let user = AgentUser {
            name: "pia".into(),
            team: Some("east".into()),
            moves: vec![
                (at("2026-03-01T00:00:00Z"), None),
                (at("2026-06-01T00:00:00Z"), Some("north".into())),
                (at("2026-09-01T00:00:00Z"), Some("south".into())),
            ],
        };
        let cases = [
            ("2026-01-15T10:00:00Z", None),
            ("2026-03-01T00:00:00Z", Some("north")),
            ("2026-05-31T23:59:59Z", Some("north")),
            ("2026-06-01T00:00:01Z", Some("south")),
            ("2026-09-01T00:00:00Z", Some("east")),
            ("2026-11-23T10:00:00Z", Some("east")),
        ];
        for (time, team) in cases {
            assert_eq!(user.team_at(at(time)), team, "{time}");
        }
        let never_moved = AgentUser { moves: vec![], ..user };
        assert_eq!(never_moved.team_at(at("2020-01-01T00:00:00Z")), Some("east"));
    }
}
