//! Storage of data-subject requests: the request rows, the subject's numbers, the
//! recordings found with their decisions, participants' consents to copies, and the
//! restrictions (and objections) placed on recordings. The rules are governance's.

use chrono::{DateTime, NaiveDate, Utc};
use governance::requests::{
    AuthorityNotification, DenyReason, MatchedRecording, RecordingDecision, Request, RequestState, channel_name,
    fulfilment_name, kind_name, parse_channel, parse_fulfilment, parse_kind,
};
use sqlx::Row;
use sqlx::sqlite::SqliteRow;
use uuid::Uuid;

use crate::catalog::{Catalog, parse_ts, ts};
use crate::error::VaultError;

/// One of the subject's numbers as a request keeps it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestNumber {
    pub number_hash: String,
    pub masked: String,
    /// The full E.164 form, kept only while the request is open.
    pub e164: Option<String>,
}

/// A recording a subject search found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubjectHit {
    pub recording_id: Uuid,
    pub number_hash: String,
    pub started_at: DateTime<Utc>,
}

/// A restriction or objection on one recording (every use but storage stops).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Restriction {
    pub recording_id: Uuid,
    pub request_id: Uuid,
    pub tenant: String,
    /// `restriction` or `objection`.
    pub kind: String,
    /// The hold that keeps a restricted recording through retention.
    pub hold_id: Option<Uuid>,
    pub placed_by: String,
    pub placed_at: DateTime<Utc>,
    pub lifted_by: Option<String>,
    pub lifted_at: Option<DateTime<Utc>>,
}

/// A participant's recorded consent to a copy (CSI-COPY).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CopyConsent {
    pub recording_id: Uuid,
    pub participant: i64,
    pub evidence: String,
    pub recorded_by: String,
    pub recorded_at: DateTime<Utc>,
}

fn uuid_of(text: &str) -> Result<Uuid, VaultError> {
    text.parse().map_err(|_| VaultError::Corrupt(format!("id {text:?}")))
}

fn opt_ts(text: Option<String>) -> Result<Option<DateTime<Utc>>, VaultError> {
    text.as_deref().map(parse_ts).transpose()
}

fn corrupt(what: &str) -> VaultError {
    VaultError::Corrupt(format!("request {what}"))
}

fn notification_json(n: &AuthorityNotification) -> String {
    serde_json::json!({
        "authority": n.authority,
        "reasons": n.reasons.iter().map(|r| r.as_str()).collect::<Vec<_>>(),
        "recordings": n.recordings,
        "recorded_at": ts(n.recorded_at),
        "recorded_by": n.recorded_by,
    })
    .to_string()
}

fn notification_from(text: &str) -> Result<AuthorityNotification, VaultError> {
    let v: serde_json::Value = serde_json::from_str(text).map_err(|_| corrupt("notification"))?;
    let strings = |key: &str| -> Vec<String> {
        v[key]
            .as_array()
            .map(|a| a.iter().filter_map(|s| s.as_str().map(str::to_owned)).collect())
            .unwrap_or_default()
    };
    Ok(AuthorityNotification {
        authority: v["authority"].as_str().unwrap_or_default().to_owned(),
        reasons: strings("reasons")
            .iter()
            .map(|r| DenyReason::parse(r).map_err(|_| corrupt("deny reason")))
            .collect::<Result<_, _>>()?,
        recordings: strings("recordings")
            .iter()
            .map(|id| uuid_of(id))
            .collect::<Result<_, _>>()?,
        recorded_at: parse_ts(v["recorded_at"].as_str().unwrap_or_default())?,
        recorded_by: v["recorded_by"].as_str().unwrap_or_default().to_owned(),
    })
}

