//! Metadata updates: partial documents add and change, a participant joining mid-call is
//! marked, leaving is reported, complete snapshots keep history.

use siprec::{RecordingMetadata, parse_metadata};

const RFC: &str = "urn:ietf:params:xml:ns:recording:1";

fn parse(mode: &str, inner: &str) -> RecordingMetadata {
    let text = format!("<recording xmlns='{RFC}'><dataMode>{mode}</dataMode>{inner}</recording>");
    parse_metadata(text.as_bytes()).unwrap_or_else(|e| panic!("{e}: {text}"))
}

fn initial() -> RecordingMetadata {
    parse(
        "complete",
        "<session session_id='s'/>\
         <participant participant_id='a'><nameID aor='sip:a@x'><name>A</name></nameID></participant>\
         <participant participant_id='b'><nameID aor='sip:b@x'/></participant>\
         <participantsessionassoc participant_id='a' session_id='s'><associate-time>t0</associate-time></participantsessionassoc>\
         <stream stream_id='s1' session_id='s'><label>1</label></stream>\
         <stream stream_id='s2' session_id='s'><label>2</label></stream>\
         <participantstreamassoc participant_id='a'><send>s1</send></participantstreamassoc>\
         <participantstreamassoc participant_id='b'><send>s2</send></participantstreamassoc>",
    )
}

#[test]
fn participant_joining_mid_call() {
    let mut metadata = initial();
    let update = parse(
        "partial",
        "<participant participant_id='c'><nameID aor='sip:c@x'/></participant>\
         <participantsessionassoc participant_id='c' session_id='s'><associate-time>t5</associate-time></participantsessionassoc>\
         <stream stream_id='s3' session_id='s'><label>3</label></stream>\
         <participantstreamassoc participant_id='c'><send>s3</send></participantstreamassoc>",
    );
    assert!(update.warnings.is_empty(), "{:?}", update.warnings);
    let summary = metadata.apply_partial(&update);
    assert_eq!(summary.joined, ["c"]);
    assert!(summary.left.is_empty());
    assert_eq!(summary.streams_added, ["s3"]);
    let c = metadata.participant("c").expect("c added");
    assert!(c.joined_mid_call);
    assert_eq!(c.associate_time.as_deref(), Some("t5"));
    assert_eq!(metadata.labels_sent_by("c"), ["3"]);
    assert_eq!(metadata.labels_sent_by("a"), ["1"], "untouched");
    assert!(!metadata.participant("a").expect("a").joined_mid_call);
    assert_eq!(metadata.participants.len(), 3);
}

#[test]
fn partial_update_changes_fields_and_reports_leaving() {
    let mut metadata = initial();
    let update = parse(
        "partial",
        "<participantsessionassoc participant_id='b' session_id='s'><disassociate-time>t9</disassociate-time></participantsessionassoc>\
         <participant participant_id='a'><nameID><name>Alice</name></nameID></participant>\
         <participantstreamassoc participant_id='a'><send>s2</send></participantstreamassoc>",
    );
    let summary = metadata.apply_partial(&update);
    assert!(summary.joined.is_empty(), "b and a were known");
    assert_eq!(summary.left, ["b"]);
    let a = metadata.participant("a").expect("a");
    assert_eq!(a.aors, ["sip:a@x"], "aor kept when the update gives none");
    assert_eq!(a.name.as_deref(), Some("Alice"));
    assert_eq!(a.associate_time.as_deref(), Some("t0"));
    let b = metadata.participant("b").expect("b kept");
    assert_eq!(b.aors, ["sip:b@x"]);
    assert_eq!(b.disassociate_time.as_deref(), Some("t9"));
    assert_eq!(
        metadata.labels_sent_by("a"),
        ["2"],
        "an association replaces the previous one"
    );
}

#[test]
fn complete_snapshot_keeps_history() {
    let mut metadata = initial();
    let snapshot = parse(
        "complete",
        "<participant participant_id='b'><nameID aor='sip:b@x'/></participant>\
         <participant participant_id='d'><nameID aor='sip:d@x'/></participant>\
         <stream stream_id='s2'><label>2</label></stream>\
         <participantstreamassoc participant_id='d'><send>s2</send></participantstreamassoc>",
    );
    let summary = metadata.apply_partial(&snapshot);
    assert_eq!(summary.joined, ["d"]);
    assert_eq!(summary.left, ["a"]);
    assert!(metadata.participant("a").is_some(), "kept for the recording's history");
    assert!(metadata.labels_sent_by("a").is_empty(), "no longer associated");
    assert_eq!(metadata.labels_sent_by("d"), ["2"]);
    assert_eq!(
        metadata.labels_sent_by("b"),
        ["2"],
        "b's association kept: b is still listed"
    );
}

#[test]
fn signals_are_only_added() {
    let mut metadata = initial();
    let update = parse(
        "partial",
        "<notice xmlns='urn:callvault:siprec:1'>played</notice>\
         <consent xmlns='urn:callvault:siprec:1' digit='1'>granted</consent>",
    );
    metadata.apply_partial(&update);
    assert!(metadata.notice_played);
    assert!(metadata.consent.as_ref().is_some_and(|c| c.granted));
    metadata.apply_partial(&parse("partial", ""));
    assert!(
        metadata.notice_played,
        "an update without the element does not unset it"
    );
    assert!(metadata.consent.is_some());
}

#[test]
fn applying_a_snapshot_to_itself_changes_nothing() {
    let mut metadata = initial();
    let same = initial();
    let summary = metadata.apply_partial(&same);
    assert_eq!(summary, Default::default());
    assert_eq!(metadata, same);
}
