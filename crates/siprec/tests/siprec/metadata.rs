//! RFC 7865 metadata: namespaces and draft shapes, callvault extension elements, vendor hints,
//! and a table of broken XML with problem codes.

use siprec::{DataMode, MetadataWarning, parse_metadata};

const RFC: &str = "urn:ietf:params:xml:ns:recording:1";

fn doc(namespace: &str, inner: &str) -> String {
    format!(
        "<?xml version=\"1.0\"?>\n<recording xmlns=\"{namespace}\"><dataMode>complete</dataMode>{inner}</recording>"
    )
}

const TWO_PARTIES: &str = r#"
<session session_id="s1"><sipSessionID>abc;remote=def</sipSessionID><start-time>2024-01-02T03:04:05Z</start-time></session>
<participant participant_id="p1"><nameID aor="sip:+441632960001@example.com"><name>Alice</name></nameID></participant>
<participant participant_id="p2"><nameID aor="tel:+441632960002"/></participant>
<stream stream_id="st1" session_id="s1"><label>1</label></stream>
<stream stream_id="st2" session_id="s1"><label>2</label></stream>
<participantstreamassoc participant_id="p1"><send>st1</send><recv>st2</recv></participantstreamassoc>
<participantstreamassoc participant_id="p2"><send>st2</send><recv>st1</recv></participantstreamassoc>
"#;

#[test]
fn every_recording_namespace_and_none_is_accepted() {
    for namespace in [RFC, "urn:ietf:params:xml:ns:recording", "urn:ietf:params:xml:ns:siprec"] {
        let metadata =
            parse_metadata(doc(namespace, TWO_PARTIES).as_bytes()).unwrap_or_else(|e| panic!("{namespace}: {e}"));
        assert_eq!(metadata.participants.len(), 2, "{namespace}");
        assert_eq!(metadata.labels_sent_by("p1"), ["1"], "{namespace}");
    }
    let bare = format!("<recording>{TWO_PARTIES}</recording>");
    let metadata = parse_metadata(bare.as_bytes()).expect("no namespace");
    assert_eq!(
        metadata.senders_of_label("2").first().map(|p| p.id.as_str()),
        Some("p2")
    );
    assert_eq!(metadata.sessions[0].sip_session_id.as_deref(), Some("abc;remote=def"));
    assert_eq!(metadata.sessions[0].start_time.as_deref(), Some("2024-01-02T03:04:05Z"));
}

#[test]
fn prefixed_elements_are_accepted() {
    let text = format!(
        "<r:recording xmlns:r='{RFC}'><r:datamode>partial</r:datamode><r:participant participant_id='p'>\
         <r:nameID aor='sip:a@b'/></r:participant></r:recording>"
    );
    let metadata = parse_metadata(text.as_bytes()).expect("prefixed");
    assert_eq!(metadata.data_mode, DataMode::Partial);
    assert_eq!(metadata.participants[0].aors, ["sip:a@b"]);
}

#[test]
fn early_draft_participant_shape() {
    let inner = "<participant id='p1' session='s'><aor>sip:a@example.com</aor><name>A</name>\
                 <send>x</send><recv>y</recv><associate-time>t0</associate-time></participant>\
                 <stream id='x' session='s'><label>1</label></stream><stream id='y'><label>2</label></stream>";
    let metadata = parse_metadata(doc("urn:ietf:params:xml:ns:recording", inner).as_bytes()).expect("draft");
    let participant = &metadata.participants[0];
    assert_eq!(participant.aors, ["sip:a@example.com"]);
    assert_eq!(participant.name.as_deref(), Some("A"));
    assert_eq!(participant.associate_time.as_deref(), Some("t0"));
    assert_eq!(metadata.labels_sent_by("p1"), ["1"]);
    assert_eq!(metadata.labels_received_by("p1"), ["2"]);
    assert_eq!(metadata.streams[0].session_id.as_deref(), Some("s"));
}

#[test]
fn notice_and_consent_extension_elements() {
    let inner = r#"<participant participant_id="p"><nameID aor="sip:a@b"/>
        <extensiondata><notice xmlns="urn:callvault:siprec:1">played</notice></extensiondata></participant>
        <cv:consent xmlns:cv="urn:callvault:siprec:1" digit="1" at="2024-05-06T07:08:09Z">granted</cv:consent>"#;
    let metadata = parse_metadata(doc(RFC, inner).as_bytes()).expect("extensions");
    assert!(metadata.notice_played);
    let consent = metadata.consent.expect("consent");
    assert!(consent.granted);
    assert_eq!(consent.digit, Some('1'));
    assert_eq!(consent.at.as_deref(), Some("2024-05-06T07:08:09Z"));
    assert!(metadata.warnings.is_empty());
}