fn request_from_row(row: &SqliteRow) -> Result<Request, VaultError> {
    let text = |name: &str| -> Result<String, VaultError> { Ok(row.try_get::<String, _>(name)?) };
    let verification = match (
        row.try_get::<Option<String>, _>("verified_by")?,
        opt_ts(row.try_get("verified_at")?)?,
        row.try_get::<Option<String>, _>("verification_method")?,
    ) {
        (Some(by), Some(at), Some(method)) => Some(governance::requests::Verification { by, method, at }),
        _ => None,
    };
    Ok(Request {
        id: uuid_of(&text("id")?)?,
        tenant: text("tenant")?,
        policy_version: row.try_get("policy_version")?,
        kind: parse_kind(&text("kind")?).map_err(|_| corrupt("kind"))?,
        fulfilment: parse_fulfilment(&text("fulfilment")?).ok_or_else(|| corrupt("fulfilment"))?,
        channel: parse_channel(&text("channel")?).map_err(|_| corrupt("channel"))?,
        requester: text("requester")?,
        state: RequestState::parse(&text("state")?).ok_or_else(|| corrupt("state"))?,
        received_at: parse_ts(&text("received_at")?)?,
        due_on: text("due_on")?.parse::<NaiveDate>().map_err(|_| corrupt("due_on"))?,
        opened_by: text("opened_by")?,
        opened_at: parse_ts(&text("opened_at")?)?,
        verification,
        matches: Vec::new(),
        finished_by: row.try_get("finished_by")?,
        finished_at: opt_ts(row.try_get("finished_at")?)?,
        close_reason: row.try_get("close_reason")?,
        authority_notification: row
            .try_get::<Option<String>, _>("authority_notification")?
            .as_deref()
            .map(notification_from)
            .transpose()?,
        overdue_reported_at: opt_ts(row.try_get("overdue_reported_at")?)?,
    })
}

fn match_from_row(row: &SqliteRow) -> Result<MatchedRecording, VaultError> {
    let decision = match (
        row.try_get::<Option<String>, _>("decision")?.as_deref(),
        row.try_get::<Option<String>, _>("deny_reason")?,
    ) {
        (None, _) => None,
        (Some("fulfil"), _) => Some(RecordingDecision::Fulfil),
        (Some("deny"), Some(reason)) => Some(RecordingDecision::Deny(
            DenyReason::parse(&reason).map_err(|_| corrupt("deny reason"))?,
        )),
        _ => return Err(corrupt("decision")),
    };
    Ok(MatchedRecording {
        recording_id: uuid_of(&row.try_get::<String, _>("recording_id")?)?,
        number_hash: row.try_get("number_hash")?,
        started_at: parse_ts(&row.try_get::<String, _>("started_at")?)?,
        found_at: parse_ts(&row.try_get::<String, _>("found_at")?)?,
        decision,
        decided_by: row.try_get("decided_by")?,
        decided_at: opt_ts(row.try_get("decided_at")?)?,
        outcome: row.try_get("outcome")?,
    })
}

fn restriction_from_row(row: &SqliteRow) -> Result<Restriction, VaultError> {
    Ok(Restriction {
        recording_id: uuid_of(&row.try_get::<String, _>("recording_id")?)?,
        request_id: uuid_of(&row.try_get::<String, _>("request_id")?)?,
        tenant: row.try_get("tenant")?,
        kind: row.try_get("kind")?,
        hold_id: row
            .try_get::<Option<String>, _>("hold_id")?
            .as_deref()
            .map(uuid_of)
            .transpose()?,
        placed_by: row.try_get("placed_by")?,
        placed_at: parse_ts(&row.try_get::<String, _>("placed_at")?)?,
        lifted_by: row.try_get("lifted_by")?,
        lifted_at: opt_ts(row.try_get("lifted_at")?)?,
    })
}

