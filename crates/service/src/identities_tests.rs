//! Tests of the identity service over a real catalog, with time passed in: lockout
//! that ends, grants that expire inside the principal, sessions that end when idle.

use chrono::{DateTime, TimeDelta, Utc};
use governance::identity::{AuthMethod, GrantScope, Grantee, Principal, Secret};

use super::{GrantRequest, UserRequest};
use crate::{ErrorKind, Service, ServiceSettings};

const ADMIN_PW: &str = "admin-password-0001";
const PW: &str = "a-user-password-0002";

fn t0() -> DateTime<Utc> {
    "2026-05-04T08:00:00Z".parse().unwrap()
}

fn minutes(m: i64) -> DateTime<Utc> {
    t0() + TimeDelta::minutes(m)
}

/// Tenant `arlo`: administrator, security officer `sec`, line manager `lena` managing
/// team `support`, agent `anna` in it.
async fn arlo(dir: &tempfile::TempDir) -> (Service, Principal) {
    let service = Service::open(
        &dir.path().join("data"),
        &dir.path().join("keys"),
        ServiceSettings::default(),
    )
    .await
    .unwrap();
    let file = concat!(env!("CARGO_MANIFEST_DIR"), "/../../policies/arlo-europe.toml");
    let text = std::fs::read_to_string(file).unwrap();
    service
        .create_tenant("arlo", file, &text, &governance::Actor::LocalAdministrator, t0())
        .await
        .unwrap();
    service
        .init_administrator("arlo", "admin", &Secret::new(ADMIN_PW), t0())
        .await
        .unwrap();
    let admin = service
        .authenticate_password("arlo", "admin", &Secret::new(ADMIN_PW), t0())
        .await
        .unwrap();
    service.add_team(&admin, "arlo", "support", t0()).await.unwrap();
    let password = Secret::new(PW);
    for (name, role, team) in [
        ("sec", "security-officer", None),
        ("lena", "line-manager", None),
        ("anna", "agent", Some("support")),
    ] {
        let roles = [role.to_owned()];
        let request = UserRequest {
            tenant: "arlo",
            name,
            roles: &roles,
            team,
            password: Some(&password),
        };
        service.add_user(&admin, &request, t0()).await.unwrap();
    }
    service
        .set_team_manager(&admin, "arlo", "support", "lena", t0())
        .await
        .unwrap();
    (service, admin)
}

async fn sign_in(service: &Service, name: &str, password: &str, at: DateTime<Utc>) -> Result<Principal, String> {
    service
        .authenticate_password("arlo", name, &Secret::new(password), at)
        .await
        .map_err(|e| e.code)
}

#[tokio::test]
async fn principal_carries_hierarchy_training_and_only_active_grants() {
    let dir = tempfile::tempdir().unwrap();
    let (service, admin) = arlo(&dir).await;
    let sec = sign_in(&service, "sec", PW, t0()).await.unwrap();
    let request = GrantRequest {
        tenant: "arlo",
        grantee: Grantee::Role("line-manager".into()),
        scope: GrantScope::Team("support".into()),
        purpose: "quality",
        expires_at: minutes(60),
    };
    let grant = service.add_grant(&sec, &request, t0()).await.unwrap();
    service
        .add_attestation(&admin, "arlo", "lena", "qa-training", t0().date_naive(), t0())
        .await
        .unwrap();

    let lena = sign_in(&service, "lena", PW, minutes(59)).await.unwrap();
    assert_eq!(lena.managed_teams, ["support"]);
    assert_eq!(lena.team, None);
    assert_eq!(lena.grants.iter().map(|g| g.id).collect::<Vec<_>>(), [grant.id]);
    assert!(lena.trained_on(t0().date_naive()));
    assert_eq!(lena.method, AuthMethod::Password);
    let anna = sign_in(&service, "anna", PW, minutes(59)).await.unwrap();
    assert_eq!(anna.team.as_deref(), Some("support"));
    assert!(anna.grants.is_empty(), "the grant is for line managers");
    assert!(!anna.trained_on(t0().date_naive()));
    // At its expiry the grant is gone from the principal.
    let lena = sign_in(&service, "lena", PW, minutes(60)).await.unwrap();
    assert!(lena.grants.is_empty());
    // A revoked grant too.
    let request = GrantRequest {
        expires_at: minutes(600),
        ..request
    };
    let grant = service.add_grant(&sec, &request, minutes(61)).await.unwrap();
    service
        .revoke_grant(&sec, &grant.id.to_string(), minutes(62))
        .await
        .unwrap();
    assert!(
        sign_in(&service, "lena", PW, minutes(63))
            .await
            .unwrap()
            .grants
            .is_empty()
    );
}

