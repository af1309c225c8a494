//! One test per interop offer file, each with LF and CRLF line ends, against
//! `tests/data/offers.toml`; the built answer is checked by parsing it back.

use std::collections::BTreeSet;

use serde::Deserialize;
use siprec::{Direction, MetadataMatch, RecordingMetadata, SiprecOffer, build_answer, parse_offer, parse_sdp};

use crate::support::{RTCP_PORT, answer_params, offers_dir, port_for, read_offer, to_crlf};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Expectations {
    offer: Vec<OfferCase>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct OfferCase {
    file: String,
    content_type: String,
    error: Option<String>,
    metadata: Option<String>,
    metadata_match: Option<String>,
    #[serde(default)]
    ignored_parts: Vec<String>,
    calling_party: Option<String>,
    #[serde(default)]
    sessions: Vec<String>,
    #[serde(default)]
    stream: Vec<StreamCase>,
    #[serde(default)]
    participant: Vec<ParticipantCase>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct StreamCase {
    label: String,
    codec: String,
    payload_type: u8,
    telephone_event: Option<u8>,
    ptime: Option<u32>,
    inactive: bool,
    remote_addr: Option<String>,
    remote_port: u16,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ParticipantCase {
    aors: Vec<String>,
    name: Option<String>,
    sends: Vec<String>,
    receives: Vec<String>,
}

fn expectations() -> Expectations {
    let text = include_str!("../data/offers.toml");
    toml::from_str(text).expect("tests/data/offers.toml is valid")
}

fn case_for(file: &str) -> OfferCase {
    expectations()
        .offer
        .into_iter()
        .find(|c| c.file == file)
        .unwrap_or_else(|| panic!("no expectations for {file} in offers.toml"))
}

/// Runs the checks for `file`, as stored and with CRLF line ends.
fn check_offer_file(file: &str) {
    let case = case_for(file);
    let lf = read_offer(file);
    assert!(!lf.contains(&b'\r'), "{file}: expected LF line ends in the stored file");
    for (variant, body) in [("LF", lf.clone()), ("CRLF", to_crlf(&lf))] {
        let context = format!("{file} ({variant})");
        let result = parse_offer(&case.content_type, &body);
        if let Some(code) = &case.error {
            let error = result.expect_err(&context);
            assert_eq!(error.code(), code, "{context}: error code");
            continue;
        }
        let offer = result.unwrap_or_else(|e| panic!("{context}: refused: {e} [{}]", e.code()));
        check_parts(&case, &offer, &context);
        check_streams(&case, &offer, &context);
        check_answer(&case, &offer, &context);
        match offer.metadata.as_ref() {
            Ok(metadata) => {
                assert_eq!(case.metadata.as_deref(), Some("ok"), "{context}: metadata parsed");
                check_metadata(&case, &offer, metadata, &context);
            }
            Err(problem) => {
                assert_eq!(
                    case.metadata.as_deref(),
                    Some(problem.code()),
                    "{context}: metadata problem {problem}"
                );
                check_no_numbers_in(&problem.to_string(), &body, &context);
            }
        }
    }
}

fn check_parts(case: &OfferCase, offer: &SiprecOffer, context: &str) {
    let matched = match offer.metadata_match {
        MetadataMatch::ContentType => "content-type",
        MetadataMatch::Disposition => "disposition",
        MetadataMatch::XmlContent => "xml-content",
    };
    assert_eq!(
        case.metadata_match.as_deref(),
        Some(matched),
        "{context}: metadata part"
    );
    assert_eq!(offer.ignored_parts, case.ignored_parts, "{context}: ignored parts");
}

fn check_streams(case: &OfferCase, offer: &SiprecOffer, context: &str) {
    let (_, streams) = build_answer(&offer.sdp, &answer_params(case.stream.len()));
    assert_eq!(streams.len(), case.stream.len(), "{context}: number of streams");
    for (index, (stream, expected)) in streams.iter().zip(&case.stream).enumerate() {
        let at = format!("{context} stream {index}");
        assert_eq!(stream.index, index, "{at}");
        assert_eq!(stream.label.as_deref(), Some(expected.label.as_str()), "{at}: label");
        let receiving = stream
            .receiving()
            .unwrap_or_else(|| panic!("{at}: rejected {:?}", stream.outcome));
        let codec = receiving.codec;
        assert_eq!(
            format!("{}/{}", codec.name(), codec.clock_rate),
            expected.codec,
            "{at}: codec"
        );
        assert_eq!(codec.payload_type, expected.payload_type, "{at}: payload type");
        assert_eq!(
            receiving.telephone_event_pt, expected.telephone_event,
            "{at}: telephone-event"
        );
        assert_eq!(receiving.ptime_ms, expected.ptime, "{at}: ptime");
        assert_eq!(receiving.paused, expected.inactive, "{at}: paused");
        assert_eq!(receiving.local_port, port_for(index), "{at}: local port");
        assert_eq!(
            stream.remote_addr.map(|a| a.to_string()),
            expected.remote_addr,
            "{at}: remote address"
        );
        assert_eq!(stream.remote_port, expected.remote_port, "{at}: remote port");
        assert!(!stream.crypto_offered, "{at}: no crypto in the interop offers");
    }
}

fn check_answer(case: &OfferCase, offer: &SiprecOffer, context: &str) {
    let (text, _) = build_answer(&offer.sdp, &answer_params(case.stream.len()));
    assert!(
        !text.replace("\r\n", "").contains(['\r', '\n']),
        "{context}: answer lines end in CRLF"
    );
    let answer = parse_sdp(text.as_bytes()).unwrap_or_else(|e| panic!("{context}: answer does not parse: {e}\n{text}"));
    assert_eq!(
        answer.media.len(),
        offer.sdp.media.len(),
        "{context}: one m-line per offered m-line"
    );
    assert_eq!(
        answer.connection.as_ref().and_then(|c| c.ip),
        "198.51.100.7".parse().ok()
    );
    for (index, (media, expected)) in answer.media.iter().zip(&case.stream).enumerate() {
        let at = format!("{context} answer m-line {index}");
        assert_eq!(media.media, "audio", "{at}");
        assert_eq!(media.port, port_for(index), "{at}: port");
        assert_eq!(media.protocol, "RTP/AVP", "{at}: protocol");
        let mut formats = vec![expected.payload_type.to_string()];
        formats.extend(expected.telephone_event.map(|pt| pt.to_string()));
        assert_eq!(media.formats, formats, "{at}: formats");
        let rtpmap = media.rtpmap(expected.payload_type).expect("rtpmap for the codec");
        assert_eq!(
            format!("{}/{}", rtpmap.encoding, rtpmap.clock_rate),
            expected.codec,
            "{at}"
        );
        if let Some(event) = expected.telephone_event {
            let map = media.rtpmap(event).expect("rtpmap for telephone-event");
            assert_eq!(map.encoding, "telephone-event", "{at}");
        }
        assert_eq!(media.label.as_deref(), Some(expected.label.as_str()), "{at}: label");
        let direction = if expected.inactive {
            Direction::Inactive
        } else {
            Direction::RecvOnly
        };
        assert_eq!(media.direction, Some(direction), "{at}: direction");
        assert_eq!(media.rtcp.as_ref().map(|r| r.port), Some(RTCP_PORT), "{at}: a=rtcp");
        assert_eq!(media.ptime, expected.ptime, "{at}: ptime echoed");
        assert!(media.crypto.is_empty(), "{at}: no crypto");
    }
}

fn check_metadata(case: &OfferCase, offer: &SiprecOffer, metadata: &RecordingMetadata, context: &str) {
    let sessions: Vec<&str> = metadata.sessions.iter().map(|s| s.id.as_str()).collect();
    assert_eq!(sessions, case.sessions, "{context}: sessions");
    assert_eq!(
        metadata.participants.len(),
        case.participant.len(),
        "{context}: participants"
    );
    for (participant, expected) in metadata.participants.iter().zip(&case.participant) {
        let at = format!("{context} participant {:?}", expected.aors);
        assert_eq!(participant.aors, expected.aors, "{at}: aors");
        assert_eq!(participant.name, expected.name, "{at}: name");
        assert_eq!(metadata.labels_sent_by(&participant.id), expected.sends, "{at}: sends");
        assert_eq!(
            metadata.labels_received_by(&participant.id),
            expected.receives,
            "{at}: receives"
        );
        assert!(!participant.joined_mid_call, "{at}");
    }
    for media in &offer.sdp.media {
        let label = media.label.as_deref().expect("every interop m-line has a label");
        assert!(
            metadata.stream_by_label(label).is_some(),
            "{context}: m-line label {label} is a metadata stream"
        );
    }
    let calling = metadata.calling_participant();
    match &case.calling_party {
        Some(aor) => {
            let found = calling.unwrap_or_else(|| panic!("{context}: no calling participant"));
            assert!(found.aors.contains(aor), "{context}: calling party {:?}", found.aors);
        }
        None => assert!(calling.is_none(), "{context}: no vendor hint expected"),
    }
    assert!(
        metadata.warnings.is_empty(),
        "{context}: warnings {:?}",
        metadata.warnings
    );
    assert!(!metadata.notice_played && metadata.consent.is_none(), "{context}");
}

/// A problem text must not repeat any run of four or more digits from the body.
fn check_no_numbers_in(message: &str, body: &[u8], context: &str) {
    let text = String::from_utf8_lossy(body);
    let runs: BTreeSet<&str> = text
        .split(|c: char| !c.is_ascii_digit())
        .filter(|run| run.len() >= 4)
        .collect();
    for run in runs {
        assert!(
            !message.contains(run),
            "{context}: problem text `{message}` repeats {run}"
        );
    }
}

macro_rules! offer_tests {
    ($($name:ident => $file:literal,)*) => {
        $(
            #[test]
            fn $name() {
                check_offer_file($file);
            }
        )*

        #[test]
        fn every_interop_offer_has_a_test_and_expectations() {
            let tested: BTreeSet<&str> = [$($file),*].into_iter().collect();
            let on_disk: BTreeSet<String> = std::fs::read_dir(offers_dir())
                .expect("offers directory")
                .map(|entry| entry.expect("entry").file_name().to_string_lossy().into_owned())
                .collect();
            let on_disk: BTreeSet<&str> = on_disk.iter().map(String::as_str).collect();
            assert_eq!(tested, on_disk, "one test per file in siprec-offers/");
            let expected: BTreeSet<String> = expectations().offer.into_iter().map(|c| c.file).collect();
            let expected: BTreeSet<&str> = expected.iter().map(String::as_str).collect();
            assert_eq!(expected, on_disk, "one [[offer]] per file in offers.toml");
        }
    };
}

offer_tests! {
    acme_siprec_offer => "acme-siprec-offer.txt",
    broadworks_offer => "broadworks-offer.txt",
    broadworks_offer_2 => "broadworks-offer-2.txt",
    cisco_siprec_offer => "cisco-siprec-offer.txt",
    connectel_offer => "connectel-offer.txt",
    connectel_offer2 => "connectel-offer2.txt",
    connectel_offer3 => "connectel-offer3.txt",
    inactive_sdp_offer => "inactive-sdp-offer.txt",
    non_siprec_payload => "non-siprec-payload.txt",
    procomm_siprec_offer => "procomm-siprec-offer.txt",
    sonus_siprec_offer => "sonus-siprec-offer.txt",
}

#[test]
fn non_siprec_payload_under_a_multipart_content_type_is_refused_too() {
    let body = read_offer("non-siprec-payload.txt");
    let error = parse_offer("multipart/mixed;boundary=uniqueBoundary", &body).expect_err("no parts");
    assert_eq!(error.code(), "multipart-no-parts");
}

#[test]
fn broadworks_metadata_problem_is_noted_without_numbers() {
    let body = read_offer("broadworks-offer.txt");
    let offer = parse_offer("multipart/mixed;boundary=UniqueBroadWorksBoundary", &body).expect("offer stands");
    let problem = offer.metadata.expect_err("damaged metadata");
    assert_eq!(problem.code(), "metadata-unexpected-root");
    let text = problem.to_string();
    assert!(text.contains("recording_metadata"), "{text}");
    assert!(!text.contains("MYPHONENUMBER") && !text.contains("caller"), "{text}");
}
