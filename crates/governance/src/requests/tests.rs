//! The request core against the five seed policies.

use chrono::{DateTime, TimeZone, Utc};
use policy::{Channel, Policy, RequestType};
use uuid::Uuid;

use super::*;

fn seed(name: &str) -> Policy {
    let file = format!("{}/../../policies/{name}.toml", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&file).expect("seed policy");
    policy::parse_policy(&file, &text).expect("valid seed policy")
}

fn at(day: u32, hour: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, day, hour, 0, 0).unwrap()
}

fn receive(policy: &Policy, kind: RequestType, channel: Channel) -> Result<Request, RequestError> {
    let new = NewRequest {
        id: Uuid::from_u128(1),
        tenant: "t",
        policy_version: 1,
        kind,
        channel,
        requester: "Jane Doe",
        received_at: at(20, 10),
        opened_by: "user:t/handler",
    };
    Request::receive(policy, &new, at(20, 11))
}

fn found(n: u128) -> MatchedRecording {
    MatchedRecording {
        recording_id: Uuid::from_u128(n),
        number_hash: "h".into(),
        started_at: at(1, 9),
        found_at: at(20, 12),
        decision: None,
        decided_by: None,
        decided_at: None,
        outcome: None,
    }
}

#[test]
fn posti_rights_offers_every_type_but_consent_withdrawal() {
    let posti = seed("posti");
    let offered: Vec<&str> = offered_types(&posti).iter().map(|o| kind_name(o.kind)).collect();
    assert_eq!(
        offered,
        [
            "information",
            "access",
            "rectification",
            "completion",
            "erasure",
            "portability",
            "restriction",
            "objection"
        ]
    );
    let err = receive(&posti, RequestType::ConsentWithdrawal, Channel::Email).unwrap_err();
    assert_eq!(
        (err.code, err.rule),
        ("request-type-not-offered", Some("consent.legal_basis"))
    );
    let arlo = seed("arlo-europe");
    assert!(receive(&arlo, RequestType::ConsentWithdrawal, Channel::Web).is_ok());
}

#[test]
fn channels_and_writing_follow_the_policy() {
    let webeo = seed("webeo");
    let err = receive(&webeo, RequestType::Erasure, Channel::Phone).unwrap_err();
    assert_eq!(err.code, "request-not-in-writing");
    assert!(receive(&webeo, RequestType::Erasure, Channel::Email).is_ok());
    assert!(receive(&webeo, RequestType::Copy, Channel::Phone).is_ok());
    let err = receive(&seed("csi-works"), RequestType::Copy, Channel::Phone).unwrap_err();
    assert_eq!(
        (err.code, err.rule),
        ("request-channel-not-offered", Some("rights.channels"))
    );
    let err = receive(&webeo, RequestType::Portability, Channel::Email).unwrap_err();
    assert_eq!(err.code, "request-type-not-offered");
}

#[test]
fn webeo_30days_due_date_and_overdue_from_day_31() {
    let request = receive(&seed("webeo"), RequestType::Copy, Channel::Email).unwrap();
    assert_eq!(request.due_on.to_string(), "2026-12-20");
    assert!(!request.is_overdue(Utc.with_ymd_and_hms(2026, 12, 20, 23, 59, 59).unwrap()));
    assert!(request.is_overdue(Utc.with_ymd_and_hms(2026, 12, 21, 0, 0, 0).unwrap()));
}