#[test]
fn consent_variants() {
    // (element, granted, digit, warnings)
    let cases: [(&str, bool, Option<char>, &[MetadataWarning]); 5] = [
        (
            r#"<consent xmlns="urn:callvault:siprec:1">declined</consent>"#,
            false,
            None,
            &[],
        ),
        (
            r##"<consent xmlns="urn:callvault:siprec:1" digit="#"> Granted </consent>"##,
            true,
            Some('#'),
            &[],
        ),
        (
            r#"<consent xmlns="urn:callvault:siprec:1" digit="12">granted</consent>"#,
            true,
            None,
            &[MetadataWarning::BadConsentDigit],
        ),
        (
            r#"<consent xmlns="urn:callvault:siprec:1">maybe</consent>"#,
            false,
            None,
            &[MetadataWarning::UnknownConsentValue],
        ),
        (
            r#"<consent xmlns="urn:callvault:siprec:1" digit="d">granted</consent>"#,
            true,
            Some('D'),
            &[],
        ),
    ];
    for (element, granted, digit, warnings) in cases {
        let metadata = parse_metadata(doc(RFC, element).as_bytes()).expect(element);
        let consent = metadata.consent.expect(element);
        assert_eq!((consent.granted, consent.digit), (granted, digit), "{element}");
        assert_eq!(metadata.warnings, warnings, "{element}");
    }
    let other_namespace = doc(RFC, "<consent>granted</consent><notice>played</notice>");
    let metadata = parse_metadata(other_namespace.as_bytes()).expect("ignored");
    assert!(
        metadata.consent.is_none() && !metadata.notice_played,
        "only the callvault namespace counts"
    );
}

#[test]
fn vendor_hints() {
    let acme = doc(
        "urn:ietf:params:xml:ns:recording",
        "<participant id='a'><nameID aor='sip:1@h'/><extensiondata xmlns:apkt='http://acmepacket.com/siprec/extensiondata'>\
         <apkt:callingParty>false</apkt:callingParty></extensiondata></participant>\
         <participant id='b'><nameID aor='sip:2@h'/><extensiondata xmlns:apkt='http://acmepacket.com/siprec/extensiondata'>\
         <apkt:callingParty>true</apkt:callingParty></extensiondata></participant>",
    );
    let metadata = parse_metadata(acme.as_bytes()).expect("acme");
    assert_eq!(metadata.calling_participant().map(|p| p.id.as_str()), Some("b"));

    let sonus = doc(
        RFC,
        "<group group_id='g'><callData xmlns='urn:ietf:params:xml:ns:callData'>\
         <fromhdr>\"Bob\" &lt;sips:200@host;user=phone&gt;;tag=1</fromhdr><tohdr>&lt;sip:100@host&gt;</tohdr>\
         <callid>cid</callid></callData></group>\
         <participant participant_id='a'><nameID aor='100@host'/></participant>\
         <participant participant_id='b'><nameID aor='SIP:200@HOST'/></participant>",
    );
    let metadata = parse_metadata(sonus.as_bytes()).expect("sonus");
    let call_data = metadata.vendor_hints.call_data.clone().expect("callData");
    assert_eq!(call_data.from_uri.as_deref(), Some("sips:200@host;user=phone"));
    assert_eq!(call_data.to_uri.as_deref(), Some("sip:100@host"));
    assert_eq!(call_data.call_id.as_deref(), Some("cid"));
    assert_eq!(metadata.calling_participant().map(|p| p.id.as_str()), Some("b"));

    let none = parse_metadata(doc(RFC, TWO_PARTIES).as_bytes()).expect("plain");
    assert!(none.calling_participant().is_none());
}

#[test]
fn dangling_references_are_warnings() {
    let inner = "<participant participant_id='p'/><participantstreamassoc participant_id='p'><send>nope</send></participantstreamassoc>\
                 <participantsessionassoc participant_id='ghost' session_id='s'/>";
    let metadata = parse_metadata(doc(RFC, inner).as_bytes()).expect("usable");
    assert_eq!(
        metadata.warnings,
        [MetadataWarning::UnknownParticipant, MetadataWarning::UnknownStream]
    );
    assert_eq!(
        metadata.participants.len(),
        1,
        "complete mode adds no stub for an unknown participant"
    );
}

