//! The decision, pure: which registers list a number, and may an unsolicited sales
//! or marketing call go to it under a tenant's policy (WEBEO-TPS)?

use crate::overrides::OverrideRecord;
use crate::register::register_label;
use crate::store::Snapshot;
use crate::wire::{OverrideSummary, RegisterListing, ScreeningAnswer};

/// A policy's `[marketing]` rules.
#[derive(Debug, Clone, Copy)]
pub struct MarketingRules<'a> {
    /// Registers every number is screened against (`marketing.screening_registers`).
    pub registers: &'a [String],
    /// No unsolicited sales or marketing call to a listed number.
    pub no_unsolicited_calls_to_listed: bool,
}

/// May an unsolicited marketing call go to a number listed on `listed_on`?
///
/// Without rules (no tenant): only if no register lists it. With rules: unless the
/// policy forbids calls to numbers on a register it names and one of them lists
/// it, or one of them is not imported (nothing is allowed unchecked). An override
/// (the person consented) allows the call.
pub fn may_call_for_marketing(
    listed_on: &[&str],
    unchecked: &[String],
    rules: Option<&MarketingRules<'_>>,
    overridden: bool,
) -> bool {
    match rules {
        None => listed_on.is_empty(),
        Some(rules) if !rules.no_unsolicited_calls_to_listed => true,
        Some(_) if overridden => true,
        Some(rules) => unchecked.is_empty() && !listed_on.iter().any(|r| rules.registers.iter().any(|n| n == r)),
    }
}

/// The answer for one number (its key and E.164 form) in one snapshot.
pub fn answer(
    snapshot: &Snapshot,
    e164: &str,
    key: u64,
    rules: Option<&MarketingRules<'_>>,
    override_: Option<&OverrideRecord>,
) -> ScreeningAnswer {
    let registers: Vec<RegisterListing> = snapshot
        .listings(key)
        .map(|(name, source)| RegisterListing {
            register: name.to_owned(),
            file: source.file.clone(),
            date: source.date,
        })
        .collect();
    let unchecked = match rules {
        Some(r) if r.no_unsolicited_calls_to_listed => unchecked_registers(snapshot, r.registers),
        _ => Vec::new(),
    };
    let listed_on: Vec<&str> = registers.iter().map(|l| l.register.as_str()).collect();
    ScreeningAnswer {
        number: e164.to_owned(),
        may_call_for_marketing: may_call_for_marketing(&listed_on, &unchecked, rules, override_.is_some()),
        registers,
        unchecked_registers: unchecked,
        override_: override_.map(|o| OverrideSummary {
            reason: o.reason.clone(),
            actor: o.actor.clone(),
            at: o.at,
        }),
    }
}

/// The registers among `names` that the snapshot does not have.
pub fn unchecked_registers(snapshot: &Snapshot, names: &[String]) -> Vec<String> {
    names
        .iter()
        .filter(|n| snapshot.register(n).is_none())
        .cloned()
        .collect()
}

/// Catalog notes for a recorded outbound call to the number with this key: one
/// per register the policy names that lists it.
pub fn call_notes(snapshot: &Snapshot, key: u64, policy_registers: &[String], overridden: bool) -> Vec<String> {
    policy_registers
        .iter()
        .filter_map(|name| {
            let source = snapshot.register(name)?.source_of(key)?;
            let consent = if overridden { "; override on record" } else { "" };
            Some(format!(
                "{name}-listed: outbound call to a number on the {} register (file {}, {}){consent}",
                register_label(name),
                source.file,
                source.date
            ))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decisions() {
        let names = ["tps".to_owned(), "ctps".to_owned()];
        let strict = MarketingRules {
            registers: &names,
            no_unsolicited_calls_to_listed: true,
        };
        let lenient = MarketingRules {
            registers: &names,
            no_unsolicited_calls_to_listed: false,
        };
        let missing = ["ctps".to_owned()];
        // (listed on, unchecked, rules, overridden, may call)
        type Case<'a> = (&'a [&'a str], &'a [String], Option<&'a MarketingRules<'a>>, bool, bool);
        let cases: &[Case<'_>] = &[
            (&[], &[], None, false, true),
            (&["tps"], &[], None, false, false),
            (&["own-dnc"], &[], None, false, false),
            (&[], &[], Some(&strict), false, true),
            (&["tps"], &[], Some(&strict), false, false),
            (&["ctps"], &[], Some(&strict), false, false),
            (&["own-dnc"], &[], Some(&strict), false, true),
            (&["tps"], &[], Some(&strict), true, true),
            (&[], &missing, Some(&strict), false, false),
            (&["tps"], &[], Some(&lenient), false, true),
        ];
        for (i, (listed, unchecked, rules, overridden, want)) in cases.iter().enumerate() {
            assert_eq!(
                may_call_for_marketing(listed, unchecked, *rules, *overridden),
                *want,
                "case {i}"
            );
        }
    }
}
