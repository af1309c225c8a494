//! CSI-SCOPE, live: a call transferred in is recognised from the Diversion header the
//! recording client copied, or from the number it arrived on as `[[sip.transfers]]`
//! configures, and its transfer source is kept on the recording; a plain call is not
//! marked (`sipp/siprec_transfer.xml`).

use serde_json::Value;

use crate::live::*;
use crate::support::*;

/// Runs one transferred-in call (or a plain one) and returns its register entry as
/// `recordings show` prints it.
fn call(env: &Env, server: &SipServer, name: &str, header: &str, customer_aor: &str) -> Value {
    let before = try_list(env).map_or(0, |l| l.len());
    let outcome = Sipp::prepare(env, name)
        .start(
            "siprec_transfer.xml",
            server,
            &["-key", "transfer_header", header, "-key", "customer_aor", customer_aor],
        )
        .wait();
    assert_sipp_ok(&outcome, server);
    let list = wait_sealed(env, server, before + 1);
    // Newest first.
    let id = list[0]["id"].as_str().unwrap().to_owned();
    env.json(&["recordings", "show", &id, "--json"])
}

fn notes(shown: &Value) -> Vec<String> {
    shown["notes"]
        .as_array()
        .unwrap_or_else(|| panic!("notes: {shown}"))
        .iter()
        .filter_map(|n| n.as_str().map(str::to_owned))
        .collect()
}

fn participants(shown: &Value) -> Vec<(String, Option<String>)> {
    shown["participants"]
        .as_array()
        .unwrap_or_else(|| panic!("participants: {shown}"))
        .iter()
        .map(|p| {
            (
                p["role"].as_str().unwrap_or_default().to_owned(),
                p["number"].as_str().map(str::to_owned),
            )
        })
        .collect()
}

/// CSI-SCOPE: calls transferred in from a partner's support line are recorded and keep
/// their transfer source. A call whose INVITE carries `Diversion:
/// <sip:+358401112222@partner.example>` is noted "transferred-in: signalled by
/// Diversion" with the diverting line kept as its `transfer-source` participant; a call
/// arriving on the number `[[sip.transfers]]` names for the partner `clover` is noted
/// "transferred-from: clover"; a plain call carries no transfer note.
#[test]
fn csi_scope_transferred_in_calls_keep_their_transfer_source() {
    if !sipp_available("csi_scope_transferred_in_calls_keep_their_transfer_source") {
        return;
    }
    let env = Env::new(None);
    tenant_with_agents(&env, "csi", "csi-works");
    env.ok(&["tenant", "set", "csi", "--retention", "2 years"]);
    let server = env.serve_sip_with(
        "csi",
        None,
        "[[sip.transfers]]\nsource = \"clover\"\nservice_number = \"+35860094399\"",
    );

    let diverted = call(
        &env,
        &server,
        "diverted",
        "Diversion: <sip:+358401112222@partner.example>;reason=unconditional;counter=1",
        "sip:+447700900123@carrier.example",
    );
    eprintln!("diverted: {diverted}");
    let diverted_notes = notes(&diverted);
    assert!(
        diverted_notes.contains(&"transferred-in: signalled by Diversion".to_owned()),
        "{diverted_notes:?}"
    );
    assert!(
        participants(&diverted).contains(&("transfer-source".to_owned(), Some("+358401112222".to_owned()))),
        "the diverting line is kept as the transfer source: {:?}",
        participants(&diverted)
    );

    let configured = call(
        &env,
        &server,
        "configured",
        "X-Call-Kind: support",
        "sip:+35860094399@carrier.example",
    );
    eprintln!("configured: {configured}");
    let configured_notes = notes(&configured);
    assert!(
        configured_notes.contains(&"transferred-in: signalled by configuration".to_owned())
            && configured_notes.contains(&"transferred-from: clover".to_owned()),
        "{configured_notes:?}"
    );

    let plain = call(
        &env,
        &server,
        "plain",
        "X-Call-Kind: direct",
        "sip:+447700900123@carrier.example",
    );
    let plain_notes = notes(&plain);
    assert!(
        !plain_notes.iter().any(|n| n.contains("transferred")),
        "a plain call is not a transfer: {plain_notes:?}"
    );
    assert!(
        !participants(&plain).iter().any(|(role, _)| role == "transfer-source"),
        "{:?}",
        participants(&plain)
    );
}

/// The transfer source may be a person's own line: under a policy that masks the
/// customer's number (Posti), the diverting number is masked the same way.
#[test]
fn a_transfer_source_number_is_masked_as_the_policy_masks_numbers() {
    if !sipp_available("a_transfer_source_number_is_masked_as_the_policy_masks_numbers") {
        return;
    }
    let env = Env::new(Some("eu-eea"));
    tenant_with_agents(&env, "posti", "posti");
    let server = env.serve_sip("posti", None);
    let shown = call(
        &env,
        &server,
        "diverted",
        "Diversion: <sip:+358401112222@partner.example>;reason=unconditional",
        "sip:+447700900123@carrier.example",
    );
    let sources: Vec<(String, Option<String>)> = participants(&shown)
        .into_iter()
        .filter(|(role, _)| role == "transfer-source")
        .collect();
    assert_eq!(
        sources,
        vec![("transfer-source".to_owned(), Some("+358401112xxx".to_owned()))],
        "{shown}"
    );
    assert!(
        !shown.to_string().contains("358401112222"),
        "the full number is not stored: {shown}"
    );
}
