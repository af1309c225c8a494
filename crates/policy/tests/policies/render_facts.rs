//! Each policy's rendered notice says what its seed says.
//!
//! `tests/data/render-facts.toml` lists, per policy, facts: a substring the notice
//! must contain (`expect`), its topic, and the seed sentence it comes from (`seed`).
//! Both halves are checked: the notice contains the substring, and the seed file
//! really contains the sentence (whitespace-normalised), so a fact cannot drift
//! from either the engine or the source text.

use std::collections::{BTreeMap, BTreeSet};

use policy::render_notice;
use serde::Deserialize;

use crate::support::{POLICIES, data_dir, load, normalise, seed_text};

/// Topics every policy must cover with at least one (present) fact.
const REQUIRED_TOPICS: [&str; 6] = ["purposes", "consent", "retention", "access", "rights", "contacts"];
/// Further topics a fact may have.
const EXTRA_TOPICS: [&str; 6] = ["scope", "storage", "sharing", "register", "changes", "version"];

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct PolicyFacts {
    seed_file: String,
    facts: Vec<Fact>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Fact {
    topic: String,
    expect: String,
    seed: String,
    /// `expect` must not appear in the notice.
    #[serde(default)]
    absent: bool,
}

fn all_facts() -> BTreeMap<String, PolicyFacts> {
    let path = data_dir().join("render-facts.toml");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()));
    toml::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Renders policy `id` and checks every fact listed for it.
fn check_facts(id: &str) {
    let mut facts = all_facts();
    let entry = facts
        .remove(id)
        .unwrap_or_else(|| panic!("render-facts.toml has no [{id}]"));
    let (_, seed_number) = POLICIES.iter().find(|(p, _)| *p == id).expect("a shipped policy");
    assert_eq!(&entry.seed_file, seed_number, "[{id}] seed_file");

    let notice = render_notice(&load(id));
    let seed = normalise(&seed_text(&entry.seed_file));
    let mut failures = Vec::new();
    let mut covered = BTreeSet::new();
    for (i, fact) in entry.facts.iter().enumerate() {
        let at = format!("[{id}] fact {i} ({})", fact.topic);
        if !REQUIRED_TOPICS.contains(&fact.topic.as_str()) && !EXTRA_TOPICS.contains(&fact.topic.as_str()) {
            failures.push(format!("{at}: unknown topic {:?}", fact.topic));
        }
        if !fact.absent {
            covered.insert(fact.topic.as_str());
        }
        match (fact.absent, notice.contains(&fact.expect)) {
            (false, false) => failures.push(format!("{at}: notice lacks {:?}", fact.expect)),
            (true, true) => failures.push(format!("{at}: notice must not say {:?}", fact.expect)),
            _ => {}
        }
        let quote = normalise(&fact.seed);
        if quote.is_empty() || !seed.contains(&quote) {
            failures.push(format!(
                "{at}: seed {} does not contain {:?}",
                entry.seed_file, fact.seed
            ));
        }
    }
    for topic in REQUIRED_TOPICS {
        if !covered.contains(topic) {
            failures.push(format!("[{id}]: no fact for topic {topic:?}"));
        }
    }
    assert!(
        failures.is_empty(),
        "{} problem(s):\n{}\n\n--- notice ---\n{notice}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn csi_works() {
    check_facts("csi-works");
}

#[test]
fn telephone_office() {
    check_facts("telephone-office");
}

#[test]
fn arlo_europe() {
    check_facts("arlo-europe");
}

#[test]
fn webeo() {
    check_facts("webeo");
}

#[test]
fn posti() {
    check_facts("posti");
}

#[test]
fn facts_file_lists_exactly_the_shipped_policies() {
    let listed: BTreeSet<String> = all_facts().into_keys().collect();
    let shipped: BTreeSet<String> = POLICIES.iter().map(|(id, _)| (*id).to_owned()).collect();
    assert_eq!(listed, shipped);
}

#[test]
fn notice_sections_are_in_order() {
    // A DPO reads the notice top to bottom: the sections keep one order for every policy.
    let headings = [
        "## Which calls are recorded",
        "## Purposes",
        "## Legal basis and consent",
        "## What is kept",
        "## Retention",
        "## Where recordings are stored",
        "## Who can access recordings",
        "## Sharing",
        "## Your rights",
        "## Contact",
    ];
    for (id, _) in POLICIES {
        let notice = render_notice(&load(id));
        let positions: Vec<usize> = headings
            .iter()
            .map(|h| notice.find(h).unwrap_or_else(|| panic!("{id}: notice lacks {h:?}")))
            .collect();
        assert!(positions.windows(2).all(|w| w[0] < w[1]), "{id}: sections out of order");
        // The closing paragraph about changes stays out of the contact list.
        assert!(
            !notice.contains("\nChanges are published") || notice.contains("\n\nChanges"),
            "{id}"
        );
        assert!(
            !notice.contains("\nChanges to this policy") || notice.contains("\n\nChanges to this policy"),
            "{id}"
        );
    }
}
