//! Fuzz target: `parse_metadata` must never panic; accepted metadata must survive its own
//! queries and being applied to itself (no one joins, no one is lost); problem texts carry no
//! digits from element names.

#![no_main]

use libfuzzer_sys::fuzz_target;
use siprec::{MetadataProblem, parse_metadata};

fuzz_target!(|data: &[u8]| {
    match parse_metadata(data) {
        Ok(metadata) => {
            let _ = metadata.calling_participant();
            for stream in &metadata.streams {
                if let Some(label) = &stream.label {
                    let _ = metadata.senders_of_label(label);
                }
            }
            for participant in &metadata.participants {
                let _ = metadata.labels_sent_by(&participant.id);
                let _ = metadata.labels_received_by(&participant.id);
            }
            let mut merged = metadata.clone();
            let summary = merged.apply_partial(&metadata);
            assert!(summary.joined.is_empty() && summary.streams_added.is_empty());
            assert_eq!(merged.participants.len(), metadata.participants.len());
            assert_eq!(merged.streams.len(), metadata.streams.len());
        }
        Err(problem) => {
            assert!(!problem.code().is_empty());
            if let MetadataProblem::UnexpectedRoot { element, .. } = &problem {
                assert!(!element.chars().any(|c| c.is_ascii_digit()));
            }
            let _ = problem.to_string();
        }
    }
});
