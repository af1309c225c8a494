//! Identities end to end: `admin init`, users, teams, training, grants, lockout after
//! failed sign-ins (ARLO-SECURITY), grants only from the security officer
//! (ARLO-GRANTS), and sign-in over HTTP with sessions and bearer tokens that are
//! refused with 401 and a code when missing, forged, expired or revoked.

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use reqwest::blocking::Client;
use serde_json::{Value, json};

use crate::support::*;

const ADMIN_PW: &str = "admin-password-0001";
const SEC_PW: &str = "security-officer-pw-0002";
const LENA_PW: &str = "line-manager-pw-0003";
const ANNA_PW: &str = "agent-password-0004";

/// Tenant `arlo` with its first administrator, a security officer, a line manager and
/// an agent in team `support`.
fn arlo_people(env: &Env) {
    env.create_tenant("arlo", "arlo-europe");
    admin_init(env, "arlo", "admin", ADMIN_PW);
    as_user(env, "admin", ADMIN_PW, &["team", "add", "support"]).unwrap();
    for (name, role, password, team) in [
        ("sec", "security-officer", SEC_PW, None),
        ("lena", "line-manager", LENA_PW, None),
        ("anna", "agent", ANNA_PW, Some("support")),
    ] {
        let mut args = vec![
            "user",
            "add",
            name,
            "--tenant",
            "arlo",
            "--role",
            role,
            "--password-stdin",
        ];
        if let Some(team) = team {
            args.extend(["--team", team]);
        }
        as_user_stdin(env, "admin", ADMIN_PW, &args, &format!("{password}\n")).unwrap();
    }
    as_user(env, "admin", ADMIN_PW, &["team", "set-manager", "support", "lena"]).unwrap();
}

fn events(env: &Env, action: &str) -> Vec<Value> {
    env.audit().into_iter().filter(|e| e["action"] == action).collect()
}

#[test]
fn arlo_security_repeated_wrong_passwords_lock_the_account_and_are_audited() {
    let env = Env::new(None);
    arlo_people(&env);

    // The first administrator exists only once.
    let again = Env::run_stdin(
        &env,
        &["admin", "init", "--tenant", "arlo", "second", "--password-stdin"],
        &[],
        &format!("{ADMIN_PW}\n"),
    );
    assert_eq!(
        error_code(&String::from_utf8_lossy(&again.stderr)).as_deref(),
        Some("administrator-exists")
    );

    let users: Value =
        serde_json::from_str(&as_user(&env, "arlo/admin", ADMIN_PW, &["user", "list", "--json"]).unwrap()).unwrap();
    let names: Vec<&str> = users
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["admin", "anna", "lena", "sec"]);
    let anna = users.as_array().unwrap().iter().find(|u| u["name"] == "anna").unwrap();
    assert_eq!(
        (anna["team"].as_str(), anna["roles"][0].as_str()),
        (Some("support"), Some("agent"))
    );
    // An agent manages nobody; a role the policy does not know is refused.
    assert_eq!(
        as_user(&env, "anna", ANNA_PW, &["user", "list"]).unwrap_err(),
        "role-required"
    );
    assert_eq!(
        as_user(&env, "admin", ADMIN_PW, &["user", "add", "ceo", "--role", "ceo"]).unwrap_err(),
        "role-unknown"
    );
    // Without --as there is no identity at all.
    assert_eq!(env.fails(&["user", "list"]), "auth-required");

    // Five wrong passwords within the window lock the account; then even the right one is refused.
    for _ in 0..5 {
        assert_eq!(
            as_user(&env, "lena", "not-her-password", &["grant", "list"]).unwrap_err(),
            "auth-failed"
        );
    }
    assert_eq!(
        as_user(&env, "lena", LENA_PW, &["grant", "list"]).unwrap_err(),
        "account-locked"
    );
    let logins = events(&env, "auth.login");
    let lena_denials: Vec<&str> = logins
        .iter()
        .filter(|e| e["actor"] == "user:arlo/lena" && e["outcome"] == "denied")
        .map(|e| e["detail"]["code"].as_str().unwrap())
        .collect();
    assert_eq!(
        lena_denials,
        [
            "auth-failed",
            "auth-failed",
            "auth-failed",
            "auth-failed",
            "auth-failed",
            "account-locked"
        ]
    );
    let lockouts = events(&env, "auth.lockout");
    assert_eq!(lockouts.len(), 1, "{lockouts:?}");
    assert_eq!(lockouts[0]["actor"], "user:arlo/lena");
    // An unknown user is refused exactly like a wrong password.
    assert_eq!(
        as_user(&env, "nobody", "whatever-pass", &["grant", "list"]).unwrap_err(),
        "auth-failed"
    );

    // The administrator unlocks her; the right password works again (she may not list grants).
    as_user(&env, "admin", ADMIN_PW, &["user", "unlock", "lena"]).unwrap();
    assert_eq!(
        as_user(&env, "lena", LENA_PW, &["grant", "list"]).unwrap_err(),
        "role-required"
    );

    // No password is ever written to the audit log.
    let audit = env.ok(&["audit", "export"]);
    for secret in [ADMIN_PW, SEC_PW, LENA_PW, ANNA_PW, "not-her-password"] {
        assert!(!audit.contains(secret), "audit holds a password");
    }
    env.ok(&["audit", "verify"]);
}

