//! Supervised playback over a real catalog and vault, with time passed in: a session
//! streams until the minute it expires and not after, a closed one never again, sessions
//! survive a restart, and a copy request never opens one (POSTI-SUPERVISED). Also the
//! search that finds the calls to play: several calls of one agent, decided together.

use chrono::{DateTime, NaiveDate, TimeDelta, Utc};
use governance::Actor;
use governance::identity::{Principal, Secret};

use crate::identities::UserRequest;
use crate::wire::{IngestMeta, ParticipantMeta};
use crate::{DecisionInput, ErrorKind, OpenRequest, Service, ServiceSettings, SubjectSearch};

const PW: &str = "a-user-password-0002";

fn t0() -> DateTime<Utc> {
    "2026-11-20T12:00:00Z".parse().unwrap()
}

fn minutes(m: i64) -> DateTime<Utc> {
    t0() + TimeDelta::minutes(m)
}

async fn open_service(dir: &tempfile::TempDir) -> Service {
    let settings = ServiceSettings {
        storage_region: Some("eu-eea".into()),
        chunk_ms: 1000,
    };
    Service::open(&dir.path().join("data"), &dir.path().join("keys"), settings)
        .await
        .unwrap()
}

/// A Posti user `name` with `role`, trained (`training`, on 1 November), signed in.
async fn trained_user(service: &Service, admin: &Principal, name: &str, role: &str, training: &str) -> Principal {
    let roles = [role.to_owned()];
    let password = Secret::new(PW);
    let user = UserRequest {
        tenant: "posti",
        name,
        roles: &roles,
        team: None,
        password: Some(&password),
    };
    service.add_user(admin, &user, t0()).await.unwrap();
    let day = NaiveDate::from_ymd_opt(2026, 11, 1).unwrap();
    service
        .add_attestation(admin, "posti", name, training, day, t0())
        .await
        .unwrap();
    service
        .authenticate_password("posti", name, &password, t0())
        .await
        .unwrap()
}

/// Posti with an administrator and `handler` (compliance, trained); one call of
/// +358401234567 at 10:00. Returns the service, the handler and the recording id.
async fn posti(dir: &tempfile::TempDir) -> (Service, Principal, String) {
    let service = open_service(dir).await;
    let file = concat!(env!("CARGO_MANIFEST_DIR"), "/../../policies/posti.toml");
    let text = std::fs::read_to_string(file).unwrap();
    service
        .create_tenant("posti", file, &text, &Actor::LocalAdministrator, t0())
        .await
        .unwrap();
    service
        .init_administrator("posti", "admin", &Secret::new(PW), t0())
        .await
        .unwrap();
    let admin = service
        .authenticate_password("posti", "admin", &Secret::new(PW), t0())
        .await
        .unwrap();
    let handler = trained_user(&service, &admin, "handler", "compliance", "call-recording-basics").await;
    let wav = media::write_wav_pcm16(8000, &[vec![1000i16; 8000], vec![-1000i16; 8000]]);
    let parties = vec![
        ParticipantMeta {
            role: "customer".into(),
            name: None,
            number: Some("+358401234567".into()),
            channel: Some(0),
        },
        ParticipantMeta {
            role: "agent".into(),
            name: None,
            number: None,
            channel: Some(1),
        },
    ];
    let meta = call_of_alex("2026-11-20T10:00:00Z", parties);
    let id = service
        .ingest("posti", &wav, &meta, &Actor::LocalAdministrator, t0())
        .await
        .unwrap()
        .id
        .to_string();
    (service, handler, id)
}

/// An inbound call of +358401234567 taken by Alex Agent at `started_at`.
fn call_of_alex(started_at: &str, participants: Vec<ParticipantMeta>) -> IngestMeta {
    IngestMeta {
        direction: "inbound".into(),
        started_at: started_at.parse().unwrap(),
        ended_at: None,
        customer_number: Some("+358401234567".into()),
        service_number: Some("+358200100".into()),
        agent: Some("Alex Agent".into()),
        purposes: vec!["verify-agreement".into()],
        consent: None,
        participants,
        withheld_caller_id: false,
        transferred_from: None,
    }
}