/// (name, document, problem code).
fn problems() -> Vec<(&'static str, Vec<u8>, &'static str)> {
    let deep = format!(
        "<recording xmlns='{RFC}'>{}{}</recording>",
        "<a>".repeat(40),
        "</a>".repeat(40)
    );
    let many = format!("<recording xmlns='{RFC}'>{}</recording>", "<a/>".repeat(5000));
    vec![
        ("empty", Vec::new(), "metadata-empty"),
        ("whitespace", b"  \r\n ".to_vec(), "metadata-empty"),
        (
            "not UTF-8",
            b"<recording>\xff</recording>".to_vec(),
            "metadata-not-utf8",
        ),
        (
            "mismatched end tag",
            doc(RFC, "<participant></stream>").into_bytes(),
            "metadata-not-well-formed",
        ),
        (
            "never closed",
            format!("<recording xmlns='{RFC}'><participant>").into_bytes(),
            "metadata-not-well-formed",
        ),
        ("unclosed tag", b"<recording".to_vec(), "metadata-not-well-formed"),
        (
            "text outside the root",
            b"junk<recording/>".to_vec(),
            "metadata-not-well-formed",
        ),
        (
            "two roots",
            b"<recording/><recording/>".to_vec(),
            "metadata-not-well-formed",
        ),
        (
            "unknown entity",
            doc(RFC, "<x>&ent;</x>").into_bytes(),
            "metadata-not-well-formed",
        ),
        (
            "unknown entity in attribute",
            doc(RFC, "<participant participant_id='&ent;'/>").into_bytes(),
            "metadata-not-well-formed",
        ),
        (
            "bad character reference",
            doc(RFC, "<x>&#0;</x>").into_bytes(),
            "metadata-not-well-formed",
        ),
        (
            "duplicate attribute",
            doc(RFC, "<participant participant_id='a' participant_id='b'/>").into_bytes(),
            "metadata-not-well-formed",
        ),
        (
            "billion laughs",
            b"<?xml version='1.0'?><!DOCTYPE r [<!ENTITY a 'aaaa'><!ENTITY b '&a;&a;&a;'>]><recording>&b;</recording>"
                .to_vec(),
            "metadata-doctype-not-allowed",
        ),
        ("too deep", deep.into_bytes(), "metadata-too-deep"),
        ("too many elements", many.into_bytes(), "metadata-too-many-elements"),
        (
            "other root",
            b"<recording_metadata xmlns='urn:ietf:params:xml:ns:siprec'>x</recording_metadata>".to_vec(),
            "metadata-unexpected-root",
        ),
        (
            "recording in another namespace",
            b"<recording xmlns='urn:example'/>".to_vec(),
            "metadata-unexpected-root",
        ),
        (
            "bad data mode",
            doc(RFC, "").replace("complete", "sometimes").into_bytes(),
            "metadata-bad-data-mode",
        ),
        (
            "participant without id",
            doc(RFC, "<participant><nameID aor='sip:a@b'/></participant>").into_bytes(),
            "metadata-missing-id",
        ),
        (
            "stream without id",
            doc(RFC, "<stream><label>1</label></stream>").into_bytes(),
            "metadata-missing-id",
        ),
        (
            "session with blank id",
            doc(RFC, "<session session_id='  '/>").into_bytes(),
            "metadata-missing-id",
        ),
    ]
}

#[test]
fn metadata_problem_table() {
    for (name, document, code) in problems() {
        let problem = parse_metadata(&document).expect_err(name);
        assert_eq!(problem.code(), code, "{name}: {problem}");
    }
}

#[test]
fn problem_texts_never_carry_numbers_from_the_document() {
    let cases: [&[u8]; 3] = [
        b"<tel441632960123 xmlns='urn:x'/>",
        b"<recording><p441632960123></q441632960123></recording>",
        b"<recording>&x441632960123;</recording>",
    ];
    for document in cases {
        let problem = parse_metadata(document).expect_err("broken");
        let text = problem.to_string();
        assert!(!text.contains("441632960123") && !text.contains("1632"), "{text}");
    }
}
