//! Team history end to end (POSTI-ACCESS: "gruppens chef lyssna på inspelningar från alla
//! sina underordnade"): a call belongs to the team its agent was in when it started. After
//! `team move` the old manager keeps the calls made before the move and does not get the
//! later ones; the new manager gets only the later ones. Moves by CLI and HTTP; bad moves
//! are refused with a code.

use serde_json::{Value, json};

use crate::support::*;

const PW: &str = "posti-team-history-pw-01";

/// Runs `args` as `posti/user`; Ok(stdout) or Err(error code).
fn posti(env: &Env, user: &str, args: &[&str]) -> Result<String, String> {
    as_user(env, &format!("posti/{user}"), PW, args)
}

/// The ids `user` finds in Posti's register, for a purpose of the policy and a reason.
fn visible(env: &Env, user: &str) -> Vec<String> {
    let out = posti(
        env,
        user,
        &[
            "recordings",
            "list",
            "--purpose",
            "verify-agreement",
            "--reason",
            "customer disputes an order",
            "--json",
        ],
    )
    .unwrap();
    let list: Value = serde_json::from_str(&out).unwrap();
    let mut ids: Vec<String> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_str().unwrap().to_owned())
        .collect();
    ids.sort();
    ids
}

fn call(env: &Env, started_at: &str) -> String {
    env.ingest(
        "posti",
        &stereo_call(1),
        &meta(
            "inbound",
            &["verify-agreement"],
            json!({"agent": "pia", "started_at": started_at}),
        ),
    )
    .unwrap()
}

