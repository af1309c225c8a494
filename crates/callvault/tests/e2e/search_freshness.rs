//! A running server keeps what its searches last read of a tenant (country, active policy
//! version) and checks it in each search's own statement. This drives the case that
//! check exists for: another process (the CLI) changes the tenant while the server runs,
//! and the server's very next search follows the change.

use serde_json::{Value, json};

use crate::support::*;

const PW: &str = "posti-search-freshness-pw-1";

#[test]
fn a_tenant_changed_by_another_process_governs_the_running_servers_next_search() {
    let env = Env::new(Some("eu-eea"));
    env.posti_tenant();
    admin_init(&env, "posti", "root", PW);
    let add = [
        "user",
        "add",
        "sys",
        "--role",
        "system-administrator",
        "--password-stdin",
    ];
    as_user_stdin(&env, "posti/root", PW, &add, &format!("{PW}\n")).unwrap();
    let attest = [
        "attest",
        "add",
        "sys",
        "--training",
        "recording-basics",
        "--date",
        "2026-01-05",
    ];
    as_user(&env, "posti/root", PW, &attest).unwrap();
    // A call from a customer who gives the national number 040 1234567.
    let meta = meta(
        "inbound",
        &["verify-agreement"],
        json!({"customer_number": "040 1234567"}),
    );
    let call = || env.ingest("posti", &stereo_call(1), &meta).unwrap();
    // In Finland, 040 … is +358 40 ….
    let finnish = call();

    let server = crate::http::serve(&env);
    let client = reqwest::blocking::Client::new();
    let token = server.token("posti", "sys", PW);
    let search = |number: &str| -> Vec<String> {
        let response = client
            .get(format!("{}/v1/recordings", server.base))
            .bearer_auth(&token)
            .query(&[
                ("purpose", "verify-agreement"),
                ("reason", "customer asks what was agreed"),
                ("customer_number", number),
            ])
            .send()
            .unwrap();
        assert_eq!(response.status().as_u16(), 200);
        let found: Value = response.json().unwrap();
        found
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["id"].as_str().unwrap().to_owned())
            .collect()
    };
    // Twice: the second search runs on what the first one kept.
    assert_eq!(search("040 1234567"), vec![finnish.clone()]);
    assert_eq!(search("040 1234567"), vec![finnish.clone()]);

    // The CLI (another process) moves the tenant to Sweden: 040 … now means +46 40 ….
    env.ok(&["tenant", "set", "posti", "--country", "SE"]);
    assert_eq!(
        search("040 1234567"),
        Vec::<String>::new(),
        "the national number is read in the tenant's new country at once"
    );
    assert_eq!(search("+358 40 1234567"), vec![finnish.clone()]);
    let swedish = call();
    assert_eq!(search("040 1234567"), vec![swedish]);
    drop(server);
}