#[test]
fn lifecycle_steps_in_order() {
    let webeo = seed("webeo");
    let mut request = receive(&webeo, RequestType::Copy, Channel::Email).unwrap();
    assert_eq!(request.check_search(&webeo).unwrap_err().code, "identity-not-verified");
    assert_eq!(request.check_fulfil(&webeo).unwrap_err().code, "identity-not-verified");
    assert_eq!(
        request
            .decide(Uuid::from_u128(7), RecordingDecision::Fulfil, "h", at(20, 12))
            .unwrap_err()
            .code,
        "request-not-searched"
    );
    request
        .verify("user:t/h", "passport seen by video call", at(20, 12))
        .unwrap();
    assert_eq!(
        request.verify("user:t/h", "again", at(20, 12)).unwrap_err().code,
        "request-already-verified"
    );
    assert_eq!(request.add_matches(vec![found(7), found(8)], &webeo).unwrap(), 2);
    assert_eq!(
        request.add_matches(vec![found(7)], &webeo).unwrap(),
        0,
        "a recording is found once"
    );
    assert_eq!(request.state, RequestState::Searched);
    request
        .decide(Uuid::from_u128(7), RecordingDecision::Fulfil, "h", at(20, 13))
        .unwrap();
    assert_eq!(request.check_fulfil(&webeo).unwrap_err().code, "request-undecided");
    assert_eq!(
        request.check_copy(&webeo, Uuid::from_u128(7)).unwrap_err().code,
        "request-undecided"
    );
    request
        .decide(
            Uuid::from_u128(8),
            RecordingDecision::Deny(DenyReason::RightsOfOthers),
            "h",
            at(20, 13),
        )
        .unwrap();
    assert_eq!(request.state, RequestState::Decided);
    request.check_copy(&webeo, Uuid::from_u128(7)).unwrap();
    assert_eq!(
        request.check_copy(&webeo, Uuid::from_u128(8)).unwrap_err().code,
        "recording-not-released"
    );
    assert_eq!(
        request
            .decide(Uuid::from_u128(9), RecordingDecision::Fulfil, "h", at(20, 13))
            .unwrap_err()
            .code,
        "recording-not-in-request"
    );
    request
        .fulfil(&webeo, &[(Uuid::from_u128(7), "copied".into())], "h", at(21, 9))
        .unwrap();
    assert_eq!(request.state, RequestState::Fulfilled);
    assert!(
        request.authority_notification.is_none(),
        "only a denied erasure is reported"
    );
    assert_eq!(
        request.close("h", "late", at(22, 9)).unwrap_err().code,
        "request-finished"
    );
    assert!(!request.is_overdue(at(30, 9)));
}

#[test]
fn webeo_erasure_denied_records_the_authority_notification() {
    let webeo = seed("webeo");
    let mut request = receive(&webeo, RequestType::Erasure, Channel::Email).unwrap();
    request.verify("h", "call-back to the number", at(20, 12)).unwrap();
    request.add_matches(vec![found(7)], &webeo).unwrap();
    request
        .decide(
            Uuid::from_u128(7),
            RecordingDecision::Deny(DenyReason::Contract),
            "h",
            at(20, 13),
        )
        .unwrap();
    assert_eq!(
        request.check_copy(&webeo, Uuid::from_u128(7)).unwrap_err().code,
        "request-not-a-copy"
    );
    request.fulfil(&webeo, &[], "h", at(21, 9)).unwrap();
    let notice = request.authority_notification.expect("reported");
    assert_eq!(
        notice.authority,
        "Information Commissioner's Office (ICO), United Kingdom"
    );
    assert_eq!(notice.reasons, [DenyReason::Contract]);
    assert_eq!(notice.recordings, [Uuid::from_u128(7)]);
}

#[test]
fn arlo_withdraw_can_be_refused_only_for_a_legal_claim() {
    let arlo = seed("arlo-europe");
    let mut request = receive(&arlo, RequestType::ConsentWithdrawal, Channel::Web).unwrap();
    request.verify("h", "signed-in account", at(20, 12)).unwrap();
    request.add_matches(vec![found(7)], &arlo).unwrap();
    let err = request
        .decide(
            Uuid::from_u128(7),
            RecordingDecision::Deny(DenyReason::Contract),
            "h",
            at(20, 13),
        )
        .unwrap_err();
    assert_eq!(err.code, "deny-reason-not-allowed");
    request
        .decide(
            Uuid::from_u128(7),
            RecordingDecision::Deny(DenyReason::LegalClaims),
            "h",
            at(20, 13),
        )
        .unwrap();
}