#[test]
fn posti_access_a_call_stays_with_the_team_its_agent_was_in_when_it_started() {
    let env = Env::new(Some("eu-eea"));
    env.posti_tenant();
    admin_init(&env, "posti", "root", PW);
    for team in ["north", "south"] {
        posti(&env, "root", &["team", "add", team]).unwrap();
    }
    for (name, role, team) in [
        ("mgr-north", "team-manager", "north"),
        ("mgr-south", "team-manager", "south"),
        ("pia", "agent", "north"),
    ] {
        let args = ["user", "add", name, "--role", role, "--team", team, "--password-stdin"];
        as_user_stdin(&env, "posti/root", PW, &args, &format!("{PW}\n")).unwrap();
        // POSTI-TRAINING: nobody reads before the training.
        posti(
            &env,
            "root",
            &[
                "attest",
                "add",
                name,
                "--training",
                "recording-basics",
                "--date",
                "2026-01-05",
            ],
        )
        .unwrap();
    }
    for (team, manager) in [("north", "mgr-north"), ("south", "mgr-south")] {
        posti(&env, "root", &["team", "set-manager", team, manager]).unwrap();
    }

    let before = call(&env, "2026-11-20T10:00:00Z");
    // An agent moves nobody; bad moves are refused with a code and change nothing.
    assert_eq!(
        posti(&env, "pia", &["team", "move", "pia", "--to", "south"]).unwrap_err(),
        "role-required"
    );
    let refusals = [
        (vec!["team", "move", "pia", "--to", "north"], "move-conflict"),
        (vec!["team", "move", "pia", "--to", "west"], "team-unknown"),
        (vec!["team", "move", "nobody", "--to", "south"], "user-unknown"),
        (
            vec!["team", "move", "pia", "--to", "south", "--at", "2999-01-01T00:00:00Z"],
            "move-in-future",
        ),
    ];
    for (args, code) in &refusals {
        assert_eq!(posti(&env, "root", args).unwrap_err(), *code, "{args:?}");
    }
    let bad_time = posti(
        &env,
        "root",
        &["team", "move", "pia", "--to", "south", "--at", "yesterday"],
    );
    assert!(bad_time.unwrap_err().contains("--at"));
    assert_eq!(visible(&env, "mgr-north"), std::slice::from_ref(&before));
    assert!(visible(&env, "mgr-south").is_empty());

    let moved = posti(
        &env,
        "root",
        &["team", "move", "pia", "--to", "south", "--at", "2026-11-21T00:00:00Z"],
    )
    .unwrap();
    assert!(moved.contains("north") && moved.contains("south"), "{moved}");
    // A second move must come after the first.
    assert_eq!(
        posti(
            &env,
            "root",
            &["team", "move", "pia", "--to", "north", "--at", "2026-11-20T12:00:00Z"],
        )
        .unwrap_err(),
        "move-conflict"
    );
    let after = call(&env, "2026-11-22T10:00:00Z");

    // The old manager keeps the call made before the move; the new one gets only the later one.
    assert_eq!(visible(&env, "mgr-north"), std::slice::from_ref(&before));
    assert_eq!(visible(&env, "mgr-south"), std::slice::from_ref(&after));
    // The agent keeps both (own calls), and a single read follows the same rule as the search.
    let mut both = vec![before.clone(), after.clone()];
    both.sort();
    assert_eq!(visible(&env, "pia"), both);
    let show = |user: &str, id: &str| {
        posti(
            &env,
            user,
            &[
                "recordings",
                "show",
                id,
                "--purpose",
                "verify-agreement",
                "--reason",
                "customer disputes an order",
                "--json",
            ],
        )
    };
    assert!(show("mgr-north", &before).is_ok());
    assert_eq!(show("mgr-north", &after).unwrap_err(), "access-denied");
    assert!(show("mgr-south", &after).is_ok());
    assert_eq!(show("mgr-south", &before).unwrap_err(), "access-denied");

    // The team list shows pia in south now.
    let teams: Value = serde_json::from_str(&posti(&env, "root", &["team", "list", "--json"]).unwrap()).unwrap();
    let south = teams.as_array().unwrap().iter().find(|t| t["name"] == "south").unwrap();
    assert!(south.to_string().contains("pia"), "{south}");
    let north = teams.as_array().unwrap().iter().find(|t| t["name"] == "north").unwrap();
    assert!(!north["members"].to_string().contains("pia"), "{north}");

    // Over HTTP: pia moves back to north from 12:00 on the 22nd; the call of 10:00 that day
    // stays with south. Bad bodies and a non-administrator are refused with a code.
    let server = crate::http::serve(&env);
    let client = reqwest::blocking::Client::new();
    let login = |user: &str| server.token("posti", user, PW);
    let root = login("root");
    let move_pia = |token: &str, body: Value| -> (u16, Value) {
        let response = client
            .post(format!("{}/v1/users/pia/team", server.base))
            .bearer_auth(token)
            .json(&body)
            .send()
            .unwrap();
        (response.status().as_u16(), response.json().unwrap_or(Value::Null))
    };
    let (status, body) = move_pia(&login("pia"), json!({"team": "north"}));
    assert_eq!((status, body["error"]["code"].as_str()), (403, Some("role-required")));
    let (status, body) = move_pia(&root, json!({"team": 7}));
    assert_eq!((status, body["error"]["code"].as_str()), (400, Some("json-invalid")));
    let (status, body) = move_pia(&root, json!({"team": "north", "at": "2026-11-22T12:00:00Z"}));
    assert_eq!(status, 200, "{body}");
    assert_eq!(body, json!({"user": "pia", "from": "south", "to": "north"}));
    assert_eq!(visible(&env, "mgr-north"), std::slice::from_ref(&before));
    assert_eq!(visible(&env, "mgr-south"), std::slice::from_ref(&after));
    drop(server);

    // Both moves are in the audit log.
    let moves: Vec<Value> = env
        .audit()
        .into_iter()
        .filter(|e| e["action"] == "team.move" && e["outcome"] == "done")
        .collect();
    assert_eq!(moves.len(), 2, "{moves:?}");
    assert_eq!(
        (&moves[0]["detail"]["from"], &moves[0]["detail"]["to"]),
        (&json!("north"), &json!("south"))
    );
}
