//! Reading many recordings at once (a search): the rows, their streams and parties, and
//! the users their agents are, in a fixed number of queries whatever the number of hits.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use sqlx::sqlite::SqliteRow;
use sqlx::{QueryBuilder, Row, Sqlite, SqliteConnection};

use crate::agents::alias_key;
use crate::catalog::{Catalog, list_query_selecting, parse_ts, recording_from_row};
use crate::error::VaultError;
use crate::records::{ParticipantRecord, RecordingEntry, RecordingFilter, StreamRecord, StreamSeal};
use crate::search_conn::{SearchConnection, SearchTenant};

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
        let user = users.entry(key).or_insert(AgentUser {
            name: row.try_get("name")?,
            team: row.try_get("team")?,
            moves: Vec::new(),
        });
        user.add_move(row.try_get("moved_at")?, row.try_get("from_team")?)
    }

    /// Adds the move a row carries (`moved_at` NULL: none), keeping the moves in order.
    fn add_move(&mut self, moved_at: Option<String>, from_team: Option<String>) -> Result<(), VaultError> {
        if let Some(moved_at) = moved_at {
            self.moves.push((parse_ts(&moved_at)?, from_team));
            self.moves.sort();
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
    /// The users several agents of one tenant are, in one query: each agent maps to a user
    /// by alias first, then by user name, with that user's team and team moves. Agents
    /// that are nobody are absent from the map.
    pub async fn agent_users(&self, tenant: &str, agents: &[&str]) -> Result<HashMap<String, AgentUser>, VaultError> {
        let mut conn = self.pool().acquire().await?;
        agent_users_on(&mut conn, tenant, agents).await
    }
}

impl SearchConnection {
    /// A page of a search: the visible recordings matching `filter` (newest first), each
    /// with its streams, its parties and the user its agent is (see
    /// [`Catalog::agent_users`]), in one statement: the children come back as JSON
    /// arrays beside their recording's row. An agent SQLite cannot fold as the vault
    /// does (whitespace other than spaces around it, or letters outside ASCII) is looked
    /// up again with [`Catalog::agent_users`]' query.
    ///
    /// The page is read only while the tenant still has the country and active policy
    /// version `tenant` says (else it comes back empty: see [`SearchTenant`]).
    pub async fn search_page(
        &mut self,
        filter: &RecordingFilter,
        tenant: &SearchTenant,
    ) -> Result<SearchPage, VaultError> {
        let read = page_on(self, filter, tenant).await;
        self.keep_if_alive(read)
    }
}

/// See [`SearchConnection::search_page`].
async fn page_on(
    conn: &mut SqliteConnection,
    filter: &RecordingFilter,
    tenant: &SearchTenant,
) -> Result<SearchPage, VaultError> {
    let rows = list_query_selecting(PAGE_COLUMNS, filter, Some(tenant))
        .build()
        .fetch_all(&mut *conn)
        .await?;
    let mut entries = Vec::with_capacity(rows.len());
    let mut agents = AgentsByTenant::new();
    let mut unfolded: HashMap<String, Vec<String>> = HashMap::new();
    for row in &rows {
        let recording = recording_from_row(row)?;
        let mut streams = children::<StreamColumns>(row, "page_streams")?
            .into_iter()
            .map(StreamColumns::record)
            .collect::<Result<Vec<_>, _>>()?;
        streams.sort_by_key(|s| s.idx);
        let mut participants: Vec<ParticipantRecord> = children::<PartyColumns>(row, "page_parties")?
            .into_iter()
            .map(PartyColumns::record)
            .collect();
        participants.sort_by_key(|p| p.idx);
        if let Some(agent) = recording.agent.as_deref().filter(|a| !a.trim().is_empty()) {
            let known = agents.entry(recording.tenant.clone()).or_default();
            if !known.contains_key(agent) {
                if folds_in_sql(agent) {
                    let by_alias = children::<UserColumns>(row, "page_alias_users")?;
                    let by_name = children::<UserColumns>(row, "page_name_users")?;
                    let found = if by_alias.is_empty() { by_name } else { by_alias };
                    if let Some(user) = UserColumns::user(found)? {
                        known.insert(agent.to_owned(), user);
                    }
                } else {
                    unfolded
                        .entry(recording.tenant.clone())
                        .or_default()
                        .push(agent.to_owned());
                }
            }
        }
        entries.push(RecordingEntry {
            recording,
            participants,
            streams,
        });
    }
    for (tenant, list) in unfolded {
        let list: Vec<&str> = list.iter().map(String::as_str).collect();
        let found = agent_users_on(conn, &tenant, &list).await?;
        agents.entry(tenant).or_default().extend(found);
    }
    Ok(SearchPage { entries, agents })
}

/// The columns of a search page: the recording's own, then its children as JSON arrays
/// of positional arrays (no temporary tables, one row per hit).
const PAGE_COLUMNS: &str = "r.*, \
    (SELECT json_group_array(json_array(s.idx, s.label, s.participant, s.codec, s.sample_rate, \
        s.object_path, s.chunks, s.audio_bytes, s.packets_lost, s.seal)) \
     FROM streams s WHERE s.recording_id = r.id) AS page_streams, \
    (SELECT json_group_array(json_array(p.idx, p.role, p.name, p.number, p.number_hash)) \
     FROM participants p WHERE p.recording_id = r.id) AS page_parties, \
    (SELECT json_group_array(json_array(u.name, m.team, t.moved_at, t.from_team)) FROM agent_aliases a \
     JOIN users u ON u.tenant = a.tenant AND u.name = a.user_name \
     LEFT JOIN memberships m ON m.tenant = u.tenant AND m.user_name = u.name AND m.kind = 'member' \
     LEFT JOIN team_moves t ON t.tenant = u.tenant AND t.user_name = u.name \
     WHERE a.tenant = r.tenant AND a.alias = lower(trim(r.agent))) AS page_alias_users, \
    (SELECT json_group_array(json_array(u.name, m.team, t.moved_at, t.from_team)) FROM users u \
     LEFT JOIN memberships m ON m.tenant = u.tenant AND m.user_name = u.name AND m.kind = 'member' \
     LEFT JOIN team_moves t ON t.tenant = u.tenant AND t.user_name = u.name \
     WHERE u.tenant = r.tenant AND u.name = trim(r.agent)) AS page_name_users";

/// Whether SQLite's `lower(trim(agent))` and `trim(agent)` give what
/// [`alias_key`] and `str::trim` give (spaces only around it, case only in ASCII).
fn folds_in_sql(agent: &str) -> bool {
    let spaces_only = agent.trim_matches(' ');
    spaces_only == agent.trim() && spaces_only.to_ascii_lowercase() == alias_key(agent)
}

/// The JSON array column `column` of `row`, each item a positional array.
fn children<T: serde::de::DeserializeOwned>(row: &SqliteRow, column: &str) -> Result<Vec<T>, VaultError> {
    let text: Option<String> = row.try_get(column)?;
    match text {
        None => Ok(Vec::new()),
        Some(text) => {
            serde_json::from_str(&text).map_err(|e| VaultError::Corrupt(format!("search page column {column}: {e}")))
        }
    }
}

/// A stream as [`PAGE_COLUMNS`] lists it.
#[derive(serde::Deserialize)]
struct StreamColumns(i64, String, Option<i64>, String, i64, String, i64, i64, i64, String);

impl StreamColumns {
    fn record(self) -> Result<StreamRecord, VaultError> {
        let seal = StreamSeal::parse(&self.9).ok_or_else(|| VaultError::Corrupt(format!("seal {:?}", self.9)))?;
        Ok(StreamRecord {
            idx: self.0,
            label: self.1,
            participant: self.2,
            codec: self.3,
            sample_rate: self.4,
            object_path: self.5,
            chunks: self.6,
            audio_bytes: self.7,
            packets_lost: self.8,
            seal,
        })
    }
}

/// A party as [`PAGE_COLUMNS`] lists it.
#[derive(serde::Deserialize)]
struct PartyColumns(i64, String, Option<String>, Option<String>, Option<String>);

impl PartyColumns {
    fn record(self) -> ParticipantRecord {
        let PartyColumns(idx, role, name, number, number_hash) = self;
        ParticipantRecord {
            idx,
            role,
            name,
            number,
            number_hash,
        }
    }
}

/// A user with one of their team moves (or none), as [`PAGE_COLUMNS`] lists it.
#[derive(serde::Deserialize)]
struct UserColumns(String, Option<String>, Option<String>, Option<String>);

impl UserColumns {
    /// The user the rows (one per team move) describe, if any.
    fn user(rows: Vec<UserColumns>) -> Result<Option<AgentUser>, VaultError> {
        let mut user: Option<AgentUser> = None;
        for UserColumns(name, team, moved_at, from_team) in rows {
            user.get_or_insert_with(|| AgentUser {
                name,
                team,
                moves: Vec::new(),
            })
            .add_move(moved_at, from_team)?;
        }
        Ok(user)
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