#[test]
fn statements_need_only_verification_and_close_needs_a_reason() {
    let posti = seed("posti");
    let mut request = receive(&posti, RequestType::Information, Channel::Web).unwrap();
    assert_eq!(request.close("h", " ", at(20, 12)).unwrap_err().code, "reason-required");
    request.verify("h", "logged in to posti.fi", at(20, 12)).unwrap();
    request.fulfil(&posti, &[], "h", at(20, 13)).unwrap();
    assert_eq!(request.state, RequestState::Fulfilled);
}

#[test]
fn csi_copy_needs_every_other_party_and_has_no_own_voice_fallback() {
    let mut csi = seed("csi-works");
    let parties = [
        CopyParty {
            idx: 0,
            role: "customer".into(),
            is_subject: true,
        },
        CopyParty {
            idx: 1,
            role: "agent".into(),
            is_subject: false,
        },
    ];
    let err = copy_scope(&csi, &parties, &[]).unwrap_err();
    assert_eq!(err.code, "copy-consent-missing");
    assert!(err.message.contains("participant 1 (agent)"), "{}", err.message);
    assert_eq!(copy_scope(&csi, &parties, &[1]).unwrap(), CopyScope::WholeCall);
    csi.rights.own_voice_copy_allowed = true;
    assert_eq!(
        copy_scope(&csi, &parties, &[]).unwrap(),
        CopyScope::OwnVoice { participant: 0 }
    );
    assert_eq!(copy_scope(&seed("webeo"), &parties, &[]).unwrap(), CopyScope::WholeCall);
}

#[test]
fn names_round_trip() {
    for kind in REQUEST_TYPES {
        assert_eq!(parse_kind(kind_name(kind)).unwrap(), kind);
    }
    for reason in DENY_REASONS {
        assert_eq!(DenyReason::parse(reason.as_str()).unwrap(), reason);
    }
    assert_eq!(parse_kind("delete").unwrap_err().code, "request-type-unknown");
    assert_eq!(parse_channel("in-person").unwrap(), Channel::InPerson);
    for state in [
        "received",
        "identity-verified",
        "searched",
        "decided",
        "fulfilled",
        "closed",
    ] {
        assert_eq!(RequestState::parse(state).unwrap().as_str(), state);
    }
}

/// A Posti access request, verified, with recordings 7 (fulfil) and 8 (denied) found.
fn posti_access_decided(posti: &Policy) -> Request {
    let mut request = receive(posti, RequestType::Access, Channel::InPerson).unwrap();
    request.verify("h", "passport at the counter", at(20, 11)).unwrap();
    request.add_matches(vec![found(7), found(8)], posti).unwrap();
    request
        .decide(Uuid::from_u128(7), RecordingDecision::Fulfil, "h", at(20, 12))
        .unwrap();
    request
        .decide(
            Uuid::from_u128(8),
            RecordingDecision::Deny(DenyReason::RightsOfOthers),
            "h",
            at(20, 12),
        )
        .unwrap();
    request
}

fn new_playback(recording: u128, minutes: Option<u32>) -> NewPlayback<'static> {
    NewPlayback {
        id: Uuid::from_u128(100),
        recording: Uuid::from_u128(recording),
        minutes,
        opened_by: "user:t/h",
        now: at(20, 13),
    }
}