#[test]
fn arlo_grants_only_the_security_officer_issues_grants_and_denials_are_audited() {
    let env = Env::new(None);
    arlo_people(&env);

    // The administrator manages users but cannot grant access (ARLO-GRANTS).
    let by_admin = [
        "grant",
        "add",
        "--to",
        "lena",
        "--scope",
        "team:support",
        "--purpose",
        "quality",
        "--expires",
        "30 days",
    ];
    assert_eq!(
        as_user(&env, "admin", ADMIN_PW, &by_admin).unwrap_err(),
        "role-required"
    );
    assert_eq!(as_user(&env, "lena", LENA_PW, &by_admin).unwrap_err(), "role-required");
    let denied: Vec<Value> = events(&env, "grant.add")
        .into_iter()
        .filter(|e| e["outcome"] == "denied")
        .collect();
    assert_eq!(denied.len(), 2, "{denied:?}");
    assert_eq!(denied[0]["actor"], "user:arlo/admin");
    assert_eq!(denied[0]["detail"]["code"], "role-required");
    assert_eq!(denied[0]["detail"]["rule"], "access.grants_issued_by");
    assert_eq!(denied[1]["actor"], "user:arlo/lena");

    // The security officer grants a line manager, with a purpose of the policy and an expiry.
    let grant: Value =
        serde_json::from_str(&as_user(&env, "sec", SEC_PW, &[&by_admin[..], &["--json"]].concat()).unwrap()).unwrap();
    assert_eq!(grant["state"], "active");
    assert_eq!(grant["scope"], "team:support");
    assert_eq!(grant["grantee"], json!({"kind": "user", "name": "lena"}));
    let id = grant["id"].as_str().unwrap().to_owned();
    // (arguments, expected refusal)
    let refused: [(&[&str], &str); 5] = [
        (
            &[
                "--to",
                "sec",
                "--scope",
                "tenant",
                "--purpose",
                "quality",
                "--expires",
                "1 day",
            ],
            "grant-to-self",
        ),
        (
            &[
                "--role",
                "line-manager",
                "--scope",
                "tenant",
                "--purpose",
                "marketing",
                "--expires",
                "1 day",
            ],
            "grant-purpose-invalid",
        ),
        (
            &[
                "--role",
                "line-manager",
                "--scope",
                "tenant",
                "--purpose",
                "quality",
                "--expires",
                "2020-01-01T00:00:00Z",
            ],
            "grant-expiry-in-past",
        ),
        (
            &[
                "--role",
                "line-manager",
                "--scope",
                "tenant",
                "--purpose",
                "quality",
                "--expires",
                "2 years",
            ],
            "grant-expiry-too-far",
        ),
        (
            &[
                "--role",
                "line-manager",
                "--scope",
                "team:nowhere",
                "--purpose",
                "quality",
                "--expires",
                "1 day",
            ],
            "team-unknown",
        ),
    ];
    for (args, code) in refused {
        let full = [&["grant", "add"][..], args].concat();
        assert_eq!(as_user(&env, "sec", SEC_PW, &full).unwrap_err(), code, "{args:?}");
    }
    let listed: Value =
        serde_json::from_str(&as_user(&env, "sec", SEC_PW, &["grant", "list", "--json"]).unwrap()).unwrap();
    assert_eq!(listed.as_array().unwrap().len(), 1);
    as_user(&env, "sec", SEC_PW, &["grant", "revoke", &id]).unwrap();
    let listed: Value =
        serde_json::from_str(&as_user(&env, "sec", SEC_PW, &["grant", "list", "--json"]).unwrap()).unwrap();
    assert_eq!(listed[0]["state"], "revoked");
    assert_eq!(
        as_user(&env, "sec", SEC_PW, &["grant", "revoke", &id]).unwrap_err(),
        "grant-revoked"
    );

    // Training attestations are recorded by the administrator and audited.
    as_user(
        &env,
        "admin",
        ADMIN_PW,
        &[
            "attest",
            "add",
            "anna",
            "--training",
            "recording-basics",
            "--date",
            "2026-01-05",
        ],
    )
    .unwrap();
    assert_eq!(
        as_user(
            &env,
            "sec",
            SEC_PW,
            &["attest", "add", "anna", "--training", "x", "--date", "2026-01-05"]
        )
        .unwrap_err(),
        "role-required"
    );
    let actions: Vec<String> = env
        .audit()
        .iter()
        .filter(|e| e["outcome"] != "allowed")
        .map(|e| format!("{} {}", e["action"].as_str().unwrap(), e["outcome"].as_str().unwrap()))
        .collect();
    for expected in [
        "user.admin-init done",
        "user.add done",
        "team.add done",
        "team.set-manager done",
        "grant.add done",
        "grant.revoke done",
        "training.attest done",
        "training.attest denied",
    ] {
        assert!(actions.iter().any(|a| a == expected), "no {expected:?} in {actions:?}");
    }
}