#[tokio::test]
async fn lockout_ends_after_its_duration_and_a_success_resets_the_count() {
    let dir = tempfile::tempdir().unwrap();
    let (service, _) = arlo(&dir).await;
    // Four failures, then a success: the count starts again.
    for m in 0..4 {
        assert_eq!(
            sign_in(&service, "anna", "wrong-password-1", minutes(m))
                .await
                .unwrap_err(),
            "auth-failed"
        );
    }
    sign_in(&service, "anna", PW, minutes(4)).await.unwrap();
    for m in 5..9 {
        assert_eq!(
            sign_in(&service, "anna", "wrong-password-1", minutes(m))
                .await
                .unwrap_err(),
            "auth-failed"
        );
    }
    sign_in(&service, "anna", PW, minutes(9)).await.unwrap();
    // Five within the window lock her for 15 minutes from the fifth.
    for m in 10..15 {
        assert_eq!(
            sign_in(&service, "anna", "wrong-password-1", minutes(m))
                .await
                .unwrap_err(),
            "auth-failed"
        );
    }
    // (minute, expected)
    for (m, expected) in [(15, Some("account-locked")), (28, Some("account-locked")), (29, None)] {
        let result = sign_in(&service, "anna", PW, minutes(m)).await;
        assert_eq!(result.err().as_deref(), expected, "minute {m}");
    }
    // Another user is not affected.
    for m in 10..15 {
        let _ = sign_in(&service, "anna", "wrong-password-1", minutes(30 + m)).await;
    }
    sign_in(&service, "lena", PW, minutes(45)).await.unwrap();
}

#[tokio::test]
async fn sessions_end_when_idle_or_old_and_tokens_when_the_user_is_locked() {
    let dir = tempfile::tempdir().unwrap();
    let (service, admin) = arlo(&dir).await;
    let (_, session) = service.login("arlo", "anna", &Secret::new(PW), t0()).await.unwrap();
    let use_at = |m: i64| {
        let (service, value) = (&service, session.value.clone());
        async move {
            service
                .authenticate_token(&value, minutes(m))
                .await
                .map(|_| ())
                .map_err(|e| e.code)
        }
    };
    // Each use restarts the 30-minute idle clock; 8 hours is the most.
    for m in [
        10, 39, 68, 97, 126, 155, 184, 213, 242, 271, 300, 329, 358, 387, 416, 445, 474,
    ] {
        assert_eq!(use_at(m).await, Ok(()), "minute {m}");
    }
    assert_eq!(use_at(480).await.unwrap_err(), "token-expired");
    let (_, idle) = service.login("arlo", "anna", &Secret::new(PW), t0()).await.unwrap();
    let err = service.authenticate_token(&idle.value, minutes(30)).await.unwrap_err();
    assert_eq!(
        (err.kind, err.code.as_str()),
        (ErrorKind::Unauthenticated, "session-expired")
    );

    // An API token, minted from a session, ends when the administrator locks the user,
    // and stays ended after the unlock (the credential epoch moved on).
    let (anna, session) = service
        .login("arlo", "anna", &Secret::new(PW), minutes(500))
        .await
        .unwrap();
    let principal = service.authenticate_token(&session.value, minutes(501)).await.unwrap();
    assert_eq!(principal.user, anna.user);
    let api = service
        .create_api_token(&principal, None, Some("ci"), minutes(501))
        .await
        .unwrap();
    service.authenticate_token(&api.value, minutes(502)).await.unwrap();
    service
        .set_user_locked(&admin, "arlo", "anna", true, minutes(503))
        .await
        .unwrap();
    service
        .set_user_locked(&admin, "arlo", "anna", false, minutes(504))
        .await
        .unwrap();
    let err = service.authenticate_token(&api.value, minutes(505)).await.unwrap_err();
    assert_eq!(err.code, "token-revoked");

    // A password change ends sessions too; a user changes their own, not another's.
    let (anna, session) = service
        .login("arlo", "anna", &Secret::new(PW), minutes(510))
        .await
        .unwrap();
    let new = Secret::new("another-password-0003");
    let err = service
        .set_password(&anna, "arlo", "lena", &new, minutes(511))
        .await
        .unwrap_err();
    assert_eq!(err.code, "role-required");
    service
        .set_password(&anna, "arlo", "anna", &new, minutes(511))
        .await
        .unwrap();
    let err = service
        .authenticate_token(&session.value, minutes(512))
        .await
        .unwrap_err();
    assert_eq!(err.code, "token-revoked");
    assert_eq!(
        sign_in(&service, "anna", PW, minutes(513)).await.unwrap_err(),
        "auth-failed"
    );
    sign_in(&service, "anna", new.expose(), minutes(514)).await.unwrap();
}