#[test]
fn posti_supervised_playback_only_for_released_recordings_of_a_playback_request() {
    let posti = seed("posti");
    let mut rng = rand::rngs::OsRng;
    let request = posti_access_decided(&posti);
    assert_eq!(request.fulfilment, policy::Fulfilment::SupervisedPlayback);
    // Never a copy for a Posti access request.
    assert_eq!(
        request.check_copy(&posti, Uuid::from_u128(7)).unwrap_err().code,
        "request-not-a-copy"
    );
    // Only a recording the request released.
    let denied = PlaybackSession::open(&request, &posti, &new_playback(8, None), &mut rng).unwrap_err();
    assert_eq!(denied.code, "recording-not-released");
    let opened = PlaybackSession::open(&request, &posti, &new_playback(7, None), &mut rng).unwrap();
    assert_eq!(opened.session.expires_at, at(20, 13) + chrono::TimeDelta::minutes(30));
    assert!(opened.session.token_matches(&opened.token));
    assert!(!opened.token.expose().contains(&opened.session.token_hash));
    // A copy request (Posti portability) never opens a playback session.
    let mut portability = receive(&posti, RequestType::Portability, Channel::Email).unwrap();
    portability.verify("h", "signed letter", at(20, 11)).unwrap();
    portability.add_matches(vec![found(7)], &posti).unwrap();
    portability
        .decide(Uuid::from_u128(7), RecordingDecision::Fulfil, "h", at(20, 12))
        .unwrap();
    let err = PlaybackSession::open(&portability, &posti, &new_playback(7, None), &mut rng).unwrap_err();
    assert_eq!(
        (err.code, err.rule),
        ("request-not-supervised-playback", Some("rights.requests"))
    );
    // Before every recording is decided, nothing is played.
    let mut undecided = receive(&posti, RequestType::Access, Channel::Web).unwrap();
    undecided.verify("h", "bank id", at(20, 11)).unwrap();
    undecided.add_matches(vec![found(7)], &posti).unwrap();
    let err = PlaybackSession::open(&undecided, &posti, &new_playback(7, None), &mut rng).unwrap_err();
    assert_eq!(err.code, "request-undecided");
}

#[test]
fn posti_supervised_playback_bounded_session_expires_and_closes() {
    let posti = seed("posti");
    let mut rng = rand::rngs::OsRng;
    let request = posti_access_decided(&posti);
    for minutes in [0, PLAYBACK_MAX_MINUTES + 1] {
        let err = PlaybackSession::open(&request, &posti, &new_playback(7, Some(minutes)), &mut rng).unwrap_err();
        assert_eq!(
            (err.kind, err.code),
            (RequestErrorKind::BadInput, "playback-minutes-invalid")
        );
    }
    let mut session = PlaybackSession::open(&request, &posti, &new_playback(7, Some(10)), &mut rng)
        .unwrap()
        .session;
    let end = at(20, 13) + chrono::TimeDelta::minutes(10);
    assert!(session.check_stream(end - chrono::TimeDelta::seconds(1)).is_ok());
    let err = session.check_stream(end).unwrap_err();
    assert_eq!((err.kind, err.code), (RequestErrorKind::Gone, "playback-expired"));
    assert_eq!(session.state(end), PlaybackState::Expired);
    session.close("user:t/h", PlaybackEnd::Closed, at(20, 13)).unwrap();
    assert_eq!(session.check_stream(at(20, 13)).unwrap_err().code, "playback-closed");
    assert_eq!(
        session
            .close("user:t/h", PlaybackEnd::Closed, at(20, 14))
            .unwrap_err()
            .code,
        "playback-closed"
    );
    // Tokens: another value, or one not shaped like a playback token, never matches.
    assert!(!session.token_matches(&crate::identity::Secret::new(format!("cv_playback_{}", "0".repeat(64)))));
    assert!(playback_token_hash(&crate::identity::Secret::new("cv_api_00")).is_none());
}

#[test]
fn posti_supervised_playback_fulfils_only_once_every_released_recording_was_played() {
    let posti = seed("posti");
    let request = posti_access_decided(&posti);
    assert_eq!(request.playback_outcomes(&[]).unwrap_err().code, "playback-not-held");
    let session = PlaybackSession::open(&request, &posti, &new_playback(7, None), &mut rand::rngs::OsRng)
        .unwrap()
        .session;
    assert_eq!(
        request.playback_outcomes(&[session]).unwrap(),
        [(Uuid::from_u128(7), "played-supervised".to_owned())]
    );
    for end in [
        PlaybackEnd::Closed,
        PlaybackEnd::RequestFulfilled,
        PlaybackEnd::RequestClosed,
    ] {
        assert_eq!(PlaybackEnd::parse(end.as_str()), Some(end));
    }
}