/// A request of `kind`, verified, searched, its one recording decided `fulfil`.
async fn decided(service: &Service, handler: &Principal, kind: &str, recording: &str) -> String {
    let numbers = ["+358401234567".to_owned()];
    let open = OpenRequest {
        tenant: "posti",
        kind,
        channel: "in-person",
        requester: "Jane Caller",
        numbers: &numbers,
        received_at: None,
    };
    let id = service.open_request(handler, &open, t0()).await.unwrap().id;
    service
        .verify_request(handler, &id, "passport at the counter", t0())
        .await
        .unwrap();
    let search = SubjectSearch {
        numbers: &[],
        date: None,
        time: None,
        window_minutes: 15,
    };
    let found = service.search_request(handler, &id, &search, t0()).await.unwrap();
    assert_eq!(found.recordings[0].recording_id, recording);
    service
        .decide_request(handler, &id, recording, DecisionInput::Fulfil, t0())
        .await
        .unwrap();
    id
}

fn actions(events: &[vault::StoredAuditEvent], action: &str) -> Vec<(String, String)> {
    events
        .iter()
        .filter(|e| e.event.action == action)
        .map(|e| {
            (
                format!("{:?}", e.event.outcome).to_lowercase(),
                e.event.detail["code"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect()
}

#[tokio::test]
async fn posti_supervised_playback_streams_until_expiry_and_never_after_close() {
    let dir = tempfile::tempdir().unwrap();
    let (service, handler, recording) = posti(&dir).await;
    let request = decided(&service, &handler, "access", &recording).await;

    // Bounded length; only a released recording.
    let err = service
        .open_playback(&handler, &request, &recording, Some(121), minutes(1))
        .await
        .unwrap_err();
    assert_eq!(
        (err.kind, err.code.as_str()),
        (ErrorKind::BadInput, "playback-minutes-invalid")
    );
    let other = uuid::Uuid::now_v7().to_string();
    let err = service
        .open_playback(&handler, &request, &other, None, minutes(1))
        .await
        .unwrap_err();
    assert_eq!(err.code, "recording-not-released");

    let opened = service
        .open_playback(&handler, &request, &recording, Some(10), minutes(1))
        .await
        .unwrap();
    assert_eq!(opened.session.expires_at, minutes(11));
    assert_eq!(opened.session.state, "active");
    let session = opened.session.id.clone();
    let token = opened.token.clone();
    // The stream is the recording, mono, like the listen endpoint's default.
    let audio = service
        .stream_playback(&session, Some(&token), minutes(10) + TimeDelta::seconds(59))
        .await
        .unwrap();
    assert_eq!(media::parse_wav(&audio.wav).unwrap().channels, 1);
    // Without the token, or with another one: 401 codes.
    let err = service.stream_playback(&session, None, minutes(2)).await.unwrap_err();
    assert_eq!(
        (err.kind, err.code.as_str()),
        (ErrorKind::Unauthenticated, "playback-token-required")
    );
    let forged = Secret::new(format!("cv_playback_{}", "a".repeat(64)));
    let err = service
        .stream_playback(&session, Some(&forged), minutes(2))
        .await
        .unwrap_err();
    assert_eq!(err.code, "playback-token-invalid");
    // At its expiry: gone.
    let err = service
        .stream_playback(&session, Some(&token), minutes(11))
        .await
        .unwrap_err();
    assert_eq!((err.kind, err.code.as_str()), (ErrorKind::Gone, "playback-expired"));

    // Sessions survive a restart: reopen the service over the same directories.
    service.close().await;
    let service = open_service(&dir).await;
    let second = service
        .open_playback(&handler, &request, &recording, None, minutes(20))
        .await
        .unwrap();
    let shown = service.show_request(&handler, &request, minutes(21)).await.unwrap();
    assert_eq!(shown.playback_sessions.len(), 2);
    assert_eq!(shown.playback_sessions[0].state, "expired");
    assert_eq!(shown.playback_sessions[0].opened_by, "user:posti/handler");
    service
        .stream_playback(&second.session.id, Some(&second.token), minutes(21))
        .await
        .unwrap();
    let closed = service
        .close_playback(&handler, &second.session.id, minutes(22))
        .await
        .unwrap();
    assert_eq!((closed.state, closed.end), ("closed", Some("closed")));
    let err = service
        .stream_playback(&second.session.id, Some(&second.token), minutes(23))
        .await
        .unwrap_err();
    assert_eq!((err.kind, err.code.as_str()), (ErrorKind::Gone, "playback-closed"));
    let err = service
        .close_playback(&handler, &second.session.id, minutes(24))
        .await
        .unwrap_err();
    assert_eq!(err.code, "playback-closed");

    // Fulfilled by supervised playback: the lifecycle says so, per recording.
    let done = service.fulfil_request(&handler, &request, minutes(30)).await.unwrap();
    assert!(done.bundle.is_none(), "never a copy");
    assert_eq!(done.request.state, "fulfilled");
    assert_eq!(done.request.recordings[0].outcome.as_deref(), Some("played-supervised"));
    // Once the request ended, no new session.
    let err = service
        .open_playback(&handler, &request, &recording, None, minutes(31))
        .await
        .unwrap_err();
    assert_eq!(err.code, "request-finished");

    let events = service.vault().catalog().audit().events().await.unwrap();
    let opens = actions(&events, "playback.open");
    assert_eq!(opens.iter().filter(|(outcome, _)| outcome == "done").count(), 2);
    let refused: Vec<&str> = opens
        .iter()
        .map(|(_, code)| code.as_str())
        .filter(|c| !c.is_empty())
        .collect();
    assert_eq!(
        refused,
        ["playback-minutes-invalid", "recording-not-released", "request-finished"]
    );
    assert_eq!(
        actions(&events, "playback.expired-use"),
        [("denied".to_owned(), "playback-expired".to_owned())]
    );
    assert_eq!(
        actions(&events, "playback.close"),
        [
            ("done".to_owned(), String::new()),
            ("denied".to_owned(), "playback-closed".to_owned())
        ]
    );
    let text = serde_json::to_string(&events.iter().map(|e| &e.event.detail).collect::<Vec<_>>()).unwrap();
    assert!(!text.contains("401234567"), "no number in the audit log");
    assert!(!text.contains(token.expose()), "no token in the audit log");
}

#[tokio::test]
async fn posti_supervised_playback_needs_a_session_and_never_opens_for_a_copy_request() {
    let dir = tempfile::tempdir().unwrap();
    let (service, handler, recording) = posti(&dir).await;
    // Posti portability is fulfilled by a copy: no playback session for it.
    let portability = decided(&service, &handler, "portability", &recording).await;
    let err = service
        .open_playback(&handler, &portability, &recording, None, minutes(1))
        .await
        .unwrap_err();
    assert_eq!(
        (err.kind, err.code.as_str()),
        (ErrorKind::Refused, "request-not-supervised-playback")
    );
    // An access request is fulfilled only once the subject listened.
    let access = decided(&service, &handler, "access", &recording).await;
    let err = service.fulfil_request(&handler, &access, minutes(2)).await.unwrap_err();
    assert_eq!(err.code, "playback-not-held");
    // Closing the request ends its sessions.
    let opened = service
        .open_playback(&handler, &access, &recording, None, minutes(3))
        .await
        .unwrap();
    let closed = service
        .close_request(&handler, &access, "the subject did not come", minutes(4))
        .await
        .unwrap();
    assert_eq!(closed.playback_sessions[0].end, Some("request-closed"));
    let err = service
        .stream_playback(&opened.session.id, Some(&opened.token), minutes(5))
        .await
        .unwrap_err();
    assert_eq!(err.code, "playback-closed");
}

/// Calls that differ only in their id and time share one decision in a search, and every
/// hit gets it (the page is decided over one Cedar entity store, each distinct case once).
#[tokio::test]
async fn a_search_finding_several_calls_of_one_agent_answers_every_one() {
    let dir = tempfile::tempdir().unwrap();
    let (service, _, first) = posti(&dir).await;
    let wav = media::write_wav_pcm16(8000, &[vec![500i16; 8000]]);
    let mut ids = vec![first];
    for hour in [11, 12] {
        let meta = call_of_alex(&format!("2026-11-20T{hour}:00:00Z"), vec![]);
        let stored = service
            .ingest("posti", &wav, &meta, &Actor::LocalAdministrator, t0())
            .await;
        ids.push(stored.unwrap().id.to_string());
    }
    let query = crate::RecordingQuery {
        customer_number: Some("+358 40 1234567".into()),
        purpose: Some("verify-agreement".into()),
        reason: Some("customer disputes the agreement".into()),
        ..Default::default()
    };
    // Posti's system administrators see the register (a search), once trained.
    let admin = service
        .authenticate_password("posti", "admin", &Secret::new(PW), t0())
        .await
        .unwrap();
    let sysadmin = trained_user(&service, &admin, "sysadmin", "system-administrator", "recording-basics").await;
    let found = service
        .list_recordings(&query, &Actor::from(sysadmin), t0())
        .await
        .unwrap();
    let mut found: Vec<String> = found.into_iter().map(|r| r.id).collect();
    found.sort();
    ids.sort();
    assert_eq!(found, ids, "all three calls of the agent are found");
}