impl Catalog {
    /// Stores a new request with the subject's numbers.
    pub async fn insert_request(&self, request: &Request, numbers: &[RequestNumber]) -> Result<(), VaultError> {
        let mut tx = self.pool().begin().await?;
        sqlx::query(
            "INSERT INTO requests (id, tenant, policy_version, kind, fulfilment, channel, requester, state, received_at,
                due_on, opened_by, opened_at)
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(request.id.to_string())
        .bind(&request.tenant)
        .bind(request.policy_version)
        .bind(kind_name(request.kind))
        .bind(fulfilment_name(request.fulfilment))
        .bind(channel_name(request.channel))
        .bind(&request.requester)
        .bind(request.state.as_str())
        .bind(ts(request.received_at))
        .bind(request.due_on.to_string())
        .bind(&request.opened_by)
        .bind(ts(request.opened_at))
        .execute(&mut *tx)
        .await?;
        insert_numbers(&mut tx, request.id, numbers).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Adds numbers to a request (a person can have several).
    pub async fn add_request_numbers(&self, request: Uuid, numbers: &[RequestNumber]) -> Result<(), VaultError> {
        let mut tx = self.pool().begin().await?;
        insert_numbers(&mut tx, request, numbers).await?;
        tx.commit().await?;
        Ok(())
    }

    pub async fn request_numbers(&self, request: Uuid) -> Result<Vec<RequestNumber>, VaultError> {
        let rows = sqlx::query("SELECT * FROM request_numbers WHERE request_id = ? ORDER BY masked, number_hash")
            .bind(request.to_string())
            .fetch_all(self.pool())
            .await?;
        rows.iter()
            .map(|row| {
                Ok(RequestNumber {
                    number_hash: row.try_get("number_hash")?,
                    masked: row.try_get("masked")?,
                    e164: row.try_get("e164")?,
                })
            })
            .collect()
    }

    /// Writes a request's state, verification, end and decisions (the whole aggregate);
    /// when it ended, the subject's full numbers are forgotten in the same transaction.
    pub async fn save_request(&self, request: &Request) -> Result<(), VaultError> {
        let mut tx = self.pool().begin().await?;
        let verification = request.verification.as_ref();
        let done = sqlx::query(
            "UPDATE requests SET state = ?, verified_by = ?, verified_at = ?, verification_method = ?, finished_by = ?,
                finished_at = ?, close_reason = ?, authority_notification = ?, overdue_reported_at = ?
             WHERE id = ?",
        )
        .bind(request.state.as_str())
        .bind(verification.map(|v| v.by.clone()))
        .bind(verification.map(|v| ts(v.at)))
        .bind(verification.map(|v| v.method.clone()))
        .bind(&request.finished_by)
        .bind(request.finished_at.map(ts))
        .bind(&request.close_reason)
        .bind(request.authority_notification.as_ref().map(notification_json))
        .bind(request.overdue_reported_at.map(ts))
        .bind(request.id.to_string())
        .execute(&mut *tx)
        .await?;
        if done.rows_affected() != 1 {
            return Err(VaultError::NotFound(format!("request {}", request.id)));
        }
        for m in &request.matches {
            sqlx::query(
                "INSERT INTO request_recordings (request_id, recording_id, number_hash, started_at, found_at, decision,
                    deny_reason, decided_by, decided_at, outcome)
                 VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                 ON CONFLICT (request_id, recording_id) DO UPDATE SET decision = excluded.decision,
                    deny_reason = excluded.deny_reason, decided_by = excluded.decided_by,
                    decided_at = excluded.decided_at, outcome = excluded.outcome",
            )
            .bind(request.id.to_string())
            .bind(m.recording_id.to_string())
            .bind(&m.number_hash)
            .bind(ts(m.started_at))
            .bind(ts(m.found_at))
            .bind(m.decision.map(RecordingDecision::as_str))
            .bind(m.decision.and_then(RecordingDecision::reason).map(DenyReason::as_str))
            .bind(&m.decided_by)
            .bind(m.decided_at.map(ts))
            .bind(&m.outcome)
            .execute(&mut *tx)
            .await?;
        }
        if !request.state.is_open() {
            sqlx::query("UPDATE request_numbers SET e164 = NULL WHERE request_id = ?")
                .bind(request.id.to_string())
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// One request with the recordings found for it.
    pub async fn request(&self, id: Uuid) -> Result<Request, VaultError> {
        let row = sqlx::query("SELECT * FROM requests WHERE id = ?")
            .bind(id.to_string())
            .fetch_optional(self.pool())
            .await?
            .ok_or_else(|| VaultError::NotFound(format!("request {id}")))?;
        let mut request = request_from_row(&row)?;
        request.matches =
            sqlx::query("SELECT * FROM request_recordings WHERE request_id = ? ORDER BY started_at, recording_id")
                .bind(id.to_string())
                .fetch_all(self.pool())
                .await?
                .iter()
                .map(match_from_row)
                .collect::<Result<_, _>>()?;
        Ok(request)
    }

    /// Requests of a tenant (or all), oldest first; only open ones when `open_only`.
    pub async fn requests(&self, tenant: Option<&str>, open_only: bool) -> Result<Vec<Request>, VaultError> {
        let rows = sqlx::query(
            "SELECT id FROM requests WHERE (? IS NULL OR tenant = ?)
               AND (? = 0 OR state NOT IN ('fulfilled', 'closed'))
             ORDER BY received_at, id",
        )
        .bind(tenant)
        .bind(tenant)
        .bind(open_only)
        .fetch_all(self.pool())
        .await?;
        let mut out = Vec::with_capacity(rows.len());
        for row in &rows {
            out.push(self.request(uuid_of(&row.try_get::<String, _>("id")?)?).await?);
        }
        Ok(out)
    }

    /// Open requests of `tenant`, and how many of them are overdue on `today` (due
    /// before it).
    pub async fn request_counts(&self, tenant: &str, today: NaiveDate) -> Result<(i64, i64), VaultError> {
        let (open, overdue): (i64, Option<i64>) = sqlx::query_as(
            "SELECT COUNT(*), SUM(CASE WHEN due_on < ? THEN 1 ELSE 0 END) FROM requests
             WHERE tenant = ? AND state NOT IN ('fulfilled', 'closed')",
        )
        .bind(today.to_string())
        .bind(tenant)
        .fetch_one(self.pool())
        .await?;
        Ok((open, overdue.unwrap_or(0)))
    }

    /// Visible recordings of `tenant` where a party's number has `number_hash` (the
    /// customer column or any participant) and the call overlaps `[from, to]`; calls are
    /// taken to last at most a day. The participants branch starts from the number's
    /// index (`CROSS JOIN` keeps that order in SQLite; without it the planner would scan
    /// the tenant's calls in the window, or all of them when there is no window).
    pub async fn search_subject(
        &self,
        tenant: &str,
        number_hash: &str,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<Vec<SubjectHit>, VaultError> {
        let earliest = ts(from.checked_sub_signed(chrono::TimeDelta::days(1)).unwrap_or(from));
        let rows = sqlx::query(
            "SELECT id, started_at FROM recordings
              WHERE tenant = ? AND customer_number_hash = ? AND started_at >= ? AND started_at <= ?
                AND COALESCE(ended_at, started_at) >= ? AND state <> 'writing'
             UNION
             SELECT r.id, r.started_at FROM participants p CROSS JOIN recordings r
              WHERE r.id = p.recording_id AND p.number_hash = ? AND r.tenant = ? AND r.started_at >= ? AND r.started_at <= ?
                AND COALESCE(r.ended_at, r.started_at) >= ? AND r.state <> 'writing'
             ORDER BY 2, 1",
        )
        .bind(tenant)
        .bind(number_hash)
        .bind(&earliest)
        .bind(ts(to))
        .bind(ts(from))
        .bind(number_hash)
        .bind(tenant)
        .bind(&earliest)
        .bind(ts(to))
        .bind(ts(from))
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|row| {
                Ok(SubjectHit {
                    recording_id: uuid_of(&row.try_get::<String, _>(0)?)?,
                    number_hash: number_hash.to_owned(),
                    started_at: parse_ts(&row.try_get::<String, _>(1)?)?,
                })
            })
            .collect()
    }

    /// Records (or replaces) a participant's consent to a copy.
    pub async fn insert_copy_consent(&self, request: Uuid, consent: &CopyConsent) -> Result<(), VaultError> {
        sqlx::query(
            "INSERT INTO request_consents (request_id, recording_id, participant, evidence, recorded_by, recorded_at)
             VALUES (?, ?, ?, ?, ?, ?)
             ON CONFLICT (request_id, recording_id, participant) DO UPDATE SET evidence = excluded.evidence,
                recorded_by = excluded.recorded_by, recorded_at = excluded.recorded_at",
        )
        .bind(request.to_string())
        .bind(consent.recording_id.to_string())
        .bind(consent.participant)
        .bind(&consent.evidence)
        .bind(&consent.recorded_by)
        .bind(ts(consent.recorded_at))
        .execute(self.pool())
        .await?;
        Ok(())
    }

    pub async fn copy_consents(&self, request: Uuid) -> Result<Vec<CopyConsent>, VaultError> {
        let rows =
            sqlx::query("SELECT * FROM request_consents WHERE request_id = ? ORDER BY recording_id, participant")
                .bind(request.to_string())
                .fetch_all(self.pool())
                .await?;
        rows.iter()
            .map(|row| {
                Ok(CopyConsent {
                    recording_id: uuid_of(&row.try_get::<String, _>("recording_id")?)?,
                    participant: row.try_get("participant")?,
                    evidence: row.try_get("evidence")?,
                    recorded_by: row.try_get("recorded_by")?,
                    recorded_at: parse_ts(&row.try_get::<String, _>("recorded_at")?)?,
                })
            })
            .collect()
    }

    pub async fn insert_restriction(&self, restriction: &Restriction) -> Result<(), VaultError> {
        sqlx::query(
            "INSERT INTO restrictions (recording_id, request_id, tenant, kind, hold_id, placed_by, placed_at)
             VALUES (?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(restriction.recording_id.to_string())
        .bind(restriction.request_id.to_string())
        .bind(&restriction.tenant)
        .bind(&restriction.kind)
        .bind(restriction.hold_id.map(|h| h.to_string()))
        .bind(&restriction.placed_by)
        .bind(ts(restriction.placed_at))
        .execute(self.pool())
        .await?;
        Ok(())
    }

    /// Restrictions and objections in force on a recording.
    pub async fn active_restrictions(&self, recording: Uuid) -> Result<Vec<Restriction>, VaultError> {
        let rows =
            sqlx::query("SELECT * FROM restrictions WHERE recording_id = ? AND lifted_at IS NULL ORDER BY placed_at")
                .bind(recording.to_string())
                .fetch_all(self.pool())
                .await?;
        rows.iter().map(restriction_from_row).collect()
    }

    /// The restrictions a request placed (lifted or not).
    pub async fn restrictions_of_request(&self, request: Uuid) -> Result<Vec<Restriction>, VaultError> {
        let rows = sqlx::query("SELECT * FROM restrictions WHERE request_id = ? ORDER BY recording_id")
            .bind(request.to_string())
            .fetch_all(self.pool())
            .await?;
        rows.iter().map(restriction_from_row).collect()
    }

    /// Marks a request's restriction on a recording lifted; false when none was in force.
    pub async fn lift_restriction(
        &self,
        recording: Uuid,
        request: Uuid,
        by: &str,
        at: DateTime<Utc>,
    ) -> Result<bool, VaultError> {
        let done = sqlx::query(
            "UPDATE restrictions SET lifted_by = ?, lifted_at = ?
             WHERE recording_id = ? AND request_id = ? AND lifted_at IS NULL",
        )
        .bind(by)
        .bind(ts(at))
        .bind(recording.to_string())
        .bind(request.to_string())
        .execute(self.pool())
        .await?;
        Ok(done.rows_affected() == 1)
    }
}

async fn insert_numbers(
    tx: &mut sqlx::Transaction<'_, sqlx::Sqlite>,
    request: Uuid,
    numbers: &[RequestNumber],
) -> Result<(), VaultError> {
    for n in numbers {
        sqlx::query(
            "INSERT INTO request_numbers (request_id, number_hash, masked, e164) VALUES (?, ?, ?, ?)
             ON CONFLICT (request_id, number_hash) DO NOTHING",
        )
        .bind(request.to_string())
        .bind(&n.number_hash)
        .bind(&n.masked)
        .bind(&n.e164)
        .execute(&mut **tx)
        .await?;
    }
    Ok(())
}