/// A running server, stopped when dropped.
struct Server {
    child: Child,
    base: String,
    log: std::path::PathBuf,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn serve(env: &Env) -> Server {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let log = env.path().join("serve.log");
    let child = Command::new(BIN)
        .current_dir(env.path())
        .args([
            "serve",
            "--http-listen",
            &format!("127.0.0.1:{port}"),
            "--sip-listen",
            "127.0.0.1:0",
        ])
        .env("RUST_LOG", "debug,sqlx=warn")
        .env_remove("CALLVAULT_PASSWORD")
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&log).unwrap())
        .spawn()
        .expect("start serve");
    let server = Server {
        child,
        base: format!("http://127.0.0.1:{port}"),
        log,
    };
    let deadline = Instant::now() + Duration::from_secs(30);
    while Instant::now() < deadline {
        if reqwest::blocking::get(format!("{}/healthz", server.base)).is_ok_and(|r| r.status().is_success()) {
            return server;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    panic!("server did not become healthy");
}

/// `POST path` with an optional bearer and JSON body: (status, body, WWW-Authenticate).
fn post(
    client: &Client,
    server: &Server,
    path: &str,
    bearer: Option<&str>,
    body: Option<&Value>,
) -> (u16, Value, Option<String>) {
    let mut request = client.post(format!("{}{path}", server.base));
    if let Some(token) = bearer {
        request = request.bearer_auth(token);
    }
    if let Some(body) = body {
        request = request.json(body);
    }
    let response = request.send().unwrap();
    let status = response.status().as_u16();
    let challenge = response
        .headers()
        .get("www-authenticate")
        .map(|v| v.to_str().unwrap().to_owned());
    (status, response.json().unwrap_or(Value::Null), challenge)
}

fn code(body: &Value) -> &str {
    body["error"]["code"].as_str().unwrap_or("<no code>")
}

#[test]
fn http_login_sessions_and_tokens_and_every_bad_credential_is_401() {
    let env = Env::new(None);
    arlo_people(&env);
    // Made before the server starts: one revoked, one expiring in two seconds.
    let made = |args: &[&str]| -> Value {
        serde_json::from_str(
            &as_user(
                &env,
                "anna",
                ANNA_PW,
                &[&["token", "create", "--json"][..], args].concat(),
            )
            .unwrap(),
        )
        .unwrap()
    };
    let revoked = made(&[]);
    as_user(
        &env,
        "anna",
        ANNA_PW,
        &["token", "revoke", revoked["id"].as_str().unwrap()],
    )
    .unwrap();
    let expiring = made(&["--expires", "2 seconds"]);
    let server = serve(&env);
    let client = Client::new();

    let login = json!({"tenant": "arlo", "name": "anna", "password": ANNA_PW});
    let (status, session, _) = post(&client, &server, "/v1/login", None, Some(&login));
    assert_eq!(status, 200, "{session}");
    assert_eq!(
        (session["kind"].as_str(), session["token_type"].as_str()),
        (Some("session"), Some("Bearer"))
    );
    assert_eq!(
        session["user"],
        json!({"tenant": "arlo", "name": "anna", "roles": ["agent"]})
    );
    let session_token = session["token"].as_str().unwrap().to_owned();

    // A session mints an API token; an API token does not mint more.
    let (status, api, _) = post(
        &client,
        &server,
        "/v1/tokens",
        Some(&session_token),
        Some(&json!({"label": "ci"})),
    );
    assert_eq!(status, 201, "{api}");
    assert_eq!(api["kind"], "api");
    let api_token = api["token"].as_str().unwrap().to_owned();
    let (status, body, _) = post(&client, &server, "/v1/tokens", Some(&api_token), None);
    assert_eq!((status, code(&body)), (403, "token-needs-password"));

    // Bad sign-ins and bad bodies.
    let wrong = json!({"tenant": "arlo", "name": "anna", "password": "wrong-password-x"});
    let (status, body, _) = post(&client, &server, "/v1/login", None, Some(&wrong));
    assert_eq!((status, code(&body)), (401, "auth-failed"));
    let (status, body, _) = post(
        &client,
        &server,
        "/v1/login",
        None,
        Some(&json!({"tenant": "arlo", "name": "anna"})),
    );
    assert_eq!((status, code(&body)), (400, "json-invalid"));
    let (status, body, _) = post(
        &client,
        &server,
        "/v1/login",
        None,
        Some(&json!({"tenant": "arlo", "name": "anna", "password": ANNA_PW, "admin": true})),
    );
    assert_eq!((status, code(&body)), (400, "json-invalid"));
    let huge = json!({"tenant": "arlo", "name": "anna", "password": "x".repeat(100_000)});
    let (status, body, _) = post(&client, &server, "/v1/login", None, Some(&huge));
    assert_eq!((status, code(&body)), (413, "body-too-large"));
    let response = client
        .post(format!("{}/v1/login", server.base))
        .header("content-type", "application/json")
        .body("{\"tenant\": ")
        .send()
        .unwrap();
    assert_eq!(response.status().as_u16(), 400);

    // Missing, forged, revoked, expired: 401 with a code and a Bearer challenge.
    std::thread::sleep(Duration::from_millis(2100));
    let forged = format!("cv_api_{}", "0".repeat(64));
    let cases: [(Option<&str>, &str); 5] = [
        (None, "auth-required"),
        (Some(forged.as_str()), "token-invalid"),
        (Some("not-a-token"), "token-invalid"),
        (Some(revoked["token"].as_str().unwrap()), "token-revoked"),
        (Some(expiring["token"].as_str().unwrap()), "token-expired"),
    ];
    for (bearer, expected) in cases {
        let (status, body, challenge) = post(&client, &server, "/v1/tokens", bearer, None);
        assert_eq!((status, code(&body)), (401, expected), "{bearer:?}");
        assert_eq!(challenge.as_deref(), Some("Bearer"));
    }

    // Logout ends the session; replaying it is refused.
    let (status, _, _) = post(&client, &server, "/v1/logout", Some(&session_token), None);
    assert_eq!(status, 204);
    let (status, body, _) = post(&client, &server, "/v1/tokens", Some(&session_token), None);
    assert_eq!((status, code(&body)), (401, "token-revoked"));

    // Locking the user ends every token they hold.
    as_user(&env, "admin", ADMIN_PW, &["user", "lock", "anna"]).unwrap();
    let (status, body, _) = post(&client, &server, "/v1/logout", Some(&api_token), None);
    assert_eq!((status, code(&body)), (401, "account-locked"));
    let (status, body, _) = post(&client, &server, "/v1/login", None, Some(&login));
    assert_eq!((status, code(&body)), (401, "account-locked"));

    // Every refusal is in the audit chain; no password or token value is anywhere.
    let token_denials: Vec<String> = events(&env, "auth.token")
        .iter()
        .map(|e| e["detail"]["code"].as_str().unwrap().to_owned())
        .collect();
    for expected in ["token-invalid", "token-revoked", "token-expired"] {
        assert!(
            token_denials.iter().any(|c| c == expected),
            "{expected} not in {token_denials:?}"
        );
    }
    assert!(events(&env, "auth.required").iter().any(|e| e["outcome"] == "denied"));
    let audit = env.ok(&["audit", "export"]);
    let log = std::fs::read_to_string(&server.log).unwrap();
    for secret in [ANNA_PW, &session_token, &api_token, revoked["token"].as_str().unwrap()] {
        assert!(
            !audit.contains(secret) && !log.contains(secret),
            "a secret leaked into the audit or the log"
        );
    }
}
